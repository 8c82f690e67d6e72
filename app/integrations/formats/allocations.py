"""Fund allocation files from the ERP (CSV, .xls or .xlsx): the header row and the rows, checked
for their form only. Which fund and fiscal period a row means is decided by the loader.

The header row holds exactly the five columns below, in any order (case and surrounding spaces
do not matter). A header-only file is a valid file with nothing to load. Row numbers are the
ones the spreadsheet shows: the header is row 1.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ...ledger.money import MAX_AMOUNT, has_cent_precision, to_cents
from ...spreadsheets import SpreadsheetRefused, read_rows
from ...text import T
from . import joined

FUND = "FUND_EXTERNAL_ID"
PERIOD = "FISCAL_PERIOD_ID"
AMOUNT = "AMOUNT"
REFERENCE = "TRANSACTION_REFERENCE_NUMBER"
NOTE = "TRANSACTION_NOTE"
HEADERS = (FUND, PERIOD, AMOUNT, REFERENCE, NOTE)

MAX_FUND_REF = 100
MAX_REFERENCE = 100
MAX_NOTE = 2000
_PLAIN_DECIMAL = re.compile(r"^[+-]?[0-9]{1,20}(\.[0-9]{1,20})?$")
_WHOLE_NUMBER = re.compile(r"^[0-9]{1,9}$")


@dataclass(frozen=True)
class AllocationLine:
    row: int
    fund_ref: str
    period_number: int
    amount: Decimal
    reference: str
    note: str


@dataclass(frozen=True)
class FileError:
    """A refusal: of one row (``row`` as the spreadsheet numbers it) or of the whole file (None)."""
    row: int | None
    message: str

    @property
    def record(self) -> str:
        return T("row %(row)s", row=self.row) if self.row is not None else ""


def parse_allocation_file(data: bytes, file_type: str, *, max_rows: int | None = None,
                          flawed: list | None = None) -> tuple[list[AllocationLine], list[FileError]]:
    """The file's rows, or the reasons it cannot be loaded. Any error means nothing may be
    loaded from the file; row errors are all collected so the report covers the whole file.
    ``flawed``: a list that receives the rows with errors, as far as they could be read."""
    limits = {"max_rows": max_rows} if max_rows else {}
    lines: list[AllocationLine] = []
    errors: list[FileError] = []
    try:
        rows = read_rows(data, file_type, **limits)
        header = next(rows, None)
        if header is None:
            return [], [FileError(None, T("The file is empty: the first row must be the header row (%(headers)s).",
                                          headers=", ".join(HEADERS)))]
        columns, problem = _columns(header)
        if problem:
            return [], [FileError(None, problem)]
        for number, cells in enumerate(rows, start=2):
            if all(_blank(c) for c in cells):
                continue
            line, row_errors = _line(number, cells, columns)
            if row_errors:
                errors.extend(FileError(number, m) for m in row_errors)
                if flawed is not None:
                    flawed.append(line)
            else:
                lines.append(line)
    except SpreadsheetRefused as exc:
        return [], [FileError(None, getattr(exc, "text", None) or str(exc))]
    return lines, errors


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _columns(header: list) -> tuple[dict[str, int], str | None]:
    """Column index of each header; refuses missing, repeated and unknown headers. Cells left
    empty at the end of the header row are no columns (spreadsheets often carry some)."""
    names = [("" if c is None else str(c)).strip().upper() for c in header]
    while names and not names[-1]:
        names.pop()
    columns: dict[str, int] = {}
    unknown = []
    for index, name in enumerate(names):
        if name in HEADERS:
            if name in columns:
                return {}, T("The header %(name)s appears twice.", name=name)
            columns[name] = index
        else:
            unknown.append(name or T("(empty, column %(column)s)", column=index + 1))
    missing = [h for h in HEADERS if h not in columns]
    if missing:
        return {}, T("The header row lacks %(missing)s: it must name exactly the columns %(headers)s.",
                     missing=", ".join(missing), headers=", ".join(HEADERS))
    if unknown:
        return {}, T("The header row has columns the loader does not know: %(unknown)s%(more)s. Only %(headers)s "
                     "are allowed.", unknown=joined(unknown[:5], ", "), more="…" if len(unknown) > 5 else "",
                     headers=", ".join(HEADERS))
    return columns, None


def _line(number: int, cells: list, columns: dict[str, int]) -> tuple[AllocationLine | None, list[str]]:
    def cell(name):
        i = columns[name]
        return cells[i] if i < len(cells) else None

    errors = []
    width = max(columns.values()) + 1
    if any(not _blank(c) for c in cells[width:]):
        errors.append(T("The row has values beyond the header's columns."))
    fund_ref = _text(cell(FUND))
    if not fund_ref:
        errors.append(T("%(column)s is empty.", column=FUND))
    elif len(fund_ref) > MAX_FUND_REF:
        errors.append(T("%(column)s is longer than %(max)s characters.", column=FUND, max=MAX_FUND_REF))
    period, problem = whole_number(cell(PERIOD))
    if problem:
        errors.append(T("%(column)s: %(problem)s", column=PERIOD, problem=problem))
    amount, problem = plain_amount(cell(AMOUNT))
    if problem:
        errors.append(T("%(column)s: %(problem)s", column=AMOUNT, problem=problem))
    reference, note = _text(cell(REFERENCE)), _text(cell(NOTE))
    if len(reference) > MAX_REFERENCE:
        errors.append(T("%(column)s is longer than %(max)s characters.", column=REFERENCE, max=MAX_REFERENCE))
    if len(note) > MAX_NOTE:
        errors.append(T("%(column)s is longer than %(max)s characters.", column=NOTE, max=MAX_NOTE))
    # with errors too: what could be read (None where it could not), so the loader reports the
    # row's other problems (its fund, its period) as well
    return AllocationLine(number, fund_ref, period, amount, reference, note), errors


def _text(value) -> str:
    """A text cell; a whole number typed into a workbook (a fund code such as 12345) reads back
    as a number, and is given back as its digits."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    return str(value).strip()


