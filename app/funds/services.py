"""Every change to fiscal periods, ledgers, funds and fund money goes through these functions.

They take an explicit ``actor``, enforce the rules (through ``app.ledger`` for money), flush, and
raise :mod:`app.errors` exceptions with messages meant for people. Callers commit.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel.numbers import is_currency
from sqlalchemy import case, func, select
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import set_committed_value

from .. import clock
from ..auth.models import Role
from ..auth.permissions import MONEY_MANAGERS, can_manage_money, require_institution_role
from .scope import visible_funds_clause, visible_ledgers_clause
from ..errors import Duplicate, Forbidden, InvalidInput, NotFound, RuleViolation
from ..text import T
from ..extensions import db
from ..database import insert_rows, is_postgres, next_ids, update_rows
from ..ledger import AmountError, Balance, InvalidPosting, LimitExceeded, TransactionKind, check_posting, minor_unit, parse_amount
from ..org.models import Library
from ..ids import parse_id
from .models import PERIOD_STATE_WORDS, PERIOD_STATUSES, FiscalPeriod, FiscalPeriodEvent, Fund, FundTransaction, FundType, Ledger

SUPPORTED_MAX_DECIMALS = 2  # money columns are NUMERIC(14,2)
# -- lookups honouring scope ------------------------------------------------------------------

def visible_funds(user):
    return select(Fund).where(visible_funds_clause(user))


SEARCH_LIMIT = 100


def search_funds(user, text: str):
    """The fund search: visible funds with ``text`` in their code, name or external id, latest
    fiscal period first, at most :data:`SEARCH_LIMIT` (a query)."""
    like = f"%{text}%"
    return (visible_funds(user).where(Fund.code.ilike(like) | Fund.name.ilike(like) | Fund.external_id.ilike(like))
            .order_by(Fund.fiscal_period_id.desc(), Fund.code).limit(SEARCH_LIMIT))


def chargeable_funds(user, on: date | None = None) -> list[Fund]:
    """The active allocated funds ``user`` may see in open fiscal periods (active, not closed):
    what an order or an invoice line may be charged to. ``on``: only the periods covering that day
    (the document's date: today for a PO line or a transfer, an invoice's invoice date)."""
    q = (visible_funds(user).join(FiscalPeriod, FiscalPeriod.id == Fund.fiscal_period_id)
         .where(Fund.kind == "allocated", Fund.status == "active", FiscalPeriod.status == "active"))
    if on is not None:
        q = q.where(FiscalPeriod.start_date <= on, FiscalPeriod.end_date >= on)
    return db.session.scalars(q.order_by(Fund.code, Fund.id)).all()


def other_period_warning(fund: Fund, on: date) -> str:
    """What a form says next to a fund chosen on purpose outside the open period covering ``on``
    ("" when the fund is of such a period)."""
    period = fund.fiscal_period
    if period.is_open and period.contains(on):
        return ""
    return T("Fund %(code)s belongs to fiscal period %(period)s (%(start)s – %(end)s, %(status)s), not to an open "
             "period covering %(day)s.", code=fund.code, period=period.code, start=period.start_date.isoformat(),
             end=period.end_date.isoformat(), status=PERIOD_STATE_WORDS.get(period.status, period.status),
             day=on.isoformat())


def get_fund(user, fund_id) -> Fund:
    fund_id = parse_id(fund_id)
    fund = db.session.scalar(visible_funds(user).where(Fund.id == fund_id)) if fund_id else None
    if fund is None:
        raise NotFound(T("No such fund."))
    return fund


def find_fund(user, ref, fiscal_period: FiscalPeriod | None = None, field: str = "fund") -> Fund:
    """A visible fund by id (an int) or by code (a string) within ``fiscal_period``."""
    return _find(Fund, visible_funds(user), get_fund, user, ref, fiscal_period, field)


def _find(model, visible, get, user, ref, fiscal_period, field):
    """Shared by find_fund and find_ledger: an int is an id, a string a code (numeric codes exist)."""
    if isinstance(ref, int):
        found = get(user, ref)
        if fiscal_period is not None and found.fiscal_period_id != fiscal_period.id:
            raise InvalidInput(T("Fund %(code)s is not in fiscal period %(period)s.", code=found.code,
                                 period=fiscal_period.code) if model is Fund else
                               T("Ledger %(code)s is not in fiscal period %(period)s.", code=found.code,
                                 period=fiscal_period.code), field)
        return found
    q = visible.where(model.code == str(ref))
    if fiscal_period is not None:
        q = q.where(model.fiscal_period_id == fiscal_period.id)
    rows = db.session.scalars(q).all()
    if not rows:
        if fiscal_period is not None:
            raise NotFound(T("No fund %(ref)s in fiscal period %(period)s.", ref=ref, period=fiscal_period.code)
                           if model is Fund else
                           T("No ledger %(ref)s in fiscal period %(period)s.", ref=ref, period=fiscal_period.code))
        raise NotFound(T("No fund %(ref)s.", ref=ref) if model is Fund else T("No ledger %(ref)s.", ref=ref))
    if len(rows) > 1:
        raise InvalidInput(T("Fund code %(ref)s is used in several fiscal periods; give fiscal_period.", ref=ref)
                           if model is Fund else
                           T("Ledger code %(ref)s is used in several fiscal periods; give fiscal_period.", ref=ref),
                           field)
    return rows[0]


def get_ledger(user, ledger_id) -> Ledger:
    ledger_id = parse_id(ledger_id)
    ledger = db.session.scalar(select(Ledger).where(visible_ledgers_clause(user), Ledger.id == ledger_id)) \
        if ledger_id else None
    if ledger is None:
        raise NotFound(T("No such ledger."))
    return ledger


def find_ledger(user, ref, fiscal_period: FiscalPeriod | None = None, field: str = "ledger") -> Ledger:
    """A visible ledger by id (an int) or by code (a string) within ``fiscal_period``."""
    return _find(Ledger, select(Ledger).where(visible_ledgers_clause(user)), get_ledger, user, ref, fiscal_period,
                 field)


def get_fiscal_period(ref) -> FiscalPeriod:
    """A fiscal period by code, or by id for digits that are no period's code."""
    if isinstance(ref, FiscalPeriod):
        return ref
    fp = db.session.scalar(select(FiscalPeriod).where(FiscalPeriod.code == str(ref)))
    if fp is None and parse_id(ref):
        fp = db.session.get(FiscalPeriod, parse_id(ref))
    if fp is None:
        raise NotFound(T("No fiscal period %(ref)s.", ref=ref))
    return fp


