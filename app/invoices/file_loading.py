"""Invoices loaded from an Excel file (.xlsx or .xls) for one vendor: parse → preview → load.

One row per invoice line; the invoice's own columns are repeated on each of its rows or given
only on its first row (a row with no invoice number continues the invoice above). Rows are
grouped by invoice number, so the same number twice with different invoice columns is an error.

:func:`check_file` (the preview) reads the rows, looks up every PO line, fund and library in bulk
and reports each row's problems. Each invoice without one then goes through the invoice services'
own checks without writing anything (``validate_invoice``: header and line cleaning, uniqueness per
vendor, the owner's scope, fund distribution, the vendor/VAT question), and — on the unsaved,
never-added Invoice it answers — the over-expenditure check, the review rules and the approval rules, so
the preview says where each invoice would land. (The rare invoice the dry run cannot model, VAT
raised to a governmental vendor, is tried through ``create_invoice`` in a savepoint that is rolled
back.) :func:`load_file` creates each valid invoice with ``create_invoice(channel="file")`` then
``process_invoice``, each in its own savepoint: one that fails is rolled back and skipped with its
reason. The caller commits.
"""
from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from markupsafe import Markup
from sqlalchemy import func, select

from ..errors import DomainError, Duplicate, InvalidInput
from ..extensions import db
from ..funds import services as funds
from ..funds.distribution import Share, parse_money, parse_percent
from ..funds.scope import visible_funds_clause
from ..ledger import format_money
from ..funds.models import FiscalPeriod, Fund
from ..orders import services as orders
from ..orders.models import POLine
from ..org.models import Library
from ..spreadsheets import MAX_FILE_BYTES, SpreadsheetRefused, file_type_of, read_rows, safe_cell, safe_row  # noqa: F401
from ..text import T, Text, english
from ..vendors.models import Vendor
from . import charges, rules, settings
from . import services as invoices
from .models import PAYMENT_METHODS, STATUSES, Invoice

MAX_LINES = 20_000
FILE_TYPES = ("xlsx", "xls")
CHANNEL = "file"
VAT_ANSWERS = ("yes", "add_vat", "no_vat")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    level: str          # "invoice" or "line"
    required: bool
    help: str

    @property
    def help_html(self) -> Markup:
        """The help in the reader's language, the values to type in the file (its arguments) as code."""
        if not isinstance(self.help, Text) or not self.help.args:
            return Markup.escape(self.help)
        sentence = str(Text(self.help.msgid))   # translated, its placeholders kept
        return Markup.escape(sentence) % {key: Markup('<code translate="no">%s</code>') % value
                                          for key, value in self.help.args.items()}


