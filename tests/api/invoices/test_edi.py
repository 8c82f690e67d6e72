"""The EDI inbox and vendor EDI settings through the API: upload (a background run followed by its
id), the inbox paged and filtered, one message, retry; settings list, get, PATCH and fetch now;
institution-wide roles only, as on the pages."""
from __future__ import annotations

import io
import threading

import pytest

from app.auth.models import Role
from app.auth.services import create_user
from app.extensions import db
from app.integrations.edi.models import EdiMessage, VendorEdiSetting
from tests.api.helpers import conforms, each_case, error_of
from tests.helpers import PASSWORD
from tests.integrations.edi.helpers import interchange, invoic, pol
from testkit.erp import local_connection

pytestmark = pytest.mark.committing


def join(prefix: str, run_id: int) -> None:
    """Wait for the background run's thread to end (it is named after the run)."""
    for thread in threading.enumerate():
        if thread.name == f"{prefix}-{run_id}":
            thread.join(60)
    db.session.rollback()


def upload(client, data, vendor="EURV", name="march.edi"):
    form = {"file": (io.BytesIO(data), name)} if data is not None else {}
    if vendor is not None:
        form["vendor"] = vendor
    return client.post("/edi/uploads", data=form, content_type="multipart/form-data")


def library_invoicer(world):
    user = create_user(None, "invoicer-a", PASSWORD, roles=[(Role.INVOICE_OPERATOR, world.lib_a)])
    db.session.commit()
    world.users[user.username] = user.id


def test_upload_inbox_message_and_retry(world, orders, api):
    p = pol(world, orders.eur)
    library_invoicer(world)
    client = api("invoicer")
    data = interchange(invoic("U-1", [(p.number, 2, "20.00", "40.00", None, None)], ref="1", total="40.00"),
                       invoic("U-2", [("POL-999999", 1, "5.00", "5.00", None, None)], ref="2", total="5.00"))
    resp = upload(client, data)
    assert resp.status_code == 201, resp.get_json()
    run = conforms(resp.get_json(), "EdiUpload")
    assert resp.headers["Location"] == f"/api/v1/edi/uploads/{run['id']}"
    join("edi-upload", run["id"])
    done = conforms(client.get(f"/edi/uploads/{run['id']}").get_json(), "EdiUpload")
    assert done["status"] == "completed" and [(m["invoice_number"], m["status"]) for m in done["messages"]] == [
        ("U-1", "invoice_created"), ("U-2", "failed")]
    created, failed = done["messages"]
    assert created["invoice"] and "POL-999999" in failed["reason"] and failed["can_retry"]

    for form, field in ((dict(data=None), "file"), (dict(data=b""), "file"),
                        (dict(data=data, vendor="NOPE"), "vendor")):
        assert error_of(upload(client, **form), 400, "invalid")["field"] == field
    error_of(upload(api("invoicer-a"), data), 403, "forbidden")
    error_of(client.get("/edi/uploads/999999"), 404, "not_found")

    page = conforms(client.get("/edi/messages").get_json(), "EdiMessagePage")
    assert [m["invoice_number"] for m in page["items"]] == ["U-2", "U-1"] and page["total"] == 2
    each_case([("?status=failed", ["U-2"]), ("?status=invoice_created", ["U-1"]), ("?status=duplicate", []),
               ("?per_page=1&page=2", ["U-1"])],
              lambda query, numbers: _numbers(client, query, numbers))
    for query, field in (("?status=lost", "status"), ("?per_page=201", "per_page"), ("?page=0", "page")):
        assert error_of(client.get("/edi/messages" + query), 400, "invalid")["field"] == field
    error_of(api("invoicer-a").get("/edi/messages"), 403, "forbidden")
    error_of(api("viewer").get("/edi/messages"), 403, "forbidden")

    path = f"/edi/messages/{failed['id']}"
    resp = client.get(path)
    message = conforms(resp.get_json(), "EdiMessage")
    assert "RFF+LI:POL-999999" in message["raw"] and resp.headers["ETag"]
    error_of(client.get("/edi/messages/999999"), 404, "not_found")
    error_of(client.get("/edi/messages/99999999999999999999"), 404, "not_found")
    error_of(client.get("/edi/uploads/99999999999999999999"), 404, "not_found")
    error_of(api("invoicer-a").get(path), 403, "forbidden")

    error_of(client.post(f"{path}/actions/retry", json={}, headers={"If-Match": '"stale"'}), 412,
             "precondition_failed")
    error_of(client.post(f"{path}/actions/retry", json={"force": True}), 400, "invalid")
    resp = client.post(f"{path}/actions/retry", headers={"If-Match": resp.headers["ETag"]})
    assert resp.status_code == 200, resp.get_json()
    again = conforms(resp.get_json(), "EdiMessage")
    assert (again["status"], again["attempts"]) == ("failed", 2)
    error = error_of(client.post(f"/edi/messages/{created['id']}/actions/retry"), 400, "invalid")
    assert error["field"] == "status"
    error_of(client.post("/edi/messages/999999/actions/retry"), 404, "not_found")
    error_of(api("invoicer-a").post(f"{path}/actions/retry"), 403, "forbidden")


