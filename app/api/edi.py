"""API v1: EDI invoices — the inbox (paged, filtered by status), one message with its raw text, retry,
the upload of an EDIFACT file (a background run followed by its id), and each vendor's EDI pickup
settings (list, get, PATCH, fetch now).

As on the pages (:mod:`app.integrations.edi.views`): the inbox and the upload are for invoice
operators, managers and administrators holding the role for the whole institution (a file may hold
invoices of any library), the settings for institution administrators; everything goes through
:mod:`app.integrations.edi.services`.
"""
from __future__ import annotations

import threading

from flask import current_app, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.utils import secure_filename

from ..auth.models import Role
from ..auth.permissions import institution_roles_required, roles_required
from ..errors import Forbidden, InvalidInput, NotFound
from ..extensions import db
from ..idempotency import idempotent
from ..ids import parse_id
from ..integrations.edi import services as edi
from ..integrations.edi.models import MESSAGE_STATUSES, SOURCES, EdiMessage, VendorEdiSetting
from ..integrations.models import SCHEDULES, Connection, JobRun
from ..invoices import services as invoices
from ..vendors.models import Vendor
from .base import (BOOLEAN, INTEGER, MOMENT, NULLABLE_MOMENT, NULLABLE_STRING, STRING, bp, by_code, check_match,
                   choice_arg, commit, input_schema, list_of, match, named, object_schema, one, operation, page_args,
                   page_of, param, patch_schema, path_param, per_page_param, query_param, ref, register_openapi,
                   saved)
from .serializers import Field, read_body, read_patch, timestamp

RECEIVE = invoices.OPERATORS
CONFIGURE = (Role.ADMIN,)
DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 200

SETTING_IN = {
    "connection": Field("str", "The code of the connection the vendor's files are fetched from.", nullable=True),
    "folder": Field("str", "The folder under the connection's base folder.", max_length=200),
    "active": Field("bool", "Fetched by the schedule."),
    "schedule": Field("enum", "When it is fetched.", choices=tuple(SCHEDULES)),
    "schedule_time": Field("str", "HH:MM (24-hour clock) for daily and weekly schedules.", max_length=5),
    "schedule_day": Field("int", "The day of a weekly schedule: 0 = Monday … 6 = Sunday.", nullable=True,
                          schema={"minimum": 0, "maximum": 6}),
    "orders_folder": Field("str", "Where EDI ORDERS go; empty: the orders folder inside folder.", max_length=200),
    "syntax": Field("enum", "The syntax of EDI ORDERS: UNOC (Latin-1) or UNOW (UTF-8).", choices=("UNOC", "UNOW")),
}
RETRY_IN: dict[str, Field] = {}
FETCH_IN: dict[str, Field] = {}


def _message(edi_message_id: int) -> EdiMessage:
    if parse_id(edi_message_id) is None:   # no row has an id past the column's range (the query would fail)
        raise NotFound("No such EDI message.")
    return edi.get_message(current_user, edi_message_id)


def _receiver() -> None:
    if not edi.may_receive(current_user):   # as the pages: 403
        raise Forbidden("Only invoice operators for the whole institution may see the EDI inbox.")


def _configurer() -> None:
    if not edi.may_configure(current_user):
        raise Forbidden("Only institution administrators may see vendor EDI settings.")


# -- what the API returns ----------------------------------------------------------------------

def message_summary_json(m: EdiMessage) -> dict:
    return {"id": m.id, "received_at": timestamp(m.received_at), "source": m.source, "file_name": m.file_name,
            "message_index": m.message_index, "message_ref": m.message_ref,
            "vendor": m.vendor.code if m.vendor else None, "invoice_number": m.invoice_number, "status": m.status,
            "reason": m.reason, "invoice": m.invoice_id, "attempts": m.attempts, "can_retry": m.can_retry}


def message_json(m: EdiMessage) -> dict:
    return {**message_summary_json(m), "raw": m.raw, "sha256": m.sha256,
            "received_by": m.received_by.username if m.received_by else None, "updated_at": timestamp(m.updated_at)}


def run_json(run: JobRun) -> dict:
    return {"id": run.id, "job": run.job, "status": run.status, "trigger": run.trigger, "message": run.message,
            "started_at": timestamp(run.started_at), "ended_at": timestamp(run.ended_at),
            "records": run.records, "records_failed": run.records_failed}


