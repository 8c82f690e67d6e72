"""API v1: invoices and the invoicing settings.

Creating an invoice (channel "api"), reading one with its lines, distribution, charges and the
fund transactions it posted, the list in your scope, and the workflow actions. Everything goes
through :mod:`app.invoices.services` (and :mod:`app.invoices.settings`), so the rules and messages
are those of the pages; an invoice outside the caller's scope is not found (404).

Bodies are read by :mod:`app.api.invoice_input`. When saving needs the answer to the
vendor/VAT check, the answer is 409 ``confirmation_required`` with the question and the accepted
answers; send the invoice again with ``confirm``.
"""
from __future__ import annotations

from flask import request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..auth.models import Role
from ..auth.permissions import in_scope, institution_roles_required, library_scope, roles_required
from ..errors import Forbidden, InvalidInput, NotFound
from ..extensions import db
from ..idempotency import idempotent
from ..invoices import charges
from ..invoices import services as invoices
from ..invoices import settings as invoice_settings
from ..invoices.models import CHANNELS, PAYMENT_METHODS, STATUSES, Invoice, InvoiceLine
from ..ledger import format_plain
from ..org.models import Library
from ..vendors.models import Vendor
from .base import filter_fund
from .base import (BOOLEAN, CURRENCY, DATE, INTEGER, MOMENT, NULLABLE_DATE, NULLABLE_MOMENT, NULLABLE_STRING,
                   PERCENT_PATTERN, READ, STRING, action_paths, action_routes, bp, by_code, check_match, choice_arg,
                   deleted, input_schema, match, named, object_schema, one, operation, page_args, page_of, param,
                   patch_schema, path_param, per_page_param, query_param, ref, refusal, register_openapi, saved,
                   share_schemas)
from .invoice_input import (CONFIRM_ANSWERS, INVOICE_IN, INVOICE_UPDATE, LINE_IN, LINE_NOTES_IN, VAT_IN,
                            as_input, invoice_fields)
from .serializers import Body, Field, iso_day, percent_text, read_body, read_patch, timestamp

OPERATE = invoices.OPERATORS
APPROVE = invoices.APPROVERS
DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 200
ACTIONS = ("process", "approve", "reject", "mark_in_erp", "paid", "rejected", "send_back_to_review")

# -- request bodies ----------------------------------------------------------------------------

SETTINGS_IN = {key: Field("bool", label + ".") for key, label in invoice_settings.LABELS.items()}

_NOTE = Field("str", "A note kept in the invoice's history.", default="", max_length=1000)
_REASON = Field("str", "Why (kept in the history and shown to the reviewer).", required=True, max_length=1000)
PROCESS_IN: dict[str, Field] = {}
APPROVE_IN = {"note": _NOTE,
              "late_reason": Field("str", "Needed when the invoice expends on a closed fiscal period: an "
                                   "administrator's reason, kept in the invoice's history.", default="",
                                   max_length=1000)}
REJECT_IN = {"reason": _REASON}
MARK_IN_ERP_IN: dict[str, Field] = {}
PAID_IN = {
    "voucher_number": Field("str", "The payment voucher's number.", required=True, max_length=50),
    "payment_date": Field("date", "The day it was paid (YYYY-MM-DD).", required=True),
    "amount": Field("number", "The amount paid (decimal string).", required=True),
    "currency": Field("str", "The currency paid in; null (the default): the invoice currency.", nullable=True),
}
REJECTED_IN = {"reason": Field("str", "The ERP's rejection note: it becomes the invoice's alert.", required=True,
                               max_length=1000)}
SEND_BACK_IN = {"reason": _REASON}
CHANGE_OWNER_IN = {"owner": Field("str", "The new owner library's code; null: the institution.", required=True,
                                  nullable=True)}
ACTION_BODIES = {"process": PROCESS_IN, "approve": APPROVE_IN, "reject": REJECT_IN, "mark_in_erp": MARK_IN_ERP_IN,
                 "paid": PAID_IN, "rejected": REJECTED_IN, "send_back_to_review": SEND_BACK_IN}

# -- what the API returns ----------------------------------------------------------------------

