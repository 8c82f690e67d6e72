"""POST /api/v1/rollovers (preview or commit) and GET /api/v1/rollovers/{id}: administrators only,
the issue's exact figures, a preview changes nothing, a commit is 201 with Location, a second
commit 409, Idempotency-Key replays, and bodies that conform to the OpenAPI document."""
from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.funds import services as fs
from app.funds.models import Rollover
from tests.api.helpers import PREFIX, conforms, error_of
from tests.funds.test_rollover import books, fund, state  # noqa: F401 - the fixture

pytestmark = pytest.mark.postgres

BODY = {"source": "FY2026", "target": "FY2027", "allocation": "adjust", "percent": "3", "carry": "available",
        "one_time": "remaining", "continuous": "remaining", "increase": "5"}


def keyed(client, body, key):
    return client.client.post(PREFIX + "/rollovers", json=body, headers={**client.headers, "Idempotency-Key": key})


def test_preview_then_commit_with_the_issue_figures(world, books, api):
    client = api("admin")
    before = state()
    resp = client.post("/rollovers", json=BODY)
    assert resp.status_code == 200, resp.get_json()
    preview = conforms(resp.get_json(), "Rollover")
    assert preview["status"] == "preview" and preview["id"] is None
    assert state() == before and db.session.scalar(select(func.count()).select_from(Rollover)) == 0
    row = next(f for f in preview["funds"] if f["code"] == "BOOKS")
    assert (row["allocated"], row["expended"], row["encumbered"], row["carried"], row["new_allocation"]) == \
        ("10000.00", "6250.50", "1200.00", "2549.50", "10300.00")
    assert sorted(line["encumbered"] for line in preview["po_lines"]) == ["525.00", "700.00"]

    resp = keyed(client, {**BODY, "mode": "commit"}, "roll-1")
    assert resp.status_code == 201, resp.get_json()
    committed = conforms(resp.get_json(), "Rollover")
    assert resp.headers["Location"].endswith(f"/api/v1/rollovers/{committed['id']}")
    assert committed["status"] == "committed" and committed["created_by"] == "admin"
    assert (committed["funds"], committed["po_lines"], committed["totals"]) == \
        (preview["funds"], preview["po_lines"], preview["totals"])
    new = fund("BOOKS", "FY2027")
    assert (new.allocated, new.encumbered, new.balance.available) == (D("12849.50"), D("1225.00"), D("11624.50"))
    assert fs.check_ledger() == []

    after = state()
    replay = keyed(client, {**BODY, "mode": "commit"}, "roll-1")
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.headers["ETag"] == resp.headers["ETag"]   # the stored answer, with its version
    error = error_of(client.post("/rollovers", json={**BODY, "mode": "commit"}), 409, "duplicate")
    assert "already rolled over" in error["message"]
    assert state() == after

    got = client.get(f"/rollovers/{committed['id']}")
    assert got.status_code == 200
    assert conforms(got.get_json(), "Rollover")["funds"] == committed["funds"]
    totals = got.get_json()["totals"]
    assert D(totals["left"]) == D(totals["carried"]) + D(totals["not_carried"])


def test_admins_only_and_bad_bodies(world, books, api):
    for name in ("fundmgr", "buyer", "viewer"):
        error_of(api(name).post("/rollovers", json=BODY), 403, "forbidden")
    client = api("admin")
    error_of(client.get("/rollovers/999"), 404, "not_found")
    assert error_of(client.post("/rollovers", json={**BODY, "carry": "all"}), 400, "invalid")["field"] == "carry"
    assert error_of(client.post("/rollovers", json={**BODY, "percent": "x"}), 400, "invalid")["field"] == "percent"
    assert error_of(client.post("/rollovers", json={**BODY, "extra": 1}), 400, "invalid")["field"] == "extra"
    error_of(client.post("/rollovers", json={**BODY, "target": "FY2099"}), 404, "not_found")
    error_of(client.post("/rollovers", json={**BODY, "source": "FY2027", "target": "FY2026"}), 422, "rule_violation")
    assert db.session.scalar(select(func.count()).select_from(Rollover)) == 0
    stored = client.post("/rollovers", json={**BODY, "mode": "commit"}).get_json()
    error_of(api("fundmgr").get(f"/rollovers/{stored['id']}"), 403, "forbidden")