def upload_json(run: JobRun) -> dict:
    rows = db.session.scalars(select(EdiMessage).where(EdiMessage.run_id == run.id).order_by(EdiMessage.id)).all()
    return {**run_json(run), "messages": [message_summary_json(m) for m in rows]}


def setting_json(vendor: Vendor, s: VendorEdiSetting | None) -> dict:
    """A vendor's EDI settings; one never configured answers the form's defaults (configured false)."""
    if s is None:
        return {"vendor": vendor.code, "configured": False, "connection": None, "folder": "", "active": False,
                "schedule": "none", "schedule_time": "", "schedule_day": None, "orders_folder": "",
                "syntax": "UNOC", "schedule_text": "", "updated_at": None}
    return {"vendor": vendor.code, "configured": True, "connection": s.connection.code, "folder": s.folder,
            "active": s.active, "schedule": s.schedule, "schedule_time": s.schedule_time,
            "schedule_day": s.schedule_day, "orders_folder": s.orders_folder, "syntax": s.syntax,
            "schedule_text": s.schedule_text, "updated_at": timestamp(s.updated_at)}


# -- inbox -------------------------------------------------------------------------------------

@bp.get("/edi/messages")
@roles_required(*RECEIVE)
def list_edi_messages():
    _receiver()
    page = page_args(DEFAULT_PER_PAGE, MAX_PER_PAGE)
    status = choice_arg("status", MESSAGE_STATUSES)
    return page.of(edi.inbox_query(status or None), message_summary_json)


@bp.get("/edi/messages/<int:edi_message_id>")
@roles_required(*RECEIVE)
def get_edi_message(edi_message_id):
    _receiver()
    return one(_message(edi_message_id), message_json)


@bp.post("/edi/messages/<int:edi_message_id>/actions/retry")
@institution_roles_required(*RECEIVE)
@idempotent
def retry_edi_message(edi_message_id):
    message = _message(edi_message_id)
    read_body(RETRY_IN, optional=True)
    check_match(message, message_json, required=False)
    edi.retry_edi_message(current_user, message)
    return saved(message, message_json)


# -- upload ------------------------------------------------------------------------------------

@bp.post("/edi/uploads")
@institution_roles_required(*RECEIVE)
@idempotent
def upload_edi_file():
    """Start the run that receives the file (every message to the inbox, matching ones become
    invoices); answer at once with it."""
    code = (request.form.get("vendor") or "").strip()
    vendor = named(Vendor, code, "vendor", "vendor") if code else None
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput("Send the EDIFACT file as the form field file.", "file")
    data = upload.read(edi.MAX_FILE_BYTES + 1)
    file_name = secure_filename(upload.filename) or "upload.edi"
    run = edi.start_upload(current_user, vendor, file_name, data)
    db.session.commit()   # the run exists before its thread looks for it (as on the page)
    threading.Thread(target=edi.run_edi_upload, args=(current_app._get_current_object(), run.id,
                                                     vendor.id if vendor else None, file_name, data),
                     name=f"edi-upload-{run.id}", daemon=True).start()
    return saved(run, upload_json, 201, lambda r: url_for("api.get_edi_upload", upload_run_id=r.id))


@bp.get("/edi/uploads/<int:upload_run_id>")
@roles_required(*RECEIVE)
def get_edi_upload(upload_run_id):
    _receiver()
    if parse_id(upload_run_id) is None:
        raise NotFound("No such EDI upload.")
    run, _messages = edi.get_upload(current_user, upload_run_id)
    return upload_json(run)


# -- vendor settings ---------------------------------------------------------------------------

def _vendor(vendor_code: str) -> Vendor:
    return by_code(Vendor, vendor_code, "vendor")


@bp.get("/edi/settings")
@roles_required(*CONFIGURE)
def list_edi_settings():
    _configurer()
    rows = db.session.scalars(select(VendorEdiSetting).join(Vendor).order_by(Vendor.code)).all()
    return {"items": [setting_json(s.vendor, s) for s in rows]}


@bp.get("/edi/settings/<vendor_code>")
@roles_required(*CONFIGURE)
def get_edi_setting(vendor_code):
    _configurer()
    vendor = _vendor(vendor_code)
    return one(vendor, lambda v: setting_json(v, edi.setting_of(v)))


