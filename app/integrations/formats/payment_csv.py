"""Payment confirmations as CSV: the ERP's own payments export read through a column mapping.

Pure: bytes and a :class:`CsvMapping` in, the same :class:`~.payment_confirmation.Confirmation`
records the XML reader makes out, so matching, the per-record report, idempotence and ``.handled``
work alike. The mapping names, per field, the header of the column that holds it; the separator
(``,`` ``;`` or tab), the voucher date's format, the decimal mark and the ERP's words for paid and
rejected complete it. It is stored as JSON on the profile section (``csv_mapping``).

The whole file is refused (:class:`CSVRefused`) when it is not UTF-8 text (a BOM is fine), has no
header row, or lacks a mapped column; a bad row is kept with its ``errors`` so the other rows
still apply, as an XML record is.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from ...text import T
from . import joined
from .payment_confirmation import Confirmation, Confirmations
from .xml import MAX_XML_BYTES, XMLRefused

# field -> what the form calls it
FIELDS = {
    "invoice_number": T("Invoice number"),
    "vendor_code": T("Vendor code"),
    "erp_vendor_code": T("ERP vendor code"),
    "unique_identifier": T("Unique identifier"),
    "payment_status": T("Status"),
    "voucher_number": T("Voucher number"),
    "voucher_date": T("Voucher date"),
    "amount": T("Amount"),
    "currency": T("Currency"),
    "payment_note": T("Note"),
}
SEPARATORS = {",": T("Comma (,)"), ";": T("Semicolon (;)"), "\t": T("Tab")}
DECIMAL_MARKS = {".": T("Point (1234.50)"), ",": T("Comma (1234,50)")}
DEFAULT_DATE_FORMAT = "%Y%m%d"
MAX_HEADER = 100
MAX_WORD = 40
_AMOUNT = re.compile(r"^-?[0-9]{1,15}(\.[0-9]{1,6})?$")   # ASCII digits only, as the XML reader
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_DATE_DIRECTIVES = re.compile(r"%[dmyYbB%]")
_SAMPLE_DAY = date(2026, 11, 23)   # day > 12: a format that swaps day and month does not round-trip


class CSVRefused(XMLRefused):
    """The whole CSV file is refused (handled as a refused XML file is); the message says why."""


class MappingError(ValueError):
    """The mapping cannot be used; ``field`` names the form field at fault (or ""). ``message`` is
    as given (a :class:`~app.text.Text`, shown in the reader's language)."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message, self.field = message, field

    @property
    def text(self):
        return self.message


def _words(value) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    return [w.strip() for w in (value or []) if w and w.strip()]


@dataclass
class CsvMapping:
    """Which column (by its header) holds each field, and how the file is written."""
    columns: dict[str, str] = field(default_factory=dict)
    separator: str = ","
    date_format: str = DEFAULT_DATE_FORMAT
    decimal: str = "."
    paid_values: list[str] = field(default_factory=lambda: ["PAID"])
    rejected_values: list[str] = field(default_factory=lambda: ["REJECTED"])

    def check(self) -> "CsvMapping":
        """Itself, with headers and words trimmed, or :class:`MappingError` naming what to fix."""
        cols = {k: (v or "").strip() for k, v in self.columns.items() if k in FIELDS and (v or "").strip()}
        for key, header in cols.items():
            if len(header) > MAX_HEADER or any(c in header for c in "\r\n"):
                raise MappingError(T("The column header for %(field)s is at most %(max)s characters on one line.",
                                     field=FIELDS[key], max=MAX_HEADER), key)
        if "payment_status" not in cols:
            raise MappingError(T("Give the header of the column with the status (paid or rejected): it is "
                                 "required."), "payment_status")
        if "unique_identifier" not in cols and "invoice_number" not in cols:
            raise MappingError(T("Give the header of the unique identifier column or of the invoice number column "
                                 "(or both): a record is matched by one of them."), "invoice_number")
        seen: dict[str, str] = {}
        for key, header in cols.items():
            other = seen.get(header.casefold())
            if other:
                raise MappingError(T("%(field)s and %(other)s both name the column %(header)s; each field needs its "
                                     "own column.", field=FIELDS[key], other=FIELDS[other], header=repr(header)), key)
            seen[header.casefold()] = key
        if self.separator not in SEPARATORS:
            raise MappingError(T("The separator is a comma, a semicolon or a tab."), "separator")
        if self.decimal not in DECIMAL_MARKS:
            raise MappingError(T("The decimal mark is a point or a comma."), "decimal")
        if self.decimal == self.separator:
            raise MappingError(T("The decimal mark cannot be the separator too."), "decimal")
        fmt = (self.date_format or "").strip() or DEFAULT_DATE_FORMAT
        check_date_format(fmt)
        paid, rejected = _words(self.paid_values), _words(self.rejected_values)
        if not paid or not rejected:
            raise MappingError(T("Give at least one word the ERP writes for paid and one for rejected."),
                               "paid_values" if not paid else "rejected_values")
        if any(len(w) > MAX_WORD for w in paid + rejected):
            raise MappingError(T("A status word is at most %(max)s characters.", max=MAX_WORD), "paid_values")
        both = {w.upper() for w in paid} & {w.upper() for w in rejected}
        if both:
            raise MappingError(T("%(word)s cannot mean both paid and rejected.", word=repr(sorted(both)[0])),
                               "rejected_values")
        return CsvMapping(cols, self.separator, fmt, self.decimal, paid, rejected)

    def to_json(self) -> str:
        return json.dumps({"columns": self.columns, "separator": self.separator, "date_format": self.date_format,
                           "decimal": self.decimal, "paid_values": self.paid_values,
                           "rejected_values": self.rejected_values}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "CsvMapping":
        """The stored mapping, checked; :class:`MappingError` when missing or unusable."""
        if not (text or "").strip():
            raise MappingError(T("No CSV column mapping is set."))
        try:
            raw = json.loads(text)
        except ValueError:
            raise MappingError(T("The CSV column mapping is not valid JSON.")) from None
        if not isinstance(raw, dict) or not isinstance(raw.get("columns", {}), dict):
            raise MappingError(T("The CSV column mapping is not an object with columns."))
        defaults = cls()
        return cls(columns={str(k): str(v) for k, v in raw.get("columns", {}).items()},
                   separator=str(raw.get("separator", defaults.separator)),
                   date_format=str(raw.get("date_format", defaults.date_format)),
                   decimal=str(raw.get("decimal", defaults.decimal)),
                   paid_values=_words(raw.get("paid_values", defaults.paid_values)),
                   rejected_values=_words(raw.get("rejected_values", defaults.rejected_values))).check()


def check_date_format(fmt: str) -> None:
    """A strftime format of day, month and year only (e.g. ``%d.%m.%Y``), or :class:`MappingError`."""
    leftover = _DATE_DIRECTIVES.sub("", fmt)
    if "%" in leftover or len(fmt) > 30:
        raise MappingError(T("The date format %(format)s may use only %%d, %%m (or %%b, %%B), %%Y (or %%y) and "
                             "separators, e.g. %%d.%%m.%%Y or %%Y-%%m-%%d.", format=repr(fmt[:40])), "date_format")
    used = _DATE_DIRECTIVES.findall(fmt)
    counts = [sum(used.count(d) for d in group) for group in (("%d",), ("%m", "%b", "%B"), ("%Y", "%y"))]
    if counts != [1, 1, 1]:
        raise MappingError(T("The date format %(format)s needs a day (%%d), a month (%%m) and a year (%%Y), each once.",
                             format=repr(fmt)), "date_format")
    try:
        ok = datetime.strptime(_SAMPLE_DAY.strftime(fmt), fmt).date() == _SAMPLE_DAY
    except (ValueError, re.error):
        ok = False
    if not ok:
        raise MappingError(T("The date format %(format)s cannot be read back unambiguously; put a separator or "
                             "fixed-width parts between day, month and year.", format=repr(fmt)), "date_format")


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CSVRefused(T("The file is not UTF-8 text (byte %(byte)s cannot be read); ask the ERP to write UTF-8.",
                           byte=exc.start + 1)) from None


def _header_index(header: list[str], mapping: CsvMapping) -> dict[str, int]:
    names = [h.strip().casefold() for h in header]
    where: dict[str, int] = {}
    missing = []
    for key in (k for k in FIELDS if k in mapping.columns):
        wanted = mapping.columns[key]
        hits = [i for i, n in enumerate(names) if n == wanted.casefold()]
        if not hits:
            missing.append(T("%(header)s (%(field)s)", header=repr(wanted), field=FIELDS[key]))
        elif len(hits) > 1:
            raise CSVRefused(T("The header row has the column %(header)s %(count)s times; which one holds "
                               "%(field)s is unclear.", header=repr(wanted), count=len(hits), field=FIELDS[key]))
        else:
            where[key] = hits[0]
    if missing:
        found = ", ".join(repr(h.strip()) for h in header[:20]) or T("none")
        raise CSVRefused(T("The header row lacks the mapped column(s) %(missing)s; it has %(found)s. "
                           "Check the separator and the column names in the profile's mapping.",
                           missing=joined(missing, ", "), found=found))
    return where


def _read_row(cells: list[str], width: int, where: dict[str, int], mapping: CsvMapping,
              position: int, line: int, statuses: dict[str, str]) -> Confirmation:
    rec = Confirmation(position=position, line=line)
    if len(cells) != width:
        rec.errors.append(T("the row has %(count)s field(s), the header %(width)s: check the separator and the "
                            "quoting", count=len(cells), width=width))
        return rec
    value = {key: (cells[i].strip() or None) for key, i in where.items()}
    rec.invoice_number = value.get("invoice_number")
    rec.unique_identifier = value.get("unique_identifier")
    rec.vendor_code = value.get("vendor_code")
    rec.erp_vendor_code = value.get("erp_vendor_code")
    rec.payment_note = value.get("payment_note")
    rec.voucher_number = value.get("voucher_number")
    status = value.get("payment_status")
    if status is None:
        rec.errors.append(T("the status is empty"))
    elif status.upper() not in statuses:
        words = ", ".join(sorted(statuses))
        rec.errors.append(T("the status %(value)s is none of the mapped words (%(words)s)", value=repr(status[:40]),
                            words=words))
    else:
        rec.payment_status = statuses[status.upper()]
    day = value.get("voucher_date")
    if day:
        try:
            rec.voucher_date = datetime.strptime(day, mapping.date_format).date()
        except ValueError:
            example = _SAMPLE_DAY.strftime(mapping.date_format)
            rec.errors.append(T("the voucher date %(value)s is not a date written %(format)s (e.g. %(example)s)",
                                value=repr(day[:40]), format=mapping.date_format, example=example))
    total = value.get("amount")
    if total is not None:
        plain = total.replace(",", ".") if mapping.decimal == "," and "." not in total else total
        if not _AMOUNT.match(plain):
            mark = "1234,50" if mapping.decimal == "," else "1234.50"
            rec.errors.append(T("the amount %(value)s is not a plain decimal such as %(example)s", value=repr(total[:40]),
                                example=mark))
        else:
            rec.amount = Decimal(plain)
    currency = value.get("currency")
    if currency is not None:
        if not _CURRENCY.match(currency):
            rec.errors.append(T("the currency %(value)s is not a three-letter code", value=repr(currency[:40])))
        else:
            rec.currency = currency.upper()
    if currency is not None and total is None:
        rec.errors.append(T("the row has a currency but no amount"))
    if not rec.unique_identifier and not rec.invoice_number:
        rec.errors.append(T("neither the unique identifier nor the invoice number is given"))
    return rec


def parse_csv_confirmations(data: bytes, mapping: CsvMapping, max_bytes: int = MAX_XML_BYTES) -> Confirmations:
    """The records of a CSV payment file read through ``mapping`` (already checked); raises
    :class:`CSVRefused` for the whole file. Empty rows are skipped; ``line`` is the file's line."""
    if len(data) > max_bytes:
        raise CSVRefused(T("The file is %(size)s bytes, more than the %(max)s allowed.", size=f"{len(data):,}",
                           max=f"{max_bytes:,}"))
    text = _decode(data)
    if "\x00" in text:
        raise CSVRefused(T("The file holds NUL characters: it is not a CSV text file."))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=mapping.separator, strict=True)
    statuses = {w.upper(): "PAID" for w in mapping.paid_values}
    statuses.update({w.upper(): "REJECTED" for w in mapping.rejected_values})
    records: list[Confirmation] = []
    try:
        header = next((row for row in reader if any(c.strip() for c in row)), None)
        if header is None:
            raise CSVRefused(T("The file is empty: it has no header row."))
        where = _header_index(header, mapping)
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            records.append(_read_row(cells, len(header), where, mapping, len(records) + 1, reader.line_num,
                                     statuses))
    except csv.Error as exc:
        raise CSVRefused(T("The file cannot be read as CSV near line %(line)s: %(error)s.", line=reader.line_num,
                           error=str(exc))) from None
    return Confirmations(records)
