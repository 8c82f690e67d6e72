"""API v1: binding work orders — bind received items of a holding into one new item (a work order is
opened), the work orders in the caller's scope, one work order, and marking one done: by its id, or
by scanning the bound item's barcode when it comes back from the bindery (the binding pages' services)."""
from __future__ import annotations

from flask import url_for
from flask_login import current_user

from ..auth.permissions import roles_required
from ..idempotency import idempotent
from ..inventory import services as inventory
from .base import (INTEGER, MOMENT, NULLABLE_DATE, NULLABLE_MOMENT, NULLABLE_STRING, READ, STRING, action_paths,
                   action_routes, bp, choice_arg, input_schema, object_schema, one, operation, page_args, page_of,
                   param, path_param, per_page_param, query_param, ref, register_openapi, saved)
from .inventory import EDIT, item_json
from .serializers import Field, iso_day, read_body, timestamp

MAX_PER_PAGE, PER_PAGE = 100, 25
STATUSES = ("open", "done")

BIND_IN = {
    "items": Field("int_list", "The ids of the items to bind: at least two received items in place, all of this "
                               "holding.", required=True),
    "barcode": Field("str", "The bound item's barcode (a bound item's own may be reused); null: none yet.",
                     nullable=True, max_length=60),
    "enumeration": Field("str", "The bound item's enumeration, e.g. \"v.12\".", default="", max_length=100),
    "chronology": Field("str", "The bound item's chronology, e.g. \"2025\".", default="", max_length=100),
    "description": Field("str", "The bound item's description.", default="", max_length=500),
    "note": Field("str", "A note for the bindery.", default=""),
}
DONE_IN = {"received_date": Field("date", "The day the bound item came back (YYYY-MM-DD); default: today.")}
SCAN_IN = {"barcode": Field("str", "The bound item's barcode, as scanned.", required=True, max_length=60),
           **DONE_IN}


def _user_name(user) -> str | None:
    return user.username if user is not None else None


def work_order_json(wo) -> dict:
    return {"id": wo.id, "number": wo.number, "kind": wo.kind, "status": wo.status, "holding_id": wo.holding_id,
            "library": wo.holding.library.code, "bib_record_id": wo.holding.bib_record_id,
            "new_item": item_json(wo.new_item) if wo.new_item is not None else None,
            "bound_items": [{"former_item_id": b.former_item_id, "barcode": b.barcode, "enumeration": b.enumeration,
                             "chronology": b.chronology, "description": b.description,
                             "received_date": iso_day(b.received_date),
                             "po_line": b.po_line.number if b.po_line is not None else None}
                            for b in wo.bound_items],
            "note": wo.note, "created_at": timestamp(wo.created_at), "created_by": _user_name(wo.created_by),
            "done_at": timestamp(wo.done_at), "done_by": _user_name(wo.done_by)}


@bp.post("/holdings/<int:id>/work-orders")
@roles_required(*EDIT)
@idempotent
def bind_items(id):  # noqa: A002 - the path parameter is {id}
    holding = inventory.get_holding(current_user, id)
    body = read_body(BIND_IN)
    items = inventory.get_items(current_user, body["items"])   # an id out of your scope is not found, as on the page
    work_order = inventory.bind_items(current_user, holding, items, body["barcode"], body["enumeration"],
                                      body["chronology"], body["description"], body["note"])
    return saved(work_order, work_order_json, 201, lambda wo: url_for("api.get_work_order", id=wo.id))


@bp.get("/work-orders")
@roles_required(*READ)
def list_work_orders():
    page = page_args(PER_PAGE, MAX_PER_PAGE)
    status = choice_arg("status", STATUSES)
    return page.of(inventory.work_orders_query(current_user, status), work_order_json)


@bp.get("/work-orders/<int:id>")
@roles_required(*READ)
def get_work_order(id):  # noqa: A002 - the path parameter is {id}
    return one(inventory.get_work_order(current_user, id), work_order_json)


action_routes("/work-orders/<int:id>/actions", lambda id: inventory.get_work_order(current_user, id),
              work_order_json, {
                  "done": ("complete_work_order", EDIT, DONE_IN,
                           lambda wo, body: inventory.complete_work_order(current_user, wo, body["received_date"])),
              })


