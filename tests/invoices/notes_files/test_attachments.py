"""Files attached to an invoice: upload and download round trip, the refusals (too big, wrong type,
content unlike its extension, hostile names) leave nothing stored, library scope, deletion, history."""
from __future__ import annotations

import hashlib
import io
import zipfile

import pytest

from app.auth.models import Role
from app.auth.services import create_user
from app.errors import InvalidInput
from app.extensions import db
from app.invoices import attachments
from app.invoices.models import InvoiceAttachment, InvoiceEvent
from tests.helpers import PASSWORD, login
from tests.invoices.helpers import invoice

HX = {"HX-Request": "true"}
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


@pytest.fixture
def folder(app, tmp_path):
    app.config["ATTACHMENT_FOLDER"] = str(tmp_path / "files")
    return tmp_path / "files" / "invoices"


def _stored(folder) -> list:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _rows(invoice_id) -> list[InvoiceAttachment]:
    db.session.expire_all()
    return db.session.scalars(db.select(InvoiceAttachment).filter_by(invoice_id=invoice_id)).all()


def _post_file(client, inv, name, content, hx=True):
    return client.post(f"/invoices/{inv.id}/attachments", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data", headers=HX if hx else {})


def _xlsx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


def test_upload_and_download_round_trip(app, world, vendors, folder):
    inv = invoice(world, world.user("invoicer"), vendors.plain, number="ATT-1")
    client = login(app.test_client(), "invoicer")
    resp = _post_file(client, inv, "Scan of invoice.pdf", PDF)
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "“Scan of invoice.pdf” attached." in page and 'id="invoice-attachments"' in page
    [row] = _rows(inv.id)
    assert row.size == len(PDF) and row.sha256 == hashlib.sha256(PDF).hexdigest()
    assert row.content_type == "application/pdf" and row.uploaded_by_id == world.users["invoicer"]
    assert _stored(folder) == [row.stored_name]

    got = login(app.test_client(), "viewer").get(f"/invoices/{inv.id}/attachments/{row.id}")
    assert got.status_code == 200 and got.data == PDF
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert "Scan of invoice.pdf" in got.headers["Content-Disposition"]
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.mimetype == "application/pdf"

    tab = client.get(f"/invoices/{inv.id}/attachments").get_data(as_text=True)
    assert "Scan of invoice.pdf" in tab and "Attachments" in tab and 'aria-current="page">Attachments' in tab
    events = db.session.scalars(db.select(InvoiceEvent).filter_by(invoice_id=inv.id, action="attach")).all()
    assert [e.new_value for e in events] == ["Scan of invoice.pdf"]


@pytest.mark.parametrize("name, content", [
    ("sheet.xlsx", _xlsx()), ("photo.png", PNG), ("scan.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 20),
    ("terms.txt", "Payment within 30 days — net.\n".encode()), ("lines.csv", b"a,b\n1,2\n"),
    ("order.edi", b"UNA:+.? 'UNB+UNOC:3+SENDER+RECEIVER+261205:1200+1'"),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 50)])
def test_each_allowed_type_is_taken(app, world, vendors, folder, name, content):
    inv = invoice(world, world.user("invoicer"), vendors.plain, number="ATT-T")
    assert attachments.add_attachment(world.user("invoicer"), inv, name, content).file_name == name


@pytest.mark.parametrize("name, content, words", [
    ("big.pdf", PDF + b"x" * 2048, "larger than 2,048 bytes"),
    ("program.exe", b"MZ\x90\x00", "files of type .exe cannot be attached"),
    ("page.html", b"<html><script>alert(1)</script></html>", "files of type .html cannot be attached"),
    ("noext", b"hello", "without an extension"),
    ("fake.pdf", b"MZ\x90\x00 not a pdf", "is not a PDF although its name ends in .pdf"),
    ("fake.png", PDF, "is not a PNG image"),
    ("fake.xlsx", b"PK\x03\x04 broken zip", "is not a Excel workbook"),
    ("binary.txt", b"\x00\x01\x02\x03", "is not a plain text"),
    ("notedi.edi", b"hello there", "is not a EDI message"),
    ("../../etc/passwd.pdf", PDF, "is not a plain file name"),
    ("..\\..\\win.pdf", PDF, "is not a plain file name"),
    (".hidden.pdf", PDF, "is not a plain file name"),
    ("evil\x00.pdf", PDF, "is not a plain file name"),
    ("bell\x07.pdf", PDF, "is not a plain file name"),
    ("empty.pdf", b"", "is empty"),
])
def test_refused_files_leave_nothing_stored(app, world, vendors, folder, name, content, words):
    app.config["INVOICE_ATTACHMENT_MAX_BYTES"] = 2048
    inv = invoice(world, world.user("invoicer"), vendors.plain, number="ATT-2")
    client = login(app.test_client(), "invoicer")
    resp = _post_file(client, inv, name, content)
    assert resp.status_code == 400
    assert words in resp.get_data(as_text=True).replace("&#34;", '"')
    assert _rows(inv.id) == [] and _stored(folder) == []
    assert not db.session.scalars(db.select(InvoiceEvent).filter_by(invoice_id=inv.id, action="attach")).all()


def test_control_characters_in_a_name_are_refused_by_the_service(app, world, vendors, folder):
    inv = invoice(world, world.user("invoicer"), vendors.plain, number="ATT-N")
    for name in ("line\nbreak.pdf", "tab\there.pdf", "rtl\u202eFDP.exe"):
        with pytest.raises(InvalidInput, match="not a plain file name" if "\u202e" not in name else "cannot be attached"):
            attachments.add_attachment(world.user("invoicer"), inv, name, PDF)
    assert _stored(folder) == []


def test_odd_characters_in_a_name_are_replaced(app, world, vendors, folder):
    inv = invoice(world, world.user("invoicer"), vendors.plain, number="ATT-3")
    added = attachments.add_attachment(world.user("invoicer"), inv, 'Invoice <"2026">  |final|.pdf', PDF)
    assert added.file_name == "Invoice __2026__ _final_.pdf"
    long = attachments.add_attachment(world.user("invoicer"), inv, "x" * 300 + ".pdf", PDF)
    assert len(long.file_name) == 200 and long.file_name.endswith(".pdf")


def test_without_javascript_the_refusal_comes_back_flashed(app, world, vendors, folder):
    inv = invoice(world, world.user("invoicer"), vendors.plain, number="ATT-4")
    client = login(app.test_client(), "invoicer")
    resp = _post_file(client, inv, "x.exe", b"MZ", hx=False)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/invoices/{inv.id}/attachments")
    assert "cannot be attached" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_library_scope_hides_another_librarys_files(app, world, vendors, folder):
    inv_b = invoice(world, world.user("invoicer"), vendors.plain, number="ATT-B", library="b")
    added = attachments.add_attachment(world.user("invoicer"), inv_b, "b.pdf", PDF)
    inv_a = invoice(world, world.user("invoicer"), vendors.plain, number="ATT-A", library="a")
    db.session.commit()
    viewer_a = login(app.test_client(), "viewer-a")
    assert viewer_a.get(f"/invoices/{inv_b.id}/attachments/{added.id}").status_code == 404
    assert viewer_a.get(f"/invoices/{inv_b.id}/attachments").status_code == 404
    # the file of B's invoice asked through A's (visible) invoice: not found either
    resp = viewer_a.get(f"/invoices/{inv_a.id}/attachments/{added.id}")
    assert resp.status_code == 404 and PDF not in resp.data
    create_user(None, "invoicer-a", PASSWORD, roles=[(Role.INVOICE_OPERATOR, world.lib_a)])
    db.session.commit()
    op_a = login(app.test_client(), "invoicer-a")
    assert _post_file(op_a, inv_b, "x.pdf", PDF).status_code == 404
    assert op_a.post(f"/invoices/{inv_b.id}/attachments/{added.id}/delete", headers=HX).status_code == 404
    assert len(_rows(inv_b.id)) == 1 and len(_stored(folder)) == 1


def test_a_viewer_may_download_but_not_attach_or_delete(app, world, vendors, folder):
    inv = invoice(world, world.user("invoicer"), vendors.plain, number="ATT-5", library=None)
    added = attachments.add_attachment(world.user("invoicer"), inv, "a.pdf", PDF)
    db.session.commit()
    viewer = login(app.test_client(), "viewer")
    page = viewer.get(f"/invoices/{inv.id}/attachments").get_data(as_text=True)
    assert "a.pdf" in page and "File to attach" not in page and "Delete" not in page
    assert _post_file(viewer, inv, "x.pdf", PDF).status_code == 403
    assert viewer.post(f"/invoices/{inv.id}/attachments/{added.id}/delete").status_code == 403


def test_deleting_removes_the_file_after_the_commit_and_keeps_a_record(app, world, vendors, folder):
    inv = invoice(world, world.user("invoicer"), vendors.plain, number="ATT-6", library=None)
    added = attachments.add_attachment(world.user("invoicer"), inv, "gone.pdf", PDF)
    db.session.commit()
    inv_id, added_id = inv.id, added.id
    client = login(app.test_client(), "invoicer-ext")
    resp = client.post(f"/invoices/{inv_id}/attachments/{added_id}/delete", headers=HX)
    assert resp.status_code == 200 and "“gone.pdf” deleted" in resp.get_data(as_text=True)
    assert _rows(inv_id) == [] and _stored(folder) == []
    [event] = db.session.scalars(db.select(InvoiceEvent).filter_by(invoice_id=inv_id, action="delete_attachment"))
    assert event.old_value == "gone.pdf" and event.actor_id == world.users["invoicer-ext"]
    assert client.get(f"/invoices/{inv_id}/attachments/{added_id}").status_code == 404


def test_a_rolled_back_upload_leaves_no_file(app, world, vendors, folder):
    inv = invoice(world, world.user("invoicer"), vendors.plain, number="ATT-7")
    attachments.add_attachment(world.user("invoicer"), inv, "tmp.pdf", PDF)
    assert len(_stored(folder)) == 1
    db.session.rollback()
    assert _stored(folder) == []


def test_a_missing_file_is_a_clear_404(app, world, vendors, folder):
    inv = invoice(world, world.user("invoicer"), vendors.plain, number="ATT-8", library=None)
    added = attachments.add_attachment(world.user("invoicer"), inv, "lost.pdf", PDF)
    db.session.commit()
    (folder / added.stored_name).unlink()
    resp = login(app.test_client(), "viewer").get(f"/invoices/{inv.id}/attachments/{added.id}")
    assert resp.status_code == 404 and "missing from the server" in resp.get_data(as_text=True)
