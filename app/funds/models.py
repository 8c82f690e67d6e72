"""Fiscal periods, ledgers, summary and allocated funds, fund types and fund transactions."""
from decimal import Decimal

from sqlalchemy import event, text

from ..auth.models import HistoryEntry
from ..clock import utcnow
from ..extensions import db
from ..ledger import Balance, FundRules
from ..text import T
from ..types import Money, Percent

ledger_availability = db.Table(
    "ledger_availability",
    db.Column("ledger_id", db.Integer, db.ForeignKey("ledger.id", ondelete="CASCADE"), primary_key=True),
    db.Column("library_id", db.Integer, db.ForeignKey("library.id"), primary_key=True),
)
fund_availability = db.Table(
    "fund_availability",
    db.Column("fund_id", db.Integer, db.ForeignKey("fund.id", ondelete="CASCADE"), primary_key=True),
    db.Column("library_id", db.Integer, db.ForeignKey("library.id"), primary_key=True),
)


PERIOD_STATUSES = {"active": T("Active"), "inactive": T("Inactive"), "closed": T("Closed")}
# The same in the middle of a sentence ("… which is closed: …"; a ledger's status in a table).
PERIOD_STATE_WORDS = {"active": T("active"), "inactive": T("inactive"), "closed": T("closed")}


class FiscalPeriod(db.Model):
    """A fiscal year. *active*: open for every posting; *inactive*: takes no postings at all;
    *closed* (the year is over, set by an administrator): takes no new encumbrances, allocations or
    transfers, releases still go through, and an expenditure only when an administrator approves it
    with a reason (a late invoice)."""
    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(20), nullable=False, unique=True)
    name = db.Column(db.String(200), nullable=False)
    start_date = db.Column(db.Date, nullable=False)
    end_date = db.Column(db.Date, nullable=False)
    status = db.Column(db.String(10), nullable=False, default="active")

    __table_args__ = (
        db.CheckConstraint("start_date < end_date", name="dates_ordered"),
        db.CheckConstraint("status IN ('active','inactive','closed')", name="status_known"),
    )

    history = db.relationship("FiscalPeriodEvent", back_populates="fiscal_period",
                              order_by="FiscalPeriodEvent.id.desc()", lazy="select")

    @property
    def is_open(self) -> bool:
        """Open for new orders, invoices, allocations and transfers."""
        return self.status == "active"

    @property
    def status_label(self) -> str:
        return PERIOD_STATUSES.get(self.status, self.status)

    def contains(self, day) -> bool:
        return self.start_date <= day <= self.end_date

    def __str__(self):
        return f"{self.name} ({self.start_date.isoformat()} – {self.end_date.isoformat()})"   # ISO, as pages show dates


class FiscalPeriodEvent(HistoryEntry, db.Model):
    """A fiscal period's history: closed, reopened (with the reason in ``note``)."""
    __tablename__ = "fiscal_period_event"

    id = db.Column(db.Integer, primary_key=True)
    fiscal_period_id = db.Column(db.Integer, db.ForeignKey("fiscal_period.id", ondelete="CASCADE"), nullable=False,
                                 index=True)

    fiscal_period = db.relationship("FiscalPeriod", back_populates="history")


class FundType(db.Model):
    """The library's own list of fund types (ENDOW, GIFT, GRANT, ...)."""
    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(20), nullable=False, unique=True)
    name = db.Column(db.String(100), nullable=False)


class Ledger(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(40), nullable=False)
    name = db.Column(db.String(200), nullable=False)
    fiscal_period_id = db.Column(db.Integer, db.ForeignKey("fiscal_period.id"), nullable=False, index=True)
    currency = db.Column(db.String(3), nullable=False)
    owner_library_id = db.Column(db.Integer, db.ForeignKey("library.id"))  # NULL: the institution
    available_to_all = db.Column(db.Boolean, nullable=False, default=True)
    notes = db.Column(db.Text, nullable=False, default="")

    fiscal_period = db.relationship("FiscalPeriod", lazy="joined")
    owner = db.relationship("Library", lazy="joined")
    libraries = db.relationship("Library", secondary=ledger_availability, lazy="selectin",
                                order_by="Library.code")
    funds = db.relationship("Fund", back_populates="ledger", order_by="Fund.code")

    __table_args__ = (db.UniqueConstraint("fiscal_period_id", "code"),)

    @property
    def status(self) -> str:
        """A ledger is active exactly when its fiscal period is."""
        return self.fiscal_period.status

    @property
    def owner_label(self) -> str:
        return str(self.owner) if self.owner else T("Institution")

    def __str__(self):
        return f"{self.name} ({self.code})"


