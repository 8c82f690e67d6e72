"""When letters are made: sending a PO (by hand, by packaging, by the one-button send), changing or
replacing the vendor (new order to the new vendor, cancellation to the old), cancelling a sent line
(and not an unsent one), claims from the claim letter, and the payment notice of a payment recorded
by hand."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.integrations.edi import orders as edi
from app.invoices import services as ivs
from app.invoices.models import InvoiceEvent
from app.orders import communications as cs
from app.orders import services as os_
from app.orders.models import PurchaseOrder
from app.outgoing import snapshot
from app.outgoing.models import LetterTemplate
from tests.integrations.payment_import.helpers import waiting
from tests.orders.helpers import line
from tests.outgoing.helpers import contact, letter_of, make_channels, messages, notes, sent, switch


@pytest.fixture
def ch(world, tmp_path):
    return make_channels(world, tmp_path)


# -- sending ---------------------------------------------------------------------------------------

def test_automatic_packaging_sends_one_letter_per_po(app, world, ch):
    buyer = world.user("buyer")
    lines = [line(world, buyer, v, title=t) for v, t in ((ch.mail, "M1"), (ch.mail, "M2"), (ch.paper, "P1"))]
    for pol in lines:
        os_.approve_po_line(buyer, pol)
    pos = os_.package_ready_lines(buyer)
    db.session.commit()
    assert len(pos) == 2
    by_vendor = {m.vendor.code: m for m in messages()}
    assert set(by_vendor) == {"MAILV", "PRTV"} and len(messages()) == 2
    mail = by_vendor["MAILV"]
    assert [p.title for p in mail.lines] == ["M1", "M2"] and mail.reason == "packaged automatically"
    assert [x.title for x in letter_of(mail)[0].lines] == ["M1", "M2"]
    assert (by_vendor["PRTV"].channel, by_vendor["PRTV"].status) == ("print", "queued")


def test_the_one_button_send_of_a_manual_line_sends_its_letter(app, world, ch):
    buyer = world.user("buyer")
    pol = line(world, buyer, ch.mail, packaging="manual")
    os_.approve_po_line(buyer, pol)
    po = os_.send_po_line(buyer, pol)
    db.session.commit()
    [m] = messages()
    assert (m.po_id, m.reason, [p.id for p in m.lines]) == (po.id, "sent", [pol.id])


# -- vendor changes --------------------------------------------------------------------------------

def test_change_vendor_orders_from_the_new_vendor_and_cancels_with_the_old(app, world, ch):
    buyer = world.user("buyer")
    pol = sent(world, buyer, ch.edi, title="Moving book")
    old_number = pol.po.number
    new_po = os_.change_vendor(buyer, pol, ch.mail)
    db.session.commit()
    assert db.session.scalar(select(PurchaseOrder).filter_by(number=old_number)) is None, "the empty PO went"
    first, order, cancellation = messages()
    db.session.expire_all()
    assert (first.kind, first.vendor_id, first.po_id, first.po_number) == ("po", ch.edi.id, None, old_number), \
        "the first order keeps its PO number when its PO is gone"
    assert (order.kind, order.vendor_id, order.po_id, order.po_number, order.to_address) == (
        "po", ch.mail.id, new_po.id, new_po.number, "orders@mail.example")
    assert order.reason == f"change vendor: replaces {old_number}"
    assert (cancellation.kind, cancellation.vendor_id, cancellation.po_id, cancellation.po_number,
            cancellation.channel, cancellation.status) == ("po_cancellation", ch.edi.id, None, old_number, "edi",
                                                           "queued")
    assert [p.id for p in cancellation.lines] == [pol.id] and [p.id for p in order.lines] == [pol.id]
    letter, parts = letter_of(cancellation)
    assert letter.po_number == old_number and letter.vendor.name == "EDI Books"
    assert [x.title for x in letter.lines] == ["Moving book"] and "another vendor (Mail Books)" in letter.reason
    assert parts.function == edi.CANCELLATION and parts.supplier.id == "4012345000009"
    assert letter_of(order)[0].vendor.name == "Mail Books"
    assert notes(pol)[-2:] == [f"Purchase order {new_po.number} queued by e-mail to orders@mail.example",
                               f"Order cancellation {old_number} queued by EDI to Local drop: ediv/orders"]


def test_change_vendor_keeps_the_old_po_with_other_lines_on_the_cancellation(app, world, ch):
    buyer = world.user("buyer")
    a, b = (line(world, buyer, ch.paper, title=t, packaging="manual") for t in ("Stays", "Moves"))
    for pol in (a, b):
        os_.approve_po_line(buyer, pol)
    po = os_.package_po_line(buyer, a)
    os_.package_po_line(buyer, b, po)
    os_.send_po(buyer, po)
    os_.change_vendor(buyer, b, ch.mail)
    db.session.commit()
    cancellation = messages(kind="po_cancellation")[0]
    assert cancellation.po_id == po.id and [p.title for p in letter_of(cancellation)[0].lines] == ["Moves"]


def test_replace_vendor_of_a_sent_line_orders_from_the_new_and_cancels_with_the_old(app, world, ch):
    buyer = world.user("buyer")
    pol = sent(world, buyer, ch.mail)
    os_.replace_vendor(buyer, pol, ch.paper)
    db.session.commit()
    _, order, cancellation = messages()
    assert (order.kind, order.vendor_id, order.channel, order.po_id) == ("po", ch.paper.id, "print", pol.po_id)
    assert order.reason == "replace vendor: was MAILV" and letter_of(order)[0].vendor.name == "Paper Books"
    assert (cancellation.kind, cancellation.vendor_id, cancellation.to_address, cancellation.po_number) == (
        "po_cancellation", ch.mail.id, "orders@mail.example", pol.po.number)
    assert letter_of(cancellation)[0].vendor.name == "Mail Books"


# -- cancelling ------------------------------------------------------------------------------------

def test_cancelling_a_sent_line_sends_a_cancellation(app, world, ch):
    buyer = world.user("buyer")
    pol = sent(world, buyer, ch.mail, title="Not wanted")
    os_.cancel_po_line(buyer, pol, "Published too late for the course.")
    db.session.commit()
    _, cancellation = messages()
    assert (cancellation.kind, cancellation.po_id, cancellation.to_address) == (
        "po_cancellation", pol.po_id, "orders@mail.example")
    letter, _ = letter_of(cancellation)
    assert letter.reason == "Published too late for the course." and [x.title for x in letter.lines] == ["Not wanted"]


def test_cancelling_a_line_never_sent_sends_nothing(app, world, ch):
    buyer = world.user("buyer")
    in_review = line(world, buyer, ch.mail)
    os_.cancel_po_line(buyer, in_review, "Duplicate")
    packaged = line(world, buyer, ch.mail, packaging="manual")
    os_.approve_po_line(buyer, packaged)
    os_.package_po_line(buyer, packaged)
    os_.cancel_po_line(buyer, packaged, "Duplicate")
    db.session.commit()
    assert messages() == []


def test_a_cancellation_switched_off_is_noted_on_the_line(app, world, ch):
    buyer = world.user("buyer")
    pol = sent(world, buyer, ch.mail)
    switch("po_cancellation", False)
    os_.cancel_po_line(buyer, pol, "No")
    assert [m.kind for m in messages()] == ["po"]
    assert notes(pol)[-1] == f"Order cancellation {pol.po.number} not made: the letter is switched off " \
                             "(Administration → Letters)"


# -- claims ----------------------------------------------------------------------------------------

def test_claims_say_the_claim_letter_and_go_to_the_claims_contact(app, world, ch):
    pol = sent(world, world.user("buyer"), ch.mail, title="Late book", vendor_reference="MB-9")
    body = cs.default_body(pol)
    assert body.startswith("Dear Mail Books,\n\nWe have not yet received the material below, of purchase order "
                           f"{pol.po.number} ordered on ")
    assert f"- {pol.number}: Late book, quantity 1, 100.00 EUR, your reference MB-9" in body
    assert body.rstrip().endswith("Kind regards,\nTest University, Library A") and "<" not in body
    assert cs.default_subject(pol) == f"Claim: purchase order {pol.po.number}, {pol.number} Late book"
    assert cs.default_recipient(pol) == "pay@mail.example", "no claims contact: the first with an e-mail"
    contact(world.user("admin"), ch.mail, "Claims", "claims@mail.example", "claim")
    assert cs.default_recipient(pol) == "claims@mail.example"

    db.session.add(LetterTemplate(kind="claim", subject="Where is {{ lines[0].title }}?",
                                  body="<p>Hello {{ vendor.name }}</p><ul><li>{{ lines[0].number }}</li></ul>"))
    db.session.flush()
    assert cs.default_subject(pol) == "Where is Late book?"
    assert cs.default_body(pol) == f"Hello Mail Books\n\n- {pol.number}\n"


# -- payment notices -------------------------------------------------------------------------------

@pytest.fixture
def payable(app, world, ch, vendors):
    vendors.plain.order_channel = "email"
    contact(world.user("admin"), vendors.plain, "Sales", "sales@plain.example")
    contact(world.user("admin"), vendors.plain, "Accounts", "accounts@plain.example", "payment")
    return waiting(world, vendors.plain, ["P-1", "P-2"], amount="40.00")


def test_no_payment_notice_while_it_is_switched_off(app, world, payable):
    ivs.record_payment(world.user("invmanager"), payable[0], "V-1", date(2026, 4, 10), "40.00")
    assert messages() == []


def test_a_payment_by_hand_sends_the_payment_notice(app, world, payable):
    switch("payment_notice", True)
    inv = payable[0]
    ivs.record_payment(world.user("invmanager"), inv, "V-9", date(2026, 4, 10), "39.50")
    db.session.commit()
    [m] = messages()
    assert (m.kind, m.channel, m.status, m.to_address, m.po_id) == (
        "payment_notice", "email", "queued", "accounts@plain.example", None)
    notice = snapshot.load_payment(m.payload)
    assert (notice.voucher_number, notice.payment_date, notice.currency) == ("V-9", date(2026, 4, 10), "EUR")
    assert [(i.number, str(i.amount), i.invoice_date) for i in notice.invoices] == [("P-1", "39.50",
                                                                                     inv.invoice_date)]
    assert notice.vendor.email == "accounts@plain.example"
    history = db.session.scalars(select(InvoiceEvent).filter_by(invoice_id=inv.id, action="payment_notice")).all()
    assert [e.note for e in history] == ["Payment notice queued by e-mail to accounts@plain.example"]


def test_a_payment_notice_to_a_vendor_without_letters_is_not_made(app, world, payable, vendors):
    switch("payment_notice", True)
    vendors.plain.order_channel = "none"
    ivs.record_payment(world.user("invmanager"), payable[0], "V-1", date(2026, 4, 10), "40.00")
    assert messages() == []
    vendors.plain.order_channel = "edi"   # a remittance notice goes by e-mail even to an EDI vendor
    ivs.record_payment(world.user("invmanager"), payable[1], "V-1", date(2026, 4, 10), "40.00")
    [m] = messages()
    assert (m.channel, m.to_address) == ("email", "accounts@plain.example")
