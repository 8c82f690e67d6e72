"""The pages the accessibility tests visit (axe crawl, reflow): the 1024 px test's main pages
(tests/browser/test_narrow_window.py) and the other pages of the header menu and the role crawl, with the
data they need; and the steps that open the VAT dialog."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser import test_narrow_window

pages_data = test_narrow_window.pages_data   # a fixture: test modules take it from here

SETTLED = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"


def main_pages(d, ids) -> dict[str, str]:
    """name -> URL; ``d`` is test_narrow_window's ``pages_data``, ``ids`` browser_app's ids."""
    return {
        "my-work": "/work", "me": "/me", "notifications": "/notifications", "dashboard": "/funds/",
        "fund": f"/funds/{ids.fund_a}", "ledgers": "/ledgers/", "fiscal-periods": "/fiscal-periods/",
        "inventory": "/inventory/", "po-lines": "/orders/lines/", "purchase-orders": "/orders/pos/",
        "claims": "/orders/claims", "invoices": "/invoices/", "invoice-lines": "/invoices/lines/",
        "vendors": "/vendors/", "vendor": f"/vendors/{d.vendor_id}", "po-line": f"/orders/lines/{d.pol}",
        "po": f"/orders/pos/{d.po}", "invoice": f"/invoices/{d.invoice_id}", "new-po-line": "/orders/lines/new",
        "new-invoice": "/invoices/new", "reports": "/reports/", "search": f"/find?q={d.po}",
        "package-preview": "/orders/pos/package", "administration": "/admin", "users": "/admin/users",
        "invoicing-settings": "/admin/invoicing", "monitor-jobs": "/admin/erp/jobs", "letters": "/admin/letters",
    }


def settle(page: Page) -> None:
    expect(page.locator(SETTLED)).to_have_count(0)


def open_vat_dialog(page: Page, live_server: str, fund_id: int) -> None:
    """A new invoice of the LIABLE vendor (``liable_vendor``), saved: the VAT question opens."""
    page.goto(f"{live_server}/invoices/new")
    page.locator("#vendor").select_option(label="LIABLE — Liable books (EUR)")
    page.locator("#number").fill("A11Y-1")
    page.locator("#invoice_date").fill("2026-03-01")
    page.locator("#total_amount").fill("100.00")
    page.locator("#owner_library").select_option(label="LIBA — Library A")
    page.locator("#lines-0-unit_price").fill("100.00")
    page.locator("#lines-0-fund_1").select_option(str(fund_id))
    page.locator("#lines-0-share_1").fill("100")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#dialog dialog[open]")).to_contain_text("liable for VAT")
    settle(page)
