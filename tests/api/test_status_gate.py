"""The API status gate (tests/api/status_gate.py): what it finds, and when it judges."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from tests.api import status_gate as gate

ROOT = Path(gate.__file__).resolve().parents[2]
ERROR = {"$ref": "#/components/responses/NotFound"}
DOCUMENT = {"paths": {"/api/v1/things/{id}": {
    "parameters": [],
    "get": {"operationId": "getThing", "responses": {code: ERROR for code in ("200", "401", "403", "404", "503")}},
    "put": {"operationId": "putThing",
            "responses": {code: ERROR for code in ("200", "400", "401", "403", "404", "412", "428", "503")}}}}}


def test_a_documented_4xx_never_reached_is_missing_but_not_401_403_or_503():
    observed = {("get", "/api/v1/things/{id}", 200), ("put", "/api/v1/things/{id}", 400),
                ("put", "/api/v1/things/{id}", 404), ("put", "/api/v1/things/{id}", 428)}
    missing, undocumented = gate.findings(observed, DOCUMENT)
    assert missing == ["GET /api/v1/things/{id} (getThing): 404 never reached",
                       "PUT /api/v1/things/{id} (putThing): 412 never reached"]
    assert undocumented == []


def test_a_status_the_operation_does_not_document_is_reported():
    observed = {("get", "/api/v1/things/{id}", 404), ("get", "/api/v1/things/{id}", 500),
                ("get", "/api/v1/elsewhere", 418)}   # a route the document does not have: not judged here
    missing, undocumented = gate.findings(observed, DOCUMENT)
    assert undocumented == ["GET /api/v1/things/{id} (getThing): answered 500, which it does not document"]
    assert "GET /api/v1/things/{id} (getThing): 404 never reached" not in missing


def test_flask_rules_become_document_paths():
    assert gate.doc_path("/api/v1/funds/<int:id>/transactions") == "/api/v1/funds/{id}/transactions"
    assert gate.doc_path("/api/v1/vendors/<code>") == "/api/v1/vendors/{code}"
    assert gate.doc_path("/api/v1/x/<string(length=2):cc>/<path:rest>") == "/api/v1/x/{cc}/{rest}"


def _config(*args, **options):
    option = SimpleNamespace(**{"keyword": "", "markexpr": "", "deselect": None, "maxfail": 0, "lf": False,
                                "ignore": None, "ignore_glob": None, **options})
    return SimpleNamespace(option=option, args=list(args), invocation_params=SimpleNamespace(dir=ROOT))


def test_only_a_run_of_the_whole_api_tree_is_gated(monkeypatch):
    monkeypatch.delenv(gate.ENV, raising=False)
    for args in (["tests"], ["tests/api"], ["tests/api/"], ["tests/funds", "tests"], ["."]):
        assert gate.mode(_config(*args)) == "gate", args
    for args, options in ((["tests/api/test_auth.py"], {}), (["tests/api/orders"], {}), (["tests/funds"], {}),
                          (["tests/api::x"], {}), (["tests"], {"keyword": "vendor"}), (["tests"], {"markexpr": "x"}),
                          (["tests"], {"deselect": ["tests/api/test_auth.py::t"]}), (["tests"], {"maxfail": 1}),
                          (["tests"], {"ignore": ["tests/api/orders"]}), (["tests"], {"ignore_glob": ["tests/*"]})):
        assert gate.mode(_config(*args, **options)) == "", (args, options)


def test_the_environment_overrides_it(monkeypatch):
    monkeypatch.setenv(gate.ENV, "report")
    assert gate.mode(_config("tests/api/test_auth.py")) == "report"
    monkeypatch.setenv(gate.ENV, "gate")
    assert gate.mode(_config("tests/api/test_auth.py")) == "gate"
    monkeypatch.setenv(gate.ENV, "off")
    assert gate.mode(_config("tests")) == ""


def test_only_tests_under_tests_api_are_recorded():
    assert gate.is_api_test(SimpleNamespace(path=ROOT / "tests/api/orders/test_api.py"))
    assert not gate.is_api_test(SimpleNamespace(path=ROOT / "tests/funds/test_views.py"))


def test_every_api_answer_of_a_test_here_is_recorded(world, api):
    answer = ("get", "/api/v1/funds/{id}", 404)
    gate._observed.discard(answer)   # (another test may have recorded it already)
    assert api("viewer").get("/funds/999999").status_code == 404
    assert answer in gate._observed
