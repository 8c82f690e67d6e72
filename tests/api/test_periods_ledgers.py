"""Fiscal periods and ledgers through the API."""
from __future__ import annotations

from tests.api.helpers import conforms, each_case, error_of

FY2027 = {"code": "FY2027", "name": "Fiscal year 2027", "start_date": "2027-01-01", "end_date": "2027-12-31"}


# -- fiscal periods ------------------------------------------------------------------------------

def test_list_fiscal_periods(world, api):
    body = conforms(api("viewer-b").get("/fiscal-periods").get_json(), "FiscalPeriodList")
    assert body["items"] == [{"id": world.period.id, "code": "FY2026", "name": "Fiscal year 2026",
                              "start_date": "2026-01-01", "end_date": "2026-12-31", "status": "active"}]


def test_create_fiscal_period(world, api):
    client = api("fundmgr")
    resp = client.post("/fiscal-periods", json={**FY2027, "status": "inactive"})
    assert resp.status_code == 201, resp.get_json()
    created = conforms(resp.get_json(), "FiscalPeriod")
    assert {k: v for k, v in created.items() if k != "id"} == {**FY2027, "status": "inactive"}
    listed = client.get("/fiscal-periods").get_json()["items"]
    assert [p["code"] for p in listed] == ["FY2027", "FY2026"]  # latest first


def test_fiscal_period_errors(world, api):
    client = api("admin")
    error_of(client.post("/fiscal-periods", json={**FY2027, "code": "FY2026"}), 409, "duplicate")
    err = error_of(client.post("/fiscal-periods", json={**FY2027, "start_date": "2026-12-01"}), 422,
                   "rule_violation")
    assert "FY2026" in err["message"]  # overlaps it
    for bad in ("2027/01/01", "20270101", "2027-02-30", "1 Jan 2027"):
        err = error_of(client.post("/fiscal-periods", json={**FY2027, "start_date": bad}), 400, "invalid")
        assert err["field"] == "start_date" and "start_date" in err["message"]
    err = error_of(client.post("/fiscal-periods", json={**FY2027, "end_date": "2026-06-01"}), 400, "invalid")
    assert "end date" in err["message"]
    err = error_of(client.post("/fiscal-periods", json={**FY2027, "code": "X" * 21}), 400, "invalid")
    assert err["field"] == "code"
    err = error_of(client.post("/fiscal-periods", json={**FY2027, "status": "open"}), 400, "invalid")
    assert err["field"] == "status"
    assert [p["code"] for p in client.get("/fiscal-periods").get_json()["items"]] == ["FY2026"]


def test_library_fund_manager_cannot_create_fiscal_periods(world, api):
    error_of(api("fundmgr-a").post("/fiscal-periods", json=FY2027), 403, "forbidden")


# -- ledgers -------------------------------------------------------------------------------------

def codes(resp):
    assert resp.status_code == 200, resp.get_json()
    return [row["code"] for row in conforms(resp.get_json(), "LedgerList")["items"]]


def test_list_ledgers_follows_scope(world, api):
    assert codes(api("viewer").get("/ledgers")) == ["GEN", "LEDA", "LEDB"]
    assert codes(api("viewer-a").get("/ledgers")) == ["GEN", "LEDA"]
    assert codes(api("fundmgr-b").get("/ledgers?fiscal_period=FY2026")) == ["GEN", "LEDB"]
    gen = api("viewer-a").get("/ledgers").get_json()["items"][0]
    assert gen == {"id": world.gen.id, "code": "GEN", "name": "General", "fiscal_period": "FY2026",
                   "currency": "EUR", "owner": None, "available_to_all": True, "libraries": [],
                   "status": "active", "notes": ""}
    leda = api("viewer-a").get("/ledgers").get_json()["items"][1]
    assert (leda["owner"], leda["available_to_all"]) == ("LIBA", False)


def test_list_ledgers_by_fiscal_period(world, api):
    client = api("admin")
    assert client.post("/fiscal-periods", json=FY2027).status_code == 201
    new = {"code": "GEN", "name": "General 2027", "fiscal_period": "FY2027", "currency": "EUR", "owner": None}
    assert client.post("/ledgers", json=new).status_code == 201
    assert codes(client.get("/ledgers?fiscal_period=FY2027")) == ["GEN"]
    assert codes(client.get("/ledgers")) == ["GEN", "GEN", "LEDA", "LEDB"]  # latest period first
    error_of(client.get("/ledgers?fiscal_period=FY1999"), 404, "not_found")


