"""EDI invoices: the inbox (every message received, its status and reason, its raw text, retry),
the upload of an EDIFACT file (received by a background run whose page polls itself by HTMX until
it ends), and each vendor's EDI pickup settings (connection, folder, schedule).

The inbox and the upload are for institution-wide invoice operators, managers and administrators
(a file may hold invoices of any library); the settings for institution administrators.
"""
from __future__ import annotations

import threading

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import String, case, cast, literal, select
from sqlalchemy.orm import joinedload
from werkzeug.utils import secure_filename
from wtforms import BooleanField, SelectField, StringField

from ... import list_columns
from ...auth.models import Role, User
from ...auth.permissions import roles_required
from ...errors import DomainError
from ...exports import Column, Columns, export_response, related, rows_of
from ...extensions import db
from ...htmx import render
from ...saving import saving
from ...invoices import services as invoices
from ...vendors.models import Vendor
from ...vendors.services import vendor_select_choices
from ..models import SCHEDULES, WEEKDAYS, Connection
from ...text import T
from . import services as edi
from .models import MESSAGE_STATUSES, SOURCES, EdiMessage, VendorEdiSetting

bp = Blueprint("edi", __name__, url_prefix="/invoices/edi")
RECEIVE = invoices.OPERATORS
PAGE_SIZE = 50


class UploadForm(FlaskForm):
    vendor = SelectField(_l("Vendor"), coerce=str, validate_choice=False)
    file = FileField(_l("EDIFACT file"))


class SettingForm(FlaskForm):
    connection = SelectField(_l("Connection"), coerce=str, validate_choice=False)
    folder = StringField(_l("Folder"))
    active = BooleanField(_l("Active (fetched by the schedule)"))
    schedule = SelectField(_l("Schedule"), choices=list(SCHEDULES.items()))
    schedule_time = StringField(_l("Time (HH:MM)"))
    schedule_day = SelectField(_l("Day"), coerce=str, validate_choice=False,
                               choices=[("", "—")] + [(str(n), d) for n, d in enumerate(WEEKDAYS)])
    orders_folder = StringField(_l("Orders folder"))
    syntax = SelectField(_l("Syntax of orders"), choices=[("UNOC", _l("UNOC (Latin-1)")), ("UNOW", _l("UNOW (UTF-8)"))],
                         default="UNOC")


def _receiver_only() -> None:
    if not edi.may_receive(current_user):
        abort(403)


def _invoice_url(invoice_id: int) -> str:
    endpoint = "invoices.show" if "invoices.show" in current_app.view_functions else "invoice_forms.edit"
    return url_for(endpoint, invoice_id=invoice_id)


# -- inbox -------------------------------------------------------------------------------------

def _message_label(m: EdiMessage) -> str:
    return m.message_ref or (T("whole file") if m.message_index == 0 else str(m.message_index))


INBOX_COLUMNS = Columns([
    Column("id", "#", "number", fixed=True),
    Column("received_at", T("Received (UTC)"), "datetime"),
    Column("source", T("Source"), value=lambda r: SOURCES.get(r.source, r.source), cell=lambda m: m.source_label,
           shown=False),
    Column("file_name", T("File")),
    Column("message", T("Message"), cell=_message_label,
           sql=case((EdiMessage.message_ref != "", EdiMessage.message_ref),
                    (EdiMessage.message_index == 0, literal("whole file")),
                    else_=cast(EdiMessage.message_index, String))),
    Column("vendor", T("Vendor"), sql=related(Vendor, EdiMessage.vendor_id),
           cell=lambda m: m.vendor.code if m.vendor else ""),
    Column("invoice_number", T("Invoice number")),
    Column("status", T("Status"), value=lambda r: MESSAGE_STATUSES.get(r.status, r.status),
           cell=lambda m: m.status_label),
    Column("reason", T("Reason"), cell=lambda m: m.shown_reason),
    Column("attempts", T("Attempts"), "number", shown=False),
    Column("received_by", T("Received by"), sql=related(User, EdiMessage.received_by_id, "username"),
           cell=lambda m: m.received_by.username if m.received_by else "", shown=False),
    Column("updated_at", T("Updated (UTC)"), "datetime", shown=False),
    Column("sha256", T("File SHA-256"), shown=False),
])
INBOX_TABLE = list_columns.register("edi_inbox", T("EDI inbox"), INBOX_COLUMNS)


def _inbox_status(args) -> str:
    status = args.get("status", "")
    return status if status in MESSAGE_STATUSES else ""


