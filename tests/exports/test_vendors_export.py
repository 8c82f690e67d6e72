"""The vendor list exported: every vendor of the search and status filter (more than a page), in the
list's sort, in the user's columns. Vendors are the institution's: a library-scoped user's export
has every vendor, as their list does."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from app.extensions import db
from app.vendors import services as vs
from tests.exports.export_helpers import (HOSTILE, by_header, csv_rows, export_links, queries_of, sheet,
                                          table_headers)
from tests.helpers import login, show_columns


def _vendors(world, n=26):
    admin = world.user("admin")
    for i in range(n):
        vs.create_vendor(admin, f"V{i:02d}", vs.VendorFields(name=f"Books {i:02d}", currency="EUR"))
    gov = vs.create_vendor(admin, "GOV", vs.VendorFields(name="Tax office", currency="EUR", is_governmental=True,
                                                         vat_percent=Decimal("21.00")))
    taxed = vs.create_vendor(admin, "TAXED", vs.VendorFields(
        name=HOSTILE[0], currency="USD", liable_for_vat=True, governmental_vendor="GOV", notes=HOSTILE[2],
        status="inactive", order_channel="email"))
    vs.add_account(admin, taxed, "MAIN")
    vs.add_account(admin, taxed, "SECOND")
    db.session.commit()
    return gov, taxed


def test_vendor_export_has_every_vendor_typed_and_inert(app, world):
    _vendors(world)
    show_columns(world.user("viewer"), "vendors")
    client = login(app.test_client(), "viewer")
    html = client.get("/vendors/").data.decode()
    assert "Export 28 vendors" in html and "is one (21.00%)" in html
    rows = sheet(client.get("/vendors/export.xlsx"))
    col, body = by_header(rows)
    assert len(body) == 28, "every vendor, not the first page"
    assert [r[col["Code"]] for r in body] == sorted(r[col["Code"]] for r in body), "the list's sort"
    gov = next(r for r in body if r[col["Code"]] == "GOV")
    assert (gov[col["Governmental vendor"]], gov[col["VAT %"]], gov[col["Liable for VAT"]]) == ("is one", 21, "no")
    taxed = next(r for r in body if r[col["Code"]] == "TAXED")
    assert taxed[col["Name"]] == "'" + HOSTILE[0] and taxed[col["Notes"]] == "'" + HOSTILE[2]
    assert (taxed[col["Governmental vendor"]], taxed[col["Liable for VAT"]], taxed[col["Currency"]]) == (
        "GOV", "yes", "USD")
    assert (taxed[col["Accounts"]], taxed[col["Status"]], taxed[col["Order channel"]]) == (2, "Inactive", "E-mail")   # labels, as the page shows them
    assert isinstance(taxed[col["Created (UTC)"]], datetime) and taxed[col["VAT %"]] is None

    text = csv_rows(client.get("/vendors/export.csv"))
    assert text[0] == list(rows[0]) and len(text) == 29
    gov = next(r for r in text if r[0] == "GOV")
    assert gov[col["VAT %"]] == "21.00" and gov[col["Accounts"]] == "0"


def test_vendor_export_follows_the_search_filter_and_sort(app, world):
    _vendors(world, n=3)
    client = login(app.test_client(), "viewer")
    html = client.get("/vendors/?q=books&sort=-name", headers={"HX-Request": "true"}).data.decode()
    links = export_links(html)
    assert len(links) == 2 and all("q=books" in u and "sort=-name" in u for u in links)
    assert [r[0] for r in csv_rows(client.get(links[0]))[1:]] == ["V02", "V01", "V00"]
    assert [r[0] for r in sheet(client.get("/vendors/export.xlsx?status=inactive"))[1:]] == ["TAXED"]


def test_a_library_scoped_users_vendor_export_has_every_vendor(app, world):
    _vendors(world, n=2)
    everyone = [r[0] for r in csv_rows(login(app.test_client(), "viewer").get("/vendors/export.csv"))[1:]]
    scoped = [r[0] for r in csv_rows(login(app.test_client(), "viewer-b").get("/vendors/export.csv"))[1:]]
    assert scoped == everyone and "TAXED" in scoped


def test_the_vendor_list_and_its_export_show_the_chosen_columns(app, world):
    _vendors(world, n=1)
    client = login(app.test_client(), "viewer")
    assert table_headers(client.get("/vendors/").data.decode(), "vendor-list") == [
        "Code", "Name", "Status", "Currency", "Liable for VAT", "Governmental vendor"]
    show_columns(world.user("viewer"), "vendors", ["notes", "code", "accounts"])
    html = client.get("/vendors/?sort=name").data.decode()
    assert table_headers(html, "vendor-list") == ["Notes", "Code", "Accounts"]
    assert 'id="columns-vendors"' in html
    assert csv_rows(client.get("/vendors/export.csv"))[0] == ["Notes", "Code", "Accounts"]


def test_vendor_export_takes_as_many_queries_for_many_vendors_as_for_few(app, world):
    _vendors(world, n=1)
    show_columns(world.user("viewer"), "vendors")
    client = login(app.test_client(), "viewer")
    few, resp = queries_of(client, "/vendors/export.csv")
    assert len(csv_rows(resp)) == 4
    more = [vs.create_vendor(world.user("admin"), f"M{i}", vs.VendorFields(
        name=f"More {i}", currency="EUR", governmental_vendor="GOV")) for i in range(5)]
    many, resp = queries_of(client, "/vendors/export.csv")
    assert len(csv_rows(resp)) == 4 + len(more) and many == few, "a query per vendor crept in"
