"""API v1: bibliographic inventory — repository search, one record with its holdings and items
(those in the caller's library scope), creating and editing a record, adding holdings and items,
receiving an item (the inventory pages' services and rules). Binding work orders: :mod:`.inventory_binding`.

Records are the institution's (any administrator or purchasing operator edits them); holdings and
items are their library's: one out of the caller's scope is not found (404), one in the scope of a
role that may not change it is refused (403), as on the pages."""
from __future__ import annotations

from flask import request, url_for
from flask_login import current_user

from ..auth.permissions import roles_required
from ..idempotency import idempotent
from ..inventory import services as inventory
from .base import (INTEGER, MOMENT, NULLABLE_DATE, NULLABLE_STRING, READ, STRING, action_paths, action_routes, bp,
                   check_match, input_schema, object_schema, one, operation, page_args, page_of, param, patch_schema,
                   path_param, per_page_param, query_param, ref, register_openapi, saved)
from .serializers import Field, iso_day, read_body, read_patch, timestamp

EDIT = inventory.EDITORS
MAX_PER_PAGE = 100

RECORD_IN = {
    "title": Field("str", "The title.", required=True, max_length=500),
    "author": Field("str", "The author, e.g. \"Tolkien, J. R. R.\".", default="", max_length=300),
    "isbn": Field("str", "An ISBN-10 or ISBN-13; hyphens and spaces are allowed.", default="", max_length=40),
    "issn": Field("str", "An ISSN; hyphens are allowed.", default="", max_length=20),
    "publisher": Field("str", "The publisher.", default="", max_length=300),
    "publication_date": Field("str", "As printed, e.g. \"2019\" or \"c2019\".", default="", max_length=40),
}
HOLDING_IN = {
    "library": Field("str", "The code of the library the holding belongs to (one you may change).", required=True),
    "location_code": Field("str", "The location's code.", required=True, max_length=40),
    "location_name": Field("str", "The location's name.", default="", max_length=200),
    "call_number": Field("str", "The call number.", default="", max_length=100),
}
ITEM_IN = {
    "barcode": Field("str", "A barcode, unique; null or absent: none yet.", nullable=True, max_length=60),
    "enumeration": Field("str", "E.g. \"v.1 no.2\".", default="", max_length=100),
    "chronology": Field("str", "E.g. \"2026 Nov\".", default="", max_length=100),
    "description": Field("str", "A description.", default="", max_length=500),
}
RECEIVE_IN = {"received_date": Field("date", "The day it arrived (YYYY-MM-DD); default: today.")}


def record_json(record, holdings=None) -> dict:
    data = {"id": record.id, "title": record.title, "author": record.author, "isbn": record.isbn,
            "issn": record.issn, "publisher": record.publisher, "publication_date": record.publication_date,
            "created_at": timestamp(record.created_at)}
    if holdings is not None:
        data["holdings"] = [holding_json(h) for h in holdings]
    return data


def holding_json(holding) -> dict:
    return {"id": holding.id, "bib_record_id": holding.bib_record_id, "library": holding.library.code,
            "location_code": holding.location_code,
            "location_name": holding.location_name, "call_number": holding.call_number,
            "items": [item_json(i) for i in holding.items]}


def item_json(item) -> dict:
    return {"id": item.id, "barcode": item.barcode, "enumeration": item.enumeration,
            "chronology": item.chronology, "description": item.description, "status": item.status,
            "received_date": iso_day(item.received_date)}


@bp.get("/bib-records")
@roles_required(*READ)
def search_bib_records():
    page = page_args(inventory.PER_PAGE, MAX_PER_PAGE)
    return page.answer(inventory.search_records(request.args.get("q", ""), page.number, page.size), record_json)


def _record_json(record) -> dict:
    """A record as the caller sees it: with the holdings and items in their scope."""
    return record_json(record, inventory.visible_holdings(current_user, record))


@bp.get("/bib-records/<int:id>")
@roles_required(*READ)
def get_bib_record(id):  # noqa: A002 - the path parameter is {id}
    return one(inventory.get_record(id), _record_json)