@bp.get("/")
@roles_required(*RECEIVE)
def inbox():
    """Every message received, newest first; filter by status."""
    _receiver_only()
    status = _inbox_status(request.args)
    columns = list_columns.shown(current_user, INBOX_TABLE)
    query = edi.inbox_query(status or None)
    if any(c.key == "received_by" for c in columns):
        query = query.options(joinedload(EdiMessage.received_by))
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=PAGE_SIZE, error_out=False)

    def list_url(n=None, **change):
        return url_for("edi.inbox", status=status or None, page=n if n and n > 1 else None)

    return render("invoices/edi/inbox.html", "invoices/edi/_inbox_table.html", page=page, status_filter=status,
                  statuses=MESSAGE_STATUSES, counts=edi.inbox_counts(), invoice_url=_invoice_url,
                  list_url=list_url, table=INBOX_TABLE, columns=columns,
                  column_choices=list_columns.choices(current_user, INBOX_TABLE),
                  export_url=lambda fmt: url_for("edi.export_inbox", fmt=fmt, status=status or None))


@bp.get("/export.csv", defaults={"fmt": "csv"})
@bp.get("/export.xlsx", defaults={"fmt": "xlsx"})
@roles_required(*RECEIVE)
def export_inbox(fmt):
    """Every message of the inbox's status filter, newest first, in the columns the user shows."""
    _receiver_only()
    columns = list_columns.exported(current_user, INBOX_TABLE)
    return export_response(rows_of(edi.inbox_query(_inbox_status(request.args) or None), columns), columns, fmt,
                           "edi-inbox", sheet="EDI inbox")


@bp.get("/<int:edi_message_id>")
@roles_required(*RECEIVE)
def show(edi_message_id):
    _receiver_only()
    try:
        message = edi.get_message(current_user, edi_message_id)
    except DomainError:
        abort(404)
    return render_template("invoices/edi/show.html", message=message, retry_form=FlaskForm(),
                           invoice_url=_invoice_url)


@bp.post("/<int:edi_message_id>/retry")
@roles_required(*RECEIVE)
def retry(edi_message_id):
    _receiver_only()
    if not FlaskForm().validate():
        abort(400)
    try:
        message = edi.get_message(current_user, edi_message_id)
    except DomainError:
        abort(404)
    with saving() as saved:
        edi.retry_edi_message(current_user, message)
    if not saved:
        flash(saved.message, "error")
        return redirect(url_for("edi.show", edi_message_id=edi_message_id))
    if message.status == "invoice_created":
        flash(_("Invoice %(number)s created from message #%(id)s.", number=message.invoice_number, id=message.id),
              "ok")
    else:
        flash(_("Message #%(id)s still fails: %(reason)s", id=message.id, reason=message.shown_reason), "error")
    return redirect(url_for("edi.show", edi_message_id=edi_message_id))


# -- upload ------------------------------------------------------------------------------------

def _upload_form() -> UploadForm:
    form = UploadForm()
    choices = vendor_select_choices()[0]
    form.vendor.choices = [("", _("Match by the supplier (NAD+SU) of each message"))] + choices[1:]
    return form


@bp.get("/upload")
@roles_required(*RECEIVE)
def upload():
    _receiver_only()
    return render_template("invoices/edi/upload.html", form=_upload_form(), max_bytes=edi.MAX_FILE_BYTES)


@bp.post("/upload")
@roles_required(*RECEIVE)
def receive():
    """Start the run that receives the file (every message to the inbox, matching ones become
    invoices) and show its page, which follows it."""
    _receiver_only()
    form = _upload_form()
    if not form.validate():
        return render_template("invoices/edi/upload.html", form=form, max_bytes=edi.MAX_FILE_BYTES,
                               error=_("The form expired; upload the file again.")), 400
    vendor = db.session.get(Vendor, int(form.vendor.data)) if (form.vendor.data or "").isdigit() else None
    upload_file = request.files.get("file")
    if upload_file is None or not upload_file.filename:
        form.file.errors = [_("Choose an EDIFACT file.")]
        return render_template("invoices/edi/upload.html", form=form, max_bytes=edi.MAX_FILE_BYTES), 422
    data = upload_file.read(edi.MAX_FILE_BYTES + 1)
    file_name = secure_filename(upload_file.filename) or "upload.edi"
    with saving() as saved:
        run = edi.start_upload(current_user, vendor, file_name, data)
    if not saved:
        form.file.errors = [saved.message]
        return render_template("invoices/edi/upload.html", form=form, max_bytes=edi.MAX_FILE_BYTES), 422
    threading.Thread(target=edi.run_edi_upload, args=(current_app._get_current_object(), run.id,
                                                     vendor.id if vendor else None, file_name, data),
                     name=f"edi-upload-{run.id}", daemon=True).start()
    return redirect(url_for("edi.upload_status", upload_run_id=run.id), 303)


