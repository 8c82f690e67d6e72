"""The reports page (one report at a time, HTMX swaps it when a filter changes) and each report's
table as CSV or XLSX, with the same filters."""
from __future__ import annotations

from operator import itemgetter
from types import SimpleNamespace
from urllib.parse import urlencode

from flask import Blueprint, abort, request, url_for
from flask_login import current_user

from .. import clock
from ..auth.permissions import ALL_ROLES, roles_required
from ..exports import Column, export_response
from ..formatting import money
from ..htmx import render
from . import services as reports
from .charts import Series, bar_chart, line_chart

bp = Blueprint("reports", __name__)
VIEW = ALL_ROLES     # everyone sees the funds and invoices of their scope
DEFAULT = "months"


def col(key, header, kind="text"):
    return Column(key, header, kind, value=itemgetter(key), currency="currency" if kind == "money" else None)


CURRENCY = col("currency", "Currency")


def _filters():
    a = request.args
    return reports.resolve(current_user, a.get("period"), a.get("ledger") or None, a.get("library") or None,
                           a.get("currency") or None)


def _months(f):
    rows = reports.by_month(current_user, f)
    cur = f.currency
    series = [Series("alloc", "Allocated"), Series("enc", "Encumbered"), Series("exp", "Expended")]
    # The lines stop at this month: the months to come have nothing yet.
    past = [r for r in rows if r.month <= clock.today()] or rows[:1]
    chart = line_chart(
        "Running totals by month", f"Allocated, encumbered and expended amounts in {cur}, added up month by month "
        f"over {f.period.name} up to this month; the table below gives each month's figures.",
        series, [r.month.strftime("%b") for r in rows],
        [[r.cum_allocated for r in past], [r.cum_encumbered for r in past], [r.cum_expended for r in past]],
        fmt=lambda v: money(v, cur))
    columns = [col("month", "Month"), CURRENCY, col("allocated", "Allocated", "money"),
               col("encumbered", "Encumbered (net)", "money"), col("expended", "Expended", "money"),
               col("cum_allocated", "Allocated, to date", "money"), col("cum_encumbered", "Encumbered, to date", "money"),
               col("cum_expended", "Expended, to date", "money"), col("available", "Available", "money")]
    data = [dict(month=r.label, currency=cur, allocated=r.allocated, encumbered=r.encumbered, expended=r.expended,
                 cum_allocated=r.cum_allocated, cum_encumbered=r.cum_encumbered, cum_expended=r.cum_expended,
                 available=r.available) for r in rows]
    note = ("Encumbered is net: new encumbrances less what invoices, cancellations and closings released. "
            "Postings dated outside the fiscal period count in its first or last month.")
    return chart, columns, data, note


def _vendors(f):
    rows = reports.by_vendor(current_user, f)
    cur = f.currency
    series = [Series("exp", "Expended"), Series("enc", "Encumbered")]
    chart = bar_chart("Spending by vendor", f"Expended and still encumbered amounts in {cur} for the "
                      f"{reports.TOP_VENDORS} vendors with most spending, the other vendors together, and postings "
                      "without a vendor.", series,
                      [(r.name or r.code, [r.expended, r.encumbered])
                       for r in rows], fmt=lambda v: money(v, cur))
    columns = [col("vendor", "Vendor code"), col("name", "Vendor"), CURRENCY, col("expended", "Expended", "money"),
               col("encumbered", "Encumbered", "money"), col("total", "Expended + encumbered", "money")]
    data = [dict(vendor=r.code, name=r.name, currency=cur, expended=r.expended, encumbered=r.encumbered,
                 total=r.total) for r in rows]
    note = ("A posting's vendor is the vendor of the invoice line or PO line that caused it; allocations, transfers "
            "and postings made by hand have none.")
    return chart, columns, data, note


