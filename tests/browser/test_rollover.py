"""Real browser (issue 14): an administrator opens Fiscal period closure from the fiscal periods
page, previews a rollover of FY2026 into FY2027 (a run in the server's background thread: its
progress, then the report come in place, nothing changes), commits it (another run) and sees the
stored report, with Undo offered and the run on Monitor Jobs. Every wait is one of Playwright's
auto-waiting assertions."""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


@pytest.fixture
def next_year(browser_app):
    """FY2027 exists; A-BKS has spent 250.00 of its 1,000.00 and a line of 40.00 is open on it."""
    from app.auth.models import User
    from app.extensions import db
    from app.funds import services as funds
    from app.funds.models import Fund
    from app.orders import services as orders
    from app.org.models import Library
    from app.vendors import services as vendors

    app, ids = browser_app
    with app.app_context():
        admin = db.session.scalar(db.select(User).filter_by(username="admin"))
        lib_a = db.session.scalar(db.select(Library).filter_by(code="LIBA"))
        fund_a = db.session.get(Fund, ids.fund_a)
        funds.post(admin, fund_a, "expenditure", "250.00", reference="INV-1")
        vendor = vendors.create_vendor(admin, "EURV", vendors.VendorFields(name="Euro Books", currency="EUR"))
        pol = orders.create_po_line(admin, orders.POLineFields(
            vendor=vendor, title="A line to roll over", list_price="40.00", quantity=1, owner_library=lib_a,
            inventory_library=lib_a, distribution=[orders.Share(fund_a, "100")]))
        orders.approve_po_line(admin, pol)
        funds.create_fiscal_period(admin, "FY2027", "Fiscal year 2027", date(2027, 1, 1), date(2027, 12, 31))
        db.session.commit()
        number = pol.number
        db.session.remove()
    return number


def test_admin_previews_commits_and_sees_the_report(page: Page, live_server, next_year, log_in, shot,
                                                     page_problems):
    log_in("admin")
    page.goto(f"{live_server}/fiscal-periods/")
    page.get_by_role("link", name="Fiscal period closure").click()
    expect(page.get_by_role("heading", name="Fiscal period closure")).to_be_visible()
    page.select_option("#source", "FY2026")
    page.select_option("#target", "FY2027")
    page.select_option("#allocation", "adjust")
    page.locator("#percent").fill("3")
    page.select_option("#carry", "available")
    page.evaluate("window.__marker = 1")

    page.get_by_role("button", name="Preview").click()
    run = page.locator("#rollover-run")
    expect(run).to_contain_text("Fiscal period rollover · FY2026→FY2027")
    report = run.locator("#rollover-figures")
    expect(report).to_contain_text("Preview — nothing was changed")
    expect(run.locator(".flash.ok")).to_contain_text("Nothing was changed.")
    expect(run.get_by_role("link", name=re.compile(r"Run #\d+ with its events"))).to_be_visible()
    fund_a = report.locator('tr[data-fund="A-BKS"]')
    # A-BKS: 1,000.00 allocated, 250.00 expended, 40.00 encumbered: 710.00 carried, 1,030.00 new
    expect(fund_a.locator(".carried")).to_have_text("710.00")
    expect(fund_a.locator(".new-allocation")).to_have_text("1,030.00")
    expect(report.locator(f'tr[data-line="{next_year}"]')).to_contain_text("Moved")
    assert page.evaluate("window.__marker") == 1, "the preview reloaded the page"
    expect(page.locator("#source")).to_have_value("FY2026")   # the form kept its choices
    shot("rollover-preview")

    page.get_by_role("button", name="Commit").click()
    expect(page).to_have_url(re.compile(r"/fiscal-periods/closure/\d+$"))   # the run ended: its rollover
    expect(page.get_by_role("heading", level=1)).to_contain_text("FY2026 → FY2027")
    expect(page.locator(".flash.ok")).to_contain_text("rolled over to FY2027")
    committed = page.locator("#rollover-figures")
    expect(committed).to_contain_text("Committed")
    expect(committed.locator('tr[data-fund="A-BKS"] .carried')).to_have_text("710.00")
    expect(page.get_by_role("button", name="Undo this rollover")).to_be_visible()
    shot("rollover-committed")

    page.get_by_role("link", name=re.compile(r"run #\d+")).click()   # the run on Monitor Jobs, and back
    expect(page.locator("#run-summary")).to_contain_text("Fiscal period rollover")
    page.get_by_role("link", name=re.compile(r"Report: rollover \d+")).click()
    expect(page.get_by_role("button", name="Undo this rollover")).to_be_visible()
    assert page_problems == []


