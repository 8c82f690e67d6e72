"""The API's contract, property-based (Schemathesis): every operation of the OpenAPI document, sent
generated requests (valid and invalid ones) in process, on a seeded world, with an administrator's
token, never answers a server error, nor a status, media type, body or header its operation does
not document.

Driven by the document alone: a route added to it is tested here with no change. Bounded and
stable: ``EXAMPLES`` generated cases per operation (valid and invalid data), derandomized (the same
cases on every run, on any machine), no deadline (the machine's load must not decide).

Each operation is its own test (``test_operation_keeps_its_contract[POST /api/v1/funds]``), so
xdist spreads them. They share one app per worker on its own copy of the world, seeded once
(vendors, an inventory record, PO lines and invoices in several states); each test runs in a
transaction rolled back at its end (:func:`tests.fixtures.database.rolled_back`).

Path parameters: a valid case names an object that exists (a value read from the list route of
its collection, e.g. GET /po-lines for /po-lines/{number}), an invalid one keeps its generated
value (most often a 404). A valid case's If-Match is ``*`` every other time (so a PUT, PATCH or
action gets through), the generated value otherwise (412).

To see the cases of some operations: ``CONTRACT_VERBOSE=1 ./scripts/test -n 0 -s
tests/api/test_contract.py -k "PATCH and vendors"`` (each request's method, path and status).
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                                response_schema_conformance, status_code_conformance)

from app.api.openapi import build_document  # (the package imports every API module: all paths are in)
from app.auth.services import issue_api_token
from app.extensions import db
from testkit.world import load_world
from tests.fixtures.database import _create, _dispose, rolled_back

EXAMPLES = 8
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
VERBOSE = os.environ.get("CONTRACT_VERBOSE") == "1"
BOUNDED = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None, print_blob=False,
                   suppress_health_check=list(HealthCheck))


def load_schema(document: dict):
    """The document as a Schemathesis schema: valid and invalid data (not the missing token:
    tests/api/test_route_matrix.py sends that to every route)."""
    schema = schemathesis.openapi.from_dict(document)
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                    max_examples=EXAMPLES, with_security_parameters=False)
    return schema


schema = load_schema(build_document())


# -- the seeded world: one app per worker ---------------------------------------------------------

def seed(client, headers) -> None:
    """Through the API: PO lines in review and sent, invoices in approval and approved."""
    def post(path, body, status=(200, 201)):
        resp = client.post("/api/v1" + path, json=body, headers=headers)
        assert resp.status_code in status, (path, resp.status_code, resp.get_json())
        return resp.get_json()

    for title in ("A book", "Another book"):
        post("/po-lines", {"vendor": "EURV", "owner_library": "LIBA", "title": title, "list_price": "100.00",
                           "distribution": [{"fund": "A-BKS", "percent": "100"}]})
    sent = post("/po-lines", {"vendor": "EURV", "owner_library": "LIBA", "title": "A sent book",
                              "list_price": "10.00", "distribution": [{"fund": "A-BKS", "percent": "100"}]})
    for action in ("approve", "send"):
        post(f"/po-lines/{sent['number']}/actions/{action}", {})
    for number in ("INV-1", "INV-2"):
        made = post("/invoices", {
            "number": number, "vendor": "EURV", "invoice_date": "2026-03-01", "total_amount": "100.00",
            "owner_library": "LIBA", "lines": [{"price": "100.00", "funds": [{"fund": "A-BKS", "percent": "100"}]}]})
    if "approve" in made.get("allowed_actions", []):
        post(f"/invoices/{made['id']}/actions/approve", {})


@pytest.fixture(scope="module")
def seeded_app(sqlite_templates, tmp_path_factory):
    """(app, headers): an app on its own copy of the world, seeded, and an administrator's token."""
    from tests.inventory.helpers import make_inventory
    from tests.orders.helpers import make_vendors

    folder = tmp_path_factory.mktemp("contract")
    shutil.copy(sqlite_templates["world"], folder / "world.db")
    made = _create(f"sqlite:///{folder / 'world.db'}", ATTACHMENT_FOLDER=str(folder / "attachments"))
    with made.app_context():
        world = load_world()
        make_vendors(world)
        make_inventory(world)
        headers = {"Authorization": f"Bearer {issue_api_token(None, world.user('admin'))}"}
        db.session.commit()
        seed(made.test_client(), headers)
        db.session.remove()
    yield made, headers
    _dispose(made)


@pytest.fixture
def contract(seeded_app):
    """(app, headers, known): the seeded app in a transaction rolled back after the test."""
    made, headers = seeded_app
    cache: dict[str, dict] = {}

    def known(path: str) -> dict[str, list]:
        if path not in cache:
            cache[path] = known_values(made.test_client(), headers, path)
        return cache[path]

    with rolled_back(made), made.app_context():
        yield made, headers, known


