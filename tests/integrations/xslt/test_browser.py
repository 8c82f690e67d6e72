"""In Chromium at 1024 px: an administrator pastes a stylesheet that does not compile (refused with
its line), uploads the voucher example, previews an exported file beside its CSV, and saves it."""
import hashlib
from pathlib import Path

from playwright.sync_api import expect

from app.extensions import db
from app.integrations.models import ExportBatch
from testkit.erp import erp_profile, local_connection
from tests.integrations.xslt.samples import several

VOUCHER = Path(__file__).resolve().parents[3] / "docs" / "xslt" / "voucher-csv.xsl"


def test_admin_previews_and_saves_a_campus_stylesheet(page, live_server, log_in, shot, page_problems, browser_app,
                                                      tmp_path):
    app, _ = browser_app
    with app.app_context():
        from app.auth.models import User
        admin = db.session.scalar(db.select(User).filter_by(username="admin"))
        conn, path = local_connection(admin, tmp_path / "erp")
        profile_id = erp_profile(admin, conn, folder_root=path).id
        content = several()
        db.session.add(ExportBatch(profile_id=profile_id, file_name="INV_1000000000000001_1.xml", content=content,
                                   sha256=hashlib.sha256(content).hexdigest(), status="sent"))
        db.session.commit()
        db.session.remove()
    page.set_viewport_size({"width": 1024, "height": 800})
    log_in("admin")
    page.goto(f"{live_server}/admin/erp/profiles/{profile_id}")
    page.get_by_role("link", name="Campus stylesheet").click()
    page.get_by_label("Stylesheet (paste it here…)").fill(
        '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">\n'
        '<xsl:template match="/"><xsl:value-of select="(("/></xsl:template></xsl:stylesheet>')
    page.get_by_role("button", name="Save stylesheet").click()
    expect(page.locator("#xslt-err")).to_contain_text("line 2: compilation error")

    page.get_by_label("Stylesheet (paste it here…)").fill("")
    page.get_by_label("…or upload an .xsl file").set_input_files(str(VOUCHER))
    page.get_by_label("Also upload the original XML files").check()
    page.get_by_label("Transform").select_option("sample")
    page.get_by_role("button", name="Preview").click()
    # No invoice is Ready to be Paid in this world: the preview says so and offers the files
    expect(page.locator("#stylesheet-preview")).to_contain_text("No invoice is Ready to be Paid")
    page.get_by_label("Transform").select_option(label=page.locator("#source option").nth(1).inner_text())
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_label("The transformed output")).to_contain_text(
        '1000000000000002,"A ""big"", one",V000123,2026-12-31,2027-01-30,USD,1,F-SERIALS,1234.56')
    expect(page.get_by_label("The export file")).to_contain_text("<invoice_number>CN-7</invoice_number>")
    shot("preview")
    page.get_by_role("button", name="Save stylesheet").click()
    expect(page.get_by_text("now transformed by the stylesheet into .csv files")).to_be_visible()
    expect(page.get_by_role("link", name="Campus stylesheet (on)")).to_be_visible()
    page.get_by_role("link", name="Campus stylesheet (on)").click()
    expect(page.get_by_label("Stylesheet (paste it here…)")).to_have_value(VOUCHER.read_text())
    expect(page.get_by_label("Also upload the original XML files")).to_be_checked()
    shot("stylesheet")
    assert not page_problems
