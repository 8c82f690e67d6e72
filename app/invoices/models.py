"""Invoices, their lines and fund distribution, charges, history, settings and workflow rules.

An invoice's status changes only through :data:`TRANSITIONS` (see :meth:`Invoice.move_to`),
called from ``app.invoices.services``.
"""
from __future__ import annotations

from ..auth.models import HistoryEntry
from ..clock import utcnow
from ..errors import RuleViolation
from ..extensions import db
from ..text import T
from ..types import Fixed, Money, Percent

STATUSES = {
    "in_review": T("In Review"),
    "in_approval": T("In Approval"),
    "ready_to_be_paid": T("Ready to be Paid"),
    "waiting_for_payment": T("Waiting for Payment"),
    "closed": T("Closed"),
}
CHANNELS = {"manual": T("Manual"), "po": T("From a PO"), "file": T("File"), "edi": T("EDI"), "api": T("API")}
BUILT_IN_CHARGES = {"shipment": T("Shipment"), "insurance": T("Insurance"), "overhead": T("Overhead"),
                    "discount": T("Discount")}
PAYMENT_METHODS = {"bank_transfer": T("Bank transfer"), "credit_card": T("Credit card"), "check": T("Check"),
                   "cash": T("Cash"), "deposit_account": T("Deposit account")}

# action -> {from status: to status}; nothing else changes an invoice's status.
TRANSITIONS: dict[str, dict[str, str]] = {
    "review_failed": {"in_review": "in_review"},
    "to_approval": {"in_review": "in_approval"},
    "approve": {"in_review": "ready_to_be_paid", "in_approval": "ready_to_be_paid"},
    "reject": {"in_approval": "in_review"},
    "skip_erp": {"ready_to_be_paid": "waiting_for_payment"},
    "exported": {"ready_to_be_paid": "waiting_for_payment"},
    "exported_and_closed": {"ready_to_be_paid": "closed"},
    "paid": {"ready_to_be_paid": "closed", "waiting_for_payment": "closed"},
    "erp_rejected": {"ready_to_be_paid": "in_review", "waiting_for_payment": "in_review"},
    "send_back_to_review": {"ready_to_be_paid": "in_review", "waiting_for_payment": "in_review",
                            "closed": "in_review"},
}
ACTION_LABELS = {"review_failed": T("review"), "to_approval": T("send to approval"), "approve": T("approve"),
                 "reject": T("reject"), "skip_erp": T("pass to payment"), "exported": T("mark as exported"),
                 "exported_and_closed": T("mark as exported"), "paid": T("record the payment of"),
                 "erp_rejected": T("reject from the ERP"), "send_back_to_review": T("send back to review")}
EXPENDED = frozenset({"ready_to_be_paid", "waiting_for_payment", "closed"})


def refuse_unless(action: str, invoice: "Invoice") -> None:
    if invoice.status in TRANSITIONS[action]:
        return
    allowed = [STATUSES[s] for s in STATUSES if s in TRANSITIONS[action]]
    raise RuleViolation(T("Invoice %(number)s is %(status)s: you cannot %(action)s it. That is possible only "
                          "when it is %(allowed)s.", number=invoice.number, status=STATUSES[invoice.status],
                          action=ACTION_LABELS[action], allowed=one_of(allowed)), "status")


def listed(labels) -> T:
    """"A, B, C": the labels as one Text (each one translated when shown)."""
    labels = list(labels)
    first = labels[0]
    for label in labels[1:]:
        first = T("%(first)s, %(next)s", first=first, next=label)
    return first


def one_of(labels: list):
    """"A", "A or B", "A, B or C": the labels as one Text (each one translated when shown)."""
    if len(labels) == 1:
        return labels[0]
    return T("%(first)s or %(last)s", first=listed(labels[:-1]), last=labels[-1])