# The actions the API names otherwise than the pages (app.invoices.services.ACTIONS).
ACTION_NAMES = {"paid": "pay", "rejected": "erp_rejected", "send_back_to_review": "send_back"}


def allowed_actions(invoice: Invoice) -> list[str]:
    """The actions the invoice's status allows (roles, scope and the rules still apply)."""
    allowed = invoices.invoice_actions(None, invoice)
    return [a for a in ACTIONS if ACTION_NAMES.get(a, a) in allowed]


def line_json(line: InvoiceLine, currency: str) -> dict:
    return {
        "position": line.position, "type": line.line_type,
        "po_line": line.po_line.number if line.po_line else None, "quantity": line.quantity,
        "price": format_plain(line.unit_price, currency), "total": format_plain(line.total, currency),
        "fully_invoiced": line.fully_invoiced, "price_note": line.price_note,
        "subscription_from": iso_day(line.subscription_from), "subscription_to": iso_day(line.subscription_to),
        "reporting_code": line.reporting_code, "note": line.note, "vat_code": line.vat_code,
        "vat_percent": percent_text(line.vat_percent), "vat_amount": format_plain(line.vat_amount, currency),
        "distribution_method": line.distribution_method,
        "funds": [{"fund": d.fund.code, "fund_id": d.fund_id, "percent": percent_text(d.percent),
                   "amount": format_plain(d.amount, currency)} for d in line.distribution],
    }


def posting_json(tx, positions: dict[int, int]) -> dict:
    line = positions.get(tx.source_id) if tx.source_type == charges.LINE_SOURCE else None
    return {"id": tx.id, "fund": tx.fund.code, "fund_id": tx.fund_id, "type": tx.kind,
            "amount": format_plain(tx.amount, tx.currency), "currency": tx.currency,
            "date": tx.transaction_date.isoformat(), "line": line}


def summary_json(invoice: Invoice) -> dict:
    currency = invoice.currency
    return {"id": invoice.id, "number": invoice.number, "status": invoice.status, "vendor": invoice.vendor.code,
            "invoice_date": invoice.invoice_date.isoformat(), "due_date": iso_day(invoice.due_date),
            "currency": currency, "total_amount": format_plain(invoice.total_amount, currency),
            "owner_library": invoice.owner_library.code if invoice.owner_library else None,
            "channel": invoice.channel,
            "review_problems": [p.text for p in invoices.review_problems_for(current_user, invoice)],
            "alert": invoice.alert, "created_at": timestamp(invoice.created_at),
            "allowed_actions": allowed_actions(invoice)}


def invoice_json(invoice: Invoice) -> dict:
    currency = invoice.currency
    positions = {line.id: line.position for line in invoice.lines}
    governmental = db.session.scalar(select(Invoice.id).where(Invoice.governmental_for_id == invoice.id)
                                     .order_by(Invoice.id).limit(1))
    paid = invoice.payment_amount is not None
    return {
        **summary_json(invoice),
        "vendor_account": invoice.vendor_account.code if invoice.vendor_account else None,
        "payment_method": invoice.payment_method, "reference_number": invoice.reference_number,
        "notes": invoice.notes, "prepaid": invoice.prepaid, "export_prepaid": invoice.export_prepaid,
        "internal_copy": invoice.internal_copy,
        "explicit_ratio": (format(invoice.explicit_ratio.normalize(), "f")
                           if invoice.explicit_ratio is not None else None),
        "pro_rata": invoice.pro_rata,
        "vat": {"level": invoice.vat_level, "inclusive": invoice.vat_inclusive, "code": invoice.vat_code,
                "percent": percent_text(invoice.vat_percent), "amount": format_plain(invoice.vat_amount, currency),
                "separate_line": invoice.vat_separate_line, "confirmed": invoice.vat_confirmed,
                "fund": invoice.vat_fund.code if invoice.vat_fund else None},
        "governmental_for": invoice.governmental_for_id, "governmental_invoice": governmental,
        "erp_identifier": invoice.erp_identifier,
        "lines": [line_json(line, currency) for line in invoice.lines],
        "charges": {c.charge_type: format_plain(c.amount, currency) for c in invoice.charges},
        "postings": [posting_json(tx, positions) for tx in charges.postings_of(invoice)],
        "created_by": invoice.created_by.username if invoice.created_by else None,
        "approved_at": timestamp(invoice.approved_at),
        "approved_by": invoice.approved_by.username if invoice.approved_by else None,
        "exported_at": timestamp(invoice.exported_at),
        "payment": ({"voucher_number": invoice.voucher_number, "date": iso_day(invoice.payment_date),
                     "amount": format_plain(invoice.payment_amount, invoice.payment_currency or currency),
                     "currency": invoice.payment_currency or currency} if paid else None),
        "closed_at": timestamp(invoice.closed_at),
    }


