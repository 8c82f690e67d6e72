"""Real browser: a PO's letters in its Communications tab (download the PDF, send a failed one
again and see the new queued message), and the letter template editor refusing a bad template
with its line while typing. Screenshots go to test-results/. Every wait is one of Playwright's
auto-waiting assertions."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


@pytest.fixture
def lettered_po(browser_app, tmp_path):
    """A sent PO of library A whose order letter failed (no PDF stored yet: it is made on demand)."""
    from app.extensions import db
    from app.orders import services as orders
    from app.orders.models import POLine
    from app.vendors import services as vendors
    from testkit.world import load_world
    from tests.orders.helpers import line
    from tests.outgoing.helpers import message

    app, _ = browser_app
    app.config["LETTER_FOLDER"] = str(tmp_path / "letters")
    with app.app_context():
        world = load_world()
        admin = world.user("admin")
        vendor = vendors.create_vendor(admin, "EURV", vendors.VendorFields(name="Euro Books", currency="EUR",
                                                                             order_channel="email"))
        db.session.commit()
        pol = line(world, admin, vendor, title="A lettered book")
        orders.approve_po_line(admin, pol)
        orders.send_po_line(admin, pol)
        db.session.commit()
        po = db.session.get(POLine, pol.id).po
        failed = message(po, status="failed", last_error="The mail server refused the recipient orders@euro.example.")
        ids = (po.number, failed.id)
        db.session.remove()
    return ids


def test_po_communications_tab_download_and_send_again(page: Page, live_server, lettered_po, log_in, shot,
                                                        page_problems):
    po_number, message_id = lettered_po
    log_in("buyer")
    page.goto(f"{live_server}/orders/pos/")
    expect(page.locator("#po-table").get_by_role("link", name="Letter not sent")).to_be_visible()
    page.goto(f"{live_server}/orders/pos/{po_number}")
    page.get_by_role("link", name="Communications").click()
    expect(page).to_have_url(re.compile(rf"/orders/pos/{po_number}/communications$"))
    row = page.locator(f"#vendor-message-{message_id}")
    expect(row).to_have_class(re.compile(r"\bmessage-problem\b"))
    expect(row).to_contain_text("Failed")
    expect(row).to_contain_text("refused the recipient orders@euro.example")

    link = row.get_by_role("link", name="PDF")
    answer = page.request.get(live_server + link.get_attribute("href"))
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    with page.expect_download() as download:
        link.click()
    with open(download.value.path(), "rb") as fh:
        assert fh.read(5) == b"%PDF-"

    row.get_by_role("button", name="Send again").click()
    expect(page.locator("#vendor-messages")).to_contain_text("queued to be sent again")
    rows = page.locator("#vendor-messages tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Queued")
    expect(rows.first).to_contain_text(f"sent again (message {message_id})")
    expect(rows.first.get_by_role("button", name="Send again")).to_have_count(0)
    shot("communications")
    assert page_problems == []


def test_template_editor_shows_the_error_line_while_typing(page: Page, live_server, browser_app, log_in, shot,
                                                           page_problems):
    log_in("admin")
    page.goto(f"{live_server}/admin/users")
    page.get_by_role("link", name="Letters").click()
    page.get_by_role("link", name="Purchase order").click()
    expect(page.locator("#letter-preview")).to_contain_text("PO-000001")
    frame = page.frame_locator("iframe.letter-frame")
    expect(frame.locator("body")).to_contain_text("Dear Demo Books Ltd")

    body = page.get_by_label("E-mail body (HTML)")
    body.fill("<p>Dear {{ vendor.name }},</p>\n<p>Order {{ po.number }</p>\n")
    error = page.locator("#err-body")
    expect(error).to_contain_text("line 2")
    expect(page.locator("#letter-preview")).to_contain_text("has errors")
    shot("template-error")

    body.fill("<p>Hello {{ vendor.name }}, order {{ po.number }}.</p>")
    expect(error).to_be_empty()
    expect(frame.locator("body")).to_contain_text("Hello Demo Books Ltd, order PO-000001.")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#flashes")).to_contain_text("Purchase order template saved.")
    assert page_problems == []
