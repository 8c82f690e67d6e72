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
