"""The ERP integration's settings through the API: connections (secrets write-only, the page's test
against the real sshd), profiles with their sections, the section switch, notifications, the campus
stylesheet and the payment confirmation format; each success and each documented error."""
from __future__ import annotations

import pytest

from app.auth.models import Role
from app.auth.services import create_user, issue_api_token
from app.extensions import db
from app.integrations.models import Connection, IntegrationProfile
from tests.api.helpers import ApiClient, conforms, error_of
from testkit import PASSWORD

STALE = '"00000000000000000000000000000000"'
XSLT = ('<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
        '<xsl:output method="text" media-type="text/csv"/>'
        '<xsl:template match="/">x</xsl:template></xsl:stylesheet>')


@pytest.fixture
def admin(api):
    return api("admin")


def _local(admin, tmp_path, code="LOC"):
    resp = admin.post("/erp/connections", json={"code": code, "name": "Local", "kind": "local",
                                                "root_path": str(tmp_path)})
    assert resp.status_code == 201, resp.get_json()
    return resp


def _profile(admin, connection="LOC", code="ERP"):
    resp = admin.post("/erp/profiles", json={"code": code, "name": "Finance", "connection": connection,
                                             "financial_system": "SAP"})
    assert resp.status_code == 201, resp.get_json()
    return resp


def _versions_are_checked(client, path, body):
    """428 without If-Match, 412 with a stale one; nothing changes."""
    method = "delete" if body is None else "patch"
    error_of(getattr(client, method)(path, json=body), 428, "precondition_required")
    error_of(getattr(client, method)(path, json=body, headers={"If-Match": STALE}), 412, "precondition_failed")


def test_connections_local(app, world, admin, tmp_path):
    resp = _local(admin, tmp_path)
    body = conforms(resp.get_json(), "ErpConnection")
    again = admin.post("/erp/connections", json={"code": "KEYED", "name": "Local", "kind": "local",
                                                 "root_path": str(tmp_path)}, headers={"Idempotency-Key": "conn-1"})
    replay = admin.post("/erp/connections", json={"code": "KEYED", "name": "Local", "kind": "local",
                                                  "root_path": str(tmp_path)}, headers={"Idempotency-Key": "conn-1"})
    assert (again.status_code, replay.status_code, replay.headers.get("Idempotent-Replayed")) == (201, 201, "true")
    assert replay.get_json() == again.get_json()
    assert admin.change("delete", "/erp/connections/KEYED").status_code == 204
    assert resp.headers["Location"].endswith("/api/v1/erp/connections/LOC") and resp.headers["ETag"]
    assert (body["kind"], body["root_path"], body["address"], body["has_password"], body["usable_here"]) == \
        ("local", str(tmp_path), str(tmp_path), False, True)
    error_of(admin.post("/erp/connections", json={"code": "LOC", "name": "Again", "kind": "local",
                                                  "root_path": str(tmp_path)}), 409, "duplicate")
    bad = error_of(admin.post("/erp/connections", json={"code": "L2", "name": "x", "kind": "local",
                                                        "root_path": "relative/path"}), 400, "invalid")
    assert bad["field"] == "root_path"
    assert error_of(admin.post("/erp/connections", json={"code": "L3", "name": "x", "kind": "nfs"}),
                    400, "invalid")["field"] == "kind"
    listed = conforms(admin.get("/erp/connections").get_json(), "ErpConnectionList")
    assert [c["code"] for c in listed["items"]] == ["LOC"]

    got = admin.get("/erp/connections/LOC")
    assert got.status_code == 200 and conforms(got.get_json(), "ErpConnection") == body
    by_id = admin.get(f"/erp/connections/{body['id']}")
    assert by_id.get_json()["code"] == "LOC"
    for missing in ("NOPE", "999999", "99999999999999999999", "\u0661\u0662"):
        error_of(admin.get(f"/erp/connections/{missing}"), 404, "not_found")

    changed = admin.change("patch", "/erp/connections/LOC", {"name": "Folder", "base_dir": "erp"})
    assert changed.status_code == 200, changed.get_json()
    assert conforms(changed.get_json(), "ErpConnection")["name"] == "Folder"
    assert changed.get_json()["base_dir"] == "erp" and changed.get_json()["kind"] == "local"
    assert error_of(admin.change("patch", "/erp/connections/LOC", {"base_dir": "../up"}), 400,
                    "invalid")["field"] == "base_dir"
    error_of(admin.change("patch", "/erp/connections/LOC", {}), 400, "invalid")
    error_of(admin.patch("/erp/connections/NOPE", json={"name": "x"}, headers={"If-Match": "*"}), 404, "not_found")
    _versions_are_checked(admin, "/erp/connections/LOC", {"name": "x"})

    tested = admin.post("/erp/connections/LOC/actions/test")
    assert tested.status_code == 200
    assert conforms(tested.get_json(), "ErpConnectionTest")["ok"] is False   # no folder erp/ under the root yet
    (tmp_path / "erp").mkdir()
    assert admin.post("/erp/connections/LOC/actions/test").get_json()["ok"] is True
    error_of(admin.post("/erp/connections/NOPE/actions/test"), 404, "not_found")
    error_of(admin.post("/erp/connections/LOC/actions/test", json={"x": 1}), 400, "invalid")

    _profile(admin)
    refused = error_of(admin.change("delete", "/erp/connections/LOC"), 422, "rule_violation")
    assert "ERP" in refused["message"]
    _versions_are_checked(admin, "/erp/connections/LOC", None)
    _local(admin, tmp_path / "other", code="SPARE")
    assert admin.change("delete", "/erp/connections/SPARE").status_code == 204
    assert db.session.scalar(db.select(Connection).filter_by(code="SPARE")) is None
    error_of(admin.delete("/erp/connections/SPARE", headers={"If-Match": "*"}), 404, "not_found")


