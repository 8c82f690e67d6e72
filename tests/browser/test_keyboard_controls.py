"""Real browser (issue 22, point 4): the controls work from the keyboard and every main page is clean
for assistive technology: no duplicate ids, no empty table header, each labelled landmark once, and
buttons whose accessible name contains their visible words."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

SETTLING = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"

# What is wrong on the page as it is now (after its scripts ran): a list of readable problems.
PAGE_CHECKS = """() => {
  const problems = [], seen = {};
  document.querySelectorAll('[id]').forEach(e => { seen[e.id] = (seen[e.id] || 0) + 1; });
  Object.entries(seen).filter(([, n]) => n > 1).forEach(([id, n]) => problems.push(`id "${id}" ${n} times`));
  document.querySelectorAll('th').forEach(th => {
    if (!th.textContent.trim() && !th.getAttribute('aria-label')) problems.push(`empty header: ${th.closest('table').outerHTML.slice(0, 80)}`);
  });
  const landmarks = {};
  document.querySelectorAll('nav, [role=search], [role=navigation], aside, form[aria-label], section[aria-label], [role=region]').forEach(e => {
    const name = e.getAttribute('aria-label') || (e.getAttribute('aria-labelledby') && document.getElementById(e.getAttribute('aria-labelledby')) || {}).textContent || '';
    const key = (e.getAttribute('role') || e.tagName.toLowerCase()) + ':' + name.trim();
    landmarks[key] = (landmarks[key] || 0) + 1;
  });
  Object.entries(landmarks).filter(([, n]) => n > 1).forEach(([k, n]) => problems.push(`landmark ${k} ${n} times`));
  document.querySelectorAll('button[aria-label], a[aria-label]').forEach(b => {
    const seen = b.textContent.replace(/\\s+/g, ' ').trim().toLowerCase(), name = b.getAttribute('aria-label').toLowerCase();
    if (seen && /[a-z]/.test(seen) && !name.includes(seen)) problems.push(`name "${name}" lacks its text "${seen}"`);
  });
  return problems;
}"""


@pytest.fixture
def pages_data(browser_app):
    from app.extensions import db
    from testkit.invoices import invoice
    from testkit.world import load_world
    from tests.orders.helpers import line, make_vendors

    app, _ = browser_app
    with app.app_context():
        world = load_world()
        orders = make_vendors(world)
        inv = invoice(world, world.user("invoicer"), orders.eur, number="CRAWL-1", library="a", amounts=("50.00",))
        pol = line(world, world.user("buyer"), orders.eur, title="Crawled book")
        data = SimpleNamespace(invoice_id=inv.id, pol=pol.number, vendor_id=orders.eur.id)
        db.session.remove()
    return data


def test_main_pages_have_unique_ids_labelled_headers_and_landmarks_once(page: Page, live_server, browser_app,
                                                                     pages_data, log_in, page_problems):
    _, ids = browser_app
    log_in("admin")
    urls = ["/work", "/funds/?period=FY2026&expand=all", f"/funds/{ids.shared}", "/ledgers/", "/fiscal-periods/",
            "/vendors/", f"/vendors/{pages_data.vendor_id}", f"/vendors/{pages_data.vendor_id}?tab=contacts",
            f"/vendors/{pages_data.vendor_id}?tab=accounts", "/vendors/new", "/inventory/", "/orders/lines/",
            "/orders/lines/new", f"/orders/lines/{pages_data.pol}", "/orders/pos", "/invoices/", "/invoices/new",
            f"/invoices/{pages_data.invoice_id}", f"/invoices/{pages_data.invoice_id}?tab=lines",
            "/invoices/tasks/review", "/invoices/lines/", "/invoices/find?q=a", "/reports/", "/admin/",
            "/admin/users", "/admin/erp/", "/admin/erp/jobs", "/fiscal-periods/closure", "/me"]
    found = {}
    for url in urls:
        page.goto(live_server + url)
        expect(page.locator("#main")).to_be_visible()
        problems = page.evaluate(PAGE_CHECKS)
        if problems:
            found[url] = problems
    assert not found, "\n".join(f"{url}: {p}" for url, ps in found.items() for p in ps)
    assert page_problems == []


def test_escape_closes_an_inline_form_and_gives_focus_back(page: Page, live_server, browser_app, log_in,
                                                         page_problems):
    _, ids = browser_app
    log_in("fundmgr")
    page.goto(f"{live_server}/funds/?period=FY2026&expand=all")
    opener = page.locator(f"#row-F{ids.shared} td.row-actions a", has_text="Transfer")
    opener.focus()
    page.keyboard.press("Enter")
    form = page.locator(f"#move-F{ids.shared} form")
    expect(form).to_be_visible()
    expect(page.locator(SETTLING)).to_have_count(0)
    assert form.evaluate("f => f.contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(form).to_have_count(0)
    expect(opener).to_be_focused()
    assert page_problems == []


def test_the_fiscal_period_select_waits_for_enter(page: Page, live_server, browser_app, log_in, page_problems):
    from app.extensions import db
    from app.funds import services as funds
    from testkit.world import load_world
    from datetime import date

    app, _ = browser_app
    with app.app_context():
        world = load_world()
        funds.create_fiscal_period(world.user("admin"), "FY2027", "Fiscal year 2027", date(2027, 1, 1),
                                   date(2027, 12, 31))
        db.session.commit()
        db.session.remove()
    log_in("fundmgr")
    page.goto(f"{live_server}/funds/?period=FY2026")
    page.evaluate("window.__marker = 1; window.__asked = 0;"
                  "document.addEventListener('htmx:beforeRequest', () => { window.__asked += 1; })")
    select = page.locator("#period")
    select.focus()
    page.keyboard.press("ArrowUp")     # (the latest period first) the choice moves; nothing is asked yet
    expect(select).to_have_value("FY2027")
    expect(page.locator("h1")).to_contain_text("Fiscal year 2026")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    assert page.evaluate("window.__asked") == 0   # (htmx asks within the change event itself)
    page.keyboard.press("Enter")        # now it shows FY2027
    expect(page.locator("h1")).to_contain_text("Fiscal year 2027")
    expect(page).to_have_url(re.compile(r"period=FY2027"))
    assert page.evaluate("window.__marker") == 1   # swapped by HTMX, not reloaded
    # A pick with the mouse (a change with no key before it) shows at once.
    page.locator("#period").select_option("FY2026")
    expect(page.locator("h1")).to_contain_text("Fiscal year 2026")
    assert page_problems == []
