"""Every CSV file and workbook the app writes is inert: a text cell that a spreadsheet would read as
a formula (=, +, -, @, tab, CR, NUL first) is written with a leading quote; numbers stay numbers.
One helper (app.spreadsheets.safe_cell), one test per writer."""
from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from app.spreadsheets import FORMULA_TRIGGERS, safe_cell

HOSTILE = ["=HYPERLINK(\"http://x\",\"a\")", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "\0NUL"]


def _inert(text) -> bool:
    return not (isinstance(text, str) and text.startswith(FORMULA_TRIGGERS))


@given(st.one_of(st.text(), st.integers(), st.decimals(allow_nan=False, allow_infinity=False), st.none()))
def test_H12_06_safe_cell_neutralises_text_and_keeps_numbers(value):
    cell = safe_cell(value)
    assert _inert(cell)
    if isinstance(value, str):
        assert cell in (value, "'" + value)
    else:
        assert cell is value


def test_H12_06_safe_cell_examples():
    assert [safe_cell(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]
    assert safe_cell("INV-1") == "INV-1" and safe_cell(Decimal("-12.50")) == Decimal("-12.50")
    assert safe_cell(-3) == -3 and safe_cell(None) is None


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_H12_06_monitor_jobs_error_report_csv_is_inert(app, world):
    from app.extensions import db
    from app.integrations.models import JobEvent, JobRun
    from tests.helpers import login
    run = JobRun(job="load_allocations", profile_code="-ERP", status="completed", records_failed=len(HOSTILE),
                 started_at=datetime(2026, 3, 1, 8, 0))
    db.session.add(run)
    db.session.flush()
    for text in HOSTILE:
        db.session.add(JobEvent(run_id=run.id, level="error", file_name=text, record=text, message=text))
    db.session.commit()
    resp = login(app.test_client(), "admin").get(f"/admin/erp/jobs/runs/{run.id}/report.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True), newline="")))
    assert rows[0][:2] == ["run", "job"] and len(rows) == 1 + len(HOSTILE)
    bad = [cell for row in rows for cell in row if not _inert(cell)]
    assert bad == [], bad
    assert [row[6] for row in rows[1:]] == ["'" + t for t in HOSTILE]     # the record column
    assert {row[0] for row in rows[1:]} == {str(run.id)} and rows[1][2] == "'-ERP"


def test_H12_06_excel_invoice_template_is_inert(monkeypatch):
    """The template's texts are the app's own; should one ever start like a formula (a help text
    "- …", an example "=…"), it is still written as text."""
    from dataclasses import replace

    from openpyxl import load_workbook

    from app.invoices import file_loading as fl
    columns = list(fl.COLUMNS)
    columns[0] = replace(columns[0], label="=1+1", help="-a help text")
    monkeypatch.setattr(fl, "COLUMNS", columns)
    wb = load_workbook(io.BytesIO(fl.template_workbook()))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    bad = [c.value for c in cells if not _inert(c.value)]
    assert bad == [], bad
    assert wb["Invoices"]["A1"].value == "'=1+1"
    numbers = [c.value for c in cells if c.data_type == "n"]
    assert 65.5 in numbers and 12.5 in numbers          # the example amounts are numbers still
