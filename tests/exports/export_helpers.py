"""Reading an export back in tests: the workbook's rows, the CSV's rows, a page's export links, and
the queries a request takes."""
from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook
from sqlalchemy import event

from app.extensions import db

HOSTILE = ['=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "@SUM(A1:A9)"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def sheet(resp) -> list[tuple]:
    assert resp.status_code == 200, resp.status_code
    assert resp.mimetype == XLSX and resp.headers["Cache-Control"] == "private, no-store"
    return list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))


def csv_rows(resp) -> list[list[str]]:
    assert resp.status_code == 200 and resp.mimetype == "text/csv", resp.status_code
    assert resp.data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"), newline="")))


def by_header(rows) -> tuple[dict, list]:
    """``({header: index}, body rows)`` of a sheet or CSV read back."""
    return {name: i for i, name in enumerate(rows[0])}, rows[1:]


def export_links(html: str) -> list[str]:
    return [u.replace("&amp;", "&") for u in re.findall(r'href="([^"]*/export\.(?:csv|xlsx)[^"]*)"', html)]


def table_headers(html: str, table_class: str) -> list[str]:
    """The header cells of the first ``<table class="data TABLE_CLASS">`` of ``html``, as text."""
    head = re.search(rf'<table class="data {table_class}"[^>]*>\s*<thead[^>]*>(.*?)</thead>', html, re.S).group(1)
    return [re.sub(r"<[^>]+>|[↑↓]", "", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]


def queries_of(client, url) -> tuple[int, object]:
    """How many SQL statements answering ``url`` took (the streamed body read out), and the response."""
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    db.session.commit()
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        resp = client.get(url)
        resp.get_data()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert resp.status_code == 200
    return len(statements), resp
