"""Funds through the API: listing with scope, one fund with balances, creating funds."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.extensions import db
from app.funds import services as funds

from tests.api.helpers import conforms, each_case, error_of

ZERO = {"allocated": "0.00", "encumbered": "0.00", "expended": "0.00", "available": "0.00"}
THOUSAND = {"allocated": "1000.00", "encumbered": "0.00", "expended": "0.00", "available": "1000.00"}


def fund_codes(resp):
    assert resp.status_code == 200, resp.get_json()
    return [f["code"] for f in conforms(resp.get_json(), "FundList")["items"]]


def test_list_funds_follows_scope(world, api):
    assert fund_codes(api("viewer").get("/funds")) == ["A-BKS", "B-BKS", "BOOKS", "SHARED"]
    assert fund_codes(api("viewer-a").get("/funds")) == ["A-BKS", "BOOKS", "SHARED"]
    assert fund_codes(api("fundmgr-b").get("/funds?fiscal_period=FY2026")) == ["B-BKS", "BOOKS", "SHARED"]
    error_of(api("viewer").get("/funds?fiscal_period=NOPE"), 404, "not_found")


def test_get_fund(world, api):
    resp = api("viewer-a").get(f"/funds/{world.shared.id}")
    assert resp.status_code == 200
    assert conforms(resp.get_json(), "Fund") == {
        "id": world.shared.id, "code": "SHARED", "name": "Shared books", "fiscal_period": "FY2026",
        "ledger": "GEN", "ledger_id": world.gen.id, "parent": "BOOKS", "parent_id": world.books.id,
        "type": "allocated", "status": "active", "currency": "EUR", "external_id": "EXT-1", "fund_type": None,
        "notes": "", "owner": None, "available_to_all": True, "libraries": [],
        "overencumbrance_allowed": False, "overencumbrance_limit_percent": "0.00",
        "overexpenditure_allowed": False, "overexpenditure_limit": "0.00", "balances": THOUSAND}
    fund_a = api("viewer-a").get(f"/funds/{world.fund_a.id}").get_json()
    assert (fund_a["owner"], fund_a["ledger"], fund_a["parent"], fund_a["balances"]) == ("LIBA", "LEDA", None,
                                                                                          THOUSAND)


def test_out_of_scope_fund_is_not_found(world, api):
    unknown = error_of(api("viewer-a").get("/funds/999999"), 404, "not_found")
    hidden = error_of(api("viewer-a").get(f"/funds/{world.fund_b.id}"), 404, "not_found")
    assert hidden == unknown  # nothing tells the two apart
    error_of(api("fundmgr-a").get(f"/funds/{world.fund_b.id}"), 404, "not_found")
    assert api("viewer-b").get(f"/funds/{world.fund_b.id}").status_code == 200


def test_summary_balances_roll_up_what_the_user_sees(world, api):
    admin = world.user("admin")
    lib_b_only = funds.create_fund(admin, world.gen, "B-ONLY", funds.FundFields(
        name="B only", parent=world.books, available_to_all=False, libraries=[world.lib_b]))
    funds.allocate(admin, lib_b_only, Decimal("500.00"))
    funds.post(admin, world.shared, "encumbrance", Decimal("120.50"))
    funds.post(admin, world.shared, "expenditure", Decimal("79.50"))
    db.session.commit()
    books = {"viewer": api("viewer").get(f"/funds/{world.books.id}").get_json()["balances"],
             "viewer-a": api("viewer-a").get(f"/funds/{world.books.id}").get_json()["balances"],
             "viewer-b": api("viewer-b").get(f"/funds/{world.books.id}").get_json()["balances"]}
    assert books["viewer"] == books["viewer-b"] == {
        "allocated": "1500.00", "encumbered": "120.50", "expended": "79.50", "available": "1300.00"}
    assert books["viewer-a"] == {"allocated": "1000.00", "encumbered": "120.50", "expended": "79.50",
                                 "available": "800.00"}
    listed = {f["code"]: f["balances"] for f in api("viewer-a").get("/funds").get_json()["items"]}
    assert listed["BOOKS"] == books["viewer-a"]
    assert "B-ONLY" not in listed


def test_nested_summaries_roll_up(world, api):
    admin = world.user("admin")
    sub = funds.create_fund(admin, world.gen, "SUB", funds.FundFields(name="Sub", kind="summary", parent=world.books))
    leaf = funds.create_fund(admin, world.gen, "LEAF", funds.FundFields(name="Leaf", parent=sub))
    funds.allocate(admin, leaf, Decimal("0.10"))
    db.session.commit()
    listed = {f["code"]: f["balances"]["allocated"] for f in api("viewer").get("/funds").get_json()["items"]}
    assert (listed["BOOKS"], listed["SUB"], listed["LEAF"]) == ("1000.10", "0.10", "0.10")


def test_a_hidden_summary_level_is_climbed_past(world, api):
    admin = world.user("admin")
    hidden = funds.create_fund(admin, world.gen, "HID", funds.FundFields(name="Hidden", kind="summary", parent=world.books,
                                                                  available_to_all=False, libraries=[world.lib_b]))
    leaf = funds.create_fund(admin, world.gen, "UNDER", funds.FundFields(name="Under hidden", parent=hidden))
    funds.allocate(admin, leaf, Decimal("12.34"))
    funds.post(admin, leaf, "encumbrance", Decimal("1.01"))
    db.session.commit()
    listed = {f["code"]: f["balances"] for f in api("viewer-a").get("/funds").get_json()["items"]}
    assert "HID" not in listed
    assert listed["BOOKS"] == {"allocated": "1012.34", "encumbered": "1.01", "expended": "0.00",
                               "available": "1011.33"}
    assert api("viewer-b").get(f"/funds/{hidden.id}").get_json()["balances"]["available"] == "11.33"


# -- creating funds ---------------------------------------------------------------------------------

NEW = {"code": "SERIALS", "name": "Serials", "ledger": "GEN", "parent": "BOOKS", "type": "allocated",
       "external_id": "EXT-9", "fund_type": None, "overencumbrance_allowed": True,
       "overencumbrance_limit_percent": "10.5", "overexpenditure_allowed": True, "overexpenditure_limit": "250"}


def test_create_fund(world, api):
    client = api("fundmgr")
    resp = client.post("/funds", json={**NEW, "notes": "journals"})
    assert resp.status_code == 201, resp.get_json()
    body = conforms(resp.get_json(), "Fund")
    assert resp.headers["Location"].endswith(f"/api/v1/funds/{body['id']}")
    assert {k: v for k, v in body.items() if k != "id"} == {
        "code": "SERIALS", "name": "Serials", "fiscal_period": "FY2026", "ledger": "GEN", "ledger_id": world.gen.id,
        "parent": "BOOKS", "parent_id": world.books.id, "type": "allocated", "status": "active", "currency": "EUR",
        "external_id": "EXT-9", "fund_type": None, "notes": "journals", "owner": None, "available_to_all": True,
        "libraries": [], "overencumbrance_allowed": True, "overencumbrance_limit_percent": "10.50",
        "overexpenditure_allowed": True, "overexpenditure_limit": "250.00", "balances": ZERO}
    assert client.get(f"/funds/{body['id']}").get_json() == body
    assert "SERIALS" in fund_codes(api("viewer-b").get("/funds"))


def test_create_fund_with_ids_and_a_fund_type(world, api):
    funds.create_fund_type(world.user("admin"), "GIFT", "Gifts")
    db.session.commit()
    resp = api("admin").post("/funds", json={"code": "TOP", "name": "Top", "ledger": world.gen.id,
                                             "type": "summary", "fund_type": "gift", "status": "inactive"})
    assert resp.status_code == 201, resp.get_json()
    top = resp.get_json()
    assert (top["type"], top["fund_type"], top["status"], top["parent"]) == ("summary", "GIFT", "inactive", None)
    resp = api("admin").post("/funds", json={"code": "UNDER", "name": "Under", "ledger": world.gen.id,
                                             "parent": top["id"]})
    assert resp.status_code == 201, resp.get_json()
    assert (resp.get_json()["parent"], resp.get_json()["parent_id"]) == ("TOP", top["id"])


def test_numeric_codes_are_codes_not_ids(world, api):
    """A JSON string is always a code, even when it looks like a number."""
    client = api("admin")
    code = str(world.books.id)  # a summary fund whose code is another fund's id
    resp = client.post("/funds", json={"code": code, "name": "Numbered", "ledger": "GEN", "type": "summary"})
    assert resp.status_code == 201, resp.get_json()
    numbered = resp.get_json()["id"]
    resp = client.post("/funds", json={"code": "CHILD", "name": "Child", "ledger": "GEN", "parent": code})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["parent_id"] == numbered != world.books.id


def test_fund_in_restricted_ledger_inherits_its_availability(world, api):
    admin = world.user("admin")
    funds.create_ledger(admin, "GIFTS", "Gifts", world.period, "EUR", available_to_all=False, libraries=[world.lib_a])
    db.session.commit()
    resp = api("fundmgr").post("/funds", json={"code": "G1", "name": "G1", "ledger": "GIFTS"})
    assert resp.status_code == 201, resp.get_json()
    assert (resp.get_json()["available_to_all"], resp.get_json()["libraries"]) == (False, ["LIBA"])
    err = error_of(api("fundmgr").post("/funds", json={"code": "G2", "name": "G2", "ledger": "GIFTS",
                                                       "available_to_all": True}), 422, "rule_violation")
    assert "GIFTS" in err["message"]
    err = error_of(api("fundmgr").post("/funds", json={"code": "G3", "name": "G3", "ledger": "GIFTS",
                                                       "libraries": ["LIBB"]}), 422, "rule_violation")
    assert "LIBB" in err["message"]


def test_library_fund_manager_creates_funds_in_own_ledger_only(world, api):
    client = api("fundmgr-a")
    resp = client.post("/funds", json={"code": "A-NEW", "name": "A new", "ledger": "LEDA"})
    assert resp.status_code == 201, resp.get_json()
    assert (resp.get_json()["owner"], resp.get_json()["available_to_all"]) == ("LIBA", False)
    error_of(client.post("/funds", json={"code": "X1", "name": "x", "ledger": "GEN"}), 403, "forbidden")
    error_of(client.post("/funds", json={"code": "X2", "name": "x", "ledger": "LEDB"}), 404, "not_found")
    error_of(client.post("/funds", json={"code": "X3", "name": "x", "ledger": world.ledger_b.id}), 404, "not_found")
    error_of(client.post("/funds", json={"code": "X4", "name": "x", "ledger": "LEDA", "libraries": ["LIBA"]}),
             400, "invalid")
    assert fund_codes(api("admin").get("/funds")) == ["A-BKS", "A-NEW", "B-BKS", "BOOKS", "SHARED"]


def test_ambiguous_ledger_code_needs_the_fiscal_period(world, api):
    admin = world.user("admin")
    fy27 = funds.create_fiscal_period(admin, "FY2027", "2027", date(2027, 1, 1), date(2027, 12, 31))
    funds.create_ledger(admin, "GEN", "General 2027", fy27, "EUR")
    db.session.commit()
    client = api("admin")
    err = error_of(client.post("/funds", json={"code": "F", "name": "F", "ledger": "GEN"}), 400, "invalid")
    assert err["field"] == "ledger" and "fiscal_period" in err["message"]
    resp = client.post("/funds", json={"code": "F", "name": "F", "ledger": "GEN", "fiscal_period": "FY2027"})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["fiscal_period"] == "FY2027"
    # the same code in another period is fine; twice in one period is not
    assert client.post("/funds", json={"code": "F", "name": "F", "ledger": world.gen.id}).status_code == 201
    err = error_of(client.post("/funds", json={"code": "F", "name": "F", "ledger": world.gen.id}), 409, "duplicate")
    assert "FY2026" in err["message"]
    error_of(client.post("/funds", json={"code": "G", "name": "G", "ledger": world.gen.id,
                                         "fiscal_period": "FY2027"}), 400, "invalid")
    assert fund_codes(client.get("/funds?fiscal_period=FY2027")) == ["F"]


FUND_ERRORS = [
    ({"code": "SHARED"}, 409, "duplicate", "code"),
    ({"parent": "SHARED"}, 422, "rule_violation", "parent"),  # an allocated fund has no children
    ({"parent": "A-BKS"}, 422, "rule_violation", "parent"),   # another ledger's fund
    ({"parent": "NOPE"}, 404, "not_found", None),
    ({"parent": 999999}, 404, "not_found", None),
    ({"ledger": "NOPE"}, 404, "not_found", None),
    ({"ledger": 0}, 400, "invalid", "ledger"),
    ({"ledger": True}, 400, "invalid", "ledger"),
    ({"ledger": None}, 400, "invalid", "ledger"),
    ({"fund_type": "NOPE"}, 400, "invalid", "fund_type"),
    ({"type": "big"}, 400, "invalid", "type"),
    ({"overencumbrance_limit_percent": 10}, 400, "invalid", "overencumbrance_limit_percent"),
    ({"overencumbrance_limit_percent": "10.555"}, 400, "invalid", "overencumbrance_limit_percent"),
    ({"overencumbrance_limit_percent": "1001"}, 400, "invalid", "overencumbrance_limit_percent"),
    ({"overexpenditure_limit": 12.5}, 400, "invalid", "overexpenditure_limit"),
    ({"overexpenditure_limit": "1.234"}, 400, "invalid", "overexpenditure_limit"),
    ({"overexpenditure_limit": "-1"}, 400, "invalid", "overexpenditure_limit"),
    ({"overexpenditure_limit": "1e3"}, 400, "invalid", "overexpenditure_limit"),
    ({"overexpenditure_limit": "999999999999999"}, 400, "invalid", "overexpenditure_limit"),
    ({"overexpenditure_allowed": 1}, 400, "invalid", "overexpenditure_allowed"),
    ({"name": ""}, 400, "invalid", "name"),
    ({"name": "x" * 201}, 400, "invalid", "name"),
    ({"external_id": "x" * 101}, 400, "invalid", "external_id"),
    ({"libraries": ["NOPE"]}, 400, "invalid", "libraries"),
    ({"balances": {}}, 400, "invalid", "balances"),
]


def test_create_fund_errors(world, api):
    client = api("admin")

    def check(change, status, code, field):
        err = error_of(client.post("/funds", json={**NEW, **change}), status, code)
        if field:
            assert err["field"] == field, err
        assert fund_codes(client.get("/funds")) == ["A-BKS", "B-BKS", "BOOKS", "SHARED"]
    each_case(FUND_ERRORS, check)


def test_create_fund_missing_field(world, api):
    def check(missing):
        body = {"code": "NEW", "name": "New", "ledger": "GEN"}
        del body[missing]
        err = error_of(api("admin").post("/funds", json=body), 400, "invalid")
        assert err["field"] == missing and f'"{missing}"' in err["message"]
    each_case([("code",), ("name",), ("ledger",)], check)


def test_impossible_ids_and_codes_are_not_found(world, api):
    """Ids beyond the INTEGER range and digit-like codes must give 404/400, never a server error."""
    client = api("admin")
    for path in ("/funds/99999999999999999999", "/funds/2147483648", "/funds/0",
                 "/funds/99999999999999999999/transactions", "/funds/%C2%B2", "/funds?fiscal_period=%C2%B2",
                 "/funds?fiscal_period=99999999999999999999", f"/funds?fiscal_period={world.period.id}"):
        error_of(client.get(path), 404, "not_found")
    error_of(client.post("/funds/99999999999999999999/transactions", json={"type": "allocation", "amount": "1.00"}),
             404, "not_found")
    for change in ({"ledger": 99999999999999999999}, {"parent": 2**31}, {"fiscal_period": "²"},
                   {"fiscal_period": "99999999999999999999"}):
        error_of(client.post("/funds", json={**NEW, **change}), 404, "not_found")
    error_of(client.post("/ledgers", json={"code": "N", "name": "N", "fiscal_period": "FY2026", "currency": "EUR",
                                           "owner": "99999999999999999999"}), 400, "invalid")
    error_of(client.post(f"/funds/{world.shared.id}/transactions",
                         json={"type": "transfer", "amount": "1.00", "target_fund": 2**63}), 404, "not_found")
    for query in ("page=99999999999999999999", "page=%C2%B2", "per_page=%C2%B2"):
        error_of(client.get(f"/funds/{world.shared.id}/transactions?{query}"), 400, "invalid")


# -- one fund: ETag, PATCH, search ---------------------------------------------------------------

def test_get_fund_has_an_etag_that_follows_its_money(world, api):
    viewer = api("viewer-a")
    got = viewer.get(f"/funds/{world.shared.id}")
    tag = got.headers["ETag"]
    assert viewer.get(f"/funds/{world.shared.id}", headers={"If-None-Match": tag}).status_code == 304
    funds.allocate(world.user("admin"), world.shared, Decimal("5.00"))
    db.session.commit()
    assert viewer.get(f"/funds/{world.shared.id}").headers["ETag"] != tag


def test_patch_fund_changes_only_the_fields_sent(world, api):
    manager = api("fundmgr")
    path = f"/funds/{world.shared.id}"
    error_of(manager.patch(path, json={"notes": "x"}), 428, "precondition_required")
    tag = manager.etag(path)
    resp = manager.patch(path, json={"name": "Shared", "overexpenditure_allowed": True,
                                     "overexpenditure_limit": "50", "overencumbrance_limit_percent": "12.5"},
                         headers={"If-Match": tag})
    assert resp.status_code == 200, resp.get_json()
    body = conforms(resp.get_json(), "Fund")
    assert (body["name"], body["overexpenditure_limit"], body["overencumbrance_limit_percent"]) == \
        ("Shared", "50.00", "12.50")
    assert (body["parent"], body["external_id"], body["ledger"], body["balances"]) == \
        ("BOOKS", "EXT-1", "GEN", THOUSAND)
    assert resp.headers["ETag"] == manager.etag(path)
    error_of(manager.patch(path, json={"notes": "late"}, headers={"If-Match": tag}), 412, "precondition_failed")
    # Out from under its parent, then available to library B only.
    resp = manager.change("patch", path, {"parent": None, "libraries": ["LIBB"]})
    assert resp.status_code == 200, resp.get_json()
    assert (resp.get_json()["parent"], resp.get_json()["available_to_all"], resp.get_json()["libraries"]) == \
        (None, False, ["LIBB"])
    error_of(api("viewer-a").get(path), 404, "not_found")
    assert manager.change("patch", path, {"parent": "BOOKS"}).get_json()["parent_id"] == world.books.id


def test_patch_fund_scope_and_errors(world, api):
    manager_a = api("fundmgr-a")
    assert manager_a.change("patch", f"/funds/{world.fund_a.id}", {"notes": "ours"}).get_json()["notes"] == "ours"
    # Shared by the institution (visible to A, not theirs), and library B's (not in sight).
    error_of(manager_a.change("patch", f"/funds/{world.shared.id}", {"notes": "x"}), 403, "forbidden")
    error_of(manager_a.patch(f"/funds/{world.fund_b.id}", json={"notes": "x"}, headers={"If-Match": "*"}),
             404, "not_found")
    admin = api("admin")
    path = f"/funds/{world.shared.id}"
    cases = [
        ({"type": "summary"}, 422, "rule_violation", "type"),          # it holds money
        ({"parent": "SHARED"}, 422, "rule_violation", "parent"),       # an allocated fund
        ({"ledger": "LEDA"}, 422, "rule_violation", "ledger"),         # another availability
        ({"parent": "NOPE"}, 404, "not_found", None),
        ({"fund_type": "NOPE"}, 400, "invalid", "fund_type"),
        ({"overencumbrance_limit_percent": "2000"}, 400, "invalid", "overencumbrance_limit_percent"),
        ({"overexpenditure_limit": 5}, 400, "invalid", "overexpenditure_limit"),
        ({"code": "NEW"}, 400, "invalid", "code"),
        ({"status": "closed"}, 400, "invalid", "status"),
    ]

    def check(change, status, code, field):
        err = error_of(admin.change("patch", path, change), status, code)
        if field:
            assert err["field"] == field
        assert admin.get(path).get_json()["name"] == "Shared books"
    each_case(cases, check)
    error_of(admin.patch("/funds/999999", json={"notes": "x"}, headers={"If-Match": "*"}), 404, "not_found")


def test_fund_search(world, api):
    assert fund_codes(api("viewer").get("/funds?q=bks")) == ["A-BKS", "B-BKS"]
    assert fund_codes(api("viewer-a").get("/funds?q=bks")) == ["A-BKS"]          # in their sight only
    assert fund_codes(api("viewer").get("/funds?q=ext-1")) == ["SHARED"]         # the external id
    assert fund_codes(api("viewer").get("/funds?q=books&fiscal_period=FY2026")) == ["A-BKS", "B-BKS", "BOOKS",
                                                                                     "SHARED"]
    assert fund_codes(api("viewer").get("/funds?q=nothing-like-it")) == []