# -- settings ----------------------------------------------------------------------------------

@bp.get("/settings")
@roles_required(*READ)
def get_settings():
    return one(invoice_settings.all_settings(), dict)


@bp.put("/settings")
@institution_roles_required(Role.ADMIN)
def update_settings():
    body = read_body(SETTINGS_IN)
    match(invoice_settings.all_settings)
    values = invoice_settings.update(current_user, {key: body[key] for key in SETTINGS_IN if key in body.given})
    return saved(values, dict)


@bp.patch("/settings")
@institution_roles_required(Role.ADMIN)
def patch_settings():
    """The same partial update as PUT (which changes only the settings sent, too)."""
    match(invoice_settings.all_settings)
    body = read_patch(SETTINGS_IN, invoice_settings.all_settings())
    values = invoice_settings.update(current_user, {key: body[key] for key in body.given})
    return saved(values, dict)


# -- invoices ----------------------------------------------------------------------------------

@bp.get("/invoices")
@roles_required(*READ)
def list_invoices():
    page = page_args(DEFAULT_PER_PAGE, MAX_PER_PAGE)
    return page.of(invoice_query(), summary_json)


def invoice_query():
    """The invoices the list's query parameters ask for, sorted (newest first when no sort is given):
    the page's filters and sorts (:func:`app.invoices.services.invoice_conditions`)."""
    args = request.args
    sort = choice_arg("sort", invoices.INVOICE_SORTS)
    invoice_filter = invoices.InvoiceFilter(
        q=args.get("q", "").strip()[:200], status=choice_arg("status", STATUSES),
        vendor_id=by_code(Vendor, args["vendor"], "vendor").id if args.get("vendor") else None,
        fund_id=filter_fund(args["fund"]).id if args.get("fund") else None,
        library_id=by_code(Library, args["library"], "library").id if args.get("library") else None,
        channel=choice_arg("channel", CHANNELS), approvable=_flag_arg("approvable"),
        erp_rejected=_flag_arg("erp_rejected"), waiting_days=_days_arg("waiting_days"))
    query = select(Invoice).where(*invoices.invoice_conditions(current_user, invoice_filter))
    if sort.lstrip("-") == "vendor":
        query = query.join(Vendor, Vendor.id == Invoice.vendor_id)
    return query.order_by(*(invoices.INVOICE_SORTS[sort] if sort else (Invoice.id.desc(),)))


def _flag_arg(name: str) -> bool:
    value = request.args.get(name, "")
    if value not in ("", "true", "false", "1", "0"):
        raise InvalidInput(f"Parameter {name} must be true or false.", name)
    return value in ("true", "1")


def _days_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    if value == "":
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 4):
        raise InvalidInput(f"Parameter {name} must be a whole number of days from 0 to 9999.", name)
    return int(value)


@bp.get("/invoices/<int:id>")
@roles_required(*READ)
def get_invoice(id):  # noqa: A002 - the path parameter is {id}
    return one(invoices.get_invoice(current_user, id), invoice_json)


def _confirmation_needed(exc: invoices.ConfirmationNeeded):
    return refusal(exc, field="confirm", check=exc.check.value, answers=sorted(invoices.ANSWERS[exc.check]))