def fiscal_periods() -> list[FiscalPeriod]:
    return db.session.scalars(select(FiscalPeriod).order_by(FiscalPeriod.start_date.desc())).all()


def current_fiscal_period(today: date | None = None) -> FiscalPeriod | None:
    today = today or clock.today()
    periods = fiscal_periods()
    for fp in periods:
        if fp.contains(today):
            return fp
    return periods[0] if periods else None


# -- validation helpers ---------------------------------------------------------------------

def _require_code(code: str, what: str, max_len: int = 40) -> str:
    code = (code or "").strip()
    if not code or len(code) > max_len or any(c.isspace() for c in code):
        raise InvalidInput({
            "fiscal period": T("A fiscal period code is 1–%(max)s characters without spaces.", max=max_len),
            "fund type": T("A fund type code is 1–%(max)s characters without spaces.", max=max_len),
            "ledger": T("A ledger code is 1–%(max)s characters without spaces.", max=max_len),
        }.get(what, T("A fund code is 1–%(max)s characters without spaces.", max=max_len)), "code")
    return code


def _require_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput(T("A name is required."), "name")
    return name[:200]


@lru_cache(maxsize=None)
def _known_currency(code: str) -> bool:
    return is_currency(code)   # Babel walks its whole currency list on every call


def check_currency(currency: str, field: str = "currency") -> str:
    """A known ISO currency whose minor unit our money columns can hold; used by every domain."""
    currency = (currency or "").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise InvalidInput(T("A currency is a three-letter ISO code such as EUR."), field)
    if not _known_currency(currency):  # Babel's precision lookup answers 2 even for made-up codes
        raise InvalidInput(T("Unknown currency %(currency)s.", currency=currency), field)
    digits = minor_unit(currency)
    if digits > SUPPORTED_MAX_DECIMALS:
        raise InvalidInput(T("%(currency)s has %(digits)s decimals; this installation keeps money to 2 decimals.",
                             currency=currency, digits=digits), field)
    return currency


def _require_manager(actor, owner_library_id):
    if not can_manage_money(actor, owner_library_id):
        raise Forbidden(T("You may not manage money owned by this scope."))


# -- fiscal periods ----------------------------------------------------------------------------

def create_fiscal_period(actor, code: str, name: str, start_date: date, end_date: date,
                         status: str = "active") -> FiscalPeriod:
    require_institution_role(actor, MONEY_MANAGERS, T("create fiscal periods"))
    code = _require_code(code, "fiscal period", 20)
    if db.session.scalar(select(FiscalPeriod).where(FiscalPeriod.code == code)):
        raise Duplicate(T("A fiscal period with code %(code)s already exists.", code=code), "code")
    fp = FiscalPeriod(code=code)
    _apply_period_fields(fp, name, start_date, end_date, status)
    db.session.add(fp)
    db.session.flush()
    return fp