class Fund(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(40), nullable=False)
    name = db.Column(db.String(200), nullable=False)
    fiscal_period_id = db.Column(db.Integer, db.ForeignKey("fiscal_period.id"), nullable=False, index=True)
    ledger_id = db.Column(db.Integer, db.ForeignKey("ledger.id"), nullable=False, index=True)
    parent_id = db.Column(db.Integer, db.ForeignKey("fund.id"), index=True)  # NULL: directly under the ledger
    kind = db.Column(db.String(10), nullable=False)  # summary | allocated
    external_id = db.Column(db.String(100), nullable=False, default="", index=True)
    fund_type_id = db.Column(db.Integer, db.ForeignKey("fund_type.id"))
    status = db.Column(db.String(10), nullable=False, default="active")
    notes = db.Column(db.Text, nullable=False, default="")
    overencumbrance_allowed = db.Column(db.Boolean, nullable=False, default=False)
    overencumbrance_limit_percent = db.Column(Percent(), nullable=False, default=Decimal("0"))
    overexpenditure_allowed = db.Column(db.Boolean, nullable=False, default=False)
    overexpenditure_limit = db.Column(Money(), nullable=False, default=Decimal("0"))
    owner_library_id = db.Column(db.Integer, db.ForeignKey("library.id"))  # follows the ledger's owner
    available_to_all = db.Column(db.Boolean, nullable=False, default=True)
    # Left out of the fiscal-year rollover (with its subtree); the rollover report says so.
    do_not_roll_over = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    # Balances cached from fund_transaction, updated in the same transaction as each posting
    # under the fund's lock; `flask ledger check` rebuilds them and reports any difference.
    allocated = db.Column(Money(), nullable=False, default=Decimal("0"))
    encumbered = db.Column(Money(), nullable=False, default=Decimal("0"))
    expended = db.Column(Money(), nullable=False, default=Decimal("0"))

    fiscal_period = db.relationship("FiscalPeriod", lazy="joined")
    ledger = db.relationship("Ledger", back_populates="funds", lazy="joined")
    parent = db.relationship("Fund", remote_side=[id], back_populates="children")
    children = db.relationship("Fund", back_populates="parent", order_by="Fund.code")
    fund_type = db.relationship("FundType", lazy="joined")
    owner = db.relationship("Library")
    libraries = db.relationship("Library", secondary=fund_availability, lazy="selectin",
                                order_by="Library.code")

    __table_args__ = (
        db.UniqueConstraint("fiscal_period_id", "code"),
        db.CheckConstraint("kind IN ('summary','allocated')", name="kind_known"),
        db.CheckConstraint("status IN ('active','inactive')", name="status_known"),
        db.CheckConstraint("overencumbrance_limit_percent >= 0", name="overencumbrance_nonnegative"),
        db.CheckConstraint("overexpenditure_limit >= 0", name="overexpenditure_nonnegative"),
    )

    @property
    def currency(self) -> str:
        return self.ledger.currency

    @property
    def is_summary(self) -> bool:
        return self.kind == "summary"

    @property
    def balance(self) -> Balance:
        return Balance(self.allocated, self.encumbered, self.expended)

    @property
    def rules(self) -> FundRules:
        return FundRules(self.overencumbrance_allowed, self.overencumbrance_limit_percent,
                         self.overexpenditure_allowed, self.overexpenditure_limit)

    @property
    def label(self) -> str:
        return f"{self.code} ({self.name})"

    def path(self) -> list["Fund"]:
        """Ancestors from the top summary fund down to this fund."""
        chain, node = [], self
        while node is not None:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))

    def __str__(self):
        return self.label