def test_an_sftp_connection_keeps_its_secrets_and_passes_the_pages_test(app, world, admin, sshd):
    name, folder = sshd.folder()
    resp = admin.post("/erp/connections", json={
        "code": "SFTP", "name": "ERP server", "kind": "sftp", "host": "127.0.0.1", "port": sshd.port,
        "username": sshd.user, "private_key": sshd.client_key, "host_key": sshd.host_key, "base_dir": name})
    assert resp.status_code == 201, resp.get_json()
    body = conforms(resp.get_json(), "ErpConnection")
    assert body["has_private_key"] and not body["has_password"]
    assert "PRIVATE KEY" not in resp.get_data(as_text=True)
    assert "PRIVATE KEY" not in admin.get("/erp/connections").get_data(as_text=True)
    tested = admin.post("/erp/connections/SFTP/actions/test").get_json()
    assert tested["ok"] is True, tested
    # A password added keeps the key; the key removed leaves the password; removing both is refused.
    with_password = admin.change("patch", "/erp/connections/SFTP", {"password": "secret-1"}).get_json()
    assert with_password["has_password"] and with_password["has_private_key"]
    assert "secret-1" not in str(with_password)
    no_key = admin.change("patch", "/erp/connections/SFTP", {"private_key": None}).get_json()
    assert no_key["has_password"] and not no_key["has_private_key"]
    refused = error_of(admin.change("patch", "/erp/connections/SFTP", {"password": None}), 400, "invalid")
    assert refused["field"] == "password"
    # A wrong pinned host key is refused by the test as on the page.
    admin.change("patch", "/erp/connections/SFTP", {"private_key": sshd.client_key, "password": None,
                                                    "host_key": sshd.other_host_key})
    failed = admin.post("/erp/connections/SFTP/actions/test").get_json()
    assert failed["ok"] is False and failed["message"]
    assert folder.exists()


