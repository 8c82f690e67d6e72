"""Real browser: an invoice from In Review to Closed through its pages.

The set-up makes (with the services; the invoice form is tested elsewhere) a received PO line of
library A and an invoice for it. In the browser the invoice operator saves and continues it, the
invoice manager approves it from the In Approval task list and records the payment on the invoice
page; the invoice is Closed, its PO line closes, and the fund page's expended figure changes.
Screenshots go to test-results/. Every wait is one of Playwright's auto-waiting assertions.
"""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


@pytest.fixture
def invoice_data(browser_app):
    """A PO line of library A (100.00 EUR on A-BKS) approved, sent and received, and invoice
    INV-77 for it (In Review), created by the invoice operator."""
    from app.auth.models import User
    from app.extensions import db
    from app.funds.distribution import Share
    from app.funds.models import Fund
    from app.invoices import services as invoices
    from app.orders import services as orders
    from app.org.models import Library
    from app.vendors import services as vendors

    app, ids = browser_app
    with app.app_context():
        def user(name):
            return db.session.scalar(db.select(User).filter_by(username=name))
        admin = user("admin")
        lib_a = db.session.scalar(db.select(Library).filter_by(code="LIBA"))
        fund_a = db.session.get(Fund, ids.fund_a)
        vendor = vendors.create_vendor(admin, "EURV", vendors.VendorFields(name="Euro Books", currency="EUR"))
        pol = orders.create_po_line(admin, orders.POLineFields(
            vendor=vendor, title="Invoiced atlas", list_price="100.00", quantity=1, owner_library=lib_a,
            inventory_library=lib_a, distribution=[orders.Share(fund_a, "100")]))
        orders.approve_po_line(admin, pol)
        orders.send_po_line(admin, pol)
        orders.receive_po_line(admin, pol)
        inv = invoices.create_invoice(user("invoicer"), invoices.InvoiceFields(
            number="INV-77", vendor=vendor, invoice_date=date(2026, 3, 1), total_amount="100.00",
            owner_library=lib_a, lines=[invoices.LineFields(unit_price="100.00", po_line=pol,
                                                       distribution=[Share(fund_a, "100")])]))
        db.session.commit()
        data = SimpleNamespace(invoice_id=inv.id, pol=pol.number, fund_a=ids.fund_a)
        db.session.remove()
    return data


def badge(page: Page):
    return page.locator("#invoice-page h1 .badge")


def expended(page: Page):
    return page.locator("dl.figures div", has_text="Expended").locator("dd")


def test_invoice_from_review_to_closed(page: Page, live_server, invoice_data, log_in, shot, page_problems):
    d = invoice_data
    log_in("invoicer")
    page.goto(f"{live_server}/funds/{d.fund_a}")
    expect(expended(page)).to_have_text("0.00")

    # -- the invoice operator finds the invoice in the list and saves and continues it
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Invoices").click()
    expect(page.get_by_role("heading", name="Invoices")).to_be_visible()
    shot("list")
    page.locator("#invoice-table").get_by_role("link", name="INV-77").click()
    expect(badge(page)).to_have_text("In Review")
    expect(page.locator("#invoice-page dl.figures")).to_contain_text("100.00")
    shot("in-review")
    page.get_by_role("button", name="Save and continue").click()
    expect(badge(page)).to_have_text("In Approval")
    expect(page.locator("#status .flash.ok")).to_contain_text("waits for approval")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)  # not an invoice manager
    shot("in-approval")
    page.get_by_role("button", name="Log out").click()

    # -- the invoice manager approves it from the In Approval task list
    log_in("invmanager")
    page.goto(f"{live_server}/invoices/")
    page.get_by_role("link", name="In Approval").click()
    tasks = page.locator("#invoice-tasks")
    expect(tasks.get_by_role("link", name="INV-77")).to_be_visible()
    shot("approval-task-list")
    tasks.get_by_role("button", name="Approve INV-77").click()
    expect(tasks.locator(".flash.ok")).to_contain_text("Invoice INV-77 approved")
    expect(tasks.get_by_role("link", name="INV-77")).to_have_count(0)
    shot("approved")

    # -- the funds tab shows the expenditure posted
    page.goto(f"{live_server}/invoices/{d.invoice_id}")
    expect(badge(page)).to_have_text("Ready to be Paid")
    page.get_by_role("navigation", name="Invoice sections").get_by_role("link", name="Funds").click()
    expect(page.locator("table.invoice-postings")).to_contain_text("expenditure")
    expect(page.locator("table.invoice-postings")).to_contain_text("A-BKS")

    # -- record the payment: the invoice closes, and so does its received PO line
    page.get_by_text("Record payment…").click()
    expect(page.locator("#pay-amount")).to_have_value("100.00")
    page.locator("#pay-voucher").fill("VCH-2026-001")
    page.locator("#pay-date").fill("2026-03-20")
    shot("payment-form")
    page.get_by_role("button", name="Record payment and close").click()
    expect(badge(page)).to_have_text("Closed")
    expect(page.locator("#status .flash.ok")).to_contain_text("voucher VCH-2026-001")
    shot("closed")
    page.get_by_role("navigation", name="Invoice sections").get_by_role("link", name="Lines").click()
    row = page.locator("table.invoice-lines tbody tr").first
    expect(row).to_contain_text(d.pol)
    expect(row.locator(".badge")).to_have_text("Closed")
    page.get_by_role("navigation", name="Invoice sections").get_by_role("link", name="Summary").click()
    expect(page.locator("#tab-panel")).to_contain_text("voucher VCH-2026-001, 2026-03-20")

    # -- the fund page: expended 100.00 (the PO line's encumbrance released)
    page.goto(f"{live_server}/funds/{d.fund_a}")
    expect(expended(page)).to_have_text("100.00")
    shot("fund")

    # -- the search box on every page finds the invoice and its PO line
    page.get_by_role("searchbox", name="Search invoices, PO lines, vendors and funds").fill("INV-77")
    page.keyboard.press("Enter")
    expect(page.locator("#found-invoices")).to_contain_text("INV-77")
    page.get_by_role("searchbox", name="Search invoices, PO lines, vendors and funds").fill(d.pol)
    page.keyboard.press("Enter")
    expect(page.locator("#found-po-lines")).to_contain_text("Invoiced atlas")
    expect(page.locator("#found-invoices")).to_contain_text("INV-77")  # an invoice line links it
    shot("search")
    assert page_problems == []
