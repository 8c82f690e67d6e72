"""Vendors: services, pages (full and HTMX fragments) and the API, on both databases."""
from __future__ import annotations

from decimal import Decimal

import pytest

from app.errors import Duplicate, Forbidden, InvalidInput, RuleViolation
from app.extensions import db
from app.vendors import services as vendors
from app.vendors.models import Vendor, VendorAddress
from tests.api.helpers import conforms, error_of  # noqa: F401  (api: a fixture)
from tests.helpers import login

HX = {"HX-Request": "true"}


def _vendor(world, code="ACME", user="buyer", **kw):
    data = vendors.VendorFields(name=kw.pop("name", "Acme Books"), currency=kw.pop("currency", "EUR"), **kw)
    v = vendors.create_vendor(world.user(user), code, data)
    db.session.commit()
    return v


def test_create_update_and_duplicate(app, world):
    v = _vendor(world, liable_for_vat=True, national_tax_id="TAX-1")
    assert (v.code, v.currency, v.liable_for_vat) == ("ACME", "EUR", True)
    with pytest.raises(Duplicate, match="ACME already exists"):
        _vendor(world)
    db.session.rollback()
    for code in ("", "A B", "X" * 21):
        with pytest.raises(InvalidInput, match="1–20 characters"):
            _vendor(world, code=code)
    with pytest.raises(InvalidInput, match="currency"):
        _vendor(world, code="BAD", currency="XYZ")
    data = vendors.VendorFields.of(v)
    data.name, data.status = "Acme Ltd", "inactive"
    vendors.update_vendor(world.user("admin"), v, data)
    db.session.commit()
    assert db.session.get(Vendor, v.id).name == "Acme Ltd"
    with pytest.raises(Forbidden):
        vendors.update_vendor(world.user("viewer"), v, data)


def test_governmental_vendor_rules(app, world):
    tax = _vendor(world, "TAX", name="Tax office", is_governmental=True, vat_percent=Decimal("12.00"))
    v = _vendor(world, governmental_vendor="TAX", liable_for_vat=True)
    assert v.governmental_vendor.code == "TAX" and tax.vat_percent == Decimal("12.00")
    with pytest.raises(RuleViolation, match="cannot link to another governmental"):
        _vendor(world, "TAX2", is_governmental=True, vat_percent=Decimal("5"), governmental_vendor="TAX")
    db.session.rollback()
    with pytest.raises(RuleViolation, match="not marked as a governmental"):
        _vendor(world, "OTHER", governmental_vendor="ACME")
    db.session.rollback()
    data = vendors.VendorFields.of(tax)
    data.governmental_vendor, data.is_governmental = "TAX", False
    with pytest.raises(RuleViolation):
        vendors.update_vendor(world.user("admin"), tax, data)
    db.session.rollback()
    with pytest.raises(InvalidInput, match="needs its VAT percent"):
        _vendor(world, "TAX3", is_governmental=True)


def test_accounts_addresses_contacts_and_preferred(app, world):
    v = _vendor(world)
    buyer = world.user("buyer")
    vendors.add_account(buyer, v, "MAIN", "Main account", "FIN-1")
    with pytest.raises(Duplicate):
        vendors.add_account(buyer, v, "MAIN")
    a1 = vendors.add_address(buyer, v, vendors.AddressFields(line1="1 Road", types=["billing", "order"], preferred=True))
    a2 = vendors.add_address(buyer, v, vendors.AddressFields(line1="2 Road", preferred=True))
    db.session.commit()
    prefs = db.session.scalars(db.select(VendorAddress.preferred).order_by(VendorAddress.id)).all()
    assert prefs == [False, True] and a1.type_list == ["billing", "order"]
    with pytest.raises(InvalidInput, match="Unknown address type"):
        vendors.add_address(buyer, v, vendors.AddressFields(line1="x", types=["bogus"]))
    with pytest.raises(InvalidInput, match="not an email"):
        vendors.add_contact(buyer, v, "Ann", "not-an-email")
    c = vendors.add_contact(buyer, v, "Ann", "ann@example.org", "+1 555")
    vendors.remove_address(buyer, v, a2.id)
    vendors.remove_contact(buyer, v, c.id)
    db.session.commit()
    assert [a.line1 for a in v.addresses] == ["1 Road"] and v.contacts == []


