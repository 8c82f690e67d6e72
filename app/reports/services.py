"""The figures of the reports page: plain rows from SQL aggregates, scoped by the actor's libraries.

Every amount is summed by the database over exact columns (integer cents on SQLite, NUMERIC on
PostgreSQL) and comes back as Decimal. The fund reports read one currency at a time (the filter's):
ledgers of several currencies are never added together. What a report reads:

* months, vendors, ages: the fund transactions of the allocated funds in the filter, grouped by
  day, by the vendor of the PO line or invoice line that caused them, or by order;
* fund types: the funds' balances (allocated, encumbered, expended), which the ledger keeps equal to
  the sums of their transactions (``app.funds.services.check_ledger``);
* invoices: the invoices in scope, by status and by days in their current status.

SQLite has no hash aggregation: a GROUP BY sorts its input, so each report reads the transactions
once and groups as few rows as it can; the month report reads them in date order from the index
``ix_fund_transaction_report``, which holds every column it needs, and so sorts nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from babel.dates import format_skeleton
from sqlalchemy import and_, case, func, literal, select, type_coerce

from .. import clock
from ..auth.permissions import library_scope
from ..errors import NotFound
from ..extensions import db
from ..funds import services as funds
from ..funds.models import FiscalPeriod, Fund, FundTransaction, FundType, Ledger
from ..funds.scope import visible_funds_clause, visible_ledgers_clause
from ..invoices.models import STATUSES, Invoice, InvoiceEvent, InvoiceLine
from ..invoices.services import visible_invoices_clause
from ..orders.models import POLine
from ..org.models import Library
from ..types import Money
from ..text import T, current_language
from ..vendors.models import Vendor

ZERO = Decimal("0.00")
TOP_VENDORS = 10
AGE_BUCKETS = ((0, 30, T("0–30 days")), (31, 90, T("31–90 days")), (91, 180, T("91–180 days")),
               (181, 365, T("181–365 days")), (366, None, T("over 365 days")))
WAIT_BUCKETS = ((0, 7, T("0–7 days")), (8, 30, T("8–30 days")), (31, 60, T("31–60 days")),
                (61, 90, T("61–90 days")), (91, None, T("over 90 days")))
OPEN_STATUSES = tuple(s for s in STATUSES if s != "closed")


@dataclass(frozen=True)
class Filters:
    period: FiscalPeriod
    ledger: Ledger | None
    library: Library | None
    currency: str

    def args(self) -> dict:
        out = {"period": self.period.code}
        if self.ledger:
            out["ledger"] = str(self.ledger.id)
        if self.library:
            out["library"] = self.library.code
        out["currency"] = self.currency
        return out


@dataclass
class Options:
    periods: list
    ledgers: list
    libraries: list
    currencies: list


def options(actor, period: FiscalPeriod) -> Options:
    """What the filters offer ``actor``: the ledgers they see in ``period``, the libraries of their
    scope (every library for an institution-wide role), the currencies of those ledgers."""
    ledgers = db.session.scalars(select(Ledger).where(Ledger.fiscal_period_id == period.id,
                                                      visible_ledgers_clause(actor)).order_by(Ledger.code)).all()
    scope = library_scope(actor)
    libs = select(Library).order_by(Library.code)
    if scope is not None:
        libs = libs.where(Library.id.in_(scope or {0}))
    currencies = sorted({lg.currency for lg in ledgers})
    return Options(funds.fiscal_periods(), ledgers, db.session.scalars(libs).all(), currencies)


def resolve(actor, period: str | None, ledger: str | None, library: str | None, currency: str | None) -> Filters:
    """The filters of a request: unknown or out-of-scope values are NotFound (404), like elsewhere."""
    fp = funds.get_fiscal_period(period) if period else funds.current_fiscal_period()
    if fp is None:
        raise NotFound(T("There is no fiscal period yet: create one first."))
    opts = options(actor, fp)
    lg = lib = None
    if ledger:
        lg = next((x for x in opts.ledgers if str(x.id) == ledger or x.code == ledger), None)
        if lg is None:
            raise NotFound(T("Ledger %(ledger)s is not in fiscal period %(period)s, or not yours to see.",
                             ledger=ledger, period=fp.code))
    if library:
        lib = next((x for x in opts.libraries if x.code == library or str(x.id) == library), None)
        if lib is None:
            raise NotFound(T("Library %(library)s is not one you may report on.", library=library))
    if lg is not None:
        cur = lg.currency
    elif currency and currency in opts.currencies:
        cur = currency
    elif opts.currencies:
        cur = _main_currency(opts.ledgers)
    else:
        cur = currency or "EUR"
    return Filters(fp, lg, lib, cur)


def _main_currency(ledgers) -> str:
    counts: dict[str, int] = {}
    for lg in ledgers:
        counts[lg.currency] = counts.get(lg.currency, 0) + 1
    return max(sorted(counts), key=lambda c: counts[c])


def fund_ids(actor, f: Filters):
    """The allocated funds in the filter that ``actor`` sees (a subquery of ids)."""
    q = (select(Fund.id).join(Ledger, Ledger.id == Fund.ledger_id)
         .where(Fund.fiscal_period_id == f.period.id, Fund.kind == "allocated", Ledger.currency == f.currency,
                visible_funds_clause(actor)))
    if f.ledger:
        q = q.where(Fund.ledger_id == f.ledger.id)
    if f.library:
        q = q.where(Fund.owner_library_id == f.library.id)
    return q


def _in_funds(actor, f: Filters):
    # "+ 0": read the transactions in one pass and test each against the list of funds; through the
    # fund_id index SQLite would jump back and forth in the table, 1.5 times slower.
    t = FundTransaction
    return and_((t.fund_id + 0).in_(fund_ids(actor, f).scalar_subquery()), t.currency == f.currency)


def _sum(expr):
    return type_coerce(func.coalesce(func.sum(expr), 0), Money())


def _measures():
    t = FundTransaction
    alloc = case((t.kind.in_(("allocation", "transfer")), t.amount), else_=literal(0, Money()))
    enc = case((t.kind == "encumbrance", t.amount), (t.kind == "disencumbrance", -t.amount), else_=literal(0, Money()))
    exp = case((t.kind == "expenditure", t.amount), else_=literal(0, Money()))
    return alloc, enc, exp


# -- 1. by month ------------------------------------------------------------------------------

@dataclass
class MonthRow:
    month: date             # its first day
    allocated: Decimal      # posted in the month
    encumbered: Decimal     # net: encumbrances less releases
    expended: Decimal
    cum_allocated: Decimal = ZERO
    cum_encumbered: Decimal = ZERO
    cum_expended: Decimal = ZERO

    @property
    def label(self) -> str:
        """The month as the reader's language writes it: Dec 2026, 2026年12月 (English in the API)."""
        return format_skeleton("yMMM", self.month, locale=current_language())

    @property
    def short_label(self) -> str:
        """The month alone (the chart's axis): Dec, 12月."""
        return format_skeleton("MMM", self.month, locale=current_language())

    @property
    def available(self) -> Decimal:
        return self.cum_allocated - self.cum_encumbered - self.cum_expended


