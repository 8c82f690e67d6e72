"""Hostile spreadsheets are refused with a clear message before they can exhaust memory: an .xlsx
zip bomb (a member inflating past the limit, and one compressed far beyond a sane ratio) and a sheet
with more lines than a file may hold."""
from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest

from app.errors import InvalidInput
from app.invoices import file_loading as fl
from tests.invoices.files.helpers import table, xlsx

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
SHEET = "xl/worksheets/sheet1.xml"
SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
SHEET_TAIL = "</sheetData></worksheet>"


def _with_sheet(write_sheet) -> bytes:
    """A real workbook whose first sheet's XML is replaced by what ``write_sheet(stream)`` writes
    (streamed into the archive, so the test itself never holds the inflated sheet)."""
    base = zipfile.ZipFile(io.BytesIO(xlsx([["Invoice number"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in base.infolist():
            if info.filename == SHEET:
                with bomb.open(SHEET, "w", force_zip64=True) as stream:
                    write_sheet(stream)
            else:
                bomb.writestr(info, base.read(info.filename))
    return out.getvalue()


def _refused_within(data: bytes, name: str, match: str, world, vendors, max_mb: int = 40) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(InvalidInput, match=match):
            fl.check_file(world.user("invoicer"), vendors.plain, data, name)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < max_mb * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"


def test_zip_bomb_inflating_past_the_limit_is_refused(app, world, vendors):
    def write(stream):
        stream.write(SHEET_HEAD.encode())
        chunk = b" " * (1024 * 1024)
        for _ in range(210):          # 210 MB of whitespace: the limit is 200 MB
            stream.write(chunk)
        stream.write(SHEET_TAIL.encode())
    data = _with_sheet(write)
    assert len(data) < 1024 * 1024    # under a megabyte on the wire
    _refused_within(data, "bomb.xlsx", "The file was refused: The workbook would inflate to more than 200 MB", world,
                    vendors)


def test_zip_bomb_by_ratio_is_refused(app, world, vendors):
    def write(stream):
        stream.write(SHEET_HEAD.encode() + b"<row r=\"1\"/>" * 500_000 + SHEET_TAIL.encode())
    _refused_within(_with_sheet(write), "ratio.xlsx", r"compressed more than 100:1 \(a zip bomb\?\)", world, vendors)


def test_huge_sheet_is_refused_by_its_line_count(app, world, vendors):
    header = "".join(f'<c r="{col}1" t="inlineStr"><is><t>{label}</t></is></c>' for col, label in
                     zip("ABCD", ("Invoice number", "Invoice date", "Total amount", "Unit price")))

    def write(stream):
        stream.write((SHEET_HEAD + f'<row r="1">{header}</row>').encode())
        for n in range(2, fl.MAX_LINES + 10):
            stream.write(f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>H{n * 7919 % 100003}</t></is></c>'
                         f'<c r="D{n}"><v>{n % 997}.{n % 89:02d}</v></c></row>'.encode())
        stream.write(SHEET_TAIL.encode())
    _refused_within(_with_sheet(write), "huge.xlsx", "more than 20,001 rows", world, vendors)


def test_an_upload_too_large_is_refused_before_reading(app, world, vendors):
    data = xlsx(table([{"number": "A", "invoice_date": "2026-01-01", "total_amount": 1, "unit_price": 1}]))
    with pytest.raises(InvalidInput, match="at most 20,971,520 are accepted"):
        fl.check_file(world.user("invoicer"), vendors.plain, data + b"\0" * (21 * 1024 * 1024), "big.xlsx")
