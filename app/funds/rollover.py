"""The fiscal-year rollover: ledgers, the fund tree, the money left and the open PO lines carried
from a source period into a later one; previewed, committed all at once, and undone.

:func:`preview` and :func:`commit` run the same function (:func:`_run`); the preview runs it inside
a SAVEPOINT that is rolled back, so both give the same :class:`Report`. The figures come from the
pure planner in :mod:`app.ledger.rollover`; the money moves through
:func:`app.funds.services.post_transactions_bulk`, which checks every rule again. Callers commit.

A preview may be kept (``keep=True``: the page's runs, :mod:`app.funds.runs`): its rows are read
before the SAVEPOINT is rolled back and written again after it as a :class:`Rollover` of status
"preview", so its report can be shown once the run has ended. What the rollover made inside the
SAVEPOINT (target funds and ledgers it created, its transactions) is gone then: those references
are stored empty, and :func:`report_of` gives a moved line the fund code it had (the rollover moves a
line to the fund of the same code). Only the latest ``KEEP_PREVIEWS`` previews are kept.
"""
from __future__ import annotations

import pickle
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import aliased, lazyload, selectinload

from .. import clock
from ..auth.permissions import MONEY_MANAGERS, require_institution_role
from ..clock import utcnow
from ..database import insert_rows, is_postgres, update_rows
from ..errors import Duplicate, InvalidInput, NotFound, RuleViolation
from ..text import T
from ..extensions import db
from ..ids import parse_id
from ..ledger import TransactionKind
from ..ledger import rollover as plan
from ..orders import services as orders
from ..orders.models import ENCUMBERING, POLine, POLineEvent, POLineFund
from . import services as funds
from .models import (FiscalPeriod, Fund, FundTransaction, Ledger, Rollover, RolloverFund, RolloverLedger,
                     RolloverLine)

SOURCE = "rollover"   # FundTransaction.source_type of the allocations it posts (source_id: the rollover)
KEEP_PREVIEWS = 5     # kept previews (status "preview"); an older one goes when a new one is kept

# Told how far a run got: progress(step, done, total), e.g. ("PO lines", 12000, 50000). Called
# from inside the run's transaction: it must not write through the session (see app.funds.runs).
Progress = Callable[[str, int, int], None]


def _no_progress(step: str, done: int, total: int) -> None:
    pass


class AlreadyRolledOver(Duplicate):
    """A second commit (or preview) of a rollover already committed: nothing was changed."""

    def __init__(self, rollover: Rollover):
        super().__init__(T("Fiscal period %(source)s was already rolled over to %(target)s (rollover %(id)s, %(time)s); "
                           "nothing was changed. Undo it first to run it again.", source=rollover.source_period.code,
                           target=rollover.target_period.code, id=rollover.id,
                           time=f"{rollover.created_at:%Y-%m-%d %H:%M}"))
        self.rollover = rollover


# -- the report ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class FundRow:
    code: str
    ledger: str
    kind: str
    allocated: Decimal
    expended: Decimal
    encumbered: Decimal
    left: Decimal
    carried: Decimal
    not_carried: Decimal
    new_allocation: Decimal
    skipped: str | None      # a key of app.ledger.rollover.REASONS
    created: bool            # the target fund was made by this rollover (else it existed)
    currency: str = ""       # the source ledger's
    rule: str = ""           # the rule it got ("+3 % (ledger LEDA)"); "" when skipped or a summary fund

    @property
    def reason(self) -> str:
        return plan.REASONS.get(self.skipped, "") if self.skipped else ""


@dataclass(frozen=True)
class LineRow:
    po_line: str             # its number
    order_type: str
    old_fund: str
    new_fund: str | None
    remaining: Decimal
    released: Decimal
    encumbered: Decimal
    reason: str | None       # None: moved
    detail: str = ""
    currency: str = ""       # the source fund's

    @property
    def moved(self) -> bool:
        return self.reason is None


@dataclass
class Report:
    """What a rollover did (or, previewed, would do); the same for a preview and its commit."""
    source: str
    target: str
    status: str              # preview | committed | undone
    rollover_id: int | None
    funds: list[FundRow] = field(default_factory=list)
    lines: list[LineRow] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, Decimal]:
        t = defaultdict(Decimal)
        for f in self.funds:
            for name in ("allocated", "expended", "encumbered", "left", "carried", "not_carried", "new_allocation"):
                t[name] += getattr(f, name)
        for line in self.lines:
            t["released"] += line.released
            t["reencumbered"] += line.encumbered
            if not line.moved:
                t["not_moved"] += line.remaining
        return dict(t)

    @property
    def reported_lines(self) -> list[LineRow]:
        return [line for line in self.lines if not line.moved]

    def figures(self) -> tuple:
        """Everything but the status and id: what a preview and its commit must share."""
        return (self.source, self.target, tuple(self.funds), tuple(self.lines))