def months_of(period: FiscalPeriod) -> list[date]:
    out, m = [], date(period.start_date.year, period.start_date.month, 1)
    while m <= period.end_date:
        out.append(m)
        m = (m + timedelta(days=32)).replace(day=1)
    return out


def by_month(actor, f: Filters) -> list[MonthRow]:
    """Each month of the period: what was allocated, encumbered (net) and expended in it, and the
    running totals. Postings dated outside the period count in its first or last month."""
    t = FundTransaction
    alloc, enc, exp = _measures()
    rows = db.session.execute(
        select(t.transaction_date, _sum(alloc), _sum(enc), _sum(exp))
        .where(_in_funds(actor, f)).group_by(t.transaction_date)).all()
    months = months_of(f.period)
    out = {m: MonthRow(m, ZERO, ZERO, ZERO) for m in months}
    first, last = months[0], months[-1]
    for day, a, e, x in rows:
        m = min(max(date(day.year, day.month, 1), first), last)
        r = out[m]
        r.allocated += a
        r.encumbered += e
        r.expended += x
    ca = ce = cx = ZERO
    for m in months:
        r = out[m]
        ca, ce, cx = ca + r.allocated, ce + r.encumbered, cx + r.expended
        r.cum_allocated, r.cum_encumbered, r.cum_expended = ca, ce, cx
    return [out[m] for m in months]


# -- 2. by vendor -----------------------------------------------------------------------------

