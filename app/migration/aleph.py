"""Aleph Z76 (budgets) and Z601 (budget transactions) CSV exports: reading and the pure mapping.

No Flask and no database here: :func:`read_z76` and :func:`read_z601` turn the two files into
rows (refusing any malformed file or row with its file name and row number), and
:func:`plan_migration` decides everything the migration will create (fiscal years, ledgers,
summary and allocated funds, limits, fund transactions) together with the report lines that
explain each decision. :mod:`app.migration.budgets` writes the plan through the funds services.
"""
from __future__ import annotations

import csv
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from ..ledger import Balance, check_range
from ..ledger.money import quantize_percent, to_cents

MAX_PERCENT = Decimal("1000")  # the funds services accept over-encumbrance percents up to 1000
MAX_CODE = 40
GENERAL_LEDGER = "GENERAL"
SUMMARY_SUFFIX = "-SUM"
NON_NUMERIC_SUFFIX = "-FUND"

ALLOCATION_TYPES = {"ILC": "initial allocation", "ALC": "allocation", "CRY": "carry-over"}
TRANSFER_TYPES = {"TRN": "transfer"}
ENCUMBRANCE_TYPES = {"ENC": "encumbrance"}
EXPENDITURE_TYPES = {"INV": "invoice", "EXP": "expenditure"}
KNOWN_TYPES = {**ALLOCATION_TYPES, **TRANSFER_TYPES, **ENCUMBRANCE_TYPES, **EXPENDITURE_TYPES}

# Accepted header names (compared in upper case with "-" read as "_"), first one is the documented name.
Z76_COLUMNS = {
    "number": ("Z76_BUDGET_NUMBER",),
    "name": ("Z76_NAME",),
    "valid_from": ("Z76_VALID_DATE_FROM",),
    "valid_to": ("Z76_VALID_DATE_TO",),
    "status": ("Z76_STATUS", "Z76_BUDGET_STATUS"),
    "budget_type": ("Z76_BUDGET_TYPE",),
    "parent": ("Z76_BUDGET_PARENT", "Z76_PARENT_BUDGET"),
    "external": ("Z76_EXTERNAL_BUDGET", "Z76_EXTERNAL_NAME"),
    "switch": ("Z76_SW_ABSOLUTE_PERCENT",),
    "over_committed": ("Z76_MAX_OVER_COMMITTED", "Z76_MAX_OVER_ENCUMBRANCE"),
    "over_expenditure": ("Z76_MAX_OVER_EXPENDITURE",),
    "note_1": ("Z76_NOTE_1",),
    "note_2": ("Z76_NOTE_2",),
    "note_3": ("Z76_NOTE_3",),
    "note_4": ("Z76_NOTE_4",),
    "department": ("Z76_DEPARTMENT",),
    "annual": ("Z76_ANNUAL",),
    "group": ("Z76_SUB_KEY_1",),
}
Z76_REQUIRED = ("number", "name")

Z601_COLUMNS = {
    "budget": ("Z601_BUDGET_NUMBER",),
    "sequence": ("Z601_SEQUENCE",),
    "type": ("Z601_TYPE",),
    "credit_debit": ("Z601_CREDIT_DEBIT",),
    "local_sum": ("Z601_LOCAL_SUM",),
    "open_date": ("Z601_OPEN_DATE",),
    "note": ("Z601_NOTE",),
    "currency": ("Z601_CURRENCY",),
    "original_sum": ("Z601_ORIGINAL_SUM",),
    "currency_date": ("Z601_CURRENCY_DATE",),
    "currency_ratio": ("Z601_CURRENCY_RATIO",),
    "active_sum": ("Z601_ACTIVE_SUM",),
    "object_code": ("Z601_OBJECT_CODE",),
    "user_name": ("Z601_USER_NAME",),
    "invoice_key": ("Z601_REC_KEY_2",),
    "order_key": ("Z601_REC_KEY_3",),
}
Z601_REQUIRED = ("budget", "sequence", "type", "credit_debit", "local_sum")


class AlephInputError(Exception):
    """A file or row the migration refuses; the message names the file and the row."""

    def __init__(self, file_name: str, row: int | None, message: str):
        where = f"{file_name} row {row}" if row else file_name
        super().__init__(f"{where}: {message}")
        self.file_name, self.row = file_name, row


