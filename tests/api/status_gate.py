"""The API status gate: every documented error status of every operation is reached by some test
under tests/api/, and no test there gets a status its operation does not document.

While a test under tests/api/ runs (its fixtures included), every answer of an /api/v1 route (any
app: the shared ones, ``make_app`` ones, live servers in a thread) is recorded as (method, path of
the OpenAPI document, status) through Flask's ``request_finished`` signal. Each xdist worker hands
its set to the controller (``workeroutput``); at the end of the session the controller compares it
with the document (:func:`app.api.openapi.build_document`):

- **missing**: a documented 4xx of an operation that no test got. 401 and 403 are excluded (the
  generic role x route matrix, tests/api/test_route_matrix.py, reaches them on every route) and
  so is 503 (tests/database/test_busy.py: the busy database answers it on any route).
- **undocumented**: a status a test got that its operation does not document (304 and 503
  included: they are documented where they can happen).

When it runs. Only when the session ran the whole tests/api/ tree: the paths given include
tests/api/ or a folder above it (``pytest``, ``./scripts/test``, ``./scripts/test tests/api``),
with no ``-k``, ``-m``, ``--deselect``, ``--ignore`` of anything in it, no ``path::test`` and no
early stop (``-x``, ``--maxfail``). Then a finding fails the run (exit status 1) and the report is
printed in the terminal summary ("API status gate"). Running one file, or a -k selection, is not
gated. ``API_STATUS_GATE`` overrides it: ``report`` prints the report of whatever ran (and never
fails: use it to see what a partial run reaches), ``gate`` gates whatever ran (a CI that splits the
tree over jobs would gather the reports instead), ``off`` disables the gate.

Each xdist worker hands what it observed to the controller with the worker's final report
(``workeroutput``), so no files pass between them; a run without xdist records in its one process.

The report is also written to test-results/api-status-gate.json (observed, missing, undocumented)
whenever the gate ran or was asked for.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

API_PREFIX = "/api/v1"
NOT_GATED = {"401", "403"}   # reached by tests/api/test_route_matrix.py on every route
ENV = "API_STATUS_GATE"
WORKER_KEY = "api_status_gate"
API_TESTS = Path(__file__).resolve().parent
REPORT = API_TESTS.parent.parent / "test-results" / "api-status-gate.json"
METHODS = ("get", "post", "put", "patch", "delete")

_observed: set[tuple[str, str, int]] = set()
_recording = False
_STASH = pytest.StashKey[dict]()


def doc_path(rule: str) -> str:
    """The document's path of a Flask rule: /funds/<int:id> -> /funds/{id}."""
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule)


def _record(sender, response, **_extra) -> None:
    if not _recording:
        return
    from flask import request
    rule = request.url_rule
    if rule is None or not rule.rule.startswith(API_PREFIX) or request.method not in {m.upper() for m in METHODS}:
        return
    _observed.add((request.method.lower(), doc_path(rule.rule), response.status_code))


def is_api_test(item) -> bool:
    return API_TESTS in Path(str(item.path)).resolve().parents


# -- recording (every process that runs tests) --------------------------------------------------

def pytest_configure(config):
    from flask import request_finished
    request_finished.connect(_record, weak=False)
    config.stash[_STASH] = {"observed": set(), "workers": 0}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    global _recording
    _recording = is_api_test(item)
    try:
        yield
    finally:
        _recording = False


def pytest_unconfigure(config):
    from flask import request_finished
    request_finished.disconnect(_record)


# -- the verdict (the controller, or the only process) -----------------------------------------

def mode(config) -> str:
    """"gate", "report" or "" (nothing): see the module's docstring."""
    wanted = os.environ.get(ENV, "").strip().lower()
    if wanted in ("off", "0", "no"):
        return ""
    if wanted in ("report", "gate"):
        return wanted
    return "gate" if whole_tree(config) else ""


def whole_tree(config) -> bool:
    """Did the session select every test under tests/api/?"""
    option = config.option
    if (getattr(option, "keyword", "") or getattr(option, "markexpr", "") or getattr(option, "deselect", None)
            or getattr(option, "maxfail", 0) or getattr(option, "lf", False)):
        return False
    root = Path(str(config.invocation_params.dir))
    for ignored in (getattr(option, "ignore", None) or []) + (getattr(option, "ignore_glob", None) or []):
        base = (root / str(ignored).split("*")[0]).resolve()
        if base == API_TESTS or API_TESTS in base.parents or base in API_TESTS.parents:
            return False
    for arg in config.args:
        if "::" in arg:
            continue
        path = (root / arg).resolve()
        if path == API_TESTS or path in API_TESTS.parents:
            return True
    return False


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist: gather what a worker observed."""
    found = getattr(node, "workeroutput", {}).get(WORKER_KEY)
    if found is not None:
        node.config.stash[_STASH]["observed"].update(tuple(row) for row in found)
        node.config.stash[_STASH]["workers"] += 1


def findings(observed: set[tuple[str, str, int]], document: dict) -> tuple[list[str], list[str]]:
    """(missing, undocumented): documented gated 4xx never observed; observed statuses not documented."""
    missing, undocumented = [], []
    for path, item in sorted(document["paths"].items()):
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            documented = set(op["responses"])
            seen = {str(status) for (m, p, status) in observed if (m, p) == (method, path)}
            label = f"{method.upper()} {path} ({op['operationId']})"
            for status in sorted(documented - seen - NOT_GATED):
                if status.startswith("4"):
                    missing.append(f"{label}: {status} never reached")
            for status in sorted(seen - documented):
                undocumented.append(f"{label}: answered {status}, which it does not document")
    return missing, undocumented


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if hasattr(config, "workerinput"):   # an xdist worker: hand the observations over
        config.workeroutput[WORKER_KEY] = sorted(_observed)
        return
    state = config.stash[_STASH]
    state["observed"] |= _observed
    wanted = mode(config)
    if not wanted or session.shouldstop or session.shouldfail:
        return
    if exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        return
    from app.api.openapi import build_document

    missing, undocumented = findings(state["observed"], build_document())
    state.update(mode=wanted, missing=missing, undocumented=undocumented)
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps({"mode": wanted, "missing": missing, "undocumented": undocumented,
                                  "observed": sorted(f"{m.upper()} {p} {s}" for m, p, s in state["observed"])},
                                 indent=1))
    if wanted == "gate" and (missing or undocumented) and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    state = config.stash.get(_STASH, {})
    if "mode" not in state:
        return
    missing, undocumented = state["missing"], state["undocumented"]
    write = terminalreporter.write_line
    terminalreporter.section("API status gate", sep="=", red=bool(missing or undocumented) and state["mode"] == "gate")
    for line in missing:
        write(f"missing: {line}")
    for line in undocumented:
        write(f"undocumented: {line}")
    verdict = "FAILED" if (missing or undocumented) and state["mode"] == "gate" else "ok"
    write(f"{verdict}: {len(missing)} documented error status(es) never reached, {len(undocumented)} undocumented "
          f"status(es) answered; {len(state['observed'])} (operation, status) pairs observed. "
          f"Full report: {REPORT.relative_to(REPORT.parent.parent)} (see tests/api/status_gate.py)")
