"""The organisation through the API: users and their roles, libraries, the institution, fund types
and the ERP's fiscal period numbers — institution-wide administrators only, the pages' services."""
from __future__ import annotations

from app.auth.models import Role, User
from app.auth.services import password_matches
from app.extensions import db
from tests.api.helpers import PREFIX, conforms, error_of

NEW_PASSWORD = "a-long-enough-password"


def test_reads_are_an_institution_admins(world, api, admin_a):
    for path in ("/users", f"/users/{world.users['viewer']}", "/libraries", "/libraries/LIBA", "/institution",
                 "/fund-types", "/erp/fiscal-periods"):
        assert api("admin").get(path).status_code == 200, path
        error_of(api("admin-a").get(path), 403, "forbidden")
        error_of(api("fundmgr").get(path), 403, "forbidden")


# -- users and roles ---------------------------------------------------------------------------

def test_create_read_and_patch_a_user(world, api):
    admin = api("admin")
    resp = admin.post("/users", json={"username": "newbie", "password": NEW_PASSWORD, "full_name": "New Bie"})
    assert resp.status_code == 201, resp.get_json()
    user = conforms(resp.get_json(), "User")
    assert (user["username"], user["full_name"], user["email"], user["active"], user["roles"]) == \
        ("newbie", "New Bie", "", True, [])
    assert resp.headers["Location"].endswith(f"{PREFIX}/users/{user['id']}")
    assert "newbie" in [u["username"] for u in conforms(admin.get("/users").get_json(), "UserList")["items"]]

    path = f"/users/{user['id']}"
    got = admin.get(path)
    assert conforms(got.get_json(), "User") == user and admin.get(path, headers={
        "If-None-Match": got.headers["ETag"]}).status_code == 304
    error_of(admin.patch(path, json={"email": "n@example.org"}), 428, "precondition_required")
    resp = admin.change("patch", path, {"email": "n@example.org", "password": "another-long-password"})
    assert resp.status_code == 200, resp.get_json()
    assert (resp.get_json()["email"], resp.get_json()["full_name"]) == ("n@example.org", "New Bie")
    assert password_matches(db.session.get(User, user["id"]), "another-long-password")
    error_of(admin.patch(path, json={"active": False}, headers={"If-Match": got.headers["ETag"]}),
             412, "precondition_failed")
    assert admin.change("patch", path, {"active": False}).get_json()["active"] is False


def test_user_errors(world, api):
    admin = api("admin")
    error_of(admin.post("/users", json={"username": "viewer", "password": NEW_PASSWORD}), 409, "duplicate")
    assert error_of(admin.post("/users", json={"username": "x y", "password": NEW_PASSWORD}), 400,
                    "invalid")["field"] == "username"
    assert error_of(admin.post("/users", json={"username": "short", "password": "short"}), 400,
                    "invalid")["field"] == "password"
    assert error_of(admin.post("/users", json={"username": "nopass"}), 400, "invalid")["field"] == "password"
    error_of(admin.get("/users/999999"), 404, "not_found")
    error_of(admin.patch("/users/999999", json={"active": False}, headers={"If-Match": "*"}), 404, "not_found")
    me = f"/users/{world.users['admin']}"
    error_of(admin.change("patch", me, {"active": False}), 400, "invalid")   # not yourself
    assert error_of(admin.change("patch", me, {"username": "x"}), 400, "invalid")["field"] == "username"
    error_of(admin.change("patch", me, {}), 400, "invalid")
    assert error_of(admin.change("patch", me, {"password": "short"}), 400, "invalid")["field"] == "password"
    assert admin.get(me).get_json()["active"] is True


def test_add_and_remove_roles(world, api):
    admin = api("admin")
    path = f"/users/{world.users['viewer']}"
    resp = admin.post(path + "/roles", json={"role": "fund_manager", "library": "LIBA"})
    assert resp.status_code == 201, resp.get_json()
    roles = conforms(resp.get_json(), "User")["roles"]
    assert [(r["role"], r["library"]) for r in roles] == [("viewer", None), ("fund_manager", "LIBA")]
    assert resp.headers["Location"].endswith(PREFIX + path)
    error_of(admin.post(path + "/roles", json={"role": "fund_manager", "library": "LIBA"}), 409, "duplicate")
    assert error_of(admin.post(path + "/roles", json={"role": "boss"}), 400, "invalid")["field"] == "role"
    assert error_of(admin.post(path + "/roles", json={"role": "viewer", "library": "NOPE"}), 400,
                    "invalid")["field"] == "library"
    error_of(admin.post("/users/999999/roles", json={"role": "viewer"}), 404, "not_found")
    # The new role counts at once: the viewer may now change library A's fund.
    assert api("viewer").change("patch", f"/funds/{world.fund_a.id}", {"notes": "mine"}).status_code == 200

    added = roles[1]["id"]
    error_of(admin.delete(f"{path}/roles/{added}"), 428, "precondition_required")
    resp = admin.delete(f"{path}/roles/{added}", headers={"If-Match": admin.etag(path)})   # the user's ETag
    assert resp.status_code == 204 and resp.get_data() == b""
    assert [r["role"] for r in admin.get(path).get_json()["roles"]] == ["viewer"]
    error_of(admin.delete(f"{path}/roles/{added}", headers={"If-Match": "*"}), 404, "not_found")
    error_of(admin.delete(f"{path}/roles/{added}", headers={"If-Match": '"stale"'}), 412, "precondition_failed")
    error_of(api("fundmgr").delete(f"{path}/roles/{added}", headers={"If-Match": "*"}),
             403, "forbidden")


