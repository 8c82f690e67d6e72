"""Hostile allocation files: a zip bomb dressed as a workbook, sheets far too long or too wide,
a file over the size limit. Each is refused as a whole, before it can exhaust memory, and kept on
the server as ``.rejected``."""
from __future__ import annotations

import io
import tracemalloc
import zipfile
from decimal import Decimal

import pytest

from app.integrations.formats.allocations import parse_allocation_file
from app.spreadsheets import MAX_FILE_BYTES, MAX_ROWS
from tests.integrations.allocations.helpers import PERIOD_NUMBER, allocated, errors_of
from testkit.allocation_files import HEADER, allocation_file

SHEET = "xl/worksheets/sheet1.xml"
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _with_sheet(sheet_xml_chunks, compresslevel=6) -> bytes:
    """A real workbook whose first sheet is replaced by the given XML (written in chunks)."""
    base = zipfile.ZipFile(io.BytesIO(allocation_file("xlsx", [])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as zf:
        for info in base.infolist():
            if info.filename == SHEET:
                with zf.open(SHEET, "w", force_zip64=True) as member:
                    for chunk in sheet_xml_chunks:
                        member.write(chunk)
            else:
                zf.writestr(info.filename, base.read(info.filename))
    return out.getvalue()


def _sheet(rows_xml) -> list[bytes]:
    head = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            'spreadsheetml/2006/main"><sheetData><row r="1">'
            + "".join(f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{h}</t></is></c>' for i, h in enumerate(HEADER))
            + "</row>")
    return [head.encode(), *rows_xml, b"</sheetData></worksheet>"]


def zip_bomb(inflated: int) -> bytes:
    """A sheet member of ``inflated`` bytes of blanks: a few hundred kilobytes on the wire."""
    chunk = b" " * (1024 * 1024)
    return _with_sheet(_sheet([chunk] * (inflated // len(chunk))), compresslevel=9)


def long_sheet(rows: int) -> bytes:
    return _with_sheet(_sheet(f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>EXT-1</t></is></c>'
                              f'<c r="B{n}"><v>23</v></c><c r="C{n}"><v>1</v></c></row>'.encode()
                              for n in range(2, rows + 2)))


def wide_sheet() -> bytes:
    return _with_sheet(_sheet([b'<row r="2"><c r="A2" t="inlineStr"><is><t>EXT-1</t></is></c>'
                               b'<c r="XFD2"><v>1</v></c></row>']))


def _peak_while(fn):
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("inflated, expected", [(250 * 1024 * 1024, "inflate to more than"),
                                                (20 * 1024 * 1024, "compressed more than")])
def test_zip_bomb_is_refused_before_inflating(inflated, expected):
    bomb = zip_bomb(inflated)
    assert len(bomb) < inflated // 100
    (lines, errors), peak = _peak_while(lambda: parse_allocation_file(bomb, "xlsx"))
    assert lines == [] and len(errors) == 1 and errors[0].row is None and expected in errors[0].message
    assert peak < 16 * 1024 * 1024, peak        # nowhere near the inflated size


def test_too_long_and_too_wide_sheets_are_refused():
    lines, errors = parse_allocation_file(long_sheet(MAX_ROWS + 5), "xlsx")
    assert lines == [] and f"more than {MAX_ROWS:,} rows" in errors[0].message
    lines, errors = parse_allocation_file(wide_sheet(), "xlsx")
    assert lines == [] and "columns" in errors[0].message
    csv = allocation_file("csv", [["EXT-1", PERIOD_NUMBER, "1.00", "", ""]] * (MAX_ROWS + 1))
    lines, errors = parse_allocation_file(csv, "csv")
    assert lines == [] and f"more than {MAX_ROWS:,} rows" in errors[0].message


@sqlite_only
def test_hostile_workbooks_are_rejected_by_the_job(local_loader):
    loader = local_loader("xlsx")
    before = allocated("SHARED")
    loader.drop("bomb.xlsx", zip_bomb(250 * 1024 * 1024))
    loader.drop("wide.xlsx", wide_sheet())
    loader.drop("fake.xlsx", b"PK\x03\x04 this is no workbook")
    run = loader.run()
    assert run.status == "failed" and (run.files, run.records_failed) == (3, 3)
    report = errors_of(run)
    assert sum("nothing was loaded" in m for _, m in report) == 3, report
    assert allocated("SHARED") == before
    assert loader.names() == ["bomb.xlsx.rejected", "fake.xlsx.rejected", "wide.xlsx.rejected"]


@sqlite_only
def test_file_over_the_size_limit_is_not_read(local_loader):
    loader = local_loader("csv")
    path = loader.drop("big.csv", b"")
    with open(path, "wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)
    run = loader.run()
    assert run.records_failed == 1 and "at most" in errors_of(run)[0][1]
    assert loader.names() == ["big.csv.rejected"] and allocated("SHARED") == {"SHARED": Decimal("1000.00")}


@sqlite_only
def test_unsafe_names_are_skipped_and_reported(local_loader):
    loader = local_loader("csv")
    data = allocation_file("csv", [["EXT-1", PERIOD_NUMBER, "1.00", "", ""]])
    loader.drop(".hidden.csv", data)
    loader.drop("semi;colon.csv", data)
    run = loader.run()
    assert (run.files, run.records) == (0, 0)
    assert sorted(e.message for e in run.events if e.level == "warning") == [
        "Skipped a file with an unsafe name: '.hidden.csv'.", "Skipped a file with an unsafe name: 'semi;colon.csv'."]
    assert loader.names() == [".hidden.csv", "semi;colon.csv"]
