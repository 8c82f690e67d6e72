"""Reading rows from CSV, .xls (xlrd) and .xlsx (openpyxl, read-only) files that come from outside,
with limits checked before the file can exhaust memory: total size, the uncompressed size of each
part of an .xlsx archive and of all of them, the compression ratio (zip bombs), the number of parts,
and the number of rows. Every XML part of an .xlsx is looked at before openpyxl reads it: a part with
a DTD (``<!DOCTYPE``: entity expansion such as the billion laughs, external entities) is refused.
Excel never writes one. openpyxl itself parses with defusedxml (a second line: ``xml_defences``).

``read_rows`` yields each row as a list of cell values (str for CSV; str, int, float, datetime or
None for workbooks) from the first sheet; callers validate the values themselves.

Writing: ``safe_cell`` makes a cell of a CSV file or workbook the app writes inert.
"""
from __future__ import annotations

import csv
import io
import zipfile
from typing import Iterator
from xml.parsers import expat

from .text import T

_MB = 1024 * 1024
_CHUNK = 64 * 1024                  # read size when looking at a part
MAX_FILE_BYTES = 20 * _MB
MAX_UNCOMPRESSED_BYTES = 200 * _MB  # all parts of an .xlsx together
MAX_PART_BYTES = 50 * _MB           # one part (a full 20,000-line invoice sheet is about 25 MB)
MAX_PARTS = 1000
MAX_RATIO = 100                     # uncompressed / compressed, per archive member
MAX_ROWS = 100_000
MAX_COLUMNS = 200
FILE_TYPES = ("csv", "xls", "xlsx")


