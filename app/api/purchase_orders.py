"""API v1: purchase orders — the list in your scope, one order with its lines' numbers and totals,
sending an open order, and "Package and send" of the Ready lines marked for automatic packaging
(the preview, then the confirmation of the very set it showed: a changed set is refused with 409).

The same services, roles and scope as the pages (:mod:`app.orders.views`): every role reads the
orders of its libraries (others are not found); sending needs a purchasing role over the order's
library (403 otherwise).
"""
from __future__ import annotations

from decimal import Decimal

from flask import request
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ..auth.models import User
from ..auth.permissions import roles_required
from ..errors import DomainError, Forbidden
from ..extensions import db
from ..ledger import format_plain
from ..orders import package_run
from ..orders import services as orders
from ..orders.models import PACKAGING, POLine, PurchaseOrder
from ..vendors.models import Vendor
from .base import (INTEGER, MOMENT, NULLABLE_MOMENT, NULLABLE_STRING, READ, STRING, action_paths, action_routes, bp,
                   by_code, choice_arg, commit, input_schema, object_schema, one, operation, page_args, page_of, param,
                   path_param, per_page_param, query_param, ref, register_openapi)
from .serializers import Field, read_body, timestamp

ORDER = orders.PURCHASING
DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 200
PREVIEW_LINES = 100   # line numbers listed on the preview (all are counted and summed)

PACKAGE_IN = {
    "ready": Field("str", "The `ready` value of the preview you checked (GET /purchase-orders/package).",
                   required=True, max_length=100),
}
SEND_IN: dict[str, Field] = {}


class ReadyLinesChanged(DomainError):
    """The Ready lines are no longer the set the preview showed: nothing is packaged."""
    status, code = 409, "ready_lines_changed"


# -- what the API returns ----------------------------------------------------------------------

def _totals(pairs) -> list[dict]:
    """[(currency, amount)] summed per currency, as [{"currency", "net_total"}] in currency order."""
    sums: dict[str, Decimal] = {}
    for currency, amount in pairs:
        sums[currency] = sums.get(currency, Decimal(0)) + (amount or Decimal(0))
    return [{"currency": c, "net_total": format_plain(t, c)} for c, t in sorted(sums.items())]


def _username(user_id) -> str | None:
    user = db.session.get(User, user_id) if user_id else None
    return user.username if user is not None else None


def purchase_order_json(po: PurchaseOrder) -> dict:
    lines = po.lines
    sendable = po.status == "open" and any(p.status in PACKAGING for p in lines)
    return {"id": po.id, "number": po.number, "vendor": po.vendor.code,
            "owner_library": po.owner_library.code if po.owner_library else None, "status": po.status,
            "packaging": po.packaging, "note": po.note, "lines": [p.number for p in lines],
            "totals": _totals((p.currency, p.net_price) for p in lines),
            "created_at": timestamp(po.created_at), "created_by": _username(po.created_by_id),
            "sent_at": timestamp(po.sent_at), "sent_by": _username(po.sent_by_id),
            "closed_at": timestamp(po.closed_at), "allowed_actions": ["send"] if sendable else []}


def _preview_json() -> dict:
    preview = orders.package_preview(current_user)
    numbers = db.session.scalars(orders.ready_query(current_user).with_only_columns(
        POLine.number).limit(PREVIEW_LINES)).all()
    return {"ready": orders.ready_fingerprint(current_user), "line_count": preview.line_count,
            "in_background": not package_run.in_request(preview.line_count),
            "groups": [{"vendor": g["vendor"].code, "owner_library": g["library"].code if g["library"] else None,
                        "lines": g["lines"], "totals": _totals(g["totals"].items())} for g in preview.groups],
            "totals": _totals(preview.totals.items()), "lines": numbers}


# -- routes ------------------------------------------------------------------------------------

@bp.get("/purchase-orders")
@roles_required(*READ)
def list_purchase_orders():
    page = page_args(DEFAULT_PER_PAGE, MAX_PER_PAGE)
    status = choice_arg("status", PurchaseOrder.STATUSES)
    vendor = request.args.get("vendor")
    query = orders.pos_query(current_user, status, by_code(Vendor, vendor, "vendor").id if vendor else None)
    return page.of(query.options(selectinload(PurchaseOrder.lines)), purchase_order_json)


def _may_package() -> None:
    if not orders.can_order(current_user, anywhere=True):
        raise Forbidden("Only administrators and purchasing operators may package orders.")


@bp.get("/purchase-orders/package")
@roles_required(*ORDER)
def package_preview():
    """What "Package and send" would send: the orders per vendor and owner, totals, the lines."""
    _may_package()
    return _preview_json()


@bp.post("/purchase-orders/package")
@roles_required(*ORDER)
def package_ready():
    """Package and send the Ready lines the preview showed (``ready`` names that set); when they
    changed since, nothing is sent (409). Many lines go in a background run (202)."""
    _may_package()
    body = read_body(PACKAGE_IN)
    if body["ready"] != orders.ready_fingerprint(current_user):
        raise ReadyLinesChanged("The ready lines changed since the preview (or none was confirmed): GET the preview "
                                "again, check it, and confirm its ready value.", "ready")
    waiting = orders.ready_for_packaging_count(current_user)
    if not package_run.in_request(waiting):
        run_id, started = package_run.launch(current_user)
        return {"purchase_orders": [], "run": run_id, "started": started}, 202
    sent = orders.package_ready_lines(current_user)
    numbers = [po.number for po in sent]
    commit()
    return {"purchase_orders": numbers, "run": None, "started": False}, 201


@bp.get("/purchase-orders/<po_number>")
@roles_required(*READ)
def get_purchase_order(po_number):
    return one(orders.get_po(current_user, po_number), purchase_order_json)


