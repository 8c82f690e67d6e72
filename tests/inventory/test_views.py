"""Inventory pages: search, record, forms (full pages and HTMX fragments), scope and roles."""
from __future__ import annotations

import re

from app.extensions import db
from app.inventory.models import BibRecord, Holding, Item
from tests.helpers import login
from tests.inventory.helpers import record

HX = {"HX-Request": "true"}


def _hx(target):
    return {**HX, "HX-Target": target}


def test_search_page_and_fragment(app, world, stock):
    client = login(app.test_client(), "viewer")
    page = client.get("/inventory/?q=hobbit")
    assert page.status_code == 200 and b"<html" in page.data and b'id="search-results"' in page.data
    assert b"The Hobbit" in page.data and b'name="q"' in page.data
    assert "HX-Request" in page.headers["Vary"]
    frag = client.get("/inventory/?q=hobbit", headers=_hx("search-results"))
    assert frag.status_code == 200 and b"<html" not in frag.data
    assert b'id="search-results"' in frag.data and b"The Hobbit" in frag.data
    assert b"Nothing found" in client.get("/inventory/?q=zzz", headers=_hx("search-results")).data
    assert b"New record" not in page.data  # viewers cannot create


def test_search_paging_has_real_links(app, world):
    admin = world.user("admin")
    for n in range(25):
        record(admin, f"Serial title {n:02d}")
    db.session.commit()
    client = login(app.test_client(), "buyer")
    first = client.get("/inventory/?q=serial").data.decode()
    assert "Serial title 19" in first and "Serial title 20" not in first
    assert 'href="/inventory/?q=serial&amp;page=2"' in first
    assert 'hx-get="/inventory/?q=serial&amp;page=2"' in first and 'hx-target="#search-results"' in first
    second = client.get("/inventory/?q=serial&page=2", headers=_hx("search-results")).data.decode()
    assert "Serial title 24" in second and "Serial title 00" not in second
    assert "New record" in first


def test_record_page_groups_holdings_by_library_in_scope(app, world, stock):
    page = login(app.test_client(), "viewer").get(f"/inventory/records/{stock.record.id}").data.decode()
    assert "Library A (LIBA)" in page and "Library B (LIBB)" in page and "A0001" in page and "B0001" in page
    assert "Add holding" not in page and ">Receive<" not in page
    page_a = login(app.test_client(), "viewer-a").get(f"/inventory/records/{stock.record.id}").data.decode()
    assert "A0001" in page_a and "B0001" not in page_a and "LIBB" not in page_a and "BRANCH" not in page_a
    frag = login(app.test_client(), "viewer-a").get(f"/inventory/records/{stock.record.id}",
                                                    headers=_hx("holdings"))
    assert b"<html" not in frag.data and b'id="holdings"' in frag.data and b"B0001" not in frag.data
    assert login(app.test_client(), "viewer").get("/inventory/records/999999").status_code == 404


def test_out_of_scope_holdings_and_items_are_not_found(app, world, stock):
    client = login(app.test_client(), "viewer-a")
    for url in (f"/inventory/holdings/{stock.holding_b.id}", f"/inventory/items/{stock.item_b.id}"):
        for headers in ({}, HX):
            resp = client.get(url, headers=headers)
            assert resp.status_code == 404, url
            assert b"B0001" not in resp.data and b"BRANCH" not in resp.data
    assert client.get(f"/inventory/holdings/{stock.holding.id}").status_code == 200
    assert b"A0001" in client.get(f"/inventory/items/{stock.item.id}").data


def test_scoped_buyer_cannot_touch_other_librarys_holdings(app, world, stock, buyer_a):
    client = login(app.test_client(), "buyer-a")
    assert client.get(f"/inventory/holdings/{stock.holding_b.id}/items/new").status_code == 404
    assert client.post(f"/inventory/items/{stock.item_b.id}/receive", data={"received_date": "2026-03-01"},
                       headers=HX).status_code == 404
    resp = client.post(f"/inventory/records/{stock.record.id}/holdings/new",
                       data={"library": str(world.lib_b.id), "location_code": "X"}, headers=HX)
    assert resp.status_code == 422  # LIBB is not even a choice
    assert db.session.query(Holding).count() == 2
    form = client.get(f"/inventory/records/{stock.record.id}/holdings/new", headers=HX).data.decode()
    assert "LIBA" in form and "LIBB —" not in form


def test_viewer_posts_are_forbidden(app, world, stock):
    client = login(app.test_client(), "viewer")
    for url, data in (("/inventory/records/new", {"title": "X"}),
                      (f"/inventory/records/{stock.record.id}/edit", {"title": "X"}),
                      (f"/inventory/records/{stock.record.id}/holdings/new",
                       {"library": str(world.lib_a.id), "location_code": "X"}),
                      (f"/inventory/holdings/{stock.holding.id}/items/new", {"barcode": "Z1"}),
                      (f"/inventory/items/{stock.item.id}/receive", {"received_date": "2026-03-01"})):
        for headers in ({}, HX):
            assert client.post(url, data=data, headers=headers).status_code == 403, url
    assert db.session.query(BibRecord).count() == 1 and db.session.query(Item).count() == 2
    assert db.session.get(Item, stock.item.id).received_date is None


