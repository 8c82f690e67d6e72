"""Stored letters to vendors (the outbox: :class:`VendorMessage`) and the administrator's letter
templates (:class:`LetterTemplate`).

A message is written in the same transaction as the change that causes it (a PO sent, a line
cancelled, an invoice paid), with a snapshot of its data in ``payload``: what the vendor gets is
what was true then, whatever changes later. Rendering (subject, body, PDF, EDI file) and delivery
happen later in the background; a message is never deleted, and "send again" makes a new one.
"""
from __future__ import annotations

from ..clock import utcnow
from ..extensions import db
from ..letters import KINDS
from ..text import T

# What a message is: one of the letters to vendors, or a notice to a user (app.notifications: an
# e-mail with its subject and body made when queued, no PDF).
MESSAGE_KINDS = {**KINDS, "notice": T("Notice")}
CHANNELS = {"email": T("E-mail"), "edi": T("EDI"), "print": T("Print"), "none": T("None (ordered by phone or on the web)")}
# queued: waiting for its (next) attempt; sending: an attempt started (a process that died there
# leaves it "interrupted": it may have reached the vendor, so it is never retried on its own);
# failed: gave up after the last retry or a refusal that retrying cannot cure.
STATUSES = {"queued": T("Queued"), "sending": T("Sending"), "sent": T("Sent"), "failed": T("Failed"),
            "interrupted": T("Interrupted"), "to_print": T("Ready to print"), "recorded": T("Recorded")}
OPEN_STATUSES = frozenset({"queued", "sending"})
PROBLEM_STATUSES = frozenset({"failed", "interrupted"})

message_line = db.Table(
    "vendor_message_line",
    db.Column("message_id", db.Integer, db.ForeignKey("vendor_message.id", ondelete="CASCADE"), primary_key=True),
    db.Column("po_line_id", db.Integer, db.ForeignKey("po_line.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)


class VendorMessage(db.Model):
    __tablename__ = "vendor_message"

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(20), nullable=False)
    channel = db.Column(db.String(10), nullable=False)
    status = db.Column(db.String(12), nullable=False, default="queued")
    vendor_id = db.Column(db.Integer, db.ForeignKey("vendor.id"), index=True)   # NULL: a notice to a user
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"), index=True)  # a notice's reader
    vendor_account_id = db.Column(db.Integer, db.ForeignKey("vendor_account.id", ondelete="SET NULL"))
    po_id = db.Column(db.Integer, db.ForeignKey("purchase_order.id", ondelete="SET NULL"), index=True)
    po_number = db.Column(db.String(20), nullable=False, default="")   # kept when the PO is deleted
    owner_library_id = db.Column(db.Integer, db.ForeignKey("library.id"), index=True)  # scope; NULL: institution
    reason = db.Column(db.String(300), nullable=False, default="")      # why it was made ("change vendor", ...)
    to_address = db.Column(db.String(300), nullable=False, default="")  # e-mail; EDI: the remote folder
    payload = db.Column(db.JSON, nullable=False, default=dict)          # snapshot of the letter's data
    # Rendered in the background (app.outgoing.delivery):
    subject = db.Column(db.String(300), nullable=False, default="")
    body_html = db.Column(db.Text, nullable=False, default="")
    pdf_file = db.Column(db.String(64))        # stored name under the attachments folder
    edi_file = db.Column(db.String(64))        # stored name of the EDI interchange
    edi_name = db.Column(db.String(100))       # its name on the vendor's server
    attempts = db.Column(db.Integer, nullable=False, default=0)
    next_attempt_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    last_error = db.Column(db.Text, nullable=False, default="")
    sent_at = db.Column(db.DateTime)
    resend_of_id = db.Column(db.Integer, db.ForeignKey("vendor_message.id", ondelete="SET NULL"))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    vendor = db.relationship("Vendor", lazy="joined")
    vendor_account = db.relationship("VendorAccount")
    po = db.relationship("PurchaseOrder")
    created_by = db.relationship("User", foreign_keys=[created_by_id])
    lines = db.relationship("POLine", secondary=message_line, order_by="POLine.id")

    __table_args__ = (
        db.CheckConstraint("kind IN (" + ",".join(f"'{k}'" for k in MESSAGE_KINDS) + ")", name="kind_known"),
        db.CheckConstraint("vendor_id IS NOT NULL OR user_id IS NOT NULL", name="has_recipient"),
        db.CheckConstraint("channel IN (" + ",".join(f"'{c}'" for c in CHANNELS) + ")", name="channel_known"),
        db.CheckConstraint("status IN (" + ",".join(f"'{s}'" for s in STATUSES) + ")", name="status_known"),
        db.Index("ix_vendor_message_due", "status", "next_attempt_at"),
    )

    @property
    def kind_label(self) -> str:
        return MESSAGE_KINDS[self.kind]

    @property
    def channel_label(self) -> str:
        return CHANNELS[self.channel]

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]

    @property
    def has_problem(self) -> bool:
        return self.status in PROBLEM_STATUSES


class LetterTemplate(db.Model):
    """An administrator's version of a letter in one language (a part left NULL uses the built-in
    template of :mod:`app.letters` in that language) and whether the letter is made at all
    (``active``: the same on every language's row of a kind)."""
    __tablename__ = "letter_template"

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(20), nullable=False)
    language = db.Column(db.String(10), nullable=False, default="en", server_default="en")  # app.i18n.LANGUAGES
    subject = db.Column(db.Text)
    body = db.Column(db.Text)
    pdf = db.Column(db.Text)
    active = db.Column(db.Boolean, nullable=False, default=True)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    updated_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))

    updated_by = db.relationship("User")

    __table_args__ = (
        db.CheckConstraint("kind IN (" + ",".join(f"'{k}'" for k in KINDS) + ")", name="kind_known"),
        db.UniqueConstraint("kind", "language"),
    )
