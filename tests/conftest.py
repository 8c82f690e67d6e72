"""The test suite's set-up: the fixture modules of tests/fixtures/ and the Hypothesis profiles.

- tests/fixtures/database.py: ``app``, ``world``, ``client``, ``login_as``, ``make_app`` and how each
  test gets its database (SQLite by default, PostgreSQL for tests marked ``postgres``; a rolled-back
  transaction, or a copy of its own for tests that need real commits). Read its docstring first.
- tests/fixtures/data.py: the vendors, scoped users, inventory and API client many folders use.
- tests/fixtures/servers.py: real sshd and FTP servers; tests/fixtures/browser.py: Chromium.
Constants and plain helpers (``PASSWORD``, ``login``, ``need``, ``free_port``...) are in tests/helpers.py.

Hypothesis: the profile "dev" (the default) runs a tenth of the examples each property asks for
(``examples(n)`` in tests/helpers.py; 10 where a test names no count); "ci" (CI=true, or HYPOTHESIS_PROFILE=ci) runs them all.
With CI=true a missing PostgreSQL, Chromium or sshd fails the run instead of skipping.
"""
from __future__ import annotations

import os

from hypothesis import settings

pytest_plugins = ["tests.fixtures.database", "tests.fixtures.data", "tests.fixtures.servers",
                  "tests.fixtures.browser"]

settings.register_profile("ci", print_blob=True)
settings.register_profile("dev", max_examples=10)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "dev"))
