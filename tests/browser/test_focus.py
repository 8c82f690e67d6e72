"""Real browser, keyboard only: after an HTMX swap, focus stays on the control that asked (the fund
tree's toggle, given back with its id) and the next Tab reaches the rows just revealed; a swap
nobody focused (the page just loaded) moves no focus. Groundwork of issue 22."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_expanding_the_fund_tree_keeps_focus_on_its_toggle(page: Page, live_server, browser_app, log_in,
                                                          page_problems):
    _, ids = browser_app
    gen, books = f"L{ids.gen}", f"F{ids.books}"
    log_in("fundmgr")
    page.goto(f"{live_server}/funds/?period=FY2026")
    toggle = page.locator(f"#row-{gen} .toggle")
    toggle.focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"#row-{books}")).to_be_visible()
    expect(page.locator(f"#row-{gen} .toggle")).to_have_attribute("aria-expanded", "true")
    expect(page.locator(f"#row-{gen} .toggle")).to_be_focused()
    # The next Tabs walk into the revealed rows (not back to the top of the page).
    page.keyboard.press("Tab")
    focused_row = page.evaluate("document.activeElement.closest('tr') && document.activeElement.closest('tr').id")
    assert focused_row in (f"row-{gen}", f"row-{books}") or (focused_row or "").startswith("row-F"), focused_row
    # Collapsing gives focus back to the same toggle too.
    page.locator(f"#row-{gen} .toggle").focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"#row-{books}")).to_have_count(0)
    expect(page.locator(f"#row-{gen} .toggle")).to_be_focused()
    assert page_problems == []
