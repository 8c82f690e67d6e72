"""EDI invoices: each vendor's pickup settings (connection, folder, schedule) and the EDI inbox,
one row per message received (or per file that could not be read), always with its raw text."""
from __future__ import annotations

from ...clock import utcnow
from ...extensions import db
from ...text import T, Text, english, stored
from ..models import Scheduled

MESSAGE_STATUSES = {"received": T("Received"), "invoice_created": T("Invoice created"), "failed": T("Failed"),
                    "duplicate": T("Duplicate file")}
SOURCES = {"upload": T("Upload"), "fetch": T("Fetched")}


class VendorEdiSetting(Scheduled, db.Model):
    """Where a vendor's INVOIC files are fetched from, and when (its schedule is a profile
    section's: :class:`~app.integrations.models.Scheduled`)."""
    __tablename__ = "vendor_edi_setting"

    id = db.Column(db.Integer, primary_key=True)
    vendor_id = db.Column(db.Integer, db.ForeignKey("vendor.id", ondelete="CASCADE"), nullable=False, unique=True)
    connection_id = db.Column(db.Integer, db.ForeignKey("erp_connection.id"), nullable=False, index=True)
    folder = db.Column(db.String(200), nullable=False, default="")    # under the connection's base_dir
    # Where ORDERS files are uploaded ("" = the "orders" folder inside ``folder``), and their syntax.
    orders_folder = db.Column(db.String(200), nullable=False, default="")
    syntax = db.Column(db.String(4), nullable=False, default="UNOC")

    vendor = db.relationship("Vendor", lazy="joined")
    connection = db.relationship("Connection", lazy="joined")

    __table_args__ = (
        db.CheckConstraint("schedule IN ('none','hourly','daily','weekly')", name="schedule_known"),
        db.CheckConstraint("syntax IN ('UNOC','UNOW')", name="syntax_known"),
    )

    @property
    def job_code(self) -> str:
        """The ``profile_code`` of this vendor's fetch runs (``JobRun``)."""
        return f"EDI-{self.vendor.code}"


class EdiMessage(db.Model):
    """One INVOIC message of a received file (``raw``: the message alone as a complete interchange),
    or the whole file when it could not be read (``message_index`` 0), or a file received again
    (status ``duplicate``). Nothing here is ever deleted."""
    __tablename__ = "edi_message"

    id = db.Column(db.Integer, primary_key=True)
    vendor_id = db.Column(db.Integer, db.ForeignKey("vendor.id", ondelete="SET NULL"), index=True)
    file_name = db.Column(db.String(255), nullable=False)
    sha256 = db.Column(db.String(64), nullable=False, index=True)   # of the whole file
    message_index = db.Column(db.Integer, nullable=False, default=0)   # 1-based; 0: the whole file
    message_ref = db.Column(db.String(35), nullable=False, default="")
    invoice_number = db.Column(db.String(50), nullable=False, default="")
    raw = db.Column(db.Text, nullable=False)
    status = db.Column(db.String(20), nullable=False, default="received", index=True)
    reason = db.Column(db.Text, nullable=False, default="")   # in English
    reason_text = db.Column(db.JSON)   # the reason to show translated (app.text.Text.to_json), if it has one
    invoice_id = db.Column(db.Integer, db.ForeignKey("invoice.id", ondelete="SET NULL"), index=True)
    source = db.Column(db.String(10), nullable=False, default="upload")
    run_id = db.Column(db.Integer, db.ForeignKey("job_run.id", ondelete="SET NULL"))
    received_at = db.Column(db.DateTime, nullable=False, default=utcnow, index=True)
    received_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    attempts = db.Column(db.Integer, nullable=False, default=1)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    vendor = db.relationship("Vendor", lazy="joined")
    invoice = db.relationship("Invoice")
    received_by = db.relationship("User")

    __table_args__ = (
        db.CheckConstraint("status IN (" + ",".join(f"'{s}'" for s in MESSAGE_STATUSES) + ")", name="status_known"),
        db.CheckConstraint("source IN (" + ",".join(f"'{s}'" for s in SOURCES) + ")", name="source_known"),
        db.Index("ix_edi_message_status_id", "status", "id"),
    )

    def set_reason(self, reason: str) -> None:
        """Keep ``reason`` (a :class:`~app.text.Text` is shown later in its reader's language)."""
        self.reason, self.reason_text = english(reason), stored(reason)

    @property
    def reason_message(self) -> str:
        """The reason as it was kept: a :class:`~app.text.Text` when it has one, else the English."""
        return Text.from_json(self.reason_text, self.reason)

    @property
    def shown_reason(self) -> str:
        """The reason in the reader's language (stored English when it was kept without its Text)."""
        return str(self.reason_message)

    @property
    def status_label(self) -> str:
        return MESSAGE_STATUSES.get(self.status, self.status)

    @property
    def source_label(self) -> str:
        return SOURCES.get(self.source, self.source)

    @property
    def can_retry(self) -> bool:
        return self.status == "failed"