def test_profiles_and_sections(app, world, admin, tmp_path):
    _local(admin, tmp_path)
    resp = _profile(admin)
    body = conforms(resp.get_json(), "ErpProfile")
    assert resp.headers["Location"].endswith("/api/v1/erp/profiles/ERP")
    assert [s["job"] for s in body["sections"]] == ["import_payments", "export_invoices", "load_allocations",
                                                   "export_orders", "export_po_lines"]
    assert not any(s["active"] for s in body["sections"]) and body["connection"] == "LOC"
    error_of(admin.post("/erp/profiles", json={"code": "ERP", "name": "x", "connection": "LOC",
                                               "financial_system": "SAP"}), 409, "duplicate")
    assert error_of(admin.post("/erp/profiles", json={"code": "E2", "name": "x", "connection": "NOPE",
                                                      "financial_system": "SAP"}), 400, "invalid")["field"] == "connection"
    assert [p["code"] for p in conforms(admin.get("/erp/profiles").get_json(), "ErpProfileList")["items"]] == ["ERP"]
    assert conforms(admin.get("/erp/profiles/ERP").get_json(), "ErpProfile")["id"] == body["id"]
    for missing in ("NOPE", "999999", "99999999999999999999", "\u0661\u0662"):
        error_of(admin.get(f"/erp/profiles/{missing}"), 404, "not_found")

    patched = admin.change("patch", "/erp/profiles/ERP", {"description": "Nightly exchange"})
    assert patched.status_code == 200 and conforms(patched.get_json(), "ErpProfile")["description"] == \
        "Nightly exchange"
    assert patched.get_json()["name"] == "Finance"
    assert error_of(admin.change("patch", "/erp/profiles/ERP", {"financial_system": ""}), 400,
                    "invalid")["field"] == "financial_system"
    error_of(admin.patch("/erp/profiles/NOPE", json={"name": "x"}, headers={"If-Match": "*"}), 404, "not_found")
    _versions_are_checked(admin, "/erp/profiles/ERP", {"name": "x"})

    # A section: its settings as the sections page saves them, the folder checked against the others.
    path = "/erp/profiles/ERP/sections/export_invoices"
    section = conforms(admin.get(path).get_json(), "ErpSection")
    assert (section["path"], section["schedule"], section["active"]) == ("", "none", False)
    error_of(admin.get("/erp/profiles/ERP/sections/nothing"), 404, "not_found")
    error_of(admin.get("/erp/profiles/NOPE/sections/export_invoices"), 404, "not_found")
    saved = admin.change("patch", path, {"path": "invoices/out", "schedule": "daily", "schedule_time": "02:30",
                                         "xsd_version": "v1"})
    assert saved.status_code == 200, saved.get_json()
    assert conforms(saved.get_json(), "ErpSection")["schedule_text"] == "Daily at 02:30"
    assert saved.get_json()["xsd_version"] == "v1" and saved.get_json()["active"] is False
    assert error_of(admin.change("patch", path, {"schedule": "weekly"}), 400, "invalid")["field"] == "schedule_day"
    assert error_of(admin.change("patch", path, {"path": "../etc"}), 400, "invalid")["field"] == "path"
    admin.change("patch", "/erp/profiles/ERP/sections/import_payments", {"path": "payments/in"})
    clash = error_of(admin.change("patch", path, {"path": "payments/in"}), 400, "invalid")
    assert clash["field"] == "path" and "input folder" in clash["message"]
    error_of(admin.patch("/erp/profiles/ERP/sections/nothing", json={"path": "x"}, headers={"If-Match": "*"}),
             404, "not_found")
    _versions_are_checked(admin, path, {"path": "x"})

    # The switch: the page's, which the scheduler follows.
    refused = error_of(admin.post("/erp/profiles/ERP/sections/load_allocations/actions/activate"), 422,
                       "rule_violation")
    assert "folder" in refused["message"]
    on = admin.post(f"{path}/actions/activate", headers={"If-Match": admin.etag(path)})
    assert on.status_code == 200 and conforms(on.get_json(), "ErpSection")["active"] is True
    error_of(admin.post(f"{path}/actions/deactivate", headers={"If-Match": STALE}), 412, "precondition_failed")
    error_of(admin.post(f"{path}/actions/activate", headers={"If-Match": STALE}), 412, "precondition_failed")
    error_of(admin.post(f"{path}/actions/deactivate", json={"active": False}), 400, "invalid")
    error_of(admin.post(f"{path}/actions/activate", json={"active": True}), 400, "invalid")
    error_of(admin.post("/erp/profiles/ERP/sections/nothing/actions/activate"), 404, "not_found")
    error_of(admin.post("/erp/profiles/NOPE/sections/export_invoices/actions/deactivate"), 404, "not_found")
    off = admin.post(f"{path}/actions/deactivate")
    assert off.status_code == 200 and off.get_json()["active"] is False

    # Run now: refused before any run starts when there is nothing to run.
    error_of(admin.post("/erp/profiles/ERP/sections/load_allocations/actions/run"), 422, "rule_violation")
    error_of(admin.post("/erp/profiles/ERP/sections/nothing/actions/run"), 404, "not_found")
    error_of(admin.post(f"{path}/actions/run", json={"now": True}), 400, "invalid")

    # Deleting the profile leaves the connection free.
    _versions_are_checked(admin, "/erp/profiles/ERP", None)
    assert admin.change("delete", "/erp/profiles/ERP").status_code == 204
    assert db.session.scalar(db.select(IntegrationProfile).filter_by(code="ERP")) is None
    error_of(admin.delete("/erp/profiles/ERP", headers={"If-Match": "*"}), 404, "not_found")
    assert admin.change("delete", "/erp/connections/LOC").status_code == 204


