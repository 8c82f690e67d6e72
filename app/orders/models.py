"""Purchase orders, PO lines with their fund distribution, history and vendor communications.

A PO line's status changes only through :data:`TRANSITIONS` (see :func:`POLine.move_to`); the
services in ``app.orders.services`` are the only callers.
"""
from __future__ import annotations


from ..auth.models import HistoryEntry
from ..clock import utcnow
from ..errors import RuleViolation
from ..extensions import db
from ..text import StoredSentences, T
from ..types import Money, Percent
from .prediction import CHRONOLOGIES, FREQUENCIES, Pattern

POL_STATUSES = {
    "in_review": T("In Review"),
    "deferred": T("Deferred"),
    "ready": T("Ready"),
    "auto_packaging": T("Auto Packaging"),
    "manual_packaging": T("Manual Packaging"),
    "sent": T("Sent"),
    "waiting_for_invoice": T("Waiting for Invoice"),
    "waiting_for_renewal": T("Waiting for Renewal"),
    "waiting_for_manual_renewal": T("Waiting for Manual Renewal"),
    "closed": T("Closed"),
    "cancelled": T("Cancelled"),
}
OPEN_STATUSES = frozenset(POL_STATUSES) - {"closed", "cancelled"}
PACKAGING = frozenset({"auto_packaging", "manual_packaging"})
PACKAGING_LABELS = {"auto": T("Automatic"), "manual": T("Manual")}   # how a line is (or a PO was) packaged
RENEWAL = frozenset({"waiting_for_renewal", "waiting_for_manual_renewal"})
# Approved and not yet finished: these lines hold an encumbrance.
ENCUMBERING = frozenset({"ready", "auto_packaging", "manual_packaging", "sent", "waiting_for_invoice"}) | RENEWAL
EDITABLE = frozenset({"in_review", "deferred"})

ORDER_TYPES = {"one_time": T("One-time"), "continuous": T("Continuous")}
# The order type in the middle of a sentence ("A one-time PO line …").
ORDER_TYPE_WORDS = {"one_time": T("one-time"), "continuous": T("continuous")}
MATERIAL_FORMS = {"physical": T("Physical"), "electronic": T("Electronic")}
MATERIAL_FORM_WORDS = {"physical": T("physical"), "electronic": T("electronic")}
ACQUISITION_METHODS = {
    "purchase": T("Purchase"),
    "gift": T("Gift"),
    "exchange": T("Exchange"),
    "approval": T("Approval plan"),
    "depository": T("Depository"),
    "technical": T("Technical"),
}
# The acquisition method in the middle of a sentence ("A gift order is not paid for …").
METHOD_WORDS = {"purchase": T("purchase"), "gift": T("gift"), "exchange": T("exchange"),
                "approval": T("approval plan"), "depository": T("depository"), "technical": T("technical")}
# Material that comes without being paid for: no price, fund or invoice is needed, nothing is
# encumbered, and the line is complete once received (an approval plan is bought like a purchase).
UNPAID_METHODS = frozenset({"gift", "exchange", "depository", "technical"})

