"""What every API v1 module builds on: the blueprint and its token auth, error answers, the commit
of a view's one service call, query parameters and paging, and the OpenAPI helpers with which
each module registers its own paths and schemas (:mod:`app.api.openapi` serves them together).

Token auth only (``Authorization: Bearer <token>``); the same roles as the pages (every view
declares them), the same scope filters (an out-of-scope id is a 404) and the same services for
every change. Errors are ``{"error": {"code", "message"[, "field"]}}`` with 400/401/403/404/409/
412/422/428.

Safe updates: every answer that carries one object carries its ``ETag`` (a hash of the object as
answered, :func:`etag_of`); a ``PUT``/``PATCH`` must send it back as ``If-Match``
(:func:`check_match`: 428 without it, 412 when the object changed meanwhile), an action may.
``PATCH`` changes only the fields sent (:func:`app.api.serializers.read_patch`).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Callable

from flask import Blueprint, g, jsonify, make_response, request
from flask_login import AnonymousUserMixin, current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import idempotency
from ..auth.permissions import ALL_ROLES, roles_required
from ..auth.services import user_for_token
from ..errors import (DomainError, Duplicate, InvalidInput, NotFound, PreconditionFailed,
                      PreconditionRequired)
from ..extensions import csrf, db
from ..funds import services as funds_services
from ..funds.models import Fund
from ..vendors.models import Vendor
from .serializers import Field, read_body

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # token-authenticated only: no cookies are accepted here, so no CSRF either

READ = ALL_ROLES
MAX_PAGE = 10_000_000


# Read-only routes a logged-in person may open in the browser: the session's user is kept there
# when no token comes (no change is possible, so no CSRF either).
SESSION_READABLE = frozenset({"api.openapi_document"})


@bp.before_request
def _token_auth():
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if not token and request.method in ("GET", "HEAD") and request.endpoint in SESSION_READABLE:
        return   # the session's user, loaded as on the pages (none: 401 as ever)
    # Replace whatever a session cookie would have loaded: the API trusts the token alone.
    g._login_user = user_for_token(token) if token else None
    if g._login_user is None:
        g._login_user = AnonymousUserMixin()


@bp.after_request
def _api_headers(resp):
    resp.headers.setdefault("Cache-Control", "no-store")
    if resp.headers.get("Idempotent-Replayed") and resp.status_code in (200, 201) and resp.is_json:
        resp.headers.setdefault("ETag", etag_of(resp.get_json()))   # the stored answer's object, as first answered
    if resp.status_code == 401:
        resp.headers.setdefault("WWW-Authenticate", 'Bearer realm="api"')
    return resp


# -- answers -----------------------------------------------------------------------------------

def refusal(exc: DomainError, **extra):
    """The answer to a refused request: the session rolled back (undoing whatever the service had
    already added), ``{"error": {"code", "message"[, "field"], **extra}}`` with the error's status."""
    db.session.rollback()
    error = {"code": exc.code, "message": exc.message}
    field = extra.pop("field", exc.field)
    if field:
        error["field"] = field
    return jsonify(error={**error, **extra}), exc.status


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    return refusal(exc)


@bp.errorhandler(IntegrityError)
def _integrity_error(exc: IntegrityError):
    # The services check codes before writing; a unique constraint can still fire when two
    # requests create the same code at the same moment.
    db.session.rollback()
    return jsonify(error={"code": Duplicate.code, "message": "It conflicts with something saved at the same "
                          "time (most likely the same code); reload and check."}), Duplicate.status


def commit() -> None:
    idempotency.commit()  # only a flush when an Idempotency-Key request commits with its stored answer


def saved(obj, to_json: Callable[[Any], dict], status: int = 200, location: Callable[[Any], str] | None = None):
    """Commit the view's service call and answer ``to_json(obj)`` with its ETag (and ``location(obj)``
    as the Location header), all read after the commit.

    A refused call never gets here: its DomainError is answered by :func:`refusal` (rolled back),
    and an ``Idempotency-Key`` request stores this answer with the change (:mod:`app.idempotency`)."""
    commit()
    data = to_json(obj)
    resp = jsonify(data)
    resp.status_code = status
    resp.headers["ETag"] = etag_of(data)
    if location is not None:
        resp.headers["Location"] = location(obj)
    return resp


