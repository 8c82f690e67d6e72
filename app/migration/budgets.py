"""Writing an Aleph migration plan (see :mod:`app.migration.aleph`) into fiscal periods, ledgers and funds.

Fiscal periods, fund types and ledgers go through the funds services. Funds and their historical
transactions are written in bulk (one INSERT batch per tree level, then batches of fund
transactions) because the posting services lock, check and flush one posting at a time and
refuse postings on inactive funds and closed periods: Aleph's history already happened, so it
is migrated as it stands, limits included, and the limits apply to new postings from then on.

Two steps, so that no step holds the database for long: :func:`apply_structure` creates the
periods, types, ledgers and funds (cached balances zero) in one transaction, so a clash refuses
the whole migration with nothing written; :func:`post_history` then inserts the transactions in
chunks, each committed with the cached balances of its funds raised by the plan's amounts (so
``flask ledger check`` is clean at every commit) and the count done so far. A migration that dies
part-way carries on from there when run again with the same files (see :mod:`.run`).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import bindparam, select, update

from ..auth.services import service_user
from ..auth.models import User
from ..clock import utcnow
from ..errors import DomainError, Duplicate
from ..extensions import db
from ..funds import services as funds
from ..funds.models import FiscalPeriod, Fund, FundTransaction, FundType
from ..ledger import Balance
from ..text import T
from .aleph import Plan, fund_balances

MIGRATION_USERNAME = "aleph-migration"
BATCH = 5000


def migration_actor(username: str | None = None) -> User:
    """The user the migration acts as: ``username``, or an institution administrator that cannot log in."""
    name = username or MIGRATION_USERNAME
    user = db.session.scalar(select(User).filter_by(username=name))
    if user is None and username:
        raise LookupError(f"No user {username}.")
    return user or service_user(MIGRATION_USERNAME, "Aleph budget migration")


@dataclass
class Applied:
    periods: dict[int, FiscalPeriod]
    reused_periods: list[str]
    created_types: list[str]
    fund_ids: dict[str, int]            # budget number -> its allocated fund's id
    summary_count: int
    transaction_count: int


def transaction_rows(plan: Plan, fund_ids: dict[str, int], actor_id: int, currency: str) -> list[dict]:
    """The fund_transaction rows to insert, in Z601 order."""
    now = utcnow()
    return [{"fund_id": fund_ids[p.budget], "kind": p.kind, "amount": p.amount, "currency": currency,
             "transaction_date": p.on, "reference": p.reference, "note": p.note, "actor_id": actor_id,
             "created_at": now, "transfer_id": p.transfer_id,
             "counterpart_fund_id": fund_ids[p.counterpart] if p.counterpart else None,
             "source_type": "aleph_z601", "source_id": None}
            for p in plan.postings]


def _insert_many(table, rows: list[dict]) -> None:
    """INSERT rows through the driver (executemany on SQLite, COPY on PostgreSQL), converting each
    value with its column type's bind processor (exact money on both databases); SQLAlchemy's
    per-row statement handling costs more than the insert itself at 200,000 rows."""
    if not rows:
        return
    connection = db.session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    columns = [table.c[name] for name in names]
    processors = [c.type._cached_bind_processor(dialect) for c in columns]
    placeholder = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
           f"({', '.join(dialect.identifier_preparer.quote(n) for n in names)}) "
           f"VALUES ({', '.join([placeholder] * len(names))})")
    by_column = []
    for name, proc in zip(names, processors):
        values = [row[name] for row in rows]
        if proc is not None:
            values = [None if v is None else proc(v) for v in values]
        by_column.append(values)
    converted = list(zip(*by_column))
    if dialect.name == "postgresql":  # COPY: one stream instead of a round trip per row
        cursor = connection.connection.cursor()
        try:
            with cursor.copy(f"COPY {dialect.identifier_preparer.format_table(table)} "
                             f"({', '.join(dialect.identifier_preparer.quote(n) for n in names)}) FROM STDIN") as copy:
                for row in converted:
                    copy.write_row(row)
        finally:
            cursor.close()
        return
    for start in range(0, len(converted), BATCH):
        connection.exec_driver_sql(sql, converted[start:start + BATCH])


def apply_structure(plan: Plan, actor: User, currency: str) -> Applied:
    """Create the periods, fund types, ledgers and funds (cached balances zero) in the current
    transaction (the caller commits or rolls back); the transactions come with :func:`post_history`."""
    currency = funds.check_currency(currency)
    periods, reused = {}, []
    for year, yp in sorted(plan.years.items()):
        fp = db.session.scalar(select(FiscalPeriod).where(FiscalPeriod.code == yp.code))
        if fp is None:
            fp = funds.create_fiscal_period(actor, yp.code, f"Fiscal year {year}", yp.start, yp.end, yp.status)
        else:
            reused.append(yp.code)
        periods[year] = fp
    created_types = []
    types = {}
    for code in plan.fund_types:
        ft = db.session.scalar(select(FundType).where(FundType.code == code))
        if ft is None:
            ft = funds.create_fund_type(actor, code, code)
            created_types.append(code)
        types[code] = ft
    ledgers = {}
    for lp in plan.ledgers:
        ledgers[lp.year, lp.code] = funds.create_ledger(actor, lp.code, lp.name, periods[lp.year], currency)
    taken = {(fp_id, code) for fp_id, code in db.session.execute(
        select(Fund.fiscal_period_id, Fund.code).where(Fund.fiscal_period_id.in_([p.id for p in periods.values()])))}
    for f in plan.funds:
        if (periods[f.year].id, f.code) in taken:
            raise Duplicate(f"Fund code {f.code} already exists in fiscal period {periods[f.year].code} "
                            f"(from Aleph budget {f.budget}).")

    ids: dict[tuple[int, str], int] = {}
    levels: dict[int, list] = {}
    for f in plan.funds:
        levels.setdefault(f.depth, []).append(f)
    year_of_period = {fp.id: year for year, fp in periods.items()}
    for depth in sorted(levels):  # parents get their ids before the next level refers to them
        values = []
        for f in levels[depth]:
            values.append({
                "code": f.code, "name": f.name[:200], "fiscal_period_id": periods[f.year].id,
                "ledger_id": ledgers[f.year, f.ledger].id,
                "parent_id": ids[f.year, f.parent] if f.parent else None, "kind": f.kind,
                "external_id": f.external_id[:100], "fund_type_id": types[f.fund_type].id if f.fund_type else None,
                "status": f.status, "notes": f.notes, "overencumbrance_allowed": f.overencumbrance_allowed,
                "overencumbrance_limit_percent": f.overencumbrance_limit_percent,
                "overexpenditure_allowed": f.overexpenditure_allowed, "overexpenditure_limit": f.overexpenditure_limit,
                "owner_library_id": None, "available_to_all": True,
                "allocated": Decimal(0), "encumbered": Decimal(0), "expended": Decimal(0)})
        _insert_many(Fund.__table__, values)
        # codes are unique per fiscal period, so the new ids are found by (period, code)
        for fund_id, period_id, code in db.session.execute(
                select(Fund.id, Fund.fiscal_period_id, Fund.code).where(Fund.fiscal_period_id.in_(year_of_period))):
            ids.setdefault((year_of_period[period_id], code), fund_id)
    fund_ids = {f.budget: ids[f.year, f.code] for f in plan.funds if f.kind == "allocated"}
    return Applied(periods, reused, created_types, fund_ids,
                   sum(1 for f in plan.funds if f.kind == "summary"), len(plan.postings))


def planned_fund_ids(plan: Plan) -> dict[str, int]:
    """Budget number -> its allocated fund's id, for funds :func:`apply_structure` created before."""
    codes = {(f"{plan.years[f.year].code}", f.code): f.budget for f in plan.funds if f.kind == "allocated"}
    found = {}
    periods = sorted({period for period, _code in codes})
    for fund_id, period, code in db.session.execute(
            select(Fund.id, FiscalPeriod.code, Fund.code).join(FiscalPeriod, Fund.fiscal_period_id == FiscalPeriod.id)
            .where(FiscalPeriod.code.in_(periods))):
        if (period, code) in codes:
            found[codes[period, code]] = fund_id
    missing = sorted(set(codes.values()) - set(found))
    if missing:
        raise LookupError(f"The funds of Aleph budgets {', '.join(missing[:5])} are gone; the migration cannot "
                          "carry on.")
    return found