@bp.patch("/edi/settings/<vendor_code>")
@institution_roles_required(*CONFIGURE)
def patch_edi_setting(vendor_code):
    vendor = _vendor(vendor_code)
    setting = edi.setting_of(vendor)
    current = setting_json(vendor, setting)
    if setting is not None:
        check_match(setting, lambda s: setting_json(vendor, s))
    else:
        match(lambda: current)
    body = read_patch(SETTING_IN, {name: current[name] for name in SETTING_IN})
    connection = (named(Connection, body["connection"], "connection", "connection")
                  if body["connection"] is not None else None)
    edi.save_setting(current_user, vendor, edi.EdiSettingFields(
        connection=connection, folder=body["folder"], active=body["active"], schedule=body["schedule"],
        schedule_time=body["schedule_time"], schedule_day=body["schedule_day"], orders_folder=body["orders_folder"],
        syntax=body["syntax"]))
    return saved(vendor, lambda v: setting_json(v, edi.setting_of(v)))


@bp.post("/edi/settings/<vendor_code>/actions/fetch")
@institution_roles_required(*CONFIGURE)
@idempotent
def fetch_edi_now(vendor_code):
    """Fetch the vendor's files now, in a background run (skipped when one of this vendor's runs
    is still going); answer at once with the run."""
    vendor = _vendor(vendor_code)
    read_body(FETCH_IN, optional=True)
    run = edi.start_fetch(current_user, vendor)
    db.session.commit()   # the run exists before its thread looks for it (as on the page)
    if run.status == "running":
        threading.Thread(target=edi.fetch_run, args=(current_app._get_current_object(), vendor.code),
                         kwargs={"trigger": "manual", "actor_id": current_user.id, "run_id": run.id},
                         name=f"edi-fetch-{run.id}", daemon=True).start()
    commit()
    return run_json(run)


# -- OpenAPI -----------------------------------------------------------------------------------

_RECEIVE = ("admin, invoice_operator, invoice_operator_extended or invoice_manager, held for the whole "
            "institution")
_CONFIGURE = "admin of the whole institution"
_MESSAGE, _UPLOAD, _VENDOR = "EdiMessageId", "EdiUploadRunId", "EdiVendorCode"
_SUMMARY = {
    "id": INTEGER, "received_at": MOMENT, "source": {"type": "string", "enum": list(SOURCES)}, "file_name": STRING,
    "message_index": {"type": "integer", "description": "1-based; 0: the whole file (it could not be read)."},
    "message_ref": STRING, "vendor": NULLABLE_STRING, "invoice_number": STRING,
    "status": {"type": "string", "enum": list(MESSAGE_STATUSES)}, "reason": STRING,
    "invoice": {"type": ["integer", "null"], "description": "The invoice it created."}, "attempts": INTEGER,
    "can_retry": BOOLEAN}
_RUN = {"id": INTEGER, "job": STRING, "status": STRING, "trigger": STRING, "message": STRING, "started_at": MOMENT,
        "ended_at": NULLABLE_MOMENT, "records": INTEGER, "records_failed": INTEGER}
_SETTING = {
    "vendor": STRING, "configured": {**BOOLEAN, "description": "false: never set up (the defaults are shown)."},
    "connection": NULLABLE_STRING, "folder": STRING, "active": BOOLEAN,
    "schedule": {"type": "string", "enum": list(SCHEDULES)}, "schedule_time": STRING,
    "schedule_day": {"type": ["integer", "null"]}, "orders_folder": STRING,
    "syntax": {"type": "string", "enum": ["UNOC", "UNOW"]}, "schedule_text": STRING, "updated_at": NULLABLE_MOMENT}


def _upload_operation() -> dict:
    op = operation("uploadEdiFile", "Upload an EDIFACT invoice file (received by a background run)", _RECEIVE,
                   ("201", "EdiUpload", "The run, started (Location: it); follow it with GET."), ("400",),
                   location="The upload run's URL.", idempotent=True,
                   note="Every message goes to the inbox; those that match a vendor and its PO lines become "
                        "invoices (channel edi). vendor: a vendor's code; empty: matched by the supplier (NAD+SU) "
                        "of each message.")
    op["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"],
        "properties": {"vendor": {"type": "string", "description": "The vendor's code (optional)."},
                       "file": {"type": "string", "contentMediaType": "application/octet-stream"}}}}}}
    return op


