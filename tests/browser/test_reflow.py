"""Reflow (WCAG 2.2 1.4.10) in a real browser at 320 CSS px (a 1280 px window at 400 % zoom) and 640 px: no
main page scrolls sideways (a wide table scrolls inside its own box, which the page's width does not count),
every header menu link is inside the header and the window and is reached by Tab, and the VAT dialog and its
buttons fit. Screenshots of the dashboard and the VAT dialog go to test-results/ (the references a person checked are in docs/a11y/)."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser import a11y_pages
from tests.browser.a11y_pages import main_pages, open_vat_dialog

pages_data = a11y_pages.pages_data   # a fixture

pytestmark = pytest.mark.browser

SHOTS = ("dashboard",)

MEASURE = """() => {
  const root = document.documentElement, hidden = ['hidden', 'clip'];
  return {scroll: root.scrollWidth, inner: innerWidth,
          // hiding the overflow of the page would pass the width check and cut content off
          hiddenOverflow: hidden.includes(getComputedStyle(root).overflowX) || hidden.includes(getComputedStyle(document.body).overflowX)};
}"""

MENU = """() => {
  const header = document.querySelector('header.top').getBoundingClientRect();
  return [...document.querySelectorAll('header.top nav a')].map(a => {
    const r = a.getBoundingClientRect();
    return {href: a.getAttribute('href'), text: a.textContent.trim(), width: r.width,
            inside: r.left >= 0 && r.right <= innerWidth && r.left >= header.left && r.right <= header.right
                    && r.top >= header.top && r.bottom <= header.bottom};
  });
}"""


def tab_through_header(page: Page) -> list[str]:
    """The hrefs Tab reaches from the first control of the header until focus leaves it."""
    page.locator("header.top a.brand").focus()
    reached = []
    for _ in range(40):
        page.keyboard.press("Tab")
        el = page.evaluate("(() => { const e = document.activeElement; return e.closest('header.top') ? (e.getAttribute('href') || e.tagName) : null; })()")
        if el is None:
            break
        reached.append(el)
    return reached


def test_pages_reflow_without_sideways_scrolling(page: Page, live_server, browser_app, pages_data, liable_vendor,
                                                  log_in, shot, page_problems):
    _, ids = browser_app
    log_in("admin")
    for width in (320, 640):   # one test: the world and its data are made once
        page.set_viewport_size({"width": width, "height": 800})
        check_pages(page, live_server, main_pages(pages_data, ids), width, shot)
        check_menu(page, live_server)
        check_vat_dialog(page, live_server, ids, width, shot)
    assert page_problems == []


def check_pages(page: Page, live_server: str, pages: dict, width: int, shot) -> None:
    too_wide = {}
    for name, url in pages.items():
        page.goto(live_server + url)
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
        m = page.evaluate(MEASURE)
        if m["hiddenOverflow"]:
            too_wide[name] = "the page hides its sideways overflow"
        elif m["scroll"] > m["inner"]:
            too_wide[name] = f"page {m['scroll']} px wide in a {m['inner']} px window"
        if name in SHOTS:
            shot(f"{name}-{width}")
    assert not too_wide, f"at {width} px:\n" + "\n".join(f"{n} ({pages[n]}): {p}" for n, p in too_wide.items())


def check_menu(page: Page, live_server: str) -> None:
    """Every header menu link inside the header and the window, and reached by Tab."""
    page.goto(live_server + "/funds/")
    menu = page.evaluate(MENU)
    assert len(menu) >= 10, menu   # the administrator's menu: My work ... Administration
    assert [m["text"] for m in menu if not (m["inside"] and m["width"] > 0)] == []
    reached = tab_through_header(page)
    assert [m["href"] for m in menu if m["href"] not in reached] == [], reached


def check_vat_dialog(page: Page, live_server: str, ids, width: int, shot) -> None:
    """The VAT dialog fits the window, its buttons too."""
    open_vat_dialog(page, live_server, ids.fund_a)
    boxes = page.evaluate("""() => [...document.querySelectorAll('#dialog dialog[open], #dialog dialog[open] button')].map(e => {
        const r = e.getBoundingClientRect(); return [e.tagName + ' ' + e.textContent.trim().slice(0, 20), r.left, r.right, r.width]; })""")
    assert len(boxes) >= 3, boxes
    outside = [b for b in boxes if b[1] < 0 or b[2] > width or b[3] == 0]
    assert outside == [], outside
    m = page.evaluate(MEASURE)
    assert m["scroll"] <= m["inner"], m
    shot(f"vat-dialog-{width}")