class FundTransaction(db.Model):
    """One money movement. Rows are never changed or deleted; corrections are new rows."""
    id = db.Column(db.Integer, primary_key=True)
    fund_id = db.Column(db.Integer, db.ForeignKey("fund.id"), nullable=False)
    kind = db.Column(db.String(16), nullable=False)
    amount = db.Column(Money(), nullable=False)
    currency = db.Column(db.String(3), nullable=False)
    transaction_date = db.Column(db.Date, nullable=False)
    reference = db.Column(db.String(100), nullable=False, default="")
    note = db.Column(db.Text, nullable=False, default="")
    actor_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    transfer_id = db.Column(db.String(36), index=True)  # shared by the two legs of a transfer
    counterpart_fund_id = db.Column(db.Integer, db.ForeignKey("fund.id"))
    source_type = db.Column(db.String(32))  # what caused it: po_line, invoice_line, ... (later issues)
    source_id = db.Column(db.Integer)

    fund = db.relationship("Fund", foreign_keys=[fund_id])
    counterpart_fund = db.relationship("Fund", foreign_keys=[counterpart_fund_id], lazy="joined")
    actor = db.relationship("User", lazy="joined")

    __table_args__ = (
        db.Index("ix_fund_transaction_fund_id_id", "fund_id", "id"),
        # The reports (app/reports): every column they read, in date order, so the spending by month
        # groups without sorting and no report reads the table's wide rows.
        db.Index("ix_fund_transaction_report", "transaction_date", "kind", "currency", "fund_id", "amount",
                 "source_type", "source_id"),
        # The open encumbrances by age: the postings grouped per order (a line, or a reference for
        # a posting made by hand) and fund, in the order of the grouping.
        db.Index("ix_fund_transaction_sourced", "source_type", "source_id", "fund_id", "kind", "currency", "amount",
                 "transaction_date", sqlite_where=text("source_id IS NOT NULL"),
                 postgresql_where=text("source_id IS NOT NULL")),
        db.Index("ix_fund_transaction_by_hand", "reference", "fund_id", "kind", "currency", "amount",
                 "transaction_date", sqlite_where=text("source_id IS NULL"), postgresql_where=text("source_id IS NULL")),
        db.CheckConstraint("kind IN ('allocation','transfer','encumbrance','disencumbrance','expenditure')",
                           name="kind_known"),
        db.CheckConstraint("amount <> 0", name="amount_nonzero"),
    )


class AppendOnlyError(RuntimeError):
    pass


@event.listens_for(FundTransaction, "before_update")
def _refuse_update(mapper, connection, target):
    raise AppendOnlyError("fund transactions are append-only; post a correcting transaction instead")


@event.listens_for(FundTransaction, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise AppendOnlyError("fund transactions are append-only; post a correcting transaction instead")


# -- fiscal-year rollover ----------------------------------------------------------------------

class Rollover(db.Model):
    """One rollover from a source to a later target period: its rules, who ran it, and (in its
    rows) everything it made, so the report can be shown again and the rollover undone. A preview
    runs the same code and is rolled back; the page's previews are then kept as status "preview"
    (app.funds.rollover: without the ledgers' rows, nor what the preview made)."""
    STATUSES = {"preview": T("Preview"), "committed": T("Committed"), "undone": T("Undone")}

    id = db.Column(db.Integer, primary_key=True)
    source_period_id = db.Column(db.Integer, db.ForeignKey("fiscal_period.id"), nullable=False, index=True)
    target_period_id = db.Column(db.Integer, db.ForeignKey("fiscal_period.id"), nullable=False, index=True)
    status = db.Column(db.String(10), nullable=False, default="committed")
    fund_rules = db.Column(db.JSON, nullable=False, default=dict)    # app.ledger.rollover.LedgerRules.to_dict()
    line_rules = db.Column(db.JSON, nullable=False, default=dict)    # app.ledger.rollover.LineRules.to_dict()
    # The highest fund transaction id before it posted: anything later on its target funds that is
    # not its own was posted by someone else, and undo is refused.
    watermark = db.Column(db.Integer, nullable=False, default=0)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    undone_at = db.Column(db.DateTime)
    undone_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))

    source_period = db.relationship("FiscalPeriod", foreign_keys=[source_period_id], lazy="joined")
    target_period = db.relationship("FiscalPeriod", foreign_keys=[target_period_id], lazy="joined")
    created_by = db.relationship("User", foreign_keys=[created_by_id])
    undone_by = db.relationship("User", foreign_keys=[undone_by_id])
    ledgers = db.relationship("RolloverLedger", back_populates="rollover", order_by="RolloverLedger.id",
                              cascade="all, delete-orphan")
    funds = db.relationship("RolloverFund", back_populates="rollover", order_by="RolloverFund.id",
                            cascade="all, delete-orphan")
    lines = db.relationship("RolloverLine", back_populates="rollover", order_by="RolloverLine.id",
                            cascade="all, delete-orphan")

    __table_args__ = (
        db.CheckConstraint("status IN ('preview','committed','undone')", name="status_known"),
        db.CheckConstraint("source_period_id <> target_period_id", name="periods_differ"),
    )


