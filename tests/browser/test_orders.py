"""Real browser: a PO line from the form to received, and a cancellation with its inventory warning.

Create a line through the form, approve it, send it and receive it with the page's buttons,
watching the status badge and the fund's encumbrance (funds tab and fund page); then cancel
another line and see the warning about deleted inventory before confirming. Screenshots go to
test-results/. Every wait is one of Playwright's auto-waiting assertions.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


@pytest.fixture
def order_data(browser_app):
    """A vendor and a line of library A to cancel later (approved: 2 × 30.00 EUR on A-BKS)."""
    from app.auth.models import User
    from app.extensions import db
    from app.funds.models import Fund
    from app.orders import services as orders
    from app.org.models import Library
    from app.vendors import services as vendors

    app, ids = browser_app
    with app.app_context():
        admin = db.session.scalar(db.select(User).filter_by(username="admin"))
        lib_a = db.session.scalar(db.select(Library).filter_by(code="LIBA"))
        vendor = vendors.create_vendor(admin, "EURV", vendors.VendorFields(name="Euro Books", currency="EUR"))
        pol = orders.create_po_line(admin, orders.POLineFields(
            vendor=vendor, title="A line to cancel", list_price="30.00", quantity=2, owner_library=lib_a,
            inventory_library=lib_a, distribution=[orders.Share(db.session.get(Fund, ids.fund_a), "100")]))
        orders.approve_po_line(admin, pol)
        db.session.commit()
        number = pol.number
        db.session.remove()
    return number


def badge(page: Page):
    return page.locator("#pol-page h1 .badge")


def test_order_from_form_to_receipt_then_cancel_another(page: Page, live_server, browser_app, order_data, log_in,
                                                        shot, page_problems):
    _, ids = browser_app
    log_in("buyer")

    # -- create through the form
    page.goto(f"{live_server}/orders/lines/")
    page.get_by_role("link", name="New PO line").click()
    expect(page.get_by_role("heading", name="New PO line")).to_be_visible()
    page.select_option("#vendor", label="EURV — Euro Books (EUR)")
    page.select_option("#owner_library", label="LIBA — Library A")
    page.locator("#title").fill("Browsers and their pages")
    page.locator("#author").fill("Tester, Tina")
    page.locator("#list_price").fill("25.00")
    page.locator("#quantity").fill("2")
    page.select_option("#fund_1", label="A-BKS — A books (EUR, FY2026)")
    page.locator("#share_1").fill("60")
    page.get_by_role("button", name="Save", exact=True).click()
    # a wrong distribution comes back on the form, next to the funds
    expect(page.locator("#distribution-err")).to_contain_text("add up to 60")
    shot("form-error")
    page.locator("#share_1").fill("100")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(badge(page)).to_have_text("In Review")
    number = re.search(r"POL-\d{6}", page.url).group(0)
    expect(page.locator(".flash.ok")).to_contain_text(f"{number} created.")
    shot("created")

    # -- approve: the line is Ready and A-BKS carries its encumbrance
    page.get_by_role("button", name="Approve").click()
    expect(badge(page)).to_have_text("Ready")
    tabs = page.get_by_role("navigation", name="PO line sections")
    tabs.get_by_role("link", name="Funds", exact=True).click()
    fund_link = page.locator("a.fund-encumbered[data-fund='A-BKS']")
    expect(fund_link).to_have_text("110.00 EUR")  # 50.00 of this line + 60.00 of the other
    expect(page.locator("table.funds-tab tbody tr").first).to_contain_text("50.00")
    shot("approved-funds")

    # -- send
    page.get_by_role("button", name="Send to vendor").click()
    expect(badge(page)).to_have_text("Sent")
    expect(page.locator("#status .flash.ok")).to_contain_text("sent to EURV with PO-")

    # -- receive both copies from the inventory tab
    page.get_by_role("link", name="Receive…").click()
    form = page.locator("#receive-form")
    expect(form.get_by_role("checkbox")).to_have_count(2)
    for box in form.get_by_role("checkbox").all():
        expect(box).to_be_checked()
    shot("receive-form")
    form.get_by_role("button", name="Receive").click()
    expect(badge(page)).to_have_text("Waiting for Invoice")
    expect(page.locator("#status .flash.ok")).to_contain_text("2 item(s) of")
    expect(page.locator("table.items tbody tr")).to_have_count(2)
    expect(page.locator("table.items tbody")).not_to_contain_text("Not in place")
    shot("received")

    # the fund page shows the encumbrance of both lines
    page.goto(f"{live_server}/funds/{ids.fund_a}")
    expect(page.locator("dl.figures")).to_contain_text("110.00")

    # the vendor's Orders and Invoices tabs load the orders' and invoices' own fragments
    page.goto(f"{live_server}/vendors/")
    page.get_by_role("link", name="EURV", exact=True).click()
    vendor_tabs = page.get_by_role("navigation", name="Vendor sections")
    vendor_tabs.get_by_role("link", name="Orders").click()
    expect(page.locator("#tab-panel")).to_contain_text(number)
    expect(page.locator("#tab-panel")).to_contain_text("PO-")
    shot("vendor-orders")
    vendor_tabs.get_by_role("link", name="Invoices").click()
    expect(page.locator("#tab-panel .vendor-invoices")).to_contain_text("No invoices yet.")

    # -- cancel the other line: the confirmation warns that inventory will be deleted
    page.goto(f"{live_server}/orders/lines/{order_data}")
    expect(badge(page)).to_have_text("Ready")
    page.get_by_role("link", name="Cancel line…").click()
    warning = page.locator(".cancel-confirm .warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Cancelling deletes inventory")
    expect(warning).to_contain_text("2 item(s) and 1 holding(s)")
    expect(page.locator(".cancel-confirm")).to_contain_text("A-BKS: 60.00 EUR")
    shot("cancel-confirm")
    page.get_by_role("button", name="Cancel the PO line").click()
    expect(page.locator("#reason-err, .field.has-error .error")).to_contain_text("Give the reason")
    page.locator("#reason").fill("The vendor cannot supply it.")
    page.get_by_role("button", name="Cancel the PO line").click()
    expect(badge(page)).to_have_text("Cancelled")
    expect(page.locator(".flash.ok")).to_contain_text("2 item(s) and 1 holding(s) deleted")
    shot("cancelled")

    page.goto(f"{live_server}/funds/{ids.fund_a}")
    expect(page.locator("dl.figures")).to_contain_text("50.00")
    assert page_problems == []
