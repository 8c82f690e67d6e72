"""The fiscal-year rollover: ledgers, the fund tree, the money left and the open PO lines carried
from a source period into a later one; previewed, committed all at once, and undone.

:func:`preview` and :func:`commit` run the same function (:func:`_run`); the preview runs it inside
a SAVEPOINT that is rolled back, so both give the same :class:`Report`. The figures come from the
pure planner in :mod:`app.ledger.rollover`; the money moves through
:func:`app.funds.services.post_transactions_bulk`, which checks every rule again. Callers commit.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import aliased, lazyload, selectinload

from .. import clock
from ..auth.permissions import MONEY_MANAGERS, require_institution_role
from ..clock import utcnow
from ..database import insert_rows, is_postgres
from ..errors import Duplicate, InvalidInput, NotFound, RuleViolation
from ..extensions import db
from ..ledger import TransactionKind
from ..ledger import rollover as plan
from ..orders import services as orders
from ..orders.models import ENCUMBERING, POLine, POLineEvent, POLineFund
from . import services as funds
from .models import (FiscalPeriod, Fund, FundTransaction, Ledger, Rollover, RolloverFund, RolloverLedger,
                     RolloverLine)

SOURCE = "rollover"   # FundTransaction.source_type of the allocations it posts (source_id: the rollover)

# Told how far a run got: progress(step, done, total), e.g. ("PO lines", 12000, 50000). Called
# from inside the run's transaction: it must not write through the session (see app.funds.runs).
Progress = Callable[[str, int, int], None]


def _no_progress(step: str, done: int, total: int) -> None:
    pass


class AlreadyRolledOver(Duplicate):
    """A second commit (or preview) of a rollover already committed: nothing was changed."""

    def __init__(self, rollover: Rollover):
        super().__init__(f"Fiscal period {rollover.source_period.code} was already rolled over to "
                         f"{rollover.target_period.code} (rollover {rollover.id}, "
                         f"{rollover.created_at:%Y-%m-%d %H:%M}); nothing was changed. Undo it first to run it again.")
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
    lines = [LineRow(*r) for r in db.session.execute(
        select(POLine.number, rl.order_type, src.code, tgt.code, rl.remaining, rl.released, rl.encumbered, rl.reason,
               rl.detail, lg.currency)
        .join(POLine, POLine.id == rl.po_line_id).join(src, src.id == rl.source_fund_id)
        .join(lg, lg.id == src.ledger_id)
        .outerjoin(tgt, tgt.id == rl.target_fund_id).where(rl.rollover_id == rollover.id).order_by(rl.id))]
    return Report(rollover.source_period.code, rollover.target_period.code, rollover.status, rollover.id, rows, lines)


# -- entry points -------------------------------------------------------------------------------

def preview(actor, source, target, fund_rules: plan.LedgerRules | None, line_rules: plan.LineRules | None,
            progress: Progress = _no_progress) -> Report:
    """What :func:`commit` would do, by doing it inside a SAVEPOINT that is then rolled back."""
    savepoint = db.session.begin_nested()
    try:
        report = _run(actor, source, target, fund_rules, line_rules, "preview", progress)
    finally:
        savepoint.rollback()
    report.rollover_id = None
    return report


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

def _check_periods(source: FiscalPeriod, target: FiscalPeriod) -> None:
    if source.id == target.id:
        raise RuleViolation("Choose a target period other than the source.", "target")
    if target.start_date <= source.end_date:
        raise RuleViolation(f"Fiscal period {target.code} must start after {source.code} ends "
                            f"({source.end_date.isoformat()}).", "target")


def _lock_period(period: FiscalPeriod) -> None:
    """Serialise rollovers of one source period (SQLite's BEGIN IMMEDIATE already does)."""
    if is_postgres(db.session):
        db.session.execute(select(FiscalPeriod.id).where(FiscalPeriod.id == period.id).with_for_update())


def _run(actor, source, target, fund_rules: plan.LedgerRules | None, line_rules: plan.LineRules | None,
         status: str, progress: Progress) -> Report:
    require_institution_role(actor, MONEY_MANAGERS, "roll over fiscal periods")
    if fund_rules is None and line_rules is None:
        raise RuleViolation("Choose what to roll over: the ledgers, the PO lines or both.", "parts")
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
    progress("Report", 0, 1)
    report = report_of(rollover)
    progress("Report", 1, 1)
    return report


def _copy_ledgers(rollover: Rollover, source: FiscalPeriod, target: FiscalPeriod) -> dict[int, Ledger]:
    """Each source ledger's counterpart in the target (same code): found, or made as a copy."""
    existing = {lg.code: lg for lg in db.session.scalars(select(Ledger).where(Ledger.fiscal_period_id == target.id))}
    result = {}
    for lg in db.session.scalars(select(Ledger).where(Ledger.fiscal_period_id == source.id).order_by(Ledger.code)):
        copy = existing.get(lg.code)
        created = copy is None
        if created:
            copy = Ledger(code=lg.code, name=lg.name, fiscal_period=target, currency=lg.currency,
                          owner_library_id=lg.owner_library_id, available_to_all=lg.available_to_all,
                          libraries=list(lg.libraries), notes=lg.notes)
            db.session.add(copy)
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
    progress("Funds", 0, len(planned))
    existing = {f.code: f for f in db.session.scalars(select(Fund).where(Fund.fiscal_period_id == target.id))}
    rows, postings, posted_for = [], [], []
    with db.session.no_autoflush:   # the copies are written together, by the flush below
        _fund_rows(rollover, source, target, ledgers, planned, by_code, existing, rows, postings, posted_for)
    db.session.add_all(rows)
    db.session.flush()
    ids = funds.post_transactions_bulk(actor, postings, on=day, source_type=SOURCE, source_id=rollover.id)
    for (row, attr), tid in zip(posted_for, ids):
        setattr(row, attr, tid)
    progress("Funds", len(planned), len(planned))


def _fund_rows(rollover, source, target, ledgers, planned, by_code, existing, rows, postings, posted_for) -> None:
    for p in planned:
        src = by_code[p.code]
        copy, created = existing.get(p.code), False
        if p.skipped is None and copy is None:
            copy, created = _copy_fund(src, target, ledgers[src.ledger_id], existing), True
            existing[p.code] = copy
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
    parent = existing.get(src.parent.code) if src.parent is not None else None
    copy = Fund(code=src.code, name=src.name, fiscal_period_id=target.id, ledger=ledger, parent=parent, kind=src.kind,
                external_id=src.external_id, fund_type_id=src.fund_type_id, status=src.status, notes=src.notes,
                overencumbrance_allowed=src.overencumbrance_allowed,
                overencumbrance_limit_percent=src.overencumbrance_limit_percent,
                overexpenditure_allowed=src.overexpenditure_allowed, overexpenditure_limit=src.overexpenditure_limit,
                owner_library_id=src.owner_library_id, available_to_all=src.available_to_all,
                libraries=list(src.libraries), do_not_roll_over=src.do_not_roll_over,
                allocated=Decimal("0"), encumbered=Decimal("0"), expended=Decimal("0"))
    db.session.add(copy)
    return copy


def _roll_lines(actor, rollover, source, target, rules: plan.LineRules, day, progress: Progress) -> None:
    """Open, approved PO lines charging funds of the source: each moved whole or reported as it is.

    Tens of thousands of rows: read as plain columns and written with batched statements (the
    rollover rows, the PO line history, the distributions' new funds), so the session holds no
    ORM object per line."""
    shares = db.session.execute(
        select(POLineFund.id, POLineFund.fund_id, POLineFund.encumbered_amount, POLine.id, POLine.order_type,
               POLine.number, Fund.code)
        .join(POLine, POLine.id == POLineFund.po_line_id).join(Fund, Fund.id == POLineFund.fund_id)
        .where(Fund.fiscal_period_id == source.id, POLine.status.in_(sorted(ENCUMBERING)))
        .order_by(POLine.id, POLineFund.id)).all()
    if not shares:
        return
    total = len({s[3] for s in shares})
    progress("PO lines", 0, total)
    t = FundTransaction
    outstanding = {(pol_id, fund_id): Decimal(total) for pol_id, fund_id, total in db.session.execute(
        select(t.source_id, t.fund_id, func.sum(case((t.kind == "encumbrance", t.amount), else_=-t.amount)))
        .join(Fund, Fund.id == t.fund_id)
        .where(Fund.fiscal_period_id == source.id, t.source_type == orders.SOURCE,
               t.kind.in_(("encumbrance", "disencumbrance")))
        .group_by(t.source_id, t.fund_id))}
    by_line: dict[int, list] = defaultdict(list)
    info = {}
    for share_id, fund_id, enc_amount, pol_id, order_type, number, code in shares:
        by_line[pol_id].append((share_id, fund_id, enc_amount, code))
        info[pol_id] = (order_type, number)
    del shares
    source_lines = [plan.SourceLine(pol_id, info[pol_id][0], tuple(
        plan.LineShare(code, outstanding.get((pol_id, fund_id), Decimal("0.00")), enc_amount or Decimal("0.00"))
        for _sid, fund_id, enc_amount, code in by_line[pol_id]))
        for pol_id in by_line]
    targets = {f.code: f for f in db.session.scalars(select(Fund).where(Fund.fiscal_period_id == target.id))}
    with db.session.no_autoflush:
        planned = plan.plan_lines(source_lines, rules, {
            code: plan.TargetFund(code, f.currency, f.balance, f.rules,
                                  f.kind == "allocated" and f.status == "active" and target.status == "active")
            for code, f in targets.items()})
        del source_lines
        source_funds = {f.id: f for f in db.session.scalars(select(Fund).where(Fund.fiscal_period_id == source.id))}
        releases, encumbrances, rows, moves, events = [], [], [], [], []
        posted = []     # per row: the index of its release in releases, of its encumbrance in encumbrances
        note = f"PO line rolled over from {source.code} to {target.code}"
        actor_id, now = (actor.id if actor else None), utcnow()
        for p in planned:
            pol_id = p.line.key
            for (share_id, fund_id, enc_amount, code), move in zip(by_line[pol_id], p.shares):
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
    del planned, by_line
    progress("PO lines", total // 2, total)   # planned; now the writing
    ids = funds.post_transactions_bulk(actor, releases + encumbrances, on=day)
    rel_ids, enc_ids = ids[:len(releases)], ids[len(releases):]
    for row, (rel, enc) in zip(rows, posted):
        if rel is not None:
            row["release_transaction_id"] = rel_ids[rel]
        if enc is not None:
            row["encumbrance_transaction_id"] = enc_ids[enc]
    insert_rows(db.session, RolloverLine, rows)
    insert_rows(db.session, POLineEvent, events)
    if moves:
        db.session.execute(update(POLineFund), moves)
    _expire_loaded(POLineFund, {m["id"] for m in moves})
    _expire_loaded(POLine, {e["po_line_id"] for e in events}, ["history", "distribution"])
    db.session.expire(rollover, ["lines"])
    progress("PO lines", total, total)


def _expire_loaded(model, ids: set[int], attrs: list[str] | None = None) -> None:
    """Expire the objects of ``model`` among ``ids`` that the session holds (written around the ORM)."""
    held = db.session.identity_map
    for key in [k for k in held.keys() if k[0] is model and k[1][0] in ids]:
        obj = held.get(key)
        if obj is not None:
            db.session.expire(obj, attrs)


# -- undo ---------------------------------------------------------------------------------------

def _own_transactions(rollover: Rollover) -> set[int]:
    """The ids of what a rollover posted on its target funds."""
    own = set()
    for r in rollover.funds:
        own.update(i for i in (r.allocation_transaction_id, r.carry_transaction_id) if i)
    for r in rollover.lines:
        own.update(i for i in (r.encumbrance_transaction_id,) if i)
    return own


def undo(actor, rollover: Rollover) -> Report:
    """Reverse a committed rollover while nothing else was posted to its target funds: the PO
    lines point at their old funds again with their old encumbrance, the target funds give back
    what they were given (new entries: the ledger is append-only). The funds and ledgers it made
    stay, empty, and a new rollover uses them again. The caller commits."""
    require_institution_role(actor, MONEY_MANAGERS, "undo rollovers")
    _lock_period(rollover.source_period)
    db.session.refresh(rollover)
    if rollover.status != "committed":
        raise RuleViolation(f"Rollover {rollover.id} is {Rollover.STATUSES[rollover.status].lower()}; only a "
                            "committed rollover can be undone.", "status")
    own = _own_transactions(rollover)
    target_ids = {r.target_fund_id for r in rollover.funds if r.target_fund_id} | \
                 {r.target_fund_id for r in rollover.lines if r.target_fund_id}
    funds.lock_funds(target_ids | {r.source_fund_id for r in rollover.lines if r.moved})
    t = FundTransaction
    source = rollover.source_period
    note = f"rollover from {source.code} to {rollover.target_period.code} undone"
    # A later rollover of the same periods that was undone since (the PO lines' after the ledgers')
    # left nothing on these funds: its own transactions and those of its undo do not count.
    later = db.session.scalars(select(Rollover).where(
        Rollover.source_period_id == rollover.source_period_id, Rollover.target_period_id == rollover.target_period_id,
        Rollover.id > rollover.id, Rollover.status == "undone")).all()
    for r in later:
        own |= _own_transactions(r)
    others = db.session.execute(
        select(t.id, Fund.code).join(Fund, Fund.id == t.fund_id)
        .where(t.fund_id.in_(sorted(target_ids)), t.id > rollover.watermark, t.id.notin_(sorted(own)),
               *([~((t.note == note) | t.note.endswith(f": {note}"))] if later else []))
        .order_by(t.id).limit(5)).all() if target_ids else []
    if others:
        raise RuleViolation(f"Rollover {rollover.id} cannot be undone: fund {others[0][1]} of "
                            f"{rollover.target_period.code} has had other transactions since.", "status")
    releases, allocations, restores = [], [], []
    for r in rollover.lines:
        if not r.moved:
            continue
        share = db.session.get(POLineFund, r.distribution_id)
        pol = share.po_line
        if r.encumbered:
            releases.append(funds.Posting(r.target_fund, TransactionKind.DISENCUMBRANCE, r.encumbered,
                                          counterpart=r.source_fund, source_type=orders.SOURCE, source_id=pol.id,
                                          reference=pol.number, note=note))
        if r.released:
            restores.append(funds.Posting(r.source_fund, TransactionKind.ENCUMBRANCE, r.released,
                                          counterpart=r.target_fund, source_type=orders.SOURCE, source_id=pol.id,
                                          reference=pol.number, note=note))
        new_code = share.fund.code
        share.fund_id, share.fund = r.source_fund_id, r.source_fund
        share.encumbered_amount = r.old_encumbered_amount
        share.encumbered_currency = r.source_fund.currency if r.old_encumbered_amount is not None else None
        orders.log(pol, actor, "rollover_undone", "fund", f"{new_code} ({rollover.target_period.code})",
                   r.source_fund.code, note)
    for r in rollover.funds:
        for amount, what in ((r.carried, "carried over"), (r.new_allocation, "allocation")):
            if amount:
                allocations.append(funds.Posting(r.target_fund, TransactionKind.ALLOCATION, -amount,
                                                 reference=f"undo rollover {rollover.id}", note=f"{what}: {note}"))
    funds.post_transactions_bulk(actor, releases + allocations + restores, source_type=SOURCE,
                                 source_id=rollover.id)
    rollover.status, rollover.undone_at, rollover.undone_by_id = "undone", utcnow(), actor.id if actor else None
    db.session.flush()
    return report_of(rollover)


# -- rules from a form or a request -------------------------------------------------------------

def _percent(text, field: str) -> Decimal:
    raw = str(text if text is not None else "").strip().replace(" ", "") or "0"
    try:
        value = Decimal(raw)
    except ArithmeticError:
        raise InvalidInput(f"\"{text}\" is not a percent (a number such as 3 or -2.5).", field) from None
    if not value.is_finite() or abs(value) > 1000:
        raise InvalidInput("A percent between -100 and 1000.", field)
    return value


def rules_from(allocation: str = "same", percent="0", carry: str = "none", one_time: str = "remaining",
               continuous: str = "remaining", increase="0") -> tuple[plan.LedgerRules, plan.LineRules]:
    """The default rules of a rollover from plain values (a form, a request body): InvalidInput
    naming the field when one makes no sense."""
    pct = _percent(percent, "percent") if allocation == "adjust" else Decimal("0")
    try:
        fund_rule = plan.FundRule(allocation, pct, carry)
    except plan.RuleError as exc:
        raise InvalidInput(f"The rules make no sense: {exc}.", "percent" if "percent" in str(exc) else "allocation") \
            from None
    try:
        lines = plan.LineRules(plan.EncumbranceRule(one_time),
                               plan.EncumbranceRule(continuous, _percent(increase, "increase")))
    except plan.RuleError as exc:
        raise InvalidInput(f"The PO line rules make no sense: {exc}.", "increase") from None
    return plan.LedgerRules(fund_rule), lines


def rollovers() -> list[Rollover]:
    """Stored rollovers (committed and undone), latest first."""
    return db.session.scalars(select(Rollover).order_by(Rollover.id.desc())).all()


def get_rollover(rollover_id) -> Rollover:
    rollover = db.session.get(Rollover, rollover_id) if isinstance(rollover_id, int) else None
    if rollover is None:
        raise NotFound(f"No rollover {rollover_id}.")
    return rollover