def report_of(rollover: Rollover) -> Report:
    """The stored report of ``rollover``, read in two queries (not one row, PO line and fund at a time)."""
    src, tgt, lg, rf, rl = aliased(Fund), aliased(Fund), aliased(Ledger), RolloverFund, RolloverLine
    rules = plan.LedgerRules.from_dict(rollover.fund_rules or {})

    def rule(ledger, code, kind, skipped) -> str:
        return "" if skipped or kind == "summary" else rules.label(ledger, code)

    rows = [FundRow(code, ledger, kind, allocated, expended, encumbered, allocated - expended, *rest,
                    rule=rule(ledger, code, kind, rest[3]))
            for code, ledger, kind, allocated, expended, encumbered, *rest in db.session.execute(
        select(rf.code, rf.ledger_code, rf.kind, rf.allocated, rf.expended, rf.encumbered, rf.carried,
               rf.not_carried, rf.new_allocation, rf.skip_reason, rf.created, lg.currency)
        .join(src, src.id == rf.source_fund_id).join(lg, lg.id == src.ledger_id).where(rf.rollover_id == rollover.id).order_by(rf.id))]
    # A kept preview's new funds may be gone (made inside its rolled-back SAVEPOINT): a moved line's
    # new fund has its old fund's code.
    new_fund = func.coalesce(tgt.code, case((rl.reason.is_(None), src.code)))
    lines = [LineRow(*r) for r in db.session.execute(
        select(POLine.number, rl.order_type, src.code, new_fund, rl.remaining, rl.released, rl.encumbered, rl.reason,
               rl.detail, lg.currency)
        .join(POLine, POLine.id == rl.po_line_id).join(src, src.id == rl.source_fund_id)
        .join(lg, lg.id == src.ledger_id)
        .outerjoin(tgt, tgt.id == rl.target_fund_id).where(rl.rollover_id == rollover.id).order_by(rl.id))]
    return Report(rollover.source_period.code, rollover.target_period.code, rollover.status, rollover.id, rows, lines)


# -- entry points -------------------------------------------------------------------------------

def preview(actor, source, target, fund_rules: plan.LedgerRules | None, line_rules: plan.LineRules | None,
            progress: Progress = _no_progress, keep: bool = False) -> Report:
    """What :func:`commit` would do, by doing it inside a SAVEPOINT that is then rolled back. With
    ``keep`` the preview is stored afterwards (status "preview", its id on the report); the caller
    commits."""
    savepoint = db.session.begin_nested()
    try:
        report = _run(actor, source, target, fund_rules, line_rules, "preview", progress)
        kept = _rows_of(report.rollover_id) if keep else None
    finally:
        savepoint.rollback()
        # The bulk postings told the funds held their new balances without marking them changed
        # (see services._store_balances), so the rollback above would not expire them.
        db.session.expire_all()
    report.rollover_id = None
    if keep:
        progress(T("Keeping the preview"), 0, 1)
        report.rollover_id = _keep_preview(kept)
        progress(T("Keeping the preview"), 1, 1)
    return report


@dataclass
class _Kept:
    """A preview's rows read before its SAVEPOINT is rolled back, compactly (pickled batches of plain
    values: tens of thousands of lines cost a few MB, not a Python object per value)."""
    rollover: dict
    tables: list[tuple[type, list[str], list[bytes]]]
    targets: set[int]


# What the preview made inside its SAVEPOINT (gone after it): not kept.
_MADE_INSIDE = {"id", "rollover_id", "allocation_transaction_id", "carry_transaction_id", "release_transaction_id",
                "encumbrance_transaction_id"}
_BATCH = 5000


def _rows_of(rollover_id: int) -> _Kept:
    rollover = dict(db.session.execute(select(Rollover.__table__).where(Rollover.id == rollover_id)).mappings().one())
    kept = _Kept(rollover, [], set())
    for model in (RolloverFund, RolloverLine):
        columns = [c for c in model.__table__.columns if c.name not in _MADE_INSIDE]
        names = [c.name for c in columns]
        target = names.index("target_fund_id")
        batches = []
        for part in db.session.execute(select(*columns).where(model.rollover_id == rollover_id).order_by(model.id)
                                       .execution_options(yield_per=_BATCH)).partitions():
            rows = [tuple(r) for r in part]
            kept.targets.update(r[target] for r in rows if r[target] is not None)
            batches.append(pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL))
        kept.tables.append((model, names, batches))
    return kept


def _keep_preview(kept: _Kept) -> int:
    """Store a preview's rows again after its SAVEPOINT was rolled back; its id. References to what
    the preview made (target funds it created, its transactions) are stored empty; the ledgers'
    rows are not kept (their targets may not exist). Older previews beyond ``KEEP_PREVIEWS`` go."""
    _drop_old_previews(KEEP_PREVIEWS - 1)
    values = {k: v for k, v in kept.rollover.items() if k != "id"}
    values["status"] = "preview"
    new_id = insert_rows(db.session, Rollover, [values])[0]
    existing = set(db.session.scalars(select(Fund.id).where(Fund.id.in_(sorted(kept.targets))))) \
        if kept.targets else set()
    for model, names, batches in kept.tables:
        target = names.index("target_fund_id")
        while batches:
            rows = pickle.loads(batches.pop(0))   # our own bytes, made above
            insert_rows(db.session, model, [
                dict(zip(names, (*row[:target], row[target] if row[target] in existing else None, *row[target + 1:])),
                     rollover_id=new_id) for row in rows])
    return new_id


