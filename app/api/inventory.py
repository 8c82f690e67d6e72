"""API v1: bibliographic inventory — repository search, one record with its holdings and items
(those in the caller's library scope), and creating a record."""
from __future__ import annotations

from flask import request, url_for
from flask_login import current_user

from ..auth.permissions import roles_required
from ..inventory import services as inventory
from .base import (INTEGER, MOMENT, NULLABLE_DATE, NULLABLE_STRING, READ, STRING, bp, input_schema,
                   object_schema, operation, page_args, page_of, param, path_param, per_page_param, query_param,
                   ref, register_openapi, saved)
from .serializers import Field, iso_day, read_body, timestamp

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


def record_json(record, holdings=None) -> dict:
    data = {"id": record.id, "title": record.title, "author": record.author, "isbn": record.isbn,
            "issn": record.issn, "publisher": record.publisher, "publication_date": record.publication_date,
            "created_at": timestamp(record.created_at)}
    if holdings is not None:
        data["holdings"] = [holding_json(h) for h in holdings]
    return data


def holding_json(holding) -> dict:
    return {"id": holding.id, "library": holding.library.code, "location_code": holding.location_code,
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


@bp.get("/bib-records/<int:id>")
@roles_required(*READ)
def get_bib_record(id):  # noqa: A002 - the path parameter is {id}
    record = inventory.get_record(id)
    return record_json(record, inventory.visible_holdings(current_user, record))


@bp.post("/bib-records")
@roles_required(*EDIT)
def create_bib_record():
    record = inventory.create_record(current_user, inventory.RecordFields(**read_body(RECORD_IN)))
    return saved(record, lambda r: record_json(r, []), 201, lambda r: url_for("api.get_bib_record", id=r.id))


# -- OpenAPI -----------------------------------------------------------------------------------

_READ = "any role; holdings outside your library scope are left out"
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
        "Holding": object_schema({"id": INTEGER, "library": {"type": "string", "description": "The library's code."},
                                  "location_code": STRING, "location_name": STRING, "call_number": STRING,
                                  "items": {"type": "array", "items": ref("Item")}}),
        "BibRecord": object_schema(_RECORD, "A bibliographic record, shared by the whole institution."),
        "BibRecordWithHoldings": object_schema({
            **_RECORD, "holdings": {"type": "array", "items": ref("Holding"),
                                    "description": "Only the holdings of libraries in the caller's scope."}}),
        "BibRecordPage": page_of("BibRecord", "Records"),
        "BibRecordInput": input_schema(RECORD_IN, "A new bibliographic record."),
    },
    parameters={
        "BibRecordId": path_param("id", "The bibliographic record's id."),
        "BibRecordQuery": query_param("q", STRING, "Every word in the title (case-insensitive), or every word in the "
                                                   "author, or an exact ISBN/ISSN (hyphens and spaces ignored). Empty: "
                                                   "all records."),
        "BibRecordPerPage": per_page_param(MAX_PER_PAGE, inventory.PER_PAGE),
    },
    paths={
        "/api/v1/bib-records": {
            "get": operation("searchBibRecords", "Search the repository, by title", _READ,
                             ("200", "BibRecordPage", "One page of records."), ("400",),
                             params=("BibRecordQuery", "Page", "BibRecordPerPage")),
            "post": operation("createBibRecord", "Create a bibliographic record", "admin or purchasing_operator",
                              ("201", "BibRecordWithHoldings", "Created (Location: the record)."), ("400",),
                              body="BibRecordInput", location="The new record's URL."),
        },
        "/api/v1/bib-records/{id}": {
            "parameters": [param("BibRecordId")],
            "get": operation("getBibRecord", "One record with its holdings and items in your scope", _READ,
                             ("200", "BibRecordWithHoldings", "The record."), ("404",)),
        },
    })