@bp.patch("/invoices/<int:id>")
@roles_required(*OPERATE)
def patch_invoice(id):  # noqa: A002
    """The edit page's save: the fields sent replace the invoice's (lines as a whole list)."""
    invoice = invoices.get_invoice(current_user, id)
    if not invoices.can_edit(current_user, invoice.owner_library_id):   # as the edit page: 403
        raise Forbidden("You may only edit invoices for your own library.", "owner_library")
    check_match(invoice, invoice_json)
    body = read_patch(INVOICE_UPDATE, as_input(invoice))
    fields = invoice_fields(body)
    try:
        invoices.update_invoice(current_user, invoice, fields, confirm=body["confirm"])
    except invoices.ConfirmationNeeded as exc:
        return _confirmation_needed(exc)
    if body["process"]:
        invoices.process_invoice(current_user, invoice)
    return saved(invoice, invoice_json)


@bp.delete("/invoices/<int:id>")
@roles_required(*invoices.DELETERS)
def delete_invoice(id):  # noqa: A002
    invoice = invoices.get_invoice(current_user, id)
    reason = request.args.get("reason", "").strip()
    if len(reason) > 1000:
        raise InvalidInput("Parameter reason is longer than 1000 characters.", "reason")
    check_match(invoice, invoice_json)
    invoices.delete_invoice(current_user, invoice, reason)
    return deleted()


def _line_of(invoice: Invoice, position: int) -> InvoiceLine:
    line = next((ln for ln in invoice.lines if ln.position == position), None)
    if line is None:
        raise NotFound(f"Invoice {invoice.number} has no line {position}.")
    return line


@bp.get("/invoices/<int:id>/lines/<int:position>")
@roles_required(*READ)
def get_invoice_line(id, position):  # noqa: A002
    invoice = invoices.get_invoice(current_user, id)
    return one(_line_of(invoice, position), lambda ln: line_json(ln, invoice.currency))


@bp.patch("/invoices/<int:id>/lines/<int:position>")
@roles_required(*OPERATE)
def patch_invoice_line(id, position):  # noqa: A002
    """The notes of a line of an approved, exported or closed invoice (the page's line notes form)."""
    invoice = invoices.get_invoice(current_user, id)
    line = _line_of(invoice, position)

    def to_json(ln):
        return line_json(ln, invoice.currency)
    check_match(line, to_json)
    body = read_patch(LINE_NOTES_IN, {name: getattr(line, name) for name in LINE_NOTES_IN})
    line = invoices.edit_line_notes(current_user, invoice, position, {name: body[name] for name in body.given})
    return saved(line, to_json)


@bp.post("/invoices")
@roles_required(*OPERATE)
@idempotent
def create_invoice():
    body = read_body(INVOICE_IN)
    fields = invoice_fields(body)
    try:
        invoice = invoices.create_invoice(current_user, fields, channel="api", confirm=body["confirm"])
    except invoices.ConfirmationNeeded as exc:
        return _confirmation_needed(exc)
    if body["process"]:
        invoices.process_invoice(current_user, invoice)
    return saved(invoice, invoice_json, 201, lambda inv: url_for("api.get_invoice", id=inv.id))


def _within_scope(invoice: Invoice, roles, what: str) -> None:
    # For the ERP hand-offs, whose services trust their caller (the integration job).
    if not in_scope(library_scope(current_user, roles), invoice.owner_library_id):
        raise Forbidden(f"You may only {what} for your own library.", "owner_library")


def _mark_in_erp(invoice: Invoice, body: Body) -> None:
    _within_scope(invoice, APPROVE, "mark invoices as exported")
    invoices.mark_exported(current_user, invoice)


def _erp_rejected(invoice: Invoice, body: Body) -> None:
    _within_scope(invoice, APPROVE, "record ERP rejections")
    invoices.send_back_to_review(current_user, invoice, body["reason"], erp=True)


