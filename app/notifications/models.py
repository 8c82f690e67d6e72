"""A user's notifications and their preferences per kind, and who hears about a profile's runs.

A notification is made in the transaction of what it tells (an invoice routed for approval, a run
that ended, ...). How it reaches the user by e-mail follows the user's preference for its kind when
it is made (``delivery``): ``now`` (queued into the outbox at once), ``digest`` (the daily digest
job takes it), ``off`` (only the bell). ``mailed_at`` says when it went into the outbox.
"""
from __future__ import annotations

from ..clock import utcnow
from ..extensions import db
from ..text import T, Text

KINDS = {
    "approval_waiting": T("An invoice waits for my approval"),
    "invoice_returned": T("My invoice was rejected or sent back"),
    "erp_rejected": T("The ERP rejected an invoice"),
    "job_ended": T("A finance job ended"),
    "claim_due": T("A claim is due"),
    "renewal_due": T("A renewal is due"),
    "edi_unmatched": T("An EDI message could not be matched"),
}
MODES = {"now": T("E-mail at once"), "digest": T("Daily digest"), "off": T("Only in the app")}
DEFAULT_MODE = "now"
# A profile's run-end e-mail: to its recipients after every run, or only when a run failed.
NOTIFY_WHEN = {"off": T("Never"), "always": T("After every run"), "failure": T("Only when a run failed")}


def stored_parts(value) -> "dict | list | None":
    """What to keep beside a notification's title or body so it can be shown in its reader's language:
    a Text's JSON, or for a body given as parts (paragraphs; a list inside is lines) a list of them
    (each a Text's JSON, a plain string, or such a list). None for plain text."""
    if isinstance(value, Text):
        return value.to_json()
    if isinstance(value, (list, tuple)):
        return [stored_parts(part) if isinstance(part, (Text, list, tuple)) else str(part) for part in value]
    return None


def english(value, separator: str = "\n\n") -> str:
    """The English of a title or body (a Text's own value; parts joined as :func:`shown` joins them)."""
    if isinstance(value, (list, tuple)):
        return separator.join(english(part, "\n") for part in value)
    return str.__str__(value) if isinstance(value, str) else str(value)


def shown(kept, fallback: str, separator: str = "\n\n") -> str:
    """The title or body kept by :func:`stored_parts` in the reader's language (``fallback``: the stored
    English, when nothing was kept or it no longer reads)."""
    if isinstance(kept, dict):
        return str(Text.from_json(kept, fallback))
    if isinstance(kept, list):
        return separator.join(shown(part, part if isinstance(part, str) else "", "\n") for part in kept)
    return fallback


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
    # The title and body to show in the reader's language (:func:`stored_parts`); title and body keep
    # the English (the API, the reminders' "told already" check).
    title_text = db.Column(db.JSON)
    body_text = db.Column(db.JSON)

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

    @property
    def shown_title(self) -> str:
        return shown(self.title_text, self.title)

    @property
    def shown_body(self) -> str:
        return shown(self.body_text, self.body)


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
