"""Amounts and dates in a payment confirmation are ASCII digits only, as in the API: Arabic-Indic
(or any other script's) digits are a refusal of that record, with its reason, never a payment."""
from decimal import Decimal

import pytest

from app.integrations.formats.payment_confirmation import parse_confirmations
from app.invoices.models import Invoice
from app.extensions import db
from tests.integrations.payment_import.helpers import confirmation, drop, paid, run_import, waiting

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
EXTENDED = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")     # Persian forms


@pytest.mark.parametrize("digits", [ARABIC_INDIC, EXTENDED])
def test_H12_11_other_scripts_digits_are_record_errors(digits):
    good = {"unique_identifier": "1", "payment_status": "PAID", "voucher_amount": ("EUR", "70.60")}
    amount = {**good, "voucher_amount": ("EUR", "70.60".translate(digits))}
    day = {**good, "payment_voucher_date": "20260410".translate(digits)}
    a, b, c = parse_confirmations(confirmation([amount, day, good]))
    assert a.amount is None and any("not a plain decimal" in e for e in a.errors), a.errors
    assert b.voucher_date is None and any("YYYYMMDD" in e for e in b.errors), b.errors
    assert c.errors == [] and c.amount == Decimal("70.60")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_H12_11_the_import_refuses_an_arabic_indic_amount_with_its_reason(app, world, vendors, erp):
    a, b = waiting(world, vendors.plain, ["AR-1", "AR-2"])
    drop(erp.inbox, "pay.xml", confirmation([paid(a, amount="10.00".translate(ARABIC_INDIC)), paid(b)]))
    res = run_import(app)
    assert (res.run.records, res.run.records_failed) == (2, 1), res.text()
    refusal = [e for e in res.events if e.level == "error"]
    assert len(refusal) == 1 and "not a plain decimal" in refusal[0].message, res.text()
    assert a.erp_identifier in refusal[0].record or a.erp_identifier in refusal[0].message, res.text()
    db.session.expire_all()
    assert db.session.get(Invoice, a.id).status == "waiting_for_payment"
    assert db.session.get(Invoice, b.id).status == "closed"
