"""Monitor Jobs through the API: the history with the page's filters, a run with its events and
its error report, the runs going on now, "Run now" answering 202 with the run; and the allowed
S/FTP servers of a test instance."""
from __future__ import annotations

import threading
from datetime import datetime

import pytest

from app.extensions import db
from app.integrations.models import AllowedHost, JobEvent, JobRun
from tests.api.helpers import conforms, error_of
from testkit.erp import erp_profile, local_connection

STALE = '"00000000000000000000000000000000"'


def _runs(world, tmp_path):
    admin = world.user("admin")
    conn, _root = local_connection(admin, tmp_path)
    profile = erp_profile(admin, conn)
    ended = JobRun(job="export_invoices", profile_id=profile.id, profile_code="ERP", trigger="manual",
                   status="completed", started_at=datetime(2026, 3, 1, 9), ended_at=datetime(2026, 3, 1, 9, 1),
                   files=1, records=3, records_failed=1, actor_id=admin.id, message="1 file(s), 3 record(s).")
    failed = JobRun(job="import_payments", profile_id=profile.id, profile_code="ERP", trigger="schedule",
                    status="failed", started_at=datetime(2026, 3, 2, 9), ended_at=datetime(2026, 3, 2, 9, 1))
    going = JobRun(job="load_allocations", profile_id=profile.id, profile_code="ERP", status="running",
                   started_at=datetime(2026, 3, 3, 9))
    db.session.add_all([ended, failed, going])
    db.session.flush()
    for n in range(3):
        db.session.add(JobEvent(run_id=ended.id, level="info", message=f"exported {n}", file_name="x.xml"))
    db.session.add(JobEvent(run_id=ended.id, level="error", message="=cmd|' /C calc'!A0 vendor unknown",
                            file_name="x.xml", record="INV-9"))
    db.session.commit()
    return ended, failed, going


def test_history_run_events_report_and_running(app, world, api, tmp_path):
    ended, failed, going = _runs(world, tmp_path)
    admin = api("admin")
    page = conforms(admin.get("/erp/runs").get_json(), "ErpRunPage")
    assert [r["id"] for r in page["items"]] == [failed.id, ended.id] and page["total"] == 2
    first = page["items"][1]
    assert (first["status_label"], first["records_failed"], first["actor"], first["profile"]) == \
        ("Completed with exceptions", 1, "admin", "ERP")
    assert [r["id"] for r in admin.get("/erp/runs?job=import_payments").get_json()["items"]] == [failed.id]
    assert [r["id"] for r in admin.get("/erp/runs?status=completed&profile=ERP").get_json()["items"]] == [ended.id]
    assert admin.get("/erp/runs?profile=OTHER").get_json()["total"] == 0
    assert admin.get("/erp/runs?days=30").get_json()["total"] == 0     # the clock is not in March 2026
    one = admin.get("/erp/runs?per_page=1&page=2").get_json()
    assert [r["id"] for r in one["items"]] == [ended.id] and (one["page"], one["per_page"]) == (2, 1)
    for query, field in (("status=running", "status"), ("job=nothing", "job"), ("days=2", "days"),
                         ("per_page=0", "per_page"), ("per_page=201", "per_page")):
        assert error_of(admin.get(f"/erp/runs?{query}"), 400, "invalid")["field"] == field

    running = conforms(admin.get("/erp/runs/running").get_json(), "ErpRunList")
    assert [r["id"] for r in running["items"]] == [going.id]

    got = admin.get(f"/erp/runs/{ended.id}")
    assert got.status_code == 200 and got.headers["ETag"]
    assert conforms(got.get_json(), "ErpRun")["message"] == "1 file(s), 3 record(s)."
    assert admin.get(f"/erp/runs/{ended.id}", headers={"If-None-Match": got.headers["ETag"]}).status_code == 304
    error_of(admin.get("/erp/runs/999999"), 404, "not_found")
    error_of(admin.get("/erp/runs/99999999999999999999"), 404, "not_found")

    events = conforms(admin.get(f"/erp/runs/{ended.id}/events?per_page=3").get_json(), "ErpRunEventPage")
    assert [e["message"] for e in events["items"]] == ["exported 0", "exported 1", "exported 2"]
    assert events["total"] == 4
    last = admin.get(f"/erp/runs/{ended.id}/events?per_page=3&page=2").get_json()["items"]
    assert [(e["level"], e["record"]) for e in last] == [("error", "INV-9")]
    error_of(admin.get(f"/erp/runs/{ended.id}/events?page=0"), 400, "invalid")
    error_of(admin.get("/erp/runs/999999/events"), 404, "not_found")

    report = admin.get(f"/erp/runs/{ended.id}/report.csv")
    text = report.get_data(as_text=True)
    assert report.status_code == 200 and report.mimetype == "text/csv"
    assert text.splitlines()[0] == "run,job,profile,time (UTC),level,file,record,message"
    assert len(text.splitlines()) == 2 and "INV-9" in text and ",'=cmd" in text
    every = admin.get(f"/erp/runs/{ended.id}/report.csv?all=true").get_data(as_text=True)
    assert len(every.splitlines()) == 5 and "exported 2" in every
    error_of(admin.get(f"/erp/runs/{ended.id}/report.csv?all=yes"), 400, "invalid")
    error_of(admin.get("/erp/runs/999999/report.csv"), 404, "not_found")