def _drop_old_previews(keep: int) -> None:
    old = db.session.scalars(select(Rollover.id).where(Rollover.status == "preview")
                             .order_by(Rollover.id.desc()).offset(keep)).all()
    if not old:
        return
    for model in (RolloverLine, RolloverFund, RolloverLedger):
        db.session.execute(delete(model).where(model.rollover_id.in_(old)))
    db.session.execute(delete(Rollover).where(Rollover.id.in_(old)))
    for obj in [o for o in db.session.identity_map.values() if isinstance(o, Rollover) and o.id in old]:
        db.session.expunge(obj)


def commit(actor, source, target, fund_rules: plan.LedgerRules | None, line_rules: plan.LineRules | None,
           progress: Progress = _no_progress) -> Report:
    """Roll ``source`` over to ``target``: all of it, or (on any error) nothing. The caller commits.

    Either part may be left out (its rules ``None``), to run them as two jobs: the ledgers first
    (``line_rules=None``), then the PO lines (``fund_rules=None``), which need the target funds."""
    savepoint = db.session.begin_nested()
    try:
        report = _run(actor, source, target, fund_rules, line_rules, "committed", progress)
    except BaseException:
        savepoint.rollback()
        db.session.expire_all()   # as in preview
        raise
    savepoint.commit()
    return report


def parts_of(rollover: Rollover) -> set[str]:
    """What a rollover did: "ledgers", "lines" or both (a part left out is stored with empty rules)."""
    return {name for name, rules in (("ledgers", rollover.fund_rules), ("lines", rollover.line_rules)) if rules}


def committed_rollover(source: FiscalPeriod, target: FiscalPeriod, parts=("ledgers", "lines")) -> Rollover | None:
    """The committed rollover of ``source`` to ``target`` that did any of ``parts``, if any."""
    found = db.session.scalars(select(Rollover).where(Rollover.source_period_id == source.id,
                                                      Rollover.target_period_id == target.id,
                                                      Rollover.status == "committed").order_by(Rollover.id))
    return next((r for r in found if parts_of(r) & set(parts)), None)


# -- the run ------------------------------------------------------------------------------------

def check_periods(actor, source, target) -> tuple[FiscalPeriod, FiscalPeriod]:
    """The two periods of a rollover ``actor`` is about to run, checked as the run checks them
    (before a page starts a run, so a mistake is answered on the form)."""
    require_institution_role(actor, MONEY_MANAGERS, T("roll over fiscal periods"))
    source, target = funds.get_fiscal_period(source), funds.get_fiscal_period(target)
    _check_periods(source, target)
    return source, target


def _check_periods(source: FiscalPeriod, target: FiscalPeriod) -> None:
    if source.id == target.id:
        raise RuleViolation(T("Choose a target period other than the source."), "target")
    if target.start_date <= source.end_date:
        raise RuleViolation(T("Fiscal period %(target)s must start after %(source)s ends (%(end)s).", target=target.code,
                              source=source.code, end=source.end_date.isoformat()), "target")


def _lock_period(period: FiscalPeriod) -> None:
    """Serialise rollovers of one source period (SQLite's BEGIN IMMEDIATE already does)."""
    if is_postgres(db.session):
        db.session.execute(select(FiscalPeriod.id).where(FiscalPeriod.id == period.id).with_for_update())


def _run(actor, source, target, fund_rules: plan.LedgerRules | None, line_rules: plan.LineRules | None,
         status: str, progress: Progress) -> Report:
    require_institution_role(actor, MONEY_MANAGERS, T("roll over fiscal periods"))
    if fund_rules is None and line_rules is None:
        raise RuleViolation(T("Choose what to roll over: the ledgers, the PO lines or both."), "parts")
    source, target = funds.get_fiscal_period(source), funds.get_fiscal_period(target)
    _check_periods(source, target)
    _lock_period(source)
    parts = [name for name, rules in (("ledgers", fund_rules), ("lines", line_rules)) if rules is not None]
    existing = committed_rollover(source, target, parts)
    if existing is not None:
        raise AlreadyRolledOver(existing)
    rollover = Rollover(source_period=source, target_period=target, status=status,
                        fund_rules=fund_rules.to_dict() if fund_rules is not None else {},
                        line_rules=line_rules.to_dict() if line_rules is not None else {},
                        created_by_id=actor.id if actor else None,
                        watermark=db.session.scalar(select(func.coalesce(func.max(FundTransaction.id), 0))))
    db.session.add(rollover)
    db.session.flush()
    day = max(target.start_date, min(clock.today(), target.end_date))
    if fund_rules is not None:
        ledgers = _copy_ledgers(rollover, source, target)
        _roll_funds(actor, rollover, source, target, ledgers, fund_rules, day, progress)
    if line_rules is not None:
        _roll_lines(actor, rollover, source, target, line_rules, day, progress)
    db.session.flush()
    progress(T("Report"), 0, 1)
    report = report_of(rollover)
    progress(T("Report"), 1, 1)
    return report


