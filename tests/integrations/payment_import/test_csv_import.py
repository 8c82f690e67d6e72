"""CSV payment confirmations through the job, against the real sshd: read through the section's
mapping into the same records as the XML, so matching, the per-record report, idempotence and
``.handled`` are the XML's; an unusable mapping fails the run before any file."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.integrations import payment_format as pf
from app.integrations.models import HandledFile
from app.invoices.models import Invoice
from tests.integrations.payment_import.csv_helpers import csv_file, mapping, paid_row, rejected_row
from tests.integrations.payment_import.helpers import (confirmation, drop, expenditure_total, paid, run_import,
                                                       state, waiting)

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _get(inv) -> Invoice:
    return db.session.get(Invoice, inv.id)


def use_csv(world, erp, m, amount_mismatch="warn") -> None:
    pf.set_payment_format(world.user("admin"), erp.profile, pf.PaymentFormat("csv", amount_mismatch, m))
    db.session.commit()


def test_a_csv_file_pays_and_rejects_like_the_xml(app, world, vendors, erp):
    """Shuffled columns, ``;``, dates written %d.%m.%Y, a BOM; the folder's .xml files are not read."""
    a, b = waiting(world, vendors.plain, ["C-1", "C-2"])
    m = mapping(";", "%d.%m.%Y")
    use_csv(world, erp, m)
    spent = expenditure_total()
    drop(erp.inbox, "pay.csv", csv_file([paid_row(a, voucher="V-77", on="10.04.2026"),
                                         rejected_row(b, note="Wrong IBAN")], m, seed=4, bom=True))
    drop(erp.inbox, "left.xml", confirmation([paid(b)]))
    res = run_import(app)
    assert res.run.status == "completed", res.text()
    assert (res.run.files, res.run.records, res.run.records_failed) == (1, 2, 0)
    a, b = _get(a), _get(b)
    assert a.status == "closed" and a.voucher_number == "V-77" and a.payment_date == date(2026, 4, 10)
    assert a.payment_amount == Decimal("10.00") and a.payment_currency == "EUR"
    assert b.status == "in_review" and "Wrong IBAN" in b.alert
    assert expenditure_total() == spent - Decimal("10.00")
    assert sorted(p.name for p in erp.inbox.iterdir()) == ["left.xml", "pay.csv.handled"]
    assert db.session.scalar(select(HandledFile.status).filter_by(file_name="pay.csv")) == "done"
    assert any("pay.csv: 1 paid, 1 rejected." in m for m in res.messages("info")), res.text()


@SQLITE
def test_a_malformed_row_is_refused_with_its_reason_and_the_others_apply(app, world, vendors, erp):
    a, b, c = waiting(world, vendors.plain, ["M-1", "M-2", "M-3"])
    m = mapping(",", "%d.%m.%Y")
    use_csv(world, erp, m)
    drop(erp.inbox, "mixed.csv", csv_file([paid_row(a, on="01.04.2026"),
                                           paid_row(b, on="2026-04-01", amount="10,00"),
                                           paid_row(c, on="02.04.2026")], m, seed=1))
    res = run_import(app)
    assert res.run.status == "completed" and (res.run.records, res.run.records_failed) == (3, 1), res.text()
    assert [_get(i).status for i in (a, b, c)] == ["closed", "waiting_for_payment", "closed"]
    (error,) = [e for e in res.events if e.level == "error"]
    assert error.file_name == "mixed.csv" and error.record == f"uid {b.erp_identifier}"
    assert error.message.startswith("record 2, line 3: the voucher date '2026-04-01' is not a date written "
                                    "%d.%m.%Y (e.g. 23.11.2026); the amount '10,00' is not a plain decimal")
    assert error.message.endswith("Nothing changed.")
    assert (erp.inbox / "mixed.csv.handled").exists()


@SQLITE
def test_the_same_csv_twice_applies_nothing_again(app, world, vendors, erp):
    a, b = waiting(world, vendors.plain, ["T-1", "T-2"])
    m = mapping()
    use_csv(world, erp, m)
    data = csv_file([paid_row(a), rejected_row(b)], m)
    drop(erp.inbox, "pay.csv", data)
    run_import(app)
    after, spent = state([a, b]), expenditure_total()
    drop(erp.inbox, "pay.csv", data)
    drop(erp.inbox, "again.csv", data)
    res = run_import(app)
    assert res.run.status == "completed" and res.run.records == 0 and not res.messages("error"), res.text()
    assert any("already handled (same content as pay.csv)" in m for m in res.messages("info")), res.text()
    assert state([a, b]) == after and expenditure_total() == spent
    assert sorted(p.name for p in erp.inbox.iterdir()) == ["again.csv.handled", "pay.csv.2.handled",
                                                           "pay.csv.handled"]


@SQLITE
def test_matching_by_number_and_the_vendors_erp_code(app, world, vendors, other_vendor, erp):
    (a,) = waiting(world, vendors.plain, ["SAME-1"])
    (b,) = waiting(world, other_vendor, ["SAME-1"])
    vendors.plain.financial_sys_code, other_vendor.financial_sys_code = "SAP-100", "SAP-200"
    m = mapping(fields=("invoice_number", "erp_vendor_code", "payment_status", "voucher_number"))
    use_csv(world, erp, m)
    drop(erp.inbox, "erp.csv", csv_file([{"invoice_number": "SAME-1", "erp_vendor_code": "SAP-200",
                                          "payment_status": "PAID", "voucher_number": "V-2"},
                                         {"invoice_number": "SAME-1", "erp_vendor_code": "SAP-999",
                                          "payment_status": "PAID"}], m))
    res = run_import(app)
    assert (_get(a).status, _get(b).status) == ("waiting_for_payment", "closed"), res.text()
    assert _get(b).voucher_number == "V-2" and _get(b).payment_amount == _get(b).total_amount
    assert res.messages("error") == ["record 2, line 3: unknown invoice: no invoice SAME-1 of the vendor with ERP "
                                     "code SAP-999."]


@SQLITE
def test_a_broken_file_is_refused_and_kept(app, world, vendors, erp):
    (a,) = waiting(world, vendors.plain, ["B-1"])
    use_csv(world, erp, mapping(";"))
    drop(erp.inbox, "wrong.csv", csv_file([paid_row(a)], mapping(",")))   # written with commas
    res = run_import(app)
    assert _get(a).status == "waiting_for_payment"
    (error,) = res.messages("error")
    assert error.startswith("wrong.csv was refused: The header row lacks the mapped column(s) 'Invoice No' "
                            "(Invoice number), 'Supplier' (Vendor code)")
    assert "Check the separator" in error
    assert sorted(p.name for p in erp.inbox.iterdir()) == ["wrong.csv.rejected"]


@SQLITE
def test_an_unusable_mapping_fails_the_run_before_any_file(app, world, vendors, erp):
    (a,) = waiting(world, vendors.plain, ["U-1"])
    section = erp.profile.section("import_payments")
    section.confirmation_format, section.csv_mapping = "csv", '{"columns": {"invoice_number": "No"}}'
    drop(erp.inbox, "pay.csv", csv_file([paid_row(a)], mapping()))
    res = run_import(app)
    assert res.run.status == "failed"
    assert "its column mapping cannot be used: Give the header of the column with the status" in res.run.message
    assert _get(a).status == "waiting_for_payment" and (erp.inbox / "pay.csv").exists()