# -- versions: ETag and If-Match ---------------------------------------------------------------

def deleted():
    """Commit the view's deletion and answer 204 with no body."""
    commit()
    return "", 204


def etag_of(data: dict) -> str:
    """The strong ETag of an object as the API answers it: any change of what a client sees
    changes it (so two clients' edits of the same version cannot both pass :func:`check_match`)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def one(obj, to_json: Callable[[Any], dict]):
    """The answer to a GET of one object: ``to_json(obj)`` with its ETag; 304 (no body) when the
    request's If-None-Match already names that ETag."""
    data = to_json(obj)
    tag = etag_of(data)
    if request.if_none_match.contains(tag.strip('"')):
        resp = make_response("", 304)
    else:
        resp = jsonify(data)
    resp.headers["ETag"] = tag
    return resp


def check_match(obj, to_json: Callable[[Any], dict], *, required: bool = True) -> None:
    """Before changing ``obj``: lock its row for this transaction (PostgreSQL; SQLite's writers are
    serialised already), reload it, and :func:`match` the request's If-Match with its ETag."""
    if request.headers.get("If-Match", "").strip():
        mapper = type(obj)
        db.session.execute(select(mapper.id).where(mapper.id == obj.id).with_for_update())
        db.session.refresh(obj)
    match(lambda: to_json(obj), required=required)


def match(current: Callable[[], dict], *, required: bool = True) -> None:
    """Compare the request's If-Match with the ETag of ``current()`` (the object as answered now).

    Without If-Match: 428 when ``required`` (PUT, PATCH, DELETE), else nothing is checked (actions).
    ``If-Match: *`` matches any version. A mismatch is 412 and nothing changes."""
    if not request.headers.get("If-Match", "").strip():
        if required:
            raise PreconditionRequired("Send the ETag you read (GET the object) as the If-Match header, so that a "
                                       "change made by someone else meanwhile is not overwritten.")
        return
    if request.if_match.star_tag:
        return
    if not request.if_match.contains(etag_of(current()).strip('"')):
        raise PreconditionFailed("It was changed after you read it (the If-Match ETag is no longer current); "
                                 "GET it again, check, and send your change with the new ETag.")


def action_routes(rule: str, find: Callable[..., Any], to_json: Callable[[Any], dict],
                  actions: dict[str, tuple[str, Any, dict[str, Field], Callable[[Any, Any], Any]]]) -> None:
    """Add ``POST rule/<action>`` for each action: (endpoint, roles, body spec, ``service(obj, body)``).

    Each view finds its object with ``find(**path arguments)`` (so a 404 comes before a 400), reads
    the optional body against the spec, runs the one service, commits and answers ``to_json(obj)``
    (:func:`saved`); each honours an Idempotency-Key, and an If-Match when one is sent (412 when the
    object changed since)."""
    for action, (endpoint, roles, spec, service) in actions.items():
        view = _action_view(find, to_json, spec, service)
        view.__name__ = endpoint
        bp.add_url_rule(f"{rule}/{action}", endpoint, roles_required(*roles)(idempotency.idempotent(view)),
                        methods=["POST"])


def _action_view(find, to_json, spec, service):
    def view(**path):
        obj = find(**path)
        body = read_body(spec, optional=True)
        check_match(obj, to_json, required=False)
        service(obj, body)
        return saved(obj, to_json)
    return view


# -- query parameters --------------------------------------------------------------------------