def test_pages_list_fragment_tabs_and_forms(app, world):
    v = _vendor(world)
    _vendor(world, "ZED", name="Zed Media")
    client = login(app.test_client(), "viewer")
    page = client.get("/vendors/")
    assert page.status_code == 200 and b"ACME" in page.data and b"Currency rates" in page.data
    frag = client.get("/vendors/?q=zed&sort=-name", headers=HX)
    text = frag.get_data(as_text=True)
    assert text.lstrip().startswith('<div id="vendor-list" ') and "ZED" in text and "ACME" not in text
    assert "<html" not in text
    tab = client.get(f"/vendors/{v.id}?tab=orders", headers=HX).get_data(as_text=True)
    assert tab.lstrip().startswith('<section id="tab-panel"') and f'hx-get="/orders/by-vendor/{v.id}"' in tab
    # the tab loads the orders' own fragment for this vendor
    assert "No purchase orders yet." in client.get(f"/orders/by-vendor/{v.id}", headers=HX).get_data(as_text=True)
    assert b"Accounts" in client.get(f"/vendors/{v.id}?tab=accounts").data
    assert client.post("/vendors/new", data={"code": "X", "name": "X", "currency": "EUR"}).status_code == 403
    assert client.post(f"/vendors/{v.id}/accounts", data={"code": "A"}).status_code == 403

    buyer = login(app.test_client(), "buyer")
    bad = buyer.post("/vendors/new", data={"code": "NEW", "name": "New", "currency": "XYZ", "status": "active",
                                           "governmental_vendor": ""}, headers=HX)
    assert bad.status_code == 422 and "Unknown currency" in bad.get_data(as_text=True)
    assert bad.get_data(as_text=True).lstrip().startswith('<form id="vendor-form"')
    dup = buyer.post("/vendors/new", data={"code": "ACME", "name": "New", "currency": "EUR", "status": "active",
                                           "governmental_vendor": ""})
    assert dup.status_code == 422 and b"ACME already exists" in dup.data
    ok = buyer.post("/vendors/new", data={"code": "NEW", "name": "New", "currency": "usd", "status": "active",
                                          "governmental_vendor": ""}, headers=HX)
    assert ok.status_code == 204 and "/vendors/" in ok.headers["HX-Redirect"]
    assert db.session.scalar(db.select(Vendor).where(Vendor.code == "NEW")).currency == "USD"

    added = buyer.post(f"/vendors/{v.id}/accounts", data={"code": "MAIN", "status": "active"}, headers=HX)
    assert added.status_code == 200 and "MAIN" in added.get_data(as_text=True)
    again = buyer.post(f"/vendors/{v.id}/accounts", data={"code": "MAIN", "status": "active"}, headers=HX)
    assert again.status_code == 422 and "already has an account MAIN" in again.get_data(as_text=True)
    resp = buyer.post(f"/vendors/{v.id}/contacts", data={"name": "Bob", "email": "bob@"}, headers=HX)
    assert resp.status_code == 422 and "not an email address" in resp.get_data(as_text=True)
    resp = buyer.post(f"/vendors/{v.id}/addresses", data={"line1": "1 Road", "types": ["billing"],
                                                         "preferred": "y"}, headers=HX)
    assert resp.status_code == 200 and "1 Road" in resp.get_data(as_text=True)
    edit = buyer.get(f"/vendors/{v.id}/edit")
    assert edit.status_code == 200 and b"Acme Books" in edit.data


def test_api_vendors(app, world, api):
    buyer, viewer = api("buyer"), api("viewer")
    body = {"code": "TAX", "name": "Tax office", "currency": "EUR", "is_governmental": True, "vat_percent": "12.5"}
    resp = buyer.post("/vendors", json=body)
    assert resp.status_code == 201, resp.get_json()
    conforms(resp.get_json(), "Vendor")
    assert resp.get_json()["vat_percent"] == "12.50"
    error_of(buyer.post("/vendors", json=body), 409, "duplicate")
    error_of(viewer.post("/vendors", json={**body, "code": "X"}), 403, "forbidden")
    resp = buyer.post("/vendors", json={"code": "ACME", "name": "Acme", "currency": "USD",
                                        "governmental_vendor": "TAX", "liable_for_vat": True})
    assert resp.status_code == 201 and resp.get_json()["governmental_vendor"] == "TAX"
    got = viewer.get("/vendors/ACME").get_json()
    conforms(got, "Vendor")
    assert got["accounts"] == [] and got["currency"] == "USD"
    conforms(viewer.get("/vendors").get_json(), "VendorList")
    put = buyer.change("put", "/vendors/ACME", json={"name": "Acme Ltd", "currency": "USD", "status": "inactive"})
    assert put.status_code == 200 and put.get_json()["name"] == "Acme Ltd"
    assert put.get_json()["governmental_vendor"] is None
    error_of(viewer.get("/vendors/NOPE"), 404, "not_found")
