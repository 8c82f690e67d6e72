"""SEC tests: route registry and role matrix, library scope, CSRF, sessions, passwords, headers."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from flask import Blueprint, Flask

from app.auth.models import Role, User
from app.auth.permissions import unregistered_endpoints
from app.extensions import db
from app.funds.models import Fund, FundTransaction
from app.idempotency import new_form_token
from tests.helpers import PASSWORD, login
from tests.route_matrix import MATRIX, PUBLIC

API_PREFIX = "api."


def _url_args(world, endpoint):
    """Concrete URL values for each route, pointing at objects every institution user may see."""
    from tests.route_matrix import domain_url_args
    return {"fund_id": world.shared.id, "period_id": world.period.id, "ledger_id": world.gen.id,
            "user_id": world.users["viewer"], "assignment_id": 1, **domain_url_args(world)}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith(API_PREFIX):
            continue
        yield rule


def test_SEC01_every_route_declares_roles(app):
    assert unregistered_endpoints(app) == []


def test_SEC01_a_route_without_roles_is_caught():
    bare = Flask("bare")
    bp = Blueprint("x", __name__)
    bp.add_url_rule("/naked", "naked", lambda: "hi")
    bare.register_blueprint(bp)
    assert unregistered_endpoints(bare) == ["x.naked"]


def test_SEC01_every_route_is_in_the_matrix(app):
    endpoints = {r.endpoint for r in _routes(app)}
    assert endpoints == set(MATRIX), "update tests/route_matrix.py for new or removed routes"
    for endpoint, expected in MATRIX.items():
        view = app.view_functions[endpoint]
        if expected == PUBLIC:
            assert getattr(view, "is_public", False), endpoint
        else:
            assert view.allowed_roles == expected, endpoint


ROLE_USERS = {Role.ADMIN: "admin", Role.FUND_MANAGER: "fundmgr", Role.VIEWER: "viewer",
              Role.PURCHASING_OPERATOR: "buyer", Role.INVOICE_OPERATOR: "invoicer",
              Role.INVOICE_OPERATOR_EXTENDED: "invoicer-ext", Role.INVOICE_MANAGER: "invmanager"}


@pytest.mark.parametrize("role", list(Role))
def test_SEC02_role_matrix_for_every_get_route(app, world, role):
    client = login(app.test_client(), ROLE_USERS[role])
    url_args = _url_args(world, None)
    for rule in _routes(app):
        if "GET" not in rule.methods or rule.endpoint == "auth.login":
            continue
        url = rule.build(url_args, append_unknown=False)[1]
        expected = MATRIX[rule.endpoint]
        for hx in (False, True):
            headers = {"HX-Request": "true"} if hx else {}
            status = client.get(url, headers=headers).status_code
            if expected == PUBLIC or role in expected:
                assert status in (200, 204, 302), (role, url, hx, status)
            else:
                assert status == 403, (role, url, hx, status)


def test_SEC02_post_routes_refused_for_roles_without_them(app, world):
    client = login(app.test_client(), "viewer")
    for url in (f"/funds/{world.shared.id}/allocate", f"/funds/{world.shared.id}/transfer", "/funds/new",
                "/ledgers/new", "/fiscal-periods/new", "/admin/users/new", "/admin/libraries"):
        assert client.post(url, data={"amount": "1.00"}).status_code == 403, url
    assert _transaction_count() == 3


def test_SEC02_anonymous_is_sent_to_login(app, world):
    client = app.test_client()
    resp = client.get(f"/funds/{world.shared.id}")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    resp = client.get("/funds/", headers={"HX-Request": "true"})
    assert resp.status_code == 401 and "/login" in resp.headers["HX-Redirect"]
    assert client.post(f"/funds/{world.shared.id}/allocate", data={"amount": "5"}).status_code == 302
    assert client.get("/health").status_code == 200


def _transaction_count():
    return db.session.scalar(db.select(db.func.count()).select_from(FundTransaction))


def test_SEC04_library_scope_hides_other_librarys_funds(app, world):
    client = login(app.test_client(), "viewer-a")
    b = world.fund_b.id
    for url, headers in ((f"/funds/{b}", {}), (f"/funds/{b}", {"HX-Request": "true", "HX-Target": "transactions"}),
                         (f"/funds/{b}?page=2", {"HX-Request": "true"}), (f"/funds/{b}/form-closed", {"HX-Request": "true"})):
        resp = client.get(url, headers=headers)
        assert resp.status_code == 404, url
        assert b"B-BKS" not in resp.data
    page = client.get("/funds/?period=FY2026&expand=all").data
    assert b"A-BKS" in page and b"SHARED" in page and b"B-BKS" not in page and b"LEDB" not in page
    assert b"B-BKS" not in client.get("/funds/search?q=BKS").data
    assert b"LEDB" not in client.get("/ledgers/?period=FY2026").data
    # guessing every id gives nothing of B's
    ids = db.session.scalars(db.select(Fund.id)).all()
    for fund_id in ids:
        resp = client.get(f"/funds/{fund_id}")
        assert (resp.status_code == 200) == (fund_id in (world.shared.id, world.books.id, world.fund_a.id))


def test_SEC04_fund_manager_of_a_cannot_move_bs_or_institution_money(app, world):
    client = login(app.test_client(), "fundmgr-a")
    assert client.post(f"/funds/{world.fund_b.id}/allocate", data={"amount": "5.00"}).status_code == 404
    assert client.post(f"/funds/{world.fund_b.id}/allocate", data={"amount": "5.00"},
                       headers={"HX-Request": "true"}).status_code == 404
    assert client.post(f"/funds/{world.shared.id}/allocate", data={"amount": "5.00"}).status_code == 403
    assert client.post(f"/funds/{world.fund_a.id}/transfer",
                       data={"amount": "5.00", "target": str(world.fund_b.id), "form_token": new_form_token()}).status_code in (404, 422)
    assert _transaction_count() == 3
    assert client.post(f"/funds/{world.fund_a.id}/allocate",
                       data={"amount": "5.00", "form_token": new_form_token()}).status_code == 302
    assert _transaction_count() == 4


def _form_token(client):
    page = client.get("/login").data.decode()
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_SEC05_csrf_required_on_state_changes(make_app, backend):
    app = make_app(backend, world=True, WTF_CSRF_ENABLED=True)
    with app.app_context():
        from testkit.world import load_world
        world = load_world()
        client = app.test_client()
        token = _form_token(client)
        assert client.post("/login", data={"username": "fundmgr", "password": PASSWORD}).status_code == 400
        assert client.post("/login", data={"username": "fundmgr", "password": PASSWORD,
                                           "csrf_token": token}).status_code == 302
        url = f"/funds/{world.shared.id}/allocate"
        assert client.post(url, data={"amount": "10.00"}).status_code == 400
        assert client.post(url, data={"amount": "10.00"}, headers={"HX-Request": "true"}).status_code == 400
        other = app.test_client()
        other_token = _form_token(other)
        assert client.post(url, data={"amount": "10.00"}, headers={"X-CSRFToken": other_token}).status_code == 400
        assert _transaction_count() == 3
        dash = client.get("/funds/").data.decode()
        header_token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', dash).group(1)
        resp = client.post(url, data={"amount": "10.00", "form_token": new_form_token()},
                           headers={"HX-Request": "true", "X-CSRFToken": header_token})
        assert resp.status_code == 200
        assert _transaction_count() == 4


def test_SEC06_cookie_flags_and_session_invalidation(app, world):
    client = app.test_client()
    resp = client.post("/login", data={"username": "fundmgr", "password": PASSWORD})
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert client.get("/funds/").status_code == 200
    from app.auth.services import add_role
    add_role(None, world.user("fundmgr"), Role.VIEWER, None)
    db.session.commit()
    resp = client.get("/funds/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"], "a role change logs the user out"
    login(client, "fundmgr")
    client.post("/logout")
    assert client.get("/funds/").status_code == 302


def test_SEC07_passwords_hashed_with_argon2id_and_logins_throttled(app, world):
    assert world.user("viewer").password_hash.startswith("$argon2id$")
    client = app.test_client()
    unknown = client.post("/login", data={"username": "nobody", "password": "x" * 12})
    wrong = client.post("/login", data={"username": "viewer", "password": "x" * 12})
    assert unknown.status_code == wrong.status_code == 401
    assert b"Unknown user name or wrong password" in unknown.data and b"Unknown user name or wrong password" in wrong.data
    for _ in range(4):
        client.post("/login", data={"username": "viewer", "password": "wrong password!"})
    resp = client.post("/login", data={"username": "viewer", "password": PASSWORD})
    assert resp.status_code == 429 and b"Too many failed attempts" in resp.data
    assert client.post("/login", data={"username": "fundmgr", "password": PASSWORD}).status_code == 302


def test_SEC07_password_policy(app, world):
    from app.auth.services import create_user
    from app.errors import InvalidInput
    with pytest.raises(InvalidInput, match="at least 12"):
        create_user(None, "shorty", "elevenchars")
    user = create_user(None, "unicode", "pässwörd-ünïcødé-🔑")
    db.session.commit()
    assert login(app.test_client(), "unicode", "pässwörd-ünïcødé-🔑")
    assert user.password_hash.startswith("$argon2id$")


def test_SEC14_escaping_and_headers(app, world):
    from app.funds import services as funds
    fund = db.session.get(Fund, world.shared.id)
    funds.update_fund(world.user("admin"), fund, funds.FundFields(name="<img src=x onerror=alert(1)>", parent=world.books,
                                                            notes="{{7*7}}"))
    db.session.commit()
    client = login(app.test_client(), "viewer")
    for url in (f"/funds/{fund.id}", "/funds/?expand=all"):
        resp = client.get(url)
        assert b"<img src=x" not in resp.data and b"&lt;img src=x" in resp.data
        assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert b"{{7*7}}" in client.get(f"/funds/{fund.id}").data


def test_open_redirect_refused_after_login(app, world):
    resp = app.test_client().post("/login?next=//evil.example/x", data={"username": "viewer", "password": PASSWORD})
    assert resp.headers["Location"] == "/"   # the user's home


def test_inactive_user_cannot_log_in(app, world):
    user = world.user("viewer")
    user.active = False
    db.session.commit()
    assert app.test_client().post("/login", data={"username": "viewer", "password": PASSWORD}).status_code == 401


def test_user_without_roles_sees_nothing(app, world):
    from app.auth.services import create_user
    create_user(None, "norole", PASSWORD)
    db.session.commit()
    client = login(app.test_client(), "norole")
    assert client.get("/funds/").status_code == 403
    assert Decimal("1000.00") == db.session.get(Fund, world.shared.id).allocated
    assert db.session.scalar(db.select(User).filter_by(username="norole")).assignments == []


# -- H12-05: the scope dimension of the matrix ---------------------------------------------------------

def _row_counts() -> dict[str, int]:
    return {t.name: db.session.scalar(db.select(db.func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def test_H12_05_institution_wide_routes_refuse_library_scoped_holders(make_app):
    """Every institution-wide route (pages and API) refuses a library-scoped holder of each role it
    allows, with 403 and no change, while the institution-wide holder of the same role reaches it;
    reading institution-wide data stays open to both. Only these routes get the library-scoped pass
    (SQLite only: the rule does not depend on the database)."""
    from app.auth.services import create_user, issue_api_token
    from testkit.world import load_world
    from tests.route_matrix import API_INSTITUTION_WIDE, API_MATRIX, API_READ, API_WRITE, INSTITUTION_WIDE

    app = make_app("sqlite", world=True)
    with app.app_context():
        world = load_world()
        url_args = _url_args(world, None)
        for role in Role:
            create_user(None, f"lib-{role.value}", PASSWORD, roles=[(role, world.lib_a)])
        db.session.commit()
        library_clients = {role: login(app.test_client(), f"lib-{role.value}") for role in Role}
        institution_clients = {role: login(app.test_client(), ROLE_USERS[role]) for role in Role}
        before = _row_counts()

        pages = [rule for rule in _routes(app) if rule.endpoint in INSTITUTION_WIDE]
        assert {rule.endpoint for rule in pages} == INSTITUTION_WIDE, "INSTITUTION_WIDE names a route that is gone"
        for rule in pages:
            url = rule.build(url_args, append_unknown=False)[1]
            for role in MATRIX[rule.endpoint]:
                for method in sorted(rule.methods & {"GET", "POST"}):
                    for headers in ({}, {"HX-Request": "true"}):
                        status = library_clients[role].open(url, method=method, headers=headers,
                                                            data={}).status_code
                        assert status == 403, (rule.endpoint, role, method, headers, status)
                if "GET" in rule.methods:
                    status = institution_clients[role].get(url).status_code
                    assert status in (200, 204, 302), (rule.endpoint, role, "institution", status)

        assert _row_counts() == before, "a refused request changed something"

        users = {role: db.session.scalar(db.select(User).filter_by(username=f"lib-{role.value}")) for role in Role}
        tokens = {role: {"Authorization": f"Bearer {issue_api_token(None, user)}"} for role, user in users.items()}
        db.session.commit()
        before = _row_counts()
        api_rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint in API_INSTITUTION_WIDE]
        assert {rule.endpoint for rule in api_rules} == API_INSTITUTION_WIDE
        client = app.test_client()
        for rule in api_rules:
            url = rule.build(url_args, append_unknown=False)[1]
            method = next(iter(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}))
            for role in API_MATRIX.get(rule.endpoint, API_WRITE):
                resp = client.open(url, method=method, headers=tokens[role], json={})
                assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden", \
                    (rule.endpoint, role, resp.status_code)
        for path in ("/api/v1/vendors", "/api/v1/currency-rates", "/api/v1/fiscal-periods", "/api/v1/settings"):
            for role in API_READ:
                assert client.get(path, headers=tokens[role]).status_code == 200, (path, role)
        assert _row_counts() == before, "a refused request changed something"

        marked = {endpoint for endpoint, view in app.view_functions.items() if getattr(view, "institution_wide", False)}
        assert marked <= INSTITUTION_WIDE | API_INSTITUTION_WIDE, "add the route to INSTITUTION_WIDE in the matrix"
