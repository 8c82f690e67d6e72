"""The PO line and invoice lists exported: every matching row (more than a page), in the list's
filter and sort, within the user's library scope, typed and inert."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime

from openpyxl import load_workbook

from app.extensions import db
from app.invoices import services as ivs
from app.orders import services as os_
from tests.helpers import login, show_columns
from tests.invoices.helpers import invoice, lines
from tests.orders.helpers import line

HOSTILE = ['=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "@SUM(A1:A9)"]


def _sheet(resp) -> list[tuple]:
    assert resp.status_code == 200, resp.status_code
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))


def _csv(resp) -> list[list[str]]:
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"), newline="")))


def _export_links(html: str) -> list[str]:
    return [u.replace("&amp;", "&") for u in re.findall(r'href="([^"]*/export\.(?:csv|xlsx)[^"]*)"', html)]


def _many_lines(world, orders, n=27):
    admin = world.user("admin")
    for i in range(n):
        os_.create_po_line(admin, os_.POLineFields(vendor=orders.eur, title=f"Serial {i:02d}", list_price="10.25",
                                                   quantity=2, owner_library=world.lib_a, inventory_library=world.lib_a,
                                                   distribution=[os_.Share(world.fund_a, "100")]))
    db.session.commit()


def test_po_line_export_has_every_matching_line_typed_and_inert(app, world, orders, pin_today):
    admin = world.user("admin")
    _many_lines(world, orders)
    usd = line(world, admin, orders.usd, title="Dollar atlas", price="1234.56", library="b",
               expected_receipt_date=date(2026, 9, 30))
    for title in HOSTILE:
        line(world, admin, orders.eur, title=title, price="5.00")
    total = 27 + 1 + len(HOSTILE)
    show_columns(world.user("viewer"), "po_lines")
    client = login(app.test_client(), "viewer")
    html = client.get("/orders/lines/").data.decode()
    assert f"Export {total} lines" in html

    resp = client.get("/orders/lines/export.xlsx")
    assert resp.headers["Cache-Control"] == "private, no-store"
    assert re.fullmatch(r'attachment; filename="po-lines-\d{4}-\d{2}-\d{2}\.xlsx"', resp.headers["Content-Disposition"])
    rows = _sheet(resp)
    header, body = rows[0], rows[1:]
    assert len(body) == total, "every line, not the first page"
    col = {name: i for i, name in enumerate(header)}
    assert [r[col["PO line"]] for r in body] == sorted((r[col["PO line"]] for r in body), reverse=True), "list sort"
    atlas = next(r for r in body if r[col["PO line"]] == usd.number)
    assert atlas[col["Net price"]] == 1234.56 and atlas[col["Currency"]] == "USD" and atlas[col["Owner"]] == "LIBB"
    assert atlas[col["Expected receipt"]] == datetime(2026, 9, 30) and atlas[col["Funds"]] == world.fund_b.code
    assert isinstance(atlas[col["Created (UTC)"]], datetime)
    serial = next(r for r in body if r[col["Title"]] == "Serial 00")
    assert (serial[col["List price"]], serial[col["Quantity"]], serial[col["Net price"]]) == (10.25, 2, 20.5)
    assert serial[col["Status"]] == "In Review" and serial[col["Vendor"]] == "EURV"
    assert sorted(r[col["Title"]] for r in body if r[col["Title"]][0] in "'=+@") == sorted("'" + t for t in HOSTILE)

    text = _csv(client.get("/orders/lines/export.csv"))
    assert text[0] == list(header) and len(text) == 1 + total
    atlas = next(r for r in text if r[0] == usd.number)
    assert atlas[col["Net price"]] == "1234.56" and atlas[col["Expected receipt"]] == "2026-09-30"
    assert {r[col["Title"]] for r in text if r[col["Title"]][:1] in "'=+@"} == {"'" + t for t in HOSTILE}


def test_po_line_export_carries_the_filter_and_sort(app, world, orders):
    admin = world.user("admin")
    _many_lines(world, orders, n=3)
    usd = line(world, admin, orders.usd, title="Serial atlas", price="30.00", library="b")
    client = login(app.test_client(), "viewer")
    html = client.get(f"/orders/lines/?q=serial&sort=title&library={world.lib_a.id}", headers={"HX-Request": "true"})
    links = _export_links(html.data.decode())
    assert len(links) == 2 and all("q=serial" in u and "sort=title" in u and f"library={world.lib_a.id}" in u
                                   for u in links)
    rows = _sheet(client.get(links[1]))
    assert [r[1] for r in rows[1:]] == ["Serial 00", "Serial 01", "Serial 02"], "lib A only, sorted by title"
    rows = _csv(client.get(f"/orders/lines/export.csv?vendor={orders.usd.id}"))
    assert [r[0] for r in rows[1:]] == [usd.number]


def test_po_line_export_of_a_library_scoped_user_has_only_their_lines(app, world, orders, buyer_a):
    admin = world.user("admin")
    mine = line(world, admin, orders.eur, title="Ours")
    line(world, admin, orders.eur, title="Theirs", library="b")
    line(world, admin, orders.eur, title="Everyone's", library=None)
    for user in ("buyer-a", "viewer-a"):
        client = login(app.test_client(), user)
        rows = _sheet(client.get("/orders/lines/export.xlsx"))
        listed = re.findall(r">(POL-\d{6})<", client.get("/orders/lines/").data.decode())
        assert [r[0] for r in rows[1:]] == listed and mine.number in listed
        assert "Theirs" not in {r[1] for r in rows[1:]}
        # asking for the other library's lines by filter gives none
        assert len(_csv(client.get(f"/orders/lines/export.csv?library={world.lib_b.id}"))) == 1


def test_invoice_export_has_every_matching_invoice_typed_and_scoped(app, world, vendors, pin_today):
    op = world.user("invoicer")
    for n in range(26):
        ivs.create_invoice(op, ivs.InvoiceFields(number=f"P-{n:02d}", vendor=vendors.plain,
                                                 invoice_date=date(2026, 1, 1 + n), total_amount="1.50",
                                                 owner_library=world.lib_a, lines=lines("1.50", fund=world.fund_a)))
    db.session.commit()
    hostile = invoice(world, op, vendors.plain, number="H-1", reference_number=HOSTILE[0], amounts=("99.99",))
    usd = invoice(world, op, vendors.usd, number="USD-1", currency="USD", amounts=("-30.10",), library="b",
                  invoice_date=date(2026, 6, 30))
    show_columns(world.user("viewer"), "invoices")
    client = login(app.test_client(), "viewer")
    assert "Export 28 invoices" in client.get("/invoices/").data.decode()
    rows = _sheet(client.get("/invoices/export.xlsx"))
    header, body = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(header)}
    assert len(body) == 28
    assert body[0][col["Invoice"]] == "USD-1", "latest invoice date first, as the list"
    assert (body[0][col["Total"]], body[0][col["Currency"]], body[0][col["Invoice date"]]) == (
        -30.1, "USD", datetime(2026, 6, 30))
    h = next(r for r in body if r[col["Invoice"]] == hostile.number)
    assert h[col["Reference"]] == "'" + HOSTILE[0] and h[col["Total"]] == 99.99
    assert {r[col["Status"]] for r in body} == {"In Review"}

    by_vendor = _csv(client.get("/invoices/export.csv?sort=-vendor"))
    assert len(by_vendor) == 29 and by_vendor[1][0] == "USD-1" and by_vendor[1][col["Total"]] == "-30.10"
    assert [r[0] for r in _csv(client.get("/invoices/export.csv?q=USD-1"))[1:]] == [usd.number]

    html = client.get("/invoices/?status=in_review&sort=number").data.decode()
    links = _export_links(html)
    assert len(links) == 2 and all("status=in_review" in u and "sort=number" in u for u in links)
    assert [r[0] for r in _csv(client.get(links[0]))[1:]] == sorted(r[0] for r in body)

    scoped = _sheet(login(app.test_client(), "viewer-a").get("/invoices/export.xlsx"))
    assert len(scoped) == 1 + 27 and "USD-1" not in {r[0] for r in scoped}