def test_notifications_stylesheet_payment_format_and_failed_orders(app, world, admin, tmp_path):
    _local(admin, tmp_path)
    _profile(admin)
    base = "/erp/profiles/ERP"

    note = conforms(admin.get(f"{base}/notifications").get_json(), "ErpNotifications")
    assert note == {"profile": "ERP", "notify_when": "off", "recipients": []}
    done = admin.change("patch", f"{base}/notifications", {"notify_when": "failure", "recipients": ["admin", "fundmgr"]})
    assert done.status_code == 200, done.get_json()
    assert conforms(done.get_json(), "ErpNotifications")["recipients"] == ["admin", "fundmgr"]
    assert admin.get(base).get_json()["notify_when"] == "failure"
    assert error_of(admin.change("patch", f"{base}/notifications", {"recipients": ["nobody"]}), 400,
                    "invalid")["field"] == "recipients"
    assert error_of(admin.change("patch", f"{base}/notifications", {"recipients": []}), 400,
                    "invalid")["field"] == "recipients"
    error_of(admin.get("/erp/profiles/NOPE/notifications"), 404, "not_found")
    error_of(admin.patch("/erp/profiles/NOPE/notifications", json={"notify_when": "off"}, headers={"If-Match": "*"}),
             404, "not_found")
    _versions_are_checked(admin, f"{base}/notifications", {"notify_when": "off"})

    sheet = conforms(admin.get(f"{base}/stylesheet").get_json(), "ErpStylesheet")
    assert (sheet["xslt"], sheet["output_extension"]) == ("", None)
    set_ = admin.change("patch", f"{base}/stylesheet", {"xslt": XSLT, "keep_original": True})
    assert set_.status_code == 200, set_.get_json()
    assert conforms(set_.get_json(), "ErpStylesheet")["output_extension"] == "csv"
    assert set_.get_json()["keep_original"] is True
    bad = error_of(admin.change("patch", f"{base}/stylesheet", {"xslt": "<xsl:stylesheet"}), 400, "invalid")
    assert bad["field"] == "xslt" and "not saved" in bad["message"]
    assert admin.get(f"{base}/stylesheet").get_json()["xslt"] == XSLT
    removed = admin.change("patch", f"{base}/stylesheet", {"xslt": ""}).get_json()
    assert removed["xslt"] == "" and removed["keep_original"] is False
    error_of(admin.get("/erp/profiles/NOPE/stylesheet"), 404, "not_found")
    error_of(admin.patch("/erp/profiles/NOPE/stylesheet", json={"xslt": ""}, headers={"If-Match": "*"}),
             404, "not_found")
    _versions_are_checked(admin, f"{base}/stylesheet", {"xslt": ""})

    fmt = conforms(admin.get(f"{base}/payment-format").get_json(), "ErpPaymentFormat")
    assert (fmt["confirmation_format"], fmt["amount_mismatch"]) == ("xml", "warn")
    csv = admin.change("patch", f"{base}/payment-format", {
        "confirmation_format": "csv", "amount_mismatch": "refuse", "separator": ";", "decimal": ",",
        "columns": {"invoice_number": "Invoice", "payment_status": "Status", "amount": "Paid"},
        "paid_values": ["BEZAHLT"]})
    assert csv.status_code == 200, csv.get_json()
    got = conforms(csv.get_json(), "ErpPaymentFormat")
    assert (got["columns"]["invoice_number"], got["columns"]["vendor_code"], got["paid_values"],
            got["rejected_values"], got["separator"]) == ("Invoice", "", ["BEZAHLT"], ["REJECTED"], ";")
    refused = error_of(admin.change("patch", f"{base}/payment-format", {"columns": {"invoice_number": "Invoice"}}),
                       400, "invalid")
    assert refused["field"] == "payment_status"
    assert error_of(admin.change("patch", f"{base}/payment-format", {"separator": "|"}), 400,
                    "invalid")["field"] == "separator"
    error_of(admin.get("/erp/profiles/NOPE/payment-format"), 404, "not_found")
    error_of(admin.patch("/erp/profiles/NOPE/payment-format", json={"decimal": "."}, headers={"If-Match": "*"}),
             404, "not_found")
    _versions_are_checked(admin, f"{base}/payment-format", {"decimal": "."})
    back = admin.change("patch", f"{base}/payment-format", {"confirmation_format": "xml"}).get_json()
    assert back["confirmation_format"] == "xml" and back["columns"]["invoice_number"] == "Invoice"

    requeued = admin.post(f"{base}/actions/rerun-failed-orders")
    assert requeued.status_code == 200 and conforms(requeued.get_json(), "ErpRequeued") == {"profile": "ERP",
                                                                                           "queued": 0}
    error_of(admin.post("/erp/profiles/NOPE/actions/rerun-failed-orders"), 404, "not_found")
    error_of(admin.post(f"{base}/actions/rerun-failed-orders", json={"all": True}), 400, "invalid")