@pytest.mark.committing
def test_run_now_answers_202_with_the_run(app, world, api, tmp_path):
    admin = api("admin")
    assert admin.post("/erp/connections", json={"code": "LOC", "name": "Local", "kind": "local",
                                                "root_path": str(tmp_path)}).status_code == 201
    assert admin.post("/erp/profiles", json={"code": "ERP", "name": "Finance", "connection": "LOC",
                                             "financial_system": "SAP"}).status_code == 201
    path = "/erp/profiles/ERP/sections/export_po_lines"
    assert admin.change("patch", path, {"path": "polines/out", "batch_size": 10}).status_code == 200
    (tmp_path / "polines" / "out").mkdir(parents=True)
    resp = admin.post(f"{path}/actions/run")
    assert resp.status_code == 202, resp.get_json()
    run = conforms(resp.get_json(), "ErpRun")
    assert resp.headers["Location"].endswith(f"/api/v1/erp/runs/{run['id']}")
    assert (run["job"], run["trigger"], run["actor"], run["profile"]) == ("export_po_lines", "manual", "admin", "ERP")
    _join(run["id"])
    done = conforms(admin.get(f"/erp/runs/{run['id']}").get_json(), "ErpRun")
    assert done["status"] in ("completed", "failed") and done["ended_at"]
    assert admin.get("/erp/runs?job=export_po_lines").get_json()["items"][0]["id"] == run["id"]
    assert admin.get("/erp/runs/running").get_json()["items"] == []


def _join(run_id: int) -> None:
    """Wait for the thread "Run now" started (it is named after the run)."""
    for thread in threading.enumerate():
        if thread.name == f"run-{run_id}":
            thread.join()


def test_scheduled_runs_and_the_scheduler(app, world, api, tmp_path):
    admin = api("admin")
    empty = conforms(admin.get("/erp/scheduled").get_json(), "ErpScheduled")
    assert empty["scheduler"] == {"alive": False, "last_seen": None}
    assert [row["job"] for row in empty["items"] if row["owner"] == "ERP"] == []
    conn, _root = local_connection(world.user("admin"), tmp_path)
    erp_profile(world.user("admin"), conn, active=("export_invoices",),
                export_invoices={"schedule": "daily", "schedule_time": "02:30"})
    db.session.commit()
    rows = [row for row in admin.get("/erp/scheduled").get_json()["items"] if row["owner"] == "ERP"]
    assert [(row["job"], row["job_label"], row["schedule"]) for row in rows] == [
        ("export_invoices", "Export invoices for payment", "Daily at 02:30")]
    assert rows[0]["next"].endswith("Z")
    conforms(admin.get("/erp/scheduled").get_json(), "ErpScheduled")
    admin.post("/erp/profiles/ERP/sections/export_invoices/actions/deactivate")
    assert [row for row in admin.get("/erp/scheduled").get_json()["items"] if row["owner"] == "ERP"] == []


def test_allowed_servers(app, world, api):
    admin = api("admin")
    start = conforms(admin.get("/erp/allowed-servers").get_json(), "ErpAllowedServers")
    assert start["items"] == [] and start["environment"]
    added = admin.post("/erp/allowed-servers", json={"address": "SFTP.erp.example.edu:2222", "note": "sandbox"})
    assert added.status_code == 201, added.get_json()
    entry = conforms(added.get_json(), "ErpAllowedServer")
    assert (entry["host"], entry["port"], entry["address"], entry["added_by"]) == \
        ("sftp.erp.example.edu", 2222, "sftp.erp.example.edu:2222", "admin")
    assert added.headers["Location"].endswith(f"/api/v1/erp/allowed-servers/{entry['id']}")
    error_of(admin.post("/erp/allowed-servers", json={"address": "sftp.erp.example.edu:2222"}), 409, "duplicate")
    assert error_of(admin.post("/erp/allowed-servers", json={"address": "bad host!"}), 400,
                    "invalid")["field"] == "address"
    error_of(admin.post("/erp/allowed-servers", json={"address": "h", "port": 22}), 400, "invalid")
    assert [e["id"] for e in admin.get("/erp/allowed-servers").get_json()["items"]] == [entry["id"]]
    assert conforms(admin.get(f"/erp/allowed-servers/{entry['id']}").get_json(), "ErpAllowedServer") == entry
    error_of(admin.get("/erp/allowed-servers/999999"), 404, "not_found")

    path = f"/erp/allowed-servers/{entry['id']}"
    error_of(admin.delete(path), 428, "precondition_required")
    error_of(admin.delete(path, headers={"If-Match": STALE}), 412, "precondition_failed")
    assert admin.change("delete", path).status_code == 204
    assert db.session.get(AllowedHost, entry["id"]).removed_at is not None
    error_of(admin.delete(path, headers={"If-Match": "*"}), 404, "not_found")
    error_of(admin.get(path), 404, "not_found")
    listed = admin.get("/erp/allowed-servers").get_json()
    assert listed["items"] == [] and [e["removed_by"] for e in listed["removed"]] == ["admin"]