def update_fiscal_period(actor, fp: FiscalPeriod, name: str, start_date: date, end_date: date,
                         status: str) -> FiscalPeriod:
    require_institution_role(actor, MONEY_MANAGERS, T("change fiscal periods"))
    _apply_period_fields(fp, name, start_date, end_date, status)
    db.session.flush()
    return fp


def _apply_period_fields(fp, name, start_date, end_date, status):
    if not isinstance(start_date, date) or not isinstance(end_date, date):
        raise InvalidInput(T("Start and end dates are required (YYYY-MM-DD)."), "start_date")
    if start_date >= end_date:
        raise InvalidInput(T("The end date must come after the start date."), "end_date")
    if fp.status == "closed" and status != "closed":
        raise RuleViolation(T("Fiscal period %(code)s is closed: an administrator reopens it (with a reason) "
                              "before its status can change.", code=fp.code), "status")
    if status == "closed" and fp.status != "closed":
        raise RuleViolation(T("An administrator closes a fiscal period with its Close button."), "status")
    if status not in PERIOD_STATUSES:
        raise InvalidInput(T("Status is active or inactive."), "status")
    overlap = db.session.scalar(select(FiscalPeriod).where(
        FiscalPeriod.id != (fp.id or -1), FiscalPeriod.start_date <= end_date, FiscalPeriod.end_date >= start_date))
    if overlap:
        raise RuleViolation(T("The dates overlap fiscal period %(code)s.", code=overlap.code), "start_date")
    fp.name, fp.start_date, fp.end_date, fp.status = _require_name(name), start_date, end_date, status


def close_fiscal_period(actor, fp: FiscalPeriod, note: str = "") -> FiscalPeriod:
    """Close the year: no new encumbrances, allocations or transfers; releases still go through and
    a late invoice expends only when an administrator approves it with a reason."""
    require_institution_role(actor, {Role.ADMIN}, T("close fiscal periods"))
    if fp.status == "closed":
        raise RuleViolation(T("Fiscal period %(code)s is already closed.", code=fp.code), "status")
    _set_period_status(actor, fp, "closed", "close", (note or "").strip())
    return fp


def reopen_fiscal_period(actor, fp: FiscalPeriod, reason: str) -> FiscalPeriod:
    """Make a closed period active again; the reason is kept in its history."""
    require_institution_role(actor, {Role.ADMIN}, T("reopen fiscal periods"))
    if fp.status != "closed":
        raise RuleViolation(T("Fiscal period %(code)s is not closed.", code=fp.code), "status")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(T("Give the reason for reopening fiscal period %(code)s (it is kept in its history).",
                             code=fp.code),
                           "reason")
    _set_period_status(actor, fp, "active", "reopen", reason)
    return fp


def _set_period_status(actor, fp: FiscalPeriod, status: str, action: str, note: str) -> None:
    old = fp.status
    fp.status = status
    db.session.add(FiscalPeriodEvent(fiscal_period=fp, actor_id=actor.id if actor else None, action=action,
                                     field="status", old_value=PERIOD_STATUSES[old],
                                     new_value=PERIOD_STATUSES[status], note=note[:2000]))
    db.session.flush()


# -- fund types ---------------------------------------------------------------------------------

def fund_types() -> list[FundType]:
    return db.session.scalars(select(FundType).order_by(FundType.code)).all()


def create_fund_type(actor, code: str, name: str) -> FundType:
    require_institution_role(actor, MONEY_MANAGERS, T("add fund types"))
    code = _require_code(code, "fund type", 20).upper()
    if db.session.scalar(select(FundType).where(FundType.code == code)):
        raise Duplicate(T("Fund type %(code)s already exists.", code=code), "code")
    ft = FundType(code=code, name=_require_name(name))
    db.session.add(ft)
    db.session.flush()
    return ft


def get_fund_type(code) -> FundType | None:
    if code in (None, ""):
        return None
    ft = db.session.scalar(select(FundType).where(FundType.code == str(code).upper()))
    if ft is None:
        raise InvalidInput(T("Unknown fund type %(code)s; add it under fund types first.", code=code), "fund_type")
    return ft


# -- ledgers -----------------------------------------------------------------------------------

def _availability(owner: Library | None, available_to_all: bool, libraries) -> tuple[bool, list[Library]]:
    """Normalise availability: a library-owned object is available only to its owner."""
    if owner is not None:
        return False, []
    libraries = sorted(set(libraries or []), key=lambda lib: lib.code)
    if not available_to_all and not libraries:
        raise InvalidInput(T("Choose the libraries it is available to, or make it available to all."), "libraries")
    return bool(available_to_all), ([] if available_to_all else libraries)


