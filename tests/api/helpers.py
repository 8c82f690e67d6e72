"""API test helpers: a client that sends a user's bearer token (the ``api`` fixture makes one), and
a schema check of bodies against the served OpenAPI document."""
from __future__ import annotations

from jsonschema import Draft202012Validator

from app.api.openapi import build_document

PREFIX = "/api/v1"


class ApiClient:
    def __init__(self, client, token: str | None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path, headers=None, **kw):
        return self.client.get(PREFIX + path, headers={**self.headers, **(headers or {})}, **kw)

    def post(self, path, json=None, headers=None, **kw):
        return self._send("post", path, json, headers, **kw)

    def put(self, path, json=None, headers=None, **kw):
        return self._send("put", path, json, headers, **kw)

    def patch(self, path, json=None, headers=None, **kw):
        return self._send("patch", path, json, headers, **kw)

    def delete(self, path, json=None, headers=None, **kw):
        return self._send("delete", path, json, headers, **kw)

    def _send(self, method, path, json, headers, **kw):
        if json is not None:
            kw["json"] = json
        return getattr(self.client, method)(PREFIX + path, headers={**self.headers, **(headers or {})}, **kw)

    def etag(self, path) -> str:
        """The current ETag of the object at ``path`` (a GET)."""
        resp = self.get(path)
        assert resp.status_code == 200 and resp.headers.get("ETag"), (resp.status_code, resp.get_data(as_text=True))
        return resp.headers["ETag"]

    def change(self, method, path, json=None, **kw):
        """A PUT/PATCH/DELETE sent with the If-Match of a GET of ``path`` just before."""
        return self._send(method, path, json, {"If-Match": self.etag(path)}, **kw)


_DOC = build_document()


def conforms(body, schema_name: str):
    """Assert ``body`` matches components/schemas/<schema_name> of the OpenAPI document."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": _DOC["components"]}
    errors = sorted(Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
                    .iter_errors(body), key=str)
    assert not errors, f"{schema_name}: " + "; ".join(e.message for e in errors[:5])
    return body


def error_of(resp, status: int, code: str) -> dict:
    """Assert an error response (status, JSON shape, code) and return its error object."""
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.is_json, resp.get_data(as_text=True)[:200]
    conforms(resp.get_json(), "Error")
    error = resp.get_json()["error"]
    assert error["code"] == code
    assert error["message"]
    return error


def each_case(cases, check):
    """Run ``check(*case)`` for every case; a failure names the case (cheaper than one world per case)."""
    for case in cases:
        try:
            check(*case)
        except AssertionError as exc:
            raise AssertionError(f"case {case!r}: {exc}") from exc