class Invoice(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    number = db.Column(db.String(50), nullable=False)
    vendor_id = db.Column(db.Integer, db.ForeignKey("vendor.id"), nullable=False, index=True)
    vendor_account_id = db.Column(db.Integer, db.ForeignKey("vendor_account.id"))
    invoice_date = db.Column(db.Date, nullable=False)
    due_date = db.Column(db.Date)
    currency = db.Column(db.String(3), nullable=False)
    total_amount = db.Column(Money(), nullable=False)          # as printed on the invoice; negative: refund
    owner_library_id = db.Column(db.Integer, db.ForeignKey("library.id"), index=True)  # NULL: institution
    payment_method = db.Column(db.String(20), nullable=False, default="bank_transfer")
    reference_number = db.Column(db.String(100), nullable=False, default="")
    notes = db.Column(db.Text, nullable=False, default="")
    prepaid = db.Column(db.Boolean, nullable=False, default=False)
    export_prepaid = db.Column(db.Boolean, nullable=False, default=False)   # a prepaid one still goes to the ERP
    internal_copy = db.Column(db.Boolean, nullable=False, default=False)   # never exported
    explicit_ratio = db.Column(Fixed(18, 8))   # 1 unit of the invoice currency = ratio units of a fund's
    pro_rata = db.Column(db.Boolean)           # NULL: the institution's setting
    channel = db.Column(db.String(10), nullable=False, default="manual")
    status = db.Column(db.String(25), nullable=False, default="in_review", index=True)
    review_problems = db.Column(db.JSON, nullable=False, default=list)   # reasons from the review rules
    alert = db.Column(db.Text, nullable=False, default="")               # e.g. the ERP's rejection note
    # VAT on the whole invoice (line VAT lives on the lines)
    vat_level = db.Column(db.String(10), nullable=False, default="none")   # none | invoice | line
    vat_inclusive = db.Column(db.Boolean, nullable=False, default=False)
    vat_code = db.Column(db.String(20), nullable=False, default="")
    vat_percent = db.Column(Percent())
    vat_amount = db.Column(Money(), nullable=False, default=0)
    vat_separate_line = db.Column(db.Boolean, nullable=False, default=False)  # else expended from the lines' funds
    vat_fund_id = db.Column(db.Integer, db.ForeignKey("fund.id"))   # the separate VAT line's fund (a "tax" fund)
    vat_confirmed = db.Column(db.String(40), nullable=False, default="")      # the confirmation given, if any
    governmental_for_id = db.Column(db.Integer, db.ForeignKey("invoice.id"))  # VAT invoice raised for this one
    erp_identifier = db.Column(db.String(16), unique=True)   # stable 16-digit id for the ERP export
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    approved_at = db.Column(db.DateTime)
    approved_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    exported_at = db.Column(db.DateTime)
    voucher_number = db.Column(db.String(50), nullable=False, default="")
    payment_date = db.Column(db.Date)
    payment_amount = db.Column(Money())
    payment_currency = db.Column(db.String(3))
    closed_at = db.Column(db.DateTime)

    vendor = db.relationship("Vendor", lazy="joined")
    vendor_account = db.relationship("VendorAccount")
    owner_library = db.relationship("Library", lazy="joined")
    created_by = db.relationship("User", foreign_keys=[created_by_id])
    approved_by = db.relationship("User", foreign_keys=[approved_by_id])
    lines = db.relationship("InvoiceLine", back_populates="invoice", order_by="InvoiceLine.position",
                            cascade="all, delete-orphan")
    charges = db.relationship("InvoiceCharge", back_populates="invoice", order_by="InvoiceCharge.id",
                              cascade="all, delete-orphan")
    # Deleting an invoice keeps its history (invoice_id becomes NULL; number and vendor stay).
    history = db.relationship("InvoiceEvent", back_populates="invoice", order_by="InvoiceEvent.id",
                              cascade="save-update, merge")
    governmental_for = db.relationship("Invoice", remote_side=[id])
    vat_fund = db.relationship("Fund")

    __table_args__ = (
        db.UniqueConstraint("vendor_id", "number", name="uq_invoice_vendor_number"),
        # What the service checks: unique per vendor whatever the letter case (lower() of the database).
        db.Index("uq_invoice_vendor_number_nocase", "vendor_id", db.func.lower(number), unique=True),
        db.CheckConstraint("status IN (" + ",".join(f"'{s}'" for s in STATUSES) + ")", name="status_known"),
        db.CheckConstraint("channel IN (" + ",".join(f"'{c}'" for c in CHANNELS) + ")", name="channel_known"),
        db.CheckConstraint("vat_level IN ('none','invoice','line')", name="vat_level_known"),
        db.CheckConstraint("explicit_ratio IS NULL OR explicit_ratio > 0", name="ratio_positive"),
        db.Index("ix_invoice_status_vendor", "status", "vendor_id", "id"),
        db.Index("ix_invoice_date_id", "invoice_date", "id"),   # the list's default sort
    )

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]

    @property
    def is_refund(self) -> bool:
        return self.total_amount < 0

    @property
    def skips_erp(self) -> bool:
        return self.internal_copy or (self.prepaid and not self.export_prepaid)

    def move_to(self, action: str) -> tuple[str, str]:
        refuse_unless(action, self)
        old = self.status
        self.status = TRANSITIONS[action][old]
        return old, self.status

    def __str__(self):
        return f"{self.number} ({self.vendor.code})"