def test_a_library_scoped_admin_changes_nothing(world, api, admin_a):
    lib_admin = api("admin-a")
    error_of(lib_admin.post("/users", json={"username": "x", "password": NEW_PASSWORD}), 403, "forbidden")
    error_of(lib_admin.post(f"/users/{world.users['viewer']}/roles", json={"role": "admin"}), 403, "forbidden")
    error_of(lib_admin.patch("/institution", json={"email": "x@y.z"}, headers={"If-Match": "*"}), 403, "forbidden")
    assert db.session.scalar(db.select(User).filter_by(username="x")) is None
    assert [a.role for a in world.user("viewer").assignments] == [Role.VIEWER.value]


# -- libraries, the institution, fund types ---------------------------------------------------------

def test_libraries(world, api):
    admin = api("admin")
    resp = admin.post("/libraries", json={"code": "libc", "name": "Library C"})
    assert resp.status_code == 201, resp.get_json()
    assert conforms(resp.get_json(), "Library")["code"] == "LIBC"
    assert resp.headers["Location"].endswith(PREFIX + "/libraries/LIBC")
    assert [lib["code"] for lib in conforms(admin.get("/libraries").get_json(), "LibraryList")["items"]] == \
        ["LIBA", "LIBB", "LIBC"]
    error_of(admin.post("/libraries", json={"code": "LIBA", "name": "Again"}), 409, "duplicate")
    assert error_of(admin.post("/libraries", json={"code": "a b", "name": "x"}), 400, "invalid")["field"] == "code"
    error_of(admin.patch("/libraries/LIBC", json={"address": "1 Main St"}), 428, "precondition_required")
    resp = admin.change("patch", "/libraries/LIBC", {"address": "1 Main St\r\nTown"})
    assert conforms(resp.get_json(), "Library")["address"] == "1 Main St\nTown"
    assert error_of(admin.change("patch", "/libraries/LIBC", {"name": "x"}), 400, "invalid")["field"] == "name"
    error_of(admin.patch("/libraries/NOPE", json={"address": ""}, headers={"If-Match": "*"}), 404, "not_found")
    error_of(admin.get("/libraries/NOPE"), 404, "not_found")
    error_of(admin.patch("/libraries/LIBC", json={"address": "x"}, headers={"If-Match": '"old"'}),
             412, "precondition_failed")


def test_institution(world, api):
    admin = api("admin")
    got = conforms(admin.get("/institution").get_json(), "Institution")
    resp = admin.change("patch", "/institution", {"email": "acq@library.example", "edi_id": "1234567",
                                                  "edi_id_qualifier": "31B", "packaging_at": "5:30"})
    assert resp.status_code == 200, resp.get_json()
    body = conforms(resp.get_json(), "Institution")
    assert (body["email"], body["edi_id"], body["packaging_at"], body["renewals_at"], body["name"]) == \
        ("acq@library.example", "1234567", "05:30", got["renewals_at"], got["name"])
    for change, field in (({"email": "no address"}, "email"), ({"edi_id": "9", "edi_id_qualifier": ""}, "edi_id_qualifier"),
                          ({"digest_at": "25:00"}, "digest_at"), ({"currency": "USD"}, "currency")):
        assert error_of(admin.change("patch", "/institution", change), 400, "invalid")["field"] == field
    error_of(admin.patch("/institution", json={"email": ""}), 428, "precondition_required")
    error_of(admin.patch("/institution", json={"email": ""}, headers={"If-Match": '"old"'}), 412,
             "precondition_failed")
    assert admin.get("/institution").get_json() == body


def test_institution_not_set_up(world, api):
    from app.org.models import Institution
    admin = api("admin")
    db.session.execute(db.delete(Institution))
    db.session.commit()
    error_of(admin.get("/institution"), 404, "not_found")
    error_of(admin.patch("/institution", json={"email": ""}, headers={"If-Match": "*"}), 404, "not_found")


