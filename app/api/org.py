"""API v1: the organisation, as the administration pages keep it — users and their roles, libraries
and their delivery addresses, the institution's details and daily job times, fund types, and the
ERP's numbers of the fiscal periods.

Institution-wide administrators only, like /admin: a change is ``institution_roles_required``
(a library-scoped administrator gets 403), a read checks the same after the role. The same
services as the pages (:mod:`app.auth.services`, :mod:`app.org.services`,
:func:`app.integrations.daily.set_times`, :func:`app.funds.services.create_fund_type`,
:func:`app.integrations.services.renumber_fiscal_periods`).
"""
from __future__ import annotations

from flask import url_for
from flask_login import current_user
from sqlalchemy import select

from .. import idempotency
from ..auth import services as auth
from ..auth.models import Role, User
from ..auth.permissions import institution_roles_required, require_institution_role, roles_required
from ..errors import InvalidInput, NotFound, RuleViolation
from ..extensions import db
from ..funds import services as funds
from ..ids import parse_id
from ..integrations import services as integrations
from ..integrations.daily import TIME_LABELS, set_times
from ..org.models import Institution, Library
from ..org.services import create_library, set_library_address, update_institution
from .base import (BOOLEAN, INTEGER, MOMENT, NULLABLE_STRING, STRING, bp, by_code, check_match, deleted,
                   input_schema, list_of, match, named, object_schema, one, operation, param, patch_schema,
                   path_param, register_openapi, saved)
from .serializers import Field, read_body, read_patch, timestamp

ADMIN = (Role.ADMIN,)
ROLES = tuple(r.value for r in Role)

USER_IN = {
    "username": Field("str", "1–64 characters without spaces; unique.", required=True, max_length=64,
                      schema={"pattern": r"^\S+$"}),
    "password": Field("str", "At least the installation's minimum length (12 by default), at most 256.",
                      required=True, max_length=256, schema={"minLength": 12}),
    "full_name": Field("str", "The person's name.", default="", max_length=200),
    "email": Field("str", "E-mail address.", default="", max_length=200),
}
USER_UPDATE = {
    "full_name": Field("str", "The person's name.", max_length=200),
    "email": Field("str", "E-mail address.", max_length=200),
    "password": Field("str", "A new password (never answered); ends the user's sessions.", max_length=256),
    "active": Field("bool", "An inactive user can neither log in nor use a token; you cannot deactivate "
                            "yourself."),
}
ROLE_IN = {
    "role": Field("enum", "The role.", required=True, choices=ROLES),
    "library": Field("str", "The library's code it is held for; null (the default): the whole institution.",
                     nullable=True),
}
LIBRARY_IN = {
    "code": Field("str", "1–20 characters without spaces; unique (kept in capitals).", required=True, max_length=20,
                  schema={"pattern": r"^\s*\S+\s*$"}),
    "name": Field("str", "A name.", required=True, max_length=200, schema={"pattern": r"\S"}),
}
LIBRARY_UPDATE = {"address": Field("str", "Delivery address printed on its orders; empty: the institution's.",
                                   max_length=1000)}
INSTITUTION_UPDATE = {
    "address": Field("str", "Printed on letters to vendors; one line per line.", max_length=1000),
    "billing_address": Field("str", "Empty: the address.", max_length=1000),
    "email": Field("str", "Printed on letters; vendors answer to it.", max_length=200),
    "edi_id": Field("str", "The institution in EDI orders (SAN, GLN…).", max_length=35),
    "edi_id_qualifier": Field("str", "e.g. 31B for a SAN, 14 for a GLN; required with edi_id.", max_length=4),
    **{name: Field("str", f"{label}: each day at HH:MM (the scheduler's time zone); empty: not scheduled.",
                   max_length=5) for name, label in TIME_LABELS.items()},
}
FUND_TYPE_IN = {
    "code": Field("str", "1–20 characters without spaces; unique (kept in capitals).", required=True, max_length=20,
                  schema={"pattern": r"^\s*\S+\s*$"}),
    "name": Field("str", "A name.", required=True, max_length=100, schema={"pattern": r"\S"}),
}
ERP_PERIOD_IN = {
    "fiscal_period": Field("str", "The fiscal period's code.", required=True),
    "erp_id": Field("int", "The ERP's number of it (0–999999); null: none.", required=True, nullable=True),
}
ERP_PERIODS_IN = {"periods": Field("objects", "The periods to renumber; the others keep their numbers.",
                                   required=True, spec=ERP_PERIOD_IN, label="Period",
                                   component="ErpFiscalPeriodInput")}


