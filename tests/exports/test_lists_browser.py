"""In Chromium at 1024 px: a fund's transactions with the column chooser open, a column added and
moved, and the downloaded CSV carrying the same columns."""
from __future__ import annotations

import csv
import io

from playwright.sync_api import expect


def test_choose_transaction_columns_and_export_them(page, live_server, browser_app, log_in, shot, page_problems):
    _, ids = browser_app
    page.set_viewport_size({"width": 1024, "height": 800})
    log_in("viewer")
    page.goto(f"{live_server}/funds/{ids.fund_a}")
    table = page.locator("table.transactions")
    expect(table.locator("thead th")).to_have_text(["Date ↓", "Type", "Amount", "Reference", "Note", "Other fund", "By"])
    page.locator("#columns-fund_transactions > summary").click()
    page.get_by_role("checkbox", name="Recorded (UTC)").check()
    expect(table.locator("thead th").last).to_have_text("Recorded (UTC)")
    page.get_by_role("checkbox", name="Note", exact=True).uncheck()
    expect(table.locator("thead th")).to_have_count(7)
    page.get_by_role("button", name="Move Recorded (UTC) up").click()
    expect(table.locator("thead th")).to_have_text(["Date ↓", "Type", "Amount", "Reference", "Other fund",
                                                    "Recorded (UTC)", "By"])
    shot("chooser-open")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    text = open(download.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["Date", "Type", "Currency", "Amount", "Reference", "Other fund", "Recorded (UTC)", "By"]
    assert rows[1][3] == "1000.00" and rows[1][4] == "INIT"
    assert page_problems == []