def test_create_ledger_available_to_some_libraries(world, api):
    resp = api("admin").post("/ledgers", json={"code": "GIFTS", "name": "Gifts", "fiscal_period": "FY2026",
                                               "currency": "eur", "libraries": ["LIBA"], "notes": "donors"})
    assert resp.status_code == 201, resp.get_json()
    body = conforms(resp.get_json(), "Ledger")
    assert {k: v for k, v in body.items() if k != "id"} == {
        "code": "GIFTS", "name": "Gifts", "fiscal_period": "FY2026", "currency": "EUR", "owner": None,
        "available_to_all": False, "libraries": ["LIBA"], "status": "active", "notes": "donors"}
    assert "GIFTS" in codes(api("viewer-a").get("/ledgers"))
    assert "GIFTS" not in codes(api("viewer-b").get("/ledgers"))


def test_library_fund_manager_creates_only_own_ledgers(world, api):
    client = api("fundmgr-a")
    base = {"name": "Mine", "fiscal_period": "FY2026", "currency": "EUR"}
    resp = client.post("/ledgers", json={**base, "code": "A2", "owner": "LIBA"})
    assert resp.status_code == 201, resp.get_json()
    assert (resp.get_json()["owner"], resp.get_json()["available_to_all"]) == ("LIBA", False)
    error_of(client.post("/ledgers", json={**base, "code": "B2", "owner": "LIBB"}), 403, "forbidden")
    error_of(client.post("/ledgers", json={**base, "code": "I2", "owner": None}), 403, "forbidden")
    error_of(client.post("/ledgers", json={**base, "code": "I3"}), 403, "forbidden")  # owner defaults to null
    assert codes(api("admin").get("/ledgers")) == ["A2", "GEN", "LEDA", "LEDB"]


LEDGER_ERRORS = [
    ({"code": "GEN"}, 409, "duplicate", "code"),
    ({"currency": "EURO"}, 400, "invalid", "currency"),
    ({"currency": "XYZ"}, 400, "invalid", "currency"),
    ({"currency": "KWD"}, 400, "invalid", "currency"),  # three decimals: not kept by this installation
    ({"owner": "NOPE"}, 400, "invalid", "owner"),
    ({"libraries": ["LIBA", "NOPE"]}, 400, "invalid", "libraries"),
    ({"libraries": "LIBA"}, 400, "invalid", "libraries"),
    ({"owner": "LIBA", "libraries": ["LIBA"]}, 400, "invalid", "libraries"),
    ({"available_to_all": True, "libraries": ["LIBA"]}, 400, "invalid", "libraries"),
    ({"available_to_all": False}, 400, "invalid", "libraries"),
    ({"available_to_all": "yes"}, 400, "invalid", "available_to_all"),
    ({"fiscal_period": "FY1999"}, 404, "not_found", None),
    ({"code": "has space"}, 400, "invalid", "code"),
    ({"colour": "red"}, 400, "invalid", "colour"),
]


def test_create_ledger_errors(world, api):
    client = api("admin")

    def check(change, status, code, field):
        body = {"code": "NEW", "name": "New", "fiscal_period": "FY2026", "currency": "EUR", **change}
        err = error_of(client.post("/ledgers", json=body), status, code)
        if field:
            assert err["field"] == field
        assert codes(client.get("/ledgers")) == ["GEN", "LEDA", "LEDB"]
    each_case(LEDGER_ERRORS, check)


def test_create_ledger_missing_field(world, api):
    def check(missing):
        body = {"code": "NEW", "name": "New", "fiscal_period": "FY2026", "currency": "EUR"}
        del body[missing]
        err = error_of(api("admin").post("/ledgers", json=body), 400, "invalid")
        assert err["field"] == missing and f'"{missing}"' in err["message"]
    each_case([("code",), ("name",), ("fiscal_period",), ("currency",)], check)


# -- one fiscal period: GET with its ETag, PATCH, close and reopen -------------------------------

