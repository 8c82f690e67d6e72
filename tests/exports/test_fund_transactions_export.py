"""A fund's transactions exported: every transaction of the table's filters (more than a page), in
its sort, in the user's columns; a fund the user may not see is not found (404), as its page."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from app.extensions import db
from app.funds import services as funds
from tests.exports.export_helpers import (HOSTILE, by_header, csv_rows, export_links, queries_of, sheet,
                                          table_headers)
from tests.helpers import login, show_columns


def _url(fund, fmt="csv", query=""):
    return f"/funds/{fund.id}/transactions/export.{fmt}" + (f"?{query}" if query else "")


def _moves(world, n=26):
    admin = world.user("admin")
    for i in range(n):
        funds.allocate(admin, world.fund_a, Decimal("1.25"), reference=f"R{i:02d}", on=date(2026, 2, 1 + i))
    out, _ = funds.transfer(admin, world.shared, world.fund_a, Decimal("300.40"), reference=HOSTILE[0],
                            note=HOSTILE[2], on=date(2026, 3, 31))
    funds.allocate(admin, world.fund_a, Decimal("-20.05"), reference="Back", on=date(2026, 4, 2))
    db.session.commit()


def test_fund_transactions_export_has_every_transaction_typed_and_inert(app, world):
    _moves(world)
    total = 1 + 26 + 1 + 1      # INIT, the allocations, the transfer in, the allocation back
    show_columns(world.user("viewer"), "fund_transactions")
    client = login(app.test_client(), "viewer")
    html = client.get(f"/funds/{world.fund_a.id}").data.decode()
    assert f"Export {total} transactions" in html
    rows = sheet(client.get(_url(world.fund_a, "xlsx")))
    col, body = by_header(rows)
    assert len(body) == total, "every transaction, not the first page"
    assert [r[col["Date"]] for r in body] == sorted((r[col["Date"]] for r in body), reverse=True), "latest first"
    ref = {r[col["Reference"]]: r for r in body}
    back, moved = ref["Back"], ref["'" + HOSTILE[0]]
    assert body.index(back) == body.index(moved) - 1, "2 April before 31 March"
    assert (back[col["Amount"]], back[col["Currency"]], back[col["Date"]]) == (-20.05, "EUR", datetime(2026, 4, 2))
    assert (back[col["Type"]], back[col["By"]], back[col["Fund"]]) == ("allocation", "admin", "A-BKS")
    assert (moved[col["Amount"]], moved[col["Other fund"]], moved[col["Type"]]) == (300.4, "SHARED", "transfer")
    assert moved[col["Reference"]] == "'" + HOSTILE[0] and moved[col["Note"]] == "'" + HOSTILE[2]
    assert isinstance(moved[col["Recorded (UTC)"]], datetime)
    assert {r[col["Amount"]] for r in body if r[col["Reference"]].startswith("R")} == {1.25}
    assert ref["INIT"][col["Amount"]] == 1000

    text = csv_rows(client.get(_url(world.fund_a)))
    assert text[0] == list(rows[0]) and len(text) == 1 + total
    back = next(r for r in text if r[col["Reference"]] == "Back")
    assert (back[col["Amount"]], back[col["Date"]]) == ("-20.05", "2026-04-02")
    assert "300.40" in {r[col["Amount"]] for r in text}


def test_fund_transactions_export_follows_the_filters_and_sort(app, world):
    _moves(world, n=3)
    client = login(app.test_client(), "viewer")
    html = client.get(f"/funds/{world.fund_a.id}?kind=allocation&q=R0&sort=amount",
                      headers={"HX-Request": "true"}).data.decode()
    links = export_links(html)
    assert len(links) == 2 and all("kind=allocation" in u and "q=R0" in u and "sort=amount" in u for u in links)
    assert [r[4] for r in csv_rows(client.get(links[0]))[1:]] == ["R00", "R01", "R02"], "date, type, currency, amount, reference"
    rows = csv_rows(client.get(_url(world.fund_a, query="sort=amount&since=2026-03-01&until=2026-06-30")))
    col, body = by_header(rows)
    assert [r[col["Amount"]] for r in body] == ["-20.05", "300.40"]


def test_a_library_scoped_user_exports_only_funds_they_see(app, world):
    _moves(world, n=1)
    client = login(app.test_client(), "viewer-b")
    assert client.get(_url(world.fund_a)).status_code == 404
    assert client.get(_url(world.fund_a, "xlsx")).status_code == 404
    rows = csv_rows(client.get(_url(world.fund_b)))
    assert [r[4] for r in rows[1:]] == ["INIT"]
    assert len(csv_rows(login(app.test_client(), "viewer-a").get(_url(world.fund_a)))) == 1 + 4


def test_the_transactions_and_their_export_show_the_chosen_columns(app, world):
    _moves(world, n=1)
    client = login(app.test_client(), "viewer")
    url = f"/funds/{world.fund_a.id}"
    assert table_headers(client.get(url).data.decode(), "transactions") == [
        "Date", "Type", "Amount", "Reference", "Note", "Other fund", "By"]
    show_columns(world.user("viewer"), "fund_transactions", ["amount", "transaction_date", "source_type"])
    html = client.get(url).data.decode()
    assert table_headers(html, "transactions") == ["Amount", "Date", "Source"]
    assert "300.40" in html and 'id="columns-fund_transactions"' in html
    assert csv_rows(client.get(_url(world.fund_a)))[0] == ["Currency", "Amount", "Date", "Source"]


def test_fund_transactions_export_takes_as_many_queries_for_many_as_for_few(app, world):
    show_columns(world.user("viewer"), "fund_transactions")
    client = login(app.test_client(), "viewer")
    few, resp = queries_of(client, _url(world.fund_a))
    assert len(csv_rows(resp)) == 2
    _moves(world, n=4)
    many, resp = queries_of(client, _url(world.fund_a))
    assert len(csv_rows(resp)) == 2 + 6 and many == few, "a query per transaction crept in"
