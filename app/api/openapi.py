"""The OpenAPI 3.1 document of API v1, built as a plain dict (served at /api/v1/openapi.json).

Request schemas come from the field declarations in :mod:`app.api.serializers` (the very ones the
views read bodies with); response schemas are written out here and the tests check real
responses against them.
"""
from __future__ import annotations

import copy

from .serializers import FISCAL_PERIOD_IN, FUND_IN, LEDGER_IN, TRANSACTION_IN, Field

API_VERSION = "1.0.0"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


MONEY = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "examples": ["1234.50"],
         "description": "An exact amount as a decimal string, in the currency's minor unit."}
DECIMAL_IN = {"type": "string", "pattern": r"^\s*[+-]?\d{1,15}(\.\d+)?\s*$", "examples": ["250.00"],
              "description": "A decimal string. JSON numbers are refused (400)."}
CODE_OR_NULL = {"type": ["string", "null"]}


def _field_schema(f: Field) -> dict:
    if f.kind == "bool":
        schema = {"type": "boolean"}
    elif f.kind == "date":
        schema = {"type": "string", "format": "date"}
    elif f.kind == "decimal":
        schema = dict(DECIMAL_IN)
    elif f.kind == "ref":
        schema = {"oneOf": [{"type": "integer", "minimum": 1, "description": "an id"},
                            {"type": "string", "minLength": 1, "description": "a code"}]}
    elif f.kind == "str_list":
        schema = {"type": "array", "items": {"type": "string"}}
    elif f.kind == "enum":
        schema = {"type": "string", "enum": list(f.choices)}
    else:
        schema = {"type": "string"}
        if f.max_length:
            schema["maxLength"] = f.max_length
    if f.nullable:
        if "oneOf" in schema:
            schema["oneOf"].append({"type": "null"})
        else:
            schema["type"] = [schema["type"], "null"]
    if f.description:
        schema["description"] = f.description
    if f.default is not None:
        schema["default"] = list(f.default) if isinstance(f.default, tuple) else f.default
    return schema


def _input_schema(spec: dict[str, Field], description: str) -> dict:
    return {"type": "object", "description": description, "additionalProperties": False,
            "required": [name for name, f in spec.items() if f.required],
            "properties": {name: _field_schema(f) for name, f in spec.items()}}


def _object(properties: dict, description: str = "") -> dict:
    schema = {"type": "object", "additionalProperties": False, "required": list(properties),
              "properties": properties}
    if description:
        schema["description"] = description
    return schema


def _list_of(name: str) -> dict:
    return _object({"items": {"type": "array", "items": _ref(name)}})


STRING, INTEGER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
DATE = {"type": "string", "format": "date"}
STATUS = {"type": "string", "enum": ["active", "inactive"]}

SCHEMAS = {
    "Error": _object({"error": {
        "type": "object", "additionalProperties": False, "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "examples": ["invalid", "unauthorized", "forbidden", "not_found",
                                                    "duplicate", "rule_violation", "method_not_allowed"]},
            "message": {"type": "string", "description": "Meant for people."},
            "field": {"type": "string", "description": "The request field at fault, when there is one."}}}}),
    "Money": MONEY,
    "Balances": _object({"allocated": _ref("Money"), "encumbered": _ref("Money"), "expended": _ref("Money"),
                         "available": _ref("Money")},
                        "available = allocated - encumbered - expended. For a summary fund: the sum over the "
                        "allocated funds below it that the caller can see."),
    "FiscalPeriod": _object({"id": INTEGER, "code": STRING, "name": STRING, "start_date": DATE,
                             "end_date": DATE, "status": STATUS}),
    "Ledger": _object({"id": INTEGER, "code": STRING, "name": STRING,
                       "fiscal_period": {"type": "string", "description": "The fiscal period's code."},
                       "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                       "owner": {"type": ["string", "null"], "description": "Owning library's code; null: the "
                                                                            "institution."},
                       "available_to_all": BOOLEAN, "libraries": {"type": "array", "items": STRING},
                       "status": STATUS, "notes": STRING}),
    "Fund": _object({"id": INTEGER, "code": STRING, "name": STRING,
                     "fiscal_period": {"type": "string", "description": "The fiscal period's code."},
                     "ledger": {"type": "string", "description": "The ledger's code."}, "ledger_id": INTEGER,
                     "parent": {"type": ["string", "null"], "description": "The parent summary fund's code."},
                     "parent_id": {"type": ["integer", "null"]},
                     "type": {"type": "string", "enum": ["allocated", "summary"]}, "status": STATUS,
                     "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}, "external_id": STRING,
                     "fund_type": CODE_OR_NULL, "notes": STRING,
                     "owner": {"type": ["string", "null"], "description": "Owning library's code (the ledger's "
                                                                          "owner); null: the institution."},
                     "available_to_all": BOOLEAN, "libraries": {"type": "array", "items": STRING},
                     "overencumbrance_allowed": BOOLEAN,
                     "overencumbrance_limit_percent": {"type": "string", "pattern": r"^\d+\.\d{2}$"},
                     "overexpenditure_allowed": BOOLEAN, "overexpenditure_limit": _ref("Money"),
                     "balances": _ref("Balances")}),
    "Transaction": _object({
        "id": INTEGER, "fund": {"type": "integer", "description": "The fund's id."},
        "type": {"type": "string", "enum": ["allocation", "transfer", "encumbrance", "disencumbrance",
                                            "expenditure"]},
        "amount": _ref("Money"), "currency": STRING, "date": DATE, "reference": STRING, "note": STRING,
        "actor": {"type": ["string", "null"], "description": "User name of whoever posted it."},
        "transfer_id": {"type": ["string", "null"], "description": "Shared by the two legs of a transfer."},
        "counterpart_fund": {"type": ["integer", "null"], "description": "The other fund of a transfer."},
        "created_at": {"type": "string", "format": "date-time"}}),
    "FiscalPeriodList": _list_of("FiscalPeriod"),
    "LedgerList": _list_of("Ledger"),
    "FundList": _list_of("Fund"),
    "TransactionList": _list_of("Transaction"),
    "TransactionPage": _object({"items": {"type": "array", "items": _ref("Transaction")},
                                "page": INTEGER, "per_page": INTEGER,
                                "total": {"type": "integer", "description": "Rows over all pages."}}),
    "FiscalPeriodInput": _input_schema(FISCAL_PERIOD_IN, "A new fiscal period; dates must not overlap another's."),
    "LedgerInput": _input_schema(LEDGER_IN, "A new ledger."),
    "FundInput": _input_schema(FUND_IN, "A new fund."),
    "TransactionInput": _input_schema(TRANSACTION_IN, "An allocation or a transfer from this fund."),
}

