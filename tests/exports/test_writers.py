"""The export writers on plain rows: typed XLSX cells read back by openpyxl, CSV read back by csv,
hostile text neutralised, the currency column always carried."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from app.exports import Column, Columns, csv_chunks, write_xlsx

HOSTILE = ['=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "@SUM(A1:A9)", "-2+3", "\tTAB"]
COLUMNS = Columns([
    Column("title", "Title"),
    Column("currency", "Currency"),
    Column("price", "Price", "money", currency="currency"),
    Column("quantity", "Quantity", "number"),
    Column("due", "Due", "date"),
    Column("created", "Created", "datetime"),
    Column("vendor", "Vendor", value=lambda row: row.vendor.upper()),
])


def _rows():
    rows = [SimpleNamespace(title=t, currency="EUR", price=Decimal("1234.5"), quantity=2, due=date(2026, 3, 1),
                            created=datetime(2026, 3, 1, 9, 30), vendor="eurv") for t in HOSTILE]
    rows.append(SimpleNamespace(title="Refund \x00of\x07 a book", currency="USD", price=Decimal("-12.345"), quantity=1,
                                due=None, created=datetime(2026, 4, 2, 17, 5), vendor="usdv"))
    return rows


def test_xlsx_cells_are_typed_and_text_is_inert():
    out = io.BytesIO()
    write_xlsx(_rows(), COLUMNS.all, out, sheet="Test sheet")
    ws = load_workbook(io.BytesIO(out.getvalue())).active
    assert ws.title == "Test sheet" and ws.freeze_panes == "A2"
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("Title", "Currency", "Price", "Quantity", "Due", "Created", "Vendor")
    assert len(rows) == 1 + len(HOSTILE) + 1
    assert [r[0] for r in rows[1:-1]] == ["'" + t for t in HOSTILE]
    first = rows[1]
    assert first[1:] == ("EUR", 1234.5, 2, datetime(2026, 3, 1), datetime(2026, 3, 1, 9, 30), "EURV")
    assert ws.cell(2, 3).number_format == "#,##0.00" and ws.cell(2, 5).is_date and ws.cell(2, 6).is_date
    assert ws.cell(2, 5).number_format == "yyyy-mm-dd"
    last = rows[-1]
    assert last[:3] == ("Refund of a book", "USD", -12.35) and last[4] is None   # XML-illegal characters dropped
    assert isinstance(last[2], float) and isinstance(last[3], int)


def test_csv_has_a_bom_one_header_and_plain_values():
    data = b"".join(csv_chunks(_rows(), COLUMNS.all, chunk=2))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["Title", "Currency", "Price", "Quantity", "Due", "Created", "Vendor"]
    assert len(rows) == 1 + len(HOSTILE) + 1
    assert [r[0] for r in rows[1:-1]] == ["'" + t for t in HOSTILE]
    assert rows[1][1:] == ["EUR", "1234.50", "2", "2026-03-01", "2026-03-01 09:30", "EURV"]
    assert rows[-1][1:5] == ["USD", "-12.35", "1", ""]


def test_csv_comes_in_pieces():
    pieces = list(csv_chunks(_rows(), COLUMNS.all, chunk=2))
    assert len(pieces) == 1 + 3          # the header, then 6 rows two at a time
    assert b"".join(csv_chunks([], COLUMNS.all)).decode("utf-8-sig").splitlines() == [
        "Title,Currency,Price,Quantity,Due,Created,Vendor"]


def test_chosen_columns_always_carry_the_currency_of_an_amount():
    assert [c.key for c in COLUMNS.chosen(["price", "title", "nope", "price"])] == ["currency", "price", "title"]
    assert [c.key for c in COLUMNS.chosen(["title", "currency", "price"])] == ["title", "currency", "price"]
    assert COLUMNS.chosen(None) == COLUMNS.all


def test_column_specs_are_checked():
    with pytest.raises(ValueError, match="kind"):
        Column("x", "X", "float")
    with pytest.raises(ValueError, match="currency"):
        Column("x", "X", "money")
    with pytest.raises(ValueError, match="not among"):
        Columns([Column("x", "X", "money", currency="cur")])
    with pytest.raises(ValueError, match="share a key"):
        Columns([Column("x", "X"), Column("x", "Y")])