def int_arg(name: str, default: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise InvalidInput(f"Parameter {name} must be a whole number between 1 and {maximum}.", name)
    return int(raw)


@dataclass(frozen=True)
class Page:
    """The ``page`` and ``per_page`` parameters of a list, and the page answer."""
    number: int
    size: int
    max_size: int

    def of(self, query, to_json: Callable[[Any], dict]) -> dict:
        return self.answer(db.paginate(query, page=self.number, per_page=self.size, max_per_page=self.max_size,
                                       error_out=False), to_json)

    def answer(self, result, to_json: Callable[[Any], dict]) -> dict:
        return {"items": [to_json(row) for row in result.items], "page": self.number, "per_page": self.size,
                "total": result.total}


def page_args(default_size: int, max_size: int) -> Page:
    return Page(int_arg("page", 1, MAX_PAGE), int_arg("per_page", default_size, max_size), max_size)


def choice_arg(name: str, choices) -> str:
    """A query parameter that must be one of ``choices`` when given ("" when not)."""
    value = request.args.get(name, "")
    if value and value not in choices:
        raise InvalidInput(f"Parameter {name} must be one of: {', '.join(choices)}.", name)
    return value


def by_code(model, code: str, what: str):
    """The row with this code, for a filter or a path: NotFound when there is none."""
    found = db.session.scalar(select(model).where(model.code == code))
    if found is None:
        raise NotFound(f"No {what} {code}.")
    return found


def named(model, code: str, field: str, what: str):
    """The row a body names by its code: InvalidInput on ``field`` when there is none."""
    found = db.session.scalar(select(model).where(model.code == code))
    if found is None:
        raise InvalidInput(f"No {what} {code}.", field)
    return found


def filter_fund(ref: str) -> Fund:
    """The ``fund`` query parameter of a list: a visible fund's code, or its id when no fund has that code."""
    found = db.session.scalars(funds_services.visible_funds(current_user).where(Fund.code == ref)).all()
    if len(found) > 1:
        raise InvalidInput(f"Fund code {ref} is used in several fiscal periods; give the fund's id.", "fund")
    if found:
        return found[0]
    if ref.isascii() and ref.isdigit():
        try:
            return funds_services.get_fund(current_user, ref)
        except NotFound:
            pass
    raise NotFound(f"No fund {ref}.")


def vendor_and_account(body) -> tuple:
    """The vendor a body names ("vendor", a code) and the account of it it names, if any ("vendor_account")."""
    vendor = named(Vendor, body["vendor"], "vendor", "vendor")
    account = None
    if body["vendor_account"] is not None:
        account = next((a for a in vendor.accounts if a.code == body["vendor_account"]), None)
        if account is None:
            raise InvalidInput(f"Vendor {vendor.code} has no account {body['vendor_account']}.", "vendor_account")
    return vendor, account


# -- OpenAPI -----------------------------------------------------------------------------------

# What each module registers, gathered into one document by app.api.openapi.
PATHS: dict[str, dict] = {}
SCHEMAS: dict[str, dict] = {}
PARAMETERS: dict[str, dict] = {}


def register_openapi(paths=None, schemas=None, parameters=None) -> None:
    """Add a module's paths and components to the document; a name means one thing only."""
    for registry, new in ((PATHS, paths), (SCHEMAS, schemas), (PARAMETERS, parameters)):
        for name, value in (new or {}).items():
            if registry.get(name, value) != value:
                raise ValueError(f"OpenAPI: {name} is registered twice, differently")
            registry[name] = value


STRING, INTEGER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
NULLABLE_STRING = {"type": ["string", "null"]}
DATE = {"type": "string", "format": "date"}
NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}
MOMENT = {"type": "string", "format": "date-time"}
NULLABLE_MOMENT = {"type": ["string", "null"], "format": "date-time"}
STATUS = {"type": "string", "enum": ["active", "inactive"]}
CURRENCY = {"type": "string", "pattern": "^[A-Z]{3}$"}
PERCENT_PATTERN = r"^\d+\.\d{2}$"
DECIMAL_PATTERN = r"^\s*[+-]?\d{1,15}(\.\d+)?\s*$"
DECIMAL_IN = {"type": "string", "pattern": DECIMAL_PATTERN, "examples": ["250.00"],
              "description": "A decimal string. JSON numbers are refused (400)."}

