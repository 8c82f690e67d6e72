"""Reading rows from CSV, .xls (xlrd) and .xlsx (openpyxl, read-only) files that come from outside,
with limits checked before the file can exhaust memory: total size, the uncompressed size and
compression ratio of an .xlsx archive (zip bombs), and the number of rows.

``read_rows`` yields each row as a list of cell values (str for CSV; str, int, float, datetime or
None for workbooks) from the first sheet; callers validate the values themselves.
"""
from __future__ import annotations

import csv
import io
import zipfile
from typing import Iterator

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_RATIO = 100            # uncompressed / compressed, per archive member
MAX_ROWS = 100_000
MAX_COLUMNS = 200
FILE_TYPES = ("csv", "xls", "xlsx")


class SpreadsheetRefused(ValueError):
    """The file is not a readable spreadsheet of the expected type, or exceeds a limit."""


def file_type_of(filename: str) -> str | None:
    ext = (filename or "").rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    return ext if ext in FILE_TYPES else None


def read_rows(data: bytes, file_type: str, *, max_rows: int = MAX_ROWS,
              max_bytes: int = MAX_FILE_BYTES) -> Iterator[list]:
    """Rows of the first sheet; raises SpreadsheetRefused (possibly after some rows were yielded,
    when the row limit is passed: callers must treat the whole file as refused)."""
    if len(data) > max_bytes:
        raise SpreadsheetRefused(f"The file is {len(data):,} bytes; at most {max_bytes:,} are accepted.")
    if file_type == "csv":
        rows = _csv_rows(data)
    elif file_type == "xlsx":
        rows = _xlsx_rows(data)
    elif file_type == "xls":
        rows = _xls_rows(data)
    else:
        raise SpreadsheetRefused("Only .csv, .xls and .xlsx files are accepted.")
    for n, row in enumerate(rows, start=1):
        if n > max_rows:
            raise SpreadsheetRefused(f"The file has more than {max_rows:,} rows.")
        if len(row) > MAX_COLUMNS:
            raise SpreadsheetRefused(f"Row {n} has more than {MAX_COLUMNS} columns.")
        yield row


def _csv_rows(data: bytes) -> Iterator[list]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpreadsheetRefused("The CSV file is not UTF-8 text.") from None
    if "\x00" in text:
        raise SpreadsheetRefused("The CSV file contains binary data.")
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error as exc:
        raise SpreadsheetRefused(f"The CSV file cannot be read: {exc}.") from None


def check_xlsx_archive(data: bytes) -> None:
    """Refuse an .xlsx whose members would inflate beyond the limits (zip bomb), before reading."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise SpreadsheetRefused("The file is not an .xlsx workbook (not a zip archive).") from None
    with archive:
        total = 0
        for info in archive.infolist():
            total += info.file_size
            if info.file_size > MAX_UNCOMPRESSED_BYTES or total > MAX_UNCOMPRESSED_BYTES:
                raise SpreadsheetRefused("The workbook would inflate to more than "
                                         f"{MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} MB; it is refused.")
            if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise SpreadsheetRefused(f"The workbook member {info.filename} is compressed more than "
                                         f"{MAX_RATIO}:1 (a zip bomb?); it is refused.")


def _xlsx_rows(data: bytes) -> Iterator[list]:
    check_xlsx_archive(data)
    from openpyxl import load_workbook
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise SpreadsheetRefused(f"The .xlsx workbook cannot be read: {type(exc).__name__}.") from None
    try:
        ws = wb.worksheets[0] if wb.worksheets else None
        if ws is None:
            return
        for row in ws.iter_rows(values_only=True):
            yield list(row)
    finally:
        wb.close()


def _xls_rows(data: bytes) -> Iterator[list]:
    import xlrd
    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
    except Exception as exc:  # xlrd.XLRDError, struct errors, compdoc errors…
        raise SpreadsheetRefused(f"The .xls workbook cannot be read: {exc}.") from None
    try:
        sheet = book.sheet_by_index(0)
        if sheet.nrows > MAX_ROWS + 1:
            raise SpreadsheetRefused(f"The file has more than {MAX_ROWS:,} rows.")
        for r in range(sheet.nrows):
            row = []
            for cell in sheet.row(r):
                if cell.ctype == xlrd.XL_CELL_DATE:
                    row.append(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
                elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                    row.append(None)
                elif cell.ctype == xlrd.XL_CELL_NUMBER and float(cell.value).is_integer():
                    row.append(int(cell.value))
                else:
                    row.append(cell.value)
            yield row
    finally:
        book.release_resources()
