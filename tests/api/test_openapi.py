"""The OpenAPI 3.1 document: valid, complete, and in step with the code."""
from __future__ import annotations

import re

from openapi_spec_validator import validate

from app.api import funds as funds_api
from app.api.openapi import build_document

from tests.api.helpers import PREFIX, error_of


def test_document_is_valid_openapi_31(world, api):
    resp = api("viewer-b").get("/openapi.json")
    assert resp.status_code == 200 and resp.is_json
    doc = resp.get_json()
    assert doc["openapi"].startswith("3.1")
    validate(doc)
    assert doc == build_document()
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "An API token issued to a user."}
    assert doc["security"] == [{"bearerAuth": []}]
    for name in ("FiscalPeriod", "Ledger", "Fund", "Balances", "Transaction", "Error"):
        assert name in doc["components"]["schemas"]


def test_document_needs_a_token(app, world):
    error_of(app.test_client().get(PREFIX + "/openapi.json"), 401, "unauthorized")


def _doc_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_every_api_route_is_documented(app):
    doc = build_document()
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX):
            routes.setdefault(_doc_path(rule.rule), set()).update(
                m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    assert routes, "no API routes registered"
    for path, methods in routes.items():
        assert path in doc["paths"], f"{path} is not in the OpenAPI document"
        documented = {m for m in doc["paths"][path] if m in {"get", "post", "put", "patch", "delete"}}
        assert documented == methods, path
    assert set(doc["paths"]) == set(routes)  # and nothing documented that does not exist
    assert "/api/v1/funds/{id}" in doc["paths"]


def test_every_operation_has_an_id_and_the_auth_responses(app):
    doc = build_document()
    ids = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            ids.append(op["operationId"])
            assert "401" in op["responses"], (path, method)
            if path != "/api/v1/openapi.json":
                assert "403" in op["responses"], (path, method)
            if method == "post":
                # creating answers 201; an action on an existing object answers 200 with the object (202 with
                # the run it started: a "Run now")
                success = ("202" if path.endswith("/actions/run") else "200") if "/actions/" in path else "201"
                assert {success, "400"} <= set(op["responses"]), (path, method)
    assert len(ids) == len(set(ids)) >= 10


def test_request_schemas_match_what_the_views_read():
    schemas = build_document()["components"]["schemas"]
    for name, spec in (("FiscalPeriodInput", funds_api.FISCAL_PERIOD_IN), ("LedgerInput", funds_api.LEDGER_IN),
                       ("FundInput", funds_api.FUND_IN), ("TransactionInput", funds_api.TRANSACTION_IN)):
        schema = schemas[name]
        assert set(schema["properties"]) == set(spec), name
        assert schema["required"] == [k for k, f in spec.items() if f.required], name
        assert schema["additionalProperties"] is False
    assert schemas["TransactionInput"]["properties"]["amount"]["type"] == "string"


def test_a_logged_in_session_reads_the_document_in_the_browser(app, world, login_as):
    client = login_as("viewer-b")
    resp = client.get(PREFIX + "/openapi.json")
    assert resp.status_code == 200 and resp.get_json() == build_document()
    # only the document: the rest of the API still wants a token
    error_of(client.get(PREFIX + "/fiscal-periods"), 401, "unauthorized")


def test_the_api_page_lists_every_route_of_the_document(app, world, login_as):
    html = login_as("viewer-b").get("/api").get_data(as_text=True)
    doc = build_document()
    assert "cdn" not in html.lower() and 'href="/api/v1/openapi.json"' in html
    for path, item in doc["paths"].items():
        for method in ("get", "post", "put", "patch", "delete"):
            if method in item:
                assert path in html and item[method]["summary"].replace("'", "&#39;") in html, (method, path)
    assert app.test_client().get("/api").status_code == 302   # not logged in: to the login page
    assert '<h2 id="api-erp">ERP</h2>' in html and "<code>If-Match</code>" in html   # titles and code as such
    from app.api.page import with_code
    assert with_code("Send `If-Match` <b>") == "Send <code>If-Match</code> &lt;b&gt;"   # escaped first


def test_the_users_page_links_to_the_api_page(app, world, login_as):
    html = login_as("viewer-b").get("/me").get_data(as_text=True)
    assert 'href="/api"' in html and 'href="/api/v1/openapi.json"' in html


# POSTs that create something (201) or act, yet take no Idempotency-Key, and why.
NOT_IDEMPOTENT = {
    "uploadCurrencyRates": "a multipart body differs on every retry (its boundary); a repeat is refused anyway: "
                           "the rates of that day exist (422)",
    "runErpSection": "a second Run now while the first runs is recorded as skipped, never run twice",
    "packageReadyLines": "the set confirmed is its own key: once sent, a repeat finds it changed (409)",
    "sendWaitingLetters": "delivers what waits; a repeat finds nothing more waiting",
    "testErpConnection": "only tries the connection",
    "previewRolloverRules": "a preview changes nothing",
    "previewErpStylesheet": "a preview changes nothing",
    "previewLetterPDF": "a preview changes nothing",
    "previewInvoiceFile": "a preview changes nothing",
}


def test_every_creating_or_acting_post_takes_an_idempotency_key():
    doc = build_document()
    missing = []
    for path, item in doc["paths"].items():
        op = item.get("post")
        if op is None or op["operationId"] in NOT_IDEMPOTENT:
            continue
        if not any(p.get("$ref", "").endswith("/IdempotencyKey") for p in op.get("parameters", [])):
            missing.append(f"{op['operationId']} ({path})")
        elif "201" in op["responses"]:
            assert "Location" in op["responses"]["201"].get("headers", {}) or "/actions/" in path \
                or op["operationId"] in LOCATION_LESS, f"{op['operationId']}: a creation answers its Location"
    assert not missing, f"POSTs without Idempotency-Key: {missing}"
    assert set(NOT_IDEMPOTENT) <= {op["operationId"] for item in doc["paths"].values() for op in item.values()
                                   if isinstance(op, dict) and "operationId" in op}


# Creations whose new object has no address of its own to name.
LOCATION_LESS = {
    "postFundTransaction": "the transactions are read in their fund's list (the answer holds them)",
    "createFundType": "fund types are read in their list",
    "createCurrencyRate": "rates are read in their list",
    "uploadCurrencyRates": "rates are read in their list",
    "packageReadyLines": "the answer lists the orders sent, each with its own address",
}