def ledger_library_ids(ledger: Ledger) -> set[int] | None:
    """Libraries that may use the ledger; None: all of them."""
    if ledger.owner_library_id is not None:
        return {ledger.owner_library_id}
    return None if ledger.available_to_all else {lib.id for lib in ledger.libraries}


def fund_library_ids(fund: Fund) -> set[int] | None:
    if fund.owner_library_id is not None:
        return {fund.owner_library_id}
    return None if fund.available_to_all else {lib.id for lib in fund.libraries}


def create_ledger(actor, code: str, name: str, fiscal_period: FiscalPeriod, currency: str,
                  owner: Library | None = None, available_to_all: bool = True, libraries=(),
                  notes: str = "") -> Ledger:
    _require_manager(actor, owner.id if owner else None)
    code = _require_code(code, "ledger")
    if db.session.scalar(select(Ledger).where(Ledger.fiscal_period_id == fiscal_period.id, Ledger.code == code)):
        raise Duplicate(T("Ledger %(code)s already exists in fiscal period %(period)s.", code=code,
                          period=fiscal_period.code), "code")
    to_all, libs = _availability(owner, available_to_all, libraries)
    ledger = Ledger(code=code, name=_require_name(name), fiscal_period=fiscal_period,
                    currency=check_currency(currency), owner=owner, available_to_all=to_all,
                    libraries=libs, notes=notes or "")
    db.session.add(ledger)
    db.session.flush()
    return ledger


def update_ledger(actor, ledger: Ledger, name: str, owner: Library | None, available_to_all: bool,
                  libraries=(), notes: str = "") -> Ledger:
    """Edit a ledger. Owner changes carry over to all its funds (their availability is kept);
    libraries removed from the ledger's availability are removed from its funds too; libraries
    added to it are not added to the funds."""
    _require_manager(actor, ledger.owner_library_id)
    _require_manager(actor, owner.id if owner else None)
    to_all, libs = _availability(owner, available_to_all, libraries)
    ledger.name, ledger.notes = _require_name(name), notes or ""
    if (owner.id if owner else None) != ledger.owner_library_id:
        ledger.owner = owner
        for fund in ledger.funds:
            fund.owner = owner
    ledger.available_to_all, ledger.libraries = to_all, libs
    allowed = ledger_library_ids(ledger)
    if allowed is not None and owner is None:
        for fund in ledger.funds:
            current = fund_library_ids(fund)
            if current is None:
                fund.available_to_all, fund.libraries = False, [lib for lib in libs]
            else:
                fund.libraries = [lib for lib in fund.libraries if lib.id in allowed]
    db.session.flush()
    return ledger


# -- funds -------------------------------------------------------------------------------------

@dataclass
class FundFields:
    """What a person can set on a fund (create and edit)."""
    name: str
    kind: str = "allocated"
    parent: Fund | None = None
    external_id: str = ""
    fund_type: FundType | None = None
    status: str = "active"
    notes: str = ""
    overencumbrance_allowed: bool = False
    overencumbrance_limit_percent: Decimal = Decimal("0")
    overexpenditure_allowed: bool = False
    overexpenditure_limit: Decimal = Decimal("0")
    available_to_all: bool = True
    libraries: list = field(default_factory=list)


def create_fund(actor, ledger: Ledger, code: str, fields: FundFields) -> Fund:
    _require_manager(actor, ledger.owner_library_id)
    code = _require_code(code, "fund")
    if fields.kind not in ("summary", "allocated"):
        raise InvalidInput(T("A fund is a summary fund or an allocated fund."), "type")
    if db.session.scalar(select(Fund).where(Fund.fiscal_period_id == ledger.fiscal_period_id, Fund.code == code)):
        raise Duplicate(T("Fund code %(code)s is already used in fiscal period %(period)s.", code=code,
                          period=ledger.fiscal_period.code), "code")
    fund = Fund(code=code, ledger=ledger, fiscal_period_id=ledger.fiscal_period_id, kind=fields.kind,
                owner_library_id=ledger.owner_library_id)
    db.session.add(fund)
    _apply_fund_fields(fund, fields)
    db.session.flush()
    return fund


