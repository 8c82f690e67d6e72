"""Real browser: the invoice form with HTMX — Add line, Recalculate, the VAT question as a dialog
whose answer re-submits the form, then the invoice page."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_create_through_the_dialog(page, live_server, log_in, page_problems, liable_vendor, browser_app, shot):
    _, ids = browser_app
    log_in("invoicer")
    page.goto(f"{live_server}/invoices/new")
    page.locator("#number").fill("BR-1")
    page.locator("#vendor").select_option(label="LIABLE — Liable books (EUR)")
    page.locator("#invoice_date").fill("2026-03-01")
    page.locator("#total_amount").fill("100.00")
    page.locator("#owner_library").select_option(label="LIBA — Library A")
    page.locator("#lines-0-unit_price").fill("100.00")
    page.locator("#lines-0-fund_1").select_option(str(ids.fund_a))
    page.locator("#lines-0-share_1").fill("100")

    page.get_by_role("button", name="Add line").click()
    expect(page.locator("#line-4")).to_be_visible()
    expect(page.locator("#line-count")).to_have_value("4")
    page.get_by_role("button", name="Add line").click()
    expect(page.locator("#line-5 legend")).to_have_text("Line 5")

    page.get_by_role("button", name="Recalculate").click()
    expect(page.locator("#charges-preview table")).to_contain_text("A-BKS")
    expect(page.locator("#charges-preview table")).to_contain_text("100.00 EUR")
    shot("form")

    page.get_by_role("button", name="Save and continue").click()
    dialog = page.locator("#dialog dialog[open]")
    expect(dialog).to_contain_text("LIABLE is liable for VAT, yet the invoice reports none")
    shot("vat-dialog")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Save and continue").click()
    page.locator("#dialog").get_by_role("button", name="Yes, save").click()
    expect(page).to_have_url(re.compile(r"/invoices/\d+$"))
    expect(page.locator("#flashes")).to_contain_text("Invoice BR-1 created: it is In Approval.")
    assert page_problems == []


def test_changing_the_invoice_date_refreshes_the_fund_pickers(page, live_server, log_in, page_problems, browser_app,
                                                               shot):
    from datetime import date

    from app.auth.models import User
    from app.extensions import db
    from app.funds import services as fs

    app, ids = browser_app
    with app.app_context():
        admin = db.session.scalar(db.select(User).filter_by(username="admin"))
        fy27 = fs.create_fiscal_period(admin, "FY2027", "Fiscal year 2027", date(2027, 1, 1), date(2027, 12, 31))
        ledger = fs.create_ledger(admin, "LEDA", "Ledger of A", fy27, "EUR")
        new_id = fs.create_fund(admin, ledger, "A-BKS", fs.FundFields(name="A books 2027")).id
        db.session.commit()
        db.session.remove()
    log_in("invoicer")
    page.goto(f"{live_server}/invoices/new")
    page.locator("#number").fill("BR-DATE")
    with page.expect_response(lambda r: r.url.endswith("/invoices/new") and r.request.method == "POST"):
        page.locator("#invoice_date").fill("2026-03-01")     # the pickers asked again: FY2026's
        page.locator("#invoice_date").press("Tab")
    page.locator("#lines-0-fund_1").select_option(str(ids.fund_a))
    page.evaluate("window.__marker = 1")
    page.locator("#invoice_date").fill("2027-01-15")
    page.locator("#invoice_date").press("Tab")
    # FY2027's funds on every picker; the one chosen stays, with its warning
    expect(page.locator(f'#lines-1-fund_1 option[value="{new_id}"]')).to_have_count(1)
    expect(page.locator(f'#lines-1-fund_1 option[value="{ids.shared}"]')).to_have_count(0)
    expect(page.locator("#lines-0-fund_1")).to_have_value(str(ids.fund_a))
    expect(page.locator("#lines-0-fund_1-warn")).to_contain_text("belongs to fiscal period FY2026")
    expect(page.locator("#number")).to_have_value("BR-DATE")       # the rest of the form as it was
    assert page.evaluate("window.__marker") == 1, "the page reloaded"
    shot("date-changed")
    assert page_problems == []


def test_a_fund_chosen_while_the_date_answer_is_on_its_way_stays_chosen(page, live_server, log_in, page_problems,
                                                                        liable_vendor, browser_app):
    """The fund pickers' refresh after a date change was asked before the fund was chosen: its late
    answer must not undo the choice (held back here until the fund is chosen)."""
    _, ids = browser_app
    log_in("invoicer")
    held = []

    def hold_refresh(route):
        if route.request.method == "POST" and "refresh_funds" in (route.request.post_data or ""):
            held.append((route, route.fetch()))
        else:
            route.continue_()
    page.route(re.compile(r".*/invoices/new$"), hold_refresh)
    page.goto(f"{live_server}/invoices/new")
    page.locator("#invoice_date").fill("2026-03-01")
    page.locator("#invoice_date").press("Tab")
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the refresh was asked"
    page.locator("#lines-0-fund_1").select_option(str(ids.fund_a))
    page.evaluate("document.getElementById('lines-0-fund_1-pick').dataset.before = '1'")
    route, answer = held[0]
    route.fulfill(response=answer)
    expect(page.locator("#lines-0-fund_1-pick:not([data-before])")).to_be_attached()   # swapped by the answer
    expect(page.locator("#lines-0-fund_1")).to_have_value(str(ids.fund_a))
    assert page_problems == []