class SpreadsheetRefused(ValueError):
    """The file is not a readable spreadsheet of the expected type, or exceeds a limit. ``text``: the
    reason as a :class:`~app.text.Text` (English as a ``str``, translated when shown); ``str(exc)``
    is the reason in the current language."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


def file_type_of(filename: str) -> str | None:
    ext = (filename or "").rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    return ext if ext in FILE_TYPES else None


def read_rows(data: bytes, file_type: str, *, max_rows: int = MAX_ROWS,
              max_bytes: int = MAX_FILE_BYTES) -> Iterator[list]:
    """Rows of the first sheet; raises SpreadsheetRefused (possibly after some rows were yielded,
    when the row limit is passed: callers must treat the whole file as refused)."""
    if len(data) > max_bytes:
        raise SpreadsheetRefused(T("The file is %(size)s bytes; at most %(limit)s are accepted.", size=f"{len(data):,}",
                                   limit=f"{max_bytes:,}"))
    if file_type == "csv":
        rows = _csv_rows(data)
    elif file_type == "xlsx":
        rows = _xlsx_rows(data)
    elif file_type == "xls":
        rows = _xls_rows(data)
    else:
        raise SpreadsheetRefused(T("Only .csv, .xls and .xlsx files are accepted."))
    for n, row in enumerate(rows, start=1):
        if n > max_rows:
            raise SpreadsheetRefused(T("The file has more than %(n)s rows.", n=f"{max_rows:,}"))
        if len(row) > MAX_COLUMNS:
            raise SpreadsheetRefused(T("Row %(row)s has more than %(n)s columns.", row=n, n=MAX_COLUMNS))
        yield row


def _csv_rows(data: bytes) -> Iterator[list]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpreadsheetRefused(T("The CSV file is not UTF-8 text.")) from None
    if "\x00" in text:
        raise SpreadsheetRefused(T("The CSV file contains binary data."))
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error as exc:
        raise SpreadsheetRefused(T("The CSV file cannot be read: %(error)s.", error=str(exc))) from None


def check_xlsx_archive(data: bytes) -> None:
    """Refuse an .xlsx whose parts would inflate beyond the limits (zip bomb), or any of whose XML
    parts carries a DTD, before openpyxl reads it."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise SpreadsheetRefused(T("The file is not an .xlsx workbook (not a zip archive).")) from None
    with archive:
        parts = archive.infolist()
        if len(parts) > MAX_PARTS:
            raise SpreadsheetRefused(T("The workbook has more than %(n)s parts; it is refused.", n=f"{MAX_PARTS:,}"))
        total = 0
        for info in parts:
            total += info.file_size
            if info.file_size > MAX_UNCOMPRESSED_BYTES or total > MAX_UNCOMPRESSED_BYTES:
                raise SpreadsheetRefused(T("The workbook would inflate to more than %(mb)s MB; it is refused.",
                                           mb=MAX_UNCOMPRESSED_BYTES // _MB))
            if info.file_size > MAX_PART_BYTES:
                raise SpreadsheetRefused(T("The workbook part %(part)s would inflate to %(mb)s MB; a part may hold at "
                                           "most %(limit)s MB. It is refused.", part=info.filename,
                                           mb=f"{info.file_size / _MB:.0f}", limit=MAX_PART_BYTES // _MB))
            if info.file_size > _MB and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise SpreadsheetRefused(T("The workbook member %(part)s is compressed more than %(ratio)s:1 (a zip "
                                           "bomb?); it is refused.", part=info.filename, ratio=MAX_RATIO))
        try:
            for info in parts:
                if not info.is_dir():
                    _refuse_dtd(archive, info)
        except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError) as exc:
            # damaged, encrypted or oddly compressed parts: nothing openpyxl could read either
            raise SpreadsheetRefused(T("The .xlsx workbook cannot be read: %(error)s.", error=str(exc))) from None



class _PrologDone(Exception):
    """The root element began: a DTD can no longer come."""


def _refuse_dtd(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Read an XML part up to its root element (streamed, so memory stays flat) and refuse it when
    it declares a DTD. Expat reads the part's own encoding (UTF-16 too), which a byte search for
    "<!DOCTYPE" would miss; a part that looks like XML but that expat cannot read before its root
    element (an encoding it does not know, say) is refused as well, since another parser might read
    it. Parts that do not look like XML (images, binary parts) are left to openpyxl."""
    def doctype(*_args):
        raise SpreadsheetRefused(T("The workbook part %(part)s declares a DTD (<!DOCTYPE …>). Excel never writes "
                                   "one, and a DTD can expand entities without limit; the file is refused. Save it "
                                   "again from Excel or LibreOffice.", part=info.filename))

    def root(*_args):
        raise _PrologDone

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = doctype
    parser.StartElementHandler = root
    with archive.open(info) as part:
        chunk = part.read(_CHUNK)
        if not _looks_like_xml(chunk):
            return
        try:
            while chunk:
                parser.Parse(chunk, False)
                chunk = part.read(_CHUNK)
            parser.Parse(b"", True)
        except _PrologDone:
            return
        except expat.ExpatError as exc:
            raise SpreadsheetRefused(T("The workbook part %(part)s is not well-formed XML (%(error)s, line %(line)s); "
                                       "it is refused.", part=info.filename, error=expat.ErrorString(exc.code),
                                       line=exc.lineno)) from None
        except (LookupError, UnicodeError):   # an encoding Python has no codec for, or bytes not in it
            raise SpreadsheetRefused(T("The workbook part %(part)s is not XML in an encoding this server reads "
                                       "(Excel writes UTF-8); it is refused.", part=info.filename)) from None


def _looks_like_xml(head: bytes) -> bool:
    """Starts with "<" after an optional byte order mark and white space (NULs: UTF-16 or UTF-32)."""
    return head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")[:1] == b"<"


def xml_defences() -> str | None:
    """What is wrong when openpyxl would parse workbooks without defusedxml, else None. The app
    refuses to start then (checked by create_app)."""
    import openpyxl
    from openpyxl.xml import functions
    if not openpyxl.DEFUSEDXML or not functions.iterparse.__module__.startswith("defusedxml"):
        return ("openpyxl would parse uploaded workbooks without defusedxml: install it (see requirements.txt) "
                "and leave OPENPYXL_DEFUSEDXML unset.")
    return None


def _xlsx_rows(data: bytes) -> Iterator[list]:
    check_xlsx_archive(data)
    from openpyxl import load_workbook
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise SpreadsheetRefused(T("The .xlsx workbook cannot be read: %(error)s.", error=type(exc).__name__)) from None
    try:
        ws = wb.worksheets[0] if wb.worksheets else None
        if ws is None:
            return
        rows = ws.iter_rows(values_only=True)
        while True:
            try:
                row = next(rows, None)
            except Exception as exc:  # a damaged sheet (a shared string that is not there, …)
                raise SpreadsheetRefused(T("The .xlsx workbook cannot be read: %(error)s.",
                                           error=type(exc).__name__)) from None
            if row is None:
                return
            yield list(row)
    finally:
        wb.close()


def _xls_rows(data: bytes) -> Iterator[list]:
    import xlrd
    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
    except Exception as exc:  # xlrd.XLRDError, struct errors, compdoc errors…
        raise SpreadsheetRefused(T("The .xls workbook cannot be read: %(error)s.", error=str(exc))) from None
    try:
        sheet = book.sheet_by_index(0)
        if sheet.nrows > MAX_ROWS + 1:
            raise SpreadsheetRefused(T("The file has more than %(n)s rows.", n=f"{MAX_ROWS:,}"))
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


# -- writing -----------------------------------------------------------------------------------

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")


def safe_cell(value):
    """A cell value for a CSV file or workbook the app writes: text starting with a character a
    spreadsheet reads as the start of a formula (=, +, -, @, tab, CR, NUL) gets a leading single
    quote, so it shows as the text it is and never runs. Numbers, dates and None are kept as they
    are (a negative amount stays a number)."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def safe_row(values) -> list:
    return [safe_cell(v) for v in values]
