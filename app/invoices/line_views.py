"""The invoice line list (/invoices/lines/): the lines of every invoice the user may see, across
invoices, filtered, sorted and paged like the invoice list, in the columns the user chose (the price
note hidden until chosen), and exported with the same filter, sort and columns. HTMX asks for the
table alone (#invoice-line-table)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import list_columns
from ..auth.permissions import ALL_ROLES, library_scope, roles_required
from ..exports import Column, Columns, export_response, joined, related, rows_of
from ..extensions import db
from ..funds.models import Fund
from ..funds.scope import visible_funds_clause
from ..htmx import is_htmx, render
from ..listing import list_links, page_of
from ..org.models import Library
from ..orders.models import POLine
from ..text import T
from ..vendors.models import Vendor
from . import services as invoices
from .models import STATUSES, Invoice, InvoiceLine, InvoiceLineFund

bp = Blueprint("invoice_lines", __name__)
PER_PAGE = 50


def _day(value) -> date | None:
    """A date from the query string; anything else is no date (junk is ignored, as for the other filters)."""
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def filter_from(args) -> invoices.InvoiceLineFilter:
    sort = args.get("sort") or ""
    return invoices.InvoiceLineFilter.from_args(
        args, STATUSES, pol=(args.get("pol") or "").strip()[:50], date_from=_day(args.get("from")),
        date_to=_day(args.get("to")), sort=sort if sort in invoices.LINE_SORTS else invoices.DEFAULT_LINE_SORT)


def _visible_libraries() -> list[Library]:
    scope = library_scope(current_user)
    query = select(Library).order_by(Library.code)
    if scope is not None:
        query = query.where(Library.id.in_(scope or [-1]))
    return db.session.scalars(query).all()


def _fund_codes(line_ids: list) -> dict:
    """``{line id: "FUND-A, FUND-B"}``, each line's funds in distribution order."""
    return joined(db.session.execute(
        select(InvoiceLineFund.line_id, Fund.code).join(Fund, Fund.id == InvoiceLineFund.fund_id)
        .where(InvoiceLineFund.line_id.in_(line_ids)).order_by(InvoiceLineFund.id)))


REGULAR, VAT_ADJUSTMENT, INSTITUTION = T("Regular"), T("VAT adjustment"), T("Institution")


def line_type_name(line_type: str, charge_names: dict) -> str:
    """What a line is, in words: a regular line, the VAT adjustment, or its charge type's name."""
    if line_type == "regular":
        return REGULAR
    return VAT_ADJUSTMENT if line_type == "vat" else charge_names.get(line_type, line_type)


def _line_types(types: list) -> dict:
    names = invoices.charge_types()
    return {t: line_type_name(t, names) for t in types}


# The list's query joins each line's invoice, vendor and PO line: a column reads them directly.
LINE_COLUMNS = Columns([
    Column("number", T("Invoice"), sql=Invoice.number, sort="number", fixed=True,
           cell=lambda line: line.invoice.number),
    Column("position", T("Line"), "number", shown=False),
    Column("invoice_date", T("Invoice date"), "date", sql=Invoice.invoice_date, sort="date",
           cell=lambda line: line.invoice.invoice_date),
    Column("vendor", T("Vendor"), sql=Vendor.code, sort="vendor", cell=lambda line: line.invoice.vendor.code),
    Column("status", T("Status"), sql=Invoice.status, sort="status",
           value=lambda r: STATUSES.get(r.status, r.status)),
    Column("owner", T("Owner"), sql=related(Library, Invoice.owner_library_id),
           value=lambda r: r.owner or INSTITUTION,
           cell=lambda line: line.invoice.owner_library.code if line.invoice.owner_library else INSTITUTION,
           shown=False),
    Column("pol", T("PO line"), sql=POLine.number, sort="pol"),
    Column("title", T("Title"), sql=POLine.title, sort="title"),
    Column("line_type", T("Line type"), sql=InvoiceLine.line_type, lookup=_line_types, shown=False),
    Column("currency", T("Currency"), sql=Invoice.currency, cell=lambda line: line.invoice.currency, shown=False),
    Column("quantity", T("Qty"), "number", sort="quantity"),
    Column("unit_price", T("Price"), "money", currency="currency", sort="price"),
    Column("total", T("Total"), "money", currency="currency", sort="total"),
    Column("funds", T("Funds"), sql=InvoiceLine.id, lookup=_fund_codes),
    Column("reporting_code", T("Reporting code")),
    Column("subscription_from", T("Subscription from"), "date"),
    Column("subscription_to", T("Subscription to"), "date"),
    Column("price_note", T("Price note"), css="price-note", shown=False),
    Column("vat_code", T("VAT code"), shown=False),
    Column("vat_percent", T("VAT %"), "number", shown=False),
    Column("vat_amount", T("VAT"), "money", currency="currency"),
    Column("note", T("Note"), shown=False),
])
LINE_TABLE = list_columns.register("invoice_lines", T("Invoice lines"), LINE_COLUMNS)


def _list_params(f: invoices.InvoiceLineFilter) -> dict:
    return {"q": f.q, "status": f.status, "vendor": f.vendor_id, "fund": f.fund_id, "library": f.library_id,
            "pol": f.pol, "from": f.date_from, "to": f.date_to,
            "sort": f.sort if f.sort != invoices.DEFAULT_LINE_SORT else ""}


@bp.get("/invoices/lines/")
@roles_required(*ALL_ROLES)
def index():
    f = filter_from(request.args)
    page = page_of(invoices.invoice_lines_query(current_user, f), invoices.count_invoice_lines(current_user, f),
                   request.args.get("page", 1, type=int), PER_PAGE)

    list_url, export_url = list_links("invoice_lines.index", "invoice_lines.export", _list_params(f))

    charge_names = invoices.charge_types()
    ctx = dict(page=page, f=f, list_url=list_url, export_url=export_url,
               type_name=lambda line_type: line_type_name(line_type, charge_names),
               table=LINE_TABLE, columns=list_columns.shown(current_user, LINE_TABLE))
    if is_htmx():
        return render("invoices/lines.html", "invoices/_line_table.html", **ctx)
    funds = db.session.scalars(select(Fund).where(visible_funds_clause(current_user), Fund.kind == "allocated")
                               .order_by(Fund.code, Fund.id)).all()
    return render("invoices/lines.html", statuses=STATUSES, funds=funds, libraries=_visible_libraries(),
                  vendors=db.session.scalars(select(Vendor).order_by(Vendor.code)).all(),
                  column_choices=list_columns.choices(current_user, LINE_TABLE), **ctx)


@bp.get("/invoices/lines/export.csv", defaults={"fmt": "csv"})
@bp.get("/invoices/lines/export.xlsx", defaults={"fmt": "xlsx"})
@roles_required(*ALL_ROLES)
def export(fmt):
    """Every invoice line of the list's filter and sort the user may see, in the columns they show, as a file."""
    columns = list_columns.exported(current_user, LINE_TABLE)
    query = invoices.invoice_lines_select(current_user, filter_from(request.args))
    return export_response(rows_of(query, columns), columns, fmt, "invoice-lines", sheet=_("Invoice lines"))
