"""Lists out as files: the columns a list exports, and writers that stream every matching row to
CSV or XLSX without holding the rows in memory.

A :class:`Column` says how to read a value from a row and what kind it is: text, money, number,
date or datetime. Money is written as a number with two decimals (text ``1234.50`` in CSV, a
numeric cell formatted ``#,##0.00`` in the workbook) and names the column holding its currency,
which the export always carries. Dates are dates in the workbook and ``YYYY-MM-DD`` in CSV. Every
text cell goes through :func:`app.spreadsheets.safe_cell`, so a title starting with ``=`` stays text.

CSV is UTF-8 with a byte order mark (Excel reads it as UTF-8 then), one header row, CRLF line
ends, sent in chunks as the rows come. The workbook is a write-only openpyxl workbook spooled to a
temporary file (openpyxl writes each row out as it is appended) and sent in chunks once saved.
Rows come from :func:`rows_of`, which reads a query in batches (``yield_per``).
"""
from __future__ import annotations

import csv
import io
import re
import tempfile
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from operator import attrgetter
from typing import Any, Callable, Iterable, Iterator

from flask import Response, stream_with_context

from . import clock
from .extensions import db
from .spreadsheets import safe_cell

KINDS = ("text", "money", "number", "date", "datetime")
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
CHUNK_ROWS = 1000           # rows read per database batch, and per piece of CSV sent
SEND_BYTES = 64 * 1024      # piece of a workbook sent at a time
SPOOL_BYTES = 8 * 1024 * 1024
CENTS = Decimal("0.01")
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
# Characters XML 1.0 cannot hold (openpyxl refuses them); a CSV keeps them.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class Column:
    """One column of an export. ``value`` reads the cell from a row (default: the attribute
    ``key``); ``currency``, for money, is the key of the column holding the row's currency."""
    key: str
    header: str
    kind: str = "text"
    value: Callable[[Any], Any] | None = None
    currency: str | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Column {self.key}: kind {self.kind!r} is none of {', '.join(KINDS)}.")
        if self.kind == "money" and not self.currency:
            raise ValueError(f"Column {self.key}: a money column names the column of its currency.")

    def read(self, row) -> Any:
        return (self.value or attrgetter(self.key))(row)


class Columns:
    """The columns a list can export, in their default order."""

    def __init__(self, columns: Iterable[Column]):
        self.all = tuple(columns)
        self.by_key = {c.key: c for c in self.all}
        if len(self.by_key) != len(self.all):
            raise ValueError("Two export columns share a key.")
        for c in self.all:
            if c.currency and c.currency not in self.by_key:
                raise ValueError(f"Column {c.key}: its currency column {c.currency!r} is not among the columns.")

    def chosen(self, keys: Iterable[str] | None = None) -> tuple[Column, ...]:
        """The columns ``keys`` name, in that order (unknown keys left out; None: all), with the
        currency column of every money column among them added before it if it was left out."""
        if keys is None:
            return self.all
        out: list[Column] = []
        for key in keys:
            column = self.by_key.get(key)
            if column is None or column in out:
                continue
            if column.currency and self.by_key[column.currency] not in out:
                out.append(self.by_key[column.currency])
            out.append(column)
        return tuple(out)


def rows_of(query, chunk: int = CHUNK_ROWS) -> Iterator:
    """Every row of the ORM ``query`` (a select of one entity), read ``chunk`` at a time. Lazy: the
    query runs when the first row is asked for, i.e. while the response is sent, in the session of
    the context :func:`flask.stream_with_context` pushes again then (the view's session is gone)."""
    yield from db.session.scalars(query.execution_options(yield_per=chunk))


# -- values ------------------------------------------------------------------------------------

def _money(value) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENTS, rounding=ROUND_HALF_UP)


def csv_value(column: Column, value) -> str:
    if value is None or value == "":
        return ""
    if column.kind == "money":
        return f"{_money(value):f}"
    if column.kind == "number":
        return f"{value:f}" if isinstance(value, Decimal) else str(value)
    if column.kind == "datetime":
        return value.strftime("%Y-%m-%d %H:%M")
    if column.kind == "date":
        return value.isoformat() if isinstance(value, date) else str(value)
    return safe_cell(str(value))


def csv_chunks(rows: Iterable, columns: Iterable[Column], chunk: int = CHUNK_ROWS) -> Iterator[bytes]:
    """The CSV file as pieces of bytes: the byte order mark and header row, then ``chunk`` rows a piece."""
    columns = tuple(columns)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(c.header) for c in columns])
    yield ("\ufeff" + out.getvalue()).encode("utf-8")
    out.seek(0)
    out.truncate()
    n = 0
    for row in rows:
        writer.writerow([csv_value(c, c.read(row)) for c in columns])
        n += 1
        if n % chunk == 0:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    if out.tell():
        yield out.getvalue().encode("utf-8")


def write_xlsx(rows: Iterable, columns: Iterable[Column], out, sheet: str = "Export") -> None:
    """Write the workbook to the binary file ``out``: one sheet, a bold frozen header row, typed cells."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    columns = tuple(columns)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet[:31])
    ws.freeze_panes = "A2"
    for i, c in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = {"money": 14, "number": 10, "date": 12,
                                                           "datetime": 17}.get(c.kind, 24)
    bold = Font(bold=True)
    header = []
    for c in columns:
        cell = WriteOnlyCell(ws, value=_xml_text(safe_cell(c.header)))
        cell.font = bold
        header.append(cell)
    ws.append(header)
    # One styled cell per typed column, reused: a write-only sheet copies the value and style out at append.
    typed = {}
    for c in columns:
        if c.kind in ("money", "date", "datetime"):
            cell = WriteOnlyCell(ws)
            cell.number_format = {"money": MONEY_FORMAT, "date": DATE_FORMAT, "datetime": DATETIME_FORMAT}[c.kind]
            typed[c.key] = cell
    for row in rows:
        values = []
        for c in columns:
            value = c.read(row)
            if value is None or value == "":
                values.append(None)
            elif c.kind == "text":
                values.append(_xml_text(safe_cell(str(value))))
            elif c.kind == "number":
                values.append(value)
            else:
                cell = typed[c.key]
                cell.value = _money(value) if c.kind == "money" else value
                values.append(cell)
        ws.append(values)
    wb.save(out)


def _xml_text(value):
    return _NOT_XML.sub("", value) if isinstance(value, str) else value


# -- the response ------------------------------------------------------------------------------

def file_name(stem: str, fmt: str) -> str:
    """``<stem>-<today>.<fmt>``, e.g. ``po-lines-2026-12-05.csv``."""
    return f"{stem}-{clock.today().isoformat()}.{fmt}"


def _spooled_xlsx(rows, columns, sheet) -> Iterator[bytes]:
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as tmp:
        write_xlsx(rows, columns, tmp, sheet)
        tmp.seek(0)
        while piece := tmp.read(SEND_BYTES):
            yield piece


def export_response(rows: Iterable, columns: Iterable[Column], fmt: str, stem: str, sheet: str = "Export") -> Response:
    """A download of ``rows`` as ``fmt`` (csv or xlsx), streamed, never cached."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}.")
    columns = tuple(columns)
    body = csv_chunks(rows, columns) if fmt == "csv" else _spooled_xlsx(rows, columns, sheet)
    resp = Response(stream_with_context(body), mimetype=FORMATS[fmt].split(";")[0],
                    content_type=FORMATS[fmt])
    resp.headers["Content-Disposition"] = f'attachment; filename="{file_name(stem, fmt)}"'
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
