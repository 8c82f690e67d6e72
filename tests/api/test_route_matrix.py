"""The role x route matrix of the whole API, generic: every rule under /api/v1 in the app's url_map,
every method, every role.

Each route is called with the token of a user holding only that role (the world's institution-wide
user of it), path parameters naming nothing (999999 for a number, "NOPE" for a string) and a bogus
JSON body for writes:

- a role the route does not allow (tests/route_matrix.py: API_MATRIX, else API_READ for a read and
  API_WRITE for a write) gets 403 with the error shape (code forbidden);
- a role it allows never gets 403 (a 404, 400, 422 or 428 is fine: nothing it names exists) and
  never a server error;
- without a token every route answers 401 (code unauthorized);
- nothing changes in the database.

A route added to the app is checked here with no change; the statuses these calls get count for
the API status gate (tests/api/status_gate.py: 401 and 403 are reached here for every operation).
"""
from __future__ import annotations

import hashlib
import re

import pytest
from flask import Blueprint

from app.auth.models import Role
from app.auth.permissions import roles_required
from app.auth.services import issue_api_token
from app.extensions import db
from tests.api.helpers import PREFIX, error_of
from tests.route_matrix import API_MATRIX, API_READ, API_WRITE
from tests.route_matrix_roles import ALL

# The world's institution-wide user of each role, holding that role only (testkit/world.py).
ROLE_USERS = {Role.ADMIN: "admin", Role.FUND_MANAGER: "fundmgr", Role.VIEWER: "viewer",
              Role.PURCHASING_OPERATOR: "buyer", Role.INVOICE_OPERATOR: "invoicer",
              Role.INVOICE_OPERATOR_EXTENDED: "invoicer-ext", Role.INVOICE_MANAGER: "invmanager"}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
MISSING_NUMBER, MISSING_KEY = 999999, "NOPE"
BOGUS = {"__bogus__": ["not", "a", "field"]}