@bp.post("/work-orders/actions/scan")
@roles_required(*EDIT)
@idempotent
def scan_work_order():
    """A bound item back from the bindery: its barcode marks its work order done."""
    body = read_body(SCAN_IN)
    work_order = inventory.find_work_order_by_barcode(current_user, body["barcode"])
    inventory.complete_work_order(current_user, work_order, body["received_date"])
    return saved(work_order, work_order_json)


# -- OpenAPI -----------------------------------------------------------------------------------

_READ = "any role; work orders of holdings outside your library scope are not found"
_EDIT = "admin or purchasing_operator of the holding's library"

register_openapi(
    schemas={
        "WorkOrder": object_schema({
            "id": INTEGER, "number": {"type": "string", "examples": ["WO-12"]},
            "kind": {"type": "string", "enum": ["binding"]}, "status": {"type": "string", "enum": list(STATUSES)},
            "holding_id": INTEGER, "library": {"type": "string", "description": "The holding's library's code."},
            "bib_record_id": INTEGER,
            "new_item": {"oneOf": [ref("Item"), {"type": "null"}],
                         "description": "The bound item: in the work order until done, then in place."},
            "bound_items": {"type": "array", "items": object_schema({
                "former_item_id": INTEGER, "barcode": NULLABLE_STRING, "enumeration": STRING, "chronology": STRING,
                "description": STRING, "received_date": NULLABLE_DATE,
                "po_line": {"type": ["string", "null"], "description": "The number of the order line it came by."}}),
                "description": "What the bound items were (they are deleted when the work order opens)."},
            "note": STRING, "created_at": MOMENT, "created_by": NULLABLE_STRING, "done_at": NULLABLE_MOMENT,
            "done_by": NULLABLE_STRING}, "A binding work order."),
        "WorkOrderPage": page_of("WorkOrder", "Work orders"),
        "WorkOrderInput": input_schema(BIND_IN, "Bind items of the holding into one new item: the items are deleted "
                                                "(the work order keeps what they were)."),
        "WorkOrderDoneInput": input_schema(DONE_IN, "The bound item is back: in place, received on that day."),
        "WorkOrderScanInput": input_schema(SCAN_IN, "The bound item's barcode, scanned when it comes back."),
    },
    parameters={
        "WorkOrderId": path_param("id", "The work order's id (the number without WO-)."),
        "WorkOrderStatusFilter": query_param("status", {"type": "string", "enum": list(STATUSES)},
                                             "open: oldest first; done: most recently done first; none: every work "
                                             "order, newest first."),
        "WorkOrderPerPage": per_page_param(MAX_PER_PAGE, PER_PAGE),
    },
    paths={
        "/api/v1/holdings/{id}/work-orders": {
            "parameters": [param("HoldingId")],
            "post": operation("bindItems", "Bind items of a holding into one new item (opens a work order)", _EDIT,
                              ("201", "WorkOrder", "Opened (Location: the work order)."), ("400", "404", "409", "422"),
                              body="WorkOrderInput", location="The work order's URL.", idempotent=True,
                              note="404: the holding or an item is not one you can see. 409: the barcode is another "
                                   "item's. 422: an item is not received and in place, or of another holding."),
        },
        "/api/v1/work-orders": {
            "get": operation("listWorkOrders", "The binding work orders you can see, paged", _READ,
                             ("200", "WorkOrderPage", "One page of work orders."), ("400",),
                             params=("WorkOrderStatusFilter", "Page", "WorkOrderPerPage")),
        },
        "/api/v1/work-orders/{id}": {
            "parameters": [param("WorkOrderId")],
            "get": operation("getWorkOrder", "One work order with what was bound", _READ,
                             ("200", "WorkOrder", "The work order."), ("404",), etag=True),
        },
        **action_paths("/api/v1/work-orders/{id}/actions", "WorkOrderId", {
            "done": ("completeWorkOrder", "Mark a work order done: the bound item is back, in place", _EDIT,
                     "WorkOrderDoneInput")}, ("200", "WorkOrder", "The work order, done.")),
        "/api/v1/work-orders/actions/scan": {
            "post": operation("scanWorkOrder", "Mark done the work order of a bound item, by its barcode", _EDIT,
                              ("200", "WorkOrder", "The work order, done."), ("400", "404", "422"),
                              body="WorkOrderScanInput", idempotent=True,
                              note="404: no work order you can see binds an item with that barcode. 422: it is "
                                   "done already."),
        },
    })