def update_fund(actor, fund: Fund, fields: FundFields, ledger: Ledger | None = None) -> Fund:
    _require_manager(actor, fund.owner_library_id)
    if fields.kind != fund.kind:
        has_money = db.session.scalar(select(func.count()).select_from(FundTransaction)
                                      .where(FundTransaction.fund_id == fund.id))
        if has_money or (fund.children and fields.kind == "allocated"):
            raise RuleViolation(T("A fund with transactions or child funds cannot change its type."), "type")
        fund.kind = fields.kind
    if ledger is not None and ledger.id != fund.ledger_id:
        move_fund(actor, fund, ledger)
    _apply_fund_fields(fund, fields)
    db.session.flush()
    return fund


def move_fund(actor, fund: Fund, target: Ledger) -> None:
    """Move a fund (and its subtree) to another ledger of the same period, currency and availability."""
    _require_manager(actor, target.owner_library_id)
    source = fund.ledger
    if target.fiscal_period_id != source.fiscal_period_id:
        raise RuleViolation(T("A fund can only move to a ledger of the same fiscal period."), "ledger")
    if target.currency != source.currency:
        raise RuleViolation(T("Ledger %(code)s is in %(currency)s, the fund in %(fund_currency)s.", code=target.code,
                              currency=target.currency, fund_currency=source.currency), "ledger")
    if (target.owner_library_id != source.owner_library_id
            or ledger_library_ids(target) != ledger_library_ids(source)):
        raise RuleViolation(T("Ledger %(code)s is not available to exactly the same libraries as %(source)s, so the "
                              "fund cannot move there.", code=target.code, source=source.code), "ledger")
    stack = [fund]
    while stack:
        node = stack.pop()
        node.ledger = target
        stack.extend(node.children)
    if fund.parent is not None and fund.parent.ledger_id != target.id:
        fund.parent = None


def _apply_fund_fields(fund: Fund, f: FundFields) -> None:
    fund.name = _require_name(f.name)
    parent = f.parent
    if parent is not None:
        if parent.kind != "summary":
            raise RuleViolation(T("%(code)s is an allocated fund; only summary funds have child funds.",
                                  code=parent.code), "parent")
        if parent.ledger_id != fund.ledger.id:
            raise RuleViolation(T("Parent fund %(code)s belongs to another ledger.", code=parent.code), "parent")
        node = parent
        while node is not None:
            if node is fund:
                raise RuleViolation(T("A fund cannot be placed under itself."), "parent")
            node = node.parent
    fund.parent = parent
    if f.status not in ("active", "inactive"):
        raise InvalidInput(T("Status is active or inactive."), "status")
    fund.status = f.status
    fund.external_id = (f.external_id or "").strip()[:100]
    fund.fund_type = f.fund_type
    fund.notes = f.notes or ""
    pct = Decimal(f.overencumbrance_limit_percent or 0)
    try:   # a money column: the same parsing and range as every amount
        limit = parse_amount(f.overexpenditure_limit or Decimal(0), fund.ledger.currency)
    except ValueError as exc:
        raise InvalidInput(T("The over-expenditure limit: %(problem)s.", problem=exc.text if isinstance(exc, AmountError)
                             else str(exc)), "overexpenditure_limit") from None
    if pct < 0 or pct > 1000:
        raise InvalidInput(T("The over-encumbrance limit is a percent between 0 and 1000."), "overencumbrance_limit_percent")
    if limit < 0:
        raise InvalidInput(T("The over-expenditure limit cannot be negative."), "overexpenditure_limit")
    fund.overencumbrance_allowed, fund.overencumbrance_limit_percent = bool(f.overencumbrance_allowed), pct
    fund.overexpenditure_allowed, fund.overexpenditure_limit = bool(f.overexpenditure_allowed), limit
    # availability: inside the ledger's; a library-owned fund is available only to its owner
    ledger = fund.ledger
    fund.owner_library_id = ledger.owner_library_id
    if ledger.owner_library_id is not None:
        fund.available_to_all, fund.libraries = False, []
        return
    allowed = ledger_library_ids(ledger)
    libs = sorted(set(f.libraries or []), key=lambda lib: lib.code)
    if f.available_to_all:
        if allowed is not None:
            raise RuleViolation(T("Ledger %(code)s is not available to all libraries, so its funds cannot be.",
                                  code=ledger.code),
                                "libraries")
        fund.available_to_all, fund.libraries = True, []
        return
    if not libs:
        raise InvalidInput(T("Choose the libraries the fund is available to, or make it available to all."), "libraries")
    outside = [lib.code for lib in libs if allowed is not None and lib.id not in allowed]
    if outside:
        raise RuleViolation(T("Ledger %(code)s is not available to %(libraries)s; a fund's availability must lie "
                              "inside its ledger's.", code=ledger.code, libraries=", ".join(outside)), "libraries")
    fund.available_to_all, fund.libraries = False, libs


