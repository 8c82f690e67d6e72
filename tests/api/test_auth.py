"""Token authentication and roles on every API route."""
from __future__ import annotations

import re

from app.auth.services import create_user, issue_api_token, set_active
from app.extensions import db
from tests.helpers import PASSWORD, login

from tests.api.helpers import PREFIX, ApiClient, error_of


def api_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def concrete(rule, world) -> str:
    """The rule with each whole-number part (<int:id>, <int:ledger_id>, ...) a real id: routed, not a 404."""
    return re.sub(r"<int:[a-z_]+>", str(world.shared.id), rule.rule)


def test_every_api_route_needs_a_token(app, world):
    client = app.test_client()
    seen = 0
    for rule, method in api_rules(app):
        resp = client.open(concrete(rule, world), method=method, json={})
        err = error_of(resp, 401, "unauthorized")
        assert "Bearer" in err["message"]
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        seen += 1
    assert seen >= 10


def test_bad_token_is_401(app, world):
    client = app.test_client()
    for header in ("Bearer acq_not-a-real-token", "Bearer ", "Basic YWRtaW46eA==", "acq_x", "Bearer"):
        error_of(client.get(PREFIX + "/funds", headers={"Authorization": header}), 401, "unauthorized")


def test_session_cookie_alone_does_not_authenticate(app, world):
    client = login(app.test_client(), "admin")
    assert client.get("/funds/").status_code == 200  # the cookie works for the pages ...
    for path in ("/funds", f"/funds/{world.shared.id}"):
        error_of(client.get(PREFIX + path), 401, "unauthorized")  # ... and not for the API
    assert client.get(PREFIX + "/openapi.json").status_code == 200   # (only its document, to read)
    resp = client.post(PREFIX + f"/funds/{world.shared.id}/transactions",
                       json={"type": "allocation", "amount": "5.00"})
    error_of(resp, 401, "unauthorized")
    assert world.shared.allocated == 1000


def test_token_works_and_is_replaced_when_reissued(app, world, api):
    client = api("viewer")
    assert client.get("/funds").status_code == 200
    issue_api_token(None, world.user("viewer"))
    db.session.commit()
    error_of(client.get("/funds"), 401, "unauthorized")


def test_deactivated_users_token_is_refused(app, world, api):
    client = api("fundmgr")
    set_active(None, world.user("fundmgr"), False)
    db.session.commit()
    error_of(client.get("/funds"), 401, "unauthorized")


def test_every_role_may_read_and_only_money_managers_write(world, api):
    writes = {"/fiscal-periods": {"code": "FY2030", "name": "x", "start_date": "2030-01-01",
                                  "end_date": "2030-12-31"},
              "/ledgers": {"code": "X", "name": "x", "fiscal_period": "FY2026", "currency": "EUR"},
              "/funds": {"code": "X", "name": "x", "ledger": "GEN"},
              f"/funds/{world.shared.id}/transactions": {"type": "allocation", "amount": "1.00"}}
    for username in ("viewer", "buyer", "invoicer", "invoicer-ext", "invmanager", "admin", "fundmgr"):
        client = api(username)
        for path in ("/fiscal-periods", "/ledgers", "/funds", f"/funds/{world.shared.id}",
                     f"/funds/{world.shared.id}/transactions", "/openapi.json"):
            assert client.get(path).status_code == 200, (username, path)
        if username not in ("admin", "fundmgr"):
            for path, body in writes.items():
                error_of(client.post(path, json=body), 403, "forbidden")
    assert api("viewer").get(f"/funds/{world.shared.id}").get_json()["balances"]["allocated"] == "1000.00"


def test_unknown_api_path_and_method_are_json(world, api):
    client = api("admin")
    error_of(client.get("/nothing-here"), 404, "not_found")
    error_of(client.get("/funds/abc"), 404, "not_found")
    error_of(client.client.delete(PREFIX + "/funds", headers=client.headers), 405, "method_not_allowed")


def test_responses_are_not_cached(world, api):
    assert api("viewer").get("/funds").headers["Cache-Control"] == "no-store"


def test_apiclient_without_token_is_anonymous(app, world):
    error_of(ApiClient(app.test_client(), None).get("/ledgers"), 401, "unauthorized")


def test_user_without_roles_is_forbidden(app, world):
    nobody = create_user(None, "nobody", PASSWORD)
    token = issue_api_token(None, nobody)
    db.session.commit()
    client = ApiClient(app.test_client(), token)
    error_of(client.get("/funds"), 403, "forbidden")
    error_of(client.get("/openapi.json"), 403, "forbidden")
