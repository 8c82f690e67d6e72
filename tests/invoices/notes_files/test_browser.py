"""In Chromium, at 1024 px, with CSRF on: a note added and a PDF attached through the invoice's tabs
(HTMX, multipart), the file then downloaded; no script or CSP errors."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.extensions import db

pytestmark = pytest.mark.browser


def test_notes_and_attachments_tabs(browser_app, live_server, page, log_in, shot, page_problems, tmp_path):
    app, _ = browser_app
    app.config["ATTACHMENT_FOLDER"] = str(tmp_path / "files")
    with app.app_context():
        from testkit.world import load_world
        from app.vendors import services as vendors
        from tests.invoices.helpers import invoice
        world = load_world()
        vendor = vendors.create_vendor(world.user("admin"), "BRWS", vendors.VendorFields(name="Browser books",
                                                                                        currency="EUR"))
        invoice_id = invoice(world, world.user("invoicer"), vendor, number="BR-1", library=None).id
        db.session.remove()
    page.set_viewport_size({"width": 1024, "height": 800})
    log_in("invoicer")
    page.goto(f"{live_server}/invoices/{invoice_id}")
    page.get_by_role("link", name="Notes").click()
    page.get_by_label("New note").fill("Payment terms: 30 days net")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#invoice-notes")).to_contain_text("Note added.")
    expect(page.locator(".invoice-note")).to_contain_text("Payment terms: 30 days net")
    shot("notes")

    page.get_by_role("link", name="Attachments").click()
    pdf = tmp_path / "terms.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    page.get_by_label("File to attach").set_input_files(str(pdf))
    page.get_by_role("button", name="Attach", exact=True).click()
    expect(page.locator("#invoice-attachments")).to_contain_text("“terms.pdf” attached.")
    bad = tmp_path / "fake.pdf"
    bad.write_bytes(b"MZ not a pdf")
    page.get_by_label("File to attach").set_input_files(str(bad))
    page.get_by_role("button", name="Attach", exact=True).click()
    expect(page.locator("#invoice-attachments [role=alert]")).to_contain_text("is not a PDF")
    shot("attachments")
    with page.expect_download() as info:
        page.get_by_role("link", name="terms.pdf").click()
    assert info.value.suggested_filename == "terms.pdf"
    assert open(info.value.path(), "rb").read() == b"%PDF-1.4\n%%EOF\n"
    assert page_problems == []