action_routes("/purchase-orders/<po_number>/actions", lambda po_number: orders.get_po(current_user, po_number),
              purchase_order_json, {
                  "send": ("send_purchase_order", ORDER, SEND_IN, lambda po, body: orders.send_po(current_user, po)),
              })


# -- OpenAPI -----------------------------------------------------------------------------------

_READ = "any role; orders outside your library scope are not found"
_ORDER = "admin or purchasing_operator, within your library scope"
_TOTALS = {"type": "array", "items": ref("CurrencyTotal"),
           "description": "The net prices of the lines summed per currency."}

register_openapi(
    schemas={
        "CurrencyTotal": object_schema({"currency": STRING, "net_total": ref("Money")}),
        "PurchaseOrder": object_schema({
            "id": INTEGER, "number": {"type": "string", "examples": ["PO-000003"]},
            "vendor": {"type": "string", "description": "The vendor's code."},
            "owner_library": {"type": ["string", "null"], "description": "The owning library's code; null: the "
                                                                         "institution."},
            "status": {"type": "string", "enum": list(PurchaseOrder.STATUSES),
                       "description": "open: being packaged; sent; closed; cancelled."},
            "packaging": {"type": "string", "enum": ["auto", "manual"]}, "note": STRING,
            "lines": {"type": "array", "items": STRING, "description": "Its PO lines' numbers."},
            "totals": _TOTALS, "created_at": MOMENT, "created_by": NULLABLE_STRING, "sent_at": NULLABLE_MOMENT,
            "sent_by": NULLABLE_STRING, "closed_at": NULLABLE_MOMENT,
            "allowed_actions": {"type": "array", "items": {"type": "string", "enum": ["send"]},
                                "description": "send: an open order with lines being packaged."}},
            "A purchase order: the PO lines sent to one vendor together."),
        "PurchaseOrderPage": page_of("PurchaseOrder", "Purchase orders"),
        "PurchaseOrderSendInput": input_schema(SEND_IN, "Nothing to give."),
        "PackagePreview": object_schema({
            "ready": {"type": "string", "description": "Names this set of lines: send it back to confirm."},
            "line_count": INTEGER,
            "in_background": {"type": "boolean", "description": "Whether confirming starts a background run (many "
                                                                "lines) rather than answering with the orders."},
            "groups": {"type": "array", "items": object_schema({
                "vendor": STRING, "owner_library": NULLABLE_STRING, "lines": INTEGER, "totals": _TOTALS}),
                "description": "One purchase order per vendor and owner."},
            "totals": _TOTALS,
            "lines": {"type": "array", "items": STRING, "description": f"The first {PREVIEW_LINES} lines' numbers."}},
            "What \"Package and send\" would send: Ready lines marked for automatic packaging."),
        "PackageInput": input_schema(PACKAGE_IN, "The confirmation of the preview's set of lines."),
        "PackageResult": object_schema({
            "purchase_orders": {"type": "array", "items": STRING, "description": "The orders packaged and sent."},
            "run": {"type": ["integer", "null"], "description": "The background run (job package_orders)."},
            "started": {"type": "boolean", "description": "Whether this request started the run (false: one was "
                                                          "running already)."}}),
    },
    parameters={
        "PONumber": path_param("po_number", "The order's number, e.g. PO-000003 (or its id).", STRING),
        "POStatusFilter": query_param("status", {"type": "string", "enum": list(PurchaseOrder.STATUSES)},
                                      "Only orders in this status."),
        "POVendorFilter": query_param("vendor", STRING, "Only orders to the vendor with this code."),
        "POPerPage": per_page_param(MAX_PER_PAGE, DEFAULT_PER_PAGE),
    },
    paths={
        "/api/v1/purchase-orders": {
            "get": operation("listPurchaseOrders", "The purchase orders you can see, newest first, paged", _READ,
                             ("200", "PurchaseOrderPage", "One page of orders."), ("400", "404"),
                             params=("POStatusFilter", "POVendorFilter", "Page", "POPerPage")),
        },
        "/api/v1/purchase-orders/package": {
            "get": operation("previewPackaging", "Preview: the orders packaging the Ready lines would send", _ORDER,
                             ("200", "PackagePreview", "The preview.")),
            "post": operation("packageReadyLines", "Package and send the Ready lines the preview showed", _ORDER,
                              ("201", "PackageResult", "The orders packaged and sent (none when no line waited)."),
                              ("400", "409"), body="PackageInput",
                              note="409 (code ready_lines_changed): the Ready lines are not the set the preview "
                                   "showed; nothing was sent. Sending the same confirmation twice is refused the "
                                   "same way, so a retry cannot send twice.",
                              responses={"409": {"description": "The Ready lines changed since the preview (code "
                                                                "ready_lines_changed): nothing was sent.",
                                                 "content": {"application/json": {"schema": ref("Error")}}},
                                         "202": {"description": "Many lines: a background run packages them (see "
                                                                "the run on Monitor Jobs).",
                                                 "content": {"application/json": {"schema": ref("PackageResult")}}}}),
        },
        "/api/v1/purchase-orders/{po_number}": {
            "parameters": [param("PONumber")],
            "get": operation("getPurchaseOrder", "One purchase order with its lines' numbers and totals", _READ,
                             ("200", "PurchaseOrder", "The order."), ("404",), etag=True),
        },
        **action_paths("/api/v1/purchase-orders/{po_number}/actions", "PONumber", {
            "send": ("sendPurchaseOrder", "Send an open purchase order to its vendor: its lines are Sent", _ORDER,
                     "PurchaseOrderSendInput")}, ("200", "PurchaseOrder", "The order, sent.")),
    })
