"""From the change to the vendor's mailbox: the letters the app makes are delivered by the
send_letters run to a real SMTP server (aiosmtpd) and say the right thing. Change vendor: the new
vendor gets the order, the old one the cancellation naming the old PO; a payment recorded by hand
reaches the payment contact with the invoice, amount and voucher."""
from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from pypdf import PdfReader

from app.extensions import db
from app.invoices import services as ivs
from app.orders import services as os_
from app.outgoing import delivery
from tests.integrations.payment_import.helpers import waiting
from tests.outgoing.helpers import contact, make_channels, sent, switch


@pytest.fixture
def ch(world, tmp_path):
    return make_channels(world, tmp_path)


def pdf_text(msg) -> str:
    [part] = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]
    return " ".join("".join(p.extract_text() for p in PdfReader(BytesIO(part.get_content())).pages).split())


def test_change_vendor_new_order_to_the_new_vendor_and_cancellation_to_the_old(app, world, ch, smtp):
    buyer = world.user("buyer")
    old_vendor = ch.paper
    old_vendor.order_channel = "email"
    contact(world.user("admin"), old_vendor, "Paper orders", "orders@paper.example", "order")
    pol = sent(world, buyer, old_vendor, title="A book that moves")
    old_number = pol.po.number
    new_po = os_.change_vendor(buyer, pol, ch.mail)
    db.session.commit()
    summary = delivery.deliver_due()
    assert (summary.sent, summary.failed, summary.retrying) == (3, 0, 0)   # first order, new order, cancellation
    by_to = {}
    for msg in smtp.messages:
        by_to.setdefault(msg["To"], []).append(msg)
    first, cancellation = by_to["orders@paper.example"]
    [order] = by_to["orders@mail.example"]
    assert old_number in first["Subject"] and new_po.number in order["Subject"]
    assert "A book that moves" in pdf_text(order) and new_po.number in pdf_text(order)
    text = pdf_text(cancellation)
    assert old_number in text and "A book that moves" in text and "Mail Books" in text, "why it is cancelled"
    assert len(smtp.envelopes) == 3, "each letter once"
    assert delivery.deliver_due().handled == 0, "nothing is sent twice"
    assert len(smtp.envelopes) == 3


def test_a_payment_by_hand_reaches_the_payment_contact(app, world, ch, smtp):
    switch("payment_notice", True)
    [invoice] = waiting(world, ch.mail, ["INV-E2E"], "120.50")
    ivs.record_payment(world.user("invmanager"), invoice, "V-77", date(2026, 12, 1), invoice.total_amount)
    db.session.commit()
    assert delivery.deliver_due().sent == 1
    [msg] = smtp.messages
    assert msg["To"] == "pay@mail.example"
    text = pdf_text(msg)
    for expected in ("INV-E2E", "120.50", "V-77", "December 1, 2026"):   # dates the letter's way
        assert expected in text, expected
