"""A PAID confirmation whose amount differs from the invoice total, XML and CSV alike: *warn*
records it, reports it and the invoice page flags it; *refuse* records nothing for that record (an
error naming both amounts), the invoice stays Waiting for Payment and the other records apply."""
from decimal import Decimal

import pytest

from app.extensions import db
from app.integrations import payment_format as pf
from app.invoices.models import Invoice
from tests.helpers import login
from tests.integrations.payment_import.csv_helpers import csv_file, mapping, paid_row
from tests.integrations.payment_import.helpers import confirmation, drop, paid, run_import, waiting

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
FLAG = 'id="payment-difference"'


def _file(fmt, a, b, world, erp, setting):
    """``a`` paid 9.50 of its 10.00, ``b`` paid exactly; the section set to ``fmt`` and ``setting``."""
    m = mapping() if fmt == "csv" else pf.CsvMapping()
    pf.set_payment_format(world.user("admin"), erp.profile, pf.PaymentFormat(fmt, setting, m))
    db.session.commit()
    if fmt == "csv":
        drop(erp.inbox, "pay.csv", csv_file([paid_row(a, amount="9.50"), paid_row(b, amount="10")], m))
    else:
        drop(erp.inbox, "pay.xml", confirmation([paid(a, amount="9.50"), paid(b, amount="10")]))


def _page(app, inv) -> str:
    return login(app.test_client(), "admin").get(f"/invoices/{inv.id}").get_data(as_text=True)


@SQLITE
@pytest.mark.parametrize("fmt", ["xml", "csv"])
def test_warn_records_reports_and_flags_the_invoice(app, world, vendors, erp, fmt):
    a, b = waiting(world, vendors.plain, [f"W-{fmt}-1", f"W-{fmt}-2"])
    _file(fmt, a, b, world, erp, "warn")
    res = run_import(app)
    assert (res.run.records, res.run.records_failed) == (2, 0), res.text()
    a, b = db.session.get(Invoice, a.id), db.session.get(Invoice, b.id)
    assert (a.status, a.payment_amount, b.status) == ("closed", Decimal("9.50"), "closed")
    (warning,) = [e for e in res.events if e.level == "warning"]
    assert warning.record == f"uid {a.erp_identifier}"
    assert warning.message.startswith("record 1, line ")
    assert warning.message.endswith(f": invoice {a.number} (PLAIN) paid 9.50 EUR, its total is 10.00 EUR; recorded as "
                                    "sent (the invoice page shows the difference).")
    assert any(m.endswith("2 paid, 0 rejected, 1 paid with an amount other than the invoice total.")
               for m in res.messages("info")), res.text()
    page = _page(app, a)
    assert FLAG in page and "Paid 9.50 EUR, total 10.00 EUR" in page
    assert FLAG not in _page(app, b)


@SQLITE
@pytest.mark.parametrize("fmt", ["xml", "csv"])
def test_refuse_leaves_the_invoice_waiting_and_says_why(app, world, vendors, erp, fmt):
    a, b = waiting(world, vendors.plain, [f"R-{fmt}-1", f"R-{fmt}-2"])
    _file(fmt, a, b, world, erp, "refuse")
    res = run_import(app)
    assert res.run.status == "completed" and (res.run.records, res.run.records_failed) == (2, 1), res.text()
    a, b = db.session.get(Invoice, a.id), db.session.get(Invoice, b.id)
    assert (a.status, a.payment_amount, a.voucher_number or None) == ("waiting_for_payment", None, None)
    assert b.status == "closed" and b.payment_amount == Decimal("10.00")
    (error,) = [e for e in res.events if e.level == "error"]
    assert error.record == f"uid {a.erp_identifier}"
    assert error.message.endswith(f"invoice {a.number} (PLAIN) paid 9.50 EUR, its total is 10.00 EUR; refused, as "
                                  "the profile's setting for differing amounts says. Nothing changed: the invoice "
                                  "stays Waiting for Payment.")
    assert not [e for e in res.events if e.level == "warning"]
    assert FLAG not in _page(app, a)
    assert (erp.inbox / f"pay.{fmt}.handled").exists()


@SQLITE
def test_no_amount_sent_is_no_difference(app, world, vendors, erp):
    (a,) = waiting(world, vendors.plain, ["N-1"])
    pf.set_payment_format(world.user("admin"), erp.profile, pf.PaymentFormat("xml", "refuse", pf.CsvMapping()))
    drop(erp.inbox, "pay.xml", confirmation([paid(a, voucher_amount=None)]))
    res = run_import(app)
    a = db.session.get(Invoice, a.id)
    assert a.status == "closed" and a.payment_amount == a.total_amount and not res.messages("error"), res.text()
