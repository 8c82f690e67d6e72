"""API v1: bibliographic inventory — repository search, one record with its holdings and items
(those in the caller's library scope), and creating a record."""
from __future__ import annotations

from flask import jsonify, request, url_for
from flask_login import current_user

from ..auth.permissions import ALL_ROLES, roles_required
from ..inventory import services as inv
from . import serializers as ser
from .openapi import _input_schema, _object, _operation, _param, _ref
from .views import MAX_PAGE, _commit, _int_arg, bp

READ = ALL_ROLES
EDIT = inv.EDITORS
MAX_PER_PAGE = 100

RECORD_IN = {
    "title": ser.Field("str", "The title.", required=True, max_length=500),
    "author": ser.Field("str", "The author, e.g. \"Tolkien, J. R. R.\".", default="", max_length=300),
    "isbn": ser.Field("str", "An ISBN-10 or ISBN-13; hyphens and spaces are allowed.", default="", max_length=40),
    "issn": ser.Field("str", "An ISSN; hyphens are allowed.", default="", max_length=20),
    "publisher": ser.Field("str", "The publisher.", default="", max_length=300),
    "publication_date": ser.Field("str", "As printed, e.g. \"2019\" or \"c2019\".", default="", max_length=40),
}


def record_json(record, holdings=None) -> dict:
    data = {"id": record.id, "title": record.title, "author": record.author, "isbn": record.isbn,
            "issn": record.issn, "publisher": record.publisher, "publication_date": record.publication_date,
            "created_at": ser._timestamp(record.created_at)}
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
            "received_date": item.received_date.isoformat() if item.received_date else None}


@bp.get("/bib-records")
@roles_required(*READ)
def search_bib_records():
    page = _int_arg("page", 1, MAX_PAGE)
    per_page = _int_arg("per_page", inv.PER_PAGE, MAX_PER_PAGE)
    result = inv.search_records(request.args.get("q", ""), page, per_page)
    return {"items": [record_json(r) for r in result.items], "page": page, "per_page": per_page,
            "total": result.total}


@bp.get("/bib-records/<int:id>")
@roles_required(*READ)
def get_bib_record(id):  # noqa: A002 - the path parameter is {id}
    record = inv.get_record(id)
    return record_json(record, inv.visible_holdings(current_user, record))


@bp.post("/bib-records")
@roles_required(*EDIT)
def create_bib_record():
    body = ser.read_body(RECORD_IN)
    record = inv.create_record(current_user, inv.RecordFields(**body))
    _commit()
    resp = jsonify(record_json(record, []))
    resp.status_code = 201
    resp.headers["Location"] = url_for("api.get_bib_record", id=record.id)
    return resp


# -- OpenAPI -----------------------------------------------------------------------------------

STRING, INTEGER = {"type": "string"}, {"type": "integer"}
_NULLABLE_STRING = {"type": ["string", "null"]}

OPENAPI_SCHEMAS = {
    "Item": _object({"id": INTEGER, "barcode": _NULLABLE_STRING, "enumeration": STRING, "chronology": STRING,
                     "description": STRING,
                     "status": {"type": "string", "enum": ["not_in_place", "in_place", "in_work_order", "withdrawn"],
                                "description": "not_in_place: ordered, not received yet."},
                     "received_date": {"type": ["string", "null"], "format": "date"}}),
    "Holding": _object({"id": INTEGER, "library": {"type": "string", "description": "The library's code."},
                        "location_code": STRING, "location_name": STRING, "call_number": STRING,
                        "items": {"type": "array", "items": _ref("Item")}}),
    "BibRecord": _object({"id": INTEGER, "title": STRING, "author": STRING, "isbn": STRING, "issn": STRING,
                          "publisher": STRING, "publication_date": STRING,
                          "created_at": {"type": "string", "format": "date-time"}},
                         "A bibliographic record, shared by the whole institution."),
    "BibRecordWithHoldings": _object({
        "id": INTEGER, "title": STRING, "author": STRING, "isbn": STRING, "issn": STRING, "publisher": STRING,
        "publication_date": STRING, "created_at": {"type": "string", "format": "date-time"},
        "holdings": {"type": "array", "items": _ref("Holding"),
                     "description": "Only the holdings of libraries in the caller's scope."}}),
    "BibRecordPage": _object({"items": {"type": "array", "items": _ref("BibRecord")},
                              "page": INTEGER, "per_page": INTEGER,
                              "total": {"type": "integer", "description": "Records over all pages."}}),
    "BibRecordInput": _input_schema(RECORD_IN, "A new bibliographic record."),
}

OPENAPI_PARAMETERS = {
    "BibRecordId": {"name": "id", "in": "path", "required": True, "schema": INTEGER,
                    "description": "The bibliographic record's id."},
    "BibRecordQuery": {"name": "q", "in": "query", "required": False, "schema": STRING,
                       "description": "Every word in the title (case-insensitive), or every word in the author, "
                                      "or an exact ISBN/ISSN (hyphens and spaces ignored). Empty: all records."},
    "BibRecordPerPage": {"name": "per_page", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                                    "default": inv.PER_PAGE}},
}

_READ = "any role; holdings outside your library scope are left out"
_EDIT = "admin or purchasing_operator"

_create = _operation("createBibRecord", "Create a bibliographic record", _EDIT,
                     ("201", "BibRecordWithHoldings", "Created (Location: the record)."), ("400",),
                     body="BibRecordInput")
_create["responses"]["201"]["headers"] = {"Location": {"description": "The new record's URL.",
                                                       "schema": {"type": "string"}}}

OPENAPI_PATHS = {
    "/api/v1/bib-records": {
        "get": _operation("searchBibRecords", "Search the repository, by title", _READ,
                          ("200", "BibRecordPage", "One page of records."), ("400",),
                          params=("BibRecordQuery", "Page", "BibRecordPerPage")),
        "post": _create,
    },
    "/api/v1/bib-records/{id}": {
        "parameters": [_param("BibRecordId")],
        "get": _operation("getBibRecord", "One record with its holdings and items in your scope", _READ,
                          ("200", "BibRecordWithHoldings", "The record."), ("404",)),
    },
}