# -- values ------------------------------------------------------------------------------------

_DECIMAL = re.compile(r"[0-9]+\.[0-9]{1,2}")


def parse_aleph_number(text: str) -> Decimal:
    """Aleph's zero-padded form has two implied decimals (``00000000100000`` = 1000.00); a value
    with a point is a plain decimal of at most two places. Anything else is refused (ValueError)."""
    text = text.strip()
    if text.isdigit() and text.isascii():
        text = text.zfill(3)
        return check_range(Decimal(f"{text[:-2]}.{text[-2:]}"))   # AmountError is a ValueError
    if _DECIMAL.fullmatch(text) and text.isascii():
        return to_cents(check_range(Decimal(text)))
    raise ValueError(f"{text!r} is not an amount (digits with 2 implied decimals, or 1234.56)")


@lru_cache(maxsize=8192)
def parse_aleph_date(text: str) -> date | None:
    """YYYYMMDD; empty or all zeros means no date."""
    text = text.strip()
    if not text or set(text) == {"0"}:
        return None
    if not re.fullmatch(r"[0-9]{8}", text):
        raise ValueError(f"{text!r} is not a date YYYYMMDD")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise ValueError(f"{text!r} is not a valid date") from None


# -- reading -----------------------------------------------------------------------------------

@dataclass
class Budget:
    row: int
    number: str
    name: str
    valid_from: date | None = None
    valid_to: date | None = None
    status: str = ""
    budget_type: str = ""
    parent: str = ""
    external_id: str = ""
    switch: str = "A"
    over_committed: Decimal = Decimal("0")
    over_expenditure: Decimal = Decimal("0")
    notes: list[str] = field(default_factory=list)
    department: str = ""
    annual: str = ""
    group: str = ""
    file: str = "Z76"

    @property
    def active(self) -> bool:
        return self.status.upper() == "AC"

    @property
    def limits_in_percent(self) -> bool:
        return self.switch.upper() in ("P", "Y")


@dataclass(slots=True)
class AlephTransaction:
    row: int
    budget: str
    sequence: str
    type: str
    credit_debit: str
    amount: Decimal           # Z601_LOCAL_SUM, unsigned
    open_date: date | None = None
    note: str = ""
    details: str = ""         # the other Z601 fields, "label value; label value"

    @property
    def credit(self) -> bool:
        return self.credit_debit == "C"


def _normal(header: str) -> str:
    return header.strip().lstrip("\ufeff").upper().replace("-", "_")


def _table(stream, file_name: str, columns: dict, required: tuple):
    """(column index per key, iterator of (row number, raw values)); the header row is row 1."""
    reader = csv.reader(stream)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise AlephInputError(file_name, 1, f"unreadable header ({exc})") from None
    if not header:
        raise AlephInputError(file_name, None, "the file is empty; a header row is required")
    names = [_normal(h) for h in header]
    index = {}
    for key, accepted in columns.items():
        for name in accepted:
            if name in names:
                index[key] = names.index(name)
                break
    missing = [columns[key][0] for key in required if key not in index]
    if missing:
        raise AlephInputError(file_name, 1, "missing column(s) " + ", ".join(missing))

    def rows():
        row_number, width = 1, len(header)
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise AlephInputError(file_name, row_number + 1, f"unreadable row ({exc})") from None
            row_number += 1
            if not values:
                continue
            if len(values) != width:
                raise AlephInputError(file_name, row_number, f"{len(values)} fields where the header has {width}")
            yield row_number, values

    return index, rows()


def _rows(stream, file_name: str, columns: dict, required: tuple):
    """Yield (row number, {key: stripped text})."""
    index, rows = _table(stream, file_name, columns, required)
    for row_number, values in rows:
        yield row_number, {key: values[i].strip() for key, i in index.items()}


