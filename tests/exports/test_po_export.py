"""The purchase order list exported: every order of the status filter (more than a page), newest
first as the list, in the user's columns, within their library scope; the line count and net total
come from the database in the rows' own query."""
from __future__ import annotations

from datetime import datetime

from app.extensions import db
from app.orders import services as os_
from tests.exports.export_helpers import (HOSTILE, by_header, csv_rows, export_links, queries_of, sheet,
                                          table_headers)
from tests.helpers import login, show_columns
from tests.orders.helpers import line, sent_line


def _mixed_po(world, orders, note=""):
    """One PO of vendor EURV with a EUR line and a USD line, sent."""
    buyer = world.user("buyer")
    eur = line(world, buyer, orders.eur, title="in euro", price="10.10", packaging="manual")
    usd = line(world, buyer, orders.eur, title="in dollars", currency="USD", price="5.00", packaging="manual")
    for p in (eur, usd):
        os_.approve_po_line(buyer, p)
    po = os_.package_po_line(buyer, eur)
    os_.package_po_line(buyer, usd, po)
    os_.send_po(buyer, po)
    po.note = note
    db.session.commit()
    return po


def test_po_export_has_every_order_typed_and_inert(app, world, orders):
    admin = world.user("admin")
    for n in range(26):
        sent_line(world, admin, orders.eur, title=f"Order {n}", price="12.34")
    two = line(world, admin, orders.usd, title="Two copies", price="234.56", quantity=2, packaging="manual",
               library="b")
    os_.approve_po_line(admin, two)
    usd_po = os_.package_po_line(admin, two)
    usd_po.note = HOSTILE[0]
    db.session.commit()
    mixed = _mixed_po(world, orders, note=HOSTILE[1])
    total = 26 + 2

    show_columns(world.user("viewer"), "purchase_orders")
    client = login(app.test_client(), "viewer")
    html = client.get("/orders/pos/").data.decode()
    assert f"Export {total} purchase orders" in html
    assert "mixed currencies" in html and "469.12" in html, "the newest orders' totals on the first page"

    rows = sheet(client.get("/orders/pos/export.xlsx"))
    col, body = by_header(rows)
    assert len(body) == total, "every order, not the first page"
    assert [r[col["Number"]] for r in body] == sorted((r[col["Number"]] for r in body), reverse=True), "newest first"
    usd = next(r for r in body if r[col["Number"]] == usd_po.number)
    assert (usd[col["Lines"]], usd[col["Net total"]], usd[col["Currency"]]) == (1, 469.12, "USD")
    assert (usd[col["Status"]], usd[col["Owner"]], usd[col["Sent"]]) == ("Being packaged", "LIBB", None)
    assert usd[col["Note"]] == "'" + HOSTILE[0] and usd[col["Vendor name"]] == "Dollar Books"
    assert isinstance(usd[col["Created"]], datetime) and usd[col["Created by"]] == "admin"
    both = next(r for r in body if r[col["Number"]] == mixed.number)
    assert (both[col["Lines"]], both[col["Net total"]], both[col["Currency"]]) == (2, None, None), \
        "no sum across currencies"
    assert both[col["Note"]] == "'" + HOSTILE[1] and both[col["Sent by"]] == "buyer"
    assert isinstance(both[col["Sent"]], datetime)
    one = next(r for r in body if r[col["Number"]] not in (usd_po.number, mixed.number))
    assert (one[col["Lines"]], one[col["Net total"]], one[col["Currency"]], one[col["Status"]]) == (
        1, 12.34, "EUR", "Sent")

    text = csv_rows(client.get("/orders/pos/export.csv"))
    assert text[0] == list(rows[0]) and len(text) == 1 + total
    usd = next(r for r in text if r[0] == usd_po.number)
    assert usd[col["Net total"]] == "469.12" and usd[col["Note"]] == "'" + HOSTILE[0]


def test_po_export_follows_the_status_filter(app, world, orders):
    admin = world.user("admin")
    sent = sent_line(world, admin, orders.eur, title="Sent one")
    pending = line(world, admin, orders.eur, packaging="manual")
    os_.approve_po_line(admin, pending)
    open_po = os_.package_po_line(admin, pending)
    db.session.commit()
    client = login(app.test_client(), "viewer")
    links = export_links(client.get("/orders/pos/?status=open", headers={"HX-Request": "true"}).data.decode())
    assert len(links) == 2 and all("status=open" in u for u in links)
    assert [r[0] for r in csv_rows(client.get(links[0]))[1:]] == [open_po.number]
    assert [r[0] for r in sheet(client.get("/orders/pos/export.xlsx?status=sent"))[1:]] == [sent.po.number]


def test_po_export_of_a_library_scoped_user_has_only_their_orders(app, world, orders, buyer_a):
    admin = world.user("admin")
    mine = sent_line(world, admin, orders.eur, title="Ours")
    theirs = sent_line(world, admin, orders.eur, title="Theirs", library="b")
    for user in ("buyer-a", "viewer-a"):
        client = login(app.test_client(), user)
        numbers = [r[0] for r in sheet(client.get("/orders/pos/export.xlsx"))[1:]]
        assert mine.po.number in numbers and theirs.po.number not in numbers
        assert numbers == [r[0] for r in csv_rows(client.get("/orders/pos/export.csv"))[1:]]
    everyone = [r[0] for r in csv_rows(login(app.test_client(), "viewer").get("/orders/pos/export.csv"))[1:]]
    assert theirs.po.number in everyone


def test_the_po_list_and_its_export_show_the_chosen_columns(app, world, orders):
    sent_line(world, world.user("admin"), orders.usd, title="Atlas", price="99.50")
    client = login(app.test_client(), "viewer")
    assert table_headers(client.get("/orders/pos/").data.decode(), "po-list") == [
        "Number", "Vendor", "Owner", "Status", "Packaging", "Lines", "Created", "Sent"]
    show_columns(world.user("viewer"), "purchase_orders", ["number", "total", "note", "vendor"])
    html = client.get("/orders/pos/").data.decode()
    assert table_headers(html, "po-list") == ["Number", "Net total", "Note", "Vendor"]
    assert "99.50" in html and 'id="columns-purchase_orders"' in html
    header = csv_rows(client.get("/orders/pos/export.csv"))[0]
    assert header == ["Number", "Currency", "Net total", "Note", "Vendor"], "an amount brings its currency"


def test_po_export_takes_as_many_queries_for_many_orders_as_for_few(app, world, orders):
    admin = world.user("admin")
    sent_line(world, admin, orders.eur, title="First")
    show_columns(world.user("viewer"), "purchase_orders")
    client = login(app.test_client(), "viewer")
    few, resp = queries_of(client, "/orders/pos/export.csv")
    assert len(csv_rows(resp)) == 2
    for n in range(5):
        sent_line(world, admin, orders.usd if n % 2 else orders.eur, title=f"More {n}", library="b" if n % 2 else "a")
    many, resp = queries_of(client, "/orders/pos/export.csv")
    assert len(csv_rows(resp)) == 7 and many == few, "a query per order crept in"