def known_values(client, headers, path: str) -> dict[str, list]:
    """For each path parameter of ``path``: values naming objects that exist, read from the list route
    of its collection (the path up to the parameter; earlier parameters filled in)."""
    values: dict[str, list] = {}
    for name in re.findall(r"{([^}]+)}", path):
        collection = path.split("{" + name + "}")[0].rstrip("/")
        found = []
        if "get" in schema.raw_schema["paths"].get(collection, {}):
            url = re.sub(r"{([^}]+)}", lambda m: str(values[m.group(1)][0]), collection)
            resp = client.get(url, headers=headers, query_string={"per_page": 20})
            body = resp.get_json(silent=True) if resp.status_code == 200 else None
            items = body.get("items", []) if isinstance(body, dict) else []
            found = [item[name] for item in items if isinstance(item, dict) and item.get(name) is not None]
        if not found:
            break
        values[name] = found
    return values


def pick(options: list, salt: str):
    """One of ``options``, the same for the same case on every run."""
    return options[int(hashlib.sha256(salt.encode()).hexdigest(), 16) % len(options)]


def steer(case, known: dict[str, list]) -> None:
    """A valid case names existing objects and (every other time) any version: see the docstring."""
    if case.meta is None or case.meta.generation.mode is not GenerationMode.POSITIVE:
        return
    salt = repr((case.path_parameters, case.query, case.body))
    for name, options in known.items():
        if name in (case.path_parameters or {}):
            case.path_parameters[name] = pick(options, salt + name)
    if case.headers and "If-Match" in case.headers and pick([True, False], salt):
        case.headers["If-Match"] = "*"


def exercise(case, app, headers, known=None):
    """Send one case to ``app`` in process and run every check on its answer (raises on a failure)."""
    steer(case, known(case.path) if known else {})
    response = case.call_and_validate(app=app, session=app.test_client(), headers=headers, checks=CHECKS)
    if VERBOSE:
        print(case.method, case.formatted_path, response.status_code)
    return response


# operationId -> why it cannot run here (e.g. it needs real commits); its own tests must then cover
# what this test would. Empty: every operation runs.
NOT_HERE: dict[str, str] = {
    "sendWaitingLetters": "sends the waiting letters in a background thread, which the rolled-back shared app "
                          "cannot host; tests/api/letters/test_api.py::test_send_now_delivers_the_waiting_letters "
                          "commits",
    "uploadEdiFile": "receives the file in a background run (a thread); tests/api/invoices/test_edi.py commits",
}


def operations(schema_) -> list:
    """Every operation of the schema as a test parameter (a definition Schemathesis cannot read
    raises here, naming it)."""
    found = []
    for result in schema_.get_all_operations():
        operation = result.ok()
        reason = NOT_HERE.get(operation.definition.raw.get("operationId", ""))
        found.append(pytest.param(operation, id=operation.label,
                                  marks=[pytest.mark.skip(reason=reason)] if reason else []))
    return found


def cases(operation):
    """Valid and invalid requests of ``operation`` (only valid ones when nothing of it can be invalid)."""
    from hypothesis import strategies as st
    return st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))


@pytest.mark.parametrize("operation", operations(schema))
def test_operation_keeps_its_contract(operation, contract):
    made, headers, known = contract

    @given(case=cases(operation))
    @BOUNDED
    def run(case):
        exercise(case, made, headers, known)
    run()


# -- the checks catch what they are meant to -----------------------------------------------------

def _broken_app():
    """A Flask app with API-like routes: one that raises, one answering 500, one answering a status it
    does not document, one whose body does not match its schema, and a sound one."""
    from flask import Flask, jsonify

    broken = Flask("broken")

    @broken.get("/api/v1/boom")
    def boom():
        raise RuntimeError("a bug")

    @broken.get("/api/v1/fail")
    def fail():
        return jsonify(error={"code": "internal", "message": "it broke"}), 500

    @broken.get("/api/v1/teapot")
    def teapot():
        return jsonify(error={"code": "teapot", "message": "short and stout"}), 418

    @broken.get("/api/v1/shape")
    def shape():
        return jsonify(name=12)

    @broken.get("/api/v1/fine")
    def fine():
        return jsonify(name="fine")

    thing = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
    ok = {"200": {"description": "A thing.", "content": {"application/json": {"schema": thing}}},
          "404": {"description": "Not found.", "content": {"application/json": {"schema": {"type": "object"}}}}}
    document = {"openapi": "3.1.0", "info": {"title": "broken", "version": "1"},
                "paths": {f"/api/v1/{name}": {"get": {"operationId": name, "responses": ok}}
                          for name in ("boom", "fail", "teapot", "shape", "fine")}}
    return broken, load_schema(document)


