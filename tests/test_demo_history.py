"""The demo's history is real and makes sense: invoices in every status made through the services
(the fund transactions name invoices that exist), orders placed before their material was due, a
sample payment confirmation the import applies, and any institution currency."""
from __future__ import annotations

import os
import shutil
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.demo import WAITING_INVOICE, load_demo, periods
from app.extensions import db
from app.funds.models import FiscalPeriod, FundTransaction, Ledger
from app.invoices.models import STATUSES, Invoice
from app.ledger import TransactionKind
from app.orders.models import POLine
from app.orders.services import claims_query
from app.org.models import Institution
from app.vendors.models import ExchangeRate

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _demo(tmp_path, currency: str = "EUR"):
    Institution.current().currency = currency   # an empty institution: nothing uses its currency yet
    db.session.flush()
    load_demo(str(tmp_path / "erp"))
    db.session.flush()


def test_demo_has_invoices_in_every_status_and_transactions_name_them(app, tmp_path):
    _demo(tmp_path)
    invoices = db.session.scalars(select(Invoice)).all()
    assert {inv.status for inv in invoices} == set(STATUSES)
    rejected = [inv for inv in invoices if inv.alert.startswith("Rejected:")]
    assert rejected and rejected[0].status == "in_review"
    assert any(inv.review_problems for inv in invoices if inv.status == "in_review")
    paid = next(inv for inv in invoices if inv.status == "closed" and not inv.governmental_for_id)
    assert paid.voucher_number and paid.lines[0].po_line.status == "closed"   # received and paid: closed
    numbers = {inv.number for inv in invoices}
    spent = db.session.scalars(select(FundTransaction).where(
        FundTransaction.kind == TransactionKind.EXPENDITURE.value)).all()
    made_here = [t for t in spent if not t.reference.startswith("HIST-")]
    assert made_here and {t.reference for t in made_here} <= numbers
    assert not [t for t in spent if t.reference.startswith("INV-")]   # no invoice number that leads nowhere
    again = len(invoices)
    load_demo(str(tmp_path / "erp"))
    assert db.session.scalar(select(db.func.count()).select_from(Invoice)) == again   # idempotent


def test_demo_orders_were_placed_before_their_claims_fell_due(app, tmp_path):
    _demo(tmp_path)
    today = clock.today()
    for pol in db.session.scalars(select(POLine)):
        if pol.sent_at is not None:
            assert pol.sent_at.date() < pol.expected_receipt_date, pol.title
            assert pol.po.sent_at <= pol.sent_at
            assert all(e.at >= pol.created_at for e in pol.history)
    late = db.session.scalars(claims_query(None)).all()
    assert late, "the demo has claims due"
    for pol in late:
        assert pol.sent_at.date() <= today - timedelta(days=30)
        assert pol.expected_receipt_date < today


def test_demo_periods_follow_today():
    from datetime import date
    assert [p[0] for p in periods(date(2026, 12, 5))] == ["FY2025", "FY2026"]
    assert [p[0] for p in periods(date(2028, 3, 1))] == ["FY2026", "FY2027"]
    assert periods(date(2028, 3, 1))[-1][2:] == (date(2027, 9, 1), date(2028, 8, 31))


@pytest.mark.parametrize("currency", ["EUR", "USD", "JPY"])
def test_demo_loads_for_any_institution_currency(app, tmp_path, currency):
    _demo(tmp_path, currency)
    assert {ledger.currency for ledger in db.session.scalars(select(Ledger))} == {currency}
    rates = {r.currency for r in db.session.scalars(select(ExchangeRate))}
    assert currency not in rates and {"EUR", "USD", "GBP"} - {currency} <= rates
    assert {inv.status for inv in db.session.scalars(select(Invoice))} == set(STATUSES)
    if currency == "JPY":   # no decimals: every amount is whole
        amounts = db.session.scalars(select(FundTransaction.amount)).all()
        assert amounts and all(a == a.to_integral_value() for a in amounts)
    current = db.session.scalar(select(FiscalPeriod).filter_by(code=periods(clock.today())[-1][0]))
    assert current is not None


@SQLITE
@pytest.mark.committing
def test_the_sample_payment_confirmation_pays_the_waiting_invoice(app, tmp_path):
    from jobs import import_payments
    _demo(tmp_path)
    db.session.commit()
    erp = tmp_path / "erp"
    readme = (erp / "payments" / "in" / "README.txt").read_text()
    assert "ERP_IMPORT_MIN_AGE_SECONDS" in readme and "payment_voucher_number" in readme and WAITING_INVOICE in readme
    assert "cp samples/payment_confirmation.xml payments/in/" in (erp / "README.txt").read_text()
    target = erp / "payments" / "in" / "payment_confirmation.xml"
    shutil.copy(erp / "samples" / "payment_confirmation.xml", target)
    os.utime(target, (target.stat().st_mtime - 3600,) * 2)
    assert db.session.scalar(select(Invoice).filter_by(number=WAITING_INVOICE)).status == "waiting_for_payment"
    db.session.commit()   # like a separate process: the test's transaction must not hold the database
    import_payments.run(app, "DEMO-ERP", options={"settle_seconds": 0})
    db.session.expire_all()
    inv = db.session.scalar(select(Invoice).filter_by(number=WAITING_INVOICE))
    assert inv.status == "closed" and inv.voucher_number.startswith("VCH-DEMO-")
    assert inv.payment_amount == inv.total_amount