def _numbers(client, query, numbers):
    resp = client.get("/edi/messages" + query)
    assert resp.status_code == 200
    assert [m["invoice_number"] for m in conforms(resp.get_json(), "EdiMessagePage")["items"]] == numbers


def test_vendor_settings_and_fetch_now(world, orders, admin_a, api, tmp_path):
    conn, _root = local_connection(world.user("admin"), tmp_path)
    db.session.commit()
    admin = api("admin")
    assert conforms(admin.get("/edi/settings").get_json(), "EdiSettingList") == {"items": []}
    path = "/edi/settings/EURV"
    never = conforms(admin.get(path).get_json(), "EdiSetting")
    assert (never["configured"], never["connection"], never["schedule"]) == (False, None, "none")
    error_of(admin.get("/edi/settings/NOPE"), 404, "not_found")
    error_of(admin.patch("/edi/settings/NOPE", json={"active": True}, headers={"If-Match": "*"}), 404, "not_found")
    error_of(api("invoicer").get(path), 403, "forbidden")
    error_of(api("admin-a").get("/edi/settings"), 403, "forbidden")
    error = error_of(admin.post(f"{path}/actions/fetch"), 400, "invalid")
    assert "no EDI settings" in error["message"]

    error = error_of(admin.change("patch", path, {"folder": "edi/eurv"}), 400, "invalid")
    assert error["field"] == "connection"
    error_of(admin.patch(path, json={"folder": "edi/eurv"}), 428, "precondition_required")
    resp = admin.change("patch", path, {"connection": conn.code, "folder": "edi/eurv", "active": True,
                                        "schedule": "weekly", "schedule_time": "07:15", "schedule_day": 2})
    assert resp.status_code == 200, resp.get_json()
    saved = conforms(resp.get_json(), "EdiSetting")
    assert (saved["configured"], saved["connection"], saved["schedule_text"]) == (
        True, "LOCAL", "Weekly on Wednesday at 07:15")
    error_of(admin.patch(path, json={"active": False}, headers={"If-Match": '"stale"'}), 412,
             "precondition_failed")
    each_case([({"folder": "../up"}, "folder"), ({"schedule_time": "7h"}, "schedule_time"),
               ({"connection": "NOPE"}, "connection"), ({"syntax": "ASCII"}, "syntax"), ({}, None)],
              lambda json, field: _refused(admin, path, json, field))
    changed = admin.change("patch", path, {"active": False}).get_json()
    assert (changed["active"], changed["folder"], changed["schedule_day"]) == (False, "edi/eurv", 2)
    assert [s["vendor"] for s in admin.get("/edi/settings").get_json()["items"]] == ["EURV"]
    error_of(api("admin-a").patch(path, json={"active": True}, headers={"If-Match": "*"}), 403, "forbidden")
    db.session.expire_all()
    assert db.session.scalar(db.select(VendorEdiSetting.version)) == 2

    (tmp_path / "edi" / "eurv").mkdir(parents=True)
    resp = admin.post(f"{path}/actions/fetch")
    assert resp.status_code == 200, resp.get_json()
    run = conforms(resp.get_json(), "EdiRun")
    join("edi-fetch", run["id"])
    from app.integrations.models import JobRun
    ended = db.session.get(JobRun, run["id"])
    assert (ended.status, ended.job, ended.trigger) == ("completed", "fetch_edi", "manual")
    error_of(admin.post("/edi/settings/NOPE/actions/fetch"), 404, "not_found")
    error_of(api("admin-a").post(f"{path}/actions/fetch"), 403, "forbidden")
    assert db.session.scalar(db.select(db.func.count()).select_from(EdiMessage)) == 0


def _refused(client, path, json, field):
    error = error_of(client.change("patch", path, json), 400, "invalid")
    assert error.get("field") == field, error