def test_get_and_patch_a_fiscal_period(world, api):
    viewer, manager = api("viewer-b"), api("fundmgr")
    got = viewer.get("/fiscal-periods/FY2026")
    assert got.status_code == 200 and got.headers["ETag"]
    assert conforms(got.get_json(), "FiscalPeriod")["name"] == "Fiscal year 2026"
    assert viewer.get("/fiscal-periods/FY2026", headers={"If-None-Match": got.headers["ETag"]}).status_code == 304
    error_of(viewer.get("/fiscal-periods/FY1999"), 404, "not_found")

    error_of(manager.patch("/fiscal-periods/FY2026", json={"name": "Year"}), 428, "precondition_required")
    resp = manager.patch("/fiscal-periods/FY2026", json={"name": "Year 2026"}, headers={"If-Match": got.headers["ETag"]})
    assert resp.status_code == 200, resp.get_json()
    body = conforms(resp.get_json(), "FiscalPeriod")
    assert (body["name"], body["start_date"], body["end_date"], body["status"]) == \
        ("Year 2026", "2026-01-01", "2026-12-31", "active")   # only the name changed
    assert resp.headers["ETag"] != got.headers["ETag"]
    error_of(manager.patch("/fiscal-periods/FY2026", json={"name": "Mine"}, headers={"If-Match": got.headers["ETag"]}),
             412, "precondition_failed")
    resp = manager.change("patch", "/fiscal-periods/FY2026", {"end_date": "2026-06-30", "status": "inactive"})
    assert (resp.get_json()["end_date"], resp.get_json()["status"]) == ("2026-06-30", "inactive")


def test_patch_fiscal_period_errors(world, api):
    manager = api("admin")
    assert manager.post("/fiscal-periods", json=FY2027).status_code == 201
    path = "/fiscal-periods/FY2027"
    err = error_of(manager.change("patch", path, {"start_date": "2026-12-01"}), 422, "rule_violation")
    assert "FY2026" in err["message"]   # overlaps it
    error_of(manager.change("patch", path, {"end_date": "2026-12-01"}), 400, "invalid")   # before its start
    assert error_of(manager.change("patch", path, {"code": "X"}), 400, "invalid")["field"] == "code"
    assert error_of(manager.change("patch", path, {"status": "closed"}), 400, "invalid")["field"] == "status"
    error_of(manager.change("patch", path, {}), 400, "invalid")
    error_of(manager.patch("/fiscal-periods/FY1999", json={"name": "x"}, headers={"If-Match": "*"}), 404, "not_found")
    error_of(api("fundmgr-a").patch(path, json={"name": "x"}, headers={"If-Match": "*"}), 403, "forbidden")
    assert manager.get(path).get_json()["name"] == "Fiscal year 2027"


def test_close_and_reopen_a_fiscal_period(world, api):
    admin = api("admin")
    tag = admin.etag("/fiscal-periods/FY2026")
    error_of(api("fundmgr").post("/fiscal-periods/FY2026/actions/close"), 403, "forbidden")
    resp = admin.post("/fiscal-periods/FY2026/actions/close", json={"note": "year end"}, headers={"If-Match": tag})
    assert resp.status_code == 200, resp.get_json()
    assert conforms(resp.get_json(), "FiscalPeriod")["status"] == "closed"
    error_of(admin.post("/fiscal-periods/FY2026/actions/close", headers={"If-Match": tag}), 412, "precondition_failed")
    error_of(admin.post("/fiscal-periods/FY2026/actions/close"), 422, "rule_violation")   # already closed
    # A closed period's status changes only by reopening it; its name still may.
    error_of(admin.change("patch", "/fiscal-periods/FY2026", {"status": "active"}), 422, "rule_violation")
    assert admin.change("patch", "/fiscal-periods/FY2026", {"name": "Closed year"}).status_code == 200

    assert error_of(admin.post("/fiscal-periods/FY2026/actions/reopen"), 400, "invalid")["field"] == "reason"
    error_of(admin.post("/fiscal-periods/FY2026/actions/reopen", json={"reason": "  "}), 400, "invalid")
    error_of(admin.post("/fiscal-periods/FY1999/actions/reopen", json={"reason": "x"}), 404, "not_found")
    error_of(admin.post("/fiscal-periods/FY1999/actions/close"), 404, "not_found")
    error_of(admin.post("/fiscal-periods/FY2026/actions/reopen", json={"reason": "x"}, headers={"If-Match": tag}),
             412, "precondition_failed")
    resp = admin.post("/fiscal-periods/FY2026/actions/reopen", json={"reason": "a late invoice"})
    assert resp.status_code == 200 and conforms(resp.get_json(), "FiscalPeriod")["status"] == "active"
    error_of(admin.post("/fiscal-periods/FY2026/actions/reopen", json={"reason": "again"}), 422, "rule_violation")
    error_of(admin.post("/fiscal-periods/FY2026/actions/close", json={"colour": "red"}), 400, "invalid")