# ``label`` is the column's name in the file (English: the name the file's first row gives), ``help``
# a sentence for people (translated when shown).
COLUMNS = [
    Column("number", "Invoice number", "invoice", True, T("As printed on the invoice; unique per vendor. Empty: the "
           "row is another line of the invoice above.")),
    Column("invoice_date", "Invoice date", "invoice", True, T("A date cell, or text such as 2026-03-01.")),
    Column("currency", "Currency", "invoice", False, T("ISO code such as EUR. Empty: the vendor's currency.")),
    Column("total_amount", "Total amount", "invoice", True, T("As printed on the invoice: the lines, the charges "
           "and VAT added on top. Negative for a refund.")),
    Column("owner_library", "Owner library", "invoice", False, T("Library code, or the institution's code. Empty: "
           "the library of all the invoice's PO lines when they share one, else the institution.")),
    Column("payment_method", "Payment method", "invoice", False, T("One of: %(methods)s. Empty: bank transfer.",
           methods=", ".join(english(m) for m in PAYMENT_METHODS.values()))),   # the English names
    Column("reference_number", "Reference", "invoice", False, T("Any reference (at most 100 characters).")),
    Column("due_date", "Due date", "invoice", False, T("A date, not before the invoice date.")),
    Column("notes", "Notes", "invoice", False, T("Notes on the invoice.")),
    Column("vat_code", "VAT code", "invoice", False, T("VAT on the whole invoice: its code.")),
    Column("vat_percent", "VAT %", "invoice", False, T("VAT on the whole invoice: its percent.")),
    Column("vat_amount", "VAT amount", "invoice", False, T("VAT on the whole invoice. Empty: from the percent.")),
    Column("vat_inclusive", "Prices include VAT", "invoice", False, T("%(yes)s or %(no)s (empty: %(no)s).",
           yes="yes", no="no")),
    Column("vat_confirm", "VAT confirmation", "invoice", False, T("The answer when the vendor's VAT liability and "
           "the VAT reported disagree: %(yes)s, or %(add_vat)s / %(no_vat)s for a vendor with a governmental vendor.",
           yes="yes", add_vat="add_vat", no_vat="no_vat")),
    Column("shipment", "Shipment", "invoice", False, T("Shipment charge, spread pro rata over the lines.")),
    Column("insurance", "Insurance", "invoice", False, T("Insurance charge, spread pro rata over the lines.")),
    Column("overhead", "Overhead", "invoice", False, T("Overhead charge, spread pro rata over the lines.")),
    Column("discount", "Discount", "invoice", False, T("Discount (negative), spread pro rata over the lines.")),
    Column("po_line", "POL number", "line", False, T("The order line invoiced, e.g. POL-000012.")),
    Column("quantity", "Quantity", "line", False, T("A whole number. Empty: 1.")),
    Column("unit_price", "Unit price", "line", True, T("Price of one item in the invoice currency.")),
    Column("line_total", "Line total", "line", False, T("Empty: quantity × unit price.")),
    Column("funds", "Funds", "line", False, T("Fund code, or codes with percents: A-BKS 60; SHARED 40.")),
    Column("reporting_code", "Reporting code", "line", False, T("Reporting code of the line.")),
    Column("fully_invoiced", "Fully invoiced", "line", False, T("%(yes)s or %(no)s (empty: %(yes)s). %(no)s leaves "
           "the PO line open.", yes="yes", no="no")),
    Column("subscription_from", "Subscription from", "line", False, T("A date.")),
    Column("subscription_to", "Subscription to", "line", False, T("A date after the start.")),
    Column("line_vat_code", "Line VAT code", "line", False, T("VAT per line: its code.")),
    Column("line_vat_percent", "Line VAT %", "line", False, T("VAT per line: its percent.")),
    Column("line_vat_amount", "Line VAT amount", "line", False, T("VAT per line. Empty: from the percent.")),
    Column("price_note", "Price note", "line", False, T("A note on the price.")),
    Column("line_note", "Line note", "line", False, T("A note on the line.")),
]
BY_KEY = {c.key: c for c in COLUMNS}
INVOICE_KEYS = [c.key for c in COLUMNS if c.level == "invoice" and c.key != "number"]
CHARGE_KEYS = ("shipment", "insurance", "overhead", "discount")
YES, NO = {"yes", "y", "true", "1", "x", "on"}, {"no", "n", "false", "0", "off"}
FUND_PART = re.compile(r"^(?P<code>\S+?)(?:\s+(?P<pct>[0-9]+(?:[.,][0-9]+)?)\s*%?)?$")
LINE_REF = re.compile(r"\b([Ll])ine (\d+)\b")
LINE_PREFIX_RE = re.compile(r"^Line (\d+): ")


def _norm(text) -> str:
    return re.sub(r"[^a-z0-9%]+", " ", str(text or "").lower()).strip()


HEADER_NAMES = {_norm(c.label): c.key for c in COLUMNS} | {_norm(c.key): c.key for c in COLUMNS}


# -- the downloadable template -----------------------------------------------------------------

