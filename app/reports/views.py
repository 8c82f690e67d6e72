"""The reports page (one report at a time, HTMX swaps it when a filter changes) and each report's
table as CSV or XLSX, with the same filters. The tables are :mod:`app.reports.tables`'; the charts
are drawn here from the same rows."""
from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from urllib.parse import urlencode

from flask import Blueprint, abort, request, url_for
from flask_login import current_user

from .. import clock
from ..auth.permissions import ALL_ROLES, roles_required
from ..exports import export_response
from ..formatting import money
from ..htmx import render
from ..text import T, Text
from . import services as reports
from .charts import Series, bar_chart, line_chart
from .tables import TABLES, TITLES

bp = Blueprint("reports", __name__)
VIEW = ALL_ROLES     # everyone sees the funds and invoices of their scope
DEFAULT = "months"


def _filters():
    a = request.args
    return reports.resolve(current_user, a.get("period"), a.get("ledger") or None, a.get("library") or None,
                           a.get("currency") or None)


def _months(f, rows):
    cur = f.currency
    series = [Series("alloc", T("Allocated")), Series("enc", T("Encumbered")), Series("exp", T("Expended"))]
    # The lines stop at this month: the months to come have nothing yet.
    past = [r for r in rows if r.month <= clock.today()] or rows[:1]
    return line_chart(
        T("Running totals by month"), T("Allocated, encumbered and expended amounts in %(currency)s, added up month "
                                        "by month over %(period)s up to this month; the table below gives each "
                                        "month's figures.", currency=cur, period=f.period.name),
        series, [r.short_label for r in rows],
        [[r.cum_allocated for r in past], [r.cum_encumbered for r in past], [r.cum_expended for r in past]],
        fmt=lambda v: money(v, cur))


def _vendors(f, rows):
    cur = f.currency
    series = [Series("exp", T("Expended")), Series("enc", T("Encumbered"))]
    return bar_chart(T("Spending by vendor"), T("Expended and still encumbered amounts in %(currency)s for the "
                                               "%(top)s vendors with most spending, the other vendors together, and "
                                               "postings without a vendor.", currency=cur, top=reports.TOP_VENDORS),
                     series,
                     [(r.name or r.code, [r.expended, r.encumbered])
                      for r in rows], fmt=lambda v: money(v, cur))


def _fund_types(f, rows):
    cur = f.currency
    series = [Series("alloc", T("Allocated")), Series("exp", T("Expended")), Series("enc", T("Encumbered"))]
    return bar_chart(T("Spending by fund type"),
                     T("Allocated, expended and encumbered amounts in %(currency)s per fund type.", currency=cur),
                     series, [(r.name, [r.allocated, r.expended, r.encumbered]) for r in rows],
                     fmt=lambda v: money(v, cur))


def _ages(f, rows):
    cur = f.currency
    return bar_chart(T("Open encumbrances by age"), T("Amounts in %(currency)s still encumbered, by the age of the "
                                                     "order's first encumbrance.", currency=cur),
                     [Series("enc", T("Encumbered"))],
                     [(r.label, [r.amount]) for r in rows], fmt=lambda v: money(v, cur))


def _invoices(f, rows):
    counts = {}
    for r in rows:
        counts[r.label] = counts.get(r.label, 0) + r.invoices
    return bar_chart(T("Invoices by status"), T("Number of invoices dated in the fiscal period, per status."),
                     [Series("count", T("Invoices"))], [(label, [n]) for label, n in counts.items()],
                     fmt=lambda v: f"{v:,}")


def _waiting(f, rows):
    return bar_chart(T("Open invoices by days waiting"), T("Number of invoices not yet closed, by the days since "
                                                          "they entered their current status."),
                     [Series("count", T("Invoices"))],
                     [(r.label, [r.invoices]) for r in rows], fmt=lambda v: f"{v:,}")


CHARTS = {"months": _months, "vendors": _vendors, "fund-types": _fund_types, "ages": _ages,
          "invoices": _invoices, "waiting": _waiting}


def _report_name(name: str | None) -> str:
    name = name or DEFAULT
    if name not in TABLES:
        abort(404)
    return name


@bp.get("/reports/")
@roles_required(*VIEW)
def index():
    name = _report_name(request.args.get("report"))
    f = _filters()
    table = TABLES[name](current_user, f)
    chart, columns, data, note = CHARTS[name](f, table.rows), table.columns, table.data, table.note
    query = urlencode(f.args())
    page_query = urlencode({"report": name, **f.args()})
    return render("reports/index.html", "reports/_report.html", name=name, titles=TITLES, f=f,
                  opts=reports.options(current_user, f.period), chart=chart, columns=columns, rows=data, note=note,
                  csv_url=url_for("reports.export", name=name, fmt="csv") + "?" + query,
                  xlsx_url=url_for("reports.export", name=name, fmt="xlsx") + "?" + query,
                  page_url=url_for("reports.index") + "?" + page_query)


@bp.get("/reports/<name>.<any(csv, xlsx):fmt>")
@roles_required(*VIEW)
def export(name, fmt):
    if name not in TABLES:
        abort(404)
    f = _filters()
    table = TABLES[name](current_user, f)
    data = [{k: str(v) if isinstance(v, Text) else v for k, v in row.items()} for row in table.data]   # as read
    return export_response(data, headed(table.columns), fmt, f"report-{name}-{f.period.code}",
                           sheet=str(TITLES[name]))


def headed(columns) -> list:
    """The columns with their headers in the reader's language (a spreadsheet's header row is read by a
    person; the API gives the English ones)."""
    return [replace(c, header=str(c.header)) for c in columns]


def _row_cells(columns, row):
    """The table cells of one row, formatted like the rest of the app (money with its currency's decimals)."""
    out = []
    for c in columns:
        v = row[c.key]
        if c.kind == "money":
            out.append(SimpleNamespace(text=money(v, row["currency"]), num=True, neg=v < 0))
        elif c.kind == "number":
            out.append(SimpleNamespace(text=f"{v:,}", num=True, neg=False))
        else:
            out.append(SimpleNamespace(text=v, num=False, neg=False))
    return out


@bp.app_template_global()
def lower_label(label) -> str:
    """A series' name inside a bar's text, in the reader's language (lower case where it has any)."""
    return str(label).lower()


@bp.app_template_global("report_cells")
def report_cells(columns, row):
    return _row_cells(columns, row)