def read_z76(stream, file_name: str = "Z76") -> list[Budget]:
    budgets, seen = [], {}
    for row, v in _rows(stream, file_name, Z76_COLUMNS, Z76_REQUIRED):
        number = v["number"]
        if not number:
            raise AlephInputError(file_name, row, "Z76_BUDGET_NUMBER is empty")
        if number in seen:
            raise AlephInputError(file_name, row, f"budget {number} already given in row {seen[number]}")
        if not v["name"]:
            raise AlephInputError(file_name, row, f"budget {number} has no Z76_NAME")
        seen[number] = row
        try:
            budget = Budget(
                row=row, number=number, name=v["name"],
                valid_from=parse_aleph_date(v.get("valid_from", "")),
                valid_to=parse_aleph_date(v.get("valid_to", "")),
                status=v.get("status", ""), budget_type=v.get("budget_type", "").upper(),
                parent=v.get("parent", ""), external_id=v.get("external", ""),
                switch=(v.get("switch", "") or "A").upper(),
                over_committed=parse_aleph_number(v.get("over_committed", "") or "0"),
                over_expenditure=parse_aleph_number(v.get("over_expenditure", "") or "0"),
                notes=[v[k] for k in ("note_1", "note_2", "note_3", "note_4") if v.get(k)],
                department=v.get("department", ""), annual=v.get("annual", ""), group=v.get("group", ""),
                file=file_name)
        except ValueError as exc:
            raise AlephInputError(file_name, row, f"budget {number}: {exc}") from None
        if budget.switch not in ("A", "P", "Y", "N"):
            raise AlephInputError(file_name, row, f"Z76_SW_ABSOLUTE_PERCENT {budget.switch!r} is not A or P")
        if budget.parent == number:
            raise AlephInputError(file_name, row, f"budget {number} is its own parent")
        budgets.append(budget)
    return budgets


_EXTRA_LABELS = {"currency": "currency", "original_sum": "original sum", "currency_date": "rate date",
                 "currency_ratio": "ratio", "active_sum": "active sum", "object_code": "object code",
                 "user_name": "user", "invoice_key": "invoice", "order_key": "order"}


def read_z601(stream, budget_numbers, file_name: str = "Z601") -> list[AlephTransaction]:
    known, seen, out = set(budget_numbers), {}, []
    index, rows = _table(stream, file_name, Z601_COLUMNS, Z601_REQUIRED)
    i_budget, i_seq, i_type, i_cd, i_sum = (index[k] for k in Z601_REQUIRED)
    i_date, i_note = index.get("open_date"), index.get("note")
    extra_columns = [(label, index[key]) for key, label in _EXTRA_LABELS.items() if key in index]
    for row, values in rows:
        budget, sequence, kind = values[i_budget].strip(), values[i_seq].strip(), values[i_type].strip().upper()
        if budget not in known:
            raise AlephInputError(file_name, row, f"budget {budget or '(empty)'} is not in the Z76 file")
        if not sequence:
            raise AlephInputError(file_name, row, "Z601_SEQUENCE is empty")
        if (budget, sequence) in seen:
            raise AlephInputError(file_name, row,
                                  f"transaction {budget}/{sequence} already given in row {seen[budget, sequence]}")
        if kind not in KNOWN_TYPES:
            raise AlephInputError(file_name, row, f"unknown Z601_TYPE {values[i_type].strip()!r} (expected one of "
                                  f"{', '.join(KNOWN_TYPES)})")
        cd = values[i_cd].strip().upper()
        if cd not in ("C", "D"):
            raise AlephInputError(file_name, row, f"Z601_CREDIT_DEBIT {values[i_cd].strip()!r} is not C or D")
        try:
            amount = parse_aleph_number(values[i_sum])
            open_date = parse_aleph_date(values[i_date]) if i_date is not None else None
        except ValueError as exc:
            raise AlephInputError(file_name, row, f"transaction {budget}/{sequence}: {exc}") from None
        seen[budget, sequence] = row
        details = "; ".join(f"{label} {v}" for label, i in extra_columns if (v := values[i].strip()))
        out.append(AlephTransaction(row, budget, sequence, kind, cd, amount, open_date,
                                    values[i_note].strip() if i_note is not None else "", details))
    return out


# -- the plan ----------------------------------------------------------------------------------

@dataclass
class YearPlan:
    year: int
    code: str
    start: date
    end: date
    status: str
    why: str


@dataclass
class LedgerPlan:
    year: int
    code: str
    name: str
    why: str


