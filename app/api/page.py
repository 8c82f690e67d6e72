"""The API page (/api): the routes of the OpenAPI document, readable in the browser by anyone
logged in, server-rendered from the same document /api/v1/openapi.json serves (no CDN)."""
from __future__ import annotations

import re

from flask import Blueprint, render_template
from markupsafe import Markup, escape

from ..auth.permissions import roles_required
from ..text import T
from .base import READ
from .openapi import build_document

bp = Blueprint("api_page", __name__)
METHODS = ("get", "post", "put", "patch", "delete")
# Section titles, translated when shown (a group not listed: "fiscal-periods" -> "Fiscal periods").
GROUP_TITLES = {
    "erp": T("ERP"), "edi": T("EDI"), "po-lines": T("PO lines"), "bib-records": T("Bibliographic records"),
    "openapi.json": T("This document"), "me": T("Your settings"), "exports": T("Exports"),
    "fiscal-periods": T("Fiscal periods"), "ledgers": T("Ledgers"), "funds": T("Funds"), "holdings": T("Holdings"),
    "items": T("Items"), "settings": T("Settings"), "invoices": T("Invoices"), "users": T("Users"),
    "libraries": T("Libraries"), "institution": T("Institution"), "fund-types": T("Fund types"),
    "reports": T("Reports"), "rollovers": T("Rollovers"), "rollover-runs": T("Rollover runs"),
    "vendors": T("Vendors"), "currency-rates": T("Currency rates"), "claims": T("Claims"),
    "purchase-orders": T("Purchase orders"), "vendor-messages": T("Vendor messages"),
    "communication-messages": T("Communication messages"), "work-orders": T("Work orders"),
    "outgoing": T("Outgoing"), "letters": T("Letters"), "notifications": T("Notifications"),
    "invoicing": T("Invoicing"), "invoice-files": T("Invoice files"), "invoice-lines": T("Invoice lines"),
}


def group_title(group: str) -> str:
    return GROUP_TITLES.get(group, group.replace("-", " ").capitalize())


def with_code(text: str) -> Markup:
    """Plain text whose `backticked` parts show as code."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


def operations(doc: dict) -> list[dict]:
    """One row per path and method, in the document's order, grouped by their first tag or path segment."""
    rows = []
    for path, item in doc["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            parameters = [p.get("name") or p.get("$ref", "").rsplit("/", 1)[-1]
                          for p in [*item.get("parameters", []), *op.get("parameters", [])]]
            rows.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                         "description": op.get("description", ""), "parameters": parameters,
                         "body": _body_kind(op), "responses": sorted(op.get("responses", {})),
                         "group": (op.get("tags") or [path.removeprefix("/api/v1/").split("/")[0]])[0]})
    return rows


def _body_kind(op: dict) -> str:
    """What the request sends: "JSON body", "file" (a multipart upload) or "" (nothing)."""
    content = op.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        return T("file")
    return T("JSON body") if content else ""


@bp.get("/api")
@roles_required(*READ)
def index():
    doc = build_document()
    return render_template("api/index.html", doc=doc, operations=operations(doc), group_title=group_title,
                           with_code=with_code)