# (action, order type or None for both) -> {from status: to status}. A status missing from an
# action's map means the action is refused there; nothing else changes a line's status.
TRANSITIONS: dict[str, dict[str, str]] = {
    "defer": {"in_review": "deferred"},
    "resume": {"deferred": "in_review"},
    "approve": {"in_review": "ready", "deferred": "ready"},
    "package_manual": {"ready": "manual_packaging"},
    "package_auto": {"ready": "auto_packaging"},
    "send": {"auto_packaging": "sent", "manual_packaging": "sent"},
    "resend": {"ready": "sent"},             # a reopened line whose PO was already sent
    "complete_receipt": {"sent": "waiting_for_invoice"},   # one-time lines only
    "await_renewal": {"sent": "waiting_for_renewal"},       # continuous, automatic renewal
    "await_manual_renewal": {"sent": "waiting_for_manual_renewal"},
    "renew": {"waiting_for_renewal": "sent", "waiting_for_manual_renewal": "sent"},
    "cancel": {s: "cancelled" for s in OPEN_STATUSES},
    "close": {"waiting_for_invoice": "closed", "sent": "closed", "waiting_for_renewal": "closed",
              "waiting_for_manual_renewal": "closed"},
    "reopen": {"closed": "in_review"},
}
# Statuses from which each order type may take an action, where the training guide restricts it.
ALLOWED_BY_TYPE: dict[str, dict[str, frozenset]] = {
    "close": {"one_time": frozenset({"waiting_for_invoice"}),
              "continuous": frozenset({"sent"}) | RENEWAL},
    "complete_receipt": {"one_time": frozenset({"sent"}), "continuous": frozenset()},
    "await_renewal": {"one_time": frozenset(), "continuous": frozenset({"sent"})},
    "await_manual_renewal": {"one_time": frozenset(), "continuous": frozenset({"sent"})},
    "renew": {"one_time": frozenset(), "continuous": RENEWAL},
    "replace_vendor": {"one_time": frozenset({"sent", "waiting_for_invoice"}),
                       "continuous": frozenset({"sent"}) | RENEWAL},
    "change_vendor": {"one_time": frozenset({"sent"}), "continuous": frozenset({"sent"}) | RENEWAL},
    "relink": {"one_time": frozenset({"sent", "waiting_for_invoice", "in_review", "deferred", "ready",
                                      "auto_packaging", "manual_packaging", "closed"}),
               "continuous": frozenset({"waiting_for_renewal", "waiting_for_manual_renewal", "in_review",
                                        "deferred", "ready", "auto_packaging", "manual_packaging"})},
    "change_reference": {"one_time": frozenset(POL_STATUSES) - {"cancelled"},
                         "continuous": frozenset(POL_STATUSES) - {"cancelled"}},
    "receive": {"one_time": frozenset({"sent"}), "continuous": frozenset({"sent"}) | RENEWAL},
    "edit": {"one_time": EDITABLE, "continuous": EDITABLE},
}

# The verb of each action in "you cannot … it" (package_manual and package_auto both "package").
ACTION_LABELS = {
    "defer": T("defer"), "resume": T("resume"), "approve": T("approve"), "package_manual": T("package"),
    "package_auto": T("package"), "send": T("send"), "resend": T("send"), "complete_receipt": T("receive"),
    "await_renewal": T("renew"), "await_manual_renewal": T("renew"), "renew": T("renew"), "cancel": T("cancel"),
    "close": T("close"), "reopen": T("reopen"), "replace_vendor": T("replace the vendor of"),
    "change_vendor": T("change the vendor of"), "relink": T("relink"),
    "change_reference": T("change the reference of"), "receive": T("receive"), "edit": T("edit"),
}


# The words a line's history stores in English (actions, field names, status labels), as shown in
# the reader's language (:func:`history_word`); anything else (values, notes) is shown as stored.
HISTORY_WORDS = {
    "create": T("create"), "edit": T("edit"), "approve": T("approve"), "defer": T("defer"), "resume": T("resume"),
    "package_manual": T("package manually"), "package_auto": T("package automatically"), "send": T("send"),
    "resend": T("send again"), "complete_receipt": T("complete receipt"), "await_renewal": T("await renewal"),
    "await_manual_renewal": T("await manual renewal"), "renew": T("renew"), "cancel": T("cancel"),
    "close": T("close"), "reopen": T("reopen"), "receive": T("receive"), "activate": T("activate"),
    "invoice": T("invoice"), "pattern": T("pattern"), "claim": T("claim"), "communication": T("communication"),
    "vendor_response": T("vendor response"), "replace_vendor": T("replace vendor"),
    "change_vendor": T("change vendor"), "relink": T("relink"), "change_reference": T("change reference"),
    "letter": T("letter"),
    "status": T("status"), "items received": T("items received"), "item deleted": T("item deleted"),
    "holding deleted": T("holding deleted"), "publication pattern": T("publication pattern"),
    "activation_date": T("activation date"), "renewal_date": T("renewal date"), "bib_record": T("bibliographic record"),
    "distribution": T("distribution"), "vendor": T("vendor"), "po": T("purchase order"),
    "fully_invoiced": T("fully invoiced"), "paid": T("paid"), "invoice_sent": T("invoice sent"),
    "enumeration": T("enumeration"), "chronology": T("chronology"), "title": T("title"), "author": T("author"),
    "isbn": T("ISBN"), "issn": T("ISSN"), "publisher": T("publisher"), "publication_date": T("publication date"),
    "order_type": T("order type"), "material_form": T("material form"), "acquisition_method": T("acquisition method"),
    "packaging": T("packaging"), "currency": T("currency"), "list_price": T("list price"), "quantity": T("quantity"),
    "discount": T("discount"), "net_price": T("net price"), "distribution_method": T("distribution method"),
    "reporting_code": T("reporting code"), "vendor_reference": T("vendor reference number"), "note": T("note"),
    "expected_receipt_date": T("expected receipt"), "renewal_period_months": T("renewal period (months)"),
    "manual_renewal": T("manual renewal"), "vendor_id": T("vendor"), "vendor_account_id": T("vendor account"),
    "owner_library_id": T("owner"),
}