def test_admin_sets_a_ledger_rule_and_overrides_a_fund_with_the_keyboard(page: Page, live_server, next_year, log_in,
                                                                           shot, page_problems):
    page.set_viewport_size({"width": 1024, "height": 800})
    log_in("admin")
    page.goto(f"{live_server}/fiscal-periods/closure")
    page.select_option("#source", "FY2026")
    page.select_option("#target", "FY2027")
    rules = page.locator("#rollover-rules")
    expect(rules.locator('tr[data-ledger="LEDB"]')).to_be_visible()
    page.evaluate("window.__marker = 1")
    # LEDB: +10 %, carry nothing
    page.select_option("#ledger-2-allocation", "adjust")
    page.locator("#ledger-2-percent").fill("10")
    page.locator("#ledger-2-percent").press("Tab")
    page.select_option("#ledger-2-carry", "none")
    expect(rules.locator('tr[data-ledger="LEDB"] .rule-gets')).to_have_text("allocation +10 %")
    # Override a fund, by keyboard: the new row's fund select takes the focus
    page.get_by_role("button", name="Override a fund").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#fund-0-code")).to_be_focused()
    page.select_option("#fund-0-code", "A-BKS")
    page.locator("#fund-0-code").press("Tab")
    expect(page.locator("#fund-0-allocation")).to_be_focused()
    page.select_option("#fund-0-allocation", "none")
    page.select_option("#fund-0-carry", "cash")
    expect(rules.locator('tr[data-override="0"] .rule-gets')).to_have_text("no allocation, carry cash balance")
    # a second override, then removed again: the focus goes back to "Override a fund"
    page.get_by_role("button", name="Override a fund").click()
    expect(page.locator("#fund-1-code")).to_be_focused()
    page.get_by_role("button", name="Remove override 2").click()
    expect(rules.locator("tr[data-override]")).to_have_count(1)
    expect(page.get_by_role("button", name="Override a fund")).to_be_focused()
    expect(page.locator("#fund-0-code")).to_have_value("A-BKS")
    shot("rules-table-1024")

    page.get_by_role("button", name="Preview").click()
    report = page.locator("#rollover-figures")
    expect(report).to_contain_text("Preview — nothing was changed")
    # A-BKS: 1,000.00 allocated, 250.00 expended: no allocation, its cash balance 750.00 carried
    expect(report.locator('tr[data-fund="A-BKS"] .carried')).to_have_text("750.00")
    expect(report.locator('tr[data-fund="A-BKS"] .new-allocation')).to_have_text("0.00")
    expect(report.locator('tr[data-fund="A-BKS"] .rule')).to_have_text("no allocation, carry cash balance (override)")
    expect(report.locator('tr[data-fund="B-BKS"] .new-allocation')).to_have_text("1,100.00")
    expect(report.locator('tr[data-fund="B-BKS"] .rule')).to_have_text("allocation +10 % (ledger LEDB)")
    expect(page.locator("#fund-0-code")).to_have_value("A-BKS")     # the form kept the overrides
    assert page.evaluate("window.__marker") == 1, "the page reloaded"
    width = page.evaluate("document.documentElement.scrollWidth")
    shot("rules-preview-1024")
    assert width <= 1024, f"the page is {width} px wide at 1024"
    shot("rules-preview-1024")
    assert page_problems == []
