"""Real browser, keyboard only (issue 22, point 2): a refused form puts the focus on its error summary or
its first invalid field; a long form's Save is a few Tabs from the top of the page, not dozens."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

SETTLING = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"


def tabs_to(page: Page, button: str, limit: int = 40) -> int | None:
    """The Tabs from the skip link (the page's first stop) to the button named ``button``."""
    page.locator("a.skip").focus()
    for n in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName === 'BUTTON' && document.activeElement.textContent.trim()") \
                == button:
            return n
    return None


def test_an_empty_po_line_save_focuses_the_error_summary(page: Page, live_server, log_in, page_problems):
    log_in("buyer")
    page.goto(f"{live_server}/orders/lines/new")
    tabs = tabs_to(page, "Save")
    assert tabs is not None and tabs <= 20, tabs   # the header's links, the crumbs, Save (59 before)
    page.keyboard.press("Enter")
    expect(page.locator(SETTLING)).to_have_count(0)
    summary = page.locator("#pol-errors")
    expect(summary).to_be_focused()
    link = summary.get_by_role("link").first
    expect(link).to_have_attribute("href", "#vendor")
    # Each problem links to its field: Enter on it puts the focus there.
    page.keyboard.press("Tab")
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#vendor")).to_be_focused()
    expect(page.locator("#vendor")).to_have_attribute("aria-invalid", "true")
    assert page_problems == []


def test_the_invoice_form_focuses_vendor_when_it_is_the_first_invalid_field(page: Page, live_server, log_in,
                                                                           page_problems):
    log_in("invoicer")
    page.goto(f"{live_server}/invoices/new")
    expect(page.locator("#number")).to_be_focused()   # a new invoice starts at its number
    page.keyboard.type("KEY-2")
    tabs = tabs_to(page, "Save")
    assert tabs is not None and tabs <= 20, tabs   # 94 to the old bottom bar
    page.keyboard.press("Enter")
    expect(page.locator(SETTLING)).to_have_count(0)
    expect(page.locator("#vendor")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#number")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#vendor")).to_be_focused()
    assert page_problems == []


def test_the_vendor_forms_save_is_near_the_top(page: Page, live_server, log_in, page_problems):
    log_in("admin")
    page.goto(f"{live_server}/vendors/new")
    tabs = tabs_to(page, "Save")
    assert tabs is not None and tabs <= 20, tabs   # 36 before
    page.keyboard.press("Enter")   # nothing filled in: refused, the first invalid field has the focus
    expect(page.locator(SETTLING)).to_have_count(0)
    expect(page.locator("[aria-invalid=true]").first).to_be_focused()
    assert page_problems == []