HISTORY_VALUES = {**{label.english: label for label in POL_STATUSES.values()}, "yes": T("yes"), "no": T("no")}


def history_word(value: str, *, stored_value: bool = False):
    """A stored action or field name in the reader's language (else as stored, underscores as spaces);
    with ``stored_value``, an old or new value: a status label or yes/no translated, anything else as is."""
    if stored_value:
        return HISTORY_VALUES.get(value, value)
    return HISTORY_WORDS.get(value) or (value or "").replace("_", " ")


# The notes the services write to a line's history themselves (in English, as stored), shown in the
# reader's language: (pattern, sentence); a person's own note matches none and is shown as typed.
_METHODS_BY_LABEL = {label.english: code for code, label in ACQUISITION_METHODS.items()}
def _method_arguments(args: dict) -> dict | None:
    """A note's acquisition method (stored as its English label or word) as the reader's."""
    if "method" not in args:
        return args
    code = _METHODS_BY_LABEL.get(args["method"]) or _METHODS_BY_LABEL.get(args["method"].capitalize())
    if code is None:
        return None
    return {**args, "method": ACQUISITION_METHODS[code] if args["method"][0].isupper() else METHOD_WORDS[code]}


HISTORY_NOTES = StoredSentences(
    fixed=(T("all copies received"), T("activated"), T("received, invoiced and paid"),
           T("received, invoiced and sent to the ERP"), T("renewed automatically"), T("renewed"), T("closed by hand")),
    patterns=((r"into (?P<po>PO-\d+)", T("into %(po)s")),
              (r"with (?P<po>PO-\d+)", T("with %(po)s")),
              (r"back on (?P<po>PO-\d+), which was already sent", T("back on %(po)s, which was already sent")),
              (r"renewal date (?P<day>\d{4}-\d\d-\d\d)", T("renewal date %(day)s")),
              (r"(?P<method>[A-Z][a-z ]+): nothing to encumber", T("%(method)s: nothing to encumber")),
              (r"received \((?P<method>[a-z ]+): no invoice expected\)", T("received (%(method)s: no invoice expected)")),
              (r"(?P<count>\d+) holdings moved", T("%(count)s holdings moved"))),
    arguments=_method_arguments)


def history_note(note: str):
    """A history entry's note in the reader's language when the services wrote it, else as stored."""
    return HISTORY_NOTES.shown(note)


def allowed_statuses(action: str, order_type: str) -> frozenset:
    by_type = ALLOWED_BY_TYPE.get(action)
    if by_type is not None:
        return by_type[order_type]
    return frozenset(TRANSITIONS[action])


def may(action: str, pol: "POLine") -> bool:
    return pol.status in allowed_statuses(action, pol.order_type)


def refuse_unless(action: str, pol: "POLine") -> None:
    """Raise a RuleViolation naming the line, its status and where the action is allowed."""
    if may(action, pol):
        return
    allowed = sorted(allowed_statuses(action, pol.order_type), key=list(POL_STATUSES).index)
    where = T("no status")
    for n, status in enumerate(allowed):   # "In Review, Deferred": each status translated when shown
        where = POL_STATUSES[status] if n == 0 else T("%(list)s, %(item)s", list=where, item=POL_STATUSES[status])
    raise RuleViolation(T("%(number)s is %(status)s: you cannot %(action)s it. A %(kind)s PO line allows this only "
                          "when %(where)s.", number=pol.number, status=POL_STATUSES[pol.status],
                          action=ACTION_LABELS.get(action, action), kind=ORDER_TYPE_WORDS[pol.order_type],
                          where=where), "status")


