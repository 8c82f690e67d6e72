"""The fund dashboard in Chromium at 1024 px: the column chooser changes the tree's columns, the
download has those columns, the grand total and the bar's hover title are there, nothing overflows."""
from __future__ import annotations

import io

from openpyxl import load_workbook
from playwright.sync_api import Page, expect


def _fits(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_choose_columns_and_export_the_dashboard(page: Page, live_server, browser_app, log_in, shot, page_problems):
    _, ids = browser_app
    page.set_viewport_size({"width": 1024, "height": 800})
    log_in("fundmgr")
    page.goto(f"{live_server}/funds/?period=FY2026&open=L{ids.gen},F{ids.books}")
    shared = page.locator(f"#row-F{ids.shared}")
    expect(shared.locator("td.pct")).to_have_text("0.0%")
    expect(shared.locator("svg.bar title")).to_have_text(
        "0.0% spent: expended 0.00 EUR, encumbered 0.00 EUR of 1,000.00 EUR allocated; available 1,000.00 EUR")
    expect(shared.get_by_role("img")).to_have_accessible_name(
        "0.0% spent: expended 0.00 EUR, encumbered 0.00 EUR of 1,000.00 EUR allocated; available 1,000.00 EUR")
    expect(page.locator("#total-EUR td.money").first).to_have_text("3,000.00")
    shot("1024-default")
    assert _fits(page), "the default columns fit 1024 px"

    # Open the chooser, add "Library", hide "Encumbered": the tree reloads with those columns.
    page.locator("#columns-fund_dashboard > summary").click()
    menu = page.locator("#columns-fund_dashboard form")
    menu.get_by_role("checkbox", name="Library", exact=True).check()
    expect(page.locator("#fund-tree thead th", has_text="Library")).to_have_count(1)
    page.locator("#columns-fund_dashboard form").get_by_role("checkbox", name="Encumbered", exact=True).uncheck()
    expect(page.locator("#fund-tree thead th", has_text="Encumbered")).to_have_count(0)
    expect(shared.locator("td", has_text="Institution")).to_have_count(1)
    shot("1024-chooser-open")
    assert _fits(page), "more columns: the tree scrolls inside its box, the page stays 1024 px wide"

    # The toggles still work after the reload (the tree box passes nothing on to them).
    page.locator(f"#row-F{ids.books} .toggle").click()
    expect(shared).to_have_count(0)
    expect(page.locator(f"#row-F{ids.books} td", has_text="Institution")).to_have_count(1)

    with page.expect_download() as download:
        page.get_by_role("link", name="Excel (.xlsx)").click()
    rows = list(load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active.iter_rows(values_only=True))
    assert rows[0] == ("Level", "Parent", "Code", "Name", "Currency", "Allocated", "Expended", "Available",
                       "% spent", "Library"), "the shown columns in their order (a ticked one goes last)"
    assert len(rows) == 1 + 7 and {r[2]: r[9] for r in rows[1:]}["A-BKS"] == "LIBA"
    assert not page_problems, page_problems