@bp.get("/uploads/<int:upload_run_id>")
@roles_required(*RECEIVE)
def upload_status(upload_run_id):
    """An upload's run: its progress while it goes (the fragment polls itself), then what became of
    each message."""
    _receiver_only()
    try:
        run, messages = edi.get_upload(current_user, upload_run_id)
    except DomainError:
        abort(404)
    return render("invoices/edi/upload_status.html", "invoices/edi/_upload_status.html", run=run,
                  messages=messages, created=[m for m in messages if m.status == "invoice_created"],
                  failed=[m for m in messages if m.status == "failed"], invoice_url=_invoice_url)


# -- vendor settings ---------------------------------------------------------------------------

@bp.get("/settings")
@roles_required(Role.ADMIN)
def settings_list():
    if not edi.may_configure(current_user):
        abort(403)
    rows = db.session.scalars(select(VendorEdiSetting).join(Vendor).order_by(Vendor.code)).all()
    vendors = db.session.scalars(select(Vendor).where(Vendor.status == "active").order_by(Vendor.code)).all()
    return render_template("invoices/edi/settings.html", rows=rows, vendors=vendors)


def _setting_form(setting: VendorEdiSetting | None) -> SettingForm:
    form = SettingForm(obj=None if request.method == "POST" else setting)
    if request.method == "GET" and setting is not None:
        form.connection.data = str(setting.connection_id)
        form.schedule_day.data = "" if setting.schedule_day is None else str(setting.schedule_day)
    connections = db.session.scalars(select(Connection).order_by(Connection.code)).all()
    form.connection.choices = [("", _("Choose a connection…"))] + [
        (str(c.id), f"{c.code} — {c.name} ({c.kind_label})") for c in connections]
    return form


@bp.route("/settings/<int:edi_vendor_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_setting(edi_vendor_id):
    if not edi.may_configure(current_user):
        abort(403)
    vendor = db.session.get(Vendor, edi_vendor_id) or abort(404)
    setting = edi.setting_of(vendor)
    form = _setting_form(setting)
    if request.method == "POST":
        if not form.validate():
            abort(400)
        connection_ref, day = form.connection.data or "", form.schedule_day.data or ""
        connection = db.session.get(Connection, int(connection_ref)) if connection_ref.isdigit() else None
        fields = edi.EdiSettingFields(connection=connection, folder=form.folder.data, active=form.active.data,
                                     schedule=form.schedule.data, schedule_time=form.schedule_time.data,
                                     schedule_day=int(day) if day.isdigit() else None,
                                     orders_folder=form.orders_folder.data or "", syntax=form.syntax.data)
        with saving(form) as saved:
            edi.save_setting(current_user, vendor, fields)
        if not saved:
            return render_template("invoices/edi/setting_form.html", form=form, vendor=vendor, setting=setting), 422
        flash(_("EDI settings of %(vendor)s saved.", vendor=vendor.code), "ok")
        return redirect(url_for("edi.settings_list"))
    return render_template("invoices/edi/setting_form.html", form=form, vendor=vendor, setting=setting)


@bp.post("/settings/<int:edi_vendor_id>/fetch")
@roles_required(Role.ADMIN)
def fetch_now(edi_vendor_id):
    """Fetch the vendor's files now, in a background run: its page (Monitor Jobs) follows it."""
    if not edi.may_configure(current_user):
        abort(403)
    if not FlaskForm().validate():
        abort(400)
    vendor = db.session.get(Vendor, edi_vendor_id) or abort(404)
    with saving() as saved:
        run = edi.start_fetch(current_user, vendor)
    if not saved:
        flash(saved.message, "error")
        return redirect(url_for("edi.settings_list"))
    if run.status == "running":
        threading.Thread(target=edi.fetch_run, args=(current_app._get_current_object(), vendor.code),
                         kwargs={"trigger": "manual", "actor_id": current_user.id, "run_id": run.id},
                         name=f"edi-fetch-{run.id}", daemon=True).start()
    else:
        flash(run.shown_message, "error")
    return redirect(url_for("integrations.show_run", run_id=run.id))
