"""Real browser: the bell. An invoice manager looks at a page; an invoice of library A is routed for
approval meanwhile (the services, in the test's app context); on the next page the bell counts
one unread; the bell leads to the list, opening the notification goes to the invoice and marks it
read, and the bell is back to none. Every wait is one of Playwright's auto-waiting assertions."""
from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def waiting_invoice(browser_app):
    """Invoice INV-88 of library A (In Review), made by the invoice operator; returns a function
    that sends it for approval (committed) and gives its id."""
    from app.auth.models import User
    from app.extensions import db
    from app.funds.distribution import Share
    from app.funds.models import Fund
    from app.invoices import services as invoices
    from app.org.models import Library
    from app.vendors import services as vendors

    app, ids = browser_app
    with app.app_context():
        operator = db.session.scalar(db.select(User).filter_by(username="invoicer"))
        admin = db.session.scalar(db.select(User).filter_by(username="admin"))
        vendor = vendors.create_vendor(admin, "EURV", vendors.VendorFields(name="Euro Books", currency="EUR"))
        lib_a = db.session.scalar(db.select(Library).filter_by(code="LIBA"))
        inv = invoices.create_invoice(operator, invoices.InvoiceFields(
            number="INV-88", vendor=vendor, invoice_date=date(2026, 3, 1), total_amount="40.00", owner_library=lib_a,
            lines=[invoices.LineFields(unit_price="40.00", distribution=[Share(db.session.get(Fund, ids.fund_a),
                                                                                "100")])]))
        db.session.commit()
        invoice_id = inv.id
        db.session.remove()

    def route() -> int:
        with app.app_context():
            from app.invoices.models import Invoice
            invoices.process_invoice(db.session.scalar(db.select(User).filter_by(username="invoicer")),
                                     db.session.get(Invoice, invoice_id))
            db.session.commit()
            db.session.remove()
        return invoice_id
    return route


def test_the_bell_counts_an_invoice_routed_to_me(page, live_server, log_in, waiting_invoice, page_problems, shot):
    log_in("invmanager")
    bell = page.locator("#bell")
    expect(bell).to_have_accessible_name("Notifications, 0 unread")
    expect(bell.locator(".count")).to_be_hidden()

    invoice_id = waiting_invoice()
    page.goto(f"{live_server}/vendors/")
    expect(bell).to_have_accessible_name("Notifications, 1 unread")
    expect(bell.locator(".count")).to_have_text("1")
    shot("bell")

    bell.click()
    expect(page).to_have_url(f"{live_server}/notifications")
    item = page.locator("ul.notifications li.unread")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("An invoice waits for my approval")
    shot("list")
    item.get_by_role("button", name="Unread: Invoice INV-88 of EURV waits for your approval", exact=True).click()
    expect(page).to_have_url(f"{live_server}/invoices/{invoice_id}")
    expect(bell).to_have_accessible_name("Notifications, 0 unread")

    page.goto(f"{live_server}/notifications?show=all")
    expect(page.locator("ul.notifications li")).to_have_count(1)
    expect(page.locator("ul.notifications li.unread")).to_have_count(0)
    page.get_by_role("button", name="Mark unread: Invoice INV-88 of EURV waits for your approval", exact=True).click()
    expect(bell).to_have_accessible_name("Notifications, 1 unread")   # the bell swapped out of band
    expect(page.locator("ul.notifications li.unread")).to_have_count(1)
    assert page_problems == []