# -- money -------------------------------------------------------------------------------------

def lock_funds(fund_ids) -> dict[int, Fund]:
    """Lock the funds' rows (ascending id, so concurrent callers never deadlock) and reload them.

    PostgreSQL: SELECT ... FOR UPDATE. SQLite: the write transaction was opened with BEGIN
    IMMEDIATE (see app.database), which already serialises writers.
    """
    ids = sorted({int(i) for i in fund_ids})
    q = (select(Fund).where(Fund.id.in_(ids)).order_by(Fund.id)
         .options(lazyload(Fund.fiscal_period), lazyload(Fund.ledger), lazyload(Fund.fund_type))
         .execution_options(populate_existing=True))
    if is_postgres(db.session):
        q = q.with_for_update(of=Fund)
    funds = {f.id: f for f in db.session.scalars(q)}
    missing = set(ids) - set(funds)
    if missing:
        raise NotFound(T("No such fund."))
    return funds


@dataclass
class Posting:
    fund: Fund
    kind: TransactionKind
    amount: Decimal
    counterpart: Fund | None = None
    source_type: str | None = None   # overrides the call's source for this row
    source_id: int | None = None
    reference: str | None = None     # overrides the call's reference and note for this row
    note: str | None = None


BULK_IDS_FROM = 20   # from this many rows, SQLite gets the ids up front (see database.next_ids)


CLOSED_PERIOD_TAKES = {TransactionKind.ALLOCATION: T("no allocations"), TransactionKind.TRANSFER: T("no transfers"),
                       TransactionKind.ENCUMBRANCE: T("no new encumbrances")}


def _require_postable(fund: Fund, kind: TransactionKind, late_expenditure: bool = False) -> None:
    """A summary fund, an inactive fund or a fund of an inactive period takes nothing. A fund of a
    closed period takes releases of encumbrances (and expenditure reversals), and expenditures only
    with ``late_expenditure`` (an administrator approving a late invoice with a reason)."""
    if fund.kind != "allocated":
        raise RuleViolation(T("%(fund)s is a summary fund; money is held by allocated funds.", fund=fund.label), "fund")
    if fund.status != "active":
        raise RuleViolation(T("Fund %(fund)s is inactive.", fund=fund.label), "fund")
    period = fund.fiscal_period
    if period.status == "closed":
        if kind in CLOSED_PERIOD_TAKES:
            raise RuleViolation(T("Fiscal period %(period)s is closed: fund %(code)s takes %(what)s.",
                                  period=period.code, code=fund.code, what=CLOSED_PERIOD_TAKES[kind]), "fund")
        if kind is TransactionKind.EXPENDITURE and not late_expenditure:
            raise RuleViolation(T("Fiscal period %(period)s is closed: only an administrator, giving a reason, may "
                                  "expend on fund %(code)s.", period=period.code, code=fund.code), "fund")
    elif period.status != "active":
        raise RuleViolation(T("Fiscal period %(period)s of fund %(code)s is inactive.", period=period.code,
                              code=fund.code), "fund")


def post_transactions(actor, postings: list[Posting], *, reference: str = "", note: str = "",
                      on: date | None = None, source_type: str | None = None,
                      source_id: int | None = None, late_expenditure: bool = False) -> list[FundTransaction]:
    """Append transactions atomically: lock the funds, check every rule, then write rows and
    cached balances. Either every posting is written or none is (LimitExceeded -> RuleViolation).
    ``late_expenditure``: expenditures may go to funds of closed periods (the caller checked that
    an administrator gave a reason)."""
    if not postings:
        return []
    funds, after, values = _prepare(actor, postings, reference, note, on, source_type, source_id, late_expenditure)
    rows = [FundTransaction(**v) for v in values]
    if len(rows) >= BULK_IDS_FROM and not is_postgres(db.session):
        for row, row_id in zip(rows, next_ids(db.session, FundTransaction, len(rows))):
            row.id = row_id
    db.session.add_all(rows)
    _cache_balances(funds, after)
    return rows


def post_transactions_bulk(actor, postings: list[Posting], *, reference: str = "", note: str = "",
                           on: date | None = None, source_type: str | None = None,
                           source_id: int | None = None) -> list[int]:
    """:func:`post_transactions` for thousands of rows (allocation files, migrations): the same
    locks, rules and cached balances, but the rows are written with batched INSERTs instead of one
    ORM object each; returns their ids in the order of ``postings``. No transfers."""
    if not postings:
        return []
    if any(p.kind is TransactionKind.TRANSFER for p in postings):
        raise InvalidInput(T("Transfers are posted with post_transactions."))
    funds, after, values = _prepare(actor, postings, reference, note, on, source_type, source_id)
    ids = insert_rows(db.session, FundTransaction, values)
    _store_balances(funds, after)
    return ids


