"""H12-05: institution-wide data changes only for a role held for the whole institution.

Currency rates, vendors (creating one; their shared and financial fields, accounts and addresses),
fiscal periods, institution ledgers and settings belong to every library: a library-scoped holder of
the role may read them (and keep a vendor's notes and contacts) but not change them, on the pages
(the forms do not offer it; a forged POST is a 403) and in the API alike. SQLite only: nothing here
depends on the database.
"""
from __future__ import annotations

import io
import re
from datetime import date

import pytest

from app.auth.models import Role
from app.auth.services import create_user, issue_api_token
from app.errors import Forbidden
from app.extensions import db
from app.funds import services as funds
from app.funds.models import FiscalPeriod, Ledger
from app.vendors import services as vendors
from app.vendors.models import ExchangeRate, Vendor, VendorAccount, VendorAddress, VendorContact
from tests.helpers import PASSWORD, login

HX = {"HX-Request": "true"}


def _scoped(world, name, role, library="a"):
    lib = {"a": world.lib_a, "b": world.lib_b}[library]
    user = create_user(None, name, PASSWORD, full_name=name.title(), roles=[(role, lib)])
    db.session.commit()
    return user


def _api(app, user):
    token = issue_api_token(None, user)
    db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    return client, headers


def _count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def _input(html: str, name: str) -> str:
    """The <input>/<select>/<textarea> tag of field ``name`` (its opening tag only)."""
    found = re.search(rf'<(?:input|select|textarea)[^>]*\bname="{name}"[^>]*>', html)
    assert found, name
    return found.group(0)


# -- currency rates ---------------------------------------------------------------------------------

def test_H12_05_a_library_fund_manager_cannot_add_currency_rates(app, world):
    law = world.user("fundmgr-a")
    client = login(app.test_client(), "fundmgr-a")
    page = client.get("/currency-rates/").get_data(as_text=True)
    assert 'name="rate"' not in page and 'type="file"' not in page, "no form the user may not use"
    assert "whole institution" in page
    form = {"currency": "GBP", "rate": "201", "date": "2026-01-01"}
    assert client.post("/currency-rates/", data=form).status_code == 403
    assert client.post("/currency-rates/", data=form, headers=HX).status_code == 403
    upload = {"file": (io.BytesIO(b"currency,rate,date\nGBP,201,2026-01-01\n"), "rates.csv")}
    assert client.post("/currency-rates/upload", data=upload, content_type="multipart/form-data").status_code == 403
    api, headers = _api(app, law)
    resp = api.post("/api/v1/currency-rates", headers=headers, json=form)
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
    assert api.get("/api/v1/currency-rates", headers=headers).status_code == 200, "reading stays open"
    with pytest.raises(Forbidden):
        vendors.add_rate(law, "GBP", "201", date(2026, 1, 1))
    with pytest.raises(Forbidden):
        vendors.load_rates_csv(law, b"currency,rate,date\nGBP,201,2026-01-01\n")
    db.session.rollback()
    assert _count(ExchangeRate) == 0
    # the same role held for the institution may
    inst = login(app.test_client(), "fundmgr")
    assert 'name="rate"' in inst.get("/currency-rates/").get_data(as_text=True)
    assert inst.post("/currency-rates/", data=form).status_code == 302
    assert _count(ExchangeRate) == 1


# -- vendors ----------------------------------------------------------------------------------------

SHARED = {"name": "Evil Books", "status": "inactive", "currency": "USD", "financial_sys_code": "FIN-EVIL",
          "additional_code": "ADD-EVIL", "national_tax_id": "TAX-EVIL", "liable_for_vat": "y",
          "vat_percent": "12.00", "edi_vendor_id": "EVIL", "edi_id_qualifier": "14", "edi_folder": "evil"}


def _acme(world) -> Vendor:
    vendor = vendors.create_vendor(world.user("admin"), "ACME", vendors.VendorFields(
        name="Acme Books", currency="EUR", financial_sys_code="FIN-1", additional_code="ADD-1",
        national_tax_id="TAX-1", notes="old note"))
    vendors.add_account(world.user("admin"), vendor, "MAIN", "Main account", "ACC-FIN-1")
    db.session.commit()
    return vendor


def _unchanged(vendor_id):
    db.session.expire_all()
    v = db.session.get(Vendor, vendor_id)
    assert (v.name, v.status, v.currency, v.financial_sys_code, v.additional_code, v.national_tax_id,
            v.liable_for_vat, v.edi_enabled, v.edi_vendor_id) == \
        ("Acme Books", "active", "EUR", "FIN-1", "ADD-1", "TAX-1", False, False, "")
    return v