@bp.post("/bib-records")
@roles_required(*EDIT)
@idempotent
def create_bib_record():
    record = inventory.create_record(current_user, inventory.RecordFields(**read_body(RECORD_IN)))
    return saved(record, lambda r: record_json(r, []), 201, lambda r: url_for("api.get_bib_record", id=r.id))


@bp.patch("/bib-records/<int:id>")
@roles_required(*EDIT)
def patch_bib_record(id):  # noqa: A002 - the path parameter is {id}
    """The record edit page: the fields sent change, the others stay."""
    record = inventory.get_record(id)
    check_match(record, _record_json)
    body = read_patch(RECORD_IN, {name: getattr(record, name) for name in RECORD_IN})
    inventory.update_record(current_user, record, inventory.RecordFields(**body))
    return saved(record, _record_json)


@bp.post("/bib-records/<int:id>/holdings")
@roles_required(*EDIT)
@idempotent
def create_holding(id):  # noqa: A002 - the path parameter is {id}
    record = inventory.get_record(id)
    body = read_body(HOLDING_IN)
    holding = inventory.add_holding(current_user, record, inventory.get_library(body["library"]),
                                    body["location_code"], body["location_name"], body["call_number"])
    return saved(holding, holding_json, 201, lambda h: url_for("api.get_holding", id=h.id))


@bp.get("/holdings/<int:id>")
@roles_required(*READ)
def get_holding(id):  # noqa: A002 - the path parameter is {id}
    return one(inventory.get_holding(current_user, id), holding_json)


@bp.post("/holdings/<int:id>/items")
@roles_required(*EDIT)
@idempotent
def create_item(id):  # noqa: A002 - the path parameter is {id}
    holding = inventory.get_holding(current_user, id)
    body = read_body(ITEM_IN)
    item = inventory.add_item(current_user, holding, body["barcode"], body["enumeration"], body["chronology"],
                              body["description"])
    return saved(item, item_json, 201, lambda i: url_for("api.get_item", id=i.id))


@bp.get("/items/<int:id>")
@roles_required(*READ)
def get_item(id):  # noqa: A002 - the path parameter is {id}
    return one(inventory.get_item(current_user, id), item_json)


action_routes("/items/<int:id>/actions", lambda id: inventory.get_item(current_user, id), item_json, {
    "receive": ("receive_item", EDIT, RECEIVE_IN,
                lambda item, body: inventory.receive_item(current_user, item, body["received_date"])),
})


# -- OpenAPI -----------------------------------------------------------------------------------

_READ = "any role; holdings outside your library scope are left out"
_READ_ONE = "any role; outside your library scope it is not found"
_EDIT_RECORDS = "admin or purchasing_operator"
_EDIT_LIBRARY = "admin or purchasing_operator of the holding's library"
_KEY_REUSED = "422: the Idempotency-Key was used for another request."
_RECORD = {"id": INTEGER, "title": STRING, "author": STRING, "isbn": STRING, "issn": STRING, "publisher": STRING,
           "publication_date": STRING, "created_at": MOMENT}