def _copy_ledgers(rollover: Rollover, source: FiscalPeriod, target: FiscalPeriod) -> dict[int, Ledger]:
    """Each source ledger's counterpart in the target (same code): found, or made as a copy. One
    that an undone rollover made and that holds no fund in use is made again: its fields copied
    anew, and reported as created."""
    existing = {lg.code: lg for lg in db.session.scalars(select(Ledger).where(Ledger.fiscal_period_id == target.id))}
    reusable = set(db.session.scalars(
        select(RolloverLedger.target_ledger_id).join(Rollover, Rollover.id == RolloverLedger.rollover_id)
        .where(Rollover.target_period_id == target.id, Rollover.status == "undone", RolloverLedger.created)
        .where(~select(Fund.id).where(Fund.ledger_id == RolloverLedger.target_ledger_id,
                                      Fund.status == "active").exists())))
    result = {}
    for lg in db.session.scalars(select(Ledger).where(Ledger.fiscal_period_id == source.id).order_by(Ledger.code)):
        copy = existing.get(lg.code)
        created = copy is None or copy.id in reusable
        if copy is None:
            copy = Ledger(code=lg.code, fiscal_period=target)
            db.session.add(copy)
        if created:
            copy.name, copy.currency, copy.owner_library_id = lg.name, lg.currency, lg.owner_library_id
            copy.available_to_all, copy.libraries, copy.notes = lg.available_to_all, list(lg.libraries), lg.notes
        result[lg.id] = copy
        db.session.flush()
        db.session.add(RolloverLedger(rollover_id=rollover.id, source_ledger_id=lg.id, target_ledger_id=copy.id,
                                      created=created))
    return result


def _roll_funds(actor, rollover, source, target, ledgers: dict[int, Ledger], rules: plan.LedgerRules, day,
                progress: Progress) -> None:
    sources = db.session.scalars(select(Fund).where(Fund.fiscal_period_id == source.id)
                                 .options(lazyload(Fund.fiscal_period), lazyload(Fund.fund_type),
                                          selectinload(Fund.libraries), selectinload(Fund.parent),
                                          selectinload(Fund.ledger))).all()
    by_code = {f.code: f for f in sources}
    currencies = {f.ledger.code: f.ledger.currency for f in sources}
    planned = plan.plan_funds([plan.SourceFund(f.code, f.ledger.code, f.kind, f.parent.code if f.parent else None,
                                               f.allocated, f.expended, f.encumbered, f.status == "active",
                                               not f.do_not_roll_over) for f in sources], rules, currencies)
    progress(T("Funds"), 0, len(planned))
    existing = {f.code: f for f in db.session.scalars(select(Fund).where(Fund.fiscal_period_id == target.id))}
    # Funds an undone rollover made, out of use since (inactive): taken back and reported as created.
    reusable = set(db.session.scalars(
        select(RolloverFund.target_fund_id).join(Rollover, Rollover.id == RolloverFund.rollover_id)
        .join(Fund, Fund.id == RolloverFund.target_fund_id)
        .where(Rollover.target_period_id == target.id, Rollover.status == "undone", RolloverFund.created,
               Fund.status == "inactive")))
    rows, postings, posted_for = [], [], []
    with db.session.no_autoflush:   # the copies are written together, by the flush below
        _fund_rows(rollover, source, target, ledgers, planned, by_code, existing, reusable, rows, postings,
                   posted_for)
    db.session.add_all(rows)
    db.session.flush()
    ids = funds.post_transactions_bulk(actor, postings, on=day, source_type=SOURCE, source_id=rollover.id)
    for (row, attr), tid in zip(posted_for, ids):
        setattr(row, attr, tid)
    progress(T("Funds"), len(planned), len(planned))


def _fund_rows(rollover, source, target, ledgers, planned, by_code, existing, reusable, rows, postings,
               posted_for) -> None:
    for p in planned:
        src = by_code[p.code]
        copy, created = existing.get(p.code), False
        if p.skipped is None and copy is None:
            copy, created = _copy_fund(src, target, ledgers[src.ledger_id], existing), True
            existing[p.code] = copy
        elif p.skipped is None and copy.id in reusable:
            _copy_fields(src, copy, ledgers[src.ledger_id], existing)
            created = True
        row = RolloverFund(rollover_id=rollover.id, source_fund_id=src.id, target_fund=copy if p.skipped is None else None,
                           code=src.code, ledger_code=src.ledger.code, kind=src.kind, created=created,
                           allocated=src.allocated, expended=src.expended, encumbered=src.encumbered,
                           new_allocation=p.allocation, carried=p.carried, not_carried=p.not_carried,
                           skip_reason=p.skipped)
        db.session.add(row)
        rows.append(row)
        if p.allocation:
            postings.append(funds.Posting(copy, TransactionKind.ALLOCATION, p.allocation,
                                          reference=f"rollover from {source.code}",
                                          note=f"allocation rolled over from {source.code}"))
            posted_for.append((row, "allocation_transaction_id"))
        if p.carried:
            postings.append(funds.Posting(copy, TransactionKind.ALLOCATION, p.carried,
                                          reference=f"carried over from {source.code}",
                                          note=f"carried over from {source.code}"))
            posted_for.append((row, "carry_transaction_id"))


