"""Letters fixtures: the stored letter files in the test's folder, vendors with POs of libraries A
and B (each with a message), and a real SMTP server (aiosmtpd) for "send a test to me"."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.extensions import db
from app.outgoing.models import VendorMessage
from app.vendors import services as vs
from tests.helpers import free_port
from tests.orders.communications.conftest import SmtpServer
from tests.orders.helpers import make_vendors
from tests.outgoing.helpers import message, sent_po


@pytest.fixture
def letter_folder(app, tmp_path):
    app.config["LETTER_FOLDER"] = str(tmp_path / "letters")
    return tmp_path / "letters"


@dataclass
class Letters:
    vendors: object
    po_a: object          # PO of library A with a sent order letter (stored PDF and EDI file)
    po_b: object          # PO of library B with a failed order letter
    sent_a: object
    failed_b: object


@pytest.fixture
def letters(world, letter_folder) -> Letters:
    orders = make_vendors(world)
    po_a = sent_po(world, orders.eur, library="a", title="Book of A")
    po_b = sent_po(world, orders.eur, library="b", title="Book of B")
    # The sends above recorded letters (the vendor orders by phone); these tests use their own
    # messages, and "send again" needs a vendor reachable by e-mail.
    db.session.execute(db.delete(VendorMessage))
    orders.eur.order_channel = "email"
    vs.add_contact(world.user("admin"), orders.eur, "Orders desk", email="orders@eur.example").roles = "order"
    sent_a = message(po_a, pdf=b"%PDF-1.4 stored letter of A", edi=b"UNA:+.? 'UNB+UNOC:3+A'",
                     created_by=world.user("buyer"))
    failed_b = message(po_b, status="failed", last_error="The mail server refused the recipient x@y.example.")
    return Letters(orders, po_a, po_b, sent_a, failed_b)


@pytest.fixture
def smtp(app):
    port = free_port()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=5)
    server = SmtpServer(port).start()
    yield server
    server.stop()