class PurchaseOrder(db.Model):
    __tablename__ = "purchase_order"
    STATUSES = {"open": T("Being packaged"), "sent": T("Sent"), "closed": T("Closed"), "cancelled": T("Cancelled")}

    id = db.Column(db.Integer, primary_key=True)
    number = db.Column(db.String(20), nullable=False, unique=True)
    vendor_id = db.Column(db.Integer, db.ForeignKey("vendor.id"), nullable=False, index=True)
    owner_library_id = db.Column(db.Integer, db.ForeignKey("library.id"), index=True)  # NULL: institution
    status = db.Column(db.String(10), nullable=False, default="open")
    packaging = db.Column(db.String(10), nullable=False, default="manual")  # how its lines got in
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    sent_at = db.Column(db.DateTime)
    sent_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    closed_at = db.Column(db.DateTime)
    note = db.Column(db.Text, nullable=False, default="")

    vendor = db.relationship("Vendor", lazy="joined")
    owner_library = db.relationship("Library", lazy="joined")
    lines = db.relationship("POLine", back_populates="po", order_by="POLine.id")

    __table_args__ = (
        db.CheckConstraint("status IN ('open','sent','closed','cancelled')", name="status_known"),
        db.CheckConstraint("packaging IN ('auto','manual')", name="packaging_known"),
    )

    @property
    def status_label(self) -> str:
        return self.STATUSES[self.status]


class POLine(db.Model):
    __tablename__ = "po_line"

    id = db.Column(db.Integer, primary_key=True)
    number = db.Column(db.String(20), nullable=False, unique=True)
    po_id = db.Column(db.Integer, db.ForeignKey("purchase_order.id"), index=True)
    status = db.Column(db.String(30), nullable=False, default="in_review", index=True)
    order_type = db.Column(db.String(12), nullable=False, default="one_time")
    material_form = db.Column(db.String(12), nullable=False, default="physical")
    acquisition_method = db.Column(db.String(12), nullable=False, default="purchase", server_default="purchase")
    packaging = db.Column(db.String(10), nullable=False, default="auto")  # how it will be packaged
    owner_library_id = db.Column(db.Integer, db.ForeignKey("library.id"), index=True)  # NULL: institution
    vendor_id = db.Column(db.Integer, db.ForeignKey("vendor.id"), nullable=False, index=True)
    vendor_account_id = db.Column(db.Integer, db.ForeignKey("vendor_account.id"))
    # Bibliographic reference: the record it points at and the brief description kept on the line.
    bib_record_id = db.Column(db.Integer, db.ForeignKey("bib_record.id"), index=True)
    title = db.Column(db.String(500), nullable=False)
    author = db.Column(db.String(300), nullable=False, default="")
    isbn = db.Column(db.String(40), nullable=False, default="")
    issn = db.Column(db.String(20), nullable=False, default="")
    publisher = db.Column(db.String(300), nullable=False, default="")
    publication_date = db.Column(db.String(40), nullable=False, default="")
    # Price: net = list price × quantity less the discount, in the line's currency.
    currency = db.Column(db.String(3), nullable=False)
    list_price = db.Column(Money(), nullable=False)
    discount = db.Column(Percent(), nullable=False, default=0)
    quantity = db.Column(db.Integer, nullable=False, default=1)
    net_price = db.Column(Money(), nullable=False)
    distribution_method = db.Column(db.String(10), nullable=False, default="percent")
    reporting_code = db.Column(db.String(40), nullable=False, default="")
    vendor_reference = db.Column(db.String(100), nullable=False, default="")
    note = db.Column(db.Text, nullable=False, default="")
    expected_receipt_date = db.Column(db.Date)
    # Continuous lines
    renewal_date = db.Column(db.Date)
    renewal_period_months = db.Column(db.Integer, nullable=False, default=12)
    renewal_reminder_days = db.Column(db.Integer, nullable=False, default=30)
    manual_renewal = db.Column(db.Boolean, nullable=False, default=False)
    # Electronic lines are activated rather than received.
    activation_date = db.Column(db.Date)
    # Set by the invoices domain; a received one-time line closes once it is fully invoiced and
    # its invoice is paid or sent to the ERP.
    fully_invoiced = db.Column(db.Boolean, nullable=False, default=False)
    paid = db.Column(db.Boolean, nullable=False, default=False)
    invoice_sent = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    cancel_reason = db.Column(db.Text, nullable=False, default="")
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    approved_at = db.Column(db.DateTime)
    sent_at = db.Column(db.DateTime)
    closed_at = db.Column(db.DateTime)

    po = db.relationship("PurchaseOrder", back_populates="lines")
    vendor = db.relationship("Vendor", lazy="joined")
    vendor_account = db.relationship("VendorAccount")
    owner_library = db.relationship("Library", lazy="joined")
    bib_record = db.relationship("BibRecord")
    created_by = db.relationship("User", foreign_keys=[created_by_id])
    distribution = db.relationship("POLineFund", back_populates="po_line", order_by="POLineFund.id",
                                   cascade="all, delete-orphan")
    history = db.relationship("POLineEvent", back_populates="po_line", order_by="POLineEvent.id",
                              cascade="all, delete-orphan")
    holdings = db.relationship("Holding", order_by="Holding.id", foreign_keys="Holding.po_line_id")
    items = db.relationship("Item", order_by="Item.id", foreign_keys="Item.po_line_id")
    pattern = db.relationship("PublicationPattern", back_populates="po_line", uselist=False,
                              cascade="all, delete-orphan")

    __table_args__ = (
        db.CheckConstraint("status IN (" + ",".join(f"'{s}'" for s in POL_STATUSES) + ")", name="status_known"),
        db.CheckConstraint("order_type IN ('one_time','continuous')", name="order_type_known"),
        db.CheckConstraint("material_form IN ('physical','electronic')", name="material_form_known"),
        db.CheckConstraint("packaging IN ('auto','manual')", name="packaging_known"),
        db.CheckConstraint("acquisition_method IN (" + ",".join(f"'{m}'" for m in ACQUISITION_METHODS) + ")",
                           name="acquisition_method_known"),
        db.CheckConstraint("distribution_method IN ('percent','amount')", name="distribution_method_known"),
        db.CheckConstraint("quantity > 0", name="quantity_positive"),
        db.CheckConstraint("list_price >= 0 AND net_price >= 0", name="prices_not_negative"),
        db.Index("ix_po_line_vendor_status", "vendor_id", "status", "id"),
    )

    @property
    def status_label(self) -> str:
        return POL_STATUSES[self.status]

    @property
    def order_type_label(self) -> str:
        return ORDER_TYPES[self.order_type]

    @property
    def material_form_label(self) -> str:
        return MATERIAL_FORMS[self.material_form]

    @property
    def acquisition_method_label(self) -> str:
        return ACQUISITION_METHODS[self.acquisition_method]

    @property
    def is_unpaid(self) -> bool:
        """Gift, exchange, depository or technical: never encumbered nor invoiced."""
        return self.acquisition_method in UNPAID_METHODS

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_one_time(self) -> bool:
        return self.order_type == "one_time"

    @property
    def is_electronic(self) -> bool:
        return self.material_form == "electronic"

    def may(self, action: str) -> bool:
        return may(action, self)

    def move_to(self, action: str) -> tuple[str, str]:
        """Apply ``action`` through the transition table; returns (old, new) status."""
        refuse_unless(action, self)
        old = self.status
        self.status = TRANSITIONS[action][old] if action in TRANSITIONS else old
        return old, self.status

    def __str__(self):
        return f"{self.number} {self.title}"


