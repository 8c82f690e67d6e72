"""Real browser: an invoice made from a purchase order, through the VAT question, to Closed.

The set-up (services) makes a vendor liable for VAT with no governmental vendor and a one-time
physical PO line of library A (100.00 EUR on A-BKS), approved, sent and received, so it waits for
its invoice. In the browser the invoice operator follows the PO page's "Create invoice" link to the
pre-filled form and saves and continues; the vendor/VAT check asks (liable, no VAT reported) and
"Yes, save" saves without VAT; with no approval rule the invoice waits In Approval. The invoice
manager approves it (Ready to be Paid) and records the payment (Closed); the PO line is Closed and
A-BKS shows 100.00 expended and nothing encumbered.

Runs on SQLite and on PostgreSQL (marked ``postgres``; ``browser_app`` is overridden here with the
``backend`` parameter). Screenshots go to test-results/ (and a copy to /tmp/e2e-shots). Every wait is one of
Playwright's auto-waiting assertions.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

SHOT_COPIES = Path("/tmp/e2e-shots")
VAT_QUESTION = "LIAB is liable for VAT, yet the invoice reports none. Save it without VAT?"


@pytest.fixture
def browser_app(make_app, backend):
    """The standard world with CSRF on, on each backend (the shared fixture serves SQLite only)."""
    from app.extensions import db
    from testkit.world import load_world

    app = make_app(backend, world=True, WTF_CSRF_ENABLED=True)
    with app.app_context():
        w = load_world()
        ids = SimpleNamespace(fund_a=w.fund_a.id)
        db.session.remove()
    return app, ids


@pytest.fixture
def received_line(browser_app):
    """Vendor LIAB (EUR, liable for VAT, no governmental vendor) and its PO with one received
    one-time physical line: 1 × 100.00 EUR on A-BKS, Waiting for Invoice."""
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
        vendor = vendors.create_vendor(admin, "LIAB", vendors.VendorFields(name="Liable Books", currency="EUR",
                                                                 liable_for_vat=True))
        pol = orders.create_po_line(admin, orders.POLineFields(
            vendor=vendor, title="Atlas of invoices", list_price="100.00", quantity=1, order_type="one_time",
            material_form="physical", owner_library=lib_a, inventory_library=lib_a,
            distribution=[orders.Share(db.session.get(Fund, ids.fund_a), "100")]))
        orders.approve_po_line(admin, pol)
        po = orders.send_po_line(admin, pol)
        orders.receive_po_line(admin, pol)
        db.session.commit()
        assert pol.status == "waiting_for_invoice" and vendor.governmental_vendor is None
        data = SimpleNamespace(pol=pol.number, po=po.number, pol_id=pol.id, fund_a=ids.fund_a,
                               fund_label=db.session.get(Fund, ids.fund_a).code)
        db.session.remove()
    return data


@pytest.fixture
def snap(page, shot):
    """snap("name"): the shared ``shot`` (test-results/<test>-<name>.png, the full page) plus a copy in
    /tmp/e2e-shots; ``viewport=True`` keeps to the window, i.e. what a person sees (a fixed dialog)."""
    def _snap(name: str, viewport: bool = False) -> Path:
        path = shot(name)
        if viewport:
            page.screenshot(path=str(path), caret="initial")
        SHOT_COPIES.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SHOT_COPIES / path.name)
        return path
    return _snap


def invoice_badge(page: Page):
    return page.locator("#invoice-page h1 .badge")


def fund_figure(page: Page, name: str):
    return page.locator("dl.figures div", has=page.locator("dt", has_text=name)).locator("dd")


def test_invoice_from_po_through_vat_question_to_closed(page: Page, live_server, received_line, log_in, snap,
                                                        page_problems):
    d = received_line
    log_in("invoicer")
    page.goto(f"{live_server}/funds/{d.fund_a}")
    expect(fund_figure(page, "Encumbered")).to_have_text("100.00")
    expect(fund_figure(page, "Expended")).to_have_text("0.00")

    # -- 1. the PO page's "Create invoice" opens the form pre-filled with the PO line
    page.goto(f"{live_server}/orders/pos/{d.po}")
    expect(page.locator("table.data tbody tr", has_text=d.pol)).to_contain_text("Waiting for Invoice")
    snap("1-po")
    page.get_by_role("link", name="Create invoice").click()
    expect(page.get_by_role("heading", name=f"New invoice from {d.po}")).to_be_visible()
    expect(page.locator("#vendor option:checked")).to_have_text("LIAB — Liable Books (EUR)")
    expect(page.locator("#owner_library option:checked")).to_have_text("LIBA — Library A")
    expect(page.locator("#total_amount")).to_have_value("100.00")
    expect(page.locator(".invoice-line")).to_have_count(1)
    expect(page.locator("#lines-0-po_line")).to_have_value(d.pol)
    expect(page.locator("#lines-0-quantity")).to_have_value("1")
    expect(page.locator("#lines-0-unit_price")).to_have_value("100.00")
    expect(page.locator("#lines-0-fund_1")).to_have_value(str(d.fund_a))
    expect(page.locator("#lines-0-share_1")).to_have_value("100")
    expect(page.locator("#lines-0-fully_invoiced")).to_be_checked()
    page.locator("#number").fill("LIAB-2026-01")
    page.locator("#invoice_date").fill("2026-03-01")
    page.locator("#total_amount").fill("100.00")
    snap("2-form")
    page.get_by_role("button", name="Save and continue").click()

    # -- 2. liable vendor, no VAT reported: the dialog asks; "Yes, save" saves without VAT
    dialog = page.locator("#dialog dialog[open]")
    expect(dialog.get_by_role("heading", name="Confirm the VAT")).to_be_visible()
    expect(dialog.locator(".question")).to_have_text(VAT_QUESTION)
    expect(dialog.get_by_role("button", name="Add VAT and raise the VAT invoice")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/invoices/new\?po="))  # nothing saved yet
    snap("3-vat-dialog", viewport=True)
    dialog.get_by_role("button", name="Yes, save").click()

    # -- 3. no approval rule: manual approval, the invoice waits In Approval
    expect(page).to_have_url(re.compile(r"/invoices/\d+$"))
    invoice_url = page.url
    expect(invoice_badge(page)).to_have_text("In Approval")
    expect(page.locator("#flashes")).to_contain_text("Invoice LIAB-2026-01 created: it is In Approval.")
    expect(page.locator("dl.invoice-figures")).to_contain_text("From a PO")
    expect(page.locator("dl.invoice-figures")).to_contain_text("100.00")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)  # not an invoice manager
    snap("4-in-approval")
    page.get_by_role("button", name="Log out").click()

    # -- 4. the invoice manager finds it in the In Approval task list, approves it and records the payment
    log_in("invmanager")
    page.goto(f"{live_server}/invoices/tasks/approval")
    tasks = page.locator("#invoice-tasks")
    expect(tasks.get_by_role("link", name="LIAB-2026-01")).to_be_visible()
    snap("5-approval-tasks")
    tasks.get_by_role("link", name="LIAB-2026-01").click()
    expect(page).to_have_url(invoice_url)
    page.get_by_role("button", name="Approve").click()
    expect(invoice_badge(page)).to_have_text("Ready to be Paid")
    expect(page.locator("#status .flash.ok")).to_contain_text("Invoice LIAB-2026-01 approved")
    snap("6-approved")
    page.get_by_text("Record payment…").click()
    expect(page.locator("#pay-amount")).to_have_value("100.00")
    page.locator("#pay-voucher").fill("VCH-LIAB-1")
    page.locator("#pay-date").fill("2026-03-20")
    page.locator("#pay-amount").fill("100.00")
    snap("7-payment-form")
    page.get_by_role("button", name="Record payment and close").click()
    expect(invoice_badge(page)).to_have_text("Closed")
    expect(page.locator("#status .flash.ok")).to_contain_text("voucher VCH-LIAB-1")
    snap("8-closed")

    # -- 5. the PO line is Closed; A-BKS has expended 100.00, and its encumbrance is released
    page.goto(f"{live_server}/orders/lines/{d.pol}")
    expect(page.locator("#pol-page h1 .badge")).to_have_text("Closed")
    snap("9-po-line")
    page.goto(f"{live_server}/funds/{d.fund_a}")
    expect(page.get_by_role("heading", name=re.compile(d.fund_label))).to_be_visible()
    expect(fund_figure(page, "Expended")).to_have_text("100.00")
    expect(fund_figure(page, "Encumbered")).to_have_text("0.00")
    snap("10-fund")
    assert page_problems == []
