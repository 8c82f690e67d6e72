"""API v1: an invoice's dated notes and attached files (the Notes and Attachments tabs), and its history.

Reading and downloading are for every role within its library scope (an invoice out of scope, or
a note or file of another invoice, is 404); adding, editing and deleting need the roles and scope
:mod:`app.invoices.attachments` asks for: an invoice operator's role for the invoice's library, and
for a note's edit or deletion its author or an administrator (403 otherwise), as on the pages.
"""
from __future__ import annotations

from flask import request, send_file, url_for
from flask_login import current_user

from ..auth.permissions import roles_required
from ..errors import DomainError, NotFound
from ..ids import parse_id
from ..idempotency import idempotent
from ..invoices import attachments, charges
from ..invoices import services as invoices
from ..invoices.models import InvoiceAttachment, InvoiceNote
from ..ledger import format_plain
from .base import (BOOLEAN, INTEGER, MOMENT, NULLABLE_MOMENT, NULLABLE_STRING, READ, STRING, bp, check_match, deleted,
                   etag_of, input_schema, list_of, object_schema, one, operation, param, patch_schema, path_param,
                   ref, register_openapi, saved)
from .serializers import Field, read_body, read_patch, timestamp

WRITE = invoices.OPERATORS

NOTE_IN = {"text": Field("str", "The note (at most 10,000 characters); leading and trailing blanks are dropped.",
                         required=True)}


def note_json(note: InvoiceNote) -> dict:
    return {"id": note.id, "text": note.text, "author": note.author.username if note.author else None,
            "created_at": timestamp(note.created_at), "edited_at": timestamp(note.edited_at),
            "edited_by": note.edited_by.username if note.edited_by else None,
            "changeable": attachments.can_change_note(current_user, note)}


def attachment_json(a: InvoiceAttachment) -> dict:
    return {"id": a.id, "file_name": a.file_name, "content_type": a.content_type, "size": a.size,
            "sha256": a.sha256, "uploaded_by": a.uploaded_by.username if a.uploaded_by else None,
            "uploaded_at": timestamp(a.uploaded_at)}


def _invoice(id):  # noqa: A002
    return invoices.get_invoice(current_user, id)


def _note(id, note_id):  # noqa: A002
    invoice = _invoice(id)
    if parse_id(note_id) is None:   # no row has an id past the column's range (the query would fail)
        raise NotFound(f"Invoice {invoice.number} has no such note.")
    return attachments.get_note(invoice, note_id)


def _attachment(id, attachment_id):  # noqa: A002
    invoice = _invoice(id)
    if parse_id(attachment_id) is None:
        raise NotFound(f"Invoice {invoice.number} has no such attachment.")
    return attachments.get_attachment(invoice, attachment_id)


# -- notes -------------------------------------------------------------------------------------

@bp.get("/invoices/<int:id>/notes")
@roles_required(*READ)
def list_invoice_notes(id):  # noqa: A002
    return {"items": [note_json(n) for n in _invoice(id).dated_notes]}


@bp.post("/invoices/<int:id>/notes")
@roles_required(*WRITE)
@idempotent
def add_invoice_note(id):  # noqa: A002
    invoice = _invoice(id)
    body = read_body(NOTE_IN)
    note = attachments.add_note(current_user, invoice, body["text"])
    return saved(note, note_json, 201, lambda n: url_for("api.get_invoice_note", id=invoice.id, note_id=n.id))


@bp.get("/invoices/<int:id>/notes/<int:note_id>")
@roles_required(*READ)
def get_invoice_note(id, note_id):  # noqa: A002
    return one(_note(id, note_id), note_json)


@bp.patch("/invoices/<int:id>/notes/<int:note_id>")
@roles_required(*WRITE)
def patch_invoice_note(id, note_id):  # noqa: A002
    note = _note(id, note_id)
    check_match(note, note_json)
    body = read_patch(NOTE_IN, {"text": note.text})
    attachments.edit_note(current_user, note, body["text"])
    return saved(note, note_json)


@bp.delete("/invoices/<int:id>/notes/<int:note_id>")
@roles_required(*WRITE)
def delete_invoice_note(id, note_id):  # noqa: A002
    note = _note(id, note_id)
    check_match(note, note_json)
    attachments.delete_note(current_user, note)
    return deleted()


# -- funds tab ---------------------------------------------------------------------------------

def _charge_json(charge, currency: str) -> dict:
    return {"line": charge.line.position, "line_type": charge.line.line_type, "fund": charge.fund.code,
            "fund_id": charge.fund.id, "period": charge.fund.fiscal_period.code,
            "amount": format_plain(charge.amount, currency), "fund_amount": format_plain(charge.fund_amount,
                                                                                      charge.fund.currency),
            "fund_currency": charge.fund.currency, "rate": charge.rate_text}