def _copy_fund(src: Fund, target: FiscalPeriod, ledger: Ledger, existing: dict[str, Fund]) -> Fund:
    copy = Fund(code=src.code, fiscal_period_id=target.id, allocated=Decimal("0"), encumbered=Decimal("0"),
                expended=Decimal("0"))
    _copy_fields(src, copy, ledger, existing)
    db.session.add(copy)
    return copy


def _copy_fields(src: Fund, copy: Fund, ledger: Ledger, existing: dict[str, Fund]) -> None:
    """What a target fund takes from its source (not its code, period or balances)."""
    copy.name, copy.ledger, copy.kind, copy.status, copy.notes = src.name, ledger, src.kind, src.status, src.notes
    copy.parent = existing.get(src.parent.code) if src.parent is not None else None
    copy.external_id, copy.fund_type_id = src.external_id, src.fund_type_id
    copy.overencumbrance_allowed = src.overencumbrance_allowed
    copy.overencumbrance_limit_percent = src.overencumbrance_limit_percent
    copy.overexpenditure_allowed, copy.overexpenditure_limit = src.overexpenditure_allowed, src.overexpenditure_limit
    copy.owner_library_id, copy.available_to_all = src.owner_library_id, src.available_to_all
    copy.libraries, copy.do_not_roll_over = list(src.libraries), src.do_not_roll_over


LINE_CHUNK = 5000   # PO lines planned, posted and written at a time (the memory a run needs stays flat)


def _roll_lines(actor, rollover, source, target, rules: plan.LineRules, day, progress: Progress) -> None:
    """Open, approved PO lines charging funds of the source: each moved whole or reported as it is.

    Tens of thousands of lines, taken :data:`LINE_CHUNK` at a time in PO line order: read as plain
    columns, planned, posted and written with batched statements (the rollover rows, the PO line
    history, the distributions' new funds), then let go, so the session holds no ORM object per
    line and the memory does not grow with their number. All chunks run in the caller's
    transaction (a commit stays all or nothing), and the planner carries the target funds'
    balances from one chunk to the next: the figures are those of one pass over every line."""
    pol_ids = db.session.scalars(
        select(POLine.id).join(POLineFund, POLineFund.po_line_id == POLine.id)
        .join(Fund, Fund.id == POLineFund.fund_id)
        .where(Fund.fiscal_period_id == source.id, POLine.status.in_(sorted(ENCUMBERING)))
        .distinct().order_by(POLine.id)).all()
    if not pol_ids:
        return
    total = len(pol_ids)
    progress(T("PO lines"), 0, total)
    targets = {f.code: f for f in db.session.scalars(select(Fund).where(Fund.fiscal_period_id == target.id))}
    source_funds = {f.id: f for f in db.session.scalars(select(Fund).where(Fund.fiscal_period_id == source.id))}
    planner = plan.LinePlanner(rules, {
        code: plan.TargetFund(code, f.currency, f.balance, f.rules,
                              f.kind == "allocated" and f.status == "active" and target.status == "active")
        for code, f in targets.items()})
    moved_pols = set()
    for start in range(0, total, LINE_CHUNK):
        chunk = pol_ids[start:start + LINE_CHUNK]
        moved_pols.update(_roll_line_chunk(actor, rollover, source, target, planner, targets, source_funds,
                                           chunk[0], chunk[-1], day))
        progress(T("PO lines"), start + len(chunk), total)
    _expire_loaded(POLine, moved_pols, ["history", "distribution"])
    db.session.expire(rollover, ["lines"])


