"""Real browser: My work after logging in, and its links to the filtered lists.

The set-up (services) makes an invoice In Approval of library A that the invoice manager may
approve, one In Review, and PO lines In Review in libraries A and B. The invoice manager logs in,
lands on My work, sees the invoice under "Invoices for you to approve", follows the section's
link and lands on the invoice list filtered to it. A purchasing operator of library A sees only
A's line. Screenshots at 1024 px go to test-results/.
"""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


@pytest.fixture
def work_data(browser_app):
    from app.auth.models import Role
    from app.auth.services import create_user
    from app.extensions import db
    from testkit.invoices import invoice
    from testkit.world import load_world
    from tests.helpers import PASSWORD
    from tests.orders.helpers import line, make_vendors

    app, _ = browser_app
    with app.app_context():
        world = load_world()
        orders = make_vendors(world)
        create_user(None, "buyer-a", PASSWORD, full_name="Buyer A", roles=[(Role.PURCHASING_OPERATOR, world.lib_a)])
        creator = world.user("invoicer")
        waiting = invoice(world, creator, orders.eur, number="APPROVE-ME", library="a", amounts=("120.00",),
                          process=True)
        invoice(world, creator, orders.eur, number="STILL-REVIEW", library="a", amounts=("80.00",))
        buyer = world.user("buyer")
        line_a = line(world, buyer, orders.eur, library="a", title="Atlas of Library A")
        line_b = line(world, buyer, orders.eur, library="b", title="Atlas of Library B")
        assert waiting.status == "in_approval"
        data = SimpleNamespace(invoice_id=waiting.id, line_a=line_a.number, line_b=line_b.number)
        db.session.remove()
    return data


def test_my_work_links_to_the_filtered_lists(page: Page, live_server, work_data, log_in, shot, page_problems):
    page.set_viewport_size({"width": 1024, "height": 800})
    log_in("invmanager")
    expect(page).to_have_url(f"{live_server}/work")
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")
    approval = page.locator("#work-invoices_approval")
    expect(approval.locator(".count")).to_have_text("1")
    expect(approval.get_by_role("link", name="APPROVE-ME")).to_be_visible()
    expect(approval).not_to_contain_text("STILL-REVIEW")
    expect(page.locator("#work-invoices_review")).to_contain_text("STILL-REVIEW")
    expect(page.locator("#work-invoices_erp_rejected")).to_contain_text("Nothing waits for you here.")
    shot("invoice-manager")

    approval.get_by_role("link", name="Open the list").click()
    expect(page).to_have_url(re.compile(r"/invoices/\?.*approvable=1"))
    expect(page.locator(".narrowed")).to_contain_text("In Approval, that you may approve")
    rows = page.locator("#invoice-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("APPROVE-ME")
    shot("filtered-list")
    rows.first.get_by_role("link", name="APPROVE-ME").click()
    expect(page).to_have_url(f"{live_server}/invoices/{work_data.invoice_id}")
    assert page_problems == []


def test_a_library_buyer_sees_only_their_librarys_lines(page: Page, live_server, work_data, log_in, shot,
                                                       page_problems):
    page.set_viewport_size({"width": 1024, "height": 800})
    log_in("buyer-a")
    expect(page).to_have_url(f"{live_server}/work")
    review = page.locator("#work-lines_review")
    expect(review.locator(".count")).to_have_text("1")
    expect(review).to_contain_text(work_data.line_a)
    expect(page.locator("#main")).not_to_contain_text(work_data.line_b)
    expect(page.locator("#work-invoices_review")).to_have_count(0)   # not an invoice role
    shot("buyer-a")
    review.get_by_role("link", name="Open the list").click()
    expect(page).to_have_url(re.compile(r"/orders/lines/\?status=in_review"))
    expect(page.locator("#pol-table tbody tr")).to_have_count(1)
    expect(page.locator("#pol-table")).not_to_contain_text(work_data.line_b)
    assert page_problems == []
