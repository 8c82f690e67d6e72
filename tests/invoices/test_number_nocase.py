"""An invoice number is unique per vendor whatever its letter case, in the database as in the
service: "inv-1" beside "INV-1" of one vendor fails even when written straight through the ORM or
SQL. Migration 0010 keeps existing rows: an earlier case-only duplicate is renumbered, with an
alert and a history entry, so the unique index can be built."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.errors import Duplicate
from app.extensions import db
from app.invoices.models import Invoice, InvoiceEvent
from tests.invoices.helpers import invoice

pytestmark = pytest.mark.postgres

REVISION = "0010_invoice_number_nocase"


def _row(vendor, number: str) -> Invoice:
    return Invoice(number=number, vendor_id=vendor.id, invoice_date=date(2026, 3, 1), currency="EUR",
                   total_amount=0)


def test_H12_12_case_variants_fail_in_the_database_through_the_orm(app, world, vendors):
    db.session.add(_row(vendors.plain, "INV-1"))
    db.session.commit()
    db.session.add(_row(vendors.plain, "inv-1"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    db.session.add(_row(vendors.liable, "inv-1"))     # another vendor may use the number
    db.session.commit()


# Plain SQL, as of revision 0008 (the migration test writes rows before 0010 exists).
INSERT = text("INSERT INTO invoice (number, vendor_id, invoice_date, currency, total_amount, payment_method, "
              "reference_number, notes, prepaid, export_prepaid, internal_copy, channel, status, review_problems, "
              "alert, vat_level, vat_inclusive, vat_code, vat_amount, vat_separate_line, vat_confirmed, "
              "created_at, voucher_number) VALUES (:number, :vendor, '2026-03-01', 'EUR', 0, 'bank_transfer', "
              "'', '', false, false, false, 'manual', 'in_review', '[]', '', 'none', false, '', 0, false, '', "
              "'2026-03-01 00:00:00', '')")


def test_H12_12_case_variants_fail_in_the_database_through_sql(app, world, vendors):
    db.session.execute(INSERT, {"number": "Ab-7", "vendor": vendors.plain.id})
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(INSERT, {"number": "aB-7", "vendor": vendors.plain.id})
    db.session.rollback()


def test_the_service_refuses_case_variants_as_before(app, world, vendors):
    invoice(world, world.user("invoicer"), vendors.plain, number="Mix-3")
    with pytest.raises(Duplicate, match="already has invoice Mix-3"):
        invoice(world, world.user("invoicer"), vendors.plain, number="MIX-3")


def _before_0010() -> str:
    from alembic.script import ScriptDirectory
    from flask import current_app
    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_revision(REVISION).down_revision


@pytest.mark.committing
def test_H12_12_migration_renumbers_earlier_case_duplicates(app, world, vendors):
    from flask_migrate import downgrade, upgrade
    plain, liable = vendors.plain.id, vendors.liable.id
    db.session.commit()
    db.session.remove()
    downgrade(revision=_before_0010())
    try:
        for vendor, number in ((plain, "DUP-1"), (plain, "dup-1"), (plain, "Dup-1"), (plain, "OTHER-1"),
                               (liable, "dup-1")):
            db.session.execute(INSERT, {"number": number, "vendor": vendor})
        db.session.commit()
        ids = dict(db.session.execute(text("SELECT number, id FROM invoice WHERE vendor_id = :v"), {"v": plain}).all())
        db.session.remove()
    finally:
        upgrade()
    rows = {r.id: r for r in db.session.scalars(db.select(Invoice))}
    assert rows[ids["DUP-1"]].number == "DUP-1" and rows[ids["DUP-1"]].alert == ""
    assert rows[ids["OTHER-1"]].number == "OTHER-1"
    renamed = [rows[ids["dup-1"]], rows[ids["Dup-1"]]]
    assert [r.number for r in renamed] == [f"dup-1 (dup {ids['dup-1']})", f"Dup-1 (dup {ids['Dup-1']})"]
    for r in renamed:
        assert "DUP-1" in r.alert and "renumbered" in r.alert, r.alert
        event = db.session.scalar(db.select(InvoiceEvent).filter_by(invoice_id=r.id, field="number"))
        assert event.old_value in ("dup-1", "Dup-1") and event.new_value == r.number
    assert db.session.scalar(db.select(Invoice.number).filter_by(vendor_id=liable)) == "dup-1"   # untouched
    db.session.add(Invoice(number="duP-1", vendor_id=plain, invoice_date=date(2026, 3, 1), currency="EUR",
                           total_amount=0))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
