"""Claims fixtures: a real SMTP server on 127.0.0.1 (aiosmtpd), the app's mail settings pointing at
it, attachments in the test's own folder, and a PO line that was sent and is overdue."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from app import clock
from app.extensions import db
from app.vendors import services as vs
from tests.helpers import free_port
from tests.orders.helpers import make_vendors, sent_line
from testkit.mail import SmtpServer


@pytest.fixture
def mail_port(app, tmp_path):
    """A free port the app sends mail to (nothing listens until ``smtp`` starts), and attachments
    kept under the test's temporary folder."""
    port = free_port()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=5,
                      ATTACHMENT_FOLDER=str(tmp_path / "attachments"))
    return port


@pytest.fixture
def smtp_down(mail_port):
    """The SMTP server, not started yet: the app's mail goes to a closed port until ``.start()``."""
    server = SmtpServer(mail_port)
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_down):
    return smtp_down.start()


@dataclass
class Claims:
    overdue: object       # POL of library A, sent, expected 10 days ago, nothing received
    vendor_email: str




@pytest.fixture
def claims(world, mail_port) -> Claims:
    orders = make_vendors(world)
    admin = world.user("admin")
    vs.add_contact(admin, orders.eur, "No e-mail", phone="+1 555 0100")
    vs.add_contact(admin, orders.eur, "Claims desk", email="claims@eurobooks.example")
    db.session.commit()
    pol = sent_line(world, world.user("buyer"), orders.eur, title="The Claimed Book", isbn="978-3-16-148410-0",
                    vendor_reference="EB-4711", quantity=2, price="25.00",
                    expected_receipt_date=clock.today() - timedelta(days=10))
    return Claims(pol, "claims@eurobooks.example")