def test_rules_per_ledger_and_fund_and_one_part_at_a_time(world, books, api):
    """A fund's own rule wins over its ledger's, which wins over the default; unknown codes and a
    fund given twice are refused naming them; "parts" runs the ledgers, then the PO lines."""
    client = api("admin")
    body = {**BODY, "ledgers": [{"code": "GEN", "allocation": "same", "carry": "cash"}],
            "funds": [{"code": "A-BKS", "allocation": "none"}]}
    resp = client.post("/rollovers", json={**body, "parts": "ledgers"})
    assert resp.status_code == 200, resp.get_json()
    report = conforms(resp.get_json(), "Rollover")
    assert report["po_lines"] == []
    rows = {f["code"]: f for f in report["funds"]}
    # BOOKS is in GEN: the same allocation, the cash balance carried (3,749.50).
    assert (rows["BOOKS"]["new_allocation"], rows["BOOKS"]["carried"]) == ("10000.00", "3749.50")
    assert "ledger GEN" in rows["BOOKS"]["rule"]
    # A-BKS (LEDA): no allocation; carry as its ledger, i.e. the default (available: 1,000.00).
    assert (rows["A-BKS"]["new_allocation"], rows["A-BKS"]["carried"]) == ("0.00", "1000.00")
    assert "override" in rows["A-BKS"]["rule"]
    # B-BKS (LEDB): the default, +3 %.
    assert rows["B-BKS"]["new_allocation"] == "1030.00"

    error = error_of(client.post("/rollovers", json={**BODY, "funds": [{"code": "NOPE", "allocation": "none"}]}),
                     400, "invalid")
    assert "NOPE" in error["message"]
    twice = [{"code": "A-BKS", "allocation": "none"}, {"code": "A-BKS", "allocation": "same"}]
    assert "A-BKS" in error_of(client.post("/rollovers", json={**BODY, "funds": twice}), 400, "invalid")["message"]
    assert error_of(client.post("/rollovers", json={**BODY, "funds": [{"allocation": "none"}]}), 400,
                    "invalid")["field"] == "funds"

    ledgers = client.post("/rollovers", json={**body, "parts": "ledgers", "mode": "commit"})
    assert ledgers.status_code == 201, ledgers.get_json()
    assert ledgers.get_json()["po_lines"] == [] and fund("BOOKS", "FY2026").encumbered == D("1200.00")
    lines = client.post("/rollovers", json={**BODY, "parts": "po_lines", "mode": "commit"})
    assert lines.status_code == 201, lines.get_json()
    assert lines.get_json()["funds"] == [] and len(lines.get_json()["po_lines"]) == 2
    assert (fund("BOOKS", "FY2026").encumbered, fund("BOOKS", "FY2027").encumbered) == (D("0.00"), D("1225.00"))
    assert fs.check_ledger() == []


# -- the list, ETag, undo, the report files, the rules preview, a run --------------------------

