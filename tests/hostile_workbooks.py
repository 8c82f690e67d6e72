"""Hostile .xlsx workbooks for the spreadsheet hardening tests: a real workbook (openpyxl) with one
part replaced by the attacker's XML. Each is small on the wire; what it would cost to read is the
point of the test."""
from __future__ import annotations

import io
import random
import tracemalloc
import zipfile
from xml.sax.saxutils import escape

SHARED_STRINGS = "xl/sharedStrings.xml"
SHEET = "xl/worksheets/sheet1.xml"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def workbook(rows: list[list]) -> bytes:
    """A minimal real workbook, written by hand so that its text cells sit in sharedStrings.xml
    (openpyxl itself writes inline strings): the part the classic attacks go for."""
    strings: list[str] = []
    sheet_rows = []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row):
            ref = f"{chr(65 + c)}{r}"
            if value is None:
                continue
            if isinstance(value, str):
                strings.append(value)
                cells.append(f'<c r="{ref}" t="s"><v>{len(strings) - 1}</v></c>')
            else:
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
        sheet_rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    shared = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = {
        "[Content_Types].xml":
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/></Types>',
        "_rels/.rels":
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml":
            f'<workbook xmlns="{MAIN_NS}" xmlns:r="{rel}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels":
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        SHEET: f'<worksheet xmlns="{MAIN_NS}"><sheetData>{"".join(sheet_rows)}</sheetData></worksheet>',
        SHARED_STRINGS: f'<sst xmlns="{MAIN_NS}" count="{len(strings)}" uniqueCount="{len(strings)}">{shared}</sst>',
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + text)
    return out.getvalue()


def replace_part(data: bytes, name: str, content: bytes) -> bytes:
    """``data`` with the zip member ``name`` replaced by (or added as) ``content``."""
    base = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for info in base.infolist():
            if info.filename != name:
                zf.writestr(info.filename, base.read(info.filename))
        zf.writestr(name, content)
    return out.getvalue()


def billion_laughs(levels: int = 9, fan_out: int = 10) -> bytes:
    """sharedStrings.xml whose one string is an entity expanding to fan_out**levels "lol"s
    (10**9 × 3 bytes with the defaults)."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{("&lol%d;" % (n - 1)) * fan_out}">' for n in range(1, levels + 1)]
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE sst [{"".join(entities)}]>\n'
            f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>&lol{levels};</t></si></sst>').encode()


def quadratic_blowup(size: int = 100_000, refs: int = 2_000) -> bytes:
    """One large entity referred to many times: no nesting, so limits on nesting miss it."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE sst [<!ENTITY a "{"x" * size}">]>\n'
            f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>{"&a;" * refs}</t></si></sst>').encode()


def external_entity(target: str = "file:///etc/passwd") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE sst [<!ENTITY ext SYSTEM "{target}">]>\n'
            f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>&ext;</t></si></sst>').encode()


def dtd_only() -> bytes:
    """A DOCTYPE that declares nothing: harmless in itself, and still refused (Excel never writes one)."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE sst>\n'
            f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>FUND_EXTERNAL_ID</t></si></sst>').encode()


def utf16_billion_laughs() -> bytes:
    """The billion laughs written in UTF-16, which a byte search for "<!DOCTYPE" would miss."""
    return billion_laughs().decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")


def hostile(rows: list[list], kind: str) -> bytes:
    """A workbook of ``rows`` whose shared strings are replaced by the named attack."""
    parts = {"billion_laughs": billion_laughs, "quadratic": quadratic_blowup, "external_entity": external_entity,
             "dtd_only": dtd_only, "utf16": utf16_billion_laughs}
    return replace_part(workbook(rows), SHARED_STRINGS, parts[kind]())


def oversized_part(rows: list[list], inflated: int) -> bytes:
    """A workbook whose first sheet carries ``inflated`` bytes of comment padding: about 60:1
    compressed (a little random text in each megabyte), so it passes the ratio check and stays
    under the total limit, and only the per-part limit can refuse it."""
    base = zipfile.ZipFile(io.BytesIO(workbook(rows)))
    sheet = base.read(SHEET)
    head, tail = sheet.split(b"<sheetData", 1)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for info in base.infolist():
            if info.filename == SHEET:
                with zf.open(SHEET, "w", force_zip64=True) as member:
                    member.write(head + b"<!--")
                    noise = random.Random(12).randbytes(16 * 1024).hex().encode()
                    chunk = noise + b"x" * (1024 * 1024 - len(noise))
                    for _ in range(inflated // len(chunk)):
                        member.write(chunk)
                    member.write(b"--><sheetData" + tail)
            else:
                zf.writestr(info.filename, base.read(info.filename))
    return out.getvalue()


def peak_memory(fn):
    """(fn(), the peak of Python memory allocated while it ran, in bytes)."""
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
