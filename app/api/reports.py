"""API v1: the reports of /reports/ as JSON, CSV or XLSX — the same tables
(:mod:`app.reports.tables`, over :mod:`app.reports.services`), the same filters (fiscal period,
ledger, library, currency) and the same scope: each user gets the funds and invoices they see."""
from __future__ import annotations

from decimal import Decimal

from flask import request
from flask_login import current_user

from ..auth.permissions import roles_required
from ..errors import NotFound
from ..exports import FORMATS, export_response
from ..reports import services as reports
from ..reports.tables import TABLES, TITLES
from .base import READ, STRING, bp, object_schema, operation, param, path_param, query_param, register_openapi

CENTS = Decimal("0.01")


def _table(name: str):
    if name not in TABLES:
        raise NotFound(f"No report {name}; the reports are: {', '.join(TABLES)}.")
    a = request.args
    f = reports.resolve(current_user, a.get("period") or None, a.get("ledger") or None, a.get("library") or None,
                        a.get("currency") or None)
    return f, TABLES[name](current_user, f)


def _cell(column, value):
    if value is None:
        return None
    if column.kind == "money":
        return f"{Decimal(value).quantize(CENTS):f}"
    if column.kind == "number":
        return int(value) if not isinstance(value, Decimal) or value == value.to_integral() else f"{value:f}"
    return str(value)


@bp.get("/reports/<name>")
@roles_required(*READ)
def get_report(name):
    f, table = _table(name)
    return {"report": name, "title": TITLES[name],
            "filters": {"period": f.period.code, "ledger": f.ledger.code if f.ledger else None,
                        "library": f.library.code if f.library else None, "currency": f.currency},
            "columns": [{"key": c.key, "header": c.header, "kind": c.kind} for c in table.columns],
            "rows": [{c.key: _cell(c, row[c.key]) for c in table.columns} for row in table.data],
            "note": table.note}


@bp.get("/reports/<name>.csv", defaults={"fmt": "csv"}, endpoint="report_csv")
@bp.get("/reports/<name>.xlsx", defaults={"fmt": "xlsx"}, endpoint="report_xlsx")
@roles_required(*READ)
def report_file(name, fmt):
    f, table = _table(name)
    return export_response(table.data, table.columns, fmt, f"report-{name}-{f.period.code}", sheet=TITLES[name])


# -- OpenAPI -----------------------------------------------------------------------------------

_READ = "any role; the funds and invoices of your library scope"
_NAMES = {"type": "string", "enum": list(TABLES)}
CSV_CONTENT = {"text/csv": {"schema": {"type": "string"},
                            "example": "Month,Currency,Allocated\r\nJan 2026,EUR,1000.00\r\n"}}
XLSX_CONTENT = {FORMATS["xlsx"]: {"schema": {"type": "string", "contentMediaType": FORMATS["xlsx"]}}}
_FILE_NOTE = ("The report's table as the reports page downloads it: UTF-8 CSV with a byte order mark and CRLF line "
              "ends, or an .xlsx workbook (money as numbers with two decimals, its currency in a column).")

register_openapi(
    schemas={
        "Report": object_schema({
            "report": _NAMES, "title": STRING,
            "filters": object_schema({"period": STRING, "ledger": {"type": ["string", "null"]},
                                      "library": {"type": ["string", "null"]}, "currency": STRING},
                                     "The filters applied: those given, or the defaults the page takes."),
            "columns": {"type": "array", "items": object_schema({
                "key": STRING, "header": STRING, "kind": {"type": "string", "enum": ["text", "money", "number"]}})},
            "rows": {"type": "array", "items": {
                "type": "object", "additionalProperties": {"type": ["string", "integer", "null"]},
                "description": "One row: column key → value (money as a decimal string, counts as integers)."}},
            "note": STRING}, "One report's table."),
    },
    parameters={
        "ReportName": path_param("name", "The report: " + ", ".join(TABLES) + ".", _NAMES),
        "ReportPeriod": query_param("period", STRING, "The fiscal period's code; default: the current one."),
        "ReportLedger": query_param("ledger", STRING, "Only this ledger (its code or id) of the period."),
        "ReportLibrary": query_param("library", STRING, "Only the funds owned by this library (its code)."),
        "ReportCurrency": query_param("currency", STRING, "The currency reported (a ledger's); default: the one "
                                                          "most ledgers use."),
    },
    paths={
        "/api/v1/reports/{name}": {
            "parameters": [param("ReportName")],
            "get": operation("getReport", "One report's table (rows and columns)", _READ,
                             ("200", "Report", "The report."), ("404",),
                             params=("ReportPeriod", "ReportLedger", "ReportLibrary", "ReportCurrency"),
                             note="404: no such report, or a period, ledger or library unknown or out of your "
                                  "scope."),
        },
        "/api/v1/reports/{name}.csv": {
            "parameters": [param("ReportName")],
            "get": operation("getReportCsv", "One report's table as CSV", _READ,
                             ("200", CSV_CONTENT, "The CSV file (text/csv; charset=utf-8)."), ("404",),
                             params=("ReportPeriod", "ReportLedger", "ReportLibrary", "ReportCurrency"),
                             note=_FILE_NOTE),
        },
        "/api/v1/reports/{name}.xlsx": {
            "parameters": [param("ReportName")],
            "get": operation("getReportXlsx", "One report's table as an .xlsx workbook", _READ,
                             ("200", XLSX_CONTENT, "The workbook."), ("404",),
                             params=("ReportPeriod", "ReportLedger", "ReportLibrary", "ReportCurrency"),
                             note=_FILE_NOTE),
        },
    })
