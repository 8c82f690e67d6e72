"""Payment notices from the ERP's payment confirmation (the real job on the test sshd): one notice per
vendor and voucher of a file, naming its invoices and amounts; none for a record refused or rejected,
none while the letter is switched off."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.extensions import db
from app.outgoing import snapshot
from tests.integrations.payment_import.conftest import erp, other_vendor  # noqa: F401  (fixtures)
from tests.integrations.payment_import.helpers import confirmation, drop, paid, rejected, run_import, waiting
from tests.outgoing.helpers import contact, messages, switch


@pytest.fixture
def two_vendors(world, vendors, other_vendor):
    admin, other = world.user("admin"), other_vendor
    for vendor, address in ((vendors.plain, "ap@plain.example"), (other, "ap@other.example")):
        vendor.order_channel = "email"
        contact(admin, vendor, "Accounts", address, "payment")
    db.session.commit()
    return vendors.plain, other


def test_one_notice_per_vendor_and_voucher_of_an_imported_file(app, world, erp, two_vendors):
    plain, other = two_vendors
    switch("payment_notice", True)
    a1, a2, a3, a4 = waiting(world, plain, ["A-1", "A-2", "A-3", "A-4"], amount="10.00")
    [b1] = waiting(world, other, ["B-1"], amount="25.00")
    drop(erp.inbox, "pay.xml", confirmation([
        paid(a1, voucher="V-1", on="20260410", amount="10.00"), paid(a2, voucher="V-1", on="20260410", amount="9.00"),
        paid(a3, voucher="V-2", on="20260411"), paid(b1, voucher="V-1", on="20260410"),
        rejected(a4), paid(a1, voucher="V-1", uid=False, number=True, vendor=True, unique_identifier="9" * 16),
    ]))
    res = run_import(app)
    assert (res.run.status, res.run.records, res.run.records_failed) == ("completed", 6, 1), res.text()
    assert "pay.xml: 3 payment notice(s) queued for the vendors." in res.messages("info")

    found = {(m.vendor_id, snapshot.load_payment(m.payload).voucher_number): m for m in messages()}
    assert set(found) == {(plain.id, "V-1"), (plain.id, "V-2"), (other.id, "V-1")} and len(messages()) == 3
    v1 = snapshot.load_payment(found[(plain.id, "V-1")].payload)
    assert [(i.number, i.amount) for i in v1.invoices] == [("A-1", Decimal("10.00")), ("A-2", Decimal("9.00"))]
    assert v1.payment_date == date(2026, 4, 10) and found[(plain.id, "V-1")].to_address == "ap@plain.example"
    assert [i.number for i in snapshot.load_payment(found[(plain.id, "V-2")].payload).invoices] == ["A-3"]
    b = found[(other.id, "V-1")]
    assert b.to_address == "ap@other.example" and b.status == "queued"
    assert [(i.number, i.amount) for i in snapshot.load_payment(b.payload).invoices] == [("B-1", Decimal("25.00"))]


def test_no_notice_from_an_import_while_the_letter_is_switched_off(app, world, erp, two_vendors):
    plain, _ = two_vendors
    [a] = waiting(world, plain, ["A-1"])
    drop(erp.inbox, "pay.xml", confirmation([paid(a)]))
    res = run_import(app)
    assert res.run.status == "completed", res.text()
    assert messages() == [] and not any("payment notice" in m for m in res.messages())