@dataclass
class VendorRow:
    code: str
    name: str
    encumbered: Decimal
    expended: Decimal
    kind: str = "vendor"        # vendor | others | none

    @property
    def total(self) -> Decimal:
        return self.encumbered + self.expended


def by_vendor(actor, f: Filters, top: int = TOP_VENDORS) -> list[VendorRow]:
    """Encumbered (open) and expended per vendor, the ``top`` biggest by their sum, then the rest as
    "Other vendors", then what no PO line or invoice line caused (direct postings)."""
    t = FundTransaction
    _, enc, exp = _measures()
    spending = t.kind.in_(("encumbrance", "disencumbrance", "expenditure"))
    # First per line, in the order of the index ix_fund_transaction_sourced (no sort), then the
    # lines (far fewer than their postings) per vendor.
    per_line = (select(t.source_type.label("type"), t.source_id.label("id"), _sum(enc).label("enc"),
                       _sum(exp).label("exp"))
                .where(t.source_id.is_not(None), _in_funds(actor, f), spending)
                .group_by(t.source_type, t.source_id).subquery())
    from_invoice = (select(Invoice.vendor_id).join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
                    .where(InvoiceLine.id == per_line.c.id).scalar_subquery())
    from_pol = select(POLine.vendor_id).where(POLine.id == per_line.c.id).scalar_subquery()
    vendor = case((per_line.c.type == "invoice_line", from_invoice), (per_line.c.type == "po_line", from_pol))
    grouped = db.session.execute(
        select(vendor.label("vendor_id"), type_coerce(func.sum(per_line.c.enc), Money()),
               type_coerce(func.sum(per_line.c.exp), Money())).group_by(vendor)).all()
    by_hand = db.session.execute(select(_sum(enc), _sum(exp)).where(t.source_id.is_(None), _in_funds(actor, f),
                                                                    spending)).one()
    names = dict((vid, (code, name)) for vid, code, name in db.session.execute(
        select(Vendor.id, Vendor.code, Vendor.name).where(Vendor.id.in_([g[0] for g in grouped if g[0]]))))
    rows, (direct_enc, direct_exp) = [], by_hand
    for vid, e, x in grouped:
        if vid in names:
            rows.append(VendorRow(*names[vid], e, x))
        else:       # a direct posting, or the line is gone
            direct_enc, direct_exp = direct_enc + e, direct_exp + x
    rows = [r for r in rows if r.encumbered or r.expended]
    rows.sort(key=lambda r: (-r.total, r.code))
    out, rest = rows[:top], rows[top:]
    if rest:
        out.append(VendorRow("", T("Other vendors (%(count)s)", count=len(rest)), sum((r.encumbered for r in rest), ZERO),
                             sum((r.expended for r in rest), ZERO), "others"))
    if direct_enc or direct_exp:
        out.append(VendorRow("", T("No vendor (direct postings)"), direct_enc, direct_exp, "none"))
    return out


# -- 3. by fund type --------------------------------------------------------------------------

@dataclass
class FundTypeRow:
    code: str
    name: str
    funds: int
    allocated: Decimal
    encumbered: Decimal
    expended: Decimal

    @property
    def available(self) -> Decimal:
        return self.allocated - self.encumbered - self.expended


def by_fund_type(actor, f: Filters) -> list[FundTypeRow]:
    """The funds' balances per fund type (funds without one last, as "No fund type")."""
    ids = fund_ids(actor, f).scalar_subquery()
    rows = db.session.execute(
        select(FundType.code, FundType.name, func.count(Fund.id), _sum(Fund.allocated), _sum(Fund.encumbered),
               _sum(Fund.expended))
        .select_from(Fund).outerjoin(FundType, FundType.id == Fund.fund_type_id)
        .where(Fund.id.in_(ids)).group_by(FundType.code, FundType.name)).all()
    out = [FundTypeRow(code or "", name or T("No fund type"), n, a, e, x) for code, name, n, a, e, x in rows]
    out.sort(key=lambda r: (not r.code, -(r.encumbered + r.expended), r.code))
    return out


# -- 4. open encumbrances by age --------------------------------------------------------------

@dataclass
class AgeRow:
    label: str
    low: int
    high: int | None
    orders: int
    amount: Decimal


