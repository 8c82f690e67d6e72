"""API v1: the settings of an integration profile beyond its sections — who is told when a run ends,
the invoice export's campus stylesheet (with its preview on an export file), the payment
confirmation format — and the failed order exports queued again. Same rules as
:mod:`app.api.integrations` (institution administrators, the pages' services). The ERP's fiscal
period numbers are in :mod:`app.api.org`."""
from __future__ import annotations

from flask import current_app
from flask_login import current_user

from ..auth.models import User
from ..auth.permissions import institution_roles_required
from ..errors import InvalidInput
from ..extensions import db
from ..idempotency import idempotent
from ..integrations import payment_format, stylesheets
from ..integrations.formats import xslt
from ..integrations.formats.payment_csv import DECIMAL_MARKS, FIELDS, SEPARATORS, CsvMapping
from ..integrations.order_export import rerun_failed_orders
from ..notifications.job_mail import set_recipients
from ..notifications.models import NOTIFY_WHEN
from .base import (BOOLEAN, INTEGER, MOMENT, NULLABLE_STRING, STRING, bp, check_match, input_schema,
                   list_of, object_schema, one, operation, param, patch_schema, register_openapi, saved)
from .integrations import ADMIN, ADMIN_TEXT, institution_admin, page_field, profile_of
from .serializers import Field, read_body, read_patch, timestamp


# -- who is told when a run ends ------------------------------------------------------------------

NOTIFICATIONS_IN = {
    "notify_when": Field("enum", "off (never), always (after every run) or failure (only after a failed one).",
                         required=True, choices=tuple(NOTIFY_WHEN)),
    "recipients": Field("str_list", "The user names of the active users told (at least one unless off).",
                        default=()),
}


def notifications_json(p) -> dict:
    return {"profile": p.code, "notify_when": p.notify_when, "recipients": [u.username for u in p.recipients]}


@bp.get("/erp/profiles/<profile_code>/notifications")
@institution_admin
def get_erp_notifications(profile_code):
    return one(profile_of(profile_code), notifications_json)


@bp.patch("/erp/profiles/<profile_code>/notifications")
@institution_roles_required(*ADMIN)
def patch_erp_notifications(profile_code):
    profile = profile_of(profile_code)
    check_match(profile, notifications_json)
    body = read_patch(NOTIFICATIONS_IN, notifications_json(profile))
    ids = []
    for name in body["recipients"]:
        user = db.session.scalar(db.select(User).filter_by(username=name))
        if user is None:
            raise InvalidInput(f"No user {name}.", "recipients")
        ids.append(user.id)
    set_recipients(current_user, profile, body["notify_when"], ids)
    return saved(profile, notifications_json)


# -- the invoice export's campus stylesheet -------------------------------------------------------

STYLESHEET_IN = {
    "xslt": Field("str", "An XSLT 1.0 stylesheet each invoice export file is transformed by before upload; \"\" "
                         "removes it. One that does not compile is refused (400) and nothing changes.",
                  default="", max_length=xslt.MAX_STYLESHEET_BYTES),
    "keep_original": Field("bool", "Keep the untransformed file in a sub-folder too.", default=False),
}


def stylesheet_json(section) -> dict:
    return {"profile": section.profile.code, "xslt": section.xslt, "keep_original": section.xslt_keep_original,
            "output_extension": xslt.check(section.xslt) if section.xslt else None}


@bp.get("/erp/profiles/<profile_code>/stylesheet")
@institution_admin
def get_erp_stylesheet(profile_code):
    return one(stylesheets.export_section(profile_of(profile_code)), stylesheet_json)


@bp.patch("/erp/profiles/<profile_code>/stylesheet")
@institution_roles_required(*ADMIN)
def patch_erp_stylesheet(profile_code):
    section = stylesheets.export_section(profile_of(profile_code))
    check_match(section, stylesheet_json)
    current = stylesheet_json(section)
    body = read_patch(STYLESHEET_IN, {"xslt": current["xslt"], "keep_original": current["keep_original"]})
    stylesheets.set_stylesheet(current_user, section.profile, body["xslt"], body["keep_original"])
    return saved(section, stylesheet_json)


