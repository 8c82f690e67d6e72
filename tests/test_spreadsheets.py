"""Reading workbooks from outside (app/spreadsheets.py): hostile XML inside an .xlsx is refused
before openpyxl reads a byte of it, cheaply; and every cell the app writes is inert (safe_cell)."""
from __future__ import annotations

import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from app.spreadsheets import MAX_PART_BYTES, MAX_PARTS, SpreadsheetRefused, read_rows, safe_cell
from tests.hostile_workbooks import (SHARED_STRINGS, SHEET, hostile, oversized_part, peak_memory, replace_part,
                                     workbook)

ROWS = [["FUND_EXTERNAL_ID", "AMOUNT"], ["EXT-1", 12.5]]
ATTACKS = ["billion_laughs", "quadratic", "external_entity", "dtd_only", "utf16"]
MB = 1024 * 1024


@pytest.fixture
def openpyxl_never_called(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("openpyxl was given a hostile workbook")
    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


def _refusal(data: bytes) -> tuple[str, int]:
    def read():
        with pytest.raises(SpreadsheetRefused) as refused:
            list(read_rows(data, "xlsx"))
        return str(refused.value)
    return peak_memory(read)


def test_a_plain_workbook_with_shared_strings_reads():
    assert list(read_rows(workbook(ROWS), "xlsx")) == ROWS


def test_H12_03_openpyxl_parses_with_defusedxml():
    from openpyxl.xml import functions
    assert openpyxl.xml.DEFUSEDXML is True and openpyxl.DEFUSEDXML is True
    assert functions.iterparse.__module__.startswith("defusedxml")


def test_H12_03_the_app_does_not_start_when_openpyxl_would_parse_without_defusedxml(monkeypatch, tmp_path):
    from xml.etree.ElementTree import iterparse

    from openpyxl.xml import functions

    from app import create_app
    monkeypatch.setattr(functions, "iterparse", iterparse)
    with pytest.raises(RuntimeError, match="defusedxml"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "SECRET_KEY": "x"})


@pytest.mark.parametrize("kind", ATTACKS)
def test_H12_03_a_dtd_in_shared_strings_is_refused_before_openpyxl_reads(kind, openpyxl_never_called):
    message, peak = _refusal(hostile(ROWS, kind))
    assert "DTD" in message and SHARED_STRINGS in message, message
    assert peak < 4 * MB, f"peak {peak / MB:.1f} MB"


@pytest.mark.parametrize("part", ["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml",
                                  "xl/_rels/workbook.xml.rels", SHEET])
def test_H12_03_a_dtd_in_any_part_is_refused(part, openpyxl_never_called):
    data = workbook(ROWS)
    original = zipfile.ZipFile(io.BytesIO(data)).read(part)
    declaration, rest = original.split(b"\n", 1)
    message, _ = _refusal(replace_part(data, part, declaration + b'\n<!DOCTYPE x [<!ENTITY e "e">]>\n' + rest))
    assert "DTD" in message and part in message, message


def test_H12_03_a_part_in_an_encoding_the_check_cannot_read_is_refused(openpyxl_never_called):
    data = workbook(ROWS)
    part = zipfile.ZipFile(io.BytesIO(data)).read(SHARED_STRINGS).replace(b'encoding="UTF-8"', b'encoding="EBCDIC-US"')
    message, _ = _refusal(replace_part(data, SHARED_STRINGS, part))
    assert SHARED_STRINGS in message and "XML" in message, message


def test_H12_03_a_part_larger_than_the_part_limit_is_refused_unread(openpyxl_never_called):
    data = oversized_part(ROWS, MAX_PART_BYTES + 4 * MB)
    assert len(data) < 4 * MB
    message, peak = _refusal(data)
    assert SHEET in message and f"{MAX_PART_BYTES // MB} MB" in message, message
    assert peak < 4 * MB, f"peak {peak / MB:.1f} MB"


def test_H12_03_a_workbook_of_too_many_parts_is_refused(openpyxl_never_called):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for n in range(MAX_PARTS + 1):
            zf.writestr(f"xl/media/p{n}.bin", b"")
    message, _ = _refusal(out.getvalue())
    assert f"more than {MAX_PARTS:,} parts" in message, message


def test_H12_03_a_damaged_workbook_is_refused_not_crashed():
    """A sheet pointing at shared strings that do not exist: openpyxl raises IndexError while
    reading rows, which must come out as a refusal (not a 500)."""
    data = workbook(ROWS)
    strings = zipfile.ZipFile(io.BytesIO(data)).read(SHARED_STRINGS)
    damaged = replace_part(data, SHARED_STRINGS, strings.split(b"<si>")[0] + b"</sst>")
    with pytest.raises(SpreadsheetRefused, match="cannot be read"):
        list(read_rows(damaged, "xlsx"))