def test_H12_05_a_library_buyer_cannot_change_a_vendors_shared_or_financial_fields(app, world):
    vendor = _acme(world)
    buyer = _scoped(world, "buyer-a", Role.PURCHASING_OPERATOR)
    client = login(app.test_client(), "buyer-a")
    url = f"/vendors/{vendor.id}/edit"

    page = client.get(url).get_data(as_text=True)
    for name in ("name", "status", "currency", "financial_sys_code", "additional_code", "national_tax_id",
                 "liable_for_vat", "is_governmental", "vat_percent", "governmental_vendor", "edi_enabled",
                 "edi_vendor_id", "edi_id_qualifier", "edi_folder"):
        assert "disabled" in _input(page, name), name
    assert "disabled" not in _input(page, "notes")
    assert "whole institution" in page

    # a forged POST of any shared field is refused and changes nothing
    for name, value in SHARED.items():
        for headers in ({}, HX):
            resp = client.post(url, data={name: value, "notes": "new note"}, headers=headers)
            assert resp.status_code == 403, (name, headers, resp.status_code)
            _unchanged(vendor.id)
    assert _unchanged(vendor.id).notes == "old note"
    # what the browser sends from the form (disabled fields are not sent): the notes are saved
    assert client.post(url, data={"notes": "Ring before noon."}).status_code == 302
    assert _unchanged(vendor.id).notes == "Ring before noon."
    assert client.post(url, data={"notes": "Via HTMX."}, headers=HX).status_code == 204  # HX-Redirect
    assert _unchanged(vendor.id).notes == "Via HTMX."

    # the API: a PUT that keeps the shared fields may change the notes; one that changes them is a 403
    api, headers = _api(app, buyer)
    got = api.get("/api/v1/vendors/ACME", headers=headers)
    body = {k: v for k, v in got.get_json().items()
            if k in ("name", "status", "currency", "financial_sys_code", "additional_code", "national_tax_id",
                     "liable_for_vat", "governmental_vendor", "is_governmental", "vat_percent", "notes")}
    headers = {**headers, "If-Match": got.headers["ETag"]}
    resp = api.put("/api/v1/vendors/ACME", headers=headers, json=dict(body, financial_sys_code="FIN-EVIL"))
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden", resp.get_json()
    resp = api.put("/api/v1/vendors/ACME", headers=headers, json=dict(body, notes="From the API."))
    assert resp.status_code == 200, resp.get_json()
    assert _unchanged(vendor.id).notes == "From the API."
    data = vendors.VendorFields.of(vendor)
    data.financial_sys_code = "FIN-EVIL"
    with pytest.raises(Forbidden):
        vendors.update_vendor(buyer, vendor, data)
    db.session.rollback()
    _unchanged(vendor.id)

    # the same role held for the institution may change them
    inst = login(app.test_client(), "buyer")
    assert "disabled" not in _input(inst.get(url).get_data(as_text=True), "financial_sys_code")
    form = {"name": "Acme Books", "status": "active", "currency": "EUR", "financial_sys_code": "FIN-2",
            "governmental_vendor": "", "notes": ""}
    assert inst.post(url, data=form).status_code == 302
    db.session.expire_all()
    assert db.session.get(Vendor, vendor.id).financial_sys_code == "FIN-2"


def test_H12_05_a_library_buyer_cannot_create_vendors_nor_change_accounts_or_addresses(app, world):
    vendor = _acme(world)
    vendors.add_address(world.user("admin"), vendor, vendors.AddressFields(line1="1 Pay Road", types=["payment"]))
    db.session.commit()
    address_id, account_id = vendor.addresses[0].id, vendor.accounts[0].id
    buyer = _scoped(world, "buyer-a", Role.PURCHASING_OPERATOR)
    client = login(app.test_client(), "buyer-a")

    assert "/vendors/new" not in client.get("/vendors/").get_data(as_text=True)
    assert client.get("/vendors/new").status_code == 403
    assert client.post("/vendors/new", data={"code": "NEW", "name": "New", "currency": "EUR"}).status_code == 403
    api, headers = _api(app, buyer)
    assert api.post("/api/v1/vendors", headers=headers,
                    json={"code": "NEW", "name": "New", "currency": "EUR"}).status_code == 403
    assert db.session.scalar(db.select(Vendor).filter_by(code="NEW")) is None

    details = client.get(f"/vendors/{vendor.id}").get_data(as_text=True)
    accounts = client.get(f"/vendors/{vendor.id}?tab=accounts").get_data(as_text=True)
    assert "Add an address" not in details and "/addresses/" not in details
    assert "Add an account" not in accounts and "/accounts/" not in accounts
    assert "Add a contact" in details, "contacts stay with the library's buyers"
    for url, data in ((f"/vendors/{vendor.id}/accounts", {"code": "EVIL", "financial_sys_code": "FIN-EVIL"}),
                      (f"/vendors/{vendor.id}/accounts/{account_id}/remove", {}),
                      (f"/vendors/{vendor.id}/addresses", {"line1": "9 Evil Street", "types": "payment"}),
                      (f"/vendors/{vendor.id}/addresses/{address_id}/remove", {})):
        for headers in ({}, HX):
            assert client.post(url, data=data, headers=headers).status_code == 403, (url, headers)
    assert (_count(VendorAccount), _count(VendorAddress)) == (1, 1)
    with pytest.raises(Forbidden):
        vendors.add_account(buyer, vendor, "EVIL", financial_sys_code="FIN-EVIL")
    with pytest.raises(Forbidden):
        vendors.create_vendor(buyer, "NEW", vendors.VendorFields(name="New", currency="EUR"))
    db.session.rollback()

    assert client.post(f"/vendors/{vendor.id}/contacts", data={"name": "Sam Sales"}).status_code == 302
    assert _count(VendorContact) == 1
    inst = login(app.test_client(), "buyer")
    assert inst.post(f"/vendors/{vendor.id}/accounts", data={"code": "SECOND", "status": "active"}).status_code == 302
    assert _count(VendorAccount) == 2