def chunk_ends(plan: Plan, size: int) -> list[int]:
    """Where the chunks of :func:`post_history` end (exclusive indexes into ``plan.postings``):
    about ``size`` postings each, never parting the two legs of a transfer."""
    last_leg: dict[str, int] = {}
    for i, p in enumerate(plan.postings):
        if p.transfer_id:
            last_leg[p.transfer_id] = i
    ends, open_until, start = [], -1, 0
    for i, p in enumerate(plan.postings):
        if p.transfer_id:
            open_until = max(open_until, last_leg[p.transfer_id])
        if i + 1 - start >= size and i >= open_until:
            ends.append(i + 1)
            start = i + 1
    if start < len(plan.postings):
        ends.append(len(plan.postings))
    return ends


def post_history(plan: Plan, fund_ids: dict[str, int], actor_id: int, currency: str, start: int,
                 on_chunk, size: int = 1000) -> int:
    """Insert ``plan.postings[start:]`` in chunks of about ``size``: each chunk's rows, and its
    funds' cached balances raised by the plan's amounts, then ``on_chunk(done)`` (which commits).
    Returns the number of postings done."""
    rows = transaction_rows(plan, fund_ids, actor_id, currency)
    fund = Fund.__table__
    raise_balances = (update(fund).where(fund.c.id == bindparam("fid"))
                      .values(allocated=fund.c.allocated + bindparam("da", type_=fund.c.allocated.type),
                              encumbered=fund.c.encumbered + bindparam("de", type_=fund.c.encumbered.type),
                              expended=fund.c.expended + bindparam("dx", type_=fund.c.expended.type)))
    done = start
    for end in chunk_ends(plan, size):
        if end <= start:
            continue
        _insert_many(FundTransaction.__table__, rows[done:end])
        sums = fund_balances(plan, plan.postings[done:end])
        db.session.execute(raise_balances, [{"fid": fund_ids[number], "da": b.allocated, "de": b.encumbered,
                                             "dx": b.expended} for number, b in sums.items()
                                            if b != Balance()])
        done = end
        on_chunk(done)
    return done


