"""API v1: the invoice task lists and the invoice line list, as the pages list them.

``GET /invoices/tasks/{kind}``: the invoices In Review, In Approval or Waiting for Payment that you
can see, oldest invoice date first (the page's task lists, for the invoice staff). ``GET
/invoice-lines``: the lines of every invoice you can see, filtered and sorted as /invoices/lines/
(:func:`app.invoices.services.invoice_lines_query`), paged.
"""
from __future__ import annotations

from datetime import date

from flask import request
from flask_login import current_user
from sqlalchemy import select

from ..auth.permissions import roles_required
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..invoices import services as invoices
from ..invoices.models import STATUSES, Invoice, InvoiceLine
from ..ledger import format_plain
from ..org.models import Library
from ..vendors.models import Vendor
from .base import filter_fund
from .base import (DATE, INTEGER, NULLABLE_DATE, NULLABLE_STRING, PERCENT_PATTERN, READ, STRING, bp, by_code,
                   choice_arg, object_schema, operation, page_args, page_of, param, path_param, per_page_param,
                   query_param, ref, register_openapi)
from .invoices import summary_json
from .serializers import iso_day, parse_date, percent_text

OPERATE = invoices.OPERATORS
DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 200


# -- task lists --------------------------------------------------------------------------------

@bp.get("/invoices/tasks/<kind>")
@roles_required(*OPERATE)
def list_invoice_tasks(kind):
    if kind not in invoices.TASKS:
        raise NotFound(f"No such task list: the task lists are {', '.join(invoices.TASKS)}.")
    page = page_args(DEFAULT_PER_PAGE, MAX_PER_PAGE)
    status = invoices.TASKS[kind][0]
    query = (select(Invoice).where(invoices.visible_invoices_clause(current_user), Invoice.status == status)
             .order_by(Invoice.invoice_date, Invoice.id))
    return page.of(query, summary_json)


# -- the invoice line list ---------------------------------------------------------------------

def line_row_json(line: InvoiceLine) -> dict:
    invoice = line.invoice
    currency = invoice.currency
    return {
        "invoice": invoice.id, "number": invoice.number, "position": line.position,
        "invoice_date": invoice.invoice_date.isoformat(), "vendor": invoice.vendor.code, "status": invoice.status,
        "owner_library": invoice.owner_library.code if invoice.owner_library else None,
        "po_line": line.po_line.number if line.po_line else None, "title": line.po_line.title if line.po_line else None,
        "type": line.line_type, "currency": currency, "quantity": line.quantity,
        "price": format_plain(line.unit_price, currency), "total": format_plain(line.total, currency),
        "funds": [d.fund.code for d in line.distribution], "reporting_code": line.reporting_code,
        "subscription_from": iso_day(line.subscription_from), "subscription_to": iso_day(line.subscription_to),
        "price_note": line.price_note, "vat_code": line.vat_code, "vat_percent": percent_text(line.vat_percent),
        "vat_amount": format_plain(line.vat_amount, currency), "note": line.note,
    }


def _day_arg(name: str) -> date | None:
    value = request.args.get(name, "")
    return parse_date(value, name) if value else None


@bp.get("/invoice-lines")
@roles_required(*READ)
def list_invoice_lines():
    page = page_args(DEFAULT_PER_PAGE, MAX_PER_PAGE)
    line_filter = invoice_line_filter()
    total = invoices.count_invoice_lines(current_user, line_filter)
    rows = db.session.scalars(invoices.invoice_lines_query(current_user, line_filter)
                              .limit(page.size).offset((page.number - 1) * page.size)).all()
    return {"items": [line_row_json(line) for line in rows], "page": page.number, "per_page": page.size,
            "total": total}


def invoice_line_filter() -> invoices.InvoiceLineFilter:
    """The filter and sort the line list's query parameters ask for (those of /invoices/lines/)."""
    args = request.args
    try:
        date_from, date_to = _day_arg("from"), _day_arg("to")
    except InvalidInput as exc:   # a query parameter, not a body field
        raise InvalidInput(exc.message.replace("Field", "Parameter"), exc.field) from None
    line_filter = invoices.InvoiceLineFilter(
        q=args.get("q", "").strip()[:200], status=choice_arg("status", STATUSES),
        vendor_id=by_code(Vendor, args["vendor"], "vendor").id if args.get("vendor") else None,
        fund_id=filter_fund(args["fund"]).id if args.get("fund") else None,
        library_id=by_code(Library, args["library"], "library").id if args.get("library") else None,
        pol=args.get("pol", "").strip()[:50], date_from=date_from, date_to=date_to,
        sort=choice_arg("sort", invoices.LINE_SORTS) or invoices.DEFAULT_LINE_SORT)
    return line_filter