def template_workbook() -> bytes:
    """An .xlsx with the expected columns on its first sheet, and a help sheet describing each
    column with an example of two invoices (the second's invoice columns only on its first row)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    bold = Font(bold=True)

    def header(ws, labels):
        cells = []
        for label in labels:
            cell = WriteOnlyCell(ws, value=safe_cell(label))
            cell.font = bold
            cells.append(cell)
        return cells

    sheet = wb.create_sheet("Invoices")
    for n, column in enumerate(COLUMNS):
        sheet.column_dimensions[_letter(n)].width = max(12, len(column.label) + 2)
    sheet.freeze_panes = "A2"
    sheet.append(header(sheet, [c.label for c in COLUMNS]))

    help_sheet = wb.create_sheet("Help")
    help_sheet.column_dimensions["A"].width = 20
    help_sheet.column_dimensions["B"].width = 12
    help_sheet.column_dimensions["C"].width = 100
    help_sheet.append(header(help_sheet, [str(T("Column")), str(T("Required")), str(T("What to enter"))]))
    help_sheet.append(safe_row([str(T("One row per invoice line, on the first sheet; the first row holds the column "
                                      "names. Columns may be left out or put in any order, except the required "
                                      "ones."))]))
    for column in COLUMNS:
        help_sheet.append(safe_row([column.label, "yes" if column.required else "", str(column.help)]))
    help_sheet.append([])
    help_sheet.append(header(help_sheet, [str(T("Example rows"))]))
    example = [
        {"number": "F-2026-001", "invoice_date": date(2026, 3, 2), "currency": "EUR", "total_amount": 65.5,
         "po_line": "POL-000001", "quantity": 1, "unit_price": 40, "funds": "A-BKS"},
        {"number": "F-2026-001", "invoice_date": date(2026, 3, 2), "currency": "EUR", "total_amount": 65.5,
         "po_line": "POL-000002", "quantity": 1, "unit_price": 25.5, "funds": "A-BKS 50; SHARED 50"},
        {"number": "F-2026-002", "invoice_date": date(2026, 3, 5), "total_amount": 30, "owner_library": "LIBA",
         "quantity": 2, "unit_price": 12.5, "funds": "A-BKS", "shipment": 5},
        {"quantity": 1, "unit_price": 0, "funds": "A-BKS", "line_note": "continues F-2026-002"},
    ]
    help_sheet.append(safe_row(c.label for c in COLUMNS))
    for row in example:
        help_sheet.append(safe_row(row.get(c.key) for c in COLUMNS))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter
    return get_column_letter(index + 1)


# -- what the preview shows --------------------------------------------------------------------

@dataclass
class LinePreview:
    row: int
    po_line: str = ""
    quantity: str = ""
    unit_price: str = ""
    total: str = ""
    funds: str = ""
    reporting_code: str = ""
    note: str = ""
    errors: list[str] = field(default_factory=list)   # Text: English as str, translated when shown
    values: dict = field(default_factory=dict, repr=False)   # column key -> cell


@dataclass
class InvoicePreview:
    number: str
    first_row: int
    invoice_date: str = ""
    currency: str = ""
    total_amount: str = ""
    owner: str = ""
    lines: list[LinePreview] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)      # "Row 4: ..." for the invoice's columns and the trial
    warnings: list[str] = field(default_factory=list)    # review problems: it would stay In Review
    outcome: str = ""                                    # the status it would reach
    invoice_id: int | None = None                        # after loading
    loaded_earlier: int | None = None                    # the run that loaded it from this file before
    orphan: bool = False                                 # rows before any invoice number
    fields: invoices.InvoiceFields | None = field(default=None, repr=False)
    vat_confirm: str | None = None
    given: dict = field(default_factory=dict, repr=False)   # column key -> (row, cell): the invoice's columns

    @property
    def rows(self) -> list[int]:
        return [ln.row for ln in self.lines]

    @property
    def valid(self) -> bool:
        """To be loaded: no problem, and not loaded from this file before."""
        return not self.errors and not any(ln.errors for ln in self.lines) and self.loaded_earlier is None

    @property
    def problems(self) -> list[str]:
        """Every error of the invoice and its rows, each naming its row."""
        return self.errors + [T("Row %(row)s: %(problem)s", row=ln.row, problem=e) for ln in self.lines
                              for e in ln.errors]


@dataclass
class FileCheck:
    vendor: Vendor
    file_name: str
    invoices: list[InvoicePreview] = field(default_factory=list)
    loaded: bool = False

    @property
    def valid(self) -> list[InvoicePreview]:
        return [inv for inv in self.invoices if inv.valid]

    @property
    def invalid(self) -> list[InvoicePreview]:
        return [inv for inv in self.invoices if not inv.valid and inv.loaded_earlier is None]

    @property
    def earlier(self) -> list[InvoicePreview]:
        """Invoices an earlier (perhaps interrupted) load of this same file created already."""
        return [inv for inv in self.invoices if inv.loaded_earlier is not None]

    @property
    def line_count(self) -> int:
        return sum(len(inv.lines) for inv in self.invoices)

    @property
    def error_count(self) -> int:
        return sum(len(inv.problems) for inv in self.invoices)


# -- reading the file --------------------------------------------------------------------------

def read_file(data: bytes, file_name: str) -> list[tuple[int, dict]]:
    """(row number as in the spreadsheet, {column key: cell value}) for each non-empty row after
    the header row. Raises InvalidInput (field ``file``) for a refused or unusable file."""
    file_type = file_type_of(file_name)
    if file_type not in FILE_TYPES:
        raise InvalidInput(T("Choose an Excel file: .xlsx or .xls."), "file")
    if not data:
        raise InvalidInput(T("The file is empty."), "file")
    result: list[tuple[int, dict]] = []
    positions: dict[int, str] | None = None
    try:
        for n, row in enumerate(read_rows(data, file_type, max_rows=MAX_LINES + 1), start=1):
            if positions is None:
                if all(_blank(v) for v in row):
                    continue
                positions = _header_positions(row)
                continue
            values = {key: row[i] for i, key in positions.items() if i < len(row)}
            if all(_blank(v) for v in values.values()):
                continue
            result.append((n, values))
    except SpreadsheetRefused as exc:
        raise InvalidInput(T("The file was refused: %(reason)s", reason=exc.text), "file") from None
    if positions is None:
        raise InvalidInput(T("The file has no rows. Download the template for the expected columns."), "file")
    if not result:
        raise InvalidInput(T("The file has column names but no invoice lines."), "file")
    if len(result) > MAX_LINES:
        raise InvalidInput(T("The file has more than %(n)s lines; split it.", n=f"{MAX_LINES:,}"), "file")
    return result


def _header_positions(row: list) -> dict[int, str]:
    positions: dict[int, str] = {}
    unknown = []
    for i, value in enumerate(row):
        if _blank(value):
            continue
        key = HEADER_NAMES.get(_norm(value))
        if key is None:
            unknown.append(str(value).strip())
        elif key in positions.values():
            raise InvalidInput(T("The column %(column)s appears twice in the first row.", column=BY_KEY[key].label),
                               "file")
        else:
            positions[i] = key
    missing = [c.label for c in COLUMNS if c.required and c.key not in positions.values()]
    if missing:
        found = ", ".join(str(v).strip() for v in row if not _blank(v))[:200]
        raise InvalidInput(T("The first row must name the columns; missing: %(missing)s (found: %(found)s). Download "
                             "the template for the expected columns.", missing=", ".join(missing), found=found),
                           "file")
    if unknown:
        raise InvalidInput(T("Unknown columns in the first row: %(columns)s. Download the template for the expected "
                             "column names.", columns=", ".join(unknown[:10])), "file")
    return positions


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value) -> str:
    """A cell as text: numbers without a float's noise, dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return _decimal_text(value)
    return str(value).strip()