def whole_number(value) -> tuple[int | None, str | None]:
    """A non-negative whole number: digits, or a workbook number without a fraction (22.0)."""
    if isinstance(value, bool):
        return None, T("not a number.")
    if isinstance(value, int):
        return (value, None) if 0 <= value < 10 ** 9 else (None, T("%(value)s is out of range.", value=value))
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and 0 <= value < 10 ** 9:
            return int(value), None
        return None, T("%(value)s is not a whole number.", value=repr(value))
    text = _text(value)
    if not text:
        return None, T("is empty.")
    if not _WHOLE_NUMBER.match(text):
        return None, T("\"%(value)s\" is not a whole number.", value=text[:40])
    return int(text), None


def plain_amount(value) -> tuple[Decimal | None, str | None]:
    """A non-zero amount with at most two decimals, exactly as written.

    A workbook gives numbers as floats: the shortest text that reads back as the same float
    (``repr``) is what the person typed (13.36 -> "13.36"); a float that needs more digits than
    two decimals (1.234, or 0.1 + 0.2) is refused rather than rounded. No exponents, thousands
    separators, NaN or infinity.
    """
    if isinstance(value, bool):
        return None, T("not a number.")
    if isinstance(value, float):
        if not math.isfinite(value):
            return None, T("not a number.")
        text = repr(value)
    elif isinstance(value, (int, Decimal)):
        text = str(value)
    else:
        text = _text(value)
    if not text:
        return None, T("is empty.")
    if not _PLAIN_DECIMAL.match(text):
        return None, T("\"%(value)s\" is not a plain amount (digits with a decimal point, e.g. 1234.50).", value=text[:40])
    try:
        amount = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern allows only plain decimals
        return None, T("\"%(value)s\" is not a plain amount.", value=text[:40])
    if not has_cent_precision(amount):
        return None, T("%(value)s has more than two decimals.", value=text)
    if abs(amount) >= MAX_AMOUNT:
        return None, T("%(value)s is too large.", value=text)
    if amount == 0:
        return None, T("must not be zero.")
    return to_cents(amount), None
