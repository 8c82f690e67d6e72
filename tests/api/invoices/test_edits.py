"""Editing invoices through the API as on the edit page: GET with its ETag, PATCH (header fields,
lines replaced as a whole), DELETE, the owner change, the notes of a closed invoice's lines and
the settings' PATCH; each documented refusal, and that a refusal changes nothing."""
from __future__ import annotations

from app.auth.models import Role
from app.auth.services import create_user
from app.extensions import db
from app.invoices.models import Invoice, InvoiceEvent
from tests.api.helpers import conforms, each_case, error_of
from tests.helpers import PASSWORD
from tests.invoices.helpers import invoice as make_invoice

LINE = {"price": "100.00", "funds": [{"fund": "A-BKS", "percent": "100"}]}


def patch(client, path, json, status=200, schema="Invoice", **kw):
    resp = client.change("patch", path, json, **kw)
    assert resp.status_code == status, resp.get_json()
    return conforms(resp.get_json(), schema if status == 200 else "Error")


def events(invoice_id) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(InvoiceEvent)
                             .where(InvoiceEvent.invoice_id == invoice_id))


def test_get_with_etag_then_patch_fields_and_lines(world, vendors, api):
    inv = make_invoice(world, world.user("invoicer"), vendors.plain, number="E-1")
    make_invoice(world, world.user("invoicer"), vendors.plain, number="E-2")
    client = api("invoicer")
    path = f"/invoices/{inv.id}"
    resp = client.get(path)
    before = conforms(resp.get_json(), "Invoice")
    tag = resp.headers["ETag"]
    assert client.get(path, headers={"If-None-Match": tag}).status_code == 304

    # the versions: no If-Match is 428, a stale one 412; neither changes anything
    error_of(client.patch(path, json={"notes": "x"}), 428, "precondition_required")
    changed = patch(client, path, {"notes": "Paid by card", "reference_number": "R-7"})
    assert (changed["notes"], changed["reference_number"], changed["status"]) == ("Paid by card", "R-7", "in_review")
    assert changed["lines"] == before["lines"] and changed["total_amount"] == "100.00"
    error_of(client.patch(path, json={"notes": "lost"}, headers={"If-Match": tag}), 412, "precondition_failed")
    assert client.get(path).get_json()["notes"] == "Paid by card"

    # lines, when sent, replace all the lines; a fund by id or by code
    two = patch(client, path, {"total_amount": "150.00", "lines": [
        {"price": "100.00", "note": "first", "funds": [{"fund": world.fund_a.id, "percent": "100"}]},
        {"price": "25.00", "quantity": 2, "funds": [{"fund": "A-BKS", "amount": "50.00"}]}]})
    assert [(ln["position"], ln["total"], ln["note"], ln["distribution_method"]) for ln in two["lines"]] == [
        (1, "100.00", "first", "percent"), (2, "50.00", "", "amount")]
    # a change of the header alone keeps those lines as they are
    kept = patch(client, path, {"due_date": "2026-04-01"})
    assert kept["lines"] == two["lines"] and kept["due_date"] == "2026-04-01"

    history = events(inv.id)
    each_case([
        ({}, 400, "invalid", None),
        ({"colour": "red"}, 400, "invalid", "colour"),
        ({"total_amount": 150}, 400, "invalid", "total_amount"),
        ({"lines": [{"price": "1.00", "funds": [{"fund": "NOPE", "percent": "100"}]}]}, 400, "invalid", "lines"),
        ({"vat": {"level": "invoice", "percent": "10", "separate_line": True, "fund": "NOPE"}}, 400, "invalid", "vat"),
        ({"number": "e-2"}, 409, "duplicate", "number"),
        ({"vendor": "LIABLE"}, 409, "confirmation_required", "confirm"),
        ({"total_amount": "900000.00", "lines": [{"price": "900000.00", "funds": [{"fund": "A-BKS",
                                                                                     "percent": "100"}]}]},
         422, "rule_violation", None),
    ], lambda json, status, code, field: _refused(client, path, json, status, code, field))
    assert events(inv.id) == history and client.get(path).get_json()["lines"] == two["lines"]

    confirmed = patch(client, path, {"vendor": "LIABLE", "confirm": "yes", "process": True})
    assert (confirmed["vendor"], confirmed["vat"]["confirmed"], confirmed["status"]) == (
        "LIABLE", "confirm_no_vat_though_liable", "in_approval")
    error_of(client.patch("/invoices/999999", json={"notes": "x"}, headers={"If-Match": "*"}), 404, "not_found")