def _roll_line_chunk(actor, rollover, source, target, planner: plan.LinePlanner, targets: dict[str, Fund],
                     source_funds: dict[int, Fund], first: int, last: int, day) -> set[int]:
    """The open lines with ids from ``first`` to ``last``: planned, posted, written. Returns the
    ids of the lines moved."""
    in_chunk = (POLine.id >= first, POLine.id <= last)
    shares = db.session.execute(
        select(POLineFund.id, POLineFund.fund_id, POLineFund.encumbered_amount, POLine.id, POLine.order_type,
               POLine.number, Fund.code)
        .join(POLine, POLine.id == POLineFund.po_line_id).join(Fund, Fund.id == POLineFund.fund_id)
        .where(Fund.fiscal_period_id == source.id, POLine.status.in_(sorted(ENCUMBERING)), *in_chunk)
        .order_by(POLine.id, POLineFund.id)).all()
    t = FundTransaction
    outstanding = {(pol_id, fund_id): Decimal(amount) for pol_id, fund_id, amount in db.session.execute(
        select(t.source_id, t.fund_id, func.sum(case((t.kind == "encumbrance", t.amount), else_=-t.amount)))
        .join(Fund, Fund.id == t.fund_id)
        .where(Fund.fiscal_period_id == source.id, t.source_type == orders.SOURCE,
               t.kind.in_(("encumbrance", "disencumbrance")), t.source_id >= first, t.source_id <= last)
        .group_by(t.source_id, t.fund_id))}
    by_line: dict[int, list] = defaultdict(list)
    info = {}
    for share_id, fund_id, enc_amount, pol_id, order_type, number, code in shares:
        by_line[pol_id].append((share_id, fund_id, enc_amount, code))
        info[pol_id] = (order_type, number)
    del shares
    releases, encumbrances, rows, moves, events = [], [], [], [], []
    posted = []     # per row: the index of its release in releases, of its encumbrance in encumbrances
    note = f"PO line rolled over from {source.code} to {target.code}"
    actor_id, now = (actor.id if actor else None), utcnow()
    for pol_id, pol_shares in by_line.items():
        p = planner.plan_line(plan.SourceLine(pol_id, info[pol_id][0], tuple(
            plan.LineShare(code, outstanding.get((pol_id, fund_id), Decimal("0.00")), enc_amount or Decimal("0.00"))
            for _sid, fund_id, enc_amount, code in pol_shares)))
        for (share_id, fund_id, enc_amount, code), move in zip(pol_shares, p.shares):
            tf = targets.get(code)
            rows.append({"rollover_id": rollover.id, "po_line_id": pol_id, "distribution_id": share_id,
                         "order_type": p.line.order_type, "source_fund_id": fund_id,
                         "target_fund_id": tf.id if tf is not None and p.moved else None,
                         "remaining": outstanding.get((pol_id, fund_id), Decimal("0.00")),
                         "old_encumbered_amount": enc_amount, "released": move.released,
                         "encumbered": move.encumbered, "reason": p.reason,
                         "detail": p.detail or (plan.REASONS[p.reason] + f" ({p.fund_code})" if p.reason else ""),
                         "release_transaction_id": None, "encumbrance_transaction_id": None})
            if not p.moved:
                posted.append((None, None))
                continue
            number = info[pol_id][1]
            src = source_funds[fund_id]
            rel = enc = None
            if move.released:
                rel = len(releases)
                releases.append(funds.Posting(src, TransactionKind.DISENCUMBRANCE, move.released, counterpart=tf,
                                              source_type=orders.SOURCE, source_id=pol_id, reference=number,
                                              note=note))
            if move.encumbered:
                enc = len(encumbrances)
                encumbrances.append(funds.Posting(tf, TransactionKind.ENCUMBRANCE, move.encumbered,
                                                  counterpart=src, source_type=orders.SOURCE, source_id=pol_id,
                                                  reference=number, note=note))
            posted.append((rel, enc))
            moves.append({"id": share_id, "fund_id": tf.id, "encumbered_amount": move.encumbered,
                          "encumbered_currency": tf.currency})
            events.append({"po_line_id": pol_id, "actor_id": actor_id, "action": "rollover", "field": "fund",
                           "old_value": code, "new_value": f"{tf.code} ({target.code})", "note": note,
                           "at": now})
    ids = funds.post_transactions_bulk(actor, releases + encumbrances, on=day)
    rel_ids, enc_ids = ids[:len(releases)], ids[len(releases):]
    for row, (rel, enc) in zip(rows, posted):
        if rel is not None:
            row["release_transaction_id"] = rel_ids[rel]
        if enc is not None:
            row["encumbrance_transaction_id"] = enc_ids[enc]
    insert_rows(db.session, RolloverLine, rows)
    insert_rows(db.session, POLineEvent, events)
    update_rows(db.session, POLineFund, moves)
    _expire_loaded(POLineFund, {m["id"] for m in moves})
    return {e["po_line_id"] for e in events}


def _expire_loaded(model, ids: set[int], attrs: list[str] | None = None) -> None:
    """Expire the objects of ``model`` among ``ids`` that the session holds (written around the ORM)."""
    held = db.session.identity_map
    for key in [k for k in held.keys() if k[0] is model and k[1][0] in ids]:
        obj = held.get(key)
        if obj is not None:
            db.session.expire(obj, attrs)


# -- undo ---------------------------------------------------------------------------------------

def _own_transactions(rollover_ids: list[int]) -> set[int]:
    """The ids of what the rollovers ``rollover_ids`` posted on their target funds (plain ids, read
    in three queries, not an ORM row per PO line)."""
    rf, rl = RolloverFund, RolloverLine
    own = set()
    for column, model in ((rf.allocation_transaction_id, rf), (rf.carry_transaction_id, rf),
                          (rl.encumbrance_transaction_id, rl)):
        own.update(db.session.scalars(select(column).where(model.rollover_id.in_(rollover_ids), column.isnot(None))))
    return own


def undone_note(rollover: Rollover) -> str:
    """What undo appends to the notes of the funds and ledgers ``rollover`` made."""
    return (f"Made by rollover {rollover.id} ({rollover.source_period.code} to {rollover.target_period.code}) "
            f"and emptied by its undo on {utcnow():%Y-%m-%d}: not in use until a new rollover of "
            f"{rollover.source_period.code} uses it again.")


def _append(notes: str, text: str) -> str:
    return f"{notes}\n{text}" if notes else text


def check_undoable(actor, rollover: Rollover) -> None:
    """Refuse at once what :func:`undo` would refuse before looking at the funds (before a page
    starts an undo run)."""
    require_institution_role(actor, MONEY_MANAGERS, T("undo rollovers"))
    if rollover.status != "committed":
        raise _not_undoable(rollover)


def _not_undoable(rollover: Rollover) -> RuleViolation:
    if rollover.status == "preview":
        return RuleViolation(T("Rollover %(id)s is a preview; only a committed rollover can be undone.", id=rollover.id),
                             "status")
    return RuleViolation(T("Rollover %(id)s is undone; only a committed rollover can be undone.", id=rollover.id),
                         "status")