class PublicationPattern(db.Model):
    """How the issues of a continuous physical order come, to predict its next items
    (:mod:`app.orders.prediction`). ``next_sequence`` is the first issue not yet predicted."""
    __tablename__ = "publication_pattern"

    id = db.Column(db.Integer, primary_key=True)
    po_line_id = db.Column(db.Integer, db.ForeignKey("po_line.id", ondelete="CASCADE"), nullable=False, unique=True)
    frequency = db.Column(db.String(12), nullable=False)
    first_date = db.Column(db.Date)
    first_volume = db.Column(db.Integer)
    first_issue = db.Column(db.Integer, nullable=False, default=1)
    issues_per_volume = db.Column(db.Integer)
    chronology = db.Column(db.String(8), nullable=False, default="month")
    predict_ahead = db.Column(db.Integer, nullable=False, default=3)
    next_sequence = db.Column(db.Integer, nullable=False, default=0)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    updated_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))

    po_line = db.relationship("POLine", back_populates="pattern")

    __table_args__ = (
        db.CheckConstraint("frequency IN (" + ",".join(f"'{k}'" for k in FREQUENCIES) + ")", name="frequency_known"),
        db.CheckConstraint("chronology IN (" + ",".join(f"'{k}'" for k in CHRONOLOGIES) + ")",
                           name="chronology_known"),
        db.CheckConstraint("first_issue >= 1 AND predict_ahead BETWEEN 1 AND 24 AND next_sequence >= 0",
                           name="counts_in_range"),
    )

    def as_pattern(self) -> Pattern:
        return Pattern(self.frequency, self.first_date, self.first_issue, self.first_volume, self.issues_per_volume,
                       self.chronology)

    @property
    def frequency_label(self) -> str:
        return FREQUENCIES[self.frequency][0]


