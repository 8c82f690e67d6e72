"""The invoice export with a campus stylesheet: the transformed files are what is uploaded (the
originals too, in original/, when kept); a failing stylesheet fails the run and moves no invoice."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.integrations.formats.payment_data import NAMESPACE
from testkit.erp import erp_profile, local_connection
from tests.integrations.invoice_export.helpers import batches, errors, export_marks, ready, run, statuses

NUMBERS = (f'<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:p="{NAMESPACE}">'
           '<xsl:output method="text" media-type="text/csv"/>'
           '<xsl:template match="/"><xsl:for-each select="//p:invoice">'
           '<xsl:if test="p:invoice_number = \'E-2\' and $stop = 1">'
           '<xsl:message terminate="yes">E-2 has no voucher</xsl:message></xsl:if>'
           '<xsl:value-of select="p:invoice_number"/>;<xsl:value-of select="p:invoice_amount/p:sum"/>'
           '<xsl:text>&#10;</xsl:text></xsl:for-each></xsl:template>'
           '<xsl:variable name="stop" select="STOP"/></xsl:stylesheet>')


def _setup(world, vendors, tmp_path, stylesheet: str, keep: bool = False, count: int = 3):
    ids = ready(world, vendors.plain, count)
    admin = world.user("admin")
    conn, path = local_connection(admin, tmp_path / "erp")
    profile = erp_profile(admin, conn, folder_root=path)
    section = profile.section("export_invoices")
    section.xslt, section.xslt_keep_original = stylesheet, keep
    db.session.commit()
    return ids, path / "invoices" / "out", section


def _names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())


def test_the_transformed_files_are_uploaded(erp_app, world, vendors, tmp_path):
    ids, out, _ = _setup(world, vendors, tmp_path, NUMBERS.replace("STOP", "0"))
    result = run(erp_app)
    assert result.status == "completed" and result.files == 3, errors(result)
    sent = batches("sent")
    assert _names(out) == sorted(b.file_name.replace(".xml", ".csv") for b in sent)
    for batch in sent:
        (link,) = batch.invoices
        inv = link.invoice
        assert (out / batch.file_name.replace(".xml", ".csv")).read_bytes() == f"{inv.number};{inv.total_amount}\n".encode()
    assert not (out / "original").exists()
    assert set(statuses(ids).values()) == {"waiting_for_payment"}


@pytest.mark.parametrize("uploader", ["thread", "process"])
def test_the_originals_are_kept_in_a_sub_folder_when_asked(erp_app, world, vendors, tmp_path, uploader):
    if uploader == "process":
        erp_app.config["ERP_UPLOAD_PROCESS_FROM"] = 2
    ids, out, _ = _setup(world, vendors, tmp_path, NUMBERS.replace("STOP", "0"), keep=True)
    result = run(erp_app)
    assert result.status == "completed" and result.files == 3, errors(result)
    sent = batches("sent")
    assert _names(out / "original") == sorted(b.file_name for b in sent)
    for batch in sent:
        assert (out / "original" / batch.file_name).read_bytes() == batch.content
    assert _names(out) == sorted(b.file_name.replace(".xml", ".csv") for b in sent)
    assert [export_marks(i) for i in ids] == [1, 1, 1]
    said = [e.message for e in result.events]
    assert ("3 files to send: a separate process uploads them while the next ones are prepared." in said) == (
        uploader == "process")
    assert "Each file is transformed by the campus stylesheet into a .csv file; the originals go to original/." in said


@pytest.mark.parametrize("how", ["fails on one file", "does not compile"])
def test_a_failing_stylesheet_fails_the_run_and_moves_no_invoice(erp_app, world, vendors, tmp_path, how):
    broken = NUMBERS.replace("STOP", "1") if how == "fails on one file" else NUMBERS.replace("</xsl:stylesheet>", "")
    ids, out, section = _setup(world, vendors, tmp_path, broken, keep=True)
    result = run(erp_app)
    assert result.status == "failed"
    (message,) = errors(result)
    if how == "fails on one file":
        assert "The campus stylesheet failed on INV_" in message and "E-2 has no voucher" in message
    else:
        assert "campus stylesheet cannot be used, so nothing was uploaded" in message
        assert "not well-formed" in message
    assert result.message == message
    assert _names(out) == []
    assert not (out / "original").exists() or _names(out / "original") == []
    assert set(statuses(ids).values()) == {"ready_to_be_paid"}
    assert [export_marks(i) for i in ids] == [0, 0, 0]
    assert batches("sent") == []
    # Fixed, the next run sends what was stored, once.
    section.xslt = NUMBERS.replace("STOP", "0")
    result = run(erp_app)
    assert result.status == "completed" and result.files == 3, errors(result)
    assert set(statuses(ids).values()) == {"waiting_for_payment"}
    assert [export_marks(i) for i in ids] == [1, 1, 1]
