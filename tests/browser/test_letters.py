"""Real browser: a PO sent from its page makes its letter, seen in the Communications tab and
delivered in the background (download its PDF, send it again), and the letter template editor refusing a bad template
with its line while typing. Screenshots go to test-results/. Every wait is one of Playwright's
auto-waiting assertions."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


@pytest.fixture
def lettered_po(browser_app, tmp_path):
    """An open PO of library A (one approved line packaged by hand) of a vendor that takes orders by
    e-mail; letters go at once in the background (the kick) to the mail catch-all folder."""
    from app.extensions import db
    from app.orders import services as orders
    from app.vendors import services as vendors
    from testkit.world import load_world
    from tests.orders.helpers import line

    app, _ = browser_app
    app.config.update(LETTER_FOLDER=str(tmp_path / "letters"), MAIL_SERVER="",
                      MAIL_CATCH_ALL_FOLDER=str(tmp_path / "mail"), OUTGOING_KICK=True)
    with app.app_context():
        world = load_world()
        admin = world.user("admin")
        vendor = vendors.create_vendor(admin, "EURV", vendors.VendorFields(name="Euro Books", currency="EUR",
                                                                             order_channel="email"))
        vendors.add_contact(admin, vendor, "Orders desk", email="orders@euro.example").roles = "order"
        db.session.commit()
        pol = line(world, admin, vendor, title="A lettered book")
        orders.approve_po_line(admin, pol)
        po = orders.package_po_line(admin, pol)
        db.session.commit()
        number = po.number
        db.session.remove()
    return number, tmp_path / "mail"


def test_send_a_po_and_see_its_letter_in_the_communications_tab(page: Page, live_server, lettered_po, log_in,
                                                                 shot, page_problems):
    from io import BytesIO

    from pypdf import PdfReader

    po_number, mail_folder = lettered_po
    log_in("buyer")
    page.goto(f"{live_server}/orders/pos/{po_number}")
    page.get_by_role("button", name="Send to EURV").click()
    page.get_by_role("link", name="Communications").click()
    expect(page).to_have_url(re.compile(rf"/orders/pos/{po_number}/communications$"))
    rows = page.locator("#vendor-messages tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Purchase order")
    expect(rows.first).to_contain_text("orders@euro.example")
    # delivered in the background a moment later
    for _ in range(50):
        if "Sent" in rows.first.locator(".message-status").inner_text():
            break
        page.wait_for_timeout(200)
        page.reload()
    expect(rows.first.locator(".message-status")).to_have_text("Sent")
    assert len(list(mail_folder.glob("*.eml"))) == 1

    link = rows.first.get_by_role("link", name="PDF")
    with page.expect_download() as download:
        link.click()
    with open(download.value.path(), "rb") as fh:
        text = "".join(p.extract_text() for p in PdfReader(BytesIO(fh.read())).pages)
    assert po_number in text and "A lettered book" in text

    rows.first.get_by_role("button", name="Send again").click()
    expect(page.locator("#vendor-messages")).to_contain_text("queued to be sent again")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("sent again (message")
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