@dataclass
class ReconciledBudget:
    budget: str
    fund: str
    period: str
    aleph: Balance
    cached: Balance
    recomputed: Balance

    @property
    def matches(self) -> bool:
        return self.aleph == self.cached == self.recomputed


def reconcile(plan: Plan, fund_ids: dict[str, int]) -> list[ReconciledBudget]:
    """Per budget: Aleph's totals from Z601 beside the fund's cached balances and the sums of its transactions."""
    ids = list(fund_ids.values())
    cached = {}
    for start in range(0, len(ids), BATCH):
        q = (select(Fund.id, Fund.code, FiscalPeriod.code, Fund.allocated, Fund.encumbered, Fund.expended)
             .join(FiscalPeriod, Fund.fiscal_period_id == FiscalPeriod.id)
             .where(Fund.id.in_(ids[start:start + BATCH])))
        for fund_id, code, period, a, e, x in db.session.execute(q):
            cached[fund_id] = (code, period, Balance(a, e, x))
    rebuilt = funds.recomputed_balances(ids if len(ids) <= BATCH else None)
    out = []
    for number, fund_id in fund_ids.items():
        code, period, balance = cached[fund_id]
        out.append(ReconciledBudget(number, code, period, plan.aleph_totals[number], balance,
                                    rebuilt.get(fund_id, Balance())))
    return out


def _fmt(value: Decimal) -> str:
    return f"{value:,.2f}"


def reconciliation_lines(rows: list[ReconciledBudget]) -> list[str]:
    header = (f"{'Aleph budget':<30} {'fund':<30} {'period':<8} {'Aleph allocated':>16} {'fund allocated':>16} "
              f"{'Aleph encumbered':>16} {'fund encumbered':>16} {'Aleph expended':>16} {'fund expended':>16} "
              f"{'Aleph available':>16} {'fund available':>16}  result")
    lines = [header]
    for r in rows:
        result = "OK" if r.matches else "DIFFERS"
        if r.cached != r.recomputed:
            result += " (the fund's cached balance differs from its transactions)"
        got = r.recomputed
        lines.append(f"{r.budget:<30} {r.fund:<30} {r.period:<8} {_fmt(r.aleph.allocated):>16} "
                     f"{_fmt(got.allocated):>16} {_fmt(r.aleph.encumbered):>16} {_fmt(got.encumbered):>16} "
                     f"{_fmt(r.aleph.expended):>16} {_fmt(got.expended):>16} {_fmt(r.aleph.available):>16} "
                     f"{_fmt(got.available):>16}  {result}")
    differing = sum(1 for r in rows if not r.matches)
    lines.append(f"{len(rows)} budget(s) reconciled, {differing} differ.")
    return lines


