"""Invoices from Excel files: the upload page, the template download, the preview and the load.

The uploaded file is kept on the server between preview and load (never sent back by the
browser): under ``INVOICE_FILE_FOLDER`` (default ``<instance>/uploads/invoice-files``) with a random
token name; the token, the vendor and the uploader's id live in the signed session, so "Load"
re-reads exactly the file that was previewed, for the same user and vendor, and checks it again.

"Load" starts a background run (:mod:`.file_load_run`) and answers at once with the run's status
(a redirect to its page, or the fragment for HTMX); the status polls itself every second until the
run ends, then shows the report. The status of a load may be seen by whoever started it and by the
institution's invoice staff.
"""
from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, render_template, request, send_file, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.utils import secure_filename
from wtforms import SelectField

from ..auth.permissions import is_institution_admin, roles_required
from ..database import write_intent
from ..errors import DomainError
from ..extensions import db
from ..htmx import is_htmx, render
from ..idempotency import AlreadyDone, claim_form_token
from ..saving import saving
from ..vendors.models import Vendor
from ..vendors.services import vendor_select_choices
from . import file_load_run as runs
from . import file_loading
from . import services as invoices

bp = Blueprint("invoice_files", __name__, url_prefix="/invoices/files")
EDIT = invoices.OPERATORS
SESSION_KEY = "invoice_file"
TOKEN = re.compile(r"^[0-9a-f]{32}$")
MAX_AGE_SECONDS = 24 * 3600
TEMPLATE_NAME = "invoice-template.xlsx"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadForm(FlaskForm):
    vendor = SelectField(_l("Vendor"), coerce=str, validate_choice=False)
    file = FileField(_l("Excel file (.xlsx or .xls)"))


# -- the kept file -----------------------------------------------------------------------------

