"""Spreadsheet builders for the invoice file tests (.xlsx with openpyxl, .xls with xlwt) and a way
to follow a load run to its end."""
from __future__ import annotations

import io
import time

from app.invoices.file_loading import COLUMNS

LABELS = {c.key: c.label for c in COLUMNS}


def table(rows: list[dict], keys: list[str] | None = None) -> list[list]:
    """A header row of column labels, then one list per row dict (missing keys are empty cells)."""
    keys = keys or [c.key for c in COLUMNS if any(c.key in r for r in rows)]
    return [[LABELS[k] for k in keys]] + [[r.get(k) for k in keys] for r in rows]


def xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Invoices")
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def xls(rows: list[list]) -> bytes:
    import datetime

    import xlwt
    book = xlwt.Workbook()
    sheet = book.add_sheet("Invoices")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, datetime.date):
                sheet.write(r, c, value, date_style)
            else:
                sheet.write(r, c, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def follow_load(client, resp, timeout: float = 60) -> str:
    """After POST /invoices/files/load (a 303 to the run's status page): poll the status fragment
    as the page does until the run ends; the full status page then."""
    assert resp.status_code == 303, resp.status_code
    url = resp.headers["Location"]
    deadline = time.monotonic() + timeout
    while 'hx-trigger="every 1s"' in client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True):
        assert time.monotonic() < deadline, "the load did not end in time"
        time.sleep(0.05)
    page = client.get(url)
    assert page.status_code == 200
    return page.get_data(as_text=True)