def _admin_reads(what: str) -> None:
    require_institution_role(current_user, frozenset(ADMIN), what)


# -- users -------------------------------------------------------------------------------------

def user_json(user: User) -> dict:
    return {"id": user.id, "username": user.username, "full_name": user.full_name, "email": user.email,
            "active": user.active, "created_at": timestamp(user.created_at),
            "roles": [{"id": a.id, "role": a.role, "library": a.library.code if a.library else None}
                      for a in sorted(user.assignments, key=lambda a: a.id)]}


def _user(user_id: int) -> User:
    user_id = parse_id(user_id)
    user = db.session.get(User, user_id) if user_id else None
    if user is None:
        raise NotFound("No such user.")
    return user


@bp.get("/users")
@roles_required(*ADMIN)
def list_users():
    _admin_reads("read users")
    return {"items": [user_json(u) for u in db.session.scalars(select(User).order_by(User.username))]}


@bp.post("/users")
@institution_roles_required(*ADMIN)
@idempotency.idempotent
def create_user():
    body = read_body(USER_IN)
    user = auth.create_user(current_user, body["username"], body["password"], full_name=body["full_name"],
                            email=body["email"])
    return saved(user, user_json, 201, lambda u: url_for("api.get_user", user_id=u.id))


@bp.get("/users/<int:user_id>")
@roles_required(*ADMIN)
def get_user(user_id):
    _admin_reads("read users")
    return one(_user(user_id), user_json)


@bp.patch("/users/<int:user_id>")
@institution_roles_required(*ADMIN)
def patch_user(user_id):
    user = _user(user_id)
    check_match(user, user_json)
    current = {"full_name": user.full_name, "email": user.email, "password": None, "active": user.active}
    body = read_patch(USER_UPDATE, current)
    auth.set_details(current_user, user, body["full_name"], body["email"])
    if body["password"] is not None:
        auth.set_password(current_user, user, body["password"])
    if body["active"] != user.active:
        auth.set_active(current_user, user, body["active"])
    return saved(user, user_json)


@bp.post("/users/<int:user_id>/roles")
@institution_roles_required(*ADMIN)
@idempotency.idempotent
def add_user_role(user_id):
    user = _user(user_id)
    body = read_body(ROLE_IN)
    library = named(Library, body["library"], "library", "library") if body["library"] is not None else None
    auth.add_role(current_user, user, Role(body["role"]), library)
    return saved(user, user_json, 201, lambda u: url_for("api.get_user", user_id=u.id))


@bp.delete("/users/<int:user_id>/roles/<int:assignment_id>")
@institution_roles_required(*ADMIN)
def remove_user_role(user_id, assignment_id):
    user = _user(user_id)
    check_match(user, user_json)
    auth.remove_role(current_user, user, assignment_id)
    return deleted()


# -- libraries ---------------------------------------------------------------------------------

def library_json(library: Library) -> dict:
    return {"id": library.id, "code": library.code, "name": library.name, "address": library.address}


@bp.get("/libraries")
@roles_required(*ADMIN)
def list_libraries():
    _admin_reads("read libraries")
    return {"items": [library_json(lib) for lib in db.session.scalars(select(Library).order_by(Library.code))]}


