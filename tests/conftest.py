"""The test suite's set-up: the fixture modules of tests/fixtures/ and the Hypothesis profiles.

- tests/fixtures/database.py: ``app``, ``world``, ``client``, ``login_as``, ``make_app`` and how each
  test gets its database (SQLite by default, PostgreSQL for tests marked ``postgres``; a rolled-back
  transaction, or a copy of its own for tests that need real commits). Read its docstring first.
- tests/fixtures/data.py: the vendors, scoped users, inventory and API client many folders use.
- tests/fixtures/servers.py: real sshd and FTP servers; tests/fixtures/browser.py: Chromium.
- tests/api/status_gate.py: a run of the whole tests/api/ tree fails when a documented error status
  of an API operation is never reached, or a status it does not document is answered.
Constants and plain helpers (``PASSWORD``, ``login``, ``need``, ``free_port``...) are in tests/helpers.py.

Hypothesis: the profile "dev" (the default) runs a tenth of the examples each property asks for
(``examples(n)`` in tests/helpers.py; 10 where a test names no count); "ci" (CI=true, or HYPOTHESIS_PROFILE=ci) runs them all.
With CI=true a missing PostgreSQL, Chromium or sshd fails the run instead of skipping.

Today: the world's fiscal period is FY2026, so the whole session pins the app's business day
(``app.clock.today()``) to ``TODAY`` through ``ACQ_TODAY``, set here before any app code runs, in
every xdist worker and inherited by every process the tests start (CLI, servers, load workers): the
suite gives the same result on any real date. ``pin_today(day)`` moves it for one test.
"""
from __future__ import annotations

import os
from datetime import date

import pytest
from hypothesis import settings

from app import clock

TODAY = date(2026, 12, 5)
os.environ[clock.ENV_VAR] = TODAY.isoformat()

pytest_plugins = ["tests.fixtures.database", "tests.fixtures.data", "tests.fixtures.servers",
                  "tests.fixtures.browser", "tests.api.status_gate"]

settings.register_profile("ci", print_blob=True)
settings.register_profile("dev", max_examples=10)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "dev"))


@pytest.fixture
def pin_today(monkeypatch):
    """``pin_today(day)``: today is ``day`` for the rest of the test, in this process (its threads,
    live servers included) and in the processes it starts."""
    pins = []

    def pin(day: date) -> None:
        pins.append(clock.freeze_today(day))
        monkeypatch.setenv(clock.ENV_VAR, day.isoformat())
    yield pin
    for frozen in reversed(pins):
        frozen.__exit__(None, None, None)
