"""A user's notifications and their preferences per kind, and who hears about a profile's runs.

A notification is made in the transaction of what it tells (an invoice routed for approval, a run
that ended, ...). How it reaches the user by e-mail follows the user's preference for its kind when
it is made (``delivery``): ``now`` (queued into the outbox at once), ``digest`` (the daily digest
job takes it), ``off`` (only the bell). ``mailed_at`` says when it went into the outbox.
"""
from __future__ import annotations

from ..clock import utcnow
from ..extensions import db

KINDS = {
    "approval_waiting": "An invoice waits for my approval",
    "invoice_returned": "My invoice was rejected or sent back",
    "erp_rejected": "The ERP rejected an invoice",
    "job_ended": "A finance job ended",
    "claim_due": "A claim is due",
    "renewal_due": "A renewal is due",
    "edi_unmatched": "An EDI message could not be matched",
}
MODES = {"now": "E-mail at once", "digest": "Daily digest", "off": "Only in the app"}
DEFAULT_MODE = "now"
# A profile's run-end e-mail: to its recipients after every run, or only when a run failed.
NOTIFY_WHEN = {"off": "Never", "always": "After every run", "failure": "Only when a run failed"}


class Notification(db.Model):
    __tablename__ = "notification"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    kind = db.Column(db.String(30), nullable=False)
    title = db.Column(db.String(300), nullable=False)
    body = db.Column(db.Text, nullable=False, default="")
    url = db.Column(db.String(500), nullable=False, default="")       # where to look (a path in the app)
    object_type = db.Column(db.String(40), nullable=False, default="")  # invoice, po_line, job_run, edi_message
    object_id = db.Column(db.Integer)
    library_id = db.Column(db.Integer, db.ForeignKey("library.id", ondelete="SET NULL"))  # the object's owner
    delivery = db.Column(db.String(10), nullable=False, default="now")
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    read_at = db.Column(db.DateTime)
    mailed_at = db.Column(db.DateTime)

    user = db.relationship("User")

    __table_args__ = (
        db.CheckConstraint("kind IN (" + ",".join(f"'{k}'" for k in KINDS) + ")", name="kind_known"),
        db.CheckConstraint("delivery IN ('now','digest','off')", name="delivery_known"),
        db.Index("ix_notification_user_unread", "user_id", "read_at", "id"),
        db.Index("ix_notification_digest", "delivery", "mailed_at"),
    )

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]


class NotificationPreference(db.Model):
    """How ``user`` hears about ``kind`` by e-mail; no row: :data:`DEFAULT_MODE`."""
    __tablename__ = "notification_preference"

    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    kind = db.Column(db.String(30), primary_key=True)
    mode = db.Column(db.String(10), nullable=False, default=DEFAULT_MODE)

    __table_args__ = (
        db.CheckConstraint("kind IN (" + ",".join(f"'{k}'" for k in KINDS) + ")", name="kind_known"),
        db.CheckConstraint("mode IN ('now','digest','off')", name="mode_known"),
    )


profile_recipient = db.Table(
    "profile_recipient",
    db.Column("profile_id", db.Integer, db.ForeignKey("integration_profile.id", ondelete="CASCADE"),
              primary_key=True),
    db.Column("user_id", db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)
