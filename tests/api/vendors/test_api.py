"""A vendor's accounts, addresses and contacts through the API, and the currency rates upload: the vendor
page's services, roles (accounts and addresses for the whole institution) and errors."""
from __future__ import annotations

import io

import pytest

from app.extensions import db
from app.vendors import services as vs
from app.vendors.models import ExchangeRate, VendorAccount, VendorAddress, VendorContact
from tests.api.guards import key_reused, needs_if_match, not_modified, walk_roles
from tests.api.helpers import conforms, each_case, error_of
from tests.api.vendors.route_matrix import API_MATRIX


@pytest.fixture
def acme(world):
    """Vendor ACME (EUR) with account MAIN, a payment address and a contact."""
    admin = world.user("admin")
    vendor = vs.create_vendor(admin, "ACME", vs.VendorFields(name="Acme", currency="EUR"))
    vs.add_account(admin, vendor, "MAIN", "Main account")
    vs.add_address(admin, vendor, vs.AddressFields(line1="1 Main St", types=["payment"]))
    vs.add_contact(admin, vendor, "Ann Order", "ann@acme.test", roles=["order"])
    db.session.commit()
    return vendor


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


# -- the vendor itself: each documented refusal ------------------------------------------------

def test_vendor_create_and_update_refusals(world, acme, api):
    client = api("admin")
    body = {"code": "NEW", "name": "New", "currency": "EUR"}
    error_of(client.post("/vendors", json={"name": "No code", "currency": "EUR"}), 400, "invalid")
    error_of(client.post("/vendors", json=dict(body, currency="EURO")), 400, "invalid")
    error_of(client.post("/vendors", json=dict(body, code="ACME")), 409, "duplicate")
    error = error_of(client.post("/vendors", json=dict(body, governmental_vendor="ACME")), 422, "rule_violation")
    assert error["field"] == "governmental_vendor" and "not marked" in error["message"]
    put = {"name": "Acme", "currency": "EUR"}
    tag = client.etag("/vendors/ACME")
    error_of(client.put("/vendors/ACME", json={"currency": "EUR"}, headers={"If-Match": tag}), 400, "invalid")
    error_of(client.put("/vendors/NOPE", json=put, headers={"If-Match": tag}), 404, "not_found")
    error_of(client.put("/vendors/ACME", json=dict(put, governmental_vendor="ACME"), headers={"If-Match": tag}), 422,
             "rule_violation")
    error_of(client.patch("/vendors/ACME", json={"governmental_vendor": "ACME"}, headers={"If-Match": tag}), 422,
             "rule_violation")
    needs_if_match(client, "put", "/vendors/ACME", put)
    needs_if_match(client, "patch", "/vendors/ACME", {"name": "X"})
    assert client.etag("/vendors/ACME") == tag and count(vs.Vendor) == 1
    error_of(client.get("/currency-rates?currency=EURO"), 400, "invalid")


# -- the list's filters and sort (the vendors page's) -------------------------------------------

def test_vendor_list_filters_and_sorts_as_the_page(world, acme, api):
    admin = world.user("admin")
    vs.create_vendor(admin, "ZED", vs.VendorFields(name="Acme Zed", currency="EUR", status="inactive"))
    vs.create_vendor(admin, "BETA", vs.VendorFields(name="Beta", currency="USD"))
    db.session.commit()
    client = api("viewer")

    def codes(query):
        return [v["code"] for v in conforms(client.get("/vendors" + query).get_json(), "VendorList")["items"]]

    assert codes("") == ["ACME", "BETA", "ZED"]
    assert codes("?q=acme") == ["ACME", "ZED"] and codes("?q=acme&sort=-code") == ["ZED", "ACME"]
    assert codes("?status=active&sort=-name") == ["BETA", "ACME"] and codes("?status=inactive") == ["ZED"]
    assert error_of(client.get("/vendors?status=gone"), 400, "invalid")["field"] == "status"
    assert error_of(client.get("/vendors?sort=currency"), 400, "invalid")["field"] == "sort"
    # paged like the page's list: every vendor at once by default, or a page of them
    second = conforms(client.get("/vendors?per_page=2&page=2").get_json(), "VendorList")
    assert ([v["code"] for v in second["items"]], second["total"], second["per_page"]) == (["ZED"], 3, 2)
    assert error_of(client.get("/vendors?per_page=1001"), 400, "invalid")["field"] == "per_page"