PREVIEW_IN = {
    "source": Field("str", "What to transform: an export file of the profile (\"batch-<id>\", see export-files) or "
                           "\"sample\" (the invoices Ready to be Paid now, nothing marked).", required=True,
                    max_length=40),
    "xslt": Field("str", "The stylesheet to try; left out: the saved one.", nullable=True,
                  max_length=xslt.MAX_STYLESHEET_BYTES),
}


def export_file_json(batch) -> dict:
    return {"id": batch.id, "source": f"batch-{batch.id}", "file_name": batch.file_name, "status": batch.status,
            "created_at": timestamp(batch.created_at), "sent_at": timestamp(batch.sent_at)}


@bp.get("/erp/profiles/<profile_code>/export-files")
@institution_admin
def list_erp_export_files(profile_code):
    """The profile's latest invoice export files, newest first: what a preview may transform."""
    return {"items": [export_file_json(b) for b in stylesheets.recent_files(profile_of(profile_code))]}


@bp.post("/erp/profiles/<profile_code>/stylesheet/actions/preview")
@institution_admin
def preview_erp_stylesheet(profile_code):
    """The stylesheet page's preview: an export file beside its transformed output; nothing is saved."""
    section = stylesheets.export_section(profile_of(profile_code))
    body = read_body(PREVIEW_IN)
    stylesheet = section.xslt if body["xslt"] is None else stylesheets.checked(body["xslt"])
    sample = getattr(current_app.extensions["jobs"].get("export_invoices"), "sample_file", None)
    result = stylesheets.preview(section.profile, stylesheet, body["source"], sample)
    db.session.rollback()   # a preview changes nothing
    return {"source": result["source"], "label": result["label"], "original": result["original"],
            "output": result["output"], "extension": result["extension"] or None, "error": result["error"],
            "truncated": bool(result.get("truncated"))}


# -- the payment confirmation format --------------------------------------------------------------

COLUMNS_IN = {key: Field("str", f"The header of the column with the {label.lower()}; \"\": none.", default="",
                         max_length=100) for key, label in FIELDS.items()}
PAYMENT_FORMAT_IN = {
    "confirmation_format": Field("enum", "xml (Alma's payment_confirmation_data) or csv (read through the "
                                         "mapping below).", required=True, choices=tuple(payment_format.FORMATS)),
    "amount_mismatch": Field("enum", "A PAID record whose amount is not the invoice total: warn (recorded, "
                                     "flagged) or refuse (the invoice stays Waiting for Payment).", default="warn",
                             choices=tuple(payment_format.MISMATCH)),
    "columns": Field("object", "CSV: which column holds what, by header (a PATCH replaces the whole mapping).",
                     default={}, spec=COLUMNS_IN, component="ErpCsvColumnsInput"),
    "separator": Field("enum", "CSV: the separator.", default=",", choices=tuple(SEPARATORS)),
    "date_format": Field("str", "CSV: the voucher date's format (strftime), e.g. %Y%m%d or %d.%m.%Y.",
                         default="%Y%m%d", max_length=40),
    "decimal": Field("enum", "CSV: the decimal mark.", default=".", choices=tuple(DECIMAL_MARKS)),
    "paid_values": Field("str_list", "CSV: the ERP's words for paid.", default=("PAID",)),
    "rejected_values": Field("str_list", "CSV: the ERP's words for rejected.", default=("REJECTED",)),
}


def payment_format_json(section) -> dict:
    value = payment_format.current(section)
    m = value.mapping

    def words(v):
        return [w.strip() for w in v.split(",") if w.strip()] if isinstance(v, str) else list(v)
    return {"profile": section.profile.code, "confirmation_format": value.confirmation_format,
            "amount_mismatch": value.amount_mismatch, "columns": {k: m.columns.get(k, "") for k in FIELDS},
            "separator": m.separator, "date_format": m.date_format, "decimal": m.decimal,
            "paid_values": words(m.paid_values), "rejected_values": words(m.rejected_values)}


