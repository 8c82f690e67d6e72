"""Writing an Aleph migration plan (see :mod:`app.migration.aleph`) into fiscal periods, ledgers and funds.

Fiscal periods, fund types and ledgers go through the funds services. Funds and their historical
transactions are written in bulk (one INSERT batch per tree level, then batches of fund
transactions) because the posting services lock, check and flush one posting at a time and
refuse postings on inactive funds and closed periods: Aleph's history already happened, so it
is migrated as it stands, limits included, and the limits apply to new postings from then on.
The cached balance columns are set to the sums of the inserted rows, so ``flask ledger check``
stays clean.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from ..auth.services import service_user
from ..auth.models import User, utcnow
from ..errors import Duplicate
from ..extensions import db
from ..funds import services as fs
from ..funds.models import FiscalPeriod, Fund, FundTransaction, FundType
from ..ledger import Balance
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


def apply_plan(plan: Plan, actor: User, currency: str) -> Applied:
    """Create everything in the current transaction (the caller commits or rolls back)."""
    currency = fs.check_currency(currency)
    periods, reused = {}, []
    for year, yp in sorted(plan.years.items()):
        fp = db.session.scalar(select(FiscalPeriod).where(FiscalPeriod.code == yp.code))
        if fp is None:
            fp = fs.create_fiscal_period(actor, yp.code, f"Fiscal year {year}", yp.start, yp.end, yp.status)
        else:
            reused.append(yp.code)
        periods[year] = fp
    created_types = []
    types = {}
    for code in plan.fund_types:
        ft = db.session.scalar(select(FundType).where(FundType.code == code))
        if ft is None:
            ft = fs.create_fund_type(actor, code, code)
            created_types.append(code)
        types[code] = ft
    ledgers = {}
    for lp in plan.ledgers:
        ledgers[lp.year, lp.code] = fs.create_ledger(actor, lp.code, lp.name, periods[lp.year], currency)
    taken = {(fp_id, code) for fp_id, code in db.session.execute(
        select(Fund.fiscal_period_id, Fund.code).where(Fund.fiscal_period_id.in_([p.id for p in periods.values()])))}
    for f in plan.funds:
        if (periods[f.year].id, f.code) in taken:
            raise Duplicate(f"Fund code {f.code} already exists in fiscal period {periods[f.year].code} "
                            f"(from Aleph budget {f.budget}).")

    balances = fund_balances(plan)
    ids: dict[tuple[int, str], int] = {}
    levels: dict[int, list] = {}
    for f in plan.funds:
        levels.setdefault(f.depth, []).append(f)
    year_of_period = {fp.id: year for year, fp in periods.items()}
    for depth in sorted(levels):  # parents get their ids before the next level refers to them
        values = []
        for f in levels[depth]:
            bal = balances.get(f.budget, Balance()) if f.kind == "allocated" else Balance()
            values.append({
                "code": f.code, "name": f.name[:200], "fiscal_period_id": periods[f.year].id,
                "ledger_id": ledgers[f.year, f.ledger].id,
                "parent_id": ids[f.year, f.parent] if f.parent else None, "kind": f.kind,
                "external_id": f.external_id[:100], "fund_type_id": types[f.fund_type].id if f.fund_type else None,
                "status": f.status, "notes": f.notes, "overencumbrance_allowed": f.overencumbrance_allowed,
                "overencumbrance_limit_percent": f.overencumbrance_limit_percent,
                "overexpenditure_allowed": f.overexpenditure_allowed, "overexpenditure_limit": f.overexpenditure_limit,
                "owner_library_id": None, "available_to_all": True,
                "allocated": bal.allocated, "encumbered": bal.encumbered, "expended": bal.expended})
        _insert_many(Fund.__table__, values)
        # codes are unique per fiscal period, so the new ids are found by (period, code)
        for fund_id, period_id, code in db.session.execute(
                select(Fund.id, Fund.fiscal_period_id, Fund.code).where(Fund.fiscal_period_id.in_(year_of_period))):
            ids.setdefault((year_of_period[period_id], code), fund_id)
    fund_ids = {f.budget: ids[f.year, f.code] for f in plan.funds if f.kind == "allocated"}

    rows = transaction_rows(plan, fund_ids, actor.id, currency)
    _insert_many(FundTransaction.__table__, rows)
    return Applied(periods, reused, created_types, fund_ids,
                   sum(1 for f in plan.funds if f.kind == "summary"), len(rows))


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
    rebuilt = fs.recomputed_balances(ids if len(ids) <= BATCH else None)
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