def _decimal_text(value: float) -> str:
    # repr() is the shortest text that reads back as the same double: 12.3, not 12.300000000000001.
    d = Decimal(repr(value))
    # to_integral_value, not quantize: a huge cell (1e30) must reach the range check, not overflow here.
    return format(d.to_integral_value() if d == d.to_integral_value() else d.normalize(), "f")


# -- cell parsers (raise InvalidInput with a message naming the column) -----------------------

def _date(value, key: str) -> date | None:
    if _blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(T("%(column)s: %(value)s is not a date (use a date cell or YYYY-MM-DD).",
                             column=BY_KEY[key].label, value=repr(text)), key) from None


def _amount(value, currency: str, key: str) -> Decimal | None:
    if _blank(value):
        return None
    text = _text(value)
    try:
        return parse_money(text, currency, key, BY_KEY[key].label.lower())
    except InvalidInput as exc:
        raise InvalidInput(T("%(column)s: %(value)s is not an amount in %(currency)s (%(reason)s)",
                             column=BY_KEY[key].label, value=repr(text), currency=currency, reason=exc.text),
                           key) from None


def _percent(value, key: str) -> Decimal | None:
    if _blank(value):
        return None
    return parse_percent(_text(value).replace(",", "."), key, BY_KEY[key].label)


def _flag(value, key: str, default: bool) -> bool:
    if _blank(value):
        return default
    text = _text(value).lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise InvalidInput(T("%(column)s: write yes or no, not %(value)s.", column=BY_KEY[key].label,
                         value=repr(_text(value))), key)


def _payment_method(value) -> str:
    if _blank(value):
        return "bank_transfer"
    text = _norm(value)
    for key, label in PAYMENT_METHODS.items():   # the English names (a label may be a Text)
        if text and text in (_norm(key), _norm(english(label))):
            return key
    raise InvalidInput(T("Payment method: %(value)s is not one of %(methods)s.", value=repr(_text(value)),
                         methods=", ".join(english(m) for m in PAYMENT_METHODS.values())), "payment_method")


# -- lookups in bulk ---------------------------------------------------------------------------

@dataclass
class _Lookups:
    pols: dict[str, POLine]
    funds: dict[str, list[Fund]]
    libraries: dict[str, Library]
    periods: dict[int, FiscalPeriod]
    institution_code: str

    def fund(self, code: str, on: date | None) -> Fund | None:
        """The fund with that code in the fiscal period of the invoice date (else the only one)."""
        candidates = self.funds.get(code.upper(), [])
        if on is not None:
            dated = [f for f in candidates if self.periods[f.fiscal_period_id].start_date <= on
                     <= self.periods[f.fiscal_period_id].end_date]
            if dated:
                return dated[0]
        return candidates[0] if len(candidates) == 1 else None


def _lookups(actor, rows: list[tuple[int, dict]]) -> _Lookups:
    from flask import current_app
    pol_numbers = {_text(v.get("po_line")).upper() for _, v in rows if not _blank(v.get("po_line"))}
    fund_codes = set()
    for _, values in rows:
        for part in _text(values.get("funds")).replace(",", ";").split(";"):
            match = FUND_PART.match(part.strip())
            if match:
                fund_codes.add(match.group("code").upper())
    pols = {}
    numbers = sorted(pol_numbers)
    for start in range(0, len(numbers), 500):
        chunk = numbers[start:start + 500]
        pols.update({p.number: p for p in db.session.scalars(
            select(POLine).where(POLine.number.in_(chunk), orders.visible_po_lines_clause(actor)))})
    funds: dict[str, list[Fund]] = {}
    codes = sorted(fund_codes)
    for start in range(0, len(codes), 500):
        chunk = codes[start:start + 500]
        for fund in db.session.scalars(select(Fund).where(func.upper(Fund.code).in_(chunk), visible_funds_clause(actor),
                                                          Fund.kind == "allocated").order_by(Fund.id)):
            funds.setdefault(fund.code.upper(), []).append(fund)
    libraries = {lib.code.upper(): lib for lib in db.session.scalars(select(Library))}
    periods = {p.id: p for p in db.session.scalars(select(FiscalPeriod))}
    return _Lookups(pols, funds, libraries, periods, str(current_app.config.get("INSTITUTION_CODE") or "INST").upper())


