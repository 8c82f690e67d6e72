"""Real browser: the VAT question does not leave an earlier refusal's messages under fields since filled in,
and the saved invoice's own URL is in the address bar (F5 shows the invoice, not an empty form)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_no_stale_error_behind_the_vat_dialog(page: Page, live_server, browser_app, liable_vendor, log_in, shot,
                                             page_problems):
    _, ids = browser_app
    log_in("invoicer")
    page.goto(f"{live_server}/invoices/new")
    page.locator("#vendor").select_option(label="LIABLE — Liable books (EUR)")
    page.locator("#invoice_date").fill("2026-03-01")
    page.locator("#total_amount").fill("100.00")
    page.locator("#owner_library").select_option(label="LIBA — Library A")
    page.locator("#lines-0-unit_price").fill("100.00")
    page.locator("#lines-0-fund_1").select_option(str(ids.fund_a))
    page.locator("#lines-0-share_1").fill("100")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#number-err")).to_be_visible()   # no number: refused

    page.locator("#number").fill("DLG-1")
    page.get_by_role("button", name="Save", exact=True).click()
    dialog = page.locator("#dialog dialog[open]")
    expect(dialog).to_contain_text("LIABLE is liable for VAT")
    expect(page.locator("#number-err")).to_have_count(0)
    expect(page.locator("#number")).to_have_value("DLG-1")
    expect(page.locator("#number")).not_to_have_attribute("aria-invalid", "true")
    shot("dialog")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#invoice-form .error")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/invoices/new$"))   # nothing saved yet

    page.get_by_role("button", name="Save", exact=True).click()
    page.locator("#dialog").get_by_role("button", name="Yes, save").click()
    expect(page).to_have_url(re.compile(r"/invoices/\d+$"))
    page.reload()
    expect(page.locator("#invoice-page h1")).to_contain_text("DLG-1")
    assert page_problems == []