def api_routes(app, number=MISSING_NUMBER) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) of every API route and method, its path parameters naming nothing
    (a number parameter is ``number``)."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        converters = dict((name, kind) for kind, name in re.findall(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", rule.rule))
        values = {name: number if converters.get(name) in ("int", "float") else MISSING_KEY
                  for name in rule.arguments}
        url = rule.build(values, append_unknown=False)[1]
        routes += [(rule.endpoint, method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def allowed_roles(endpoint: str, method: str) -> frozenset:
    return API_MATRIX.get(endpoint, API_WRITE if method in WRITES else API_READ)


def database_state() -> dict[str, str]:
    """Each table's digest of all its rows."""
    state = {}
    for table in db.metadata.sorted_tables:
        digest = hashlib.sha256()
        for row in sorted(repr(tuple(row)) for row in db.session.execute(db.select(table)).all()):
            digest.update(row.encode())
        state[table.name] = digest.hexdigest()
    return state


def send(client, method: str, url: str, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    kwargs = {"json": BOGUS} if method in WRITES else {}
    return client.open(url, method=method, headers=headers, **kwargs)


def matrix_findings(app, world, matrix=allowed_roles) -> tuple[list[str], int]:
    """Every departure from the matrix (see the module's docstring) and the number of calls made."""
    tokens = {role: issue_api_token(None, world.user(name)) for role, name in ROLE_USERS.items()}
    db.session.commit()
    before = database_state()
    client, findings, calls = app.test_client(), [], 0
    for endpoint, method, url in api_routes(app):
        allowed = matrix(endpoint, method)
        for role, token in [(None, None), *tokens.items()]:
            calls += 1
            who = role.value if role else "no token"
            try:
                resp = send(client, method, url, token)
            except Exception as exc:  # noqa: BLE001 - a server error, raised through the test client
                findings.append(f"{method} {url} ({endpoint}) as {who}: raised {exc!r}")
                continue
            try:
                if role is None:
                    error_of(resp, 401, "unauthorized")
                elif role not in allowed:
                    error_of(resp, 403, "forbidden")
                else:
                    assert resp.status_code != 403 and resp.status_code < 500, (
                        resp.status_code, resp.get_data(as_text=True)[:300])
            except AssertionError as exc:
                findings.append(f"{method} {url} ({endpoint}) as {who}: {exc}")
    after = database_state()
    changed = sorted(name for name in before if after[name] != before[name])
    if changed:
        findings.append(f"the database changed: {', '.join(changed)}")
    return findings, calls


def test_every_api_route_follows_the_role_matrix(app, world):
    findings, calls = matrix_findings(app, world)
    assert not findings, "\n".join(findings)
    assert set(ROLE_USERS) == set(Role)
    assert calls >= 40 * (len(ROLE_USERS) + 1)


def test_every_api_route_is_called(app):
    """The routes come from the url_map: all of them, each method, once."""
    routes = api_routes(app)
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")]
    assert len(routes) == sum(len(r.methods - {"HEAD", "OPTIONS"}) for r in rules)
    assert ("api.get_fund", "GET", f"{PREFIX}/funds/{MISSING_NUMBER}") in routes
    assert ("api.get_vendor", "GET", f"{PREFIX}/vendors/{MISSING_KEY}") in routes


def test_an_id_past_what_the_database_holds_is_not_found(app, world):
    """2**63 in a number path parameter: 404 like any id that does not exist, never a server error
    (SQLite cannot even take it as a query parameter)."""
    token = issue_api_token(None, world.user("admin"))
    db.session.commit()
    client, huge = app.test_client(), 2 ** 63
    checked = 0
    for endpoint, method, url in api_routes(app, number=huge):
        if str(huge) in url:
            error_of(send(client, method, url, token), 404, "not_found")
            checked += 1
    assert checked >= 10


@pytest.mark.committing
def test_a_route_breaking_the_matrix_is_reported(make_app):
    """A write open to every role (the matrix wants money roles only), a write that fails for the
    roles it allows, and a read that changes the database and answers no 401 without a token: each is
    reported."""
    from testkit.world import load_world

    made = make_app("sqlite", world=True)
    extra = Blueprint("api_matrix_selftest", __name__)

    @extra.post(PREFIX + "/selftest-open/<int:id>")
    @roles_required(*ALL)
    def selftest_open(id):  # noqa: A002
        return {"id": id}

    @extra.post(PREFIX + "/selftest-boom/<code>")
    @roles_required(Role.ADMIN)
    def selftest_boom(code):
        raise RuntimeError("a bug")

    @extra.get(PREFIX + "/selftest-writes")
    @roles_required(*ALL)
    def selftest_writes():
        from app.org.models import Library
        db.session.add(Library(code="WRITTEN", name="Written by a read"))
        db.session.commit()
        return {}

    # The API blueprint's token auth guards only its own endpoints: these use a session instead of a
    # token, so the token is given here as the blueprint would (a user, or 401 for none).
    @extra.before_request
    def _token():
        from flask import g, request
        from flask_login import AnonymousUserMixin
        from app.auth.services import user_for_token
        token = request.headers.get("Authorization", "")[7:]
        g._login_user = (user_for_token(token) if token else None) or AnonymousUserMixin()

    made.register_blueprint(extra)
    made.config["PROPAGATE_EXCEPTIONS"] = False
    with made.app_context():
        world = load_world()

        def matrix(endpoint, method):
            if endpoint == "api_matrix_selftest.selftest_boom":
                return frozenset({Role.ADMIN})
            if endpoint.startswith("api_matrix_selftest."):
                return API_WRITE if method in WRITES else API_READ
            return allowed_roles(endpoint, method)

        findings, _calls = matrix_findings(made, world, matrix)
    assert any(f.startswith(f"POST {PREFIX}/selftest-open/{MISSING_NUMBER}") and "as viewer" in f
               for f in findings), findings
    assert any(f.startswith(f"POST {PREFIX}/selftest-boom/{MISSING_KEY}") and "as admin" in f and "500" in f
               for f in findings), findings
    assert any(f.startswith(f"GET {PREFIX}/selftest-writes") and "as no token" in f for f in findings), findings
    assert "the database changed: library" in findings
    assert all("selftest" in f or f.startswith("the database changed") for f in findings), findings