# -- grouping and checking ---------------------------------------------------------------------

def _group(rows: list[tuple[int, dict]]) -> list[InvoicePreview]:
    """Rows grouped by invoice number (case-insensitive); a row without a number continues the
    invoice above. Differing invoice columns for the same number are row errors."""
    by_number: dict[str, InvoicePreview] = {}
    current: InvoicePreview | None = None
    orphans: list[LinePreview] = []
    for n, values in rows:
        number = _text(values.get("number"))
        line = LinePreview(row=n)
        if number:
            key = number.lower()
            current = by_number.get(key)
            if current is None:
                current = by_number[key] = InvoicePreview(number=number, first_row=n)
        elif current is None:
            line.errors.append(T("Invoice number: required on the first line of each invoice."))
            orphans.append(line)
            continue
        else:
            number = current.number
        for key in INVOICE_KEYS:
            value = values.get(key)
            if _blank(value):
                continue
            given = current.given.get(key)
            if given is None:
                current.given[key] = (n, value)
            elif _text(given[1]) != _text(value):
                line.errors.append(T("Invoice %(number)s appears again with a different %(column)s (%(value)s; row "
                                     "%(row)s says %(earlier)s). An invoice number is unique per vendor: one number, "
                                     "one invoice.", number=current.number, column=BY_KEY[key].label.lower(),
                                     value=_text(value), row=given[0], earlier=_text(given[1])))
        line.values = values
        current.lines.append(line)
    result = list(by_number.values())
    if orphans:
        result.insert(0, InvoicePreview(number=T("(no invoice number)"), first_row=orphans[0].row, lines=orphans,
                                        orphan=True))
    return result


def _raw(inv: InvoicePreview, key: str):
    given = inv.given.get(key)
    return given[1] if given else None


def _row_of(inv: InvoicePreview, key: str) -> int:
    given = inv.given.get(key)
    return given[0] if given else inv.first_row