_ERRORS = {
    "400": ("BadRequest", "Invalid input: malformed or unknown/missing field, bad value (code invalid)."),
    "401": ("Unauthorized", "No valid bearer token (code unauthorized)."),
    "403": ("Forbidden", "Your roles or library scope do not allow it (code forbidden)."),
    "404": ("NotFound", "No such object, or not one you can see (code not_found)."),
    "409": ("Conflict", "The code is already used (code duplicate)."),
    "422": ("Unprocessable", "A rule refused it, e.g. over a fund's limit (code rule_violation)."),
    "503": ("Busy", "The database is busy; nothing was done. Try again after Retry-After seconds (code busy)."),
}
RESPONSES = {name: {"description": text, "content": {"application/json": {"schema": _ref("Error")}}}
             for name, text in _ERRORS.values()}

PARAMETERS = {
    "FundId": {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"},
               "description": "The fund's id."},
    "FiscalPeriodFilter": {"name": "fiscal_period", "in": "query", "required": False, "schema": STRING,
                           "description": "Only rows of the fiscal period with this code."},
    "Page": {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1,
                                                                          "default": 1}},
    "PerPage": {"name": "per_page", "in": "query", "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
    "TransactionType": {"name": "type", "in": "query", "required": False,
                        "schema": SCHEMAS["Transaction"]["properties"]["type"]},
    "Since": {"name": "since", "in": "query", "required": False, "schema": DATE,
              "description": "Transactions dated on or after this day."},
    "Until": {"name": "until", "in": "query", "required": False, "schema": DATE,
              "description": "Transactions dated on or before this day."},
    "IdempotencyKey": {"name": "Idempotency-Key", "in": "header", "required": False,
                       "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[\x21-\x7e]+$"},
                       "description": "Optional; a key you choose (a UUID, say) to send the request again safely. "
                                      "The first request with it does the work and its answer is kept; a repeat "
                                      "with the same key (same user, method, path and body) changes nothing and "
                                      "gets that answer again, with the header Idempotent-Replayed: true. The same "
                                      "key with another request is refused (422, code idempotency_key_reused). "
                                      "A refused request (4xx) is not kept: the key stays free."},
}

# The POSTs that honour Idempotency-Key (the views decorated with app.idempotency.idempotent).
IDEMPOTENT_POSTS = ("/api/v1/funds/{id}/transactions", "/api/v1/invoices", "/api/v1/invoices/{id}/actions/",
                    "/api/v1/po-lines", "/api/v1/po-lines/{number}/actions/")


def _with_idempotency_keys(paths: dict) -> dict:
    paths = copy.deepcopy(paths)  # the domains' path items are module constants
    for path, item in paths.items():
        op = item.get("post")
        if op and any(path == p or (p.endswith("/") and path.startswith(p)) for p in IDEMPOTENT_POSTS):
            op.setdefault("parameters", []).append(_param("IdempotencyKey"))
    return paths


