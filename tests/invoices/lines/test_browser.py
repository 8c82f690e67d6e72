"""Real browser: from the invoices page to the invoice line list, filter by vendor, then show the
price note; each change swaps the table alone and keeps the choice in the URL."""
from __future__ import annotations

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


def test_filter_by_vendor_and_show_the_price_note(page, live_server, log_in, page_problems, two_vendors, shot):
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

    page.get_by_label("Show price note").check()
    expect(table.locator("th", has_text="Price note")).to_be_visible()
    expect(table).to_contain_text("Early bird price")
    expect(page).to_have_url(re.compile(r"price_note=1"))
    shot("price-note")

    page.reload()   # the choice lives in the URL
    expect(page.get_by_label("Show price note")).to_be_checked()
    expect(page.locator("#invoice-line-table")).to_contain_text("Early bird price")
    expect(page.locator("#invoice-line-table")).not_to_contain_text("O-1")
    assert page_problems == []
