"""API v1: invoices from Excel files — the template, the preview and the load as a background run.

As on the pages (:mod:`app.invoices.file_views`): the preview checks the file and answers what it
would create, every invoice with its rows and problems, writing nothing; the load starts the
page's background run (:mod:`app.invoices.file_load_run`), which checks the file again, creates
the valid invoices (channel "file") and skips the others; its status is followed by its run id.
The API keeps no file between the two requests: a load sends the file again (loading the same file
for the same vendor twice never creates an invoice twice: what an earlier load created is left out).
"""
from __future__ import annotations

from io import BytesIO

from flask import current_app, request, send_file, url_for
from flask_login import current_user
from werkzeug.utils import secure_filename

from ..auth.permissions import roles_required
from ..database import write_intent
from ..errors import Forbidden, InvalidInput, NotFound
from ..extensions import db
from ..idempotency import idempotent
from ..ids import parse_id
from ..invoices import file_load_run as runs
from ..invoices import file_loading
from ..invoices import services as invoices
from ..vendors.models import Vendor
from .base import (BOOLEAN, INTEGER, MOMENT, NULLABLE_MOMENT, NULLABLE_STRING, STRING, bp, commit, named,
                   object_schema, operation, param, path_param, ref, register_openapi)
from .serializers import iso_day, timestamp

EDIT = invoices.OPERATORS
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _may_invoice() -> None:
    if not runs.may_invoice_somewhere(current_user):   # as the upload page: 403
        raise Forbidden("You may not create invoices for any library.")


def _upload() -> tuple[Vendor, str, bytes]:
    """The multipart form's vendor (a code) and file (read one byte past the limit: then refused)."""
    code = (request.form.get("vendor") or "").strip()
    if not code:
        raise InvalidInput("Give the code of the vendor the invoices are from (form field vendor).", "vendor")
    vendor = named(Vendor, code, "vendor", "vendor")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput("Send the Excel file (.xlsx or .xls) as the form field file.", "file")
    data = upload.read(file_loading.MAX_FILE_BYTES + 1)
    if len(data) > file_loading.MAX_FILE_BYTES:
        raise InvalidInput(f"The file is larger than {file_loading.MAX_FILE_BYTES:,} bytes.", "file")
    return vendor, secure_filename(upload.filename) or "upload", data


# -- what the API returns ----------------------------------------------------------------------

def _line_json(ln) -> dict:
    return {"row": ln.row, "po_line": ln.po_line, "quantity": ln.quantity, "unit_price": ln.unit_price,
            "total": ln.total, "funds": ln.funds, "reporting_code": ln.reporting_code, "note": ln.note,
            "problems": list(ln.errors)}


def _preview_invoice_json(inv) -> dict:
    state = "loaded_earlier" if inv.loaded_earlier is not None else "valid" if inv.valid else "invalid"
    return {"number": inv.number, "rows": inv.rows, "state": state, "invoice_date": inv.invoice_date,
            "currency": inv.currency, "total_amount": inv.total_amount, "owner": inv.owner,
            "outcome": inv.outcome if inv.valid else None, "loaded_earlier_by_run": inv.loaded_earlier,
            "problems": inv.problems, "warnings": list(inv.warnings), "lines": [_line_json(ln) for ln in inv.lines]}


def preview_json(check) -> dict:
    return {"vendor": check.vendor.code, "file_name": check.file_name, "invoices": len(check.invoices),
            "lines": check.line_count, "valid": len(check.valid), "invalid": len(check.invalid),
            "loaded_earlier": len(check.earlier), "problems": check.error_count,
            "items": [_preview_invoice_json(inv) for inv in check.invoices]}


def run_json(run) -> dict:
    ctx = runs.status_context(run)
    load = ctx["load"]
    return {
        "id": run.id, "status": run.status, "ended": ctx["ended"], "file_name": load.name if load else None,
        "started_at": timestamp(run.started_at), "ended_at": timestamp(run.ended_at),
        "started_by": run.actor.username if run.actor else None,
        "progress_done": run.progress_done, "progress_total": run.progress_total, "message": run.message,
        "created": [{"row": row.first_row, "number": row.number, "invoice": saved.id if saved else None,
                     "status": saved.status if saved else None,
                     "invoice_date": iso_day(saved.invoice_date) if saved else None}
                    for row, saved in ctx["created"]],
        "skipped": [{"number": e.record, "reason": e.message} for e in ctx["skipped"]],
    }


# -- routes ------------------------------------------------------------------------------------

@bp.get("/invoice-files/template")
@roles_required(*EDIT)
def invoice_file_template():
    return send_file(BytesIO(file_loading.template_workbook()), mimetype=XLSX_TYPE, as_attachment=True,
                     download_name="invoice-template.xlsx", max_age=0)


@bp.post("/invoice-files/actions/preview")
@roles_required(*EDIT)
def preview_invoice_file():
    """Check the file; nothing is written (and no write lock is held: the check of a big file takes
    seconds, as on the page)."""
    db.session.rollback()
    token = write_intent.set(False)
    try:
        _may_invoice()
        vendor, file_name, data = _upload()
        check = file_loading.check_file(current_user, vendor, data, file_name, runs.loaded_earlier(vendor, data))
        return preview_json(check)
    finally:
        db.session.rollback()
        write_intent.reset(token)


@bp.post("/invoice-files/loads")
@roles_required(*EDIT)
@idempotent
def load_invoice_file():
    """Start loading the file's valid invoices in the background; answer at once with the run."""
    _may_invoice()
    vendor, file_name, data = _upload()
    file_loading.read_file(data, file_name)   # a file that is no spreadsheet of invoice lines: 400 now
    run, _started = runs.start_load(current_app._get_current_object(), current_user._get_current_object(), vendor,
                                    data, file_name)
    commit()
    resp = current_app.make_response((run_json(run), 201))
    resp.headers["Location"] = url_for("api.get_invoice_file_run", load_run_id=run.id)
    return resp


