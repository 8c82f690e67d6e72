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
Rows come from :func:`rows_of`: the list's own query (its filter, sort and scope untouched) with
its selected columns replaced by the export's SQL values, read as plain tuples ``CHUNK_ROWS`` at a
time (``yield_per``; PostgreSQL streams them with a server-side cursor). No ORM object is loaded: a
column's ``sql`` gives its value (default: the attribute ``key`` of the list's entity), and a column
with a ``lookup`` (e.g. a line's fund codes, in distribution order) gets its values in one more
query per chunk, so an export costs 1 + 1 per chunk and lookup column queries, never one per row.
"""
from __future__ import annotations

import csv
import io
import re
import tempfile
from collections import namedtuple
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from operator import attrgetter
from typing import Any, Callable, Iterable, Iterator

from flask import Response, stream_with_context
from sqlalchemy import select
from sqlalchemy.orm import aliased

from . import clock
from .extensions import db
from .spreadsheets import safe_cell
from .text import T, Text

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
EXPORT_SHEET = T("Export")   # the workbook's sheet, unless the list names it


@dataclass(frozen=True)
class Column:
    """One column of an export. ``value`` reads the cell from a row (default: the attribute
    ``key``); ``currency``, for money, is the key of the column holding the row's currency.

    Read from a query (:func:`rows_of`), a row has one attribute per column, named by its key and
    holding its ``sql`` value (a SQL expression; default: the attribute ``key`` of the query's
    entity); ``value`` may then turn it into the cell (e.g. a status code into its label). With a
    ``lookup``, the ``sql`` value is a key instead: ``lookup`` takes the keys of a chunk of rows and
    returns ``{key: value}`` (missing keys give ``""``), read in one query for the whole chunk.

    The same column is one the list's page may show (:mod:`app.list_columns`): ``cell`` reads its
    value from the page's ORM object (default: the attribute ``key``), ``sort`` is the list's sort key
    when the header sorts, ``css`` the cell's class, ``shown`` whether the page shows it until the user
    chooses, ``fixed`` that it cannot be hidden (the column that links to the row)."""
    key: str
    header: str
    kind: str = "text"
    value: Callable[[Any], Any] | None = None
    currency: str | None = None
    sql: Any = None
    lookup: Callable[[list], dict] | None = None
    cell: Callable[[Any], Any] | None = None
    sort: str | None = None
    css: str = ""
    shown: bool = True
    fixed: bool = False

    def __post_init__(self):
        # The header a person reads: a Text (app.text), English as a str, translated when shown or
        # exported (a plain string is made one; its translation is the catalogue's, if it has it).
        if self.header and not isinstance(self.header, Text):
            object.__setattr__(self, "header", Text(self.header))
        if self.kind not in KINDS:
            raise ValueError(f"Column {self.key}: kind {self.kind!r} is none of {', '.join(KINDS)}.")
        if self.kind == "money" and not self.currency:
            raise ValueError(f"Column {self.key}: a money column names the column of its currency.")

    def read(self, row) -> Any:
        return (self.value or attrgetter(self.key))(row)

    def show(self, obj) -> Any:
        """The value the page shows for the ORM object ``obj``."""
        return self.cell(obj) if self.cell else getattr(obj, self.key)

    @property
    def classes(self) -> str:
        kind = {"money": "num", "number": "num", "date": "date", "datetime": "datetime"}.get(self.kind, "")
        return " ".join(filter(None, (kind, self.css)))


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

    def pick(self, keys: Iterable[str]) -> tuple[Column, ...]:
        """The columns ``keys`` name, in that order (unknown keys and repeats left out)."""
        out: list[Column] = []
        for key in keys:
            column = self.by_key.get(key)
            if column is not None and column not in out:
                out.append(column)
        return tuple(out)

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


def rows_of(query, columns: Iterable[Column], chunk: int | None = None) -> Iterator:
    """Every row of ``query`` (the list's select of one entity, filtered, scoped and sorted) as a
    plain tuple of the ``columns``' SQL values, attributes named by their keys, read ``chunk`` at a
    time. The query keeps its WHERE, joins and ORDER BY; only what it selects is replaced. Lazy:
    the query runs when the first row is asked for, i.e. while the response is sent, in the
    session of the context :func:`flask.stream_with_context` pushes again then (the view's session
    is gone)."""
    columns = tuple(columns)
    chunk = chunk or CHUNK_ROWS
    entity = query.column_descriptions[0]["entity"]
    selected = [(c.sql if c.sql is not None else getattr(entity, c.key)).label(c.key) for c in columns]
    query = query.with_only_columns(*selected, maintain_column_froms=True)
    looked_up = [(i, c.lookup) for i, c in enumerate(columns) if c.lookup]
    Row = namedtuple("Row", [c.key for c in columns])
    result = db.session.execute(query.execution_options(yield_per=chunk, stream_results=True))
    try:
        for part in result.partitions():
            if not looked_up:
                yield from part
                continue
            rows = [list(r) for r in part]
            for i, lookup in looked_up:
                found = lookup(list({r[i] for r in rows if r[i] is not None}))
                for r in rows:
                    r[i] = found.get(r[i], "")
            for r in rows:
                yield Row._make(r)
    finally:
        result.close()


def joined(rows) -> dict:
    """``{key: "A, B"}`` from ``(key, value)`` rows: each key's values in the rows' order (e.g. a
    line's fund codes in distribution order, for a ``lookup``)."""
    out: dict = {}
    for key, value in rows:
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def related(model, fk, attr: str = "code"):
    """``attr`` of the row of ``model`` that ``fk`` points to, as a correlated scalar subquery over
    an alias of ``model`` (so it never correlates with a join of the list's own query, e.g. the
    vendor joined to sort by it)."""
    other = aliased(model)
    return select(getattr(other, attr)).where(other.id == fk).correlate_except(other).scalar_subquery()


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
    writer.writerow([safe_cell(str(c.header)) for c in columns])
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


def write_xlsx(rows: Iterable, columns: Iterable[Column], out, sheet: str = EXPORT_SHEET) -> None:
    """Write the workbook to the binary file ``out``: one sheet, a bold frozen header row, typed cells."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    columns = tuple(columns)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(str(sheet)[:31])
    ws.freeze_panes = "A2"
    for i, c in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = {"money": 14, "number": 10, "date": 12,
                                                           "datetime": 17}.get(c.kind, 24)
    bold = Font(bold=True)
    header = []
    for c in columns:
        cell = WriteOnlyCell(ws, value=_xml_text(safe_cell(str(c.header))))
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


def export_response(rows: Iterable, columns: Iterable[Column], fmt: str, stem: str,
                    sheet: str = EXPORT_SHEET) -> Response:
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