@dataclass
class FundPlan:
    year: int
    code: str
    name: str
    kind: str                 # allocated | summary
    ledger: str               # ledger code in the fund's year
    parent: str | None        # code of the summary fund above, None: directly under the ledger
    budget: str               # the Aleph budget it comes from
    status: str = "active"
    fund_type: str = ""
    external_id: str = ""
    notes: str = ""
    overencumbrance_allowed: bool = False
    overencumbrance_limit_percent: Decimal = Decimal("0")
    overexpenditure_allowed: bool = False
    overexpenditure_limit: Decimal = Decimal("0")
    depth: int = 0            # 0: under the ledger


@dataclass(slots=True)
class PostingPlan:
    budget: str
    kind: str                 # a TransactionKind value
    amount: Decimal           # signed as stored in fund_transaction
    on: date
    reference: str
    note: str
    transfer_id: str | None = None
    counterpart: str | None = None   # budget number of the other transfer leg


@dataclass
class Plan:
    years: dict[int, YearPlan] = field(default_factory=dict)
    ledgers: list[LedgerPlan] = field(default_factory=list)
    funds: list[FundPlan] = field(default_factory=list)               # parents before children
    fund_of_budget: dict[str, FundPlan] = field(default_factory=dict)  # the allocated fund per budget
    postings: list[PostingPlan] = field(default_factory=list)
    aleph_totals: dict[str, Balance] = field(default_factory=dict)
    code_changes: list[str] = field(default_factory=list)
    conversions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    fund_types: list[str] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)


_YEAR_SUFFIX = re.compile(r"^(?P<base>.+)-(?P<year>\d{4})$")


def signed_local_sum(t: AlephTransaction) -> Decimal:
    """+ for a credit (money into the budget), − for a debit."""
    return t.amount if t.credit else -t.amount


_CATEGORY = {**{k: 0 for k in ALLOCATION_TYPES}, **{k: 0 for k in TRANSFER_TYPES},
             **{k: 1 for k in ENCUMBRANCE_TYPES}, **{k: 2 for k in EXPENDITURE_TYPES}}


def aleph_totals(transactions) -> dict[str, Balance]:
    """Each budget's totals computed the way Aleph reports them, straight from Z601 (used to reconcile):
    allocations and transfers count + for a credit; encumbrances and invoices count + for a debit."""
    totals: dict[str, list[Decimal]] = {}
    zero = Decimal(0)
    for t in transactions:
        slot = totals.get(t.budget)
        if slot is None:
            slot = totals[t.budget] = [zero, zero, zero]
        category = _CATEGORY[t.type]
        credit = t.credit_debit == "C"
        if category == 0:
            slot[0] += t.amount if credit else -t.amount
        else:
            slot[category] += -t.amount if credit else t.amount
    return {b: Balance(*v) for b, v in totals.items()}


def estimated_balance(transactions) -> Decimal:
    """Initial allocation + allocation + carry-over + transfers (signed), the base of both limit conversions."""
    return sum((signed_local_sum(t) for t in transactions
                if t.type in ALLOCATION_TYPES or t.type in TRANSFER_TYPES), Decimal(0))


def absolute_to_percent(amount: Decimal, estimated: Decimal) -> Decimal:
    return quantize_percent(amount * 100 / estimated, ROUND_HALF_UP)


def percent_to_absolute(percent: Decimal, estimated: Decimal) -> Decimal:
    return to_cents(percent * estimated / 100, ROUND_HALF_UP)


def _code_and_year(budget: Budget) -> tuple[str, int | None, str | None]:
    """(fund code, year from the suffix or None, why the code changed or None)."""
    m = _YEAR_SUFFIX.match(budget.number)
    if m and 1000 <= int(m["year"]) <= 9999:
        return m["base"], int(m["year"]), f"the -{m['year']} suffix names the fiscal period"
    last = budget.number.rsplit("-", 1)[1] if "-" in budget.number else None
    if last is not None and not last.isdigit():
        return (budget.number + NON_NUMERIC_SUFFIX, None,
                f"non-numeric suffix -{last}: {NON_NUMERIC_SUFFIX} appended to keep the code unique")
    return budget.number, None, None