# -- the vendor's order channel and EDI details (the vendor form) -------------------------------

def test_vendor_order_channel_and_edi(world, acme, api, buyer_a):
    client = api("buyer")
    vendor = conforms(client.get("/vendors/ACME").get_json(), "Vendor")
    assert (vendor["order_channel"], vendor["edi_enabled"], vendor["edi_vendor_id"]) == ("none", False, "")
    error = error_of(client.change("patch", "/vendors/ACME", json={"edi_enabled": True}), 400, "invalid")
    assert error["field"] == "edi_vendor_id"
    error_of(client.change("patch", "/vendors/ACME", json={"order_channel": "fax"}), 400, "invalid")
    error = error_of(api("buyer-a").change("patch", "/vendors/ACME", json={"order_channel": "print"}), 403, "forbidden")
    assert "order channel" in error["message"]
    done = client.change("patch", "/vendors/ACME", json={"edi_enabled": True, "edi_vendor_id": "5012345678900",
                                                         "edi_id_qualifier": "14", "edi_folder": "acme",
                                                         "order_channel": "edi"})
    assert done.status_code == 200, done.get_json()
    body = conforms(done.get_json(), "Vendor")
    assert (body["order_channel"], body["edi_enabled"], body["edi_vendor_id"], body["edi_id_qualifier"],
            body["edi_folder"], body["name"]) == ("edi", True, "5012345678900", "14", "acme", "Acme")
    # now an account may order by EDI too
    done = client.change("patch", "/vendors/ACME/accounts/MAIN", json={"order_channel": "edi"})
    assert done.status_code == 200 and done.get_json()["order_channel"] == "edi"


# -- accounts ----------------------------------------------------------------------------------

def test_accounts_add_read_set_channel_remove(world, acme, api):
    client = api("buyer")
    resp = client.post("/vendors/ACME/accounts", json={"code": "BOOKS", "description": "Books", "order_channel": "print"})
    assert resp.status_code == 201, resp.get_json()
    assert conforms(resp.get_json(), "VendorAccount") == {
        "code": "BOOKS", "description": "Books", "financial_sys_code": "", "status": "active", "order_channel": "print"}
    assert resp.headers["Location"] == "/api/v1/vendors/ACME/accounts/BOOKS"
    got = api("viewer").get("/vendors/ACME/accounts/BOOKS")
    assert got.get_json() == resp.get_json() and got.headers["ETag"] == resp.headers["ETag"]
    assert not_modified(api("viewer"), "/vendors/ACME/accounts/BOOKS")
    vendor = conforms(client.get("/vendors/ACME").get_json(), "Vendor")
    assert [a["code"] for a in vendor["accounts"]] == ["BOOKS", "MAIN"]

    # the channel: PATCH with the ETag; null goes back to the vendor's channel
    tag = resp.headers["ETag"]
    done = client.patch("/vendors/ACME/accounts/BOOKS", json={"order_channel": "email"}, headers={"If-Match": tag})
    assert done.status_code == 200 and conforms(done.get_json(), "VendorAccount")["order_channel"] == "email"
    assert done.headers["ETag"] != tag
    done = client.change("patch", "/vendors/ACME/accounts/BOOKS", json={"order_channel": None})
    assert done.get_json()["order_channel"] is None
    assert db.session.scalar(db.select(VendorAccount.order_channel).filter_by(code="BOOKS")) is None

    resp = client.change("delete", "/vendors/ACME/accounts/BOOKS")
    assert resp.status_code == 204 and resp.get_data() == b""
    error_of(client.get("/vendors/ACME/accounts/BOOKS"), 404, "not_found")
    assert [a.code for a in db.session.scalars(db.select(VendorAccount))] == ["MAIN"]