def _prepare(actor, postings: list[Posting], reference: str, note: str, on: date | None, source_type: str | None,
             source_id: int | None, late_expenditure: bool = False
             ) -> tuple[dict[int, Fund], dict[int, Balance], list[dict]]:
    """Lock the funds, check every rule, and give the column values of each new transaction."""
    funds = lock_funds(p.fund.id for p in postings)
    after = _balances_after(funds, postings, late_expenditure)
    transfer_id = str(uuid.uuid4()) if any(p.kind is TransactionKind.TRANSFER for p in postings) else None
    day, actor_id = on or clock.today(), actor.id if actor else None
    values = [{"fund_id": p.fund.id, "kind": p.kind.value, "amount": p.amount, "currency": funds[p.fund.id].currency,
               "transaction_date": day,
               "reference": (p.reference if p.reference is not None else reference or "")[:100],
               "note": p.note if p.note is not None else note or "", "actor_id": actor_id,
               "transfer_id": transfer_id if p.kind is TransactionKind.TRANSFER else None,
               "counterpart_fund_id": p.counterpart.id if p.counterpart else None,
               "source_type": p.source_type or source_type,
               "source_id": p.source_id if p.source_type else source_id} for p in postings]
    return funds, after, values


def _cache_balances(funds: dict[int, Fund], after: dict[int, Balance]) -> None:
    for fid, bal in after.items():
        funds[fid].allocated, funds[fid].encumbered, funds[fid].expended = bal.allocated, bal.encumbered, bal.expended
    db.session.flush()


def _store_balances(funds: dict[int, Fund], after: dict[int, Balance]) -> None:
    """:func:`_cache_balances` for thousands of funds: one batched UPDATE of the balances that
    changed (not a unit-of-work flush of each fund), and the loaded funds told their new values as
    if loaded. A SAVEPOINT rolled back afterwards does not expire them: its caller must (the
    rollover preview expires the session)."""
    changed = {fid: bal for fid, bal in after.items() if bal != funds[fid].balance}
    if not changed:
        return
    update_rows(db.session, Fund, [{"id": fid, "allocated": bal.allocated, "encumbered": bal.encumbered,
                                    "expended": bal.expended} for fid, bal in changed.items()])
    for fid, bal in changed.items():
        for name in ("allocated", "encumbered", "expended"):
            set_committed_value(funds[fid], name, getattr(bal, name))


def _balances_after(funds: dict[int, Fund], postings: list[Posting],
                    late_expenditure: bool = False) -> dict[int, Balance]:
    """Each fund's balance after ``postings`` in order, or RuleViolation naming the fund and the
    shortfall (the combined effect on a fund is checked against its starting balance)."""
    start = {fid: f.balance for fid, f in funds.items()}
    after = dict(start)
    for p in postings:
        fund = funds[p.fund.id]
        _require_postable(fund, p.kind if p.amount > 0 else _reversal_of(p.kind), late_expenditure)
        if p.amount == 0:
            raise InvalidInput(T("The amount must not be zero."), "amount")
        try:
            after[fund.id] = check_posting(after[fund.id], p.kind, p.amount, fund.rules, currency=fund.currency,
                                           fund_label=fund.label, base=start[fund.id])
        except (LimitExceeded, InvalidPosting) as exc:
            raise RuleViolation(exc.text, "amount") from exc
    return after


def _reversal_of(kind: TransactionKind) -> TransactionKind:
    """A negative expenditure gives money back (an invoice sent back to review): a closed period
    takes it like a release. Negative allocations and transfers stay what they are."""
    return TransactionKind.DISENCUMBRANCE if kind is TransactionKind.EXPENDITURE else kind


def check_postings(postings: list[Posting], late_expenditure: bool = False) -> None:
    """Dry run of :func:`post_transactions`: raise what posting would raise, write nothing."""
    if postings:
        _balances_after({p.fund.id: p.fund for p in postings}, postings, late_expenditure)


def _amount(value, fund: Fund) -> Decimal:
    try:
        return parse_amount(value, fund.currency)
    except ValueError as exc:
        raise InvalidInput(T("The amount: %(problem)s.", problem=getattr(exc, "text", None) or str(exc)),
                           "amount") from None


def allocate(actor, fund: Fund, amount, reference: str = "", note: str = "", on: date | None = None):
    """Give money to a fund (positive) or take it back (negative, never below what is committed)."""
    _require_manager(actor, fund.owner_library_id)
    amount = _amount(amount, fund)
    return post_transactions(actor, [Posting(fund, TransactionKind.ALLOCATION, amount)],
                             reference=reference, note=note, on=on)[0]