def _param(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


def _operation(op_id: str, summary: str, roles: str, ok: tuple[str, str, str], errors=(), body: str | None = None,
               params=()) -> dict:
    status, schema, text = ok
    op = {"operationId": op_id, "summary": summary, "description": f"Roles: {roles}.",
          "responses": {status: {"description": text,
                                 "content": {"application/json": {"schema": _ref(schema)}}},
                        **{code: {"$ref": f"#/components/responses/{_ERRORS[code][0]}"}
                           for code in ("401", "403", *errors, "503")}}}
    if status == "201" and schema == "Fund":
        op["responses"][status]["headers"] = {"Location": {"description": "The new fund's URL.",
                                                           "schema": {"type": "string"}}}
    if params:
        op["parameters"] = [_param(p) for p in params]
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    return op


READ = "any role; rows outside your library scope are not found"
MANAGE = "admin or fund_manager, within your library scope"


def build_document() -> dict:
    paths = {
        "/api/v1/fiscal-periods": {
            "get": _operation("listFiscalPeriods", "List fiscal periods, latest first", READ,
                              ("200", "FiscalPeriodList", "The fiscal periods.")),
            "post": _operation("createFiscalPeriod", "Create a fiscal period", "admin or an institution-wide "
                               "fund_manager", ("201", "FiscalPeriod", "Created."), ("400", "409", "422"),
                               body="FiscalPeriodInput"),
        },
        "/api/v1/ledgers": {
            "get": _operation("listLedgers", "List the ledgers you can see", READ,
                              ("200", "LedgerList", "The ledgers."), ("404",), params=("FiscalPeriodFilter",)),
            "post": _operation("createLedger", "Create a ledger", MANAGE, ("201", "Ledger", "Created."),
                               ("400", "404", "409", "422"), body="LedgerInput"),
        },
        "/api/v1/funds": {
            "get": _operation("listFunds", "List the funds you can see, with balances", READ,
                              ("200", "FundList", "The funds."), ("404",), params=("FiscalPeriodFilter",)),
            "post": _operation("createFund", "Create a fund", MANAGE, ("201", "Fund", "Created (Location: the fund)."),
                               ("400", "404", "409", "422"), body="FundInput"),
        },
        "/api/v1/funds/{id}": {
            "parameters": [_param("FundId")],
            "get": _operation("getFund", "One fund with its balances", READ, ("200", "Fund", "The fund."),
                              ("404",)),
        },
        "/api/v1/funds/{id}/transactions": {
            "parameters": [_param("FundId")],
            "get": _operation("listFundTransactions", "A fund's transactions, oldest first, paged", READ,
                              ("200", "TransactionPage", "One page of transactions."), ("400", "404"),
                              params=("Page", "PerPage", "TransactionType", "Since", "Until")),
            "post": _operation("postFundTransaction", "Allocate to the fund, or transfer from it", MANAGE,
                               ("201", "TransactionList", "The transaction, or both legs of a transfer."),
                               ("400", "404", "422"), body="TransactionInput"),
        },
        "/api/v1/openapi.json": {
            "get": {"operationId": "getOpenAPIDocument", "summary": "This document",
                    "description": "Roles: any role.",
                    "responses": {"200": {"description": "The OpenAPI 3.1 document.",
                                          "content": {"application/json": {"schema": {"type": "object"}}}},
                                  "401": {"$ref": "#/components/responses/Unauthorized"}}},
        },
    }
    schemas, parameters = copy.deepcopy(SCHEMAS), copy.deepcopy(PARAMETERS)
    from . import inventory, invoices, orders, vendors  # each later domain contributes its own paths and components
    for module in (vendors, inventory, orders, invoices):
        paths.update(getattr(module, "OPENAPI_PATHS", {}))
        schemas.update(getattr(module, "OPENAPI_SCHEMAS", {}))
        parameters.update(getattr(module, "OPENAPI_PARAMETERS", {}))
    return {
        "openapi": "3.1.0",
        "info": {"title": "Library acquisitions and finance API", "version": API_VERSION,
                 "description": "Fiscal periods, ledgers, funds and fund money. Authenticate with "
                                "`Authorization: Bearer <token>` (a session cookie is not accepted). Money "
                                "travels as decimal strings such as \"1234.50\", never as JSON numbers. Errors "
                                "are `{\"error\": {\"code\", \"message\"}}`. References to a ledger or a fund "
                                "take an id (a JSON integer) or a code (a JSON string)."},
        "security": [{"bearerAuth": []}],
        "paths": _with_idempotency_keys(paths),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "An API token issued to a user."}},
            "schemas": schemas,
            "responses": copy.deepcopy(RESPONSES),
            "parameters": parameters,
        },
    }