action_routes("/invoices/<int:id>/actions", lambda id: invoices.get_invoice(current_user, id), invoice_json, {
    "process": ("process_invoice", OPERATE, PROCESS_IN,
                lambda inv, body: invoices.process_invoice(current_user, inv)),
    "approve": ("approve_invoice", APPROVE, APPROVE_IN,
                lambda inv, body: invoices.approve_invoice(current_user, inv, body["note"], body["late_reason"])),
    "reject": ("reject_invoice", APPROVE, REJECT_IN,
               lambda inv, body: invoices.reject_invoice(current_user, inv, body["reason"])),
    "mark_in_erp": ("mark_invoice_in_erp", APPROVE, MARK_IN_ERP_IN, _mark_in_erp),
    "paid": ("record_invoice_payment", OPERATE, PAID_IN, lambda inv, body: invoices.record_payment(
        current_user, inv, body["voucher_number"], body["payment_date"], body["amount"], body["currency"])),
    "rejected": ("erp_reject_invoice", APPROVE, REJECTED_IN, _erp_rejected),
    "send_back_to_review": ("send_invoice_back_to_review", OPERATE, SEND_BACK_IN,
                            lambda inv, body: invoices.send_back_to_review(current_user, inv, body["reason"])),
})


def _change_owner(invoice: Invoice, body: Body) -> None:
    owner = named(Library, body["owner"], "owner", "library") if body["owner"] is not None else None
    invoices.change_owner(current_user, invoice, owner)


# Not among allowed_actions: every status allows it.
action_routes("/invoices/<int:id>/actions", lambda id: invoices.get_invoice(current_user, id), invoice_json, {
    "change_owner": ("change_invoice_owner", OPERATE, CHANGE_OWNER_IN, _change_owner),
})


# -- OpenAPI -----------------------------------------------------------------------------------

_READ = "any role; invoices outside your library scope are not found"
_OPERATE = "admin, invoice_operator, invoice_operator_extended or invoice_manager, within your library scope"
_APPROVE = "admin or invoice_manager, within your library scope"
_DELETE = "admin or invoice_operator_extended, within your library scope"
_INVOICE = "InvoiceId"
_CONFIRM_409 = {"409": {"description": "Duplicate invoice number, or a confirmation is needed.",
                        "content": {"application/json": {"schema": {"anyOf": [
                            ref("Error"), ref("InvoiceConfirmationRequired")]}}}}}
_NULLABLE_PERCENT = {"type": ["string", "null"], "pattern": PERCENT_PATTERN}


def _camel(action: str) -> str:
    return "".join(part.title() for part in action.split("_"))


_SUMMARY = {
    "id": INTEGER, "number": STRING, "status": {"type": "string", "enum": list(STATUSES)},
    "vendor": {"type": "string", "description": "The vendor's code."}, "invoice_date": DATE,
    "due_date": NULLABLE_DATE, "currency": CURRENCY, "total_amount": ref("Money"),
    "owner_library": {"type": ["string", "null"], "description": "The owning library's code; null: the institution."},
    "channel": {"type": "string", "enum": ["manual", "po", "file", "edi", "api"]},
    "review_problems": {"type": "array", "items": STRING, "description": "Why the review rules keep it In Review, "
                        "as you may read them: a possible duplicate in a library outside your scope is not named."},
    "alert": {"type": "string", "description": "E.g. the reason it was rejected or sent back."},
    "created_at": MOMENT,
    "allowed_actions": {"type": "array", "items": {"type": "string", "enum": list(ACTIONS)},
                        "description": "The actions its status allows (your role, scope and the rules still decide)."},
}