def test_account_errors(world, acme, api, buyer_a):
    client = api("admin")

    def check(body, status, code, field):
        assert error_of(client.post("/vendors/ACME/accounts", json=body), status, code).get("field") == field

    each_case([
        ({"code": "MAIN"}, 409, "duplicate", "code"),
        ({"code": "has space"}, 400, "invalid", "code"),
        ({"description": "no code"}, 400, "invalid", "code"),
        ({"code": "X", "order_channel": "fax"}, 400, "invalid", "order_channel"),
        ({"code": "X", "colour": "red"}, 400, "invalid", "colour"),
    ], check)
    error_of(client.post("/vendors/NOPE/accounts", json={"code": "X"}), 404, "not_found")
    error_of(client.get("/vendors/ACME/accounts/NOPE"), 404, "not_found")
    error_of(client.get("/vendors/NOPE/accounts/MAIN"), 404, "not_found")
    # the channel: EDI needs the vendor's EDI ID, as on the page; an empty PATCH changes nothing
    tag = client.etag("/vendors/ACME/accounts/MAIN")
    error = error_of(client.patch("/vendors/ACME/accounts/MAIN", json={"order_channel": "edi"},
                                  headers={"If-Match": tag}), 400, "invalid")
    assert error["field"] == "order_channel" and "EDI ID" in error["message"]
    error_of(client.patch("/vendors/ACME/accounts/MAIN", json={}, headers={"If-Match": tag}), 400, "invalid")
    error_of(client.patch("/vendors/ACME/accounts/NOPE", json={"order_channel": "print"}, headers={"If-Match": tag}),
             404, "not_found")
    error_of(client.delete("/vendors/ACME/accounts/NOPE", headers={"If-Match": tag}), 404, "not_found")
    needs_if_match(client, "patch", "/vendors/ACME/accounts/MAIN", {"order_channel": "print"})
    needs_if_match(client, "delete", "/vendors/ACME/accounts/MAIN")
    # a library-scoped buyer may not touch the institution's accounts
    scoped = api("buyer-a")
    error_of(scoped.post("/vendors/ACME/accounts", json={"code": "MINE"}), 403, "forbidden")
    error_of(scoped.patch("/vendors/ACME/accounts/MAIN", json={"order_channel": "print"}, headers={"If-Match": tag}),
             403, "forbidden")
    error_of(scoped.delete("/vendors/ACME/accounts/MAIN", headers={"If-Match": tag}), 403, "forbidden")
    assert client.etag("/vendors/ACME/accounts/MAIN") == tag and count(VendorAccount) == 1


def test_an_idempotency_key_is_for_one_request(world, acme, api):
    client = api("buyer")
    key_reused(client, ("/vendors/ACME/accounts", {"code": "K1"}), ("/vendors/ACME/accounts", {"code": "K2"}))
    key_reused(client, ("/vendors/ACME/addresses", {"line1": "1 Key St"}), ("/vendors/ACME/addresses", {"line1": "2"}))
    key_reused(client, ("/vendors/ACME/contacts", {"name": "Kay"}), ("/vendors/ACME/contacts", {"name": "Lee"}))
    assert (count(VendorAccount), count(VendorAddress), count(VendorContact)) == (2, 2, 2)