register_openapi(
    schemas={
        "Item": object_schema({
            "id": INTEGER, "barcode": NULLABLE_STRING, "enumeration": STRING, "chronology": STRING,
            "description": STRING,
            "status": {"type": "string", "enum": ["not_in_place", "in_place", "in_work_order", "withdrawn"],
                       "description": "not_in_place: ordered, not received yet."},
            "received_date": NULLABLE_DATE}),
        "Holding": object_schema({"id": INTEGER, "bib_record_id": INTEGER,
                                  "library": {"type": "string", "description": "The library's code."},
                                  "location_code": STRING, "location_name": STRING, "call_number": STRING,
                                  "items": {"type": "array", "items": ref("Item")}}),
        "BibRecord": object_schema(_RECORD, "A bibliographic record, shared by the whole institution."),
        "BibRecordWithHoldings": object_schema({
            **_RECORD, "holdings": {"type": "array", "items": ref("Holding"),
                                    "description": "Only the holdings of libraries in the caller's scope."}}),
        "BibRecordPage": page_of("BibRecord", "Records"),
        "BibRecordInput": input_schema(RECORD_IN, "A new bibliographic record."),
        "BibRecordPatch": patch_schema(RECORD_IN, "Some of the record's fields; those not sent stay as they are."),
        "HoldingInput": input_schema(HOLDING_IN, "A new holding of the record in a library."),
        "ItemInput": input_schema(ITEM_IN, "A new item of the holding, not in place until it is received."),
        "ItemReceiveInput": input_schema(RECEIVE_IN, "When it arrived."),
    },
    parameters={
        "BibRecordId": path_param("id", "The bibliographic record's id."),
        "BibRecordQuery": query_param("q", STRING, "Every word in the title (case-insensitive), or every word in the "
                                                   "author, or an exact ISBN/ISSN (hyphens and spaces ignored). Empty: "
                                                   "all records."),
        "BibRecordPerPage": per_page_param(MAX_PER_PAGE, inventory.PER_PAGE),
        "HoldingId": path_param("id", "The holding's id."),
        "ItemId": path_param("id", "The item's id."),
    },
    paths={
        "/api/v1/bib-records": {
            "get": operation("searchBibRecords", "Search the repository, by title", _READ,
                             ("200", "BibRecordPage", "One page of records."), ("400",),
                             params=("BibRecordQuery", "Page", "BibRecordPerPage")),
            "post": operation("createBibRecord", "Create a bibliographic record", _EDIT_RECORDS,
                              ("201", "BibRecordWithHoldings", "Created (Location: the record)."), ("400", "422"),
                              body="BibRecordInput", location="The new record's URL.", idempotent=True,
                              note=_KEY_REUSED),
        },
        "/api/v1/bib-records/{id}": {
            "parameters": [param("BibRecordId")],
            "get": operation("getBibRecord", "One record with its holdings and items in your scope", _READ,
                             ("200", "BibRecordWithHoldings", "The record."), ("404",), etag=True),
            "patch": operation("patchBibRecord", "Change some of a record's fields (the record edit page)",
                               _EDIT_RECORDS, ("200", "BibRecordWithHoldings", "Saved."), ("400", "404"),
                               body="BibRecordPatch", if_match="required", note="Only the fields sent change."),
        },
        "/api/v1/bib-records/{id}/holdings": {
            "parameters": [param("BibRecordId")],
            "post": operation("createHolding", "Add a holding to a record", _EDIT_LIBRARY,
                              ("201", "Holding", "Created (Location: the holding)."), ("400", "404", "422"),
                              body="HoldingInput", location="The new holding's URL.", idempotent=True,
                              note="403: the library is not one whose inventory you may change. " + _KEY_REUSED),
        },
        "/api/v1/holdings/{id}": {
            "parameters": [param("HoldingId")],
            "get": operation("getHolding", "One holding with its items", _READ_ONE, ("200", "Holding", "The holding."),
                             ("404",), etag=True),
        },
        "/api/v1/holdings/{id}/items": {
            "parameters": [param("HoldingId")],
            "post": operation("createItem", "Add an item to a holding", _EDIT_LIBRARY,
                              ("201", "Item", "Created (Location: the item)."), ("400", "404", "409", "422"),
                              body="ItemInput", location="The new item's URL.", idempotent=True,
                              note="409: the barcode is another item's. " + _KEY_REUSED),
        },
        "/api/v1/items/{id}": {
            "parameters": [param("ItemId")],
            "get": operation("getItem", "One item", _READ_ONE, ("200", "Item", "The item."), ("404",), etag=True),
        },
        **action_paths("/api/v1/items/{id}/actions", "ItemId", {
            "receive": ("receiveItem", "Receive an ordered item: in place, received on the day given", _EDIT_LIBRARY,
                        "ItemReceiveInput")}, ("200", "Item", "The received item.")),
    })