class RolloverLedger(db.Model):
    """A ledger of the source and its counterpart in the target (``created``: made by the rollover)."""
    id = db.Column(db.Integer, primary_key=True)
    rollover_id = db.Column(db.Integer, db.ForeignKey("rollover.id", ondelete="CASCADE"), nullable=False, index=True)
    source_ledger_id = db.Column(db.Integer, db.ForeignKey("ledger.id"), nullable=False)
    target_ledger_id = db.Column(db.Integer, db.ForeignKey("ledger.id"), nullable=False)
    created = db.Column(db.Boolean, nullable=False, default=False)

    rollover = db.relationship("Rollover", back_populates="ledgers")
    source_ledger = db.relationship("Ledger", foreign_keys=[source_ledger_id])
    target_ledger = db.relationship("Ledger", foreign_keys=[target_ledger_id])


class RolloverFund(db.Model):
    """One fund of the source: its figures, what the target was given, or why it was skipped.
    ``left`` (allocated − expended) = ``carried`` + ``not_carried``."""
    id = db.Column(db.Integer, primary_key=True)
    rollover_id = db.Column(db.Integer, db.ForeignKey("rollover.id", ondelete="CASCADE"), nullable=False, index=True)
    source_fund_id = db.Column(db.Integer, db.ForeignKey("fund.id"), nullable=False)
    target_fund_id = db.Column(db.Integer, db.ForeignKey("fund.id"))    # NULL: skipped
    code = db.Column(db.String(40), nullable=False)
    ledger_code = db.Column(db.String(40), nullable=False)
    kind = db.Column(db.String(10), nullable=False)
    created = db.Column(db.Boolean, nullable=False, default=False)
    allocated = db.Column(Money(), nullable=False)      # the source's figures at the rollover
    expended = db.Column(Money(), nullable=False)
    encumbered = db.Column(Money(), nullable=False)
    new_allocation = db.Column(Money(), nullable=False)
    carried = db.Column(Money(), nullable=False)
    not_carried = db.Column(Money(), nullable=False)
    skip_reason = db.Column(db.String(40))              # app.ledger.rollover.REASONS
    allocation_transaction_id = db.Column(db.Integer, db.ForeignKey("fund_transaction.id"))
    carry_transaction_id = db.Column(db.Integer, db.ForeignKey("fund_transaction.id"))

    rollover = db.relationship("Rollover", back_populates="funds")
    source_fund = db.relationship("Fund", foreign_keys=[source_fund_id])
    target_fund = db.relationship("Fund", foreign_keys=[target_fund_id])

    @property
    def left(self) -> Decimal:
        return self.allocated - self.expended


class RolloverLine(db.Model):
    """One fund of an open PO line's distribution: moved (released in the source, encumbered in the
    target, the distribution pointed at the target fund) or reported with its reason and left as it
    was. ``old_encumbered_amount`` is what the distribution row held before, for undo."""
    id = db.Column(db.Integer, primary_key=True)
    rollover_id = db.Column(db.Integer, db.ForeignKey("rollover.id", ondelete="CASCADE"), nullable=False, index=True)
    po_line_id = db.Column(db.Integer, db.ForeignKey("po_line.id"), nullable=False, index=True)
    distribution_id = db.Column(db.Integer, db.ForeignKey("po_line_fund.id"), nullable=False)
    order_type = db.Column(db.String(12), nullable=False)
    source_fund_id = db.Column(db.Integer, db.ForeignKey("fund.id"), nullable=False)
    target_fund_id = db.Column(db.Integer, db.ForeignKey("fund.id"))    # NULL: no counterpart
    remaining = db.Column(Money(), nullable=False)      # outstanding in the source before
    old_encumbered_amount = db.Column(Money())
    released = db.Column(Money(), nullable=False)
    encumbered = db.Column(Money(), nullable=False)
    reason = db.Column(db.String(40))                   # NULL: moved; else app.ledger.rollover.REASONS
    detail = db.Column(db.Text, nullable=False, default="")
    release_transaction_id = db.Column(db.Integer, db.ForeignKey("fund_transaction.id"))
    encumbrance_transaction_id = db.Column(db.Integer, db.ForeignKey("fund_transaction.id"))

    rollover = db.relationship("Rollover", back_populates="lines")
    po_line = db.relationship("POLine")
    source_fund = db.relationship("Fund", foreign_keys=[source_fund_id])
    target_fund = db.relationship("Fund", foreign_keys=[target_fund_id])

    @property
    def moved(self) -> bool:
        return self.reason is None