class POLineFund(db.Model):
    """One fund of a line's distribution: its percent or amount, its share of the net price in the
    line's currency, and what was encumbered in the fund's currency when the line was approved."""
    __tablename__ = "po_line_fund"

    id = db.Column(db.Integer, primary_key=True)
    po_line_id = db.Column(db.Integer, db.ForeignKey("po_line.id", ondelete="CASCADE"), nullable=False, index=True)
    fund_id = db.Column(db.Integer, db.ForeignKey("fund.id"), nullable=False, index=True)
    percent = db.Column(Percent())
    amount = db.Column(Money(), nullable=False)          # share of the net price, line currency
    encumbered_amount = db.Column(Money())               # fund currency, set on approval
    encumbered_currency = db.Column(db.String(3))

    po_line = db.relationship("POLine", back_populates="distribution")
    fund = db.relationship("Fund", lazy="joined")

    __table_args__ = (db.UniqueConstraint("po_line_id", "fund_id"),)


class POLineEvent(HistoryEntry, db.Model):
    """One entry of a line's history: who did what when, and for a field change old → new."""
    __tablename__ = "po_line_event"

    id = db.Column(db.Integer, primary_key=True)
    po_line_id = db.Column(db.Integer, db.ForeignKey("po_line.id", ondelete="CASCADE"), nullable=False, index=True)

    po_line = db.relationship("POLine", back_populates="history")


class OutboxEvent(db.Model):
    """A business event other parts of the system react to later (the ERP PO export reads
    ``po_sent``). Written in the same transaction as the change it records."""
    __tablename__ = "outbox_event"

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(40), nullable=False, index=True)
    object_type = db.Column(db.String(40), nullable=False)
    object_id = db.Column(db.Integer, nullable=False)
    occurred_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    actor_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    payload = db.Column(db.JSON, nullable=False, default=dict)


class Communication(db.Model):
    """A thread with the vendor about one PO line: a claim or a general message, and the
    vendor's responses recorded later."""
    __tablename__ = "communication"
    KINDS = {"claim": T("Claim"), "general": T("General")}

    id = db.Column(db.Integer, primary_key=True)
    po_line_id = db.Column(db.Integer, db.ForeignKey("po_line.id", ondelete="CASCADE"), nullable=False, index=True)
    kind = db.Column(db.String(10), nullable=False, default="claim")
    subject = db.Column(db.String(300), nullable=False)
    internal_note = db.Column(db.Text, nullable=False, default="")
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))

    po_line = db.relationship("POLine")
    created_by = db.relationship("User", lazy="joined")
    messages = db.relationship("CommunicationMessage", back_populates="communication",
                               order_by="CommunicationMessage.id", cascade="all, delete-orphan")

    __table_args__ = (db.CheckConstraint("kind IN ('claim','general')", name="kind_known"),)


class CommunicationMessage(db.Model):
    """One message of a thread: ``out`` to the vendor (sent by e-mail) or ``in`` (a response)."""
    __tablename__ = "communication_message"

    id = db.Column(db.Integer, primary_key=True)
    communication_id = db.Column(db.Integer, db.ForeignKey("communication.id", ondelete="CASCADE"),
                                 nullable=False, index=True)
    direction = db.Column(db.String(3), nullable=False)
    to_address = db.Column(db.String(300), nullable=False, default="")
    body = db.Column(db.Text, nullable=False, default="")
    attachment_name = db.Column(db.String(200))     # as uploaded, for display and download
    attachment_path = db.Column(db.String(300))     # relative to instance/attachments/
    sent_at = db.Column(db.DateTime)                # out: when the SMTP server accepted it
    delivery_error = db.Column(db.Text, nullable=False, default="")
    recorded_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    recorded_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))

    communication = db.relationship("Communication", back_populates="messages")
    recorded_by = db.relationship("User", lazy="joined")

    __table_args__ = (db.CheckConstraint("direction IN ('out','in')", name="direction_known"),)
