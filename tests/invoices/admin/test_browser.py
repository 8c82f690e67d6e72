"""Real browser: an administrator flips an invoicing setting and orders approval rules with HTMX
(CSRF on, no console or CSP errors), and what was changed is still there after a reload."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_switch_a_setting_and_order_approval_rules(page, live_server, log_in, page_problems, shot):
    log_in("admin")
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="Invoicing", exact=True).click()
    switch = page.get_by_role("switch", name="Skip the ERP: approved invoices go straight to payment")
    expect(switch).to_have_attribute("aria-checked", "false")
    switch.click()
    expect(page.locator("#invoice-settings .flash.ok")).to_contain_text("now on")
    expect(switch).to_have_attribute("aria-checked", "true")
    shot("settings")
    page.reload()
    expect(switch).to_have_attribute("aria-checked", "true")

    page.get_by_role("link", name="Approval rules").click()
    for name, decision in (("Small ones", "Automatic approval"), ("By hand", "Manual approval by an invoice manager")):
        page.get_by_role("link", name="Add a rule").click()
        page.get_by_label("Name").fill(name)
        page.get_by_label("Invoice total up to").fill("500.00")
        page.get_by_label("Decision").select_option(label=decision)
        page.get_by_role("button", name="Save").click()
        expect(page.locator("#flashes")).to_contain_text(f"“{name}” saved")
    rows = page.locator("#approval-rules tbody tr")
    expect(rows.nth(0)).to_contain_text("Small ones")
    page.get_by_role("button", name="Move up: By hand").click()
    expect(page.locator("#approval-rules .flash.ok")).to_contain_text("“By hand” is now number 1")
    expect(rows.nth(0)).to_contain_text("By hand")
    expect(page.get_by_role("button", name="Move up: By hand")).to_be_disabled()
    shot("approval-rules")
    page.reload()
    expect(rows.nth(0)).to_contain_text("By hand")
    expect(rows.nth(1)).to_contain_text("Small ones")
    assert page_problems == []
