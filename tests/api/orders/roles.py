"""The role check of the ordering API's tests: one request per endpoint for a user of every role."""
from __future__ import annotations

from app.auth.models import Role
from tests.api.helpers import error_of

ROLE_USERS = {Role.ADMIN: "admin", Role.FUND_MANAGER: "fundmgr", Role.VIEWER: "viewer",
              Role.PURCHASING_OPERATOR: "buyer", Role.INVOICE_OPERATOR: "invoicer",
              Role.INVOICE_OPERATOR_EXTENDED: "invoicer-ext", Role.INVOICE_MANAGER: "invmanager"}


def check_roles(api, requests: dict, matrix: dict) -> None:
    """``requests``: endpoint -> (method, path, json). A role of the endpoint's row gets 200 or 400
    (a request meant to be refused by its body, so that nothing changes); any other role 403."""
    assert set(requests) == set(matrix)
    for role, username in ROLE_USERS.items():
        client = api(username)
        for endpoint, (method, url, json) in requests.items():
            resp = getattr(client, method)(url, json=json)
            if role in matrix[endpoint]:
                assert resp.status_code in (200, 400), (role, endpoint, resp.status_code)
            else:
                error_of(resp, 403, "forbidden")