register_openapi(
    schemas={
        "InvoiceSettings": object_schema({key: BOOLEAN for key in invoice_settings.DEFAULTS},
                                         "The institution's invoicing settings."),
        "InvoiceSettingsInput": input_schema(SETTINGS_IN, "Any of the settings, as true or false."),
        "InvoiceSettingsPatch": patch_schema(SETTINGS_IN, "Some of the settings, as true or false."),
        "InvoiceLineFund": object_schema({
            "fund": {"type": "string", "description": "The fund's code."}, "fund_id": INTEGER,
            "percent": _NULLABLE_PERCENT,
            "amount": {"allOf": [ref("Money")], "description": "Its share, invoice currency."}}),
        "InvoiceLine": object_schema({
            "position": INTEGER, "type": STRING, "po_line": NULLABLE_STRING, "quantity": INTEGER,
            "price": ref("Money"), "total": ref("Money"), "fully_invoiced": BOOLEAN, "price_note": STRING,
            "subscription_from": NULLABLE_DATE, "subscription_to": NULLABLE_DATE, "reporting_code": STRING,
            "note": STRING, "vat_code": STRING, "vat_percent": _NULLABLE_PERCENT, "vat_amount": ref("Money"),
            "distribution_method": {"type": "string", "enum": ["percent", "amount"]},
            "funds": {"type": "array", "items": ref("InvoiceLineFund")}}),
        "InvoicePosting": object_schema({
            "id": INTEGER, "fund": STRING, "fund_id": INTEGER,
            "type": {"type": "string", "enum": ["encumbrance", "disencumbrance", "expenditure"]},
            "amount": {"allOf": [ref("Money")], "description": "In the fund's currency."}, "currency": STRING,
            "date": DATE, "line": {"type": ["integer", "null"], "description": "The invoice line it charges."}}),
        "InvoiceSummary": object_schema(_SUMMARY),
        "Invoice": object_schema({
            **_SUMMARY,
            "vendor_account": NULLABLE_STRING, "payment_method": {"type": "string", "enum": list(PAYMENT_METHODS)},
            "reference_number": STRING, "notes": STRING, "prepaid": BOOLEAN, "export_prepaid": BOOLEAN,
            "internal_copy": BOOLEAN, "explicit_ratio": {"type": ["string", "null"], "pattern": r"^\d+(\.\d+)?$"},
            "pro_rata": {"type": ["boolean", "null"], "description": "null: the institution's setting."},
            "vat": object_schema({"level": {"type": "string", "enum": ["none", "invoice", "line"]},
                                  "inclusive": BOOLEAN, "code": STRING, "percent": _NULLABLE_PERCENT,
                                  "amount": ref("Money"), "separate_line": BOOLEAN,
                                  "confirmed": {"type": "string", "description": "The vendor/VAT check confirmed, "
                                                                                 "if any."},
                                  "fund": {"type": ["string", "null"],
                                           "description": "The code of the fund that takes the VAT; null: the "
                                                          "lines' funds."}}),
            "governmental_for": {"type": ["integer", "null"], "description": "For a VAT invoice raised to a "
                                                                             "governmental vendor: the invoice it is "
                                                                             "for."},
            "governmental_invoice": {"type": ["integer", "null"], "description": "The VAT invoice raised to the "
                                                                                 "governmental vendor for this one."},
            "erp_identifier": NULLABLE_STRING,
            "lines": {"type": "array", "items": ref("InvoiceLine")},
            "charges": {"type": "object", "additionalProperties": ref("Money"),
                        "description": "Charges spread pro rata: charge type code → amount."},
            "postings": {"type": "array", "items": ref("InvoicePosting"),
                         "description": "The fund transactions it posted (and their reversals), in fund currency."},
            "created_by": NULLABLE_STRING, "approved_at": NULLABLE_MOMENT, "approved_by": NULLABLE_STRING,
            "exported_at": NULLABLE_MOMENT,
            "payment": {"oneOf": [object_schema({"voucher_number": STRING, "date": DATE, "amount": ref("Money"),
                                                 "currency": STRING}), {"type": "null"}]},
            "closed_at": NULLABLE_MOMENT,
        }, "An invoice with its lines, charges and the money it posted."),
        "InvoicePage": page_of("InvoiceSummary", "Invoices"),
        "InvoiceInput": input_schema(INVOICE_IN, "A new invoice, In Review (then processed unless process is false)."),
        "InvoiceLineInput": input_schema(LINE_IN, "An invoice line."),
        "InvoicePatch": patch_schema(INVOICE_UPDATE, "Some of the invoice's fields; those not sent stay as they "
                                                     "are. lines, charges and vat, when sent, replace the whole "
                                                     "list, map or object."),
        "InvoiceLineNotesPatch": patch_schema(LINE_NOTES_IN, "Some of the line's notes."),
        "InvoiceChangeOwnerInput": input_schema(CHANGE_OWNER_IN, "The new owner."),
        "InvoiceVatInput": input_schema(VAT_IN, "The invoice's VAT."),
        **share_schemas("InvoiceFund", "the fund's code, in the fiscal period of the invoice date",
                        "Percent of the line, e.g. \"50\".", "Amount in the invoice currency."),
        "InvoiceConfirmationRequired": object_schema({"error": object_schema({
            "code": {"type": "string", "const": "confirmation_required"},
            "message": {"type": "string", "description": "The question to answer."},
            "field": {"type": "string", "const": "confirm"},
            "check": {"type": "string", "description": "Which row of the vendor/VAT check asks."},
            "answers": {"type": "array", "items": {"type": "string", "enum": list(CONFIRM_ANSWERS)},
                        "description": "What confirm accepts: \"yes\"; for a governmental vendor \"add_vat\" (add its "
                                       "VAT and raise an invoice to it) or \"no_vat\"."}})}),
        **{f"Invoice{_camel(action)}Input": input_schema(spec, "What the action needs." if spec else "Nothing to give.")
           for action, spec in ACTION_BODIES.items()},
    },
    parameters={
        _INVOICE: path_param("id", "The invoice's id."),
        "InvoiceStatusFilter": query_param("status", {"type": "string", "enum": list(STATUSES)},
                                           "Only invoices in this status."),
        "InvoiceVendorFilter": query_param("vendor", STRING, "Only invoices of the vendor with this code."),
        "InvoiceQuery": query_param("q", STRING, "Every word in the invoice number or reference, the vendor's code "
                                                 "or name, or a line's PO line number."),
        "InvoiceFundFilter": query_param("fund", STRING, "Only invoices with a line paid by this fund: its code, or "
                                                         "its id."),
        "InvoiceLibraryFilter": query_param("library", STRING, "Only invoices owned by this library (its code)."),
        "InvoiceChannelFilter": query_param("channel", {"type": "string", "enum": list(CHANNELS)},
                                            "Only invoices created this way."),
        "InvoiceApprovableFilter": query_param("approvable", BOOLEAN, "Only invoices In Approval that you may "
                                                                      "approve."),
        "InvoiceErpRejectedFilter": query_param("erp_rejected", BOOLEAN, "Only invoices the ERP rejected."),
        "InvoiceWaitingDaysFilter": query_param("waiting_days", {"type": "integer", "minimum": 0, "maximum": 9999},
                                                "Only invoices Waiting for Payment for more than this many days."),
        "InvoiceSort": query_param("sort", {"type": "string", "enum": list(invoices.INVOICE_SORTS)},
                                   "The order (a leading minus reverses it); none: newest first."),
        "InvoicePerPage": per_page_param(MAX_PER_PAGE, DEFAULT_PER_PAGE),
        "InvoiceLinePosition": path_param("position", "The line's position on the invoice (1, 2, …)."),
        "InvoiceDeleteReason": query_param("reason", {"type": "string", "maxLength": 1000},
                                           "Why it is deleted (kept in the history)."),
    },
    paths={
        "/api/v1/settings": {
            "get": operation("getInvoiceSettings", "The invoicing settings", "any role",
                             ("200", "InvoiceSettings", "The settings."), etag=True),
            "put": operation("updateInvoiceSettings", "Change invoicing settings", "admin of the whole institution",
                             ("200", "InvoiceSettings", "The settings now."), ("400",), body="InvoiceSettingsInput",
                             if_match="required", note="Only the settings sent change."),
            "patch": operation("patchInvoiceSettings", "Change invoicing settings (as PUT)",
                               "admin of the whole institution", ("200", "InvoiceSettings", "The settings now."),
                               ("400",), body="InvoiceSettingsPatch", if_match="required",
                               note="Only the settings sent change."),
        },
        "/api/v1/invoices": {
            "get": operation("listInvoices", "The invoices you can see, newest first (or sorted), paged", _READ,
                             ("200", "InvoicePage", "One page of invoices."), ("400", "404"),
                             params=("InvoiceQuery", "InvoiceStatusFilter", "InvoiceVendorFilter", "InvoiceFundFilter",
                                     "InvoiceLibraryFilter", "InvoiceChannelFilter", "InvoiceApprovableFilter",
                                     "InvoiceErpRejectedFilter", "InvoiceWaitingDaysFilter", "InvoiceSort", "Page",
                                     "InvoicePerPage")),
            "post": operation(
                "createInvoice", "Create an invoice (channel api) and process it", _OPERATE,
                ("201", "Invoice", "Created (Location: the invoice)."), ("400", "409", "422"),
                body="InvoiceInput", location="The new invoice's URL.", idempotent=True,
                note="409: the number is already used for the vendor (duplicate, naming the invoice), or the "
                     "vendor/VAT check needs an answer (confirmation_required: send it again with confirm). 422: "
                     "e.g. a fund would be over-expended.",
                responses=_CONFIRM_409),
        },
        "/api/v1/invoices/{id}": {
            "parameters": [param(_INVOICE)],
            "get": operation("getInvoice", "One invoice with its lines, charges and postings", _READ,
                             ("200", "Invoice", "The invoice."), ("404",), etag=True),
            "patch": operation(
                "patchInvoice", "Edit an invoice In Review or In Approval (the edit page's save)", _OPERATE,
                ("200", "Invoice", "Saved (In Review; processed when process is true)."),
                ("400", "404", "409", "422"), body="InvoicePatch", if_match="required", responses=_CONFIRM_409,
                note="Only the fields sent change; lines, when sent, replace all the lines (the separate VAT line "
                     "is made again by saving), charges all the charges, vat the whole VAT. An invoice In "
                     "Approval goes back to In Review. 409 as on creation: a duplicate number, or "
                     "confirmation_required (send the change again with confirm). 422: its status does not "
                     "allow editing, or a rule refused it. 403: your role is not for its library."),
            "delete": operation(
                "deleteInvoice", "Delete an invoice that has expended nothing (its history keeps a record)", _DELETE,
                ("204", None, "Deleted."), ("400", "404", "422"), if_match="required",
                params=("InvoiceDeleteReason",),
                note="422: it has expended money (send it back to review first)."),
        },
        "/api/v1/invoices/{id}/lines/{position}": {
            "parameters": [param(_INVOICE), param("InvoiceLinePosition")],
            "get": operation("getInvoiceLine", "One line of an invoice", _READ, ("200", "InvoiceLine", "The line."),
                             ("404",), etag=True),
            "patch": operation(
                "patchInvoiceLineNotes", "Change the notes of a line of an approved, exported or closed invoice",
                _OPERATE, ("200", "InvoiceLine", "Saved (the history keeps the change)."), ("400", "404", "422"),
                body="InvoiceLineNotesPatch", if_match="required",
                note="Only price_note, reporting_code and note; 422 while the invoice can still be edited whole "
                     "(edit it with PATCH /invoices/{id})."),
        },
        **action_paths("/api/v1/invoices/{id}/actions", _INVOICE, {
            "change_owner": ("invoiceActionChangeOwner", "Give the invoice to another library (or the institution)",
                             _OPERATE, "InvoiceChangeOwnerInput")}, ("200", "Invoice", "The updated invoice.")),
        **action_paths("/api/v1/invoices/{id}/actions", _INVOICE, {
            action: (f"invoiceAction{_camel(action)}", summary, roles, f"Invoice{_camel(action)}Input")
            for action, (summary, roles) in {
                "process": ("Save and continue: the review rules, then the approval rules", _OPERATE),
                "approve": ("Approve an invoice In Approval: its funds are expended", _APPROVE),
                "reject": ("Reject an invoice In Approval: back to review with the reason", _APPROVE),
                "mark_in_erp": ("The ERP has it: Waiting for Payment (or Closed when payment is not handled here)",
                                _APPROVE),
                "paid": ("Record the payment: Closed", _OPERATE),
                "rejected": ("The ERP rejected it: back to review with the reason as its alert", _APPROVE),
                "send_back_to_review": ("Send back to review: its postings are reversed", _OPERATE),
            }.items()}, ("200", "Invoice", "The updated invoice.")),
    })
