"""Checks shared by the API tests of inventory, vendors' parts, letters and notifications: a change
that needs If-Match (428 without it, 412 with a stale one, nothing changed either way), a 304 for
an ETag still current, and the role × route walk over a domain's API_MATRIX."""
from __future__ import annotations

import uuid

from app.auth.models import Role
from tests.api.helpers import error_of

ROLE_USERS = {Role.ADMIN: "admin", Role.FUND_MANAGER: "fundmgr", Role.VIEWER: "viewer",
              Role.PURCHASING_OPERATOR: "buyer", Role.INVOICE_OPERATOR: "invoicer",
              Role.INVOICE_OPERATOR_EXTENDED: "invoicer-ext", Role.INVOICE_MANAGER: "invmanager"}

STALE = '"0000000000000000"'


def needs_if_match(client, method: str, path: str, json=None, read: str | None = None) -> None:
    """``method path`` is refused without If-Match (428) and with a stale one (412); the object at
    ``read`` (default ``path``) keeps its ETag."""
    read = read or path
    before = client.etag(read)
    send = getattr(client, method)
    error_of(send(path, json=json), 428, "precondition_required")
    error_of(send(path, json=json, headers={"If-Match": STALE}), 412, "precondition_failed")
    assert client.etag(read) == before


def not_modified(client, url) -> bool:
    """A GET with the ETag just read as If-None-Match: 304, no body."""
    resp = client.get(url, headers={"If-None-Match": client.etag(url)})
    return resp.status_code == 304 and resp.get_data() == b""


def stale_action(client, path: str, json=None) -> None:
    """An action with a stale If-Match is refused (412)."""
    error_of(client.post(path, json=json, headers={"If-Match": STALE}), 412, "precondition_failed")


def key_reused(client, first: tuple[str, dict | None], second: tuple[str, dict | None]) -> None:
    """POST ``first`` (path, body) with a new Idempotency-Key succeeds; ``second`` with the same key is
    another request: refused (422 idempotency_key_reused) and not done."""
    key = f"key-{uuid.uuid4()}"
    resp = client.post(first[0], json=first[1], headers={"Idempotency-Key": key})
    assert 200 <= resp.status_code < 300, (resp.status_code, resp.get_data(as_text=True)[:300])
    error_of(client.post(second[0], json=second[1], headers={"Idempotency-Key": key}), 422, "idempotency_key_reused")


def walk_roles(api, matrix: dict, requests: dict, allowed=(200, 400)) -> None:
    """Every role's token against every request (endpoint -> (method, path, json)): the roles of
    ``matrix`` get one of ``allowed`` (a refused body, not a change), the others 403."""
    assert set(requests) == set(matrix)
    for role, username in ROLE_USERS.items():
        client = api(username)
        for endpoint, (method, url, json) in requests.items():
            resp = getattr(client, method)(url, json=json) if method != "get" else client.get(url)
            if role in matrix[endpoint]:
                assert resp.status_code in allowed, (role, endpoint, resp.status_code, resp.get_data(as_text=True))
            else:
                error_of(resp, 403, "forbidden")
