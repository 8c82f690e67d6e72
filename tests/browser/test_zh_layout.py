"""Real browser, in Chinese: the main pages at 1024 and 1400 px wide, photographed (test-results/), none
scrolling sideways or hiding its overflow, no text spilling out of the header, and the header menu on
one band at 1400 px. Chinese labels are shorter or longer than English ones in places; this is where a
button or a column that no longer fits would show."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser import a11y_pages
from tests.browser.a11y_pages import main_pages
from tests.browser.test_reflow import MEASURE
from tests.helpers import PASSWORD

pages_data = a11y_pages.pages_data   # a fixture

pytestmark = [pytest.mark.browser, pytest.mark.browser_context_args(locale="zh-CN")]

# Text boxes (buttons, badges, header links, table heads) whose text is wider than the box.
SPILLED = """() => [...document.querySelectorAll('header.top a, header.top button, button, .badge, th, summary.button, a.button')]
  .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible'
               && !e.closest('.table-scroll, .scroll'))
  .map(e => (e.textContent || '').trim().slice(0, 40))"""


def log_in_chinese(page: Page, live_server: str, username: str) -> None:
    """Log in through the login form shown in Chinese (the shared log_in looks for English names)."""
    page.goto(f"{live_server}/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    expect(page.locator("header.top .who")).to_be_visible()


def test_chinese_pages_fit_at_1024_and_1400(page: Page, live_server, browser_app, pages_data, liable_vendor,
                                            shot, page_problems):
    _, ids = browser_app
    log_in_chinese(page, live_server, "admin")
    pages = main_pages(pages_data, ids)
    problems = {}
    for width in (1400, 1024):
        page.set_viewport_size({"width": width, "height": 900})
        for name, url in pages.items():
            page.goto(live_server + url)
            expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
            m = page.evaluate(MEASURE)
            if m["hiddenOverflow"] or m["scroll"] > m["inner"]:
                problems[f"{name}@{width}"] = f"page {m['scroll']} px wide in a {m['inner']} px window"
            spilled = page.evaluate(SPILLED)
            if spilled:
                problems[f"{name}@{width}"] = f"text wider than its box: {spilled[:5]}"
            shot(f"{name}-{width}")
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())
    assert page_problems == []