register_openapi(
    schemas={
        "EdiMessageSummary": object_schema(_SUMMARY, "One message of a received EDIFACT file (or a file that could "
                                                     "not be read)."),
        "EdiMessage": object_schema({**_SUMMARY, "raw": STRING, "sha256": STRING, "received_by": NULLABLE_STRING,
                                     "updated_at": MOMENT}, "A message with its raw text."),
        "EdiMessagePage": page_of("EdiMessageSummary", "Messages"),
        "EdiRun": object_schema(_RUN, "A background run."),
        "EdiUpload": object_schema({**_RUN, "messages": {"type": "array", "items": ref("EdiMessageSummary")}},
                                   "An upload's run and the inbox messages it wrote so far."),
        "EdiSetting": object_schema(_SETTING, "A vendor's EDI pickup settings."),
        "EdiSettingList": list_of("EdiSetting"),
        "EdiSettingPatch": patch_schema(SETTING_IN, "Some of the settings; the others stay as they are (for a "
                                                    "vendor never set up: the defaults, and a connection is "
                                                    "needed)."),
        "EdiRetryInput": input_schema(RETRY_IN, "Nothing to give."),
        "EdiFetchInput": input_schema(FETCH_IN, "Nothing to give."),
    },
    parameters={
        _MESSAGE: path_param("edi_message_id", "The inbox message's id."),
        _UPLOAD: path_param("upload_run_id", "The upload's run id."),
        _VENDOR: path_param("vendor_code", "The vendor's code.", STRING),
        "EdiStatusFilter": query_param("status", {"type": "string", "enum": list(MESSAGE_STATUSES)},
                                       "Only messages in this status."),
        "EdiPerPage": per_page_param(MAX_PER_PAGE, DEFAULT_PER_PAGE),
    },
    paths={
        "/api/v1/edi/messages": {
            "get": operation("listEdiMessages", "The EDI inbox, newest first, paged", _RECEIVE,
                             ("200", "EdiMessagePage", "One page of messages."), ("400",),
                             params=("EdiStatusFilter", "Page", "EdiPerPage")),
        },
        "/api/v1/edi/messages/{edi_message_id}": {
            "parameters": [param(_MESSAGE)],
            "get": operation("getEdiMessage", "One inbox message with its raw text", _RECEIVE,
                             ("200", "EdiMessage", "The message."), ("404",), etag=True),
        },
        "/api/v1/edi/messages/{edi_message_id}/actions/retry": {
            "parameters": [param(_MESSAGE)],
            "post": operation("retryEdiMessage", "Try a failed message again (after its PO line or vendor was "
                                                 "fixed)", _RECEIVE, ("200", "EdiMessage", "The message now."),
                              ("400", "404"), body="EdiRetryInput", body_required=False, idempotent=True,
                              if_match="optional", note="400: only failed messages are retried."),
        },
        "/api/v1/edi/uploads": {"post": _upload_operation()},
        "/api/v1/edi/uploads/{upload_run_id}": {
            "parameters": [param(_UPLOAD)],
            "get": operation("getEdiUpload", "An upload's run and the messages it received so far", _RECEIVE,
                             ("200", "EdiUpload", "The upload."), ("404",)),
        },
        "/api/v1/edi/settings": {
            "get": operation("listEdiSettings", "The vendors' EDI settings, by vendor code", _CONFIGURE,
                             ("200", "EdiSettingList", "The settings.")),
        },
        "/api/v1/edi/settings/{vendor_code}": {
            "parameters": [param(_VENDOR)],
            "get": operation("getEdiSetting", "A vendor's EDI settings", _CONFIGURE, ("200", "EdiSetting", "Them."),
                             ("404",), etag=True),
            "patch": operation("patchEdiSetting", "Set up or change a vendor's EDI settings", _CONFIGURE,
                               ("200", "EdiSetting", "Saved."), ("400", "404"), body="EdiSettingPatch",
                               if_match="required", note="Only the fields sent change."),
        },
        "/api/v1/edi/settings/{vendor_code}/actions/fetch": {
            "parameters": [param(_VENDOR)],
            "post": operation("fetchEdiNow", "Fetch the vendor's EDI files now (a background run)", _CONFIGURE,
                              ("200", "EdiRun", "The run: running, or skipped when one of the vendor's runs is "
                                                "still going."), ("400", "404"), body="EdiFetchInput",
                              body_required=False, idempotent=True,
                              note="400: the vendor has no EDI settings yet."),
        },
    })