class InvoiceLine(db.Model):
    __tablename__ = "invoice_line"

    id = db.Column(db.Integer, primary_key=True)
    invoice_id = db.Column(db.Integer, db.ForeignKey("invoice.id", ondelete="CASCADE"), nullable=False, index=True)
    position = db.Column(db.Integer, nullable=False)
    line_type = db.Column(db.String(20), nullable=False, default="regular")  # regular or a charge type code
    po_line_id = db.Column(db.Integer, db.ForeignKey("po_line.id"), index=True)
    quantity = db.Column(db.Integer, nullable=False, default=1)
    unit_price = db.Column(Money(), nullable=False)
    total = db.Column(Money(), nullable=False)
    fully_invoiced = db.Column(db.Boolean, nullable=False, default=True)
    price_note = db.Column(db.String(300), nullable=False, default="")
    subscription_from = db.Column(db.Date)
    subscription_to = db.Column(db.Date)
    reporting_code = db.Column(db.String(40), nullable=False, default="")
    vat_code = db.Column(db.String(20), nullable=False, default="")
    vat_percent = db.Column(Percent())
    vat_amount = db.Column(Money(), nullable=False, default=0)
    distribution_method = db.Column(db.String(10), nullable=False, default="percent")
    note = db.Column(db.Text, nullable=False, default="")

    invoice = db.relationship("Invoice", back_populates="lines")
    po_line = db.relationship("POLine")
    distribution = db.relationship("InvoiceLineFund", back_populates="line", order_by="InvoiceLineFund.id",
                                   cascade="all, delete-orphan")

    __table_args__ = (
        db.UniqueConstraint("invoice_id", "position"),
        db.CheckConstraint("distribution_method IN ('percent','amount')", name="distribution_method_known"),
        db.CheckConstraint("subscription_from IS NULL OR subscription_to IS NULL OR subscription_from < "
                           "subscription_to", name="subscription_ordered"),
    )

    @property
    def is_charge(self) -> bool:
        return self.line_type != "regular"


class InvoiceLineFund(db.Model):
    __tablename__ = "invoice_line_fund"

    id = db.Column(db.Integer, primary_key=True)
    line_id = db.Column(db.Integer, db.ForeignKey("invoice_line.id", ondelete="CASCADE"), nullable=False, index=True)
    fund_id = db.Column(db.Integer, db.ForeignKey("fund.id"), nullable=False, index=True)
    percent = db.Column(Percent())
    amount = db.Column(Money(), nullable=False)   # share of the line, invoice currency

    line = db.relationship("InvoiceLine", back_populates="distribution")
    fund = db.relationship("Fund", lazy="joined")

    __table_args__ = (db.UniqueConstraint("line_id", "fund_id"),)


class InvoicePosting(db.Model):
    """Links an invoice to every fund transaction it posted (and the reversals when it went back
    to review), so its money can be shown and reversed exactly."""
    __tablename__ = "invoice_posting"

    id = db.Column(db.Integer, primary_key=True)
    invoice_id = db.Column(db.Integer, db.ForeignKey("invoice.id"), nullable=False, index=True)
    transaction_id = db.Column(db.Integer, db.ForeignKey("fund_transaction.id"), nullable=False, unique=True)

    transaction = db.relationship("FundTransaction")


class InvoiceCharge(db.Model):
    """An additional charge spread pro rata over the regular lines (without pro rata a charge is
    an invoice line of its charge type instead)."""
    __tablename__ = "invoice_charge"

    id = db.Column(db.Integer, primary_key=True)
    invoice_id = db.Column(db.Integer, db.ForeignKey("invoice.id", ondelete="CASCADE"), nullable=False, index=True)
    charge_type = db.Column(db.String(20), nullable=False)
    amount = db.Column(Money(), nullable=False)

    invoice = db.relationship("Invoice", back_populates="charges")

    __table_args__ = (db.UniqueConstraint("invoice_id", "charge_type"),)


class ChargeType(db.Model):
    """The library's own charge types (up to five) beside the built-in four."""
    __tablename__ = "charge_type"

    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(20), nullable=False, unique=True)
    name = db.Column(db.String(100), nullable=False)
    active = db.Column(db.Boolean, nullable=False, default=True)