@bp.post("/libraries")
@institution_roles_required(*ADMIN)
@idempotency.idempotent
def add_library():
    body = read_body(LIBRARY_IN)
    library = create_library(current_user, body["code"], body["name"])
    return saved(library, library_json, 201, lambda lib: url_for("api.get_library", library_code=lib.code))


@bp.get("/libraries/<library_code>")
@roles_required(*ADMIN)
def get_library(library_code):
    _admin_reads("read libraries")
    return one(by_code(Library, library_code, "library"), library_json)


@bp.patch("/libraries/<library_code>")
@institution_roles_required(*ADMIN)
def patch_library(library_code):
    library = by_code(Library, library_code, "library")
    check_match(library, library_json)
    body = read_patch(LIBRARY_UPDATE, {"address": library.address})
    set_library_address(current_user, library, body["address"])
    return saved(library, library_json)


# -- the institution ---------------------------------------------------------------------------

def institution_json(inst: Institution) -> dict:
    return {"code": inst.code, "name": inst.name, "currency": inst.currency, "address": inst.address,
            "billing_address": inst.billing_address, "email": inst.email, "edi_id": inst.edi_id,
            "edi_id_qualifier": inst.edi_id_qualifier, **{name: getattr(inst, name) for name in TIME_LABELS}}


def _institution() -> Institution:
    inst = Institution.current()
    if inst is None:
        raise NotFound("The institution is not set up yet.")
    return inst


@bp.get("/institution")
@roles_required(*ADMIN)
def get_institution():
    _admin_reads("read the institution's details")
    return one(_institution(), institution_json)


@bp.patch("/institution")
@institution_roles_required(*ADMIN)
def patch_institution():
    inst = _institution()
    check_match(inst, institution_json)
    body = read_patch(INSTITUTION_UPDATE, institution_json(inst))
    update_institution(current_user, inst, address=body["address"], billing_address=body["billing_address"],
                       email=body["email"], edi_id=body["edi_id"], edi_id_qualifier=body["edi_id_qualifier"])
    set_times(current_user, inst, {name: body[name] for name in TIME_LABELS if name in body.given})
    return saved(inst, institution_json)


# -- fund types --------------------------------------------------------------------------------

def fund_type_json(ft) -> dict:
    return {"code": ft.code, "name": ft.name}


@bp.get("/fund-types")
@roles_required(*ADMIN)
def list_fund_types():
    _admin_reads("read fund types")
    return {"items": [fund_type_json(ft) for ft in funds.fund_types()]}


@bp.post("/fund-types")
@institution_roles_required(*ADMIN)
@idempotency.idempotent
def create_fund_type():
    body = read_body(FUND_TYPE_IN)
    return saved(funds.create_fund_type(current_user, body["code"], body["name"]), fund_type_json, 201)


# -- the ERP's fiscal period numbers ------------------------------------------------------------

def erp_periods_json(_=None) -> dict:
    numbers = {m.fiscal_period_id: m.erp_id for m in integrations.fiscal_period_mappings()}
    return {"items": [{"fiscal_period": p.code, "name": p.name, "erp_id": numbers.get(p.id)}
                      for p in funds.fiscal_periods()]}


@bp.get("/erp/fiscal-periods")
@roles_required(*ADMIN)
def get_erp_fiscal_periods():
    _admin_reads("read the ERP's fiscal period numbers")
    return one(None, erp_periods_json)


@bp.patch("/erp/fiscal-periods")
@institution_roles_required(*ADMIN)
def patch_erp_fiscal_periods():
    match(erp_periods_json)
    body = read_body(ERP_PERIODS_IN)
    periods = funds.fiscal_periods()
    by_code_ = {p.code: p for p in periods}
    wanted = {m.fiscal_period_id: m.erp_id for m in integrations.fiscal_period_mappings()}
    sent = set()
    for n, row in enumerate(body["periods"], 1):
        period = by_code_.get(row["fiscal_period"])
        if period is None:
            raise InvalidInput(f"Period {n}: no fiscal period {row['fiscal_period']}.", "periods")
        if period.id in sent:
            raise InvalidInput(f"Period {n}: fiscal period {period.code} is given twice.", "periods")
        sent.add(period.id)
        wanted[period.id] = row["erp_id"]
    errors = integrations.renumber_fiscal_periods(current_user, periods, wanted)
    if errors:
        raise RuleViolation("Nothing was saved: " + " ".join(
            f"{p.code}: {errors[p.id]}" for p in periods if p.id in errors), "periods")
    return saved(None, erp_periods_json)


