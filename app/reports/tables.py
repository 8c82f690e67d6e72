"""Each report's table: its columns, its rows (dicts, one per table row) and its note — what the
reports page shows under its chart, and what its CSV/XLSX files and the API give. The figures are
the services' (:mod:`app.reports.services`), in the user's scope."""
from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter

from ..exports import Column
from . import services as reports
from ..text import T

TITLES = {"months": T("Spending by month"), "vendors": T("Spending by vendor"),
          "fund-types": T("Spending by fund type"), "ages": T("Open encumbrances by age"),
          "invoices": T("Invoices by status"), "waiting": T("Invoices by days waiting")}


@dataclass(frozen=True)
class Table:
    columns: list[Column]
    data: list[dict]
    note: str
    rows: list          # the service's rows (the page's chart draws them)


def col(key, header, kind="text"):
    return Column(key, header, kind, value=itemgetter(key), currency="currency" if kind == "money" else None)


CURRENCY = col("currency", T("Currency"))


def months(actor, f) -> Table:
    rows = reports.by_month(actor, f)
    cur = f.currency
    columns = [col("month", T("Month")), CURRENCY, col("allocated", T("Allocated"), "money"),
               col("encumbered", T("Encumbered (net)"), "money"), col("expended", T("Expended"), "money"),
               col("cum_allocated", T("Allocated, to date"), "money"), col("cum_encumbered", T("Encumbered, to date"), "money"),
               col("cum_expended", T("Expended, to date"), "money"), col("available", T("Available"), "money")]
    data = [dict(month=r.label, currency=cur, allocated=r.allocated, encumbered=r.encumbered, expended=r.expended,
                 cum_allocated=r.cum_allocated, cum_encumbered=r.cum_encumbered, cum_expended=r.cum_expended,
                 available=r.available) for r in rows]
    note = T("Encumbered is net: new encumbrances less what invoices, cancellations and closings released. "
            "Postings dated outside the fiscal period count in its first or last month.")
    return Table(columns, data, note, rows)


def vendors(actor, f) -> Table:
    rows = reports.by_vendor(actor, f)
    cur = f.currency
    columns = [col("vendor", T("Vendor code")), col("name", T("Vendor")), CURRENCY, col("expended", T("Expended"), "money"),
               col("encumbered", T("Encumbered"), "money"), col("total", T("Expended + encumbered"), "money")]
    data = [dict(vendor=r.code, name=r.name, currency=cur, expended=r.expended, encumbered=r.encumbered,
                 total=r.total) for r in rows]
    note = T("A posting's vendor is the vendor of the invoice line or PO line that caused it; allocations, transfers "
            "and postings made by hand have none.")
    return Table(columns, data, note, rows)


def fund_types(actor, f) -> Table:
    rows = reports.by_fund_type(actor, f)
    cur = f.currency
    columns = [col("code", T("Fund type code")), col("name", T("Fund type")), col("funds", T("Funds"), "number"), CURRENCY,
               col("allocated", T("Allocated"), "money"), col("encumbered", T("Encumbered"), "money"),
               col("expended", T("Expended"), "money"), col("available", T("Available"), "money")]
    data = [dict(code=r.code, name=r.name, funds=r.funds, currency=cur, allocated=r.allocated,
                 encumbered=r.encumbered, expended=r.expended, available=r.available) for r in rows]
    return Table(columns, data, T("Allocated funds only; a summary fund's figures are those of its funds."), rows)


def ages(actor, f) -> Table:
    rows = reports.by_age(actor, f)
    cur = f.currency
    columns = [col("age", T("Age")), col("orders", T("Orders"), "number"), CURRENCY, col("amount", T("Still encumbered"), "money")]
    data = [dict(age=r.label, orders=r.orders, currency=cur, amount=r.amount) for r in rows]
    note = T("Age: days from the order's first encumbrance to today. An order is a PO line on one fund (a posting "
            "made by hand: its reference).")
    return Table(columns, data, note, rows)


def invoices(actor, f) -> Table:
    rows = reports.invoices_by_status(actor, f)
    columns = [col("status", T("Status")), col("invoices", T("Invoices"), "number"), CURRENCY,
               col("amount", T("Total amount"), "money")]
    data = [dict(status=r.label, invoices=r.invoices, currency=r.currency, amount=r.amount) for r in rows]
    return Table(columns, data, T("Invoices dated in the fiscal period; amounts as printed, in each invoice's currency."),
                 rows)


def waiting(actor, f) -> Table:
    rows = reports.invoices_waiting(actor, f)
    statuses = reports.OPEN_STATUSES
    columns = [col("waiting", T("Days in current status")), col("invoices", T("Invoices"), "number")] + [
        col(s, reports.STATUSES[s], "number") for s in statuses]
    data = [dict(waiting=r.label, invoices=r.invoices, **{s: r.by_status.get(s, 0) for s in statuses}) for r in rows]
    note = T("Days waiting: since the invoice entered its current status (its last status change; its creation "
            "when it never changed). Closed invoices are left out.")
    return Table(columns, data, note, rows)


TABLES = {"months": months, "vendors": vendors, "fund-types": fund_types, "ages": ages, "invoices": invoices,
          "waiting": waiting}
