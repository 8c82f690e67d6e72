"""Real browser, finding 2 of issue 12: an htmx request of an expired session lands on the login
page (HX-Redirect), and a cookie kept from before logging out opens nothing."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.auth.conftest import Clock

pytestmark = pytest.mark.browser


@pytest.fixture
def clock(monkeypatch):
    import app.auth.services as services
    c = Clock()
    monkeypatch.setattr(services, "utcnow", c)
    return c


def test_H12_02_htmx_request_of_an_idle_session_goes_to_the_login_page(page: Page, live_server, browser_app,
                                                                      log_in, clock):
    _, ids = browser_app
    log_in("fundmgr")
    page.goto(f"{live_server}/funds/?period=FY2026")
    toggle = page.locator(f"#row-L{ids.gen} .toggle")
    expect(toggle).to_have_attribute("aria-expanded", "false")

    clock.advance(hours=8, minutes=1)
    toggle.click()  # an htmx GET answered 401 with HX-Redirect
    expect(page).to_have_url(re.compile(re.escape(f"{live_server}/login?next=/funds/")))
    expect(page.get_by_text("Your session has ended. Please log in again.")).to_be_visible()
    log_in("fundmgr")  # and back to work


def test_H12_02_cookie_kept_from_before_logout_opens_nothing(page: Page, live_server, log_in):
    log_in("fundmgr")
    kept = page.context.cookies()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    page.context.add_cookies(kept)
    page.goto(f"{live_server}/funds/")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