@pytest.mark.parametrize("path, failure", [("/api/v1/boom", RuntimeError),
                                           ("/api/v1/fail", "Server error"),
                                           ("/api/v1/teapot", "Undocumented status code"),
                                           ("/api/v1/shape", "Response violates schema")])
def test_a_server_error_or_an_undocumented_answer_fails_the_contract(path, failure):
    broken, toy = _broken_app()

    @given(case=toy[path]["GET"].as_strategy())
    @BOUNDED
    def run(case):
        exercise(case, broken, {})

    with pytest.raises(failure if isinstance(failure, type) else FailureGroup) as caught:
        run()
    assert isinstance(failure, type) or failure in str(caught.value), str(caught.value)[:1000]


def test_a_sound_route_passes_the_contract():
    broken, toy = _broken_app()

    @given(case=toy["/api/v1/fine"]["GET"].as_strategy())
    @BOUNDED
    def run(case):
        assert exercise(case, broken, {}).status_code == 200
    run()


def test_the_contract_runs_on_the_served_document(contract):
    made, headers, _known = contract
    resp = made.test_client().get("/api/v1/openapi.json", headers=headers)
    assert resp.status_code == 200 and resp.get_json() == schema.raw_schema
    assert len(list(schema.get_all_operations())) >= 40


# -- versions: every operation taking If-Match refuses a stale one ---------------------------------

def if_match_operations() -> list[tuple[str, str, bool]]:
    """(path, method, required) of every operation with an If-Match parameter."""
    found = []
    for path, item in schema.raw_schema["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            refs = {p.get("$ref", "").rsplit("/", 1)[-1] for p in op.get("parameters", [])}
            if refs & {"IfMatch", "IfMatchRequired"}:
                found.append((path, method, "IfMatchRequired" in refs))
    return found


def minimal(schema_: dict, components: dict):
    """A small value of a JSON schema: its required properties only, its first example or choice."""
    if "$ref" in schema_:
        return minimal(components[schema_["$ref"].rsplit("/", 1)[-1]], components)
    for key in ("oneOf", "anyOf"):
        if key in schema_:
            return minimal(schema_[key][0], components)
    if "enum" in schema_:
        return schema_["enum"][0]
    if schema_.get("examples"):
        return schema_["examples"][0]
    kind = schema_.get("type", "object")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "object":
        return {name: minimal(schema_["properties"][name], components) for name in schema_.get("required", [])}
    if kind == "array":
        return []
    if kind == "string" and schema_.get("format") == "date":
        return "2026-12-05"
    return {"string": "x", "integer": 1, "number": 1, "boolean": False, "null": None}[kind]


def test_every_if_match_operation_refuses_a_stale_or_missing_version(contract):
    """On an object that exists, a stale If-Match is 412 (and a missing one 428 where it is required)
    and nothing changes. The body: for a PUT or PATCH the object as read (GET of the same path) cut
    to what the operation takes; for an action its required fields only. An operation whose object
    cannot be named from a list route, or whose body cannot be made so, is left to its own tests
    (the status gate still wants its 412)."""
    made, headers, known = contract
    client = made.test_client()
    components = schema.raw_schema["components"]["schemas"]
    checked, skipped = [], []
    for path, method, required in if_match_operations():
        values = known(path)
        if set(re.findall(r"{([^}]+)}", path)) - set(values):
            skipped.append((method, path))
            continue
        url = re.sub(r"{([^}]+)}", lambda m: str(values[m.group(1)][0]), path)
        target = url if "get" in schema.raw_schema["paths"][path] else None
        op = schema.raw_schema["paths"][path][method]
        body = None
        if "requestBody" in op:
            wanted = op["requestBody"]["content"]["application/json"]["schema"]
            body = minimal(wanted, components)
            if target is not None:
                current = client.get(url, headers=headers).get_json()
                accepted = components[wanted["$ref"].rsplit("/", 1)[-1]]["properties"]
                body = {k: v for k, v in current.items() if k in accepted}
        before = client.get(target, headers=headers).headers.get("ETag") if target else None
        for if_match, status, code in [('"stale"', 412, "precondition_failed")] + (
                [(None, 428, "precondition_required")] if required else []):
            sent = {**headers, **({"If-Match": if_match} if if_match else {})}
            resp = client.open(url, method=method.upper(), headers=sent, json=body)
            if resp.status_code == 400 and if_match and target is None:
                skipped.append((method, path))   # the minimal body is not enough for it
                break
            assert resp.status_code == status, (method, url, resp.status_code, resp.get_json())
            assert resp.get_json()["error"]["code"] == code
        else:
            checked.append((method, path))
        if target:
            assert client.get(target, headers=headers).headers.get("ETag") == before, (method, url)
    assert len(checked) >= 15, (checked, skipped)