def _build(actor, vendor: Vendor, inv: InvoicePreview, look: _Lookups) -> None:
    """Parse the invoice's columns and its lines into InvoiceFields (inv.fields), recording every
    problem on its row; the fields are left None when any row has a problem."""
    def header_error(key: str, message: str) -> None:
        inv.errors.append(T("Row %(row)s: %(problem)s", row=_row_of(inv, key), problem=message))

    for key in ("invoice_date", "total_amount"):
        if _blank(_raw(inv, key)):
            header_error(key, T("%(column)s: required.", column=BY_KEY[key].label))
    currency = _text(_raw(inv, "currency")).upper() or vendor.currency
    try:
        currency = funds.check_currency(currency)
    except InvalidInput as exc:
        header_error("currency", T("Currency: %(reason)s", reason=exc.text))
        currency = None
    values: dict = {}
    parsers = {
        "invoice_date": lambda v: _date(v, "invoice_date"),
        "due_date": lambda v: _date(v, "due_date"),
        "payment_method": _payment_method,
        "vat_percent": lambda v: _percent(v, "vat_percent"),
        "vat_inclusive": lambda v: _flag(v, "vat_inclusive", False),
    }
    if currency:
        for key in ("total_amount", "vat_amount") + CHARGE_KEYS:
            parsers[key] = (lambda k: lambda v: _amount(v, currency, k))(key)
    for key, parse in parsers.items():
        try:
            values[key] = parse(_raw(inv, key))
        except InvalidInput as exc:
            header_error(key, exc.text)
    inv.invoice_date = values["invoice_date"].isoformat() if values.get("invoice_date") else \
        _text(_raw(inv, "invoice_date"))
    inv.currency = currency or _text(_raw(inv, "currency"))
    inv.total_amount = format_money(values["total_amount"], currency) if values.get("total_amount") is not None else \
        _text(_raw(inv, "total_amount"))
    vat_confirm = _text(_raw(inv, "vat_confirm")).lower() or None
    if vat_confirm is not None and vat_confirm not in VAT_ANSWERS:
        header_error("vat_confirm", T("VAT confirmation: answer yes, add_vat or no_vat."))
    owner_code = _text(_raw(inv, "owner_library")).upper()
    owner: Library | None = None
    owner_given = bool(owner_code)
    if owner_code and owner_code not in (look.institution_code, "INSTITUTION"):
        owner = look.libraries.get(owner_code)
        if owner is None:
            header_error("owner_library", T("Owner library: there is no library %(code)s.", code=owner_code))
    inv.vat_confirm = vat_confirm

    on = values.get("invoice_date")
    lines: list[invoices.LineFields] = []
    for line in inv.lines:
        raw = line.values
        line.po_line = _text(raw.get("po_line")).upper()
        line.quantity = _text(raw.get("quantity")) or "1"
        line.unit_price = _text(raw.get("unit_price"))
        line.total = _text(raw.get("line_total"))
        line.funds = _text(raw.get("funds"))
        line.reporting_code = _text(raw.get("reporting_code"))
        line.note = _text(raw.get("line_note"))
        if not raw:
            continue
        lf = _line_fields(line, raw, currency, on, look)
        if lf is not None:
            lines.append(lf)
    if inv.errors or any(ln.errors for ln in inv.lines):
        try:   # every problem of the row: the number too, though the invoice is not tried
            invoices.check_number_free(vendor, inv.number)
        except DomainError as exc:
            header_error("number", exc.text)
        return
    if not owner_given:
        owners = {lf.po_line.owner_library_id for lf in lines if lf.po_line is not None}
        if len(owners) == 1:
            owner_id = owners.pop()
            owner = next((lib for lib in look.libraries.values() if lib.id == owner_id), None)
    inv.owner = owner.code if owner else T("Institution")
    line_vat = any(lf.vat_percent is not None or lf.vat_amount is not None for lf in lines)
    invoice_vat = values.get("vat_percent") is not None or values.get("vat_amount") is not None
    if line_vat and invoice_vat:
        header_error("vat_percent", T("VAT is either on the whole invoice (VAT %%, VAT amount) or on each line (Line "
                                      "VAT %%, Line VAT amount), not both."))
        return
    charges = {key: values[key] for key in CHARGE_KEYS if values.get(key)}
    inv.fields = invoices.InvoiceFields(
        number=inv.number, vendor=vendor, invoice_date=values["invoice_date"], total_amount=values["total_amount"],
        currency=currency, due_date=values.get("due_date"), owner_library=owner,
        payment_method=values.get("payment_method") or "bank_transfer",
        reference_number=_text(_raw(inv, "reference_number")), notes=_text(_raw(inv, "notes")),
        pro_rata=True if charges else None, charges=charges,
        vat_level="invoice" if invoice_vat else ("line" if line_vat else "none"),
        vat_inclusive=bool(values.get("vat_inclusive")), vat_code=_text(_raw(inv, "vat_code")),
        vat_percent=values.get("vat_percent"), vat_amount=values.get("vat_amount"), lines=lines)


def _line_fields(line: LinePreview, raw: dict, currency: str | None, on: date | None,
                 look: _Lookups) -> invoices.LineFields | None:
    pol = None
    if line.po_line:
        pol = look.pols.get(line.po_line)
        if pol is None:
            line.errors.append(T("POL number: there is no PO line %(pol)s (or it is not yours to see).",
                                 pol=line.po_line))
    quantity = line.quantity
    if not re.fullmatch(r"-?[0-9]+", quantity) or int(quantity) == 0:
        line.errors.append(T("Quantity: %(value)s is not a whole number (not zero).", value=repr(quantity)))
    if not line.unit_price:
        line.errors.append(T("Unit price: required."))
    unit_price = total = vat_amount = None
    if currency:
        for key, target in (("unit_price", "unit_price"), ("line_total", "total"), ("line_vat_amount", "vat")):
            try:
                parsed = _amount(raw.get(key), currency, key)
            except InvalidInput as exc:
                line.errors.append(exc.text)
                continue
            if target == "unit_price":
                unit_price = parsed
                if parsed is not None:   # shown as the pages show money: 79 -> 79.00
                    line.unit_price = format_money(parsed, currency)
            elif target == "total":
                total = parsed
                if parsed is not None:
                    line.total = format_money(parsed, currency)
            else:
                vat_amount = parsed
    flags = {}
    for key, default in (("fully_invoiced", True),):
        try:
            flags[key] = _flag(raw.get(key), key, default)
        except InvalidInput as exc:
            line.errors.append(exc.text)
    dates = {}
    for key in ("subscription_from", "subscription_to"):
        try:
            dates[key] = _date(raw.get(key), key)
        except InvalidInput as exc:
            line.errors.append(exc.text)
    try:
        vat_percent = _percent(raw.get("line_vat_percent"), "line_vat_percent")
    except InvalidInput as exc:
        line.errors.append(exc.text)
        vat_percent = None
    shares = _shares(line, on, look)
    if line.errors:
        return None
    return invoices.LineFields(
        unit_price=unit_price, quantity=quantity, po_line=pol, total=total,
        fully_invoiced=flags["fully_invoiced"], price_note=_text(raw.get("price_note")),
        subscription_from=dates["subscription_from"], subscription_to=dates["subscription_to"],
        reporting_code=line.reporting_code, vat_code=_text(raw.get("line_vat_code")), vat_percent=vat_percent,
        vat_amount=vat_amount, distribution_method="percent", distribution=shares, note=line.note)