def _refused(client, path, json, status, code, field):
    resp = client.change("patch", path, json)
    if code == "confirmation_required":
        assert resp.status_code == status
        error = conforms(resp.get_json(), "InvoiceConfirmationRequired")["error"]
    else:
        error = error_of(resp, status, code)
    if field:
        assert error.get("field") == field, error


def test_patch_refused_past_review_and_outside_the_role_scope(world, vendors, scoped_users, api):
    inv = make_invoice(world, world.user("invoicer"), vendors.plain, number="P-1", process=True)
    path = f"/invoices/{inv.id}"
    # may see every invoice, may edit library B's only: 403 as on the edit page
    mixed = create_user(None, "mixed", PASSWORD, roles=[(Role.VIEWER, None), (Role.INVOICE_OPERATOR, world.lib_b)])
    db.session.commit()
    world.users["mixed"] = mixed.id
    error = error_of(api("mixed").change("patch", path, {"notes": "x"}), 403, "forbidden")
    assert error["field"] == "owner_library"
    error_of(api("invoicer-b").patch(path, json={"notes": "x"}, headers={"If-Match": "*"}), 404, "not_found")

    assert api("invmanager").post(f"{path}/actions/approve", json={}).status_code == 200
    error = error_of(api("invoicer").change("patch", path, {"notes": "x"}), 422, "rule_violation")
    assert error["field"] == "status" and "send it back to review" in error["message"]


def test_line_notes_of_an_approved_invoice(world, vendors, api):
    inv = make_invoice(world, world.user("invoicer"), vendors.plain, number="L-1", process=True)
    client = api("invoicer")
    path = f"/invoices/{inv.id}/lines/1"
    resp = client.get(path)
    assert resp.headers["ETag"] and conforms(resp.get_json(), "InvoiceLine")["position"] == 1
    error_of(client.get(f"/invoices/{inv.id}/lines/9"), 404, "not_found")
    error_of(client.get("/invoices/99999999999999999999/lines/1"), 404, "not_found")
    # In Approval: the whole invoice is edited instead
    error = error_of(client.change("patch", path, {"note": "n"}), 422, "rule_violation")
    assert error["field"] == "status"

    assert api("invmanager").post(f"/invoices/{inv.id}/actions/approve", json={}).status_code == 200
    error_of(client.patch(path, json={"note": "n"}), 428, "precondition_required")
    tag = client.etag(path)
    line = patch(client, path, {"note": "checked", "price_note": "list"}, schema="InvoiceLine")
    assert (line["note"], line["price_note"], line["reporting_code"], line["total"]) == (
        "checked", "list", "", "100.00")
    error_of(client.patch(path, json={"note": "again"}, headers={"If-Match": tag}), 412, "precondition_failed")
    each_case([({"price": "1.00"}, "price"), ({"reporting_code": "x" * 41}, "reporting_code"), ({}, None)],
              lambda json, field: _line_refused(client, path, json, field))
    error_of(client.patch(f"/invoices/{inv.id}/lines/9", json={"note": "x"}, headers={"If-Match": "*"}),
             404, "not_found")
    assert client.get(path).get_json()["note"] == "checked"


def _line_refused(client, path, json, field):
    error = error_of(client.change("patch", path, json), 400, "invalid")
    assert error.get("field") == field, error