def test_new_and_edit_record_with_inline_validation(app, world):
    client = login(app.test_client(), "buyer")
    assert b'name="title"' in client.get("/inventory/records/new").data
    resp = client.post("/inventory/records/new", data={"title": "", "isbn": "978"})
    assert resp.status_code == 422 and b"A title is required." in resp.data
    resp = client.post("/inventory/records/new", data={"title": "Dune", "isbn": "978"})
    body = resp.data.decode()
    assert resp.status_code == 422 and "An ISBN has 10 or 13 digits" in body
    assert re.search(r'id="isbn"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="isbn"', body)
    resp = client.post("/inventory/records/new", data={"title": "Dune", "author": "Herbert, Frank",
                                                       "isbn": "978-0-441-17271-9", "publication_date": "c1965"})
    assert resp.status_code == 302
    rec = db.session.scalar(db.select(BibRecord).filter_by(title="Dune"))
    assert resp.headers["Location"] == f"/inventory/records/{rec.id}"
    assert (rec.isbn, rec.isbn_key, rec.publication_date) == ("978-0-441-17271-9", "9780441172719", "c1965")
    edit = client.get(f"/inventory/records/{rec.id}/edit").data.decode()
    assert 'value="Dune"' in edit
    assert client.post(f"/inventory/records/{rec.id}/edit", data={"title": "Dune Messiah"}).status_code == 302
    assert db.session.get(BibRecord, rec.id).title == "Dune Messiah"
    assert client.post(f"/inventory/records/{rec.id}/edit", data={"title": " "}).status_code == 422
    assert client.get("/inventory/records/999999/edit").status_code == 404


def test_add_holding_inline(app, world, stock):
    client = login(app.test_client(), "buyer")
    url = f"/inventory/records/{stock.record.id}/holdings/new"
    frag = client.get(url, headers=HX)
    assert frag.status_code == 200 and b"<html" not in frag.data
    assert f'hx-post="{url}"'.encode() in frag.data and b'hx-target="#holdings"' in frag.data
    assert b"<html" in client.get(url).data  # the full record page with the form open
    bad = client.post(url, data={"library": str(world.lib_a.id), "location_code": ""}, headers=HX)
    assert bad.status_code == 422 and b"A location code is required." in bad.data and b"<html" not in bad.data
    ok = client.post(url, data={"library": str(world.lib_a.id), "location_code": "REF", "location_name": "Reference",
                                "call_number": "R 100"}, headers=HX)
    assert ok.status_code == 200 and b'id="holdings"' in ok.data and b"Reference (REF)" in ok.data
    assert b"New holding" not in ok.data
    full = client.post(url, data={"library": str(world.lib_b.id), "location_code": "STORE"})
    assert full.status_code == 302 and full.headers["Location"] == f"/inventory/records/{stock.record.id}"
    assert db.session.query(Holding).count() == 4


def test_add_item_inline(app, world, stock):
    client = login(app.test_client(), "buyer")
    url = f"/inventory/holdings/{stock.holding.id}/items/new"
    frag = client.get(url, headers=HX)
    assert frag.status_code == 200 and f'id="holding-{stock.holding.id}"'.encode() in frag.data
    assert b"<html" not in frag.data and b"New item" in frag.data
    page = client.get(url)
    assert b"<html" in page.data and b"New item" in page.data
    dup = client.post(url, data={"barcode": "A0001"}, headers=HX)
    assert dup.status_code == 422 and b"Barcode A0001 is already used" in dup.data
    ok = client.post(url, data={"barcode": "A0002", "enumeration": "v.2", "chronology": "2026"}, headers=HX)
    assert ok.status_code == 200 and b"A0002" in ok.data and b"New item" not in ok.data
    item = db.session.scalar(db.select(Item).filter_by(barcode="A0002"))
    assert (item.status, item.enumeration, item.holding_id) == ("not_in_place", "v.2", stock.holding.id)
    assert client.post(url, data={"barcode": "A0003"}).status_code == 302


def test_receive_item_inline(app, world, stock):
    client = login(app.test_client(), "buyer")
    url = f"/inventory/items/{stock.item.id}/receive"
    frag = client.get(url, headers=HX)
    assert frag.status_code == 200 and b"<html" not in frag.data and b'name="received_date"' in frag.data
    bad = client.post(url, data={"received_date": "not a day"}, headers=HX)
    assert bad.status_code == 422 and b'aria-invalid="true"' in bad.data
    ok = client.post(url, data={"received_date": "2026-03-02"}, headers=HX)
    assert ok.status_code == 200 and b"2026-03-02" in ok.data and b"In place" in ok.data
    item = db.session.get(Item, stock.item.id)
    assert (item.status, item.received_date.isoformat()) == ("in_place", "2026-03-02")
    again = client.post(url, data={"received_date": "2026-03-05"}, headers=HX)
    assert again.status_code == 422 and b"already received on 2026-03-02" in again.data
    full = client.post(f"/inventory/items/{stock.item_b.id}/receive", data={"received_date": "2026-03-04"})
    assert full.status_code == 302 and full.headers["Location"] == f"/inventory/records/{stock.record.id}"


def test_nav_link(app, world):
    page = login(app.test_client(), "viewer").get("/inventory/").data.decode()
    assert '<a href="/inventory/" aria-current="page">Inventory</a>' in page
