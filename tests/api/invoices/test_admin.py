"""Invoicing administration through the API: review rules (list, get, PATCH), approval rules (list,
create, get, PATCH, DELETE, move) and charge types (list, create, get, activate, deactivate);
institution administrators only, every refusal changing nothing."""
from __future__ import annotations

from app.extensions import db
from app.invoices import rules
from app.invoices.models import ApprovalRule, ChargeType
from tests.api.helpers import conforms, each_case, error_of


def test_review_rules(world, admin_a, api):
    admin = api("admin")
    listed = conforms(admin.get("/invoicing/review-rules").get_json(), "ReviewRuleList")["items"]
    assert [r["kind"] for r in listed][:2] == ["total_mismatch", "line_without_funds"]
    path = "/invoicing/review-rules/price_differs"
    rule = conforms(admin.get(path).get_json(), "ReviewRule")
    assert (rule["active"], rule["threshold_percent"]) == (True, "10.00")
    error_of(admin.get("/invoicing/review-rules/colour"), 404, "not_found")
    error_of(api("admin-a").get("/invoicing/review-rules"), 403, "forbidden")
    error_of(api("admin-a").get(path), 403, "forbidden")
    error_of(api("invmanager").get(path), 403, "forbidden")

    error_of(admin.patch(path, json={"active": False}), 428, "precondition_required")
    tag = admin.etag(path)
    resp = admin.change("patch", path, {"threshold_percent": "12.5", "active": False})
    assert resp.status_code == 200, resp.get_json()
    assert conforms(resp.get_json(), "ReviewRule") | {"description": ""} == {
        "kind": "price_differs", "description": "", "active": False, "threshold_percent": "12.50"}
    error_of(admin.patch(path, json={"active": True}, headers={"If-Match": tag}), 412, "precondition_failed")
    each_case([({"threshold_percent": "abc"}, path, "threshold_percent"),
               ({"threshold_percent": None}, path, "threshold_percent"),
               ({"threshold_percent": "5"}, "/invoicing/review-rules/total_mismatch", "threshold_percent"),
               ({"active": "no"}, path, "active"), ({}, path, None)],
              lambda json, url, field: _refused(admin, url, json, field))
    error_of(admin.patch("/invoicing/review-rules/colour", json={"active": True}, headers={"If-Match": "*"}), 404,
             "not_found")
    error_of(api("admin-a").patch(path, json={"active": True}, headers={"If-Match": "*"}), 403, "forbidden")
    assert admin.get(path).get_json()["active"] is False


def _refused(client, path, json, field):
    error = error_of(client.change("patch", path, json), 400, "invalid")
    assert error.get("field") == field, error


def test_approval_rules(world, vendors, admin_a, api):
    admin = api("admin")
    resp = admin.post("/invoicing/approval-rules", json={"name": "Small PLAIN", "max_total": "500", "vendor": "PLAIN",
                                                         "fund": "A-BKS", "automatic": True})
    assert resp.status_code == 201, resp.get_json()
    small = conforms(resp.get_json(), "ApprovalRule")
    assert resp.headers["Location"] == f"/api/v1/invoicing/approval-rules/{small['id']}"
    assert (small["position"], small["max_total"], small["min_total"], small["fund"], small["fund_id"],
            small["automatic"]) == (1, "500.00", None, "A-BKS", world.fund_a.id, True)
    big = admin.post("/invoicing/approval-rules", json={
        "name": "Big", "min_total": "10000", "channel": "edi", "owner_library": "LIBA",
        "approver_not_creator": True}).get_json()
    assert (big["position"], big["owner_library"], big["channel"]) == (2, "LIBA", "edi")
    count = db.session.scalar(db.select(db.func.count()).select_from(ApprovalRule))
    each_case([({"max_total": "1"}, "name"), ({"name": "x", "min_total": "5", "max_total": "1"}, "max_total"),
               ({"name": "x", "vendor": "NOPE"}, "vendor"), ({"name": "x", "fund": "NOPE"}, "fund"),
               ({"name": "x", "fund": 999999}, "fund"), ({"name": "x", "fund": 10**20}, "fund"),
               ({"name": "x", "owner_library": "NOPE"}, "owner_library"),
               ({"name": "x", "channel": "fax"}, "channel"), ({"name": "x", "max_total": 5}, "max_total"),
               ({"name": "x", "automatic": True, "approver_not_creator": True}, "approver_not_creator")],
              lambda json, field: _create_refused(admin, json, field))
    error_of(api("admin-a").post("/invoicing/approval-rules", json={"name": "x"}), 403, "forbidden")
    assert db.session.scalar(db.select(db.func.count()).select_from(ApprovalRule)) == count

    path = f"/invoicing/approval-rules/{small['id']}"
    assert admin.get(path).headers["ETag"]
    error_of(admin.get("/invoicing/approval-rules/999999"), 404, "not_found")
    error_of(admin.get("/invoicing/approval-rules/99999999999999999999"), 404, "not_found")
    error_of(api("admin-a").get(path), 403, "forbidden")
    error_of(api("admin-a").get("/invoicing/approval-rules"), 403, "forbidden")
    changed = admin.change("patch", path, {"name": "Small ones", "vendor": None})
    assert changed.status_code == 200, changed.get_json()
    assert {k: changed.get_json()[k] for k in ("name", "vendor", "max_total", "fund")} == {
        "name": "Small ones", "vendor": None, "max_total": "500.00", "fund": "A-BKS"}
    error_of(admin.patch(path, json={"name": "y"}), 428, "precondition_required")
    error_of(admin.patch(path, json={"name": "y"}, headers={"If-Match": '"old"'}), 412, "precondition_failed")
    error_of(admin.change("patch", path, {"min_total": "900"}), 400, "invalid")
    error_of(admin.patch("/invoicing/approval-rules/999999", json={"name": "y"}, headers={"If-Match": "*"}), 404,
             "not_found")

    # move: the order is what the list answers
    moved = admin.post(f"/invoicing/approval-rules/{big['id']}/actions/move", json={"direction": "up"})
    assert moved.status_code == 200 and conforms(moved.get_json(), "ApprovalRule")["position"] == 1
    assert [r["name"] for r in conforms(admin.get("/invoicing/approval-rules").get_json(),
                                        "ApprovalRuleList")["items"]] == ["Big", "Small ones"]
    error_of(admin.post(f"/invoicing/approval-rules/{big['id']}/actions/move", json={"direction": "left"}), 400,
             "invalid")
    error_of(admin.post(f"/invoicing/approval-rules/{big['id']}/actions/move", json={"direction": "down"},
                        headers={"If-Match": '"old"'}), 412, "precondition_failed")
    error_of(admin.post("/invoicing/approval-rules/999999/actions/move", json={"direction": "up"}), 404, "not_found")

    error_of(admin.delete(path), 428, "precondition_required")
    error_of(admin.delete(path, headers={"If-Match": '"old"'}), 412, "precondition_failed")
    assert admin.change("delete", f"/invoicing/approval-rules/{big['id']}").status_code == 204
    error_of(admin.delete(f"/invoicing/approval-rules/{big['id']}", headers={"If-Match": "*"}), 404, "not_found")
    assert admin.get(path).get_json()["position"] == 1
    assert [r.name for r in rules.approval_rules()] == ["Small ones"]