def _shares(line: LinePreview, on: date | None, look: _Lookups) -> list[Share]:
    """"A-BKS" (all of it) or "A-BKS 60; SHARED 40" (percents)."""
    parts = [p.strip() for p in line.funds.replace(",", ";").split(";") if p.strip()] if line.funds else []
    shares = []
    for part in parts:
        match = FUND_PART.match(part)
        if match is None:
            line.errors.append(T("Funds: %(value)s is not a fund code with a percent, such as A-BKS 60.",
                                 value=repr(part)))
            continue
        code, pct = match.group("code"), match.group("pct")
        if pct is None and len(parts) > 1:
            line.errors.append(T("Funds: give each fund its percent (%(fund)s has none).", fund=code))
            continue
        fund = look.fund(code, on)
        if fund is None:
            if on and look.funds.get(code.upper()):
                line.errors.append(T("Funds: there is no fund %(fund)s in the fiscal period of %(date)s (or it is not "
                                     "yours to use).", fund=code.upper(), date=on.isoformat()))
            else:
                line.errors.append(T("Funds: there is no fund %(fund)s (or it is not yours to use).",
                                     fund=code.upper()))
            continue
        shares.append(Share(fund, (pct or "100").replace(",", ".")))
    try:   # here too (as the invoice services would), beside the row's other problems
        total = sum(parse_percent(s.value, "funds", T("percent")) for s in shares)
    except InvalidInput as exc:
        line.errors.append(T("Funds: %(reason)s", reason=exc.text))
    else:
        if shares and len(shares) == len(parts) and total != 100:
            line.errors.append(T("The fund percents add up to %(total)s %%; they must make 100 %%.",
                                 total=format(total, 'f')))
    return shares


# -- trying and loading ------------------------------------------------------------------------

def _row_message(inv: InvoicePreview, default_row: int, message: str) -> str:
    """A service message that says "Line 3: …" is about the spreadsheet row of the invoice's third
    line: it is put on that row; one that names "line 3" elsewhere gets that line's row after it.
    The message keeps its own words (and its translation); the row comes before it."""
    def row_of(n: int) -> int | None:
        return inv.lines[n - 1].row if 0 < n <= len(inv.lines) else None

    leading = LINE_PREFIX_RE.match(message)
    if leading and row_of(int(leading.group(1))):
        return T("Row %(row)s: %(problem)s", row=row_of(int(leading.group(1))), problem=message)
    lines = sorted({int(m.group(2)) for m in LINE_REF.finditer(message) if row_of(int(m.group(2)))})
    if lines:   # the first line it names (nearly always the only one)
        return T("Row %(row)s: %(problem)s (line %(line)s is row %(line_row)s)", row=default_row, problem=message,
                 line=lines[0], line_row=row_of(lines[0]))
    return T("Row %(row)s: %(problem)s", row=default_row, problem=message)


def _try(actor, inv: InvoicePreview) -> None:
    """Create and process the invoice in a savepoint: keep it when it passes, else roll back and
    record why."""
    savepoint = db.session.begin_nested()
    try:
        invoice = invoices.create_invoice(actor, inv.fields, channel=CHANNEL, confirm=inv.vat_confirm)
        _check_total(invoice)
        invoices.process_invoice(actor, invoice)
        inv.outcome = STATUSES[invoice.status]
        inv.warnings = [p.text for p in invoices.review_problems_for(actor, invoice)]
        inv.invoice_id = invoice.id
        savepoint.commit()
    except DomainError as exc:
        savepoint.rollback()
        _record(inv, exc)


class _NeedsTrial(Exception):
    """The dry run cannot model this invoice; try it through create_invoice in a savepoint."""


def _dry_run(actor, inv: InvoicePreview, look: invoices.Lookups) -> None:
    """The checks of create_invoice and process_invoice, writing nothing: raises their DomainErrors;
    sets the outcome and the review problems."""
    duplicate = False
    try:
        checked = invoices.validate_invoice(actor, inv.fields, channel=CHANNEL, confirm=inv.vat_confirm, look=look)
    except Duplicate as exc:   # the number is taken: still check the rest of its rows
        _record(inv, exc)
        duplicate = True
        checked = invoices.validate_invoice(actor, replace(inv.fields, number=f"preview-{uuid.uuid4().hex[:16]}"),
                                            channel=CHANNEL, confirm=inv.vat_confirm)
    if checked.governmental_vat and not duplicate:
        raise _NeedsTrial
    problems: list[DomainError] = []
    invoice = checked.invoice
    for check in (_check_total, charges.check_expenditure):   # each problem, not only the first
        try:
            check(invoice)
        except DomainError as exc:
            problems.append(exc)
    if problems:
        for exc in problems[:-1]:
            _record(inv, exc)
        raise problems[-1]
    if duplicate:
        return
    inv.warnings = [p.text for p in invoices.review_problems_for(actor, invoice, rules.review_problems(invoice))]
    rule = None if inv.warnings else rules.matching_approval_rule(invoice)
    if inv.warnings:
        inv.outcome = STATUSES["in_review"]
    elif rule is None or not rule.automatic:
        inv.outcome = STATUSES["in_approval"]
    elif invoice.skips_erp or settings.get("invoice_skip_erp"):
        inv.outcome = STATUSES["waiting_for_payment" if settings.get("handle_invoice_payment") else "closed"]
    else:
        inv.outcome = STATUSES["ready_to_be_paid"]