# -- OpenAPI -----------------------------------------------------------------------------------

_ADMIN = "an institution-wide admin (a library-scoped one: 403)"
_KEY_NOTE = "422 (code idempotency_key_reused): the Idempotency-Key was used for another request."
ROLE_ENUM = {"type": "string", "enum": list(ROLES)}

register_openapi(
    schemas={
        "User": object_schema({
            "id": INTEGER, "username": STRING, "full_name": STRING, "email": STRING, "active": BOOLEAN,
            "created_at": MOMENT,
            "roles": {"type": "array", "items": object_schema({
                "id": {**INTEGER, "description": "The assignment's id (to remove it)."}, "role": ROLE_ENUM,
                "library": {**NULLABLE_STRING, "description": "The library's code; null: the whole institution."}})}}),
        "UserList": list_of("User"),
        "UserInput": input_schema(USER_IN, "A new user (roles are added afterwards)."),
        "UserPatch": patch_schema(USER_UPDATE, "Some of the user's fields; those not sent stay as they are."),
        "RoleAssignmentInput": input_schema(ROLE_IN, "A role to give the user."),
        "Library": object_schema({"id": INTEGER, "code": STRING, "name": STRING, "address": STRING}),
        "LibraryList": list_of("Library"),
        "LibraryInput": input_schema(LIBRARY_IN, "A new library."),
        "LibraryPatch": patch_schema(LIBRARY_UPDATE, "The library's delivery address."),
        "Institution": object_schema({
            "code": STRING, "name": STRING, "currency": STRING, "address": STRING, "billing_address": STRING,
            "email": STRING, "edi_id": STRING, "edi_id_qualifier": STRING,
            **{name: {**STRING, "description": f"{label}: HH:MM, or empty (not scheduled)."}
               for name, label in TIME_LABELS.items()}},
            "The institution: its name, code and currency are set when it is set up."),
        "InstitutionPatch": patch_schema(INSTITUTION_UPDATE, "Some of the institution's details and daily job "
                                                             "times; those not sent stay as they are."),
        "FundType": object_schema({"code": STRING, "name": STRING}),
        "FundTypeList": list_of("FundType"),
        "FundTypeInput": input_schema(FUND_TYPE_IN, "A new fund type."),
        "ErpFiscalPeriods": object_schema({"items": {"type": "array", "items": object_schema({
            "fiscal_period": STRING, "name": STRING,
            "erp_id": {"type": ["integer", "null"], "description": "The ERP's number (FISCAL_PERIOD_ID in "
                                                                   "allocation files); null: none."}})}},
            "Every fiscal period with the ERP's number of it."),
        "ErpFiscalPeriodsPatch": input_schema(ERP_PERIODS_IN, "New ERP numbers of some fiscal periods, saved all "
                                                              "together or not at all (two may swap theirs)."),
        "ErpFiscalPeriodInput": input_schema(ERP_PERIOD_IN, "One period's number."),
    },
    parameters={
        "UserId": path_param("user_id", "The user's id."),
        "AssignmentId": path_param("assignment_id", "The role assignment's id (in the user's roles)."),
        "LibraryCode": path_param("library_code", "The library's code.", STRING),
    },
    paths={
        "/api/v1/users": {
            "get": operation("listUsers", "Users with their roles, by user name", _ADMIN,
                             ("200", "UserList", "The users.")),
            "post": operation("createUser", "Create a user", _ADMIN, ("201", "User", "Created (Location: the user)."),
                              ("400", "409", "422"), body="UserInput", note=_KEY_NOTE, location="The user's URL.", idempotent=True),
        },
        "/api/v1/users/{user_id}": {
            "parameters": [param("UserId")],
            "get": operation("getUser", "One user with their roles", _ADMIN, ("200", "User", "The user."), ("404",),
                             etag=True),
            "patch": operation("patchUser", "Change a user's name, e-mail, password or active flag", _ADMIN,
                               ("200", "User", "Saved."), ("400", "404"), body="UserPatch", if_match="required",
                               note="Only the fields sent change. A new password or deactivation ends the user's "
                                    "sessions."),
        },
        "/api/v1/users/{user_id}/roles": {
            "parameters": [param("UserId")],
            "post": operation("addUserRole", "Give a user a role, institution-wide or for one library", _ADMIN,
                              ("201", "User", "The user with the new role."), ("400", "404", "409", "422"),
                              body="RoleAssignmentInput", location="The user's URL.", idempotent=True,
                              note="409: the user has that role for that scope already. " + _KEY_NOTE),
        },
        "/api/v1/users/{user_id}/roles/{assignment_id}": {
            "parameters": [param("UserId"), param("AssignmentId")],
            "delete": operation("removeUserRole", "Take a role from a user", _ADMIN, ("204", None, "Deleted."),
                                ("404",), if_match="required", note="If-Match: the user's ETag."),
        },
        "/api/v1/libraries": {
            "get": operation("listLibraries", "Libraries with their delivery addresses", _ADMIN,
                             ("200", "LibraryList", "The libraries.")),
            "post": operation("createLibrary", "Add a library", _ADMIN,
                              ("201", "Library", "Created (Location: the library)."), ("400", "409", "422"),
                              body="LibraryInput", note=_KEY_NOTE, location="The library's URL.", idempotent=True),
        },
        "/api/v1/libraries/{library_code}": {
            "parameters": [param("LibraryCode")],
            "get": operation("getLibrary", "One library", _ADMIN, ("200", "Library", "The library."), ("404",),
                             etag=True),
            "patch": operation("patchLibrary", "Change a library's delivery address", _ADMIN,
                               ("200", "Library", "Saved."), ("400", "404"), body="LibraryPatch",
                               if_match="required"),
        },
        "/api/v1/institution": {
            "get": operation("getInstitution", "The institution's details and daily job times", _ADMIN,
                             ("200", "Institution", "The institution."), ("404",), etag=True),
            "patch": operation("patchInstitution", "Change the institution's details or daily job times", _ADMIN,
                               ("200", "Institution", "Saved."), ("400", "404"), body="InstitutionPatch",
                               if_match="required", note="Only the fields sent change."),
        },
        "/api/v1/fund-types": {
            "get": operation("listFundTypes", "Fund types by code", _ADMIN, ("200", "FundTypeList", "The fund types.")),
            "post": operation("createFundType", "Add a fund type", _ADMIN, ("201", "FundType", "Created."),
                              ("400", "409", "422"), body="FundTypeInput", note=_KEY_NOTE, idempotent=True),
        },
        "/api/v1/erp/fiscal-periods": {
            "get": operation("getErpFiscalPeriods", "The ERP's numbers of the fiscal periods", _ADMIN,
                             ("200", "ErpFiscalPeriods", "Every fiscal period with its number."), etag=True),
            "patch": operation("patchErpFiscalPeriods", "Renumber some fiscal periods for the ERP", _ADMIN,
                               ("200", "ErpFiscalPeriods", "Saved: every period with its number."), ("400", "422"),
                               body="ErpFiscalPeriodsPatch", if_match="required",
                               note="If-Match: the ETag of the GET. 422 (nothing saved): a number another period "
                                    "keeps, or out of 0–999999."),
        },
    })
