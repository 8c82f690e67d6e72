"""axe-core (axe-playwright-python bundles it) in a real browser: no violation of impact moderate or above on
the main pages (tests/browser/a11y_pages.py) as each role, on the pages that role may open; for the
administrator also with the VAT dialog and the column chooser open and after the main HTMX swaps (the fund tree expanded, an invoice
tab switched). One browser context per role; the roles in four tests (xdist runs them side by side). A page
whose markup (elements, attributes, where text is; not the words or links) another role's visit already had
is not checked again: axe would find the same there."""
from __future__ import annotations

import json

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser import a11y_pages
from tests.browser.a11y_pages import main_pages, open_vat_dialog, settle
from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser

pages_data = a11y_pages.pages_data   # a fixture

SEVERE = {"moderate", "serious", "critical"}
GROUPS = {"admin": ["admin"],   # one user per role, in four groups of about equal work
          "fundmgr-viewer": ["fundmgr", "viewer"], "buyer": ["buyer"],
          "invoice-roles": ["invoicer", "invoicer-ext", "invmanager"]}
AXE_SCRIPT = Axe().axe_script


def axe_problems(page: Page, where: str) -> list[str]:
    """The violations of impact moderate or above, one line each: rule, impact, where, the first elements."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)   # only into the pages checked (a skipped page does not pay for it)
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{where}: {v['id']} ({v['impact']}) {v['help']} — "
            + "; ".join(json.dumps(n["target"]) for n in v["nodes"][:3])
            for v in results["violations"] if v["impact"] in SEVERE]


# A fingerprint of the page's markup: tags, attribute names, the values of those that change what axe sees (not
# links, form values, tokens or titles) and where non-empty text is. Two pages with one fingerprint differ
# only in words, numbers, links and values.
SHAPE = """selector => {
  const drop = new Set(['href', 'value', 'title', 'content', 'action', 'src', 'hx-headers', 'hx-vals', 'hx-get', 'hx-post',
                        'hx-push-url', 'points', 'x', 'y', 'x1', 'x2', 'y1', 'y2', 'width', 'height', 'd', 'viewBox']);
  const parts = [];
  const walk = node => {
    for (const child of node.childNodes) {
      if (child.nodeType === 3) { if (child.textContent.trim()) parts.push('T'); continue; }
      if (child.nodeType !== 1) continue;
      parts.push('<' + child.tagName + [...child.attributes].map(a => ' ' + a.name + (drop.has(a.name) ? '' : '=' + a.value)).join(''));
      walk(child);
      parts.push('>');
    }
  };
  const root = document.querySelector(selector);
  if (root) walk(root);
  const text = parts.join('');
  let h1 = 0xdeadbeef, h2 = 0x41c6ce57;   // cyrb53
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761); h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h2 >>> 0).toString(16) + (h1 >>> 0).toString(16) + ':' + text.length;
}"""


def logged_in_context(browser: Browser, live_server: str, username: str) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server)
    page = context.new_page()
    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    return context, page


@pytest.mark.parametrize("group", GROUPS)
def test_no_axe_violations_on_the_main_pages(browser: Browser, live_server, browser_app, pages_data,
                                             liable_vendor, group):
    _, ids = browser_app
    seen: set[str] = set()
    problems: list[str] = []
    for username in GROUPS[group]:
        problems += check_as(browser, live_server, ids, pages_data, username, seen)
    assert problems == [], "\n".join(problems)


def check_as(browser: Browser, live_server: str, ids, pages_data, username: str, seen: set[str]) -> list[str]:
    """The problems axe finds on the main pages as ``username``, skipping a page whose fingerprint is in ``seen``."""
    context, page = logged_in_context(browser, live_server, username)
    problems, checked, reached = [], 0, 0
    try:
        for name, url in main_pages(pages_data, ids).items():
            response = page.goto(url)
            if response.status == 403:   # not this role's page (the role matrix checks that)
                continue
            assert response.ok, (username, name, url, response.status)
            reached += 1
            # The header (the menu differs by role) and the rest of the page each count.
            shapes = {"header " + page.evaluate(SHAPE, "header"), "main " + page.evaluate(SHAPE, "main")}
            if shapes <= seen:
                continue
            seen |= shapes
            problems += axe_problems(page, f"{username} {name}")
            checked += 1
        if username == "admin":
            # After the main HTMX swaps: the fund tree expanded, an invoice tab switched; the VAT dialog open.
            page.goto(f"/funds/?period={ids.period}")
            page.locator(f"#row-L{ids.gen} .toggle").click()
            expect(page.locator(f"#row-F{ids.books}")).to_be_visible()
            settle(page)
            problems += axe_problems(page, "admin fund tree expanded")
            page.goto(f"/invoices/{pages_data.invoice_id}")
            page.locator("nav.tabs a", has_text="Lines").click()
            expect(page.locator("nav.tabs a[aria-current]")).to_contain_text("Lines")
            settle(page)
            problems += axe_problems(page, "admin invoice lines tab")
            page.goto("/orders/lines/")
            page.locator("details.columns-menu > summary").click()
            expect(page.locator("details.columns-menu form")).to_be_visible()
            problems += axe_problems(page, "admin column chooser open")
            open_vat_dialog(page, live_server, ids.fund_a)
            problems += axe_problems(page, "admin VAT dialog open")
    finally:
        context.close()
    print(f"{username}: {reached} pages, {checked} checked by axe")
    assert reached >= 10, f"{username} reached only {reached} pages"
    return problems