def _check_code(code: str, budget: Budget, what: str = "fund code") -> None:
    if len(code) > MAX_CODE or any(c.isspace() for c in code):
        raise AlephInputError(budget.file, budget.row, f"budget {budget.number}: {what} {code!r} must be 1–{MAX_CODE} "
                              "characters without spaces")


def _period_for(year: int, budgets: list[Budget]) -> tuple[date, date]:
    starts = [b.valid_from for b in budgets if b.valid_from]
    ends = [b.valid_to for b in budgets if b.valid_to]
    start, end = (min(starts) if starts else date(year, 1, 1)), (max(ends) if ends else date(year, 12, 31))
    if start >= end:
        start, end = date(year, 1, 1), date(year, 12, 31)
    return start, end


def plan_migration(budgets: list[Budget], transactions: list[AlephTransaction]) -> Plan:
    plan = Plan()
    by_number = {b.number: b for b in budgets}
    tx_of: dict[str, list[AlephTransaction]] = defaultdict(list)
    for t in transactions:
        tx_of[t.budget].append(t)
    plan.aleph_totals = {b.number: Balance() for b in budgets} | aleph_totals(transactions)

    # 1. codes and fiscal years: suffix years first, then the budgets without one
    code_of, year_of, suffixed = {}, {}, defaultdict(list)
    for b in budgets:
        code, year, why = _code_and_year(b)
        _check_code(code, b)
        code_of[b.number] = code
        if why:
            plan.code_changes.append(f"{b.number} -> {code}: {why}")
        if year is not None:
            year_of[b.number] = year
            suffixed[year].append(b)
    latest = max(suffixed) if suffixed else None
    for b in budgets:
        if b.number in year_of:
            continue
        if b.valid_to is None:
            raise AlephInputError(b.file, b.row, f"budget {b.number} has no -YYYY suffix and no Z76_VALID_DATE_TO")
        year = b.valid_to.year
        if year in suffixed or latest is None:
            year_of[b.number] = year
            plan.code_changes.append(f"{b.number}: no -YYYY suffix, fiscal period {year} from valid-to "
                                     f"{b.valid_to.isoformat()}")
            if latest is None:
                suffixed.setdefault(year, [])
        else:
            year_of[b.number] = latest
            plan.code_changes.append(f"{b.number}: no -YYYY suffix, valid-to year {year} has no fiscal period, "
                                     f"so the latest one, {latest}")
    members = defaultdict(list)
    for b in budgets:
        members[year_of[b.number]].append(b)
    for year in sorted(members):
        start, end = _period_for(year, suffixed.get(year) or members[year])
        active = any(b.active for b in members[year])
        plan.years[year] = YearPlan(year, f"FY{year}", start, end, "active" if active else "inactive",
                                    "at least one budget is active (AC)" if active else "no budget is active (AC)")

    # 2. hierarchy: a parent must exist in the same fiscal period
    parent_of = {}
    for b in budgets:
        if not b.parent:
            continue
        p = by_number.get(b.parent)
        if p is None:
            plan.warnings.append(f"{b.number}: parent budget {b.parent} is not in the Z76 file; placed under the "
                                 "ledger")
        elif year_of[p.number] != year_of[b.number]:
            plan.warnings.append(f"{b.number}: parent budget {b.parent} is in fiscal period {year_of[p.number]}, "
                                 f"not {year_of[b.number]}; placed under the ledger")
        else:
            parent_of[b.number] = p.number
    children = defaultdict(list)
    for child, parent in parent_of.items():
        children[parent].append(child)
    for b in budgets:  # refuse cycles
        seen, node = set(), b.number
        while node in parent_of:
            if node in seen:
                raise AlephInputError(b.file, b.row, f"budget {b.number}: the budget parents form a cycle")
            seen.add(node)
            node = parent_of[node]

    def height(number):
        return 0 if not children[number] else 1 + max(height(c) for c in children[number])

    def root(number):
        while number in parent_of:
            number = parent_of[number]
        return number

    own_ledger = set()
    for b in budgets:
        if b.number not in parent_of and height(b.number) >= 2:
            own_ledger.add(b.number)
    for year in sorted(members):
        plan.ledgers.append(LedgerPlan(year, GENERAL_LEDGER, f"General ledger {year}", "one per fiscal period"))
    for number in sorted(own_ledger, key=lambda n: by_number[n].row):
        b = by_number[number]
        plan.ledgers.append(LedgerPlan(year_of[number], code_of[number], b.name,
                                       f"budget {number} heads a hierarchy of three or more levels"))

    def summary_code(number):
        return None if number in own_ledger else code_of[number] + SUMMARY_SUFFIX

    def container(number):
        """The summary fund that holds this budget's own fund, or None (the ledger)."""
        if children[number]:
            return summary_code(number)
        parent = parent_of.get(number)
        return summary_code(parent) if parent else None

    def summary_parent(number):
        parent = parent_of.get(number)
        return summary_code(parent) if parent else None

    # 3. funds, parents first (depth from the ledger)
    def depth(number):
        d, node = 0, number
        while node in parent_of:
            if parent_of[node] not in own_ledger:
                d += 1
            node = parent_of[node]
        return d

    for b in budgets:
        code, year, tx = code_of[b.number], year_of[b.number], tx_of[b.number]
        ledger = code_of[root(b.number)] if root(b.number) in own_ledger else GENERAL_LEDGER
        status = "active" if b.active else "inactive"
        if children[b.number] and b.number not in own_ledger:
            scode = summary_code(b.number)
            _check_code(scode, b, "summary fund code")
            plan.code_changes.append(f"{b.number} -> {scode}: summary fund for the budget and its child budgets")
            plan.funds.append(FundPlan(year, scode, b.name, "summary", ledger, summary_parent(b.number), b.number,
                                       status=status, fund_type=b.budget_type,
                                       notes=f"Summary of Aleph budget {b.number} and its child budgets.",
                                       depth=depth(b.number)))
        fund = FundPlan(year, code, b.name, "allocated", ledger, container(b.number), b.number, status=status,
                        fund_type=b.budget_type, external_id=b.external_id, notes="\n".join(b.notes),
                        depth=depth(b.number) + (1 if container(b.number) and children[b.number] else 0))
        _limits(plan, b, fund, tx)
        plan.funds.append(fund)
        plan.fund_of_budget[b.number] = fund
        if b.budget_type and b.budget_type not in plan.fund_types:
            plan.fund_types.append(b.budget_type)
        for what, value in (("department", b.department), ("annual flag", b.annual), ("budget group", b.group)):
            if value:
                plan.dropped[what] = plan.dropped.get(what, 0) + 1
    plan.funds.sort(key=lambda f: f.depth)
    seen_codes = {}
    for f in plan.funds:
        key = (f.year, f.code)
        if key in seen_codes:
            b = by_number[f.budget]
            raise AlephInputError(b.file, b.row, f"budget {f.budget}: fund code {f.code} in fiscal period "
                                  f"{f.year} is also the code of budget {seen_codes[key]}")
        seen_codes[key] = f.budget

    # 4. transactions
    _postings(plan, transactions, by_number, year_of)
    return plan