ERRORS = {
    "400": ("BadRequest", "Invalid input: malformed or unknown/missing field, bad value (code invalid)."),
    "401": ("Unauthorized", "No valid bearer token (code unauthorized)."),
    "403": ("Forbidden", "Your roles or library scope do not allow it (code forbidden)."),
    "404": ("NotFound", "No such object, or not one you can see (code not_found)."),
    "409": ("Conflict", "A conflict with what is saved: the code is already used (code duplicate), it was "
                        "already done (already_done), or the set it acts on changed meanwhile (see the code)."),
    "412": ("PreconditionFailed", "The object changed since you read it: its ETag no longer matches If-Match "
                                  "(code precondition_failed). GET it again."),
    "422": ("Unprocessable", "A rule refused it, e.g. over a fund's limit (code rule_violation)."),
    "428": ("PreconditionRequired", "If-Match is missing: send the ETag you read (code precondition_required)."),
    "503": ("Busy", "The database is busy; nothing was done. Try again after Retry-After seconds (code busy)."),
}
ACTION_NOTE = "The body is optional. A status that does not allow the action is refused (422) and nothing changes."


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def param(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


def object_schema(properties: dict, description: str = "") -> dict:
    schema = {"type": "object", "additionalProperties": False, "required": list(properties),
              "properties": properties}
    if description:
        schema["description"] = description
    return schema


def list_of(name: str) -> dict:
    return object_schema({"items": {"type": "array", "items": ref(name)}})


def page_of(name: str, rows: str) -> dict:
    """One page of ``name`` objects; ``rows``: what the total counts ("Invoices")."""
    return object_schema({"items": {"type": "array", "items": ref(name)}, "page": INTEGER, "per_page": INTEGER,
                          "total": {"type": "integer", "description": f"{rows} over all pages."}})


def path_param(name: str, description: str, schema: dict = INTEGER) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def query_param(name: str, schema: dict, description: str = "") -> dict:
    parameter = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


def per_page_param(maximum: int, default: int) -> dict:
    return query_param("per_page", {"type": "integer", "minimum": 1, "maximum": maximum, "default": default})


def field_schema(f: Field) -> dict:
    """The JSON Schema of a body field, from the declaration the body is read with."""
    kind = f.kind
    if kind == "bool":
        schema = {"type": "boolean"}
    elif kind == "date":
        schema = dict(DATE)
    elif kind in ("decimal", "number"):
        schema = dict(DECIMAL_IN)
    elif kind == "ref":
        schema = {"oneOf": [{"type": "integer", "minimum": 1, "description": "an id"},
                            {"type": "string", "minLength": 1, "description": "a code"}]}
    elif kind == "str_list":
        schema = {"type": "array", "items": {"type": "string"}}
    elif kind == "enum":
        schema = {"type": "string", "enum": list(f.choices)}
    elif kind == "int":
        schema = {"type": "integer"}
    elif kind == "int_list":
        schema = {"type": "array", "items": {"type": "integer"}}
    elif kind == "shares":
        schema = {"type": "array", "items": {"oneOf": [ref(f"{f.component}PercentInput"),
                                                       ref(f"{f.component}AmountInput")]}}
    elif kind == "amounts":
        schema = {"type": "object", "additionalProperties": {"type": "string", "pattern": DECIMAL_PATTERN}}
    elif kind == "object":
        schema = ref(f.component)
    elif kind == "objects":
        schema = {"type": "array", "items": ref(f.component)}
    else:
        schema = {"type": "string"}
        if f.max_length:
            schema["maxLength"] = f.max_length
    if f.nullable:
        if "oneOf" in schema:
            schema["oneOf"].append({"type": "null"})
        elif "$ref" in schema:
            schema = {"oneOf": [schema, {"type": "null"}]}
        else:
            schema["type"] = [schema["type"], "null"]
    if f.description:
        schema["description"] = f.description
    if f.default is not None:
        schema["default"] = list(f.default) if isinstance(f.default, tuple) else f.default
    schema.update(f.schema or {})
    return schema


def input_schema(spec: dict[str, Field], description: str) -> dict:
    return {"type": "object", "description": description, "additionalProperties": False,
            "required": [name for name, f in spec.items() if f.required],
            "properties": {name: field_schema(f) for name, f in spec.items()}}


def patch_schema(spec: dict[str, Field], description: str) -> dict:
    """The body of a PATCH: the fields of ``spec``, none required, at least one."""
    schema = input_schema(spec, description)
    schema["required"], schema["minProperties"] = [], 1
    return schema


def share_schemas(prefix: str, code: str, percent: str, amount: str, notes: tuple[str, str] = ("", "")) -> dict:
    """The two row shapes of a ``shares`` field (``prefix``PercentInput, ``prefix``AmountInput)."""
    fund = {"oneOf": [{"type": "integer", "minimum": 1, "description": "the fund's id"},
                      {"type": "string", "minLength": 1, "description": code}]}
    share = {"type": "string", "pattern": DECIMAL_PATTERN}
    return {f"{prefix}PercentInput": object_schema({"fund": fund, "percent": {**share, "description": percent}},
                                                   notes[0]),
            f"{prefix}AmountInput": object_schema({"fund": fund, "amount": {**share, "description": amount}},
                                                  notes[1])}


def operation(op_id: str, summary: str, roles: str, ok: tuple[str, str, str], errors=(), body: str | None = None,
              params=(), *, location: str | None = None, idempotent: bool = False, body_required: bool = True,
              note: str = "", responses: dict | None = None, etag: bool = False,
              if_match: str | None = None) -> dict:
    """One operation: ``ok`` is (status, schema, text) — schema: a component name, None (no body,
    e.g. 204) or a ``content`` mapping of other media types; ``errors`` the statuses besides 401, 403 and
    503; ``location`` describes the Location header of a 201; ``idempotent``: the view honours an
    Idempotency-Key (:func:`app.idempotency.idempotent`); ``responses``: answers described otherwise.

    ``etag``: a GET of one object (:func:`one`): ETag header, If-None-Match and 304.
    ``if_match``: "required" (PUT, PATCH, DELETE: 428 without it) or "optional" (actions): the
    view calls :func:`check_match`; the answer carries the new ETag; 412 when it no longer matches."""
    status, schema, text = ok
    codes = ["401", "403", *errors]
    if if_match:
        codes += ["412"] + (["428"] if if_match == "required" else [])
    answer = {"description": text}
    if schema:
        answer["content"] = ({"application/json": {"schema": ref(schema)}} if isinstance(schema, str)
                             else schema)   # a dict: other media types, e.g. {"text/csv": {...}}
    op = {"operationId": op_id, "summary": summary, "description": f"Roles: {roles}." + (f" {note}" if note else ""),
          "responses": {status: answer,
                        **{code: {"$ref": f"#/components/responses/{ERRORS[code][0]}"}
                           for code in sorted(set(codes) | {"503"})}}}
    op["responses"].update(responses or {})
    headers = {}
    if location:
        headers["Location"] = {"description": location, "schema": {"type": "string"}}
    if etag or if_match:
        headers["ETag"] = {"description": "The object's version; send it back as If-Match to change it.",
                           "schema": {"type": "string"}}
    if headers and status != "204":
        op["responses"][status]["headers"] = headers
    if etag:
        op["responses"]["304"] = {"description": "Not modified: If-None-Match names the current ETag."}
    parameters = [param(p) for p in params] + ([param("IdempotencyKey")] if idempotent else [])
    if etag:
        parameters.append(param("IfNoneMatch"))
    if if_match:
        parameters.append(param("IfMatchRequired" if if_match == "required" else "IfMatch"))
    if parameters:
        op["parameters"] = parameters
    if body:
        op["requestBody"] = {"required": body_required, "content": {"application/json": {"schema": ref(body)}}}
    return op


def action_paths(base: str, path_param_name: str, actions: dict[str, tuple[str, str, str, str]],
                 ok: tuple[str, str, str]) -> dict:
    """``base``/<action> for each action: (operationId, summary, roles, body schema), all idempotent
    POSTs with an optional body answering ``ok``."""
    return {f"{base}/{action}": {"parameters": [param(path_param_name)],
                                 "post": operation(op_id, summary, roles, ok, ("400", "404", "422"), body=body,
                                                   idempotent=True, body_required=False, note=ACTION_NOTE,
                                                   if_match="optional")}
            for action, (op_id, summary, roles, body) in actions.items()}