def _create_refused(client, json, field):
    error = error_of(client.post("/invoicing/approval-rules", json=json), 400, "invalid")
    assert error.get("field") == field, error


def test_charge_types(world, admin_a, api):
    admin = api("admin")
    listed = conforms(admin.get("/invoicing/charge-types").get_json(), "ChargeTypeList")["items"]
    assert [(c["code"], c["built_in"]) for c in listed] == [("shipment", True), ("insurance", True),
                                                          ("overhead", True), ("discount", True)]
    resp = admin.post("/invoicing/charge-types", json={"code": "Binding", "name": "Binding"})
    assert resp.status_code == 201, resp.get_json()
    assert conforms(resp.get_json(), "ChargeType") == {"code": "binding", "name": "Binding", "active": True,
                                                       "built_in": False}
    assert resp.headers["Location"] == "/api/v1/invoicing/charge-types/binding"
    error_of(admin.post("/invoicing/charge-types", json={"code": "binding", "name": "Again"}), 409, "duplicate")
    for json, field in (({"code": "shipment", "name": "S"}, "code"), ({"code": "a b", "name": "S"}, "code"),
                        ({"code": "x", "name": " "}, "name"), ({"code": "x"}, "name")):
        assert error_of(admin.post("/invoicing/charge-types", json=json), 400, "invalid")["field"] == field
    error_of(api("admin-a").post("/invoicing/charge-types", json={"code": "x", "name": "X"}), 403, "forbidden")
    error_of(api("admin-a").get("/invoicing/charge-types"), 403, "forbidden")

    path = "/invoicing/charge-types/binding"
    assert conforms(admin.get(path).get_json(), "ChargeType")["active"] is True
    error_of(admin.get("/invoicing/charge-types/shipment"), 404, "not_found")
    error_of(api("admin-a").get(path), 403, "forbidden")
    off = admin.post(f"{path}/actions/deactivate")
    assert off.status_code == 200 and conforms(off.get_json(), "ChargeType")["active"] is False
    error_of(admin.post(f"{path}/actions/activate", json={"force": True}), 400, "invalid")
    error_of(admin.post(f"{path}/actions/deactivate", json={"force": True}), 400, "invalid")
    error_of(admin.post("/invoicing/charge-types/shipment/actions/deactivate"), 404, "not_found")
    error_of(admin.post("/invoicing/charge-types/nope/actions/activate"), 404, "not_found")
    error_of(admin.post(f"{path}/actions/activate", headers={"If-Match": '"old"'}), 412, "precondition_failed")
    error_of(admin.post(f"{path}/actions/deactivate", headers={"If-Match": '"old"'}), 412, "precondition_failed")
    for n in range(5):   # five of the library's own are active: no room for a sixth
        assert admin.post("/invoicing/charge-types", json={"code": f"c{n}", "name": f"C{n}"}).status_code == 201
    error = error_of(admin.post(f"{path}/actions/activate"), 422, "rule_violation")
    assert "deactivate one first" in error["message"]
    error_of(admin.post("/invoicing/charge-types", json={"code": "c9", "name": "C9"}), 422, "rule_violation")
    db.session.expire_all()
    assert db.session.scalar(db.select(ChargeType.active).filter_by(code="binding")) is False