def test_delete_and_change_owner(world, vendors, api):
    op = world.user("invoicer")
    gone = make_invoice(world, op, vendors.plain, number="D-1")
    approved = make_invoice(world, op, vendors.plain, number="D-2", amounts=("90.00",), process=True)
    inst = make_invoice(world, op, vendors.plain, number="D-3", library=None)
    deleter = api("invoicer-ext")
    gone_id = gone.id
    path = f"/invoices/{gone_id}"
    error_of(api("invoicer").change("delete", path), 403, "forbidden")
    error_of(deleter.delete(path), 428, "precondition_required")
    error_of(deleter.delete(path, headers={"If-Match": '"stale"'}), 412, "precondition_failed")
    error_of(deleter.change("delete", path, query_string={"reason": "x" * 1001}), 400, "invalid")
    resp = deleter.change("delete", path, query_string={"reason": "entered twice"})
    assert resp.status_code == 204 and resp.get_data() == b""
    error_of(deleter.get(path), 404, "not_found")
    error_of(deleter.delete(path, headers={"If-Match": "*"}), 404, "not_found")
    db.session.expire_all()
    assert db.session.get(Invoice, gone_id) is None

    resp = api("invmanager").post(f"/invoices/{approved.id}/actions/approve", json={})
    assert resp.status_code == 200, resp.get_json()
    error = error_of(deleter.change("delete", f"/invoices/{approved.id}"), 422, "rule_violation")
    assert "expended" in error["message"]

    # owner: the institution's invoice (SHARED fund) to library A; A's fund cannot go to library B
    client = api("invoicer")
    moved = client.post(f"/invoices/{inst.id}/actions/change_owner", json={"owner": "LIBA"})
    assert moved.status_code == 200, moved.get_json()
    assert conforms(moved.get_json(), "Invoice")["owner_library"] == "LIBA"
    back = client.post(f"/invoices/{inst.id}/actions/change_owner", json={"owner": None})
    assert back.status_code == 200 and back.get_json()["owner_library"] is None
    error = error_of(client.post(f"/invoices/{approved.id}/actions/change_owner", json={"owner": "LIBB"}), 422,
                     "rule_violation")
    assert "A-BKS" in error["message"] and error["field"] == "owner"
    assert error_of(client.post(f"/invoices/{inst.id}/actions/change_owner", json={"owner": "NOPE"}), 400,
                    "invalid")["field"] == "owner"
    assert error_of(client.post(f"/invoices/{inst.id}/actions/change_owner", json={}), 400,
                    "invalid")["field"] == "owner"
    error_of(client.post("/invoices/999999/actions/change_owner", json={"owner": None}), 404, "not_found")
    error_of(client.post(f"/invoices/{inst.id}/actions/change_owner", json={"owner": "LIBA"},
                         headers={"If-Match": '"stale"'}), 412, "precondition_failed")
    db.session.expire_all()
    assert db.session.get(Invoice, approved.id).owner_library_id == world.lib_a.id


def test_settings_patch_is_the_same_partial_update(world, admin_a, api):
    admin = api("admin")
    resp = admin.change("patch", "/settings", {"accrual_accounting": True})
    assert resp.status_code == 200 and resp.headers["ETag"]
    assert conforms(resp.get_json(), "InvoiceSettings")["accrual_accounting"] is True
    assert resp.get_json()["invoice_use_pro_rata"] is True
    error_of(admin.patch("/settings", json={"accrual_accounting": False}), 428, "precondition_required")
    error_of(admin.patch("/settings", json={"accrual_accounting": False}, headers={"If-Match": '"old"'}), 412,
             "precondition_failed")
    error_of(admin.change("patch", "/settings", {}), 400, "invalid")
    error_of(admin.put("/settings", json={"accrual_accounting": False}), 428, "precondition_required")
    error_of(admin.put("/settings", json={"accrual_accounting": False}, headers={"If-Match": '"old"'}), 412,
             "precondition_failed")
    error_of(admin.change("patch", "/settings", {"accrual_accounting": "no"}), 400, "invalid")
    error_of(api("admin-a").change("patch", "/settings", {"accrual_accounting": False}), 403, "forbidden")
    assert admin.get("/settings").get_json()["accrual_accounting"] is True
