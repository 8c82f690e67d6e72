"""Real browser: the vendor page's tab mark follows the tab shown, after an HTMX load and after Back."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


@pytest.fixture
def vendor_id(browser_app):
    from app.auth.models import User
    from app.extensions import db
    from app.vendors import services as vendors

    app, _ = browser_app
    with app.app_context():
        admin = db.session.scalar(db.select(User).filter_by(username="admin"))
        vendor = vendors.create_vendor(admin, "TABV", vendors.VendorFields(name="Tabbed Books", currency="EUR"))
        db.session.commit()
        vendor_id = vendor.id
        db.session.remove()
    return vendor_id


def test_the_tab_mark_follows_the_tab_shown(page: Page, live_server, vendor_id, log_in, shot, page_problems):
    log_in("buyer")
    page.goto(f"{live_server}/vendors/{vendor_id}")
    tabs = page.get_by_role("navigation", name="Vendor sections")
    current = tabs.locator('[aria-current="page"]')
    expect(current).to_have_text("Details")

    tabs.get_by_role("link", name="Accounts").click()
    expect(page).to_have_url(re.compile(r"tab=accounts"))
    expect(page.locator("#tab-panel")).to_have_attribute("aria-label", "Accounts")
    expect(current).to_have_text("Accounts")
    expect(current).to_have_count(1)
    shot("accounts")

    tabs.get_by_role("link", name="Orders").click()
    expect(page.locator("#tab-panel")).to_have_attribute("aria-label", "Orders")
    expect(current).to_have_text("Orders")

    page.go_back()
    expect(page).to_have_url(re.compile(r"tab=accounts"))
    expect(page.locator("#tab-panel")).to_have_attribute("aria-label", "Accounts")
    expect(current).to_have_text("Accounts")
    expect(current).to_have_count(1)
    assert page_problems == []