def test_closing_with_open_po_lines_needs_confirming(world, api, orders):
    from app.extensions import db
    from app.orders import services as order_services
    from tests.orders.helpers import line
    admin_user = world.user("admin")
    order_services.approve_po_line(admin_user, line(world, admin_user, orders.eur))
    db.session.commit()
    admin = api("admin")
    err = error_of(admin.post("/fiscal-periods/FY2026/actions/close"), 409, "needs_confirmation")
    assert "1 open PO line" in err["message"] and err["field"] == "confirm"
    assert admin.get("/fiscal-periods/FY2026").get_json()["status"] == "active"
    resp = admin.post("/fiscal-periods/FY2026/actions/close", json={"confirm": True})
    assert resp.status_code == 200 and resp.get_json()["status"] == "closed"


# -- one ledger: GET with its ETag, PATCH ----------------------------------------------------------

def test_get_and_patch_a_ledger(world, api):
    viewer = api("viewer-a")
    got = viewer.get(f"/ledgers/{world.ledger_a.id}")
    assert got.status_code == 200 and got.headers["ETag"]
    assert conforms(got.get_json(), "Ledger")["code"] == "LEDA"
    error_of(viewer.get(f"/ledgers/{world.ledger_b.id}"), 404, "not_found")   # library B's: not in sight
    error_of(viewer.get("/ledgers/999999"), 404, "not_found")

    manager = api("fundmgr-a")
    error_of(manager.patch(f"/ledgers/{world.ledger_a.id}", json={"notes": "x"}), 428, "precondition_required")
    resp = manager.change("patch", f"/ledgers/{world.ledger_a.id}", {"name": "A's ledger", "notes": "ours"})
    assert resp.status_code == 200, resp.get_json()
    body = conforms(resp.get_json(), "Ledger")
    assert (body["name"], body["notes"], body["owner"], body["currency"]) == ("A's ledger", "ours", "LIBA", "EUR")
    # The institution's ledger, visible to library A, is not theirs to change; another library's not in sight.
    error_of(manager.change("patch", f"/ledgers/{world.gen.id}", {"notes": "x"}), 403, "forbidden")
    error_of(manager.patch(f"/ledgers/{world.ledger_b.id}", json={"notes": "x"}, headers={"If-Match": "*"}),
             404, "not_found")
    error_of(manager.change("patch", f"/ledgers/{world.ledger_a.id}", {"owner": "LIBB"}), 403, "forbidden")


def test_patch_ledger_availability_and_errors(world, api):
    admin = api("admin")
    path = f"/ledgers/{world.gen.id}"
    resp = admin.change("patch", path, {"libraries": ["LIBA"]})
    assert resp.status_code == 200, resp.get_json()
    assert (resp.get_json()["available_to_all"], resp.get_json()["libraries"]) == (False, ["LIBA"])
    assert "GEN" not in codes(api("viewer-b").get("/ledgers"))
    assert admin.change("patch", path, {"available_to_all": True}).get_json()["available_to_all"] is True
    assert error_of(admin.change("patch", path, {"available_to_all": False, "libraries": []}), 400,
                    "invalid")["field"] == "libraries"
    assert error_of(admin.change("patch", path, {"owner": "NOPE"}), 400, "invalid")["field"] == "owner"
    assert error_of(admin.change("patch", path, {"currency": "USD"}), 400, "invalid")["field"] == "currency"
    assert error_of(admin.change("patch", path, {"name": ""}), 400, "invalid")["field"] == "name"
    error_of(admin.patch(path, json={"notes": "x"}, headers={"If-Match": '"stale"'}), 412, "precondition_failed")
    error_of(admin.patch("/ledgers/999999", json={"notes": "x"}, headers={"If-Match": "*"}), 404, "not_found")