@bp.get("/erp/profiles/<profile_code>/payment-format")
@institution_admin
def get_erp_payment_format(profile_code):
    return one(payment_format.section_of(profile_of(profile_code)), payment_format_json)


@bp.patch("/erp/profiles/<profile_code>/payment-format")
@institution_roles_required(*ADMIN)
def patch_erp_payment_format(profile_code):
    section = payment_format.section_of(profile_of(profile_code))
    check_match(section, payment_format_json)
    current = payment_format_json(section)
    body = read_patch(PAYMENT_FORMAT_IN, {name: current[name] for name in PAYMENT_FORMAT_IN})
    mapping = CsvMapping(columns=dict(body["columns"]), separator=body["separator"], date_format=body["date_format"],
                         decimal=body["decimal"], paid_values=list(body["paid_values"]),
                         rejected_values=list(body["rejected_values"]))
    try:
        payment_format.set_payment_format(current_user, section.profile, payment_format.PaymentFormat(
            body["confirmation_format"], body["amount_mismatch"], mapping))
    except InvalidInput as exc:
        raise page_field(exc, "col_") from None
    return saved(section, payment_format_json)


# -- failed order exports -------------------------------------------------------------------------

@bp.post("/erp/profiles/<profile_code>/actions/rerun-failed-orders")
@institution_roles_required(*ADMIN)
@idempotent
def rerun_failed_erp_orders(profile_code):
    """The profile page's "Queue failed orders again": they go with the next PO export run."""
    profile = profile_of(profile_code)
    read_body({}, optional=True)
    count = rerun_failed_orders(current_user, profile)
    return saved(profile, lambda p: {"profile": p.code, "queued": count})


