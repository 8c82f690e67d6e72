"""Safe updates: ETag on every answer carrying one object, If-Match on PUT/PATCH (428 without it,
412 when the object changed meanwhile), PATCH changing only the fields sent, optional If-Match on
actions, If-None-Match answered 304."""
from __future__ import annotations

from app.extensions import db
from app.vendors import services as vendors
from app.vendors.models import Vendor
from tests.api.helpers import conforms, error_of


def _acme(world):
    vendors.create_vendor(world.user("admin"), "ACME", vendors.VendorFields(name="Acme", currency="EUR",
                                                                             notes="first"))
    db.session.commit()


def test_put_and_patch_need_the_current_etag(app, world, api):
    _acme(world)
    buyer, other = api("buyer"), api("admin")
    got = buyer.get("/vendors/ACME")
    tag = got.headers["ETag"]
    assert tag.startswith('"') and len(tag) == 34
    assert buyer.get("/vendors/ACME").headers["ETag"] == tag          # stable while nothing changes
    assert buyer.get("/vendors/ACME", headers={"If-None-Match": tag}).status_code == 304

    error_of(buyer.patch("/vendors/ACME", json={"name": "X"}), 428, "precondition_required")
    error_of(buyer.put("/vendors/ACME", json={"name": "X", "currency": "EUR"}), 428, "precondition_required")

    # Someone else changes the vendor first: the buyer's version is stale.
    first = other.patch("/vendors/ACME", json={"notes": "second"}, headers={"If-Match": tag})
    assert first.status_code == 200, first.get_json()
    assert first.headers["ETag"] != tag
    conforms(first.get_json(), "Vendor")
    stale = error_of(buyer.patch("/vendors/ACME", json={"name": "Mine"}, headers={"If-Match": tag}),
                     412, "precondition_failed")
    assert "GET it again" in stale["message"]
    assert db.session.get(Vendor, db.session.scalar(db.select(Vendor.id))).name == "Acme"

    # With the new ETag the change goes through, and only the field sent changes.
    done = buyer.patch("/vendors/ACME", json={"name": "Mine"}, headers={"If-Match": first.headers["ETag"]})
    assert done.status_code == 200
    body = done.get_json()
    assert (body["name"], body["notes"], body["currency"]) == ("Mine", "second", "EUR")
    assert done.headers["ETag"] == buyer.get("/vendors/ACME").headers["ETag"]

    # PUT replaces every field: the notes left out go back to their default.
    put = buyer.put("/vendors/ACME", json={"name": "Acme", "currency": "EUR"}, headers={"If-Match": "*"})
    assert put.status_code == 200 and put.get_json()["notes"] == ""


def test_patch_bodies_are_read_like_others(app, world, api):
    _acme(world)
    buyer = api("buyer")
    tag = buyer.etag("/vendors/ACME")
    error_of(buyer.patch("/vendors/ACME", json={}, headers={"If-Match": tag}), 400, "invalid")
    error = error_of(buyer.patch("/vendors/ACME", json={"code": "NEW"}, headers={"If-Match": tag}), 400, "invalid")
    assert error["field"] == "code"
    error_of(buyer.patch("/vendors/ACME", json={"liable_for_vat": "yes"}, headers={"If-Match": tag}),
             400, "invalid")
    error_of(buyer.patch("/vendors/NOPE", json={"name": "X"}, headers={"If-Match": tag}), 404, "not_found")
    error_of(api("viewer").patch("/vendors/ACME", json={"name": "X"}, headers={"If-Match": tag}), 403, "forbidden")
    assert buyer.etag("/vendors/ACME") == tag


def test_settings_put_needs_if_match(app, world, api):
    admin = api("admin")
    error_of(admin.put("/settings", json={"invoice_skip_erp": True}), 428, "precondition_required")
    tag = admin.etag("/settings")
    assert admin.put("/settings", json={"invoice_skip_erp": True}, headers={"If-Match": tag}).status_code == 200
    error_of(admin.put("/settings", json={"invoice_skip_erp": False}, headers={"If-Match": tag}),
             412, "precondition_failed")
