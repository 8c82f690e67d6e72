"""The Notes and Attachments tabs of an invoice: list, add, edit and delete dated notes; upload,
download and delete attached files.

Each tab is a URL of its own showing the invoice page with that tab (HTMX: the page without the
layout, as the other tabs); a form posted with HTMX is answered with the tab's fragment
(#invoice-notes or #invoice-attachments) showing the outcome, without JavaScript by a redirect
to the tab with the outcome flashed. Viewing and downloading are for every role within its
library scope (an invoice out of scope, or a file of another invoice, is 404); the changes need
the roles :mod:`.attachments` asks for.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.permissions import ALL_ROLES, roles_required
from ..htmx import is_htmx
from ..saving import saving
from . import attachments
from . import services as invoices
from . import views

bp = Blueprint("invoice_notes", __name__)
VIEW = ALL_ROLES
WRITE = invoices.OPERATORS
FRAGMENTS = {"notes": "invoices/_tab_notes.html", "attachments": "invoices/_tab_attachments.html"}
ENDPOINTS = {"notes": "invoice_notes.notes", "attachments": "invoice_notes.attachments_tab"}


def _invoice(invoice_id):
    return invoices.get_invoice(current_user, invoice_id)


def _tab_context(invoice, tab: str) -> dict:
    ctx = dict(can_write_files=attachments.can_write(current_user, invoice))
    if tab == "notes":
        ctx["changeable_notes"] = {n.id for n in invoice.dated_notes if attachments.can_change_note(current_user, n)}
    else:
        ctx.update(allowed_types=attachments.allowed_types_text(), size_limit=attachments.limit_text(),
                   accept=",".join("." + e for e in attachments.ALLOWED_EXTENSIONS))
    return ctx


def _tab(invoice, tab: str, status: int = 200, fragment: bool = False, **ctx):
    """The invoice page on ``tab`` (HTMX: without the layout); ``fragment``: the tab's part alone."""
    ctx.update(_tab_context(invoice, tab))
    if fragment:
        return render_template(FRAGMENTS[tab], invoice=invoice, **ctx), status
    return views._detail(invoice, tab, status, **ctx)


def _after(invoice_id: int, tab: str, saved, message: str):
    """The answer to a posted change: HTMX the tab's fragment with the outcome (or the refusal), a
    plain form a redirect to the tab with it flashed."""
    invoice = _invoice(invoice_id)
    if not saved:
        if is_htmx():
            return _tab(invoice, tab, saved.status, fragment=True, problem=saved.message)
        flash(saved.message, "error")
    elif is_htmx():
        return _tab(invoice, tab, fragment=True, message=message)
    else:
        flash(message, "ok")
    return redirect(url_for(ENDPOINTS[tab], invoice_id=invoice_id))


# -- notes -----------------------------------------------------------------------------------------

@bp.get("/invoices/<int:invoice_id>/notes")
@roles_required(*VIEW)
def notes(invoice_id):
    return _tab(_invoice(invoice_id), "notes")


@bp.post("/invoices/<int:invoice_id>/notes")
@roles_required(*WRITE)
def add_note(invoice_id):
    invoice = _invoice(invoice_id)
    with saving() as saved:
        attachments.add_note(current_user, invoice, request.form.get("text"))
    return _after(invoice_id, "notes", saved, _("Note added."))


@bp.post("/invoices/<int:invoice_id>/notes/<int:note_id>")
@roles_required(*WRITE)
def edit_note(invoice_id, note_id):
    invoice = _invoice(invoice_id)
    with saving() as saved:
        attachments.edit_note(current_user, attachments.get_note(invoice, note_id), request.form.get("text"))
    return _after(invoice_id, "notes", saved, _("Note saved (the history keeps the earlier text)."))


@bp.post("/invoices/<int:invoice_id>/notes/<int:note_id>/delete")
@roles_required(*WRITE)
def delete_note(invoice_id, note_id):
    invoice = _invoice(invoice_id)
    with saving() as saved:
        attachments.delete_note(current_user, attachments.get_note(invoice, note_id))
    return _after(invoice_id, "notes", saved, _("Note deleted (the history keeps its text)."))


# -- attachments -----------------------------------------------------------------------------------

@bp.get("/invoices/<int:invoice_id>/attachments")
@roles_required(*VIEW)
def attachments_tab(invoice_id):
    return _tab(_invoice(invoice_id), "attachments")


def _upload():
    """The uploaded file's name and bytes; reading stops one byte past the limit (then refused)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return "", b""
    return upload.filename, upload.stream.read(attachments.max_bytes() + 1)


@bp.post("/invoices/<int:invoice_id>/attachments")
@roles_required(*WRITE)
def upload(invoice_id):
    invoice = _invoice(invoice_id)
    name, content = _upload()
    with saving() as saved:
        added = attachments.add_attachment(current_user, invoice, name, content)
    return _after(invoice_id, "attachments", saved,
                  _("“%(file)s” attached.", file=added.file_name) if saved else "")


@bp.get("/invoices/<int:invoice_id>/attachments/<int:attachment_id>")
@roles_required(*VIEW)
def download(invoice_id, attachment_id):
    attachment = attachments.get_attachment(_invoice(invoice_id), attachment_id)
    resp = send_file(attachments.attachment_path(attachment), mimetype=attachment.content_type, as_attachment=True,
                     download_name=attachment.file_name, max_age=0, etag=False)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.post("/invoices/<int:invoice_id>/attachments/<int:attachment_id>/delete")
@roles_required(*WRITE)
def delete_attachment(invoice_id, attachment_id):
    invoice = _invoice(invoice_id)
    name = ""
    with saving() as saved:
        attachment = attachments.get_attachment(invoice, attachment_id)
        name = attachment.file_name
        attachments.delete_attachment(current_user, attachment)
    return _after(invoice_id, "attachments", saved, _("“%(file)s” deleted (the history keeps a record).", file=name))