@bp.get("/invoice-files/runs/<int:load_run_id>")
@roles_required(*EDIT)
def get_invoice_file_run(load_run_id):
    run = runs.run_of(load_run_id) if parse_id(load_run_id) else None
    if run is None or not runs.may_follow(current_user, run):
        raise NotFound(f"No file load run {load_run_id}.")
    return run_json(run)


# -- OpenAPI -----------------------------------------------------------------------------------

_EDIT = "admin, invoice_operator, invoice_operator_extended or invoice_manager"
_FILE_FORM = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["vendor", "file"],
    "properties": {"vendor": {"type": "string", "description": "The vendor's code."},
                   "file": {"type": "string", "contentMediaType": "application/octet-stream",
                            "description": "The Excel file (.xlsx or .xls), in the template's columns."}}}}}}
_TEXT = {"type": "string", "description": "As written in the file."}


def _with_file(op: dict) -> dict:
    op["requestBody"] = _FILE_FORM
    return op


register_openapi(
    schemas={
        "InvoiceFileLine": object_schema({
            "row": INTEGER, "po_line": _TEXT, "quantity": _TEXT, "unit_price": _TEXT, "total": _TEXT, "funds": _TEXT,
            "reporting_code": _TEXT, "note": _TEXT, "problems": {"type": "array", "items": STRING}}),
        "InvoiceFilePreviewInvoice": object_schema({
            "number": STRING, "rows": {"type": "array", "items": INTEGER},
            "state": {"type": "string", "enum": ["valid", "invalid", "loaded_earlier"],
                      "description": "valid: will be loaded; invalid: has problems, skipped; loaded_earlier: an "
                                     "earlier load of this same file created it."},
            "invoice_date": _TEXT, "currency": _TEXT, "total_amount": _TEXT, "owner": _TEXT,
            "outcome": {"type": ["string", "null"], "description": "The status it would reach."},
            "loaded_earlier_by_run": {"type": ["integer", "null"]},
            "problems": {"type": "array", "items": STRING, "description": "Each naming its row."},
            "warnings": {"type": "array", "items": STRING, "description": "Review problems: it would stay In "
                                                                          "Review."},
            "lines": {"type": "array", "items": ref("InvoiceFileLine")}}),
        "InvoiceFilePreview": object_schema({
            "vendor": STRING, "file_name": STRING, "invoices": INTEGER, "lines": INTEGER, "valid": INTEGER,
            "invalid": INTEGER, "loaded_earlier": INTEGER, "problems": INTEGER,
            "items": {"type": "array", "items": ref("InvoiceFilePreviewInvoice")}},
            "What loading the file would create. Nothing has been saved."),
        "InvoiceFileRun": object_schema({
            "id": INTEGER, "status": {"type": "string", "description": "running, completed, failed, …"},
            "ended": BOOLEAN, "file_name": NULLABLE_STRING, "started_at": MOMENT, "ended_at": NULLABLE_MOMENT,
            "started_by": NULLABLE_STRING, "progress_done": INTEGER, "progress_total": {"type": ["integer", "null"]},
            "message": STRING,
            "created": {"type": "array", "items": object_schema({
                "row": INTEGER, "number": STRING,
                "invoice": {"type": ["integer", "null"], "description": "Its id; null: deleted since."},
                "status": NULLABLE_STRING, "invoice_date": {"type": ["string", "null"], "format": "date"}})},
            "skipped": {"type": "array", "items": object_schema({"number": STRING, "reason": STRING}),
                        "description": "At most 500."}},
            "A load of an Excel invoice file: its progress, then what it created and skipped."),
    },
    parameters={"InvoiceFileRunId": path_param("load_run_id", "The load's run id.")},
    paths={
        "/api/v1/invoice-files/template": {
            "get": operation("getInvoiceFileTemplate", "The Excel template of an invoice file", _EDIT,
                             ("200", {XLSX_TYPE: {"schema": {"type": "string", "contentMediaType": XLSX_TYPE}}},
                              "The template (.xlsx).")),
        },
        "/api/v1/invoice-files/actions/preview": {
            "post": _with_file(operation(
                "previewInvoiceFile", "Check an Excel invoice file: what it would create, with its problems", _EDIT,
                ("200", "InvoiceFilePreview", "The preview (nothing is saved)."), ("400",),
                note="400: no vendor or file, an unknown vendor, or a file that is not a readable spreadsheet of "
                     "invoice lines. 403 also when you may create invoices for no library.")),
        },
        "/api/v1/invoice-files/loads": {
            "post": _with_file(operation(
                "loadInvoiceFile", "Load an Excel invoice file's valid invoices (a background run)", _EDIT,
                ("201", "InvoiceFileRun", "The run, started (Location: it); follow it with GET."), ("400",),
                location="The run's URL.", idempotent=True,
                note="The run checks the file again, creates the valid invoices and skips the others (listed "
                     "with their reasons in the run). When the same file is being loaded already, that run is "
                     "answered.")),
        },
        "/api/v1/invoice-files/runs/{load_run_id}": {
            "parameters": [param("InvoiceFileRunId")],
            "get": operation("getInvoiceFileRun", "A file load's status and, once ended, its report",
                             _EDIT + "; whoever started it, and the institution's invoice staff",
                             ("200", "InvoiceFileRun", "The run."), ("404",)),
        },
    })
