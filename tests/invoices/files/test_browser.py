"""Real browser: an invoice operator uploads an Excel file, reads the preview's problems, loads the
valid invoices and finds them listed (CSRF on, no console or CSP errors)."""
from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from tests.invoices.files.helpers import table, xlsx

pytestmark = pytest.mark.browser


def _vendor(app) -> None:
    from app.extensions import db
    from app.vendors import services as vendors
    from testkit.world import User
    with app.app_context():
        admin = db.session.scalar(db.select(User).filter_by(username="admin"))
        vendors.create_vendor(admin, "BRW", vendors.VendorFields(name="Browser books", currency="EUR"))
        db.session.commit()
        db.session.remove()


def test_upload_preview_and_load(page, browser_app, live_server, log_in, page_problems, shot, tmp_path):
    app, _ = browser_app
    _vendor(app)
    rows = [
        {"number": "BR-1", "invoice_date": date(2026, 3, 2), "total_amount": 42.5, "unit_price": 30,
         "funds": "SHARED", "reference_number": "March delivery"},
        {"quantity": 1, "unit_price": 12.5, "funds": "SHARED"},
        {"number": "BR-2", "invoice_date": date(2026, 3, 3), "total_amount": 10, "unit_price": 10,
         "funds": "NOFUND"},
        {"number": "BR-3", "invoice_date": "3 March", "total_amount": 99, "unit_price": 10, "funds": "SHARED"},
    ]
    path = tmp_path / "march-invoices.xlsx"
    path.write_bytes(xlsx(table(rows)))

    log_in("invoicer")
    page.goto(f"{live_server}/invoices/files/")
    expect(page.get_by_role("heading", name="Load invoices from an Excel file")).to_be_visible()
    expect(page.get_by_role("link", name="Download the template (.xlsx)")).to_be_visible()
    page.get_by_label("Vendor", exact=True).select_option(label="BRW — Browser books (EUR)")
    page.get_by_label("Excel file (.xlsx or .xls)").set_input_files(str(path))
    shot("upload")
    page.get_by_role("button", name="Preview").click()

    problems = page.locator("#file-problems")
    expect(problems).to_contain_text("2 invoices cannot be loaded")
    expect(problems).to_contain_text("Row 4: Funds: there is no fund NOFUND")
    expect(problems).to_contain_text("Row 5: Invoice date: '3 March' is not a date")
    expect(page.locator("section.invoice-preview").first).to_contain_text("will be loaded")
    expect(page.get_by_text("Nothing has been saved yet.")).to_be_visible()
    shot("preview")

    page.get_by_role("button", name="Load 1 valid invoice").click()
    expect(page.get_by_role("status").filter(has_text="1 invoice created")).to_contain_text(
        "1 invoice created for vendor BRW; 2 skipped")
    created = page.locator("#created-invoices")
    expect(created).to_contain_text("BR-1")
    expect(created).to_contain_text("42.50")
    expect(page.locator("#skipped-invoices")).to_contain_text("there is no fund NOFUND")
    shot("result")

    created.get_by_role("link", name="BR-1").click()
    expect(page.get_by_role("heading", name="BR-1")).to_be_visible()
    page.goto(f"{live_server}/invoices/?channel=file")
    expect(page.locator("#invoice-table")).to_contain_text("BR-1")
    expect(page.locator("#invoice-table")).not_to_contain_text("BR-2")
    assert page_problems == []
