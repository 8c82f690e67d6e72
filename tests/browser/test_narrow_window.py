"""Real browser at 1024 px wide: the main pages fit the window (no sideways scrolling of the page; a wide table
scrolls in its own box), the header's search box stays usable and the user's name stays on one line.
Screenshots of each page go to test-results/."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

WIDTH = 1024
MIN_SEARCH = 160   # px: room for a PO number or an invoice number


@pytest.fixture
def pages_data(browser_app):
    """A received PO line of library A and its invoice (100.00 EUR on A-BKS)."""
    from app.auth.models import User
    from app.extensions import db
    from app.funds.distribution import Share
    from app.funds.models import Fund
    from app.invoices import services as invoices
    from app.orders import services as orders
    from app.org.models import Library
    from app.vendors import services as vendors

    app, ids = browser_app
    with app.app_context():
        def user(name):
            return db.session.scalar(db.select(User).filter_by(username=name))
        admin = user("admin")
        lib_a = db.session.scalar(db.select(Library).filter_by(code="LIBA"))
        fund_a = db.session.get(Fund, ids.fund_a)
        vendor = vendors.create_vendor(admin, "WIDEV", vendors.VendorFields(
            name="A vendor with a rather long name for a narrow window", currency="EUR"))
        pol = orders.create_po_line(admin, orders.POLineFields(
            vendor=vendor, title="A rather long title of a book ordered to see how the tables wrap in a narrow window",
            list_price="100.00", quantity=1, owner_library=lib_a, inventory_library=lib_a,
            distribution=[Share(fund_a, "100")]))
        orders.approve_po_line(admin, pol)
        orders.send_po_line(admin, pol)
        orders.receive_po_line(admin, pol)
        inv = invoices.create_invoice(user("invoicer"), invoices.InvoiceFields(
            number="NARROW-1", vendor=vendor, invoice_date=date(2026, 3, 1), total_amount="100.00",
            owner_library=lib_a, lines=[invoices.LineFields(unit_price="100.00", po_line=pol,
                                                       distribution=[Share(fund_a, "100")])]))
        ready = orders.create_po_line(admin, orders.POLineFields(
            vendor=vendor, title="Waiting to be packaged", list_price="12.50", quantity=2, owner_library=lib_a,
            inventory_library=lib_a, distribution=[Share(fund_a, "100")]))
        orders.approve_po_line(admin, ready)
        db.session.commit()
        data = SimpleNamespace(invoice_id=inv.id, pol=pol.number, vendor_id=vendor.id, po=pol.po.number)
        db.session.remove()
    return data


def fits(page: Page) -> dict:
    return page.evaluate("""() => {
        const search = document.getElementById('q');
        const who = document.querySelector('header.top .who a[href$="/me"]');
        return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
                search: search ? search.getBoundingClientRect().width : null,
                whoLines: who ? Math.round(who.getBoundingClientRect().height / parseFloat(getComputedStyle(who).lineHeight || 20)) : null,
                whoHeight: who ? who.getBoundingClientRect().height : null,
                whoFont: who ? parseFloat(getComputedStyle(who).fontSize) : null};
    }""")


def test_main_pages_fit_1024_px(page: Page, live_server, pages_data, log_in, shot, page_problems):
    d = pages_data
    page.set_viewport_size({"width": WIDTH, "height": 768})
    log_in("admin")
    pages = {
        "dashboard": "/funds/", "po-lines": "/orders/lines/", "purchase-orders": "/orders/pos/",
        "invoices": "/invoices/", "invoice-lines": "/invoices/lines/", "vendors": "/vendors/",
        "vendor": f"/vendors/{d.vendor_id}", "po-line": f"/orders/lines/{d.pol}", "po": f"/orders/pos/{d.po}",
        "invoice": f"/invoices/{d.invoice_id}", "new-po-line": "/orders/lines/new",
        "new-invoice": "/invoices/new", "monitor-jobs": "/admin/erp/jobs", "reports": "/reports/",
        "administration": "/admin", "search": f"/find?q={d.po}", "package-preview": "/orders/pos/package",
    }
    too_wide = {}
    for name, url in pages.items():
        page.goto(live_server + url)
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
        m = fits(page)
        shot(name)
        if m["scroll"] > m["inner"]:
            too_wide[name] = f"page {m['scroll']} px wide in a {m['inner']} px window"
        elif m["search"] < MIN_SEARCH:
            too_wide[name] = f"search box {m['search']:.0f} px"
        elif m["whoHeight"] > 2 * m["whoFont"]:
            too_wide[name] = f"user name wraps ({m['whoHeight']:.0f} px high)"
    assert not too_wide, "\n".join(f"{name} ({pages[name]}): {problem}" for name, problem in too_wide.items())
    # The fund dashboard's default columns, actions included, fit without scrolling its box, every row open.
    page.goto(live_server + "/funds/?expand=all")
    box = page.evaluate("() => { const b = document.querySelector('.tree-box'); return [b.scrollWidth, b.clientWidth]; }")
    assert box[0] <= box[1], f"the dashboard scrolls sideways at 1024 px: {box}"
    assert page_problems == []
