"""Outbox fixtures: letter files and the mail catch-all under the test's own folder, a real SMTP
server on 127.0.0.1 (aiosmtpd) that can refuse recipients, :func:`queued`, which stores a queued
letter straight from the demo order's snapshot (not through the queue functions), and ``letters``:
vendors with POs of libraries A and B, each with a message, for the pages' tests."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from app.clock import utcnow
from app.extensions import db
from app.integrations.edi import orders as edi
from app.letters.data import demo_order
from app.outgoing import snapshot
from app.outgoing.models import VendorMessage
from app.vendors import services as vs
from tests.helpers import free_port
from tests.orders.helpers import make_vendors
from tests.outgoing.helpers import message, sent_po
from testkit.mail import SmtpServer

REFUSED = "nobody@vendor.example"        # the test server answers 550 for it
BUSY = "busy@vendor.example"             # ... and 450 (try later) for this one


@pytest.fixture(autouse=True)
def letter_files(app, tmp_path):
    """Letters' files and caught mail under the test's folder; a one-minute back-off base."""
    app.config.update(LETTER_FOLDER=str(tmp_path / "letters"), MAIL_CATCH_ALL_FOLDER=str(tmp_path / "mail"),
                      OUTGOING_RETRY_SECONDS=60, OUTGOING_MAX_ATTEMPTS=8, MAIL_SERVER="")
    return tmp_path


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
def smtp_down(app, letter_files):
    """The SMTP server, not started yet: mail goes to a closed port until ``.start()``."""
    server = SmtpServer(free_port(), refuse={REFUSED: "550 5.1.1 No such user here",
                                            BUSY: "450 4.2.1 Mailbox busy, try again later"})
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_TIMEOUT=5)
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_down):
    return smtp_down.start()


BUYER = edi.Party("5412345000013", "14", "Demo University Library")
SUPPLIER = edi.Party("4012345000009", "14", "Demo Books Ltd")


def edi_parts(letter, **kw) -> snapshot.EdiParts:
    return snapshot.EdiParts(buyer=kw.pop("buyer", BUYER), supplier=kw.pop("supplier", SUPPLIER),
                             lines=tuple(snapshot.EdiLine(line.number, ("A-BKS",), "LIBA") for line in letter.lines),
                             account="ACC-42", **kw)


def queued(vendor, channel: str = "email", kind: str = "po", to: str = "orders@vendor.example", lines: int = 2,
           letter=None, parts=None, **columns) -> VendorMessage:
    """A queued message of ``vendor`` made from the demo order (``lines`` lines) and committed."""
    letter = letter or demo_order(lines)
    if channel == "edi" and parts is None:
        parts = edi_parts(letter)
    columns = {"status": "queued", "next_attempt_at": utcnow(), **columns}
    message = VendorMessage(kind=kind, channel=channel, vendor_id=vendor.id, po_number=letter.po_number,
                            to_address=to, payload=snapshot.dump_order(letter, parts), **columns)
    db.session.add(message)
    db.session.commit()
    return message


def total(letter) -> Decimal:
    return sum((line.net_price for line in letter.lines), Decimal(0))