@bp.get("/invoices/<int:id>/charges")
@roles_required(*READ)
def list_invoice_charges(id):  # noqa: A002
    """The Funds tab: what approval charges (or charged) each fund; ``problem`` when it cannot be
    worked out yet (e.g. no exchange rate)."""
    invoice = _invoice(id)
    try:
        rows, problem = charges.charges_of(invoice), None
    except DomainError as exc:
        rows, problem = [], exc.message
    return {"items": [_charge_json(c, invoice.currency) for c in rows], "problem": problem}


# -- history -----------------------------------------------------------------------------------

def event_json(e) -> dict:
    return {"at": timestamp(e.at), "actor": e.actor.username if e.actor else None, "action": e.action,
            "field": e.field, "line": e.line_position, "old_value": e.old_value, "new_value": e.new_value,
            "note": e.note}


@bp.get("/invoices/<int:id>/history")
@roles_required(*READ)
def list_invoice_history(id):  # noqa: A002
    """The History tab: every change of the invoice, newest first."""
    return {"items": [event_json(e) for e in reversed(_invoice(id).history)]}


# -- attachments -------------------------------------------------------------------------------

@bp.get("/invoices/<int:id>/attachments")
@roles_required(*READ)
def list_invoice_attachments(id):  # noqa: A002
    return {"items": [attachment_json(a) for a in _invoice(id).attachments]}


@bp.post("/invoices/<int:id>/attachments")
@roles_required(*WRITE)
@idempotent
def upload_invoice_attachment(id):  # noqa: A002
    invoice = _invoice(id)
    upload = request.files.get("file")
    name, content = ("", b"") if upload is None or not upload.filename else (
        upload.filename, upload.stream.read(attachments.max_bytes() + 1))   # one byte past the limit: refused
    added = attachments.add_attachment(current_user, invoice, name, content)
    return saved(added, attachment_json, 201,
                 lambda a: url_for("api.download_invoice_attachment", id=invoice.id, attachment_id=a.id))


@bp.get("/invoices/<int:id>/attachments/<int:attachment_id>")
@roles_required(*READ)
def download_invoice_attachment(id, attachment_id):  # noqa: A002
    attachment = _attachment(id, attachment_id)
    resp = send_file(attachments.attachment_path(attachment), mimetype=attachment.content_type, as_attachment=True,
                     download_name=attachment.file_name, max_age=0, etag=False)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["ETag"] = etag_of(attachment_json(attachment))   # what DELETE's If-Match names
    return resp


@bp.delete("/invoices/<int:id>/attachments/<int:attachment_id>")
@roles_required(*WRITE)
def delete_invoice_attachment(id, attachment_id):  # noqa: A002
    attachment = _attachment(id, attachment_id)
    check_match(attachment, attachment_json)
    attachments.delete_attachment(current_user, attachment)
    return deleted()


# -- OpenAPI -----------------------------------------------------------------------------------

_READ = "any role; invoices outside your library scope are not found"
_WRITE = ("admin, invoice_operator, invoice_operator_extended or invoice_manager, for the invoice's library")
_CHANGE_NOTE = _WRITE + "; only the note's author or an administrator (403 otherwise)"
_INVOICE, _NOTE, _FILE = "InvoiceId", "InvoiceNoteId", "InvoiceAttachmentId"
_FILE_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "contentMediaType": "application/octet-stream"}}}}}}


def _upload_operation() -> dict:
    op = operation("uploadInvoiceAttachment", "Attach a file to an invoice", _WRITE,
                   ("201", "InvoiceAttachment", "Attached (Location: its download)."), ("400", "404"),
                   location="The file's download URL.", idempotent=True,
                   note=f"A multipart/form-data upload with a file part. Allowed: "
                        f"{', '.join(attachments.ALLOWED_EXTENSIONS)}; the content must be of the type its name says; "
                        "at most the configured size (10 MB by default) and 100 files an invoice (400 beyond).")
    op["requestBody"] = _FILE_BODY
    return op


