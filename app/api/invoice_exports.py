"""API v1: the invoice list and the invoice line list as CSV or Excel files, as the pages export them.

The same query parameters as the lists (``GET /invoices``, ``GET /invoice-lines``), every row (not a
page), in the columns you chose on the list's page (the pages' exports: their column tables and
:func:`app.exports.export_response`, streamed).
"""
from __future__ import annotations

from flask_login import current_user

from .. import list_columns
from ..auth.permissions import roles_required
from ..exports import FORMATS, export_response, rows_of
from ..invoices import line_views, views
from ..invoices import services as invoices
from .base import READ, bp, operation, register_openapi
from .invoice_lists import invoice_line_filter
from .invoices import invoice_query


@bp.get("/invoices/export.csv", defaults={"fmt": "csv"}, endpoint="export_invoices_csv")
@bp.get("/invoices/export.xlsx", defaults={"fmt": "xlsx"}, endpoint="export_invoices_xlsx")
@roles_required(*READ)
def export_invoices(fmt):
    columns = list_columns.exported(current_user, views.INVOICE_TABLE)
    return export_response(rows_of(invoice_query(), columns), columns, fmt, "invoices", sheet="Invoices")


@bp.get("/invoice-lines/export.csv", defaults={"fmt": "csv"}, endpoint="export_invoice_lines_csv")
@bp.get("/invoice-lines/export.xlsx", defaults={"fmt": "xlsx"}, endpoint="export_invoice_lines_xlsx")
@roles_required(*READ)
def export_invoice_lines(fmt):
    columns = list_columns.exported(current_user, line_views.LINE_TABLE)
    query = invoices.invoice_lines_select(current_user, invoice_line_filter())
    return export_response(rows_of(query, columns), columns, fmt, "invoice-lines", sheet="Invoice lines")


# -- OpenAPI -----------------------------------------------------------------------------------

_READ = "any role; only what you can see"
_INVOICE_PARAMS = ("InvoiceQuery", "InvoiceStatusFilter", "InvoiceVendorFilter", "InvoiceFundFilter",
                   "InvoiceLibraryFilter", "InvoiceChannelFilter", "InvoiceApprovableFilter",
                   "InvoiceErpRejectedFilter", "InvoiceWaitingDaysFilter", "InvoiceSort")
_LINE_PARAMS = ("InvoiceLineQuery", "InvoiceLineStatusFilter", "InvoiceLineVendorFilter", "InvoiceLineFundFilter",
                "InvoiceLineLibraryFilter", "InvoiceLinePOLineFilter", "InvoiceLineFrom", "InvoiceLineTo",
                "InvoiceLineSort")


def _file(fmt: str) -> dict:
    media = FORMATS[fmt].split(";")[0]
    return {media: {"schema": {"type": "string", "contentMediaType": media}}}


register_openapi(paths={
    f"/api/v1/{path}/export.{fmt}": {
        "get": operation(f"export{name}{fmt.title()}", f"{what} as {label}", _READ,
                         ("200", _file(fmt), f"The file (every row; your chosen columns of the {what.lower()} page)."),
                         ("400", "404"), params=params)}
    for path, name, what, params in (("invoices", "Invoices", "The invoice list", _INVOICE_PARAMS),
                                     ("invoice-lines", "InvoiceLines", "The invoice line list", _LINE_PARAMS))
    for fmt, label in (("csv", "CSV"), ("xlsx", "an Excel workbook"))})
