"""In Chromium at 1024 px: an administrator switches a profile's payment confirmations to CSV, is
told which required column is missing, fixes it and saves; an invoice paid 99.00 of its 100.00
shows the difference on its page."""
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.invoices import services as ivs
from testkit.erp import erp_profile, local_connection
from tests.integrations.test_browser import ready_invoice  # noqa: F401 (fixture: invoice ERP-1, 120.00 EUR)


@pytest.fixture
def setup(browser_app, ready_invoice, tmp_path):  # noqa: F811
    app, _ = browser_app
    with app.app_context():
        from app.auth.models import User
        from app.invoices.models import Invoice
        admin = db.session.scalar(db.select(User).filter_by(username="admin"))
        conn, _root = local_connection(admin, tmp_path / "erp")
        prof = erp_profile(admin, conn, folder_root=tmp_path / "erp")
        inv = db.session.scalar(db.select(Invoice).filter_by(number="ERP-1"))
        ivs.mark_exported(admin, inv)
        ivs.record_payment(admin, inv, "V-1", date(2026, 4, 10), "119.00", "EUR", notify=False)
        db.session.commit()
        ids = (prof.id, inv.id)
        db.session.remove()
    return ids


def test_csv_mapping_and_the_amount_flag(page, live_server, log_in, shot, page_problems, setup):
    profile_id, invoice_id = setup
    page.set_viewport_size({"width": 1024, "height": 800})
    log_in("admin")
    page.goto(f"{live_server}/admin/erp/profiles/{profile_id}/sections")
    page.get_by_role("link", name="Change the format").click()
    page.get_by_label("File format").select_option("csv")
    page.get_by_label("A paid amount other than the invoice total").select_option("refuse")
    page.get_by_label("Separator").select_option(";")
    page.get_by_label("Voucher date format").fill("%d.%m.%Y")
    page.get_by_label("Invoice number column").fill("Invoice")
    page.get_by_label("Amount column").fill("Sum")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#col_payment_status-err")).to_contain_text("it is required")
    shot("refused")
    page.get_by_label("Status column").fill("State")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("payment confirmations are read as CSV")).to_be_visible()
    expect(page.get_by_role("link", name="CSV, refuses differing amounts")).to_be_visible()
    page.goto(f"{live_server}/invoices/{invoice_id}")
    flag = page.locator("#payment-difference")
    expect(flag).to_have_text(re.compile(r"Paid 119\.00 EUR, total 120\.00 EUR"))
    shot("invoice")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    assert not page_problems
