"""notify(): one notification per active user, each once; the e-mail follows the user's preference
(at once through the outbox, to a real SMTP server; digest: left for the digest job; off: none)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.notifications import services as notes
from app.notifications.models import Notification
from app.outgoing import delivery
from app.outgoing.models import VendorMessage


def test_each_user_once_and_mail_by_preference(app, world, smtp):
    fm, buyer, viewer = world.user("fundmgr"), world.user("buyer"), world.user("viewer")
    fm.email, buyer.email, viewer.email = "fm@lib.example", "buyer@lib.example", "viewer@lib.example"
    notes.set_preferences(buyer, {"approval_waiting": "digest"})
    notes.set_preferences(viewer, {"approval_waiting": "off"})
    made = notes.notify("approval_waiting", [fm, buyer, viewer, fm], "Invoice INV-1 waits for your approval",
                        body="Euro Books, 100.00 EUR.", url="/invoices/1", library_id=world.lib_a.id)
    db.session.commit()
    assert [(n.user_id, n.delivery, n.mailed_at is not None) for n in made] == [
        (fm.id, "now", True), (buyer.id, "digest", False), (viewer.id, "off", False)]
    assert notes.unread_count(fm) == 1
    assert delivery.deliver_due().sent == 1
    [msg] = smtp.messages
    assert msg["To"] == "fm@lib.example" and msg["Subject"] == "Invoice INV-1 waits for your approval"
    assert "Euro Books, 100.00 EUR." in msg.get_body(("plain",)).get_content()
    assert list(msg.iter_attachments()) == [], "a notice has no PDF"
    assert db.session.scalar(select(VendorMessage.status).where(VendorMessage.kind == "notice")) == "sent"


def test_inactive_users_and_users_without_email(app, world):
    fm, buyer = world.user("fundmgr"), world.user("buyer")
    buyer.active, fm.email = False, ""
    made = notes.notify("job_ended", [fm, buyer], "Run #1 failed")
    assert [n.user_id for n in made] == [fm.id] and made[0].mailed_at is None, "the bell only"
    assert db.session.scalar(select(VendorMessage).where(VendorMessage.kind == "notice")) is None


def test_reading_and_marking_are_the_users_own(app, world):
    fm, buyer = world.user("fundmgr"), world.user("buyer")
    [n] = notes.notify("claim_due", [fm], "Claim POL-1")
    with pytest.raises(NotFound):
        notes.get(buyer, n.id)
    notes.mark(fm, notes.get(fm, n.id))
    assert notes.unread_count(fm) == 0
    notes.mark(fm, n, read=False)
    assert notes.unread_count(fm) == 1 and notes.mark_all_read(fm) == 1 and notes.unread_count(fm) == 0
    assert db.session.scalars(notes.for_user(fm)).all() == [n]


def test_preferences_are_checked(app, world):
    fm = world.user("fundmgr")
    with pytest.raises(InvalidInput):
        notes.set_preferences(fm, {"approval_waiting": "hourly"})
    with pytest.raises(InvalidInput):
        notes.set_preferences(fm, {"gossip": "now"})
    assert notes.preferences(fm)["approval_waiting"] == "now"
    assert db.session.scalar(select(Notification)) is None
