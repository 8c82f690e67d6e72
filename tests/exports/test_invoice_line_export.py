"""The invoice line list exported: every matching line (more than a page) in the list's filter and
sort and the user's columns, amounts numeric beside their currency, dates as dates, the price note
only when chosen, hostile text inert, a library-scoped user's lines only."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime

from openpyxl import load_workbook

from app import list_columns
from app.extensions import db
from app.funds.distribution import Share
from app.invoices import services as ivs
from tests.helpers import login, show_columns
from tests.invoices.helpers import invoice, lines
from tests.orders.helpers import line as pol_line

URL = "/invoices/lines/export"
HOSTILE = '=HYPERLINK("http://evil.example","x")'


def _sheet(resp) -> list[tuple]:
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "private, no-store"
    return list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))


def _world(world, vendors):
    op = world.user("invoicer")
    pol = pol_line(world, world.user("admin"), vendors.plain, title="Ordered atlas")
    many = [ivs.LineFields(unit_price="1.25", quantity=2, price_note=f"note {n}",
                           distribution=[Share(world.fund_a, "50"), Share(world.shared, "50")]) for n in range(55)]
    invoice(world, op, vendors.plain, number="MANY-1", lines=many, amounts=("2.50",) * 55,
            invoice_date=date(2026, 3, 2))
    invoice(world, op, vendors.plain, number="ATLAS-1", invoice_date=date(2026, 3, 9), amounts=("100.00",),
            lines=lines("100.00", fund=world.fund_a, po_line=pol, price_note=HOSTILE, reporting_code="RC-9",
                        subscription_from=date(2026, 1, 1), subscription_to=date(2026, 12, 31)))
    invoice(world, op, vendors.usd, number="USD-1", currency="USD", amounts=("-30.10",), library="b",
            invoice_date=date(2026, 2, 1))
    db.session.commit()
    return pol


def test_every_line_typed_in_the_default_columns(app, world, vendors, pin_today):
    pol = _world(world, vendors)
    client = login(app.test_client(), "viewer")
    assert "Export 57 lines" in client.get("/invoices/lines/").data.decode()
    rows = _sheet(client.get(URL + ".xlsx"))
    header, body = list(rows[0]), rows[1:]
    table = list_columns.TABLES["invoice_lines"]
    assert "Price note" not in header, "hidden by default, so not exported"
    assert header == [c.header for c in table.columns.chosen(table.default_keys)]
    assert header.index("Currency") < header.index("Price"), "the currency comes with the amounts"
    col = {name: i for i, name in enumerate(header)}
    assert len(body) == 57, "every line, not the first page"
    first = body[0]
    assert first[col["Invoice"]] == "ATLAS-1", "latest invoice date first, as the list"
    assert (first[col["PO line"]], first[col["Title"]], first[col["Total"]], first[col["Currency"]]) == (
        pol.number, "Ordered atlas", 100, "EUR")
    assert first[col["Subscription from"]] == datetime(2026, 1, 1) and first[col["Reporting code"]] == "RC-9"
    assert first[col["Funds"]] == world.fund_a.code
    usd = body[-1]
    assert (usd[col["Invoice"]], usd[col["Total"]], usd[col["Currency"]]) == ("USD-1", -30.1, "USD")
    many = [r for r in body if r[col["Invoice"]] == "MANY-1"]
    assert len(many) == 55 and {(r[col["Price"]], r[col["Qty"]], r[col["Total"]]) for r in many} == {(1.25, 2, 2.5)}
    assert {r[col["Funds"]] for r in many} == {f"{world.fund_a.code}, {world.shared.code}"}, "distribution order"


def test_the_price_note_when_chosen_inert_and_in_the_filter_and_sort(app, world, vendors):
    _world(world, vendors)
    show_columns(world.user("viewer"), "invoice_lines", ["number", "price_note", "total"])
    client = login(app.test_client(), "viewer")
    text = client.get(URL + f".csv?vendor={vendors.plain.id}&sort=number").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["Invoice", "Price note", "Currency", "Total"]
    assert len(rows) == 1 + 56 and rows[1] == ["ATLAS-1", "'" + HOSTILE, "EUR", "100.00"], "sorted by number"
    assert rows[2][:2] == ["MANY-1", "note 0"], "an invoice's lines in their order"
    sheet = _sheet(client.get(URL + ".xlsx?q=note+54"))
    assert sheet == [("Invoice", "Price note", "Currency", "Total"), ("MANY-1", "note 54", "EUR", 2.5)]


def test_a_library_scoped_user_exports_only_their_lines(app, world, vendors):
    _world(world, vendors)
    client = login(app.test_client(), "viewer-a")
    body = _sheet(client.get(URL + ".xlsx"))[1:]
    assert {r[0] for r in body} == {"MANY-1", "ATLAS-1"} and len(body) == 56
    assert len(_sheet(client.get(URL + f".xlsx?library={world.lib_b.id}"))) == 1, "asking for B gives nothing"
