"""API v1: every page list's CSV/XLSX export, reachable with a token.

``GET /api/v1/exports/<list>.csv`` (or ``.xlsx``) answers exactly what the list's own export
button downloads: the page's export view runs (its roles, its scope, its query parameters —
filters and sort as in the list's URL — and the columns the user has chosen to show on that list,
:mod:`app.list_columns`), streamed by :mod:`app.exports`. Nothing is re-implemented here.
"""
from __future__ import annotations

from ..auth.models import Role
from ..auth.permissions import ALL_ROLES, roles_required
from ..errors import NotFound
from ..exports import FORMATS
from ..ids import parse_id
from ..invoices.services import OPERATORS
from .base import STRING, bp, operation, param, path_param, query_param, register_openapi

ADMIN = frozenset({Role.ADMIN})


def page_views() -> dict:
    """Each list's export view of its page (imported when asked: the page modules need every model
    mapped, which the app has done by the time a request comes)."""
    from ..funds import views as funds_pages
    from ..integrations import views as jobs_pages
    from ..integrations.edi import views as edi_pages
    from ..invoices import line_views as invoice_line_pages
    from ..invoices import views as invoice_pages
    from ..orders import communications_views as claim_pages
    from ..orders import views as order_pages
    from ..vendors import views as vendor_pages
    return {"funds": funds_pages.export_dashboard, "fund-transactions": funds_pages.export_transactions,
            "po-lines": order_pages.export_lines, "purchase-orders": order_pages.export_pos,
            "invoices": invoice_pages.export, "invoice-lines": invoice_line_pages.export,
            "vendors": vendor_pages.export, "claims": claim_pages.export_claims, "edi-inbox": edi_pages.export_inbox,
            "job-runs": jobs_pages.export_runs, "job-run-events": jobs_pages.export_events}


# list -> (the page's roles, its path arguments, what it is, its query parameters: (name, description)).
# The page's export view checks its roles (and scope) again; a test holds the two role sets equal.
LISTS = {
    "funds": (ALL_ROLES, (), "The fund dashboard: every ledger and fund of the period you see",
              (("period", "The fiscal period's code; default: the current one."),)),
    "fund-transactions": (ALL_ROLES, ("fund_id",), "One fund's transactions",
                          (("kind", "allocation, transfer, encumbrance, disencumbrance or expenditure"),
                           ("since", "From this day (YYYY-MM-DD)."), ("until", "Up to this day (YYYY-MM-DD)."),
                           ("q", "Text in the reference or note."), ("sort", "date, -date, amount or -amount"))),
    "po-lines": (ALL_ROLES, (), "PO lines",
                 (("status", "A status, open or renewal."), ("q", "Text searched as on the list."),
                  ("sort", "As the list sorts, e.g. -number."), ("method", "An acquisition method, or unpaid."))),
    "purchase-orders": (ALL_ROLES, (), "Purchase orders", (("status", "A status."),)),
    "invoices": (ALL_ROLES, (), "Invoices",
                 (("status", "A status."), ("q", "Text searched as on the list."), ("sort", "As the list sorts."),
                  ("channel", "How it came in."), ("approvable", "1: the ones you may approve."),
                  ("erp_rejected", "1: rejected by the ERP."), ("waiting_days", "Waiting at least so many days."))),
    "invoice-lines": (ALL_ROLES, (), "Invoice lines",
                      (("status", "The invoice's status."), ("pol", "A PO line number."),
                       ("from", "Invoice date from (YYYY-MM-DD)."), ("to", "Invoice date up to (YYYY-MM-DD)."),
                       ("sort", "As the list sorts."))),
    "vendors": (ALL_ROLES, (), "Vendors",
                (("q", "Text in the code or name."), ("status", "active or inactive"), ("sort", "As the list sorts."))),
    "claims": (ALL_ROLES, (), "Claims: overdue PO lines, oldest first", ()),
    "edi-inbox": (OPERATORS, (), "The EDI inbox", (("status", "A message status."),)),
    "job-runs": (ADMIN, (), "Monitor Jobs: the runs' history, newest first",
                 (("job", "A job."), ("status", "A run status."), ("profile", "A profile's code."),
                  ("days", "Only the last so many days, as the page offers."))),
    "job-run-events": (ADMIN, ("run_id",), "One run's events, in order", ()),
}
RULES = {"fund-transactions": "/exports/funds/<int:fund_id>/transactions",
         "job-run-events": "/exports/job-runs/<int:run_id>/events"}


def _endpoint(name: str) -> str:
    return "export_" + name.replace("-", "_")


def _add(name: str, roles) -> None:
    def view(fmt, **path):
        if not all(map(parse_id, path.values())):
            raise NotFound("No such " + ("fund." if "fund_id" in path else "run."))
        return page_views()[name](fmt=fmt, **path)
    view.__name__ = _endpoint(name)
    guarded = roles_required(*roles)(view)
    rule = RULES.get(name, f"/exports/{name}")
    for fmt in FORMATS:
        bp.add_url_rule(f"{rule}.{fmt}", _endpoint(name), guarded, defaults={"fmt": fmt}, methods=["GET"])


for _name, (_roles_of_page, *_rest) in LISTS.items():
    _add(_name, _roles_of_page)


# -- OpenAPI -----------------------------------------------------------------------------------

def _roles(roles) -> str:
    return "the list page's: " + ", ".join(sorted(r.value for r in roles)) + "; the rows of your scope"


CONTENT = {"csv": {"text/csv": {"schema": {"type": "string"},
                                "example": "Code,Name\r\nACME,Acme Books\r\n"}},
           "xlsx": {FORMATS["xlsx"]: {"schema": {"type": "string", "contentMediaType": FORMATS["xlsx"]}}}}
TEXT = {"csv": "UTF-8 CSV (text/csv; charset=utf-8) with a byte order mark, one header row, CRLF line ends",
        "xlsx": "An .xlsx workbook (" + FORMATS["xlsx"] + "), one sheet, a header row"}
NOTE = ("The list's own export: every row of the list's filter and sort you may see (not only a page), in the "
        "columns you chose to show on that list. Money has two decimals, with its currency in a column. Query "
        "parameters are the list page's own, as in its URL; unknown values are ignored as on the page.")
ERRORS = {"funds": ("404",), "fund-transactions": ("400", "404"), "job-run-events": ("404",)}
_PATH_PARAMS = {"fund_id": "ExportFundId", "run_id": "ExportRunId"}


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


def _paths() -> dict:
    paths = {}
    for name, (roles, arguments, what, params) in LISTS.items():
        doc_rule = RULES.get(name, f"/exports/{name}")
        for arg in arguments:
            doc_rule = doc_rule.replace(f"<int:{arg}>", "{" + arg + "}")
        errors = ERRORS.get(name, ())
        for fmt in FORMATS:
            op = operation(f"export{_camel(name)}{fmt.capitalize()}", f"{what} as {fmt.upper()}", _roles(roles),
                           ("200", CONTENT[fmt], TEXT[fmt] + "."), errors, note=NOTE)
            query = [query_param(p, STRING, text) for p, text in params]
            op["parameters"] = [param(_PATH_PARAMS[a]) for a in arguments] + query
            if not op["parameters"]:
                del op["parameters"]
            paths[f"/api/v1{doc_rule}.{fmt}"] = {"get": op}
    return paths


register_openapi(
    parameters={"ExportFundId": path_param("fund_id", "The fund's id (one you see; else 404)."),
                "ExportRunId": path_param("run_id", "The run's id (as on Monitor Jobs).")},
    paths=_paths())