def test_only_institution_administrators(app, world, admin, api, tmp_path):
    _local(admin, tmp_path)
    _profile(admin)
    create_user(None, "admin-a", PASSWORD, roles=[(Role.ADMIN, world.lib_a)])
    db.session.commit()
    scoped = ApiClient(app.test_client(), issue_api_token(None, db.session.scalar(
        db.select(type(world.user("admin"))).filter_by(username="admin-a"))))
    db.session.commit()
    for path in ("/erp/connections", "/erp/connections/LOC", "/erp/profiles/ERP", "/erp/runs"):
        error_of(scoped.get(path), 403, "forbidden")
        error_of(api("fundmgr").get(path), 403, "forbidden")
    error_of(scoped.post("/erp/profiles/ERP/sections/export_invoices/actions/run"), 403, "forbidden")
    error_of(scoped.post("/erp/connections/LOC/actions/test"), 403, "forbidden")
    error_of(scoped.patch("/erp/profiles/ERP", json={"name": "x"}, headers={"If-Match": "*"}), 403, "forbidden")
    assert admin.get("/erp/profiles/ERP").get_json()["name"] == "Finance"


def test_stylesheet_preview_and_export_files(app, world, admin, tmp_path):
    import hashlib
    from pathlib import Path

    from app.integrations.models import ExportBatch
    from tests.integrations.xslt.samples import several
    voucher = (Path(__file__).resolve().parents[3] / "docs" / "xslt" / "voucher-csv.xsl").read_text()
    _local(admin, tmp_path)
    profile_id = _profile(admin).get_json()["id"]
    _profile(admin, code="OTHER")
    content = several()
    batch = ExportBatch(profile_id=profile_id, file_name="INV_1000000000000001_7.xml", content=content,
                        sha256=hashlib.sha256(content).hexdigest(), status="sent")
    db.session.add(batch)
    db.session.commit()
    files = conforms(admin.get("/erp/profiles/ERP/export-files").get_json(), "ErpExportFileList")["items"]
    assert [(f["file_name"], f["source"], f["status"]) for f in files] == [
        ("INV_1000000000000001_7.xml", f"batch-{batch.id}", "sent")]
    assert admin.get("/erp/profiles/OTHER/export-files").get_json() == {"items": []}
    error_of(admin.get("/erp/profiles/NOPE/export-files"), 404, "not_found")

    url = "/erp/profiles/ERP/stylesheet/actions/preview"
    shown = admin.post(url, json={"source": f"batch-{batch.id}", "xslt": voucher})
    assert shown.status_code == 200, shown.get_json()
    body = conforms(shown.get_json(), "ErpStylesheetPreview")
    assert "<invoice_number>INV-1</invoice_number>" in body["original"]
    assert "1000000000000001,INV-1,ACME,2026-03-02,,EUR,1,F-BOOKS,100.00" in body["output"]
    assert (body["extension"], body["error"], body["label"]) == ("csv", None, "INV_1000000000000001_7.xml")
    assert admin.get("/erp/profiles/ERP/stylesheet").get_json()["xslt"] == ""     # a preview saves nothing
    # Without a stylesheet given, the saved one (none yet): the file, and why there is no output.
    nothing = conforms(admin.post(url, json={"source": f"batch-{batch.id}"}).get_json(), "ErpStylesheetPreview")
    assert nothing["output"] == "" and nothing["error"] == "Paste or upload a stylesheet first."
    failing = voucher.replace('<xsl:template match="/">', '<xsl:template match="/"><xsl:message terminate="yes">'
                              'Stop here</xsl:message>', 1)
    failed = conforms(admin.post(url, json={"source": f"batch-{batch.id}", "xslt": failing}).get_json(),
                      "ErpStylesheetPreview")
    assert "Stop here" in failed["error"] and failed["output"] == ""
    sample = conforms(admin.post(url, json={"source": "sample", "xslt": voucher}).get_json(), "ErpStylesheetPreview")
    assert sample["error"].startswith("No invoice is Ready to be Paid")
    assert error_of(admin.post(url, json={"source": f"batch-{batch.id}", "xslt": "<xsl:"}), 400,
                    "invalid")["field"] == "xslt"
    error_of(admin.post(url, json={"xslt": voucher}), 400, "invalid")
    error_of(admin.post("/erp/profiles/OTHER/stylesheet/actions/preview", json={"source": f"batch-{batch.id}"}),
             404, "not_found")
    error_of(admin.post(url, json={"source": "batch-99999999999999999999"}), 404, "not_found")
    error_of(admin.post("/erp/profiles/NOPE/stylesheet/actions/preview", json={"source": "sample"}), 404, "not_found")