register_openapi(
    schemas={
        "ErpNotifications": object_schema({"profile": STRING, "notify_when": {"type": "string",
                                                                              "enum": list(NOTIFY_WHEN)},
                                           "recipients": {"type": "array", "items": STRING}},
                                          "Who is told (e-mail and notification) when the profile's runs end."),
        "ErpNotificationsPatch": patch_schema(NOTIFICATIONS_IN, "When, and whom, to tell."),
        "ErpStylesheet": object_schema({"profile": STRING, "xslt": STRING, "keep_original": BOOLEAN,
                                        "output_extension": {**NULLABLE_STRING,
                                                             "description": "The transformed files' extension."}},
                                       "The invoice export's campus stylesheet (\"\": none)."),
        "ErpStylesheetPatch": patch_schema(STYLESHEET_IN, "The stylesheet, or whether to keep the original."),
        "ErpStylesheetPreviewInput": input_schema(PREVIEW_IN, "What to preview, and with which stylesheet."),
        "ErpStylesheetPreview": object_schema({
            "source": STRING, "label": {**STRING, "description": "The file's name, or what the sample holds."},
            "original": {**STRING, "description": "The export file (its first 200,000 characters)."},
            "output": {**STRING, "description": "The stylesheet's output (its first 200,000 characters)."},
            "extension": {**NULLABLE_STRING, "description": "The transformed file's extension."},
            "error": {**NULLABLE_STRING, "description": "Why there is no output (the stylesheet failed, no invoice "
                                                        "is Ready to be Paid, …); null when there is."},
            "truncated": BOOLEAN}, "An export file beside the stylesheet's output; nothing is saved."),
        "ErpExportFile": object_schema({
            "id": INTEGER, "source": {**STRING, "description": "The preview's source for it."}, "file_name": STRING,
            "status": {"type": "string", "enum": ["pending", "sent", "void"]}, "created_at": MOMENT,
            "sent_at": {"type": ["string", "null"], "format": "date-time"}}),
        "ErpExportFileList": list_of("ErpExportFile"),
        "ErpPaymentFormat": object_schema({
            "profile": STRING, "confirmation_format": {"type": "string", "enum": list(payment_format.FORMATS)},
            "amount_mismatch": {"type": "string", "enum": list(payment_format.MISMATCH)},
            "columns": object_schema({key: STRING for key in FIELDS}), "separator": STRING, "date_format": STRING,
            "decimal": STRING, "paid_values": {"type": "array", "items": STRING},
            "rejected_values": {"type": "array", "items": STRING}},
            "How payment confirmations are read: XML, or CSV through a column mapping."),
        "ErpCsvColumnsInput": input_schema(COLUMNS_IN, "Column headers by field; the status and the invoice number "
                                                       "or unique identifier are needed for CSV."),
        "ErpPaymentFormatPatch": patch_schema(PAYMENT_FORMAT_IN, "Some of the format's settings; a CSV format is "
                                                                 "checked whole."),
        "ErpRequeued": object_schema({"profile": STRING, "queued": {**INTEGER, "description": "Failed order exports "
                                                                                              "queued again."}}),
    },
    paths={
        "/api/v1/erp/profiles/{profile_code}/notifications": {
            "parameters": [param("ErpProfileCode")],
            "get": operation("getErpNotifications", "Who is told when the profile's runs end", ADMIN_TEXT,
                             ("200", "ErpNotifications", "The setting."), ("404",), etag=True),
            "patch": operation("patchErpNotifications", "Change who is told, and when", ADMIN_TEXT,
                               ("200", "ErpNotifications", "Saved."), ("400", "404"), body="ErpNotificationsPatch",
                               if_match="required"),
        },
        "/api/v1/erp/profiles/{profile_code}/stylesheet": {
            "parameters": [param("ErpProfileCode")],
            "get": operation("getErpStylesheet", "The invoice export's campus stylesheet", ADMIN_TEXT,
                             ("200", "ErpStylesheet", "The stylesheet."), ("404",), etag=True),
            "patch": operation("patchErpStylesheet", "Set, change or remove the campus stylesheet", ADMIN_TEXT,
                               ("200", "ErpStylesheet", "Saved."), ("400", "404"), body="ErpStylesheetPatch",
                               if_match="required", note="A stylesheet that does not compile is refused (400)."),
        },
        "/api/v1/erp/profiles/{profile_code}/stylesheet/actions/preview": {
            "parameters": [param("ErpProfileCode")],
            "post": operation("previewErpStylesheet", "Preview a stylesheet on an export file or a sample", ADMIN_TEXT,
                              ("200", "ErpStylesheetPreview", "The file and the output, or why there is none."),
                              ("400", "404"), body="ErpStylesheetPreviewInput",
                              note="A stylesheet that does not compile is refused (400); one that fails on the file "
                                   "answers 200 with the error. Another profile's file is not found (404)."),
        },
        "/api/v1/erp/profiles/{profile_code}/export-files": {
            "parameters": [param("ErpProfileCode")],
            "get": operation("listErpExportFiles", "The profile's latest invoice export files, newest first", ADMIN_TEXT,
                             ("200", "ErpExportFileList", "At most 20 files (sent or waiting)."), ("404",)),
        },
        "/api/v1/erp/profiles/{profile_code}/payment-format": {
            "parameters": [param("ErpProfileCode")],
            "get": operation("getErpPaymentFormat", "How payment confirmations are read", ADMIN_TEXT,
                             ("200", "ErpPaymentFormat", "The format."), ("404",), etag=True),
            "patch": operation("patchErpPaymentFormat", "Change how payment confirmations are read", ADMIN_TEXT,
                               ("200", "ErpPaymentFormat", "Saved."), ("400", "404"), body="ErpPaymentFormatPatch",
                               if_match="required", note="A CSV mapping that cannot be used is refused (400, the "
                                                         "field named)."),
        },
        "/api/v1/erp/profiles/{profile_code}/actions/rerun-failed-orders": {
            "parameters": [param("ErpProfileCode")],
            "post": operation("rerunFailedErpOrders", "Queue the profile's failed order exports again", ADMIN_TEXT,
                              ("200", "ErpRequeued", "How many were queued; they go with the next PO export run."),
                              ("400", "404"), body="ErpSectionActionInput", body_required=False, idempotent=True),
        },
    })