# -- OpenAPI -----------------------------------------------------------------------------------

_OPERATE = "admin, invoice_operator, invoice_operator_extended or invoice_manager; only the invoices you can see"
_READ = "any role; only the lines of invoices you can see"

register_openapi(
    schemas={
        "InvoiceLineRow": object_schema({
            "invoice": {"type": "integer", "description": "The invoice's id."}, "number": STRING,
            "position": INTEGER, "invoice_date": DATE, "vendor": STRING,
            "status": {"type": "string", "enum": list(STATUSES)}, "owner_library": NULLABLE_STRING,
            "po_line": NULLABLE_STRING, "title": NULLABLE_STRING, "type": STRING, "currency": STRING,
            "quantity": INTEGER, "price": ref("Money"), "total": ref("Money"),
            "funds": {"type": "array", "items": STRING, "description": "The funds' codes, in distribution order."},
            "reporting_code": STRING, "subscription_from": NULLABLE_DATE, "subscription_to": NULLABLE_DATE,
            "price_note": STRING, "vat_code": STRING,
            "vat_percent": {"type": ["string", "null"], "pattern": PERCENT_PATTERN}, "vat_amount": ref("Money"),
            "note": STRING}, "One line of an invoice, with its invoice's number, date, vendor and status."),
        "InvoiceLinePage": page_of("InvoiceLineRow", "Lines"),
    },
    parameters={
        "InvoiceTaskKind": path_param("kind", "The task list.", {"type": "string", "enum": list(invoices.TASKS)}),
        "InvoiceLinePerPage": per_page_param(MAX_PER_PAGE, DEFAULT_PER_PAGE),
        "InvoiceLineQuery": query_param("q", STRING, "Every word in the invoice number, PO line number, title or "
                                                     "price note."),
        "InvoiceLineStatusFilter": query_param("status", {"type": "string", "enum": list(STATUSES)},
                                               "Only lines of invoices in this status."),
        "InvoiceLineVendorFilter": query_param("vendor", STRING, "Only lines of invoices of this vendor (its code)."),
        "InvoiceLineFundFilter": query_param("fund", STRING, "Only lines paid (in part) by this fund: its code, or "
                                                            "its id."),
        "InvoiceLineLibraryFilter": query_param("library", STRING, "Only lines of invoices owned by this library "
                                                                   "(its code)."),
        "InvoiceLinePOLineFilter": query_param("pol", STRING, "Only lines of this PO line (its number, exactly)."),
        "InvoiceLineFrom": query_param("from", DATE, "Invoice date from (included)."),
        "InvoiceLineTo": query_param("to", DATE, "Invoice date up to (included)."),
        "InvoiceLineSort": query_param("sort", {"type": "string", "enum": list(invoices.LINE_SORTS),
                                                "default": invoices.DEFAULT_LINE_SORT},
                                       "The order; a leading minus reverses it."),
    },
    paths={
        "/api/v1/invoices/tasks/{kind}": {
            "parameters": [param("InvoiceTaskKind")],
            "get": operation("listInvoiceTasks", "A task list: the invoices In Review, In Approval or Waiting for "
                                                 "Payment, oldest invoice date first, paged", _OPERATE,
                             ("200", "InvoicePage", "One page of invoices."), ("400", "404"),
                             params=("Page", "InvoicePerPage")),
        },
        "/api/v1/invoice-lines": {
            "get": operation("listInvoiceLines", "The invoice lines you can see, filtered and sorted, paged", _READ,
                             ("200", "InvoiceLinePage", "One page of lines."), ("400", "404"),
                             params=("InvoiceLineQuery", "InvoiceLineStatusFilter", "InvoiceLineVendorFilter",
                                     "InvoiceLineFundFilter", "InvoiceLineLibraryFilter", "InvoiceLinePOLineFilter",
                                     "InvoiceLineFrom", "InvoiceLineTo", "InvoiceLineSort", "Page",
                                     "InvoiceLinePerPage")),
        },
    })