# -- fiscal periods and ledgers -----------------------------------------------------------------------

def test_H12_05_fiscal_periods_only_for_institution_fund_managers(app, world):
    law = world.user("fundmgr-a")
    client = login(app.test_client(), "fundmgr-a")
    page = client.get("/fiscal-periods/").get_data(as_text=True)
    assert "/fiscal-periods/new" not in page and f"/fiscal-periods/{world.period.id}/edit" not in page
    form = {"code": "FY2027", "name": "2027", "start_date": "2027-01-01", "end_date": "2027-12-31",
            "status": "active"}
    for url in ("/fiscal-periods/new", f"/fiscal-periods/{world.period.id}/edit"):
        assert client.get(url).status_code == 403, url
        assert client.post(url, data=dict(form, name="Changed")).status_code == 403, url
    api, headers = _api(app, law)
    assert api.post("/api/v1/fiscal-periods", headers=headers, json={
        "code": "FY2027", "name": "2027", "start_date": "2027-01-01", "end_date": "2027-12-31"}).status_code == 403
    db.session.expire_all()
    assert _count(FiscalPeriod) == 1 and db.session.get(FiscalPeriod, world.period.id).name == "Fiscal year 2026"
    inst = login(app.test_client(), "fundmgr")
    assert "/fiscal-periods/new" in inst.get("/fiscal-periods/").get_data(as_text=True)
    assert inst.post("/fiscal-periods/new", data=form).status_code == 302
    assert _count(FiscalPeriod) == 2


def test_H12_05_a_library_fund_manager_keeps_to_the_ledgers_of_their_library(app, world):
    client = login(app.test_client(), "fundmgr-a")
    gen = f"/ledgers/{world.gen.id}/edit"
    assert client.get(gen).status_code == 403
    assert client.post(gen, data={"name": "Taken over", "owner": str(world.lib_a.id)}).status_code == 403
    page = client.get(f"/ledgers/new?period_id={world.period.id}").get_data(as_text=True)
    owner = re.search(r'<select[^>]*name="owner".*?</select>', page, re.S).group(0)
    assert ">Institution<" not in owner and "LIBB" not in owner and "LIBA" in owner
    new = {"code": "INST2", "name": "Institution two", "fiscal_period": str(world.period.id), "currency": "EUR",
           "owner": "", "available_to_all": "y"}
    assert client.post("/ledgers/new", data=new).status_code == 403
    assert client.post("/ledgers/new", data=dict(new, owner=str(world.lib_b.id))).status_code == 403
    assert db.session.scalar(db.select(Ledger).filter_by(code="INST2")) is None
    assert client.post("/ledgers/new", data=dict(new, owner=str(world.lib_a.id))).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(db.select(Ledger).filter_by(code="INST2")).owner_library_id == world.lib_a.id
    assert db.session.get(Ledger, world.gen.id).name == "General"
    with pytest.raises(Forbidden):
        funds.create_ledger(world.user("fundmgr-a"), "INST3", "x", world.period, "EUR")


# -- settings ----------------------------------------------------------------------------------------

def test_H12_05_settings_only_for_institution_administrators(app, world):
    from app.invoices import settings
    admin_a = _scoped(world, "admin-a", Role.ADMIN)
    client = login(app.test_client(), "admin-a")
    assert client.get("/admin/invoicing").status_code == 403
    assert client.post("/admin/invoicing/settings", data={"key": "invoice_skip_erp", "value": "1"}).status_code == 403
    api, headers = _api(app, admin_a)
    assert api.get("/api/v1/settings", headers=headers).status_code == 200
    resp = api.put("/api/v1/settings", headers=headers, json={"invoice_skip_erp": True})
    assert resp.status_code == 403, resp.get_json()
    with pytest.raises(Forbidden):
        settings.update(admin_a, {"invoice_skip_erp": True})
    db.session.rollback()
    assert settings.get("invoice_skip_erp") is False
