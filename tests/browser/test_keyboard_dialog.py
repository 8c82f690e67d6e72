"""Real browser, keyboard only (issue 22, point 3): the VAT dialog is modal, keeps the focus inside,
has its question as its description, and Escape closes it giving the focus back to the Save that
opened it."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_the_vat_dialog_traps_focus_and_escape_gives_it_back(page: Page, live_server, browser_app, liable_vendor,
                                                            log_in, page_problems):
    _, ids = browser_app
    log_in("invoicer")
    page.goto(f"{live_server}/invoices/new")
    page.locator("#number").fill("DLG-K")
    page.locator("#vendor").select_option(label="LIABLE — Liable books (EUR)")
    page.locator("#invoice_date").fill("2026-03-01")
    page.locator("#total_amount").fill("100.00")
    page.locator("#owner_library").select_option(label="LIBA — Library A")
    page.locator("#lines-0-unit_price").fill("100.00")
    page.locator("#lines-0-fund_1").select_option(str(ids.fund_a))
    page.locator("#lines-0-share_1").fill("100")
    save = page.get_by_role("button", name="Save", exact=True)
    save.focus()
    page.keyboard.press("Enter")

    dialog = page.get_by_role("dialog", name="Confirm the VAT")
    expect(dialog).to_be_visible()
    assert dialog.evaluate("d => d.matches(':modal')")
    expect(dialog).to_have_accessible_description(re.compile("LIABLE is liable for VAT"))
    yes, cancel = dialog.get_by_role("button", name="Yes, save"), dialog.get_by_role("button", name="Cancel")
    expect(yes).to_be_focused()
    # Tab and Shift+Tab go round the dialog's buttons, never to the page behind.
    for _ in range(5):
        page.keyboard.press("Tab")
        assert dialog.evaluate("d => d.contains(document.activeElement)")
    page.keyboard.press("Shift+Tab")
    assert dialog.evaluate("d => d.contains(document.activeElement)")
    yes.focus()
    page.keyboard.press("Shift+Tab")
    expect(cancel).to_be_focused()
    page.keyboard.press("Tab")
    expect(yes).to_be_focused()

    page.keyboard.press("Escape")
    expect(page.locator("#vat-dialog")).to_be_hidden()
    expect(save).to_be_focused()
    expect(page).to_have_url(re.compile(r"/invoices/new$"))   # nothing saved

    # Asked again, answered from the keyboard: saved.
    page.keyboard.press("Enter")
    expect(yes).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/invoices/\d+$"))
    assert page_problems == []