def undo(actor, rollover: Rollover, progress: Progress = _no_progress) -> Report:
    """Reverse a committed rollover while nothing else was posted to its target funds: the PO
    lines point at their old funds again with their old encumbrance, the target funds give back
    what they were given (new entries: the ledger is append-only), and the funds it made are set
    inactive, with a note, so no picker offers them (the ledgers it made get the note). A later
    rollover of the same periods takes them back into use and reports them as created. Set-based
    like the commit: the PO lines are read as plain columns and reversed :data:`LINE_CHUNK` at a
    time. The caller commits."""
    require_institution_role(actor, MONEY_MANAGERS, T("undo rollovers"))
    _lock_period(rollover.source_period)
    db.session.refresh(rollover)
    if rollover.status != "committed":
        raise _not_undoable(rollover)
    rf, rl, t = RolloverFund, RolloverLine, FundTransaction
    source, target = rollover.source_period, rollover.target_period
    target_ids = set(db.session.scalars(select(rf.target_fund_id).where(rf.rollover_id == rollover.id,
                                                                        rf.target_fund_id.isnot(None)))) | \
        set(db.session.scalars(select(rl.target_fund_id).distinct().where(rl.rollover_id == rollover.id,
                                                                          rl.target_fund_id.isnot(None))))
    source_ids = set(db.session.scalars(select(rl.source_fund_id).distinct().where(rl.rollover_id == rollover.id,
                                                                                   rl.reason.is_(None))))
    locked = funds.lock_funds(target_ids | source_ids)
    note = f"rollover from {source.code} to {target.code} undone"
    # A later rollover of the same periods that was undone since (the PO lines' after the ledgers')
    # left nothing on these funds: its own transactions and those of its undo do not count.
    later = list(db.session.scalars(select(Rollover.id).where(
        Rollover.source_period_id == rollover.source_period_id, Rollover.target_period_id == rollover.target_period_id,
        Rollover.id > rollover.id, Rollover.status == "undone")))
    own = _own_transactions([rollover.id, *later])
    if target_ids:
        since = db.session.execute(
            select(t.id, Fund.code).join(Fund, Fund.id == t.fund_id)
            .where(t.fund_id.in_(sorted(target_ids)), t.id > rollover.watermark,
                   *([~((t.note == note) | t.note.endswith(f": {note}"))] if later else []))
            .order_by(t.id).execution_options(yield_per=LINE_CHUNK))
        other = next((code for tid, code in since if tid not in own), None)
        since.close()
        if other is not None:
            raise RuleViolation(T("Rollover %(id)s cannot be undone: fund %(fund)s of %(period)s has had other "
                                  "transactions since.", id=rollover.id, fund=other, period=target.code), "status")
    del own
    _undo_lines(actor, rollover, locked, note, progress)
    rows = db.session.execute(select(rf.target_fund_id, rf.carried, rf.new_allocation, rf.created)
                              .where(rf.rollover_id == rollover.id, rf.target_fund_id.isnot(None)).order_by(rf.id)).all()
    progress(T("Funds"), 0, len(rows))
    allocations = [funds.Posting(locked[fund_id], TransactionKind.ALLOCATION, -amount,
                                 reference=f"undo rollover {rollover.id}", note=f"{what}: {note}")
                   for fund_id, carried, allocation, _created in rows
                   for amount, what in ((carried, "carried over"), (allocation, "allocation")) if amount]
    funds.post_transactions_bulk(actor, allocations, source_type=SOURCE, source_id=rollover.id)
    made = undone_note(rollover)
    for fund_id, _carried, _allocation, created in rows:
        if created:
            fund = locked[fund_id]
            fund.status, fund.notes = "inactive", _append(fund.notes, made)
    for ledger in db.session.scalars(select(Ledger).join(RolloverLedger, RolloverLedger.target_ledger_id == Ledger.id)
                                     .where(RolloverLedger.rollover_id == rollover.id, RolloverLedger.created)):
        ledger.notes = _append(ledger.notes, made)
    progress(T("Funds"), len(rows), len(rows))
    rollover.status, rollover.undone_at, rollover.undone_by_id = "undone", utcnow(), actor.id if actor else None
    db.session.flush()
    progress(T("Report"), 0, 1)
    report = report_of(rollover)
    progress(T("Report"), 1, 1)
    return report