def _limits(plan: Plan, b: Budget, fund: FundPlan, tx: list[AlephTransaction]) -> None:
    """Over-encumbrance becomes a percent, over-expenditure an absolute sum, both against the estimated balance."""
    percent, limit = b.over_committed, b.over_expenditure
    to_percent = b.over_committed and not b.limits_in_percent
    to_absolute = b.over_expenditure and b.limits_in_percent
    est = estimated_balance(tx) if to_percent or to_absolute else None
    if to_percent:
        percent = absolute_to_percent(b.over_committed, est) if est > 0 else Decimal("0")
        _converted(plan, b.number, est, "over-encumbrance", f"{b.over_committed} (absolute)",
                   f"{b.over_committed} absolute / estimated balance {est} x 100 = {percent} %")
    if to_absolute:
        limit = percent_to_absolute(b.over_expenditure, est) if est > 0 else Decimal("0")
        _converted(plan, b.number, est, "over-expenditure", f"{b.over_expenditure} %",
                   f"{b.over_expenditure} % x estimated balance {est} / 100 = {limit}")
    if percent > MAX_PERCENT:
        plan.warnings.append(f"{b.number}: over-encumbrance {percent} % capped at {MAX_PERCENT} %")
        percent = MAX_PERCENT
    fund.overencumbrance_allowed, fund.overencumbrance_limit_percent = percent > 0, percent
    fund.overexpenditure_allowed, fund.overexpenditure_limit = limit > 0, limit