def test_account_creation_is_idempotent(world, acme, api):
    client = api("buyer")
    first = client.post("/vendors/ACME/accounts", json={"code": "ONCE"}, headers={"Idempotency-Key": "k-1"})
    again = client.post("/vendors/ACME/accounts", json={"code": "ONCE"}, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json() and count(VendorAccount) == 2


# -- addresses ---------------------------------------------------------------------------------

def test_addresses_add_read_remove(world, acme, api):
    client = api("admin")
    resp = client.post("/vendors/ACME/addresses", json={"line1": "2 Side St", "city": "Springfield",
                                                         "types": ["order", "billing"], "preferred": True})
    assert resp.status_code == 201, resp.get_json()
    address = conforms(resp.get_json(), "VendorAddress")
    assert (address["types"], address["preferred"], address["city"]) == (["billing", "order"], True, "Springfield")
    assert resp.headers["Location"] == f"/api/v1/vendors/ACME/addresses/{address['id']}"
    assert conforms(api("viewer").get(f"/vendors/ACME/addresses/{address['id']}").get_json(),
                    "VendorAddress") == address
    assert not_modified(client, f"/vendors/ACME/addresses/{address['id']}")
    assert [a["preferred"] for a in client.get("/vendors/ACME").get_json()["addresses"]] == [False, True]
    assert client.change("delete", f"/vendors/ACME/addresses/{address['id']}").status_code == 204
    error_of(client.get(f"/vendors/ACME/addresses/{address['id']}"), 404, "not_found")
    assert count(VendorAddress) == 1


def test_address_errors(world, acme, api, buyer_a):
    client = api("admin")
    other = vs.create_vendor(world.user("admin"), "OTHER", vs.VendorFields(name="Other", currency="EUR"))
    db.session.commit()
    mine = acme.addresses[0].id

    def check(body, field):
        assert error_of(client.post("/vendors/ACME/addresses", json=body), 400, "invalid")["field"] == field

    each_case([({"city": "x"}, "line1"), ({"line1": " "}, "line1"), ({"line1": "x", "types": ["moon"]}, "types"),
               ({"line1": "x", "types": "order"}, "types"), ({"line1": "x", "preferred": "yes"}, "preferred")], check)
    error_of(client.post("/vendors/NOPE/addresses", json={"line1": "x"}), 404, "not_found")
    error_of(client.get(f"/vendors/{other.code}/addresses/{mine}"), 404, "not_found")   # another vendor's
    error_of(client.delete(f"/vendors/{other.code}/addresses/{mine}", headers={"If-Match": "*"}), 404, "not_found")
    needs_if_match(client, "delete", f"/vendors/ACME/addresses/{mine}")
    error_of(api("buyer-a").post("/vendors/ACME/addresses", json={"line1": "x"}), 403, "forbidden")
    error_of(api("buyer-a").delete(f"/vendors/ACME/addresses/{mine}", headers={"If-Match": "*"}), 403, "forbidden")
    assert count(VendorAddress) == 1


# -- contacts ----------------------------------------------------------------------------------

def test_contacts_add_set_roles_remove_by_a_library_buyer(world, acme, api, buyer_a):
    client = api("buyer-a")   # contacts are open to a library-scoped buyer, as on the page
    resp = client.post("/vendors/ACME/contacts", json={"name": "Cy Claims", "email": "cy@acme.test",
                                                        "roles": ["claim", "order"]})
    assert resp.status_code == 201, resp.get_json()
    contact = conforms(resp.get_json(), "VendorContact")
    assert contact["roles"] == ["order", "claim"] and contact["phone"] == "" and contact["note"] == ""
    url = f"/vendors/ACME/contacts/{contact['id']}"
    assert resp.headers["Location"] == "/api/v1" + url
    done = client.change("patch", url, json={"roles": ["payment"]})
    assert done.status_code == 200 and conforms(done.get_json(), "VendorContact")["roles"] == ["payment"]
    assert done.get_json()["name"] == "Cy Claims"
    assert api("viewer").get(url).get_json() == done.get_json()
    assert not_modified(client, url)
    assert client.change("delete", url).status_code == 204
    error_of(client.get(url), 404, "not_found")
    assert count(VendorContact) == 1


def test_contact_errors(world, acme, api):
    client = api("buyer")
    url = f"/vendors/ACME/contacts/{acme.contacts[0].id}"

    def check(body, field):
        assert error_of(client.post("/vendors/ACME/contacts", json=body), 400, "invalid")["field"] == field

    each_case([({"email": "a@b.c"}, "name"), ({"name": "X", "email": "nope"}, "email"),
               ({"name": "X", "roles": ["boss"]}, "roles"), ({"name": "X", "roles": [1]}, "roles")], check)
    error_of(client.post("/vendors/NOPE/contacts", json={"name": "X"}), 404, "not_found")
    error_of(client.get("/vendors/ACME/contacts/999999"), 404, "not_found")
    tag = client.etag(url)
    error_of(client.patch(url, json={"roles": ["boss"]}, headers={"If-Match": tag}), 400, "invalid")
    error_of(client.patch(url, json={"name": "Renamed"}, headers={"If-Match": tag}), 400, "invalid")
    error_of(client.patch("/vendors/ACME/contacts/999999", json={"roles": []}, headers={"If-Match": tag}),
             404, "not_found")
    error_of(client.delete("/vendors/ACME/contacts/999999", headers={"If-Match": tag}), 404, "not_found")
    needs_if_match(client, "patch", url, {"roles": []})
    needs_if_match(client, "delete", url)
    assert count(VendorContact) == 1 and client.etag(url) == tag


# -- currency rates upload ---------------------------------------------------------------------

def upload(client, data: bytes, name="rates.csv"):
    return client.post("/currency-rates/upload", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_rates_upload_loads_every_row(world, api):
    resp = upload(api("fundmgr"), b"currency,rate,date\nUSD,0.91,2026-01-01\nGBP,1.17,2026-01-01\n")
    assert resp.status_code == 201, resp.get_json()
    assert conforms(resp.get_json(), "CurrencyRateUpload") == {"loaded": 2}
    items = api("viewer").get("/currency-rates").get_json()["items"]
    assert sorted((r["currency"], r["rate"]) for r in items) == [("GBP", "1.17000000"), ("USD", "0.91000000")]


def test_rates_upload_refusals_load_nothing(world, api):
    client = api("invmanager")
    resp = upload(client, b"currency,rate,date\nUSD,0.91,2026-01-01\nGBP,x,2026-01-01\nEUR,1,2026-01-02\n")
    assert resp.status_code == 422
    body = conforms(resp.get_json(), "CurrencyRateUploadRefused")
    assert [r["row"] for r in body["rows"]] == [3, 4] and "institution's currency" in body["rows"][1]["message"]
    assert body["error"]["message"].startswith("Nothing was loaded: row 3:") and body["error"]["field"] == "file"
    body = conforms(upload(client, b"PK\x03\x04 not a csv", "rates.xlsx").get_json(), "CurrencyRateUploadRefused")
    assert body["rows"][0]["row"] == 0 and "Excel" in body["rows"][0]["message"]
    error = error_of(client.post("/currency-rates/upload", data={}, content_type="multipart/form-data"), 400,
                     "invalid")
    assert error["field"] == "file"
    error_of(client.post("/currency-rates/upload", json={"file": "USD,1,2026-01-01"}), 400, "invalid")
    error_of(upload(api("buyer"), b"currency,rate,date\nUSD,0.91,2026-01-01\n"), 403, "forbidden")
    assert count(ExchangeRate) == 0


def test_rates_upload_needs_the_role_for_the_whole_institution(world, api):
    error = error_of(upload(api("fundmgr-a"), b"currency,rate,date\nUSD,0.91,2026-01-01\n"), 403, "forbidden")
    assert error["message"]
    assert count(ExchangeRate) == 0


# -- roles -------------------------------------------------------------------------------------

def test_roles_follow_the_matrix(app, world, acme, api):
    address, contact = acme.addresses[0].id, acme.contacts[0].id
    surprise = {"surprise": 1}
    walk_roles(api, API_MATRIX, {
        "api.create_vendor_account": ("post", "/vendors/ACME/accounts", surprise),
        "api.get_vendor_account": ("get", "/vendors/ACME/accounts/MAIN", None),
        "api.patch_vendor_account": ("patch", "/vendors/ACME/accounts/MAIN", {"order_channel": "print"}),
        "api.delete_vendor_account": ("delete", "/vendors/ACME/accounts/MAIN", None),
        "api.create_vendor_address": ("post", "/vendors/ACME/addresses", surprise),
        "api.get_vendor_address": ("get", f"/vendors/ACME/addresses/{address}", None),
        "api.delete_vendor_address": ("delete", f"/vendors/ACME/addresses/{address}", None),
        "api.create_vendor_contact": ("post", "/vendors/ACME/contacts", surprise),
        "api.get_vendor_contact": ("get", f"/vendors/ACME/contacts/{contact}", None),
        "api.patch_vendor_contact": ("patch", f"/vendors/ACME/contacts/{contact}", {"roles": []}),
        "api.delete_vendor_contact": ("delete", f"/vendors/ACME/contacts/{contact}", None),
        "api.upload_rates": ("post", "/currency-rates/upload", surprise),
    }, allowed=(200, 400, 428))   # 428: no If-Match, so nothing changes
    assert (count(VendorAccount), count(VendorAddress), count(VendorContact), count(ExchangeRate)) == (1, 1, 1, 0)
    error_of(app.test_client().get("/api/v1/vendors/ACME/accounts/MAIN"), 401, "unauthorized")
