"""Real browser: from the invoices page to the invoice line list, filter by vendor, then choose the
columns (show the price note, hide Funds, move Total first); each change swaps the table alone, the
choice is remembered, and the downloaded workbook has exactly those columns."""
from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def two_vendors(browser_app):
    """PLAIN's invoice P-1 (a line with a price note) and OTHER's O-1, both of library A."""
    from app.auth.models import User
    from app.extensions import db
    from app.funds.models import Fund
    from app.vendors import services as vendors
    from tests.invoices.helpers import invoice, lines
    from testkit.world import load_world

    app, _ = browser_app
    with app.app_context():
        world = load_world()
        admin = db.session.scalar(db.select(User).filter_by(username="admin"))
        fund_a = db.session.get(Fund, world.fund_a.id)
        plain = vendors.create_vendor(admin, "PLAIN", vendors.VendorFields(name="Plain books", currency="EUR"))
        other = vendors.create_vendor(admin, "OTHER", vendors.VendorFields(name="Other books", currency="EUR"))
        invoice(world, admin, plain, number="P-1", lines=lines("10.00", fund=fund_a, price_note="Early bird price"),
                amounts=("10.00",))
        invoice(world, admin, other, number="O-1", amounts=("20.00",))
        db.session.remove()
    return "PLAIN"


def test_filter_choose_columns_and_export_them(page, live_server, log_in, page_problems, two_vendors, shot):
    log_in("invoicer")
    page.goto(f"{live_server}/invoices/")
    page.get_by_role("link", name="Invoice lines").click()
    table = page.locator("#invoice-line-table")
    expect(table).to_contain_text("P-1")
    expect(table).to_contain_text("O-1")
    expect(table).not_to_contain_text("Early bird price")

    page.locator("#line-vendor").select_option(label="PLAIN")
    expect(table).not_to_contain_text("O-1")
    expect(table).to_contain_text("P-1")
    expect(page).to_have_url(re.compile(r"/invoices/lines/\?.*vendor=\d+"))

    page.get_by_text("Columns", exact=True).click()
    menu = page.locator("#columns-invoice_lines")
    menu.get_by_role("checkbox", name="Price note").check()
    expect(table.locator("th", has_text="Price note")).to_be_visible()
    expect(table).to_contain_text("Early bird price")
    expect(table).not_to_contain_text("O-1"), "the filter stays"
    menu = page.locator("#columns-invoice_lines")
    menu.get_by_role("checkbox", name="Funds").uncheck()
    expect(table.locator("th", has_text="Funds")).to_have_count(0)
    for place in range(7, -1, -1):   # Total up to the top, by keyboard: focus stays on its button
        settled(page)
        page.locator("#col-invoice_lines-total-up").focus()
        page.keyboard.press("Enter")
        expect(table.locator("th").nth(place)).to_have_text("Total")
        expect(page.locator("#col-invoice_lines-total-up")).to_be_focused()
    expect(table.locator("th").nth(0)).to_have_text("Total")
    shot("columns")

    headers = [h.strip(" ↑↓") for h in table.locator("th").all_text_contents()]
    assert "Price note" in headers and "Funds" not in headers and headers[0] == "Total", headers
    with page.expect_download() as download:
        table.get_by_role("link", name="Excel (.xlsx)").click()
    from openpyxl import load_workbook
    rows = list(load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active.iter_rows(values_only=True))
    expected = [h for h in headers]
    expected.insert(0, "Currency")   # an amount brings its currency, shown or not
    assert list(rows[0]) == expected and len(rows) == 2, rows
    assert "Early bird price" in rows[1] and 10 in rows[1]

    page.reload()   # the choice is remembered
    expect(page.locator("#invoice-line-table").locator("th", has_text="Price note")).to_be_visible()
    expect(page.locator("#invoice-line-table")).not_to_contain_text("O-1")
    assert page_problems == []


def settled(page):
    """Wait until HTMX has answered and settled (the chooser and the table are swapped whole: a key
    pressed on the old chooser while the new one settles would be lost)."""
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")).to_have_count(0)
