"""The OpenAPI 3.1 document of API v1, served at /api/v1/openapi.json.

Each API module registers its own paths and components (:func:`app.api.base.register_openapi`),
its request schemas made from the very field declarations its views read bodies with; this
module adds what they share (errors, money, paging, Idempotency-Key) and puts them together.
"""
from __future__ import annotations

import copy

from ..auth.permissions import roles_required
from ..text import english
from .base import (ERRORS, PARAMETERS, PATHS, READ, SCHEMAS, bp, object_schema, query_param, ref,
                   register_openapi)

API_VERSION = "1.0.0"

MONEY = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "examples": ["1234.50"],
         "description": "An exact amount as a decimal string, in the currency's minor unit."}

register_openapi(
    schemas={
        "Error": object_schema({"error": {
            "type": "object", "additionalProperties": False, "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "examples": ["invalid", "unauthorized", "forbidden", "not_found",
                                                        "duplicate", "precondition_failed", "precondition_required",
                                                        "rule_violation", "method_not_allowed"]},
                "message": {"type": "string", "description": "Meant for people."},
                "field": {"type": "string", "description": "The request field at fault, when there is one."}}}}),
        "Money": MONEY,
    },
    parameters={
        "Page": query_param("page", {"type": "integer", "minimum": 1, "default": 1}),
        "IfMatch": {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
                    "description": "Optional here: the ETag you read; when sent and the object changed since, "
                                   "the request is refused (412) and nothing changes."},
        "IfMatchRequired": {"name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"},
                            "description": "The ETag you read (from a GET, or the answer to your last change); "
                                           "412 when the object changed since, 428 when missing. `*` matches any "
                                           "version (overwrite on purpose)."},
        "IfNoneMatch": {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"},
                        "description": "An ETag you hold: 304 with no body when the object is unchanged."},
        "IdempotencyKey": {
            "name": "Idempotency-Key", "in": "header", "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[\x21-\x7e]+$"},
            "description": "Optional; a key you choose (a UUID, say) to send the request again safely. The first "
                           "request with it does the work and its answer is kept; a repeat with the same key (same "
                           "user, method, path and body) changes nothing and gets that answer again, with the "
                           "header Idempotent-Replayed: true. The same key with another request is refused (422, "
                           "code idempotency_key_reused). A refused request (4xx) is not kept: the key stays free."},
    },
    paths={
        "/api/v1/openapi.json": {
            "get": {"operationId": "getOpenAPIDocument", "summary": "This document", "description": "Roles: any role.",
                    "responses": {"200": {"description": "The OpenAPI 3.1 document.",
                                          "content": {"application/json": {"schema": {"type": "object"}}}},
                                  "401": {"$ref": "#/components/responses/Unauthorized"},
                                  "403": {"$ref": "#/components/responses/Forbidden"},
                                  "503": {"$ref": "#/components/responses/Busy"}}},
        },
    })


def _plain(value):
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return english(value)   # a Text's English, not its translation
    return copy.deepcopy(value)


def build_document() -> dict:
    """The whole document, from what the API modules have registered (a fresh copy each time, in
    English: a label that is a :class:`~app.text.Text` becomes its plain English string)."""
    return _plain({
        "openapi": "3.1.0",
        "info": {"title": "Library acquisitions and finance API", "version": API_VERSION,
                 "description": "Everything the pages do, for scripts: funds and their money, vendors, orders, "
                                "receiving, invoices, the ERP exchange and the year's rollover. Authenticate with "
                                "`Authorization: Bearer <token>` (a session cookie only opens this document). Money "
                                "travels as decimal strings such as \"1234.50\", never as JSON numbers; dates as "
                                "YYYY-MM-DD. Errors are `{\"error\": {\"code\", \"message\"}}`. Every answer "
                                "carrying one object has an `ETag`: send it back as `If-Match` to change the object "
                                "(PUT, PATCH and DELETE need it; 412 when someone changed it meanwhile). A POST that "
                                "creates something or moves money takes an optional `Idempotency-Key`, so a retry "
                                "after a lost answer does the work once. References to another object take its "
                                "code (a JSON string) or, where it has none, its id."},
        "security": [{"bearerAuth": []}],
        "paths": PATHS,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "An API token issued to a user."}},
            "schemas": SCHEMAS,
            "responses": {name: {"description": text, "content": {"application/json": {"schema": ref("Error")}}}
                          for name, text in ERRORS.values()},
            "parameters": PARAMETERS,
        },
    })


@bp.get("/openapi.json")
@roles_required(*READ)
def openapi_document():
    return build_document()

