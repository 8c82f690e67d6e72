"""The campus stylesheet page: checked on save (nothing saved when it does not compile), pasted or
uploaded, and the preview of an exported file or of a sample of Ready to be Paid invoices."""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from app.extensions import db
from app.integrations.models import ExportBatch
from testkit.erp import erp_profile, local_connection
from tests.helpers import login
from tests.integrations.invoice_export.helpers import batches, ready, statuses
from tests.integrations.xslt.samples import several

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
VOUCHER = (Path(__file__).resolve().parents[3] / "docs" / "xslt" / "voucher-csv.xsl").read_text()


def _profile(world, tmp_path):
    admin = world.user("admin")
    conn, path = local_connection(admin, tmp_path / "erp")
    profile = erp_profile(admin, conn, folder_root=path)
    db.session.commit()
    return profile


def test_a_stylesheet_that_does_not_compile_is_not_saved(app, world, tmp_path):
    profile = _profile(world, tmp_path)
    section = profile.section("export_invoices")
    section.xslt = VOUCHER
    db.session.commit()
    client = login(app.test_client(), "admin")
    url = f"/admin/erp/profiles/{profile.id}/stylesheet"
    page = client.get(url).get_data(as_text=True)
    assert 'name="xslt"' in page and "voucher_id,invoice_number" in page
    broken = VOUCHER.replace("<xsl:value-of select=\"$crlf\"/>", "<xsl:value-of select=\"((\"/>", 1)
    resp = client.post(url, data={"xslt": broken, "keep_original": "on"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "The stylesheet was not saved: The stylesheet does not compile" in body and "line 25: compilation error" in body
    assert 'id="xslt-err"' in body
    db.session.expire_all()
    assert section.xslt == VOUCHER and section.xslt_keep_original is False


def test_a_stylesheet_is_uploaded_and_removed(app, world, tmp_path):
    profile = _profile(world, tmp_path)
    client = login(app.test_client(), "admin")
    url = f"/admin/erp/profiles/{profile.id}/stylesheet"
    resp = client.post(url, data={"xslt": "", "keep_original": "on",
                                  "xslt_file": (io.BytesIO(b"\xef\xbb\xbf" + VOUCHER.encode()), "voucher.xsl")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    section = profile.section("export_invoices")
    db.session.expire_all()
    assert section.xslt == VOUCHER and section.xslt_keep_original is True
    page = client.get(f"/admin/erp/profiles/{profile.id}").get_data(as_text=True)
    assert "Campus stylesheet (on)" in page and "now transformed by the stylesheet into .csv files" in page
    resp = client.post(url, data={"xslt": "  ", "keep_original": "on"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert section.xslt == "" and section.xslt_keep_original is False


def test_preview_of_an_exported_file(app, world, tmp_path):
    profile = _profile(world, tmp_path)
    content = several()
    batch = ExportBatch(profile_id=profile.id, file_name="INV_1000000000000001_7.xml", content=content,
                        sha256=hashlib.sha256(content).hexdigest(), status="sent")
    db.session.add(batch)
    db.session.commit()
    client = login(app.test_client(), "admin")
    url = f"/admin/erp/profiles/{profile.id}/stylesheet"
    assert f'value="batch-{batch.id}"' in client.get(url).get_data(as_text=True)
    resp = client.post(url + "/preview", data={"xslt": VOUCHER, "source": f"batch-{batch.id}"},
                       headers={"HX-Request": "true"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and body.startswith('<div id="stylesheet-preview"')
    assert "&lt;invoice_number&gt;INV-1&lt;/invoice_number&gt;" in body
    assert "1000000000000001,INV-1,ACME,2026-03-02,,EUR,1,F-BOOKS,100.00" in body and ".csv file" in body
    assert profile.section("export_invoices").xslt == ""   # a preview saves nothing
    # Without HTMX: the whole page, the form as it was typed
    resp = client.post(url + "/preview", data={"xslt": VOUCHER + "<!-- mine -->", "source": f"batch-{batch.id}"})
    assert "&lt;!-- mine --&gt;" in resp.get_data(as_text=True) and "<h2>Campus stylesheet" in resp.get_data(as_text=True)
    # A stylesheet that fails: its reason, no output
    failing = VOUCHER.replace('<xsl:template match="/">', '<xsl:template match="/"><xsl:message terminate="yes">'
                              'Stop here</xsl:message>', 1)
    body = client.post(url + "/preview", data={"xslt": failing, "source": f"batch-{batch.id}"},
                       headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Preview: The stylesheet failed: " in body and "Stop here" in body and 'id="stylesheet-output"' not in body
    # Another profile's file is not shown
    other = erp_profile(world.user("admin"), profile.connection, code="OTHER")
    db.session.commit()
    resp = client.post(f"/admin/erp/profiles/{other.id}/stylesheet/preview",
                       data={"xslt": VOUCHER, "source": f"batch-{batch.id}"}, headers={"HX-Request": "true"})
    assert "No such export file of this profile." in resp.get_data(as_text=True)


def test_preview_of_a_sample_marks_nothing(app, world, vendors, tmp_path):
    profile = _profile(world, tmp_path)
    ids = ready(world, vendors.plain, 2)
    client = login(app.test_client(), "admin")
    resp = client.post(f"/admin/erp/profiles/{profile.id}/stylesheet/preview",
                       data={"xslt": VOUCHER, "source": "sample"}, headers={"HX-Request": "true"})
    body = resp.get_data(as_text=True)
    assert "A sample of 2 Ready to be Paid invoice(s)" in body
    assert ",E-1,PLAIN," in body and ",E-2,PLAIN," in body
    db.session.expire_all()
    assert set(statuses(ids).values()) == {"ready_to_be_paid"} and batches() == []