def test_list_get_undo_and_the_report_files(world, books, api):
    client = api("admin")
    assert conforms(client.get("/rollovers").get_json(), "RolloverList") == {"items": []}
    committed = client.post("/rollovers", json={**BODY, "mode": "commit"}).get_json()
    listed = conforms(client.get("/rollovers").get_json(), "RolloverList")["items"]
    assert [(r["id"], r["source"], r["target"], r["status"], r["created_by"]) for r in listed] == \
        [(committed["id"], "FY2026", "FY2027", "committed", "admin")]
    path = f"/rollovers/{committed['id']}"
    tag = client.etag(path)
    assert client.get(path, headers={"If-None-Match": tag}).status_code == 304

    csv = client.get(path + "/report.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "attachment" in csv.headers["Content-Disposition"] and "BOOKS" in csv.get_data(as_text=True)
    xlsx = client.get(path + "/report.xlsx")
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"
    assert xlsx.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    for suffix in ("/report.csv", "/report.xlsx", ""):
        error_of(client.get("/rollovers/999999" + suffix), 404, "not_found")
        error_of(api("fundmgr").get(path + suffix), 403, "forbidden")
    error_of(client.get("/rollovers/999999/report.xlsx"), 404, "not_found")

    error_of(api("fundmgr").post(path + "/actions/undo"), 403, "forbidden")
    error_of(client.post(path + "/actions/undo", json={"now": True}), 400, "invalid")
    error_of(client.post(path + "/actions/undo", headers={"If-Match": '"stale"'}), 412, "precondition_failed")
    error_of(client.post("/rollovers/999999/actions/undo"), 404, "not_found")
    resp = client.post(path + "/actions/undo", headers={"If-Match": tag})
    assert resp.status_code == 200, resp.get_json()
    undone = conforms(resp.get_json(), "Rollover")
    assert undone["status"] == "undone" and undone["undone_at"]
    assert (fund("BOOKS", "FY2026").encumbered, fund("BOOKS", "FY2027").encumbered) == (D("1200.00"), D("0.00"))
    assert fs.check_ledger() == []
    assert error_of(client.post(path + "/actions/undo"), 422, "rule_violation")["field"] == "status"
    assert client.get("/rollovers").get_json()["items"][0]["status"] == "undone"


def test_the_rules_preview_says_what_each_ledger_and_fund_gets(world, books, api):
    client = api("admin")
    body = {"source": "FY2026", "allocation": "adjust", "percent": "3", "carry": "available",
            "ledgers": [{"code": "GEN", "allocation": "same", "carry": "cash"}],
            "funds": [{"code": "A-BKS", "allocation": "none"}]}
    resp = client.post("/rollovers/actions/preview-rules", json=body)
    assert resp.status_code == 200, resp.get_json()
    got = conforms(resp.get_json(), "RolloverRulesPreview")
    assert got["default"] == "allocation +3 %, carry available"
    ledgers = {row["code"]: row for row in got["ledgers"]}
    assert [*ledgers] == ["GEN", "LEDA", "LEDB"]
    assert (ledgers["GEN"]["allocation"], ledgers["GEN"]["carry"], ledgers["GEN"]["origin"]) == ("same", "cash", "ledger")
    assert (ledgers["LEDB"]["allocation"], ledgers["LEDB"]["percent"], ledgers["LEDB"]["origin"]) == \
        ("adjust", "3", "default")
    funds_ = {row["code"]: row for row in got["funds"]}
    assert (funds_["A-BKS"]["allocation"], funds_["A-BKS"]["carry"], funds_["A-BKS"]["origin"]) == \
        ("none", "available", "fund")
    assert funds_["BOOKS"]["origin"] == "ledger" and "MONO" not in funds_    # allocated funds only
    assert fs.check_ledger() == [] and db.session.scalar(select(func.count()).select_from(Rollover)) == 0

    error_of(client.post("/rollovers/actions/preview-rules", json={**body, "source": "FY1999"}), 404, "not_found")
    err = error_of(client.post("/rollovers/actions/preview-rules", json={**body, "funds": [{"code": "NOPE"}]}),
                   400, "invalid")
    assert "NOPE" in err["message"]
    error_of(client.post("/rollovers/actions/preview-rules", json={"allocation": "same"}), 400, "invalid")
    error_of(api("fundmgr").post("/rollovers/actions/preview-rules", json=body), 403, "forbidden")


def test_a_rollover_run_of_the_page(app, world, books, api):
    from app.funds import runs
    from tests.funds.test_rollover_runs import run_here
    run, _ = run_here(world, runs.Task("preview", "FY2026", "FY2027", *_page_rules()))
    client = api("admin")
    resp = client.get(f"/rollover-runs/{run.id}")
    assert resp.status_code == 200 and resp.headers["ETag"]
    got = conforms(resp.get_json(), "RolloverRun")
    assert (got["action"], got["status"], got["owner"]) == ("rollover", "completed", "FY2026→FY2027")
    stored = db.session.get(Rollover, got["rollover"])
    assert stored.status == "preview" and got["message"]
    assert client.get(f"/rollovers/{stored.id}").get_json()["status"] == "preview"
    error_of(client.get("/rollover-runs/999999"), 404, "not_found")
    error_of(api("fundmgr").get(f"/rollover-runs/{run.id}"), 403, "forbidden")


def _page_rules():
    from app.funds import rollover
    return rollover.rules_from("same", "0", "none")