def _fund_types(f):
    rows = reports.by_fund_type(current_user, f)
    cur = f.currency
    series = [Series("alloc", "Allocated"), Series("exp", "Expended"), Series("enc", "Encumbered")]
    chart = bar_chart("Spending by fund type", f"Allocated, expended and encumbered amounts in {cur} per fund type.",
                      series, [(r.name, [r.allocated, r.expended, r.encumbered]) for r in rows],
                      fmt=lambda v: money(v, cur))
    columns = [col("code", "Fund type code"), col("name", "Fund type"), col("funds", "Funds", "number"), CURRENCY,
               col("allocated", "Allocated", "money"), col("encumbered", "Encumbered", "money"),
               col("expended", "Expended", "money"), col("available", "Available", "money")]
    data = [dict(code=r.code, name=r.name, funds=r.funds, currency=cur, allocated=r.allocated,
                 encumbered=r.encumbered, expended=r.expended, available=r.available) for r in rows]
    return chart, columns, data, "Allocated funds only; a summary fund's figures are those of its funds."


def _ages(f):
    rows = reports.by_age(current_user, f)
    cur = f.currency
    chart = bar_chart("Open encumbrances by age", f"Amounts in {cur} still encumbered, by the age of the order's "
                      "first encumbrance.", [Series("enc", "Encumbered")],
                      [(r.label, [r.amount]) for r in rows], fmt=lambda v: money(v, cur))
    columns = [col("age", "Age"), col("orders", "Orders", "number"), CURRENCY, col("amount", "Still encumbered", "money")]
    data = [dict(age=r.label, orders=r.orders, currency=cur, amount=r.amount) for r in rows]
    note = ("Age: days from the order's first encumbrance to today. An order is a PO line on one fund (a posting "
            "made by hand: its reference).")
    return chart, columns, data, note


def _invoices(f):
    rows = reports.invoices_by_status(current_user, f)
    counts = {}
    for r in rows:
        counts[r.label] = counts.get(r.label, 0) + r.invoices
    chart = bar_chart("Invoices by status", "Number of invoices dated in the fiscal period, per status.",
                      [Series("count", "Invoices")], [(label, [n]) for label, n in counts.items()],
                      fmt=lambda v: f"{v:,}")
    columns = [col("status", "Status"), col("invoices", "Invoices", "number"), CURRENCY,
               col("amount", "Total amount", "money")]
    data = [dict(status=r.label, invoices=r.invoices, currency=r.currency, amount=r.amount) for r in rows]
    return chart, columns, data, "Invoices dated in the fiscal period; amounts as printed, in each invoice's currency."


def _waiting(f):
    rows = reports.invoices_waiting(current_user, f)
    chart = bar_chart("Open invoices by days waiting", "Number of invoices not yet closed, by the days since "
                      "they entered their current status.", [Series("count", "Invoices")],
                      [(r.label, [r.invoices]) for r in rows], fmt=lambda v: f"{v:,}")
    statuses = reports.OPEN_STATUSES
    columns = [col("waiting", "Days in current status"), col("invoices", "Invoices", "number")] + [
        col(s, reports.STATUSES[s], "number") for s in statuses]
    data = [dict(waiting=r.label, invoices=r.invoices, **{s: r.by_status.get(s, 0) for s in statuses}) for r in rows]
    note = ("Days waiting: since the invoice entered its current status (its last status change; its creation "
            "when it never changed). Closed invoices are left out.")
    return chart, columns, data, note


BUILDERS = {"months": _months, "vendors": _vendors, "fund-types": _fund_types, "ages": _ages,
            "invoices": _invoices, "waiting": _waiting}
TITLES = {"months": "Spending by month", "vendors": "Spending by vendor", "fund-types": "Spending by fund type",
          "ages": "Open encumbrances by age", "invoices": "Invoices by status", "waiting": "Invoices by days waiting"}


def _report_name(name: str | None) -> str:
    name = name or DEFAULT
    if name not in BUILDERS:
        abort(404)
    return name


@bp.get("/reports/")
@roles_required(*VIEW)
def index():
    name = _report_name(request.args.get("report"))
    f = _filters()
    chart, columns, data, note = BUILDERS[name](f)
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
    if name not in BUILDERS:
        abort(404)
    f = _filters()
    _, columns, data, _ = BUILDERS[name](f)
    return export_response(data, columns, fmt, f"report-{name}-{f.period.code}", sheet=TITLES[name])


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


@bp.app_template_global("report_cells")
def report_cells(columns, row):
    return _row_cells(columns, row)