def _check_total(invoice: Invoice) -> None:
    expected = rules.expected_total(invoice)
    if expected != invoice.total_amount:
        raise InvalidInput(T("The total amount %(total)s %(currency)s does not add up: the lines, charges and VAT "
                             "make %(expected)s %(currency)s.",
                             total=format_money(invoice.total_amount, invoice.currency), currency=invoice.currency,
                             expected=format_money(expected, invoice.currency)),
                           "total_amount")


def _record(inv: InvoicePreview, exc: DomainError) -> None:
    if isinstance(exc, invoices.ConfirmationNeeded):
        inv.errors.append(T("Row %(row)s: %(question)s Answer in the VAT confirmation column: %(answers)s.",
                            row=_row_of(inv, 'vat_confirm'), question=exc.text,
                            answers=" / ".join(sorted(invoices.ANSWERS[exc.check]))))
        return
    row = _row_of(inv, exc.field) if exc.field in BY_KEY else inv.first_row
    inv.errors.append(_row_message(inv, row, exc.text))


def prepare(actor, vendor: Vendor, data: bytes, file_name: str, earlier: dict[int, int] | None = None) -> FileCheck:
    """Read the file, look everything up and build each invoice's fields; writes nothing. The
    invoices of :func:`ready` are then loaded one by one with :func:`load_invoice`. ``earlier``:
    first row -> run, for the invoices an earlier load of this same file created (left out)."""
    if vendor is None:
        raise InvalidInput(T("Choose the vendor."), "vendor")
    rows = read_file(data, file_name)
    result = FileCheck(vendor=vendor, file_name=file_name)
    result.invoices = _group(rows)
    for inv in result.invoices:
        if earlier and inv.first_row in earlier and not inv.orphan:
            inv.loaded_earlier = earlier[inv.first_row]
    look = _lookups(actor, rows)
    for inv in result.invoices:
        if not inv.orphan and inv.loaded_earlier is None:
            _build(actor, vendor, inv, look)
    return result


def ready(check: FileCheck) -> list[InvoicePreview]:
    """The invoices of a prepared file that have no problem so far, in file order."""
    return [inv for inv in check.invoices if inv.valid and inv.fields is not None]


def load_invoice(actor, inv: InvoicePreview) -> bool:
    """Create and process one prepared invoice in a savepoint: all of it or, with its reasons in
    ``inv.errors``, nothing. The caller commits."""
    _try(actor, inv)
    return inv.invoice_id is not None


def _check(actor, vendor: Vendor, data: bytes, file_name: str, keep: bool,
           earlier: dict[int, int] | None = None) -> FileCheck:
    result = prepare(actor, vendor, data, file_name, earlier)
    ready_ = ready(result)
    if keep:
        for inv in ready_:
            _try(actor, inv)
    else:
        look = invoices.lookups(actor, [inv.fields for inv in ready_], vendor)
        with db.session.no_autoflush:
            for inv in ready_:
                try:
                    _dry_run(actor, inv, look)
                except DomainError as exc:
                    _record(inv, exc)
                except _NeedsTrial:
                    outer = db.session.begin_nested()
                    try:
                        _try(actor, inv)
                    finally:
                        outer.rollback()
                        inv.invoice_id = None
    result.loaded = keep
    return result


def check_file(actor, vendor: Vendor, data: bytes, file_name: str,
               earlier: dict[int, int] | None = None) -> FileCheck:
    """The preview: every invoice and line the file would create, with the problems of each row.
    Nothing is written (the trial runs in a savepoint that is rolled back). ``earlier`` as for
    :func:`prepare`."""
    return _check(actor, vendor, data, file_name, keep=False, earlier=earlier)


def load_file(actor, vendor: Vendor, data: bytes, file_name: str) -> FileCheck:
    """Create (channel "file") and process every invoice of the file that has no problem; the
    others are skipped (``FileCheck.invalid``, with their reasons). The caller commits. (The page
    loads a file as a background run committing in chunks instead: :mod:`.file_load_run`.)"""
    return _check(actor, vendor, data, file_name, keep=True)
