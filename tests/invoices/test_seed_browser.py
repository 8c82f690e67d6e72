"""Real browser: a closed invoice's line notes edited from its Lines tab at 1024 px, by keyboard-reachable
controls (HTMX swaps the page, the history keeps the change)."""
from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def closed_invoice(browser_app):
    from app.auth.models import User
    from app.extensions import db
    from app.invoices import services as ivs
    from app.vendors import services as vendors
    from testkit.world import load_world
    from tests.invoices.helpers import invoice

    app, _ = browser_app
    with app.app_context():
        world = load_world()
        user = lambda name: db.session.scalar(db.select(User).filter_by(username=name))  # noqa: E731
        vendor = vendors.create_vendor(user("admin"), "PLAIN", vendors.VendorFields(name="Plain books", currency="EUR"))
        inv = invoice(world, user("invoicer"), vendor, number="BR-CLOSED", process=True)
        ivs.approve_invoice(user("invmanager"), inv)
        ivs.mark_exported(None, inv)
        ivs.record_payment(user("invmanager"), inv, "V-1", date(2026, 3, 10), "100.00")
        db.session.commit()
        invoice_id = inv.id
        db.session.remove()
    return invoice_id


def test_a_closed_lines_notes_are_edited_in_the_browser(page, live_server, log_in, page_problems, closed_invoice,
                                                        shot):
    page.set_viewport_size({"width": 1024, "height": 800})
    log_in("invoicer")
    page.goto(f"{live_server}/invoices/{closed_invoice}?tab=lines")
    page.get_by_text("Edit notes…").click()
    page.locator("#reporting-code-1").fill("RC-77")
    page.locator("#line-note-1").fill("Checked against the statement")
    shot("form")
    page.get_by_role("button", name="Save line 1").click()
    expect(page.get_by_text("Line 1 of invoice BR-CLOSED saved")).to_be_visible()
    expect(page.locator("table.invoice-lines")).to_contain_text("reporting RC-77")
    shot("saved")
    page.goto(f"{live_server}/invoices/{closed_invoice}?tab=history")
    expect(page.locator("table.history")).to_contain_text("line 1: reporting code")
    assert page_problems == []
