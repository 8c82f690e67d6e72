"""Real browser, the long PO line form: the account select follows the vendor; a refused save scrolls to an
error summary that has the focus and links to each field; a saved line's URL is in the address bar."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


@pytest.fixture
def two_vendors(browser_app):
    from app.auth.models import User
    from app.extensions import db
    from app.vendors import services as vendors

    app, _ = browser_app
    with app.app_context():
        admin = db.session.scalar(db.select(User).filter_by(username="admin"))
        one = vendors.create_vendor(admin, "ONEV", vendors.VendorFields(name="First Books", currency="EUR"))
        two = vendors.create_vendor(admin, "TWOV", vendors.VendorFields(name="Second Books", currency="EUR"))
        vendors.add_account(admin, one, "ONE-ACC", "First's account")
        vendors.add_account(admin, two, "TWO-ACC", "Second's account")
        db.session.commit()
        db.session.remove()


def account_labels(page: Page) -> list[str]:
    return page.locator("#vendor_account option").all_inner_texts()


def test_accounts_follow_the_vendor_and_errors_take_the_focus(page: Page, live_server, browser_app, two_vendors,
                                                              log_in, shot, page_problems):
    log_in("buyer")
    page.goto(f"{live_server}/orders/lines/new")
    expect(page.locator("#vendor_account option")).to_have_count(1)   # "None" until a vendor is chosen
    page.select_option("#vendor", label="ONEV — First Books (EUR)")
    expect(page.locator("#vendor_account option")).to_have_count(2)
    assert account_labels(page) == ["None", "ONEV / ONE-ACC — First's account"]
    page.select_option("#vendor_account", label="ONEV / ONE-ACC — First's account")
    page.select_option("#vendor", label="TWOV — Second Books (EUR)")
    expect(page.locator("#vendor_account option", has_text="TWO-ACC")).to_have_count(1)
    assert account_labels(page) == ["None", "TWOV / TWO-ACC — Second's account"]
    expect(page.locator("#vendor_account")).to_have_value("")

    # a refused save from the bottom of the long form: the summary at the top has the focus, in view
    page.select_option("#owner_library", label="LIBA — Library A")
    page.locator("#list_price").fill("25.00")
    page.locator("#quantity").fill("1")
    page.select_option("#fund_1", label="A-BKS — A books (EUR, FY2026)")
    page.locator("#share_1").fill("50")
    save = page.get_by_role("button", name="Save", exact=True)
    save.scroll_into_view_if_needed()
    save.click()
    summary = page.locator("#pol-errors")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    expect(summary.get_by_role("link")).to_have_count(1)   # the service names one problem at a time
    shot("error-summary")
    summary.get_by_role("link", name=re.compile("^Title: The title is required")).click()
    expect(page.locator("#title")).to_be_focused()
    page.locator("#title").fill("Summaries of errors")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name=re.compile("^Fund distribution: .*add up to 50"))).to_be_visible()

    page.locator("#share_1").fill("100")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(re.compile(r"/orders/lines/POL-\d{6}$"))
    number = re.search(r"POL-\d{6}", page.url).group(0)
    page.reload()   # F5 shows the line, not an empty form
    expect(page.locator("#pol-page h1")).to_contain_text(number)
    assert page_problems == []