register_openapi(
    schemas={
        "InvoiceNote": object_schema({
            "id": INTEGER, "text": STRING, "author": NULLABLE_STRING, "created_at": MOMENT,
            "edited_at": NULLABLE_MOMENT, "edited_by": NULLABLE_STRING,
            "changeable": {**BOOLEAN, "description": "Whether you may edit or delete it."}},
            "A dated note on an invoice."),
        "InvoiceNoteList": list_of("InvoiceNote"),
        "InvoiceNoteInput": input_schema(NOTE_IN, "A note."),
        "InvoiceNotePatch": patch_schema(NOTE_IN, "The note's new text."),
        "InvoiceAttachment": object_schema({
            "id": INTEGER, "file_name": STRING, "content_type": STRING, "size": INTEGER,
            "sha256": STRING, "uploaded_by": NULLABLE_STRING, "uploaded_at": MOMENT},
            "A file attached to an invoice."),
        "InvoiceAttachmentList": list_of("InvoiceAttachment"),
        "InvoiceEvent": object_schema({
            "at": MOMENT, "actor": {"type": ["string", "null"], "description": "null: the system."},
            "action": STRING, "field": STRING, "line": {"type": ["integer", "null"], "description": "The line's "
                                                                                              "position."},
            "old_value": STRING, "new_value": STRING, "note": STRING}, "One change of an invoice."),
        "InvoiceEventList": list_of("InvoiceEvent"),
        "InvoiceCharge": object_schema({
            "line": {"type": "integer", "description": "The line's position."}, "line_type": STRING,
            "fund": STRING, "fund_id": INTEGER, "period": {"type": "string", "description": "The fund's fiscal "
                                                                                           "period."},
            "amount": {"allOf": [ref("Money")], "description": "In the invoice currency."},
            "fund_amount": {"allOf": [ref("Money")], "description": "In the fund's currency."},
            "fund_currency": STRING,
            "rate": {"type": "string", "description": "\"1 USD = 2.5 KZT\" when converted, else empty."}},
            "One posting approval makes: a line's part charged to one fund."),
        "InvoiceChargeList": object_schema({
            "items": {"type": "array", "items": ref("InvoiceCharge")},
            "problem": {"type": ["string", "null"], "description": "Why the charges cannot be worked out yet."}}),
    },
    parameters={
        _NOTE: path_param("note_id", "The note's id."),
        _FILE: path_param("attachment_id", "The attachment's id."),
    },
    paths={
        "/api/v1/invoices/{id}/notes": {
            "parameters": [param(_INVOICE)],
            "get": operation("listInvoiceNotes", "An invoice's notes, oldest first", _READ,
                             ("200", "InvoiceNoteList", "The notes."), ("404",)),
            "post": operation("addInvoiceNote", "Add a note to an invoice", _WRITE,
                              ("201", "InvoiceNote", "Added (Location: the note)."), ("400", "404"),
                              body="InvoiceNoteInput", location="The note's URL.", idempotent=True),
        },
        "/api/v1/invoices/{id}/notes/{note_id}": {
            "parameters": [param(_INVOICE), param(_NOTE)],
            "get": operation("getInvoiceNote", "One note", _READ, ("200", "InvoiceNote", "The note."), ("404",),
                             etag=True),
            "patch": operation("patchInvoiceNote", "Change a note's text (the history keeps the earlier one)",
                               _CHANGE_NOTE, ("200", "InvoiceNote", "Saved."), ("400", "404"),
                               body="InvoiceNotePatch", if_match="required"),
            "delete": operation("deleteInvoiceNote", "Delete a note (the history keeps its text)", _CHANGE_NOTE,
                                ("204", None, "Deleted."), ("404",), if_match="required"),
        },
        "/api/v1/invoices/{id}/charges": {
            "parameters": [param(_INVOICE)],
            "get": operation("listInvoiceCharges", "What approving the invoice charges (or charged) each fund", _READ,
                             ("200", "InvoiceChargeList", "The postings, exact, in both currencies."), ("404",)),
        },
        "/api/v1/invoices/{id}/history": {
            "parameters": [param(_INVOICE)],
            "get": operation("listInvoiceHistory", "An invoice's history, newest first", _READ,
                             ("200", "InvoiceEventList", "The changes."), ("404",)),
        },
        "/api/v1/invoices/{id}/attachments": {
            "parameters": [param(_INVOICE)],
            "get": operation("listInvoiceAttachments", "An invoice's attached files", _READ,
                             ("200", "InvoiceAttachmentList", "The files."), ("404",)),
            "post": _upload_operation(),
        },
        "/api/v1/invoices/{id}/attachments/{attachment_id}": {
            "parameters": [param(_INVOICE), param(_FILE)],
            "get": operation("downloadInvoiceAttachment", "Download an attached file", _READ,
                             ("200", {"*/*": {"schema": {"type": "string", "contentMediaType":
                                                         "application/octet-stream"}}},
                              "The file, as an attachment, with its content type. Its ETag header is what "
                              "DELETE's If-Match names."), ("404",)),
            "delete": operation("deleteInvoiceAttachment", "Delete an attached file (the history keeps a record)",
                                _WRITE, ("204", None, "Deleted."), ("404",), if_match="required",
                                note="If-Match: the ETag of the file's download (or of the upload's answer)."),
        },
    })
