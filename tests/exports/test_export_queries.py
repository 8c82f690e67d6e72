"""An export reads plain values, a chunk at a time: its number of queries does not grow with its
rows (one query for the rows, one per chunk for the lines' funds), and the funds come in
distribution order."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import event

from app import exports
from app.extensions import db
from tests.helpers import login, show_columns
from tests.invoices.helpers import invoice
from tests.orders.helpers import line


def _queries_and_rows(client, url) -> tuple[int, list[list[str]]]:
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    db.session.commit()
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        resp = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert resp.status_code == 200
    return len(statements), list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"), newline="")))


@pytest.mark.postgres    # PostgreSQL streams the rows with a server-side cursor while the funds are read
def test_po_line_export_takes_as_many_queries_for_many_lines_as_for_few(app, world, orders, monkeypatch):
    admin = world.user("admin")
    first, second = sorted([world.fund_a, world.shared], key=lambda f: f.code, reverse=True)
    expected = f"{first.code}, {second.code}"
    for n in range(3):
        line(world, admin, orders.eur, title=f"Few {n}", funds=[(first, "40"), (second, "60")])
    show_columns(world.user("viewer"), "po_lines")
    client = login(app.test_client(), "viewer")
    few, rows = _queries_and_rows(client, "/orders/lines/export.csv")
    assert len(rows) == 1 + 3
    funds = rows[0].index("Funds")
    assert {r[funds] for r in rows[1:]} == {expected}, "distribution order, not the codes'"

    for n in range(9):
        line(world, admin, orders.usd if n % 2 else orders.eur, title=f"Many {n}", library="b" if n % 3 else "a")
    many, rows = _queries_and_rows(client, "/orders/lines/export.csv")
    assert len(rows) == 1 + 12
    assert many == few, "a query per line (or per vendor, library or fund) crept in"

    # In chunks of 5: the rows' query streams on, and each further chunk adds one query (its funds).
    monkeypatch.setattr(exports, "CHUNK_ROWS", 5)
    chunked, rows = _queries_and_rows(client, "/orders/lines/export.csv")
    assert len(rows) == 1 + 12 and chunked == few + 2


@pytest.mark.postgres
def test_invoice_export_takes_the_same_queries_whatever_the_sort(app, world, vendors):
    op = world.user("invoicer")
    invoice(world, op, vendors.plain, number="F-1", amounts=("10.00",))
    client = login(app.test_client(), "viewer")
    few, _ = _queries_and_rows(client, "/invoices/export.csv?sort=-vendor")
    for n in range(6):
        invoice(world, op, vendors.usd if n % 2 else vendors.plain, number=f"M-{n}", amounts=("1.00",),
                library="b" if n % 2 else "a", **({"currency": "USD"} if n % 2 else {}))
    many, rows = _queries_and_rows(client, "/invoices/export.csv?sort=-vendor")
    assert len(rows) == 1 + 7 and many == few
    vendor = rows[0].index("Vendor")
    assert [r[vendor] for r in rows[1:]] == sorted((r[vendor] for r in rows[1:]), reverse=True)