class InvoiceEvent(HistoryEntry, db.Model):
    """History: who changed what when (field old → new), on the invoice or one of its lines."""
    __tablename__ = "invoice_event"

    id = db.Column(db.Integer, primary_key=True)
    invoice_id = db.Column(db.Integer, db.ForeignKey("invoice.id", ondelete="SET NULL"), index=True)
    invoice_number = db.Column(db.String(50), nullable=False)   # kept when the invoice is deleted
    vendor_code = db.Column(db.String(20), nullable=False)
    line_position = db.Column(db.Integer)

    invoice = db.relationship("Invoice", back_populates="history")


class Setting(db.Model):
    """Institution settings as key → JSON value (defaults live in app.invoices.settings)."""
    __tablename__ = "setting"

    key = db.Column(db.String(60), primary_key=True)
    value = db.Column(db.JSON, nullable=False)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    updated_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))


class ReviewRule(db.Model):
    """A check every new or saved invoice goes through; a failing one keeps it In Review."""
    __tablename__ = "review_rule"
    KINDS = {
        "total_mismatch": T("The invoice total differs from the sum of its lines and charges"),
        "line_without_funds": T("A line has no fund"),
        "pol_vendor_differs": T("A line's PO line is ordered from another vendor"),
        "price_differs": T("A line's price differs from its PO line's price by more than the threshold percent"),
        "no_exchange_rate": T("No exchange rate for the invoice currency on the invoice date"),
        "possible_duplicate": T("Another invoice of the vendor has the same total and date"),
    }

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(30), nullable=False, unique=True)
    active = db.Column(db.Boolean, nullable=False, default=True)
    threshold_percent = db.Column(Percent())


class ApprovalRule(db.Model):
    """Ordered; the first rule whose conditions all hold decides automatic or manual approval."""
    __tablename__ = "approval_rule"

    id = db.Column(db.Integer, primary_key=True)
    position = db.Column(db.Integer, nullable=False, unique=True)
    name = db.Column(db.String(100), nullable=False)
    min_total = db.Column(Money())
    max_total = db.Column(Money())
    vendor_id = db.Column(db.Integer, db.ForeignKey("vendor.id"))
    fund_id = db.Column(db.Integer, db.ForeignKey("fund.id"))
    owner_library_id = db.Column(db.Integer, db.ForeignKey("library.id"))
    channel = db.Column(db.String(10))
    automatic = db.Column(db.Boolean, nullable=False, default=False)
    approver_not_creator = db.Column(db.Boolean, nullable=False, default=False)

    vendor = db.relationship("Vendor")
    fund = db.relationship("Fund")
    owner_library = db.relationship("Library")


class InvoiceNote(db.Model):
    """A dated note on an invoice (the Notes tab; e.g. the payment terms for the ERP), with its
    author. Edited or deleted only by its author or an administrator; the history keeps each change."""
    __tablename__ = "invoice_note"

    id = db.Column(db.Integer, primary_key=True)
    invoice_id = db.Column(db.Integer, db.ForeignKey("invoice.id", ondelete="CASCADE"), nullable=False, index=True)
    text = db.Column(db.Text, nullable=False)
    author_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    edited_at = db.Column(db.DateTime)
    edited_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))

    invoice = db.relationship("Invoice", backref=db.backref("dated_notes", order_by="InvoiceNote.id",
                                                            cascade="all, delete-orphan", passive_deletes=True))
    author = db.relationship("User", foreign_keys=[author_id], lazy="joined")
    edited_by = db.relationship("User", foreign_keys=[edited_by_id])


class InvoiceAttachment(db.Model):
    """A file attached to an invoice: kept under a random name in the attachments folder
    (:mod:`app.storage`); ``file_name`` is the cleaned name the person gave it."""
    __tablename__ = "invoice_attachment"

    id = db.Column(db.Integer, primary_key=True)
    invoice_id = db.Column(db.Integer, db.ForeignKey("invoice.id", ondelete="CASCADE"), nullable=False, index=True)
    file_name = db.Column(db.String(200), nullable=False)
    stored_name = db.Column(db.String(32), nullable=False, unique=True)
    content_type = db.Column(db.String(100), nullable=False)
    size = db.Column(db.Integer, nullable=False)
    sha256 = db.Column(db.String(64), nullable=False)
    uploaded_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    uploaded_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    invoice = db.relationship("Invoice", backref=db.backref("attachments", order_by="InvoiceAttachment.id",
                                                            cascade="all, delete-orphan", passive_deletes=True))
    uploaded_by = db.relationship("User", lazy="joined")

    __table_args__ = (db.CheckConstraint("size > 0", name="size_positive"),)