def transfer(actor, source: Fund, target: Fund, amount, reference: str = "", note: str = "",
             on: date | None = None) -> list[FundTransaction]:
    """Move money between two allocated funds of the same fiscal period and currency."""
    if target is None:
        raise InvalidInput(T("Choose the fund to transfer to."), "target_fund")
    _require_manager(actor, source.owner_library_id)
    _require_manager(actor, target.owner_library_id)
    if source.id == target.id:
        raise InvalidInput(T("A transfer needs two different funds."), "target_fund")
    if source.currency != target.currency:
        raise RuleViolation(T("Fund %(source)s is in %(source_currency)s and fund %(target)s in %(target_currency)s; "
                              "a transfer needs funds of one currency.", source=source.code,
                              source_currency=source.currency, target=target.code,
                              target_currency=target.currency), "target_fund")
    if source.fiscal_period_id != target.fiscal_period_id:
        raise RuleViolation(T("A transfer needs funds of the same fiscal period."), "target_fund")
    amount = _amount(amount, source)
    if amount <= 0:
        raise InvalidInput(T("A transfer amount must be positive."), "amount")
    return post_transactions(actor, [Posting(source, TransactionKind.TRANSFER, -amount, counterpart=target),
                                     Posting(target, TransactionKind.TRANSFER, amount, counterpart=source)],
                             reference=reference, note=note, on=on)


def post(actor, fund: Fund, kind: TransactionKind | str, amount, reference: str = "", note: str = "",
         on: date | None = None, source_type: str | None = None, source_id: int | None = None):
    """Encumber, disencumber or expend (orders and invoices call this)."""
    kind = TransactionKind(kind)
    amount = amount if isinstance(amount, Decimal) else _amount(amount, fund)
    return post_transactions(actor, [Posting(fund, kind, amount)], reference=reference, note=note, on=on,
                             source_type=source_type, source_id=source_id)[0]


# -- balances ----------------------------------------------------------------------------------

def _balance_columns():
    t = FundTransaction
    allocated = func.coalesce(func.sum(case((t.kind.in_(("allocation", "transfer")), t.amount), else_=0)), 0)
    encumbered = func.coalesce(func.sum(case((t.kind == "encumbrance", t.amount),
                                             (t.kind == "disencumbrance", -t.amount), else_=0)), 0)
    expended = func.coalesce(func.sum(case((t.kind == "expenditure", t.amount), else_=0)), 0)
    return allocated, encumbered, expended


def recomputed_balances(fund_ids=None) -> dict[int, Balance]:
    """Balances rebuilt from the transactions alone (one aggregate query)."""
    from ..types import Money
    allocated, encumbered, expended = (c.cast(Money()) for c in _balance_columns())
    q = select(FundTransaction.fund_id, allocated, encumbered, expended).group_by(FundTransaction.fund_id)
    if fund_ids is not None:
        q = q.where(FundTransaction.fund_id.in_(list(fund_ids)))
    return {fid: Balance(a, e, x) for fid, a, e, x in db.session.execute(q)}


@dataclass
class Difference:
    fund: Fund
    cached: Balance
    recomputed: Balance

    def __str__(self):
        parts = [f"{name} cached {getattr(self.cached, name)} != transactions {getattr(self.recomputed, name)}"
                 for name in ("allocated", "encumbered", "expended")
                 if getattr(self.cached, name) != getattr(self.recomputed, name)]
        return f"fund {self.fund.code} (id {self.fund.id}, {self.fund.fiscal_period.code}): " + "; ".join(parts)


def check_ledger() -> list[Difference]:
    """Compare every fund's cached balances with the sum of its transactions."""
    rebuilt = recomputed_balances()
    diffs = []
    for fund in db.session.scalars(select(Fund).order_by(Fund.id)):
        truth = rebuilt.get(fund.id, Balance())
        if fund.balance != truth:
            diffs.append(Difference(fund, fund.balance, truth))
    return diffs


def transactions_query(fund: Fund, kind: str | None = None, since: date | None = None,
                       until: date | None = None, text: str | None = None):
    q = select(FundTransaction).where(FundTransaction.fund_id == fund.id)
    if kind:
        q = q.where(FundTransaction.kind == kind)
    if since:
        q = q.where(FundTransaction.transaction_date >= since)
    if until:
        q = q.where(FundTransaction.transaction_date <= until)
    if text:
        like = f"%{text}%"
        q = q.where((FundTransaction.reference.ilike(like)) | (FundTransaction.note.ilike(like)))
    return q
