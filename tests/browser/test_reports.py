"""Real browser: the reports page, a filter changed, the chart and table swapped in place by HTMX."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_changing_a_filter_redraws_the_chart(page: Page, live_server, browser_app, log_in, shot, page_problems):
    app, ids = browser_app
    with app.app_context():
        from testkit.world import load_world
        from tests.reports.spending import build_spending
        build_spending(load_world())
    page.set_viewport_size({"width": 1024, "height": 800})
    log_in("fundmgr")
    page.get_by_role("link", name="Reports").click()
    chart = page.locator("#report-chart")
    expect(chart).to_be_visible()
    expect(chart.locator("text.val.end")).to_contain_text(["Expended 290.55"])
    page.evaluate("window.__marker = 1")
    shot("months")

    page.locator("#f-ledger").select_option(label="LEDB")
    expect(chart.locator("text.val.end")).to_contain_text(["Expended 50.00"])
    expect(page).to_have_url(f"{live_server}/reports/?report=months&period=FY2026&ledger={ids.ledger_b}&library=")
    assert page.evaluate("window.__marker") == 1, "the filter reloaded the whole page"

    settled(page)
    page.locator("#f-report").select_option(label="Spending by fund type")
    expect(page.locator("#report-title")).to_contain_text("Spending by fund type")
    expect(page.locator("table.report-table tbody tr")).to_have_count(1)   # B-BKS: no fund type
    settled(page)
    page.locator("#f-ledger").select_option(label="All ledgers")
    expect(page.locator("table.report-table tbody tr")).to_have_count(2)
    shot("fund-types")
    assert not page_problems


def settled(page):
    """Wait until HTMX has finished swapping and settling the last answer (the form is part of what
    it swaps: a choice made on the old form while the new one settles would be lost)."""
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")).to_have_count(0)
