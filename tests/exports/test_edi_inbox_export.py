"""The EDI inbox exported: every message of the status filter (more than a page), newest first as
the inbox, in the user's columns. The inbox is for institution-wide invoice operators only (a file
holds invoices of any library): a library-scoped one is refused the export as the page."""
from __future__ import annotations

from datetime import datetime

from app.auth.models import Role
from app.auth.services import create_user
from app.extensions import db
from app.integrations.edi.models import EdiMessage
from app.integrations.edi.views import PAGE_SIZE
from tests.exports.export_helpers import (HOSTILE, by_header, csv_rows, export_links, queries_of, sheet,
                                          table_headers)
from tests.helpers import PASSWORD, login, show_columns


def _message(n: int, status="failed", vendor=None, **kw) -> EdiMessage:
    row = EdiMessage(file_name=kw.pop("file_name", f"file-{n}.edi"), sha256=f"{n:064d}", raw="UNA:+.? '",
                     status=status, vendor_id=vendor.id if vendor else None, source=kw.pop("source", "upload"),
                     received_at=kw.pop("received_at", datetime(2026, 3, 1, 8, 0)), **kw)
    db.session.add(row)
    db.session.commit()
    return row


def test_inbox_export_has_every_message_typed_and_inert(app, world, orders):
    for n in range(PAGE_SIZE + 1):
        _message(n, message_index=n + 1, message_ref=f"M{n}")
    whole = _message(900, file_name=HOSTILE[0], reason=HOSTILE[1], message_index=0, attempts=3,
                     received_by_id=world.user("invoicer").id, received_at=datetime(2026, 4, 2, 17, 45))
    made = _message(901, status="invoice_created", vendor=orders.usd, message_index=2, invoice_number="INV-9",
                    source="fetch")
    total = PAGE_SIZE + 3

    show_columns(world.user("invoicer"), "edi_inbox")
    client = login(app.test_client(), "invoicer")
    assert f"Export {total} messages" in client.get("/invoices/edi/").data.decode()
    rows = sheet(client.get("/invoices/edi/export.xlsx"))
    col, body = by_header(rows)
    assert len(body) == total, "every message, not the first page"
    assert [r[col["#"]] for r in body] == sorted((r[col["#"]] for r in body), reverse=True), "newest first"
    first = body[0]
    assert (first[col["#"]], first[col["Vendor"]], first[col["Invoice number"]]) == (made.id, "USDV", "INV-9")
    assert (first[col["Status"]], first[col["Source"]], first[col["Message"]]) == ("Invoice created", "Fetched", "2")
    w = body[1]
    assert w[col["File"]] == "'" + HOSTILE[0] and w[col["Reason"]] == "'" + HOSTILE[1]
    assert (w[col["Message"]], w[col["Attempts"]], w[col["Received by"]]) == ("whole file", 3, "invoicer")
    assert w[col["Received (UTC)"]] == datetime(2026, 4, 2, 17, 45) and w[col["#"]] == whole.id
    assert body[-1][col["Message"]] == "M0" and body[-1][col["Vendor"]] is None

    text = csv_rows(client.get("/invoices/edi/export.csv"))
    assert text[0] == list(rows[0]) and len(text) == 1 + total
    assert text[2][col["Received (UTC)"]] == "2026-04-02 17:45" and text[2][col["File"]] == "'" + HOSTILE[0]


def test_inbox_export_follows_the_status_filter(app, world, orders):
    _message(1)
    made = _message(2, status="invoice_created", vendor=orders.eur)
    client = login(app.test_client(), "invmanager")
    links = export_links(client.get("/invoices/edi/?status=invoice_created").data.decode())
    assert len(links) == 2 and all("status=invoice_created" in u for u in links)
    assert [int(r[0]) for r in csv_rows(client.get(links[0]))[1:]] == [made.id]
    assert len(sheet(client.get("/invoices/edi/export.xlsx"))) == 1 + 2


def test_a_library_scoped_operator_may_not_export_the_inbox(app, world):
    _message(1)
    create_user(None, "invoicer-a", PASSWORD, roles=[(Role.INVOICE_OPERATOR, world.lib_a)])
    db.session.commit()
    for user in ("invoicer-a", "viewer", "buyer"):
        client = login(app.test_client(), user)
        for url in ("/invoices/edi/", "/invoices/edi/export.csv", "/invoices/edi/export.xlsx"):
            assert client.get(url).status_code == 403, (user, url)
    assert login(app.test_client(), "invoicer").get("/invoices/edi/export.csv").status_code == 200


def test_the_inbox_and_its_export_show_the_chosen_columns(app, world, orders):
    _message(1, vendor=orders.eur, reason="order line POL-999999 unknown")
    client = login(app.test_client(), "invoicer")
    html = client.get("/invoices/edi/").data.decode()
    assert table_headers(html, "edi-inbox") == [
        "#", "Received (UTC)", "File", "Message", "Vendor", "Invoice number", "Status", "Reason"]
    assert "Upload" in html, "the source beside the time while its column is hidden"
    show_columns(world.user("invoicer"), "edi_inbox", ["id", "reason", "source", "attempts"])
    html = client.get("/invoices/edi/").data.decode()
    assert table_headers(html, "edi-inbox") == ["#", "Reason", "Source", "Attempts"]
    assert "POL-999999 unknown" in html and 'id="columns-edi_inbox"' in html
    assert csv_rows(client.get("/invoices/edi/export.csv"))[0] == ["#", "Reason", "Source", "Attempts"]


def test_inbox_export_takes_as_many_queries_for_many_messages_as_for_few(app, world, orders):
    _message(1, vendor=orders.eur, received_by_id=world.user("invoicer").id)
    show_columns(world.user("invoicer"), "edi_inbox")
    client = login(app.test_client(), "invoicer")
    few, resp = queries_of(client, "/invoices/edi/export.csv")
    assert len(csv_rows(resp)) == 2
    for n in range(2, 7):
        _message(n, vendor=orders.usd if n % 2 else orders.eur, received_by_id=world.user("admin").id)
    many, resp = queries_of(client, "/invoices/edi/export.csv")
    assert len(csv_rows(resp)) == 7 and many == few, "a query per message crept in"
