"""The invoice line list (/invoices/lines/): the lines of every invoice the user may see, across
invoices, filtered, sorted and paged like the invoice list. The price note column is shown only when
asked for (``price_note=1``, kept in the URL). HTMX asks for the table alone (#invoice-line-table)."""
from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from flask import Blueprint, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..auth.permissions import ALL_ROLES, library_scope, roles_required
from ..extensions import db
from ..funds.models import Fund
from ..funds.scope import visible_funds_clause
from ..htmx import is_htmx, render
from ..listing import page_of
from ..org.models import Library
from ..vendors.models import Vendor
from . import services as invoices
from .models import STATUSES

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


@bp.get("/invoices/lines/")
@roles_required(*ALL_ROLES)
def index():
    f = filter_from(request.args)
    show_price_note = request.args.get("price_note") == "1"
    page = page_of(invoices.invoice_lines_query(current_user, f), invoices.count_invoice_lines(current_user, f),
                   request.args.get("page", 1, type=int), PER_PAGE)

    def list_url(n=None, **change):
        params = {"q": f.q, "status": f.status, "vendor": f.vendor_id, "fund": f.fund_id, "library": f.library_id,
                  "pol": f.pol, "from": f.date_from, "to": f.date_to,
                  "sort": f.sort if f.sort != invoices.DEFAULT_LINE_SORT else "",
                  "price_note": 1 if show_price_note else ""}
        params.update(change)
        if n and n > 1:
            params["page"] = n
        query = urlencode({k: v for k, v in params.items() if v})
        return url_for("invoice_lines.index") + ("?" + query if query else "")

    ctx = dict(page=page, f=f, list_url=list_url, show_price_note=show_price_note,
               charge_names=invoices.charge_types())
    if is_htmx():
        return render("invoices/lines.html", "invoices/_line_table.html", **ctx)
    funds = db.session.scalars(select(Fund).where(visible_funds_clause(current_user), Fund.kind == "allocated")
                               .order_by(Fund.code, Fund.id)).all()
    return render("invoices/lines.html", statuses=STATUSES, funds=funds, libraries=_visible_libraries(),
                  vendors=db.session.scalars(select(Vendor).order_by(Vendor.code)).all(), **ctx)
