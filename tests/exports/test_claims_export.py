"""The claims list exported: every overdue line (more than a page), oldest due first as the list,
with the days overdue, how many claims were started and the last one, in the user's columns,
within the user's library scope."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from app import clock
from app.extensions import db
from app.orders.models import Communication
from tests.exports.export_helpers import (HOSTILE, by_header, csv_rows, export_links, queries_of, sheet,
                                          table_headers)
from tests.helpers import login, show_columns
from tests.orders.helpers import sent_line


def _overdue(world, vendor, days, **kw):
    return sent_line(world, world.user("admin"), vendor, expected_receipt_date=clock.today() - timedelta(days=days),
                     **kw)


def _claim(pol, when: datetime):
    db.session.add(Communication(po_line_id=pol.id, kind="claim", subject="Where is it?", created_at=when))
    db.session.commit()


def test_claims_export_has_every_overdue_line_typed_and_inert(app, world, orders, pin_today):
    pin_today(date(2026, 6, 15))
    for n in range(26):
        _overdue(world, orders.eur, 3, title=f"Late {n:02d}", price="10.00")
    oldest = _overdue(world, orders.usd, 40, title=HOSTILE[0], price="19.99", quantity=3, library="b",
                      vendor_reference=HOSTILE[1])
    _claim(oldest, datetime(2026, 5, 20, 9, 30))
    _claim(oldest, datetime(2026, 6, 1, 14, 0))
    sent_line(world, world.user("admin"), orders.eur, title="Not due", expected_receipt_date=date(2026, 7, 1))

    show_columns(world.user("viewer"), "claims")
    client = login(app.test_client(), "viewer")
    html = client.get("/orders/claims").data.decode()
    assert "Export 27 overdue lines" in html
    rows = sheet(client.get("/orders/claims/export.xlsx"))
    col, body = by_header(rows)
    assert len(body) == 27 and "Not due" not in {r[col["Title"]] for r in body}
    first = body[0]
    assert first[col["PO line"]] == oldest.number, "the longest overdue first, as the list"
    assert first[col["Title"]] == "'" + HOSTILE[0] and first[col["Vendor reference"]] == "'" + HOSTILE[1]
    assert (first[col["Net price"]], first[col["Currency"]], first[col["Owner"]]) == (59.97, "USD", "LIBB")
    assert (first[col["Expected"]], first[col["Days overdue"]]) == (datetime(2026, 5, 6), 40)
    assert (first[col["Claims"]], first[col["Last claim (UTC)"]]) == (2, datetime(2026, 6, 1, 14, 0))
    assert (first[col["Vendor"]], first[col["Vendor name"]], first[col["Status"]]) == ("USDV", "Dollar Books", "Sent")
    late = body[1]
    assert (late[col["Days overdue"]], late[col["Claims"]], late[col["Last claim (UTC)"]]) == (3, 0, None)

    text = csv_rows(client.get("/orders/claims/export.csv"))
    assert text[0] == list(rows[0]) and len(text) == 28
    assert (text[1][col["Net price"]], text[1][col["Expected"]], text[1][col["Last claim (UTC)"]]) == (
        "59.97", "2026-05-06", "2026-06-01 14:00")


def test_claims_export_of_a_library_scoped_user_has_only_their_lines(app, world, orders, buyer_a):
    mine = _overdue(world, orders.eur, 5, title="Ours")
    theirs = _overdue(world, orders.eur, 6, title="Theirs", library="b")
    client = login(app.test_client(), "viewer")
    links = export_links(client.get("/orders/claims").data.decode())
    assert len(links) == 2
    assert [r[0] for r in csv_rows(client.get(links[0]))[1:]] == [theirs.number, mine.number]
    for user in ("buyer-a", "viewer-a"):
        scoped = login(app.test_client(), user)
        assert [r[0] for r in sheet(scoped.get("/orders/claims/export.xlsx"))[1:]] == [mine.number]


def test_the_claims_list_and_its_export_show_the_chosen_columns(app, world, orders):
    _overdue(world, orders.eur, 5, title="Late", price="12.50")
    client = login(app.test_client(), "viewer")
    assert table_headers(client.get("/orders/claims").data.decode(), "claims") == [
        "PO line", "Title", "Vendor", "Owner", "Expected", "Days overdue", "Claims", "Last claim (UTC)", "Action"]
    show_columns(world.user("viewer"), "claims", ["number", "net_price", "days_overdue"])
    html = client.get("/orders/claims").data.decode()
    assert table_headers(html, "claims") == ["PO line", "Net price", "Days overdue", "Action"]
    assert "12.50" in html and 'id="columns-claims"' in html
    assert csv_rows(client.get("/orders/claims/export.csv"))[0] == ["PO line", "Currency", "Net price", "Days overdue"]


def test_claims_export_takes_as_many_queries_for_many_lines_as_for_few(app, world, orders):
    pol = _overdue(world, orders.eur, 5)
    _claim(pol, datetime(2026, 1, 2))
    show_columns(world.user("viewer"), "claims")
    client = login(app.test_client(), "viewer")
    few, resp = queries_of(client, "/orders/claims/export.csv")
    assert len(csv_rows(resp)) == 2
    for n in range(4):
        _claim(_overdue(world, orders.usd if n % 2 else orders.eur, n + 1, library="b" if n % 2 else "a"),
               datetime(2026, 1, 3))
    many, resp = queries_of(client, "/orders/claims/export.csv")
    assert len(csv_rows(resp)) == 6 and many == few, "a query per line crept in"
