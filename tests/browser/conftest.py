"""Real-browser fixtures: Debian's Chromium driven by Playwright against the app on 127.0.0.1.

The app runs on a fresh migrated SQLite copy with CSRF protection ON (the pages carry the token
themselves: a hidden field in forms, ``hx-headers`` on <body> for htmx requests). The world is
built in the fixture's thread; werkzeug's threaded server then serves that file (WAL) from its
own threads.

Never ``playwright install``: the browser is the system one at /usr/bin/chromium. Without it
the tests are skipped, or fail when CI=true (``need``).
"""
from __future__ import annotations

import os
import pathlib
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, need
from tests.servers import served

CHROMIUM = "/usr/bin/chromium"

# Auto-waiting assertions wait up to 10 s (Playwright's default is 5 s): room for a loaded CI box.
expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    need(os.access(CHROMIUM, os.X_OK), f"Chromium ({CHROMIUM}, Debian package chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A desktop-sized window so the screenshots look like what a person sees.
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def screenshot_dir(pytestconfig) -> pathlib.Path:
    """``test-results/`` (pytest-playwright's --output, emptied by it at the start of a session)."""
    path = pathlib.Path(pytestconfig.getoption("--output")).absolute()
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def shot(page, screenshot_dir, request):
    """shot("name") saves a full-page PNG as test-results/<test name>-<name>.png and returns its path."""
    def _shot(name: str) -> pathlib.Path:
        path = screenshot_dir / f"{request.node.name}-{name}.png"
        # caret="initial": hiding the caret (the default) leaves style="" on every input, which
        # htmx then copies onto swapped-in elements (a "style" settle) and the CSP reports.
        page.screenshot(path=str(path), full_page=True, caret="initial")
        return path
    return _shot


@pytest.fixture
def browser_app(make_app):
    """(app, ids): an app with CSRF enabled on the standard world; ``ids`` holds plain ids."""
    from app.extensions import db
    from tests.factories import build_world

    app = make_app("sqlite", WTF_CSRF_ENABLED=True)
    with app.app_context():
        w = build_world()
        ids = SimpleNamespace(period=w.period.code, gen=w.gen.id, ledger_a=w.ledger_a.id, ledger_b=w.ledger_b.id,
                              books=w.books.id, shared=w.shared.id, fund_a=w.fund_a.id, fund_b=w.fund_b.id)
        db.session.remove()
    return app, ids


@pytest.fixture
def live_server(browser_app):
    """Base URL of ``browser_app`` served by werkzeug on 127.0.0.1 (a free port), in a thread."""
    app, _ = browser_app
    with served(app) as base:
        yield base


@pytest.fixture
def page_problems(page):
    """JavaScript errors and console errors (CSP violations among them) seen by the page.

    "Failed to load resource" lines are left out: the browser logs one for every deliberate
    4xx answer (a refused form comes back as 422)."""
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: problems.append(f"console.{msg.type}: {msg.text} [at {msg.location}]")
            if msg.type == "error" and "Failed to load resource" not in msg.text else None)
    return problems


@pytest.fixture
def log_in(page, live_server):
    """log_in("fundmgr") logs in through the real form and waits for the dashboard."""
    def _log_in(username: str, password: str = PASSWORD) -> None:
        page.goto(f"{live_server}/login")
        page.locator("#username").fill(username)
        page.locator("#password").fill(password)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
        expect(page.locator("#fund-tree")).to_be_visible()
    return _log_in
