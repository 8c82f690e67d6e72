"""Regressions for two problems found while writing the browser tests: a second click on
Allocate/Transfer duplicated the inline form, and a stale CSRF token pasted a whole error page
into the fund table."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser


def _settled(page: Page) -> None:
    """Wait until htmx has no request, swap or settle in progress.

    (A function, not a bare expression: Playwright polls bare expressions with eval(), which
    the app's Content-Security-Policy refuses.)"""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')")


def test_opening_the_money_form_twice_keeps_one_form_row(page: Page, live_server, browser_app, log_in):
    _, ids = browser_app
    log_in("fundmgr")
    page.goto(f"{live_server}/funds/?period=FY2026&expand=all")
    row = page.locator(f"#row-F{ids.shared}")
    for name in ("Allocate", "Allocate", "Transfer"):
        with page.expect_response(lambda r: r.url.endswith(("/allocate", "/transfer"))):
            row.get_by_role("link", name=name).click()
        _settled(page)
    assert page.locator(f"[id='move-F{ids.shared}']").count() <= 1
    assert page.locator(f"[id='amount-F{ids.shared}']").count() == 1


def test_stale_csrf_token_on_an_inline_form_does_not_paste_a_page_into_the_table(page: Page, context, live_server,
                                                                                   browser_app, log_in):
    _, ids = browser_app
    log_in("fundmgr")
    page.goto(f"{live_server}/funds/?period=FY2026&expand=all")
    page.locator(f"#row-F{ids.shared}").get_by_role("link", name="Allocate").click()
    form_row = page.locator(f"#move-F{ids.shared}")
    expect(form_row).to_be_visible()

    # Logging in again in another tab starts a new session (and CSRF token): this tab's token is stale.
    other = context.new_page()
    other.goto(f"{live_server}/login")
    other.locator("#username").fill("fundmgr")
    other.locator("#password").fill(PASSWORD)
    other.get_by_role("button", name="Log in").click()
    expect(other.get_by_role("button", name="Log out")).to_be_visible()
    other.close()

    form_row.get_by_label("Amount").fill("10.00")
    with page.expect_response(lambda r: r.url.endswith("/allocate") and r.request.method == "POST") as answer:
        form_row.get_by_role("button", name="Allocate").click()
    assert answer.value.status == 400
    _settled(page)
    assert page.locator("header.top").count() == 1, "the error page's header was pasted into the table"
    assert page.locator("#fund-tree h1").count() == 0
    expect(page.locator("#problems")).to_contain_text("Reload the page")