def _undo_lines(actor, rollover: Rollover, locked: dict[int, Fund], note: str, progress: Progress) -> None:
    """The moved PO lines of ``rollover`` back on their old funds, :data:`LINE_CHUNK` rows at a time:
    the target encumbrance released, the source one restored, the distribution and its history."""
    rl, current = RolloverLine, aliased(Fund)
    total = db.session.scalar(select(func.count(func.distinct(rl.po_line_id))).where(
        rl.rollover_id == rollover.id, rl.reason.is_(None))) or 0
    if not total:
        return
    progress(T("PO lines"), 0, total)
    target_code, actor_id, now = rollover.target_period.code, (actor.id if actor else None), utcnow()
    last, done = 0, set()
    while True:
        chunk = db.session.execute(
            select(rl.id, rl.po_line_id, rl.distribution_id, rl.source_fund_id, rl.target_fund_id, rl.released,
                   rl.encumbered, rl.old_encumbered_amount, POLine.number, current.code)
            .join(POLine, POLine.id == rl.po_line_id).join(POLineFund, POLineFund.id == rl.distribution_id)
            .join(current, current.id == POLineFund.fund_id)
            .where(rl.rollover_id == rollover.id, rl.reason.is_(None), rl.id > last)
            .order_by(rl.id).limit(LINE_CHUNK)).all()
        if not chunk:
            break
        releases, restores, moves, events = [], [], [], []
        for _id, pol_id, share_id, source_id, target_id, released, encumbered, old_amount, number, now_code in chunk:
            src, tgt = locked[source_id], locked[target_id]
            if encumbered:
                releases.append(funds.Posting(tgt, TransactionKind.DISENCUMBRANCE, encumbered, counterpart=src,
                                              source_type=orders.SOURCE, source_id=pol_id, reference=number,
                                              note=note))
            if released:
                restores.append(funds.Posting(src, TransactionKind.ENCUMBRANCE, released, counterpart=tgt,
                                              source_type=orders.SOURCE, source_id=pol_id, reference=number,
                                              note=note))
            moves.append({"id": share_id, "fund_id": source_id, "encumbered_amount": old_amount,
                          "encumbered_currency": src.currency if old_amount is not None else None})
            events.append({"po_line_id": pol_id, "actor_id": actor_id, "action": "rollover_undone", "field": "fund",
                           "old_value": f"{now_code} ({target_code})", "new_value": src.code, "note": note,
                           "at": now})
            done.add(pol_id)
        last = chunk[-1][0]
        del chunk
        funds.post_transactions_bulk(actor, releases + restores, source_type=SOURCE, source_id=rollover.id)
        insert_rows(db.session, POLineEvent, events)
        update_rows(db.session, POLineFund, moves)
        _expire_loaded(POLineFund, {m["id"] for m in moves})
        progress(T("PO lines"), len(done), total)
    _expire_loaded(POLine, done, ["history", "distribution"])


# -- rules from a form or a request -------------------------------------------------------------

MAX_PERCENT = Decimal(1000)


def parse_percent(text, field: str, where: str = "", label: str = "", low: Decimal = -MAX_PERCENT) -> Decimal:
    """A percent typed by a person ("3", "-2.5", "5 %"), between ``low`` and :data:`MAX_PERCENT`;
    InvalidInput on ``field`` otherwise, its message starting with ``where`` (a ledger, a fund) and
    naming the ``label`` of the field when given. The one parser of the page, the CLI and the API."""
    def refused(problem):
        return InvalidInput(T("%(where)s: %(problem)s", where=where, problem=problem) if where else problem, field)
    raw = str(text if text is not None else "").strip().replace(" ", "").rstrip("%") or "0"
    try:
        value = Decimal(raw)
    except ArithmeticError:
        raise refused(T("\"%(text)s\" is not a percent for \"%(label)s\" (a number such as 3 or -2.5).", text=text,
                        label=label) if label else
                      T("\"%(text)s\" is not a percent (a number such as 3 or -2.5).", text=text)) from None
    if not value.is_finite() or value < low or value > MAX_PERCENT:
        raise refused(T("\"%(label)s\" is a percent between -100 and %(max)s.", label=label, max=MAX_PERCENT) if label
                      else T("A percent between -100 and %(max)s.", max=MAX_PERCENT))
    return value


def rules_from(allocation: str = "same", percent="0", carry: str = "none", one_time: str = "remaining",
               continuous: str = "remaining", increase="0") -> tuple[plan.LedgerRules, plan.LineRules]:
    """The default rules of a rollover from plain values (a form, a request body): InvalidInput
    naming the field when one makes no sense."""
    pct = parse_percent(percent, "percent") if allocation == "adjust" else Decimal("0")
    try:
        fund_rule = plan.FundRule(allocation, pct, carry)
    except plan.RuleError as exc:
        raise InvalidInput(T("The rules make no sense: %(problem)s.", problem=exc.args[0]),
                           "percent" if "percent" in exc.args[0] else "allocation") from None
    try:
        lines = plan.LineRules(plan.EncumbranceRule(one_time),
                               plan.EncumbranceRule(continuous, parse_percent(increase, "increase")))
    except plan.RuleError as exc:
        raise InvalidInput(T("The PO line rules make no sense: %(problem)s.", problem=exc.args[0]), "increase") from None
    return plan.LedgerRules(fund_rule), lines


def rollovers() -> list[Rollover]:
    """Stored rollovers (committed, undone and the kept previews), latest first."""
    return db.session.scalars(select(Rollover).order_by(Rollover.id.desc())).all()


def get_rollover(rollover_id) -> Rollover:
    key = parse_id(rollover_id) if isinstance(rollover_id, int) else None   # an id past INTEGER cannot exist
    rollover = db.session.get(Rollover, key) if key is not None else None
    if rollover is None:
        raise NotFound(T("No rollover %(id)s.", id=rollover_id))
    return rollover