def by_age(actor, f: Filters, today: date | None = None) -> list[AgeRow]:
    """What is still encumbered, per order and fund, by the age of the order's first encumbrance.
    An order is its PO line (or, for a posting without one, its reference)."""
    today = today or clock.today()
    t = FundTransaction
    signed = case((t.kind == "encumbrance", t.amount), else_=-t.amount)
    found: dict = {}
    # An order caused by a line is its source; one posted by hand, its reference. Each kind is
    # grouped in the order of its own index (ix_fund_transaction_sourced / _by_hand), so neither sorts.
    for keys, which in (((t.source_type, t.source_id), t.source_id.is_not(None)),
                        ((t.reference,), t.source_id.is_(None))):
        per_order = (select(*keys, t.fund_id, _sum(signed).label("open"), func.min(t.transaction_date).label("since"))
                     .where(which, _in_funds(actor, f), t.kind.in_(("encumbrance", "disencumbrance")))
                     .group_by(*keys, t.fund_id).having(func.sum(signed) > 0)
                     .subquery())
        whens = [(per_order.c.since >= today - timedelta(days=high), i)
                 for i, (_, high, _) in enumerate(AGE_BUCKETS) if high is not None]
        bucket = case(*whens, else_=len(AGE_BUCKETS) - 1)
        for b, n, amount in db.session.execute(
                select(bucket, func.count(), type_coerce(func.sum(per_order.c.open), Money())).group_by(bucket)):
            count, total = found.get(b, (0, ZERO))
            found[b] = (count + n, total + amount)
    return [AgeRow(label, low, high, *found.get(i, (0, ZERO))) for i, (low, high, label) in enumerate(AGE_BUCKETS)]


# -- 5. invoices ------------------------------------------------------------------------------

@dataclass
class StatusRow:
    status: str
    label: str
    currency: str
    invoices: int
    amount: Decimal


@dataclass
class WaitRow:
    label: str
    low: int
    high: int | None
    invoices: int
    by_status: dict = field(default_factory=dict)      # status -> count


def _invoice_filter(actor, f: Filters):
    """Invoices in scope dated in the period (their invoice date), of the library filtered."""
    where = [visible_invoices_clause(actor), Invoice.invoice_date >= f.period.start_date,
             Invoice.invoice_date <= f.period.end_date]
    if f.library:
        where.append(Invoice.owner_library_id == f.library.id)
    elif f.ledger and f.ledger.owner_library_id:
        where.append(Invoice.owner_library_id == f.ledger.owner_library_id)
    return and_(*where)


def invoices_by_status(actor, f: Filters) -> list[StatusRow]:
    rows = db.session.execute(
        select(Invoice.status, Invoice.currency, func.count(), _sum(Invoice.total_amount))
        .where(_invoice_filter(actor, f)).group_by(Invoice.status, Invoice.currency)).all()
    order = list(STATUSES)
    out = [StatusRow(s, STATUSES[s], cur, n, amount) for s, cur, n, amount in rows]
    out.sort(key=lambda r: (order.index(r.status), r.currency))
    return out


def invoices_waiting(actor, f: Filters, now: datetime | None = None) -> list[WaitRow]:
    """Open invoices (not closed) by the days since they entered their current status: their last
    status change, or their creation when they never changed."""
    now = now or datetime.combine(clock.today(), time.max)
    last_move = (select(func.max(InvoiceEvent.at)).where(InvoiceEvent.invoice_id == Invoice.id,
                                                         InvoiceEvent.field == "status")
                 .correlate(Invoice).scalar_subquery())
    since = func.coalesce(last_move, Invoice.created_at)
    whens = []
    for i, (low, high, _) in enumerate(WAIT_BUCKETS):
        if high is not None:
            start_of = datetime.combine(now.date() - timedelta(days=high), time.min)
            whens.append((since >= start_of, i))
    bucket = case(*whens, else_=len(WAIT_BUCKETS) - 1)
    found: dict[int, dict] = {}
    for b, status, n in db.session.execute(
            select(bucket, Invoice.status, func.count())
            .where(_invoice_filter(actor, f), Invoice.status.in_(OPEN_STATUSES)).group_by(bucket, Invoice.status)):
        found.setdefault(b, {})[status] = n
    return [WaitRow(label, low, high, sum(found.get(i, {}).values()), found.get(i, {}))
            for i, (low, high, label) in enumerate(WAIT_BUCKETS)]