def _folder() -> Path:
    folder = Path(current_app.config.get("INVOICE_FILE_FOLDER")
                  or Path(current_app.instance_path) / "uploads" / "invoice-files")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _keep(data: bytes, file_name: str, vendor: Vendor) -> str:
    """Store the upload under a new random token for this user (replacing their previous one)."""
    _forget()
    folder = _folder()
    cutoff = time.time() - MAX_AGE_SECONDS
    for old in folder.glob("*.upload"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass
    token = secrets.token_hex(16)
    (folder / f"{token}.upload").write_bytes(data)
    session[SESSION_KEY] = {"token": token, "user": current_user.id, "vendor": vendor.id, "name": file_name}
    return token


def _kept(token: str) -> tuple[bytes, str, Vendor] | None:
    """The file previewed under ``token`` by this user, with its name and vendor, or None."""
    entry = session.get(SESSION_KEY) or {}
    if not TOKEN.match(token or "") or entry.get("token") != token or entry.get("user") != current_user.id:
        return None
    path = _folder() / f"{token}.upload"
    vendor = db.session.get(Vendor, entry.get("vendor"))
    if not path.is_file() or vendor is None:
        return None
    return path.read_bytes(), entry.get("name") or "", vendor


def _forget() -> None:
    entry = session.pop(SESSION_KEY, None) or {}
    token = entry.get("token") or ""
    if TOKEN.match(token):
        (_folder() / f"{token}.upload").unlink(missing_ok=True)


# -- pages -------------------------------------------------------------------------------------

def _form() -> UploadForm:
    form = UploadForm()
    form.vendor.choices = vendor_select_choices()[0]
    return form


def _upload_page(form: UploadForm, status: int = 200, error: str | None = None):
    return render_template("invoices/files/upload.html", form=form, error=error,
                           columns=file_loading.COLUMNS, max_lines=file_loading.MAX_LINES), status


def _attach(form: UploadForm, exc: DomainError) -> None:
    """A refused file: the message goes under the vendor it names, else under the file."""
    (form.vendor if exc.field == "vendor" else form.file).errors = [exc.message]


def _may_invoice_somewhere() -> bool:
    return runs.may_invoice_somewhere(current_user)


@bp.get("/")
@roles_required(*EDIT)
def upload():
    """Choose the vendor and the file; links to the template."""
    if not _may_invoice_somewhere():
        abort(403)
    return _upload_page(_form())


@bp.get("/template.xlsx")
@roles_required(*EDIT)
def template():
    from io import BytesIO
    return send_file(BytesIO(file_loading.template_workbook()), mimetype=XLSX_TYPE, as_attachment=True,
                     download_name=TEMPLATE_NAME, max_age=0)


@bp.post("/")
@roles_required(*EDIT)
def preview():
    """Check the uploaded file and show what it would create; nothing is written."""
    # The preview of a big file takes seconds (checking, then a long page) and writes nothing: it
    # must not hold SQLite's write lock meanwhile (a POST opens its transaction with BEGIN
    # IMMEDIATE), so it ends that transaction and reads in plain ones from here on.
    db.session.rollback()
    token = write_intent.set(False)
    try:
        return _preview()
    finally:
        db.session.rollback()   # the preview never writes; belt and braces
        write_intent.reset(token)


def _preview():
    if not _may_invoice_somewhere():
        abort(403)
    form = _form()
    if not form.validate():
        return _upload_page(form, 400, _("The form expired; upload the file again."))
    vendor = db.session.get(Vendor, int(form.vendor.data)) if (form.vendor.data or "").isdigit() else None
    upload_file = request.files.get("file")
    if vendor is None:
        form.vendor.errors = [_("Choose the vendor the invoices are from.")]
        return _upload_page(form, 422)
    if upload_file is None or not upload_file.filename:
        form.file.errors = [_("Choose an Excel file (.xlsx or .xls).")]
        return _upload_page(form, 422)
    file_name = secure_filename(upload_file.filename) or "upload"
    data = upload_file.read(file_loading.MAX_FILE_BYTES + 1)
    with saving(form, attach=_attach, commit=False) as checked:   # a check: nothing to commit
        check = file_loading.check_file(current_user, vendor, data, file_name, runs.loaded_earlier(vendor, data))
    if not checked:
        return _upload_page(form, 422)
    db.session.rollback()
    token = _keep(data, file_name, vendor) if check.valid else None
    if not check.valid:
        _forget()
    return render_template("invoices/files/preview.html", check=check, token=token, form=form,
                           load_form=FlaskForm())


@bp.post("/load")
@roles_required(*EDIT)
def load():
    """Start loading the valid invoices of the previewed file (checked again) as a background run;
    answer at once with its status."""
    if not FlaskForm().validate():
        abort(400)
    kept = _kept(request.form.get("token", ""))
    if kept is None:
        form = _form()
        return _upload_page(form, 409, _("That file is no longer waiting to be loaded (it was loaded already, or "
                                         "the session changed). Upload it again."))
    data, file_name, vendor = kept
    try:
        # The preview's token is spent with the start of the load (start_load commits it): a second
        # post of this form starts nothing.
        claim_form_token(current_user, f"invoice-file:{request.form['token']}")
    except AlreadyDone:
        db.session.rollback()
        return _upload_page(_form(), 409, _("Already done: that file was loaded once; sending the form again "
                                            "loads nothing. The invoices list shows what it created."))
    run, _started = runs.start_load(current_app._get_current_object(), current_user._get_current_object(), vendor,
                                    data, file_name)
    _forget()
    if is_htmx():
        return _status(run)
    return redirect(url_for(".load_status", load_run_id=run.id), 303)


def _may_follow(run) -> bool:
    return runs.may_follow(current_user, run)


def _status(run):
    return render("invoices/files/load_run.html", "invoices/files/_load_run.html", may_monitor=is_institution_admin(
        current_user), detail_endpoint="invoices.show" if "invoices.show" in current_app.view_functions
        else "invoice_forms.edit", **runs.status_context(run))


@bp.get("/runs/<int:load_run_id>")
@roles_required(*EDIT)
def load_status(load_run_id):
    """The status of a load: progress while it runs (the fragment polls itself), then the report."""
    run = runs.run_of(load_run_id)
    if run is None or not _may_follow(run):
        abort(404)
    return _status(run)