def test_fund_types(world, api):
    admin = api("admin")
    resp = admin.post("/fund-types", json={"code": "mono", "name": "Monographs"})
    assert resp.status_code == 201 and conforms(resp.get_json(), "FundType") == {"code": "MONO", "name": "Monographs"}
    assert conforms(admin.get("/fund-types").get_json(), "FundTypeList")["items"] == [resp.get_json()]
    error_of(admin.post("/fund-types", json={"code": "MONO", "name": "Again"}), 409, "duplicate")
    assert error_of(admin.post("/fund-types", json={"code": "MONO"}), 400, "invalid")["field"] == "name"
    # A fund takes it by code.
    assert api("fundmgr").change("patch", f"/funds/{world.shared.id}", {"fund_type": "MONO"}).get_json()[
        "fund_type"] == "MONO"


# -- the ERP's fiscal period numbers ---------------------------------------------------------------

def test_erp_fiscal_period_numbers(world, api):
    admin = api("admin")
    assert admin.post("/fiscal-periods", json={"code": "FY2027", "name": "2027", "start_date": "2027-01-01",
                                               "end_date": "2027-12-31"}).status_code == 201
    got = conforms(admin.get("/erp/fiscal-periods").get_json(), "ErpFiscalPeriods")
    assert [(p["fiscal_period"], p["erp_id"]) for p in got["items"]] == [("FY2027", None), ("FY2026", None)]
    error_of(admin.patch("/erp/fiscal-periods", json={"periods": []}), 428, "precondition_required")
    path = "/erp/fiscal-periods"
    resp = admin.change("patch", path, {"periods": [{"fiscal_period": "FY2026", "erp_id": 26},
                                                    {"fiscal_period": "FY2027", "erp_id": 27}]})
    assert resp.status_code == 200, resp.get_json()
    numbers = lambda body: [(p["fiscal_period"], p["erp_id"]) for p in conforms(body, "ErpFiscalPeriods")["items"]]  # noqa: E731
    assert numbers(resp.get_json()) == [("FY2027", 27), ("FY2026", 26)]
    # Two periods swap their numbers in one go; one left out keeps its number.
    swap = admin.change("patch", path, {"periods": [{"fiscal_period": "FY2026", "erp_id": 27},
                                                    {"fiscal_period": "FY2027", "erp_id": 26}]})
    assert numbers(swap.get_json()) == [("FY2027", 26), ("FY2026", 27)]
    err = error_of(admin.change("patch", path, {"periods": [{"fiscal_period": "FY2026", "erp_id": 26}]}),
                   422, "rule_violation")
    assert "already stands for FY2027" in err["message"]
    error_of(admin.change("patch", path, {"periods": [{"fiscal_period": "FY2026", "erp_id": 1_000_000}]}),
             422, "rule_violation")
    assert error_of(admin.change("patch", path, {"periods": [{"fiscal_period": "FY1999", "erp_id": 1}]}),
                    400, "invalid")["field"] == "periods"
    error_of(admin.change("patch", path, {"periods": [{"fiscal_period": "FY2026", "erp_id": "1"}]}), 400, "invalid")
    error_of(admin.patch(path, json={"periods": []}, headers={"If-Match": resp.headers["ETag"]}),
             412, "precondition_failed")
    cleared = admin.change("patch", path, {"periods": [{"fiscal_period": "FY2027", "erp_id": None}]})
    assert numbers(cleared.get_json()) == [("FY2027", None), ("FY2026", 27)]


def test_creating_with_an_idempotency_key_replays(world, api):
    admin = api("admin")
    for path, body in (("/users", {"username": "once", "password": NEW_PASSWORD}),
                       ("/libraries", {"code": "ONCE", "name": "Once"}),
                       ("/fund-types", {"code": "ONCE", "name": "Once"}),
                       (f"/users/{world.users['viewer']}/roles", {"role": "purchasing_operator"})):
        first = admin.post(path, json=body, headers={"Idempotency-Key": "k-" + path})
        assert first.status_code == 201, (path, first.get_json())
        again = admin.post(path, json=body, headers={"Idempotency-Key": "k-" + path})
        assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true", path
        assert again.get_json() == first.get_json()
        other = {**body, "name" if "name" in body else "role": "Other" if "name" in body else "viewer"}
        error_of(admin.post(path, json=other, headers={"Idempotency-Key": "k-" + path}), 422,
                 "idempotency_key_reused")
    error_of(admin.post("/users/999999999999999999999/roles", json={"role": "viewer"}), 404, "not_found")
    error_of(admin.get("/users/999999999999999999999"), 404, "not_found")
