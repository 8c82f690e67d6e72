"""An invoice's notes and attachments through the API: list, add, edit and delete notes (author or
administrator), upload (multipart), download and delete files; scope, versions and refusals."""
from __future__ import annotations

import hashlib
import io

import pytest

from app.extensions import db
from app.invoices.models import InvoiceAttachment, InvoiceNote
from tests.api.helpers import conforms, error_of
from tests.invoices.helpers import invoice as make_invoice

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def folder(app, tmp_path):
    app.config["ATTACHMENT_FOLDER"] = str(tmp_path / "files")
    return tmp_path / "files" / "invoices"


def upload(client, invoice_id, name, content, **kw):
    return client.post(f"/invoices/{invoice_id}/attachments", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data", **kw)


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_notes_author_or_admin(world, vendors, scoped_users, api):
    inv = make_invoice(world, world.user("invoicer"), vendors.plain, number="N-1")
    base = f"/invoices/{inv.id}/notes"
    author, other = api("invoicer"), api("invoicer-ext")
    resp = author.post(base, json={"text": "  Pay within 30 days  "})
    assert resp.status_code == 201, resp.get_json()
    note = conforms(resp.get_json(), "InvoiceNote")
    assert (note["text"], note["author"], note["changeable"]) == ("Pay within 30 days", "invoicer", True)
    assert resp.headers["Location"] == f"/api/v1{base}/{note['id']}" and resp.headers["ETag"]
    path = f"{base}/{note['id']}"
    listed = conforms(api("viewer-a").get(base).get_json(), "InvoiceNoteList")["items"]
    assert [(n["id"], n["changeable"]) for n in listed] == [(note["id"], False)]

    for json in ({"text": "   "}, {}, {"text": 5}, {"text": "x" * 10_001}, {"note": "x"}):
        error_of(author.post(base, json=json), 400, "invalid")
    error_of(api("viewer").post(base, json={"text": "x"}), 403, "forbidden")
    error_of(api("invoicer-b").post(base, json={"text": "x"}), 404, "not_found")
    error_of(author.post("/invoices/999999/notes", json={"text": "x"}), 404, "not_found")
    error_of(author.get("/invoices/999999/notes"), 404, "not_found")
    error_of(author.get("/invoices/999999/attachments"), 404, "not_found")
    assert count(InvoiceNote) == 1

    # only its author or an administrator changes it
    error_of(other.change("patch", path, {"text": "mine"}), 403, "forbidden")
    error_of(other.change("delete", path), 403, "forbidden")
    error_of(author.patch(path, json={"text": "x"}), 428, "precondition_required")
    tag = author.etag(path)
    resp = author.change("patch", path, {"text": "Pay within 60 days"})
    assert resp.status_code == 200
    edited = conforms(resp.get_json(), "InvoiceNote")
    assert (edited["text"], edited["edited_by"]) == ("Pay within 60 days", "invoicer") and edited["edited_at"]
    error_of(author.patch(path, json={"text": "y"}, headers={"If-Match": tag}), 412, "precondition_failed")
    error_of(author.change("patch", path, {}), 400, "invalid")
    error_of(author.get(f"{base}/999999"), 404, "not_found")
    error_of(author.get(f"{base}/99999999999999999999"), 404, "not_found")   # past any id's range
    error_of(api("invoicer-b").get(path), 404, "not_found")
    resp = api("admin").change("patch", path, {"text": "Pay within 90 days"})
    assert resp.status_code == 200 and resp.get_json()["edited_by"] == "admin"
    error_of(author.delete(path), 428, "precondition_required")
    error_of(author.delete(path, headers={"If-Match": '"stale"'}), 412, "precondition_failed")
    error_of(author.patch(f"{base}/999999", json={"text": "x"}, headers={"If-Match": "*"}), 404, "not_found")
    assert author.change("delete", path).status_code == 204
    error_of(author.get(path), 404, "not_found")
    error_of(author.delete(path, headers={"If-Match": "*"}), 404, "not_found")
    assert count(InvoiceNote) == 0

    history = conforms(author.get(f"/invoices/{inv.id}/history").get_json(), "InvoiceEventList")["items"]
    assert [(e["action"], e["actor"]) for e in history[:4]] == [
        ("delete_note", "invoicer"), ("edit_note", "admin"), ("edit_note", "invoicer"), ("add_note", "invoicer")]
    assert (history[1]["old_value"], history[1]["new_value"]) == ("Pay within 60 days", "Pay within 90 days")
    assert history[-1]["action"] == "create"
    error_of(author.get("/invoices/999999/history"), 404, "not_found")
    funds = conforms(author.get(f"/invoices/{inv.id}/charges").get_json(), "InvoiceChargeList")
    assert funds["problem"] is None and [(c["line"], c["fund"], c["amount"], c["fund_amount"], c["rate"])
                                         for c in funds["items"]] == [(1, "A-BKS", "100.00", "100.00", "")]
    error_of(author.get("/invoices/999999/charges"), 404, "not_found")
    error_of(api("invoicer-b").get(f"/invoices/{inv.id}/history"), 404, "not_found")


def test_attachments_upload_download_delete(world, vendors, scoped_users, api, folder):
    inv = make_invoice(world, world.user("invoicer"), vendors.plain, number="F-1")
    client = api("invoicer")
    resp = upload(client, inv.id, "Scan.pdf", PDF)
    assert resp.status_code == 201, resp.get_json()
    added = conforms(resp.get_json(), "InvoiceAttachment")
    assert (added["file_name"], added["content_type"], added["size"], added["sha256"], added["uploaded_by"]) == (
        "Scan.pdf", "application/pdf", len(PDF), hashlib.sha256(PDF).hexdigest(), "invoicer")
    path = f"/invoices/{inv.id}/attachments/{added['id']}"
    assert resp.headers["Location"] == f"/api/v1{path}"
    listed = conforms(api("viewer-a").get(f"/invoices/{inv.id}/attachments").get_json(), "InvoiceAttachmentList")
    assert listed["items"] == [added]

    download = api("viewer").get(path)
    assert download.status_code == 200 and download.get_data() == PDF
    assert download.mimetype == "application/pdf" and "attachment" in download.headers["Content-Disposition"]
    assert download.headers["ETag"] == resp.headers["ETag"]

    for name, content in (("empty.pdf", b""), ("virus.exe", b"MZ" + b"\0" * 10), ("fake.pdf", b"not a pdf")):
        error = error_of(upload(client, inv.id, name, content), 400, "invalid")
        assert error["field"] == "file", error
    error_of(client.post(f"/invoices/{inv.id}/attachments", json={"file": "x"}), 400, "invalid")
    error_of(upload(api("viewer"), inv.id, "a.pdf", PDF), 403, "forbidden")
    error_of(upload(api("invoicer-b"), inv.id, "a.pdf", PDF), 404, "not_found")
    error_of(api("invoicer-b").get(path), 404, "not_found")
    error_of(client.get(f"/invoices/{inv.id}/attachments/999999"), 404, "not_found")
    error_of(client.get(f"/invoices/{inv.id}/attachments/99999999999999999999"), 404, "not_found")
    assert count(InvoiceAttachment) == 1 and len(list(folder.iterdir())) == 1

    error_of(client.delete(path), 428, "precondition_required")
    error_of(client.delete(path, headers={"If-Match": '"stale"'}), 412, "precondition_failed")
    error_of(api("viewer").delete(path, headers={"If-Match": "*"}), 403, "forbidden")
    assert client.delete(path, headers={"If-Match": download.headers["ETag"]}).status_code == 204
    error_of(client.get(path), 404, "not_found")
    error_of(client.delete(path, headers={"If-Match": "*"}), 404, "not_found")
    assert count(InvoiceAttachment) == 0 and list(folder.iterdir()) == []