def _converted(plan: Plan, number: str, est: Decimal, limit: str, given: str, conversion: str) -> None:
    """Report how a limit was converted, or that it could not be (the estimated balance is not positive)."""
    if est > 0:
        plan.conversions.append(f"{number}: {limit} {conversion}")
    else:
        plan.warnings.append(f"{number}: {limit} {given} not converted: the estimated balance is {est}; "
                             f"no {limit} allowed")


_TRANSFER_TARGET = re.compile(r"transf\w*\s+to\s+(\S+)", re.IGNORECASE)


def _kind_and_amount(t: AlephTransaction) -> tuple[str, Decimal]:
    if t.type in ALLOCATION_TYPES:
        return "allocation", signed_local_sum(t)
    if t.type in TRANSFER_TYPES:
        return "transfer", signed_local_sum(t)
    if t.type in ENCUMBRANCE_TYPES:
        return ("disencumbrance" if t.credit else "encumbrance"), t.amount
    return "expenditure", -signed_local_sum(t)


def _note(t: AlephTransaction) -> str:
    head = f"Aleph {t.type} {t.credit_debit} {t.budget}/{t.sequence}" + (f" ({t.details})" if t.details else "")
    return f"{t.note} | {head}" if t.note else head


def _postings(plan: Plan, transactions, by_number, year_of) -> None:
    # pair transfer legs: the debit names its target in the note, the target has a credit of the same sum
    credits = defaultdict(list)
    for t in transactions:
        if t.type in TRANSFER_TYPES and t.credit:
            credits[t.budget, t.amount].append(t)
    partner: dict[int, AlephTransaction] = {}
    for t in transactions:
        if not (t.type in TRANSFER_TYPES and not t.credit):
            continue
        m = _TRANSFER_TARGET.search(t.note)
        target = m.group(1).rstrip(".,;") if m else None
        if not target or target not in by_number or year_of[target] != year_of[t.budget]:
            continue
        pool = [c for c in credits[target, t.amount] if id(c) not in partner]
        if pool:
            c = min(pool, key=lambda c: (c.open_date != t.open_date, c.row))
            partner[id(t)], partner[id(c)] = c, t
    pair_ids: dict[int, str] = {}
    for t in transactions:
        kind, amount = _kind_and_amount(t)
        if amount == 0:
            plan.skipped.append(f"{t.budget}/{t.sequence} ({t.type}, Z601 row {t.row}): zero local sum, "
                                "nothing to post")
            continue
        fund = plan.fund_of_budget[t.budget]
        other = partner.get(id(t))
        transfer_id = None
        if other is not None:
            transfer_id = pair_ids.get(id(other)) or str(uuid.uuid4())
            pair_ids[id(t)] = transfer_id
        elif kind == "transfer":
            plan.warnings.append(f"{t.budget}/{t.sequence}: transfer leg without a matching leg in the same "
                                 "fiscal period; migrated on its own")
        plan.postings.append(PostingPlan(
            t.budget, kind, amount, t.open_date or plan.years[fund.year].start, t.sequence[:100], _note(t),
            transfer_id=transfer_id, counterpart=other.budget if other is not None else None))


def fund_balances(plan: Plan, postings: list | None = None) -> dict[str, Balance]:
    """Each budget's fund balance after its postings (what the cached balance columns come to);
    with ``postings`` (a part of the plan's), what those add, for the budgets they touch."""
    out = {number: [Decimal(0)] * 3 for number in plan.fund_of_budget} if postings is None else {}
    for p in plan.postings if postings is None else postings:
        slot = out.setdefault(p.budget, [Decimal(0)] * 3)
        if p.kind in ("allocation", "transfer"):
            slot[0] += p.amount
        elif p.kind == "encumbrance":
            slot[1] += p.amount
        elif p.kind == "disencumbrance":
            slot[1] -= p.amount
        else:
            slot[2] += p.amount
    return {n: Balance(*v) for n, v in out.items()}