def plan_report(plan: Plan, applied: Applied | None, currency: str, dry_run: bool) -> list[str]:
    """Counts per fiscal period, every code change, every conversion, warnings and skipped rows."""
    lines = [f"Aleph budget migration{' (DRY RUN: nothing was written)' if dry_run else ''}",
             f"Currency: {currency}; everything owned by the institution and available to all libraries.", ""]
    counts = {}
    for f in plan.funds:
        c = counts.setdefault(f.year, {"allocated": 0, "summary": 0})
        c[f.kind] += 1
    kinds = {}
    year_of_budget = {b: f.year for b, f in plan.fund_of_budget.items()}
    for p in plan.postings:
        k = kinds.setdefault(year_of_budget[p.budget], {})
        k[p.kind] = k.get(p.kind, 0) + 1
    lines.append("Fiscal periods:")
    reused = set(applied.reused_periods) if applied else set()
    for year, yp in sorted(plan.years.items()):
        c, k = counts.get(year, {}), kinds.get(year, {})
        ledgers = [lp.code for lp in plan.ledgers if lp.year == year]
        lines.append(f"  {yp.code} {yp.start.isoformat()}..{yp.end.isoformat()} {yp.status} ({yp.why})"
                     f"{' [already existed, reused]' if yp.code in reused else ''}: "
                     f"{c.get('allocated', 0)} allocated fund(s), {c.get('summary', 0)} summary fund(s), "
                     f"ledgers {', '.join(ledgers)}; transactions "
                     + (", ".join(f"{n} {kind}" for kind, n in sorted(k.items())) or "none"))
    lines.append(f"Total: {len(plan.fund_of_budget)} budget(s), {len(plan.postings)} transaction(s) to post, "
                 f"{len(plan.skipped)} skipped.")
    for lp in plan.ledgers:
        if lp.code != "GENERAL":
            lines.append(f"Ledger {lp.code} in FY{lp.year}: {lp.why}.")
    if plan.fund_types:
        created = applied.created_types if applied else plan.fund_types
        lines.append(f"Fund types used: {', '.join(plan.fund_types)}"
                     + (f" (created: {', '.join(created)})" if created else ""))
    if plan.dropped:
        lines.append("Not migrated: " + ", ".join(f"{what} on {n} budget(s)" for what, n in plan.dropped.items()))
    for title, items in (("Codes changed", plan.code_changes), ("Limit conversions", plan.conversions),
                         ("Warnings", plan.warnings), ("Skipped transactions", plan.skipped)):
        lines.append("")
        lines.append(f"{title} ({len(items)}):")
        lines.extend(f"  {item}" for item in items)
    return lines


# -- the migration as a run --------------------------------------------------------------------

JOB = KIND = "aleph_budgets"
CHUNK_POSTINGS = 1000


def migrate_in_chunks(run_log, chunks, load_id: int, plan: Plan, actor_id: int, currency: str, result: dict) -> str:
    """The body of an ``aleph_budgets`` run (:mod:`app.integrations.loads`): the structure in one
    transaction, then the history in chunks; carries on after the last committed chunk when the
    same files were being migrated by a run that died. ``result["applied"]`` tells the caller
    what was created (for its report)."""
    from ..integrations.loads import LoadRefused
    from ..integrations.models import BulkLoad

    load = db.session.get(BulkLoad, load_id)
    actor = db.session.get(User, actor_id)
    total = len(plan.postings)
    if load.stage != "history":
        try:
            applied = apply_structure(plan, actor, currency)
        except (DomainError, LookupError) as exc:
            raise LoadRefused(T("Refused, nothing written: %(reason)s", reason=getattr(exc, "text", None) or str(exc))) \
                from None
        load.stage, load.progress, start = "history", 0, 0
        run_log.info(T("Created %(periods)s fiscal period(s), %(ledgers)s ledger(s), %(funds)s fund(s); %(total)s "
                       "transaction(s) to post.", periods=len(applied.periods) - len(applied.reused_periods),
                       ledgers=len(plan.ledgers), funds=len(plan.funds), total=total))
    else:
        start = load.progress
        applied = Applied({}, [], [], planned_fund_ids(plan), sum(1 for f in plan.funds if f.kind == "summary"), total)
        run_log.info(T("Carrying on: the funds and %(start)s of %(total)s transaction(s) were written by an earlier "
                       "run of these files.", start=start, total=total))
        result["resumed_from"] = start
    result["applied"] = applied
    run_log.progress(start, total)
    chunks.commit()

    def on_chunk(done: int) -> None:
        run_log.count(records=done - run_log.done)
        run_log.progress(done)
        db.session.get(BulkLoad, load_id).progress = done   # committed with the chunk
        chunks.maybe_commit()

    post_history(plan, applied.fund_ids, actor_id, currency, start, on_chunk, CHUNK_POSTINGS)
    if start:
        return T("%(budgets)s budget(s) migrated, %(total)s transaction(s) posted (%(this_run)s by this run).",
                 budgets=len(plan.fund_of_budget), total=total, this_run=total - start)
    return T("%(budgets)s budget(s) migrated, %(total)s transaction(s) posted.", budgets=len(plan.fund_of_budget),
             total=total)
