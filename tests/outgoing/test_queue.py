"""Making letters to vendors (app.outgoing.queue): the channel and recipient, the PO letter's snapshot
(lines, totals, addresses), EDI parts that build a real ORDERS file, letters switched off, and
channels that cannot work failing with what to set, then sent again once it is set."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from app.errors import RuleViolation
from app.extensions import db
from app.integrations.edi import orders as edi
from app.letters.data import order_context
from app.orders import services as os_
from app.org.models import Institution
from app.outgoing import queue, services as outgoing, snapshot
from app.vendors import services as vs
from tests.orders.helpers import line
from tests.outgoing.helpers import contact, letter_of, make_channels, messages, notes, sent, switch


@pytest.fixture
def ch(world, tmp_path):
    return make_channels(world, tmp_path)


# -- channel and recipient -------------------------------------------------------------------------

def test_channel_is_the_accounts_when_it_sets_one(app, world, ch):
    account = ch.mail.accounts[0]
    assert queue.channel_for(ch.mail) == "email" and queue.channel_for(ch.mail, account) == "email"
    account.order_channel = "print"
    assert queue.channel_for(ch.mail, account) == "print"
    assert queue.channel_for(ch.phone) == "none"


def test_recipient_is_the_contact_with_the_role_else_the_first_with_an_email(app, world, ch):
    assert queue.recipient_for(ch.mail, "order") == "orders@mail.example", "not the first contact: the order one"
    assert queue.recipient_for(ch.mail, "payment") == "pay@mail.example"
    assert queue.recipient_for(ch.mail, "claim") == "pay@mail.example", "no claims contact: the first with one"
    contact(world.user("admin"), ch.phone, "Shop", "", "order")
    assert queue.recipient_for(ch.phone, "order") == ""


# -- the PO letter ---------------------------------------------------------------------------------

def test_sending_a_po_queues_its_letter_with_every_line_the_addresses_and_the_total(app, world, ch):
    buyer = world.user("buyer")
    account = ch.mail.accounts[0]
    a = line(world, buyer, ch.mail, title="First book", author="Doe, J.", isbn="9780306406157", price="12.50",
             quantity=2, discount="10", vendor_reference="MB-1", packaging="manual", vendor_account=account,
             note="Hardback please")
    b = line(world, buyer, ch.mail, title="Second book", issn="0317-8471", price="7.25", packaging="manual")
    for pol in (a, b):
        os_.approve_po_line(buyer, pol)
    po = os_.package_po_line(buyer, a)
    os_.package_po_line(buyer, b, po)
    db.session.info.pop(queue.KICK, None)
    assert messages() == [], "packaging alone sends nothing"
    os_.send_po(buyer, po)
    assert db.session.info.get(queue.KICK), "delivery is asked for"
    db.session.commit()

    [m] = messages()
    assert (m.kind, m.channel, m.status, m.to_address) == ("po", "email", "queued", "orders@mail.example")
    assert (m.po_id, m.po_number, m.owner_library_id, m.vendor_account_id) == (po.id, po.number, world.lib_a.id,
                                                                               account.id)
    assert [p.number for p in m.lines] == [a.number, b.number] and m.created_by_id == buyer.id
    letter, parts = letter_of(m)
    assert parts is None, "no EDI part for an e-mail"
    assert letter.po_number == po.number and letter.ordered_on == po.sent_at.date() and letter.currency == "EUR"
    first, second = letter.lines
    assert (first.number, first.title, first.author, first.isbn, first.quantity, first.list_price, first.discount,
            first.net_price, first.reference, first.note) == (
        a.number, "First book", "Doe, J.", "9780306406157", 2, Decimal("12.50"), Decimal("10"), Decimal("22.50"),
        "MB-1", "Hardback please")
    assert (second.issn, second.net_price) == ("0317-8471", Decimal("7.25"))
    assert letter.institution.name == "Test University" and letter.institution.email == "acq@test.example"
    assert letter.institution.lines == ("1 College Road", "1000 Testville")
    assert letter.delivery.lines == ("Library A, Goods In", "2 College Road", "1000 Testville")
    assert letter.billing.lines == ("Accounts Payable", "PO Box 9", "1000 Testville")
    assert letter.vendor.name == "Mail Books" and letter.vendor.email == "orders@mail.example"
    assert letter.vendor.lines == ("5 Market Street", "2000 Vendortown", "Ruritania")
    assert (letter.vendor_code, letter.account_code, letter.account_description) == ("MAILV", "MAIN", "Main account")
    totals = order_context(letter)["totals"]
    assert totals == {"net": "29.75", "quantity": 3, "lines": 2}
    assert notes(a) == [f"Purchase order {po.number} queued by e-mail to orders@mail.example"]


def test_delivery_falls_back_to_the_institution_without_a_library_address(app, world, ch):
    world.lib_a.address = ""
    pol = sent(world, world.user("buyer"), ch.mail)
    letter, _ = letter_of(messages()[0])
    assert letter.delivery.lines == ("1 College Road", "1000 Testville")
    assert pol.po.number == letter.po_number


def test_the_account_channel_overrides_the_vendors(app, world, ch):
    account = ch.mail.accounts[0]
    account.order_channel = "print"
    sent(world, world.user("buyer"), ch.mail, vendor_account=account)
    [m] = messages()
    assert (m.channel, m.status, m.to_address) == ("print", "queued", "")


def test_a_vendor_without_channel_records_the_order_and_sends_nothing(app, world, ch):
    pol = sent(world, world.user("buyer"), ch.phone)
    [m] = messages()
    assert (m.channel, m.status) == ("none", "recorded") and m.payload["letter"]["po_number"] == pol.po.number
    assert "nothing is sent" in notes(pol)[0]
    with pytest.raises(RuleViolation, match="phone"):
        outgoing.resend(world.user("buyer"), m)


def test_a_letter_switched_off_is_not_made_and_the_history_says_so(app, world, ch):
    switch("po", False)
    pol = sent(world, world.user("buyer"), ch.mail)
    assert messages() == []
    assert notes(pol) == [f"Purchase order {pol.po.number} not made: the letter is switched off "
                          "(Administration → Letters)"]


def test_no_email_address_fails_with_what_to_set_and_send_again_uses_the_new_one(app, world, ch):
    buyer, admin = world.user("buyer"), world.user("admin")
    ch.mail.contacts.clear()
    db.session.flush()
    pol = sent(world, buyer, ch.mail)
    [m] = messages()
    assert (m.channel, m.status, m.to_address) == ("email", "failed", "")
    assert m.last_error == ("Mail Books (MAILV) has no contact with an e-mail address: add one (with the role "
                            "“Orders”) on the vendor's Contacts, then send again.")
    assert "NOT sent" in notes(pol)[0] and m.last_error in notes(pol)[0]
    with pytest.raises(RuleViolation, match="no contact with an e-mail"):
        outgoing.resend(buyer, m)
    contact(admin, ch.mail, "New desk", "new@mail.example", "order")
    db.session.info.pop(queue.KICK, None)
    again = outgoing.resend(buyer, m)
    assert (again.status, again.channel, again.to_address, again.resend_of_id) == ("queued", "email",
                                                                                   "new@mail.example", m.id)
    assert again.payload == m.payload and db.session.info.get(queue.KICK)


# -- EDI -------------------------------------------------------------------------------------------

def test_an_edi_order_carries_the_ids_funds_and_library_and_builds_a_file_that_reads_back(app, world, ch):
    pol = sent(world, world.user("buyer"), ch.edi, isbn="9780306406157", quantity=3, price="20.00")
    [m] = messages()
    assert (m.channel, m.status, m.to_address) == ("edi", "queued", "Local drop: ediv/orders")
    letter, parts = letter_of(m)
    assert parts.buyer == edi.Party("5412345000013", "14", "Test University")
    assert parts.supplier == edi.Party("4012345000009", "14", "EDI Books")
    assert [(x.reference, x.funds, x.library) for x in parts.lines] == [(pol.number, ("A-BKS",), "LIBA")]
    assert (parts.syntax, parts.function) == ("UNOC", edi.ORDER)
    order = snapshot.edi_order(letter, parts, "1", datetime(2026, 12, 5, 10, 0))
    built = edi.build_orders(order)
    edi.check_orders(built.data, order)   # every line, quantity and price reads back
    assert pol.number.encode() in built.data and b"9780306406157" in built.data


def test_edi_without_its_set_up_fails_naming_every_missing_setting(app, world, ch):
    institution = Institution.current()
    institution.edi_id = ""
    ch.edi.edi_vendor_id = ""
    pol = sent(world, world.user("buyer"), ch.edi)
    [m] = messages()
    assert m.status == "failed" and m.to_address == "Local drop: ediv/orders"
    assert "EDI Books (EDIV) has no EDI id" in m.last_error
    assert "The institution has no EDI id: enter it in the institution's settings" in m.last_error
    institution.edi_id, ch.edi.edi_vendor_id = "5412345000013", "4012345000009"
    again = outgoing.resend(world.user("buyer"), m)
    _, parts = letter_of(again)
    assert again.status == "queued" and parts.buyer.id == "5412345000013", "EDI ids as they are now"
    assert parts.supplier.id == "4012345000009" and parts.lines[0].reference == pol.number


def test_edi_without_a_vendor_edi_setting_says_where_to_set_it(app, world, ch):
    vendor = vs.create_vendor(world.user("admin"), "EDI2", vs.VendorFields(name="Unset EDI", currency="EUR"))
    vendor.order_channel, vendor.edi_vendor_id = "edi", "123"
    sent(world, world.user("buyer"), vendor)
    [m] = messages()
    assert m.status == "failed" and m.to_address == ""
    assert "Unset EDI (EDI2) has no EDI set-up: choose its connection and folder under Invoices → EDI → Vendor " \
           "EDI settings." in m.last_error
