"""API v1: invoicing administration — the review rules, the approval rules (ordered: the first that
matches decides) and the charge types. The invoicing settings are /settings (app.api.invoices).

As on the pages (:mod:`app.invoices.admin_views`): institution administrators only (a library-scoped
administrator gets 403, reading included); every change goes through :mod:`app.invoices.rules`.
"""
from __future__ import annotations

from flask import url_for
from flask_login import current_user
from sqlalchemy import select

from ..auth.models import Role
from ..auth.permissions import institution_roles_required, is_institution_admin, roles_required
from ..errors import Forbidden, InvalidInput, NotFound
from ..extensions import db
from ..funds.models import Fund
from ..idempotency import idempotent
from ..ids import parse_id
from ..invoices import rules
from ..invoices.models import BUILT_IN_CHARGES, CHANNELS, ApprovalRule, ChargeType, ReviewRule
from ..ledger import format_plain
from ..org.models import Library
from ..vendors.models import Vendor
from ..vendors.services import institution_currency
from .base import (ACTION_NOTE, BOOLEAN, INTEGER, NULLABLE_STRING, STRING, bp, check_match, deleted,
                   input_schema, list_of, named, object_schema, one, operation, param, patch_schema, path_param,
                   register_openapi, saved)
from .serializers import Field, read_body, read_patch, percent_text

ADMIN = (Role.ADMIN,)

REVIEW_RULE_IN = {
    "active": Field("bool", "Whether the rule is checked."),
    "threshold_percent": Field("decimal", "The price rule's threshold percent (decimal string, e.g. \"10\").",
                               nullable=True),
}
APPROVAL_RULE_IN = {
    "name": Field("str", "The rule's name.", required=True, max_length=100),
    "min_total": Field("number", "Invoices from this total (as printed; decimal string); null: no lower limit.",
                       nullable=True),
    "max_total": Field("number", "Invoices up to this total; null: no upper limit.", nullable=True),
    "vendor": Field("str", "Only this vendor's invoices (its code); null: any vendor.", nullable=True),
    "fund": Field("ref", "Only invoices with a line charged to this allocated fund: its id, or its code when only "
                         "one fund has it; null: any fund.", nullable=True),
    "owner_library": Field("str", "Only invoices of this library (its code); null: any owner.", nullable=True),
    "channel": Field("enum", "Only invoices created this way; null: any channel.", nullable=True,
                     choices=tuple(CHANNELS)),
    "automatic": Field("bool", "Approve automatically (else an invoice manager approves).", default=False),
    "approver_not_creator": Field("bool", "Manual approval by someone other than the invoice's creator.",
                                  default=False),
}
MOVE_IN = {"direction": Field("enum", "One place up (tried earlier) or down.", required=True,
                              choices=("up", "down"))}
CHARGE_TYPE_IN = {"code": Field("str", "1–20 letters, digits, - or _.", required=True, max_length=20),
                  "name": Field("str", "Its name.", required=True, max_length=100)}
NO_BODY: dict[str, Field] = {}


def _institution_admin() -> None:
    if not is_institution_admin(current_user):   # as the pages: 403, reading included
        raise Forbidden("Only an administrator of the whole institution may see the invoicing administration.")


# -- what the API returns ----------------------------------------------------------------------

def review_rule_json(r: ReviewRule) -> dict:
    return {"kind": r.kind, "description": ReviewRule.KINDS.get(r.kind, r.kind), "active": r.active,
            "threshold_percent": percent_text(r.threshold_percent)}


def approval_rule_json(r: ApprovalRule) -> dict:
    currency = institution_currency()
    return {"id": r.id, "position": r.position, "name": r.name,
            "min_total": format_plain(r.min_total, currency) if r.min_total is not None else None,
            "max_total": format_plain(r.max_total, currency) if r.max_total is not None else None,
            "vendor": r.vendor.code if r.vendor else None, "fund": r.fund.code if r.fund else None,
            "fund_id": r.fund_id, "owner_library": r.owner_library.code if r.owner_library else None,
            "channel": r.channel, "automatic": r.automatic, "approver_not_creator": r.approver_not_creator}


def charge_type_json(c: ChargeType) -> dict:
    return {"code": c.code, "name": c.name, "active": c.active, "built_in": False}


def _approval_input(r: ApprovalRule) -> dict:
    data = approval_rule_json(r)
    return {**{name: data[name] for name in APPROVAL_RULE_IN}, "fund": r.fund_id}


# -- review rules ------------------------------------------------------------------------------

def _review_rule(review_rule_kind: str) -> ReviewRule:
    rule = db.session.scalar(select(ReviewRule).where(ReviewRule.kind == review_rule_kind))
    if rule is None:
        raise NotFound(f"No review rule {review_rule_kind}; the rules are {', '.join(ReviewRule.KINDS)}.")
    return rule


@bp.get("/invoicing/review-rules")
@roles_required(*ADMIN)
def list_review_rules():
    _institution_admin()
    return {"items": [review_rule_json(r) for r in rules.review_rules()]}


@bp.get("/invoicing/review-rules/<review_rule_kind>")
@roles_required(*ADMIN)
def get_review_rule(review_rule_kind):
    _institution_admin()
    return one(_review_rule(review_rule_kind), review_rule_json)


@bp.patch("/invoicing/review-rules/<review_rule_kind>")
@institution_roles_required(*ADMIN)
def patch_review_rule(review_rule_kind):
    rule = _review_rule(review_rule_kind)
    check_match(rule, review_rule_json)
    body = read_patch(REVIEW_RULE_IN, review_rule_json(rule))
    threshold = body["threshold_percent"] if "threshold_percent" in body.given else None
    if "threshold_percent" in body.given and threshold is None:
        raise InvalidInput("Give the threshold percent, e.g. \"10\".", "threshold_percent")   # as the page
    rules.update_review_rule(current_user, rule, active=body["active"] if "active" in body.given else None,
                             threshold_percent=threshold)
    return saved(rule, review_rule_json)


# -- approval rules ----------------------------------------------------------------------------

def _approval_rule(approval_rule_id: int) -> ApprovalRule:
    rule = db.session.get(ApprovalRule, approval_rule_id) if parse_id(approval_rule_id) else None
    if rule is None:
        raise NotFound(f"No approval rule {approval_rule_id}.")
    return rule


def _rule_fund(ref) -> Fund:
    if isinstance(ref, int):
        fund = db.session.get(Fund, ref) if parse_id(ref) else None
        if fund is None:
            raise InvalidInput(f"No fund with id {ref}.", "fund")
        return fund
    found = db.session.scalars(select(Fund).where(Fund.code == ref)).all()
    if len(found) != 1:
        raise InvalidInput(f"No fund {ref}." if not found else f"Fund code {ref} is used in several fiscal periods; "
                           "give the fund's id.", "fund")
    return found[0]


def _rule_fields(body) -> rules.ApprovalRuleFields:
    return rules.ApprovalRuleFields(
        name=body["name"], min_total=body["min_total"], max_total=body["max_total"],
        vendor=named(Vendor, body["vendor"], "vendor", "vendor") if body["vendor"] is not None else None,
        fund=_rule_fund(body["fund"]) if body["fund"] is not None else None,
        owner_library=(named(Library, body["owner_library"], "owner_library", "library")
                       if body["owner_library"] is not None else None),
        channel=body["channel"], automatic=body["automatic"], approver_not_creator=body["approver_not_creator"])


@bp.get("/invoicing/approval-rules")
@roles_required(*ADMIN)
def list_approval_rules():
    _institution_admin()
    return {"items": [approval_rule_json(r) for r in rules.approval_rules()]}


@bp.post("/invoicing/approval-rules")
@institution_roles_required(*ADMIN)
@idempotent
def create_approval_rule():
    body = read_body(APPROVAL_RULE_IN)
    rule = rules.create_approval_rule(current_user, _rule_fields(body))
    return saved(rule, approval_rule_json, 201,
                 lambda r: url_for("api.get_approval_rule", approval_rule_id=r.id))


@bp.get("/invoicing/approval-rules/<int:approval_rule_id>")
@roles_required(*ADMIN)
def get_approval_rule(approval_rule_id):
    _institution_admin()
    return one(_approval_rule(approval_rule_id), approval_rule_json)


@bp.patch("/invoicing/approval-rules/<int:approval_rule_id>")
@institution_roles_required(*ADMIN)
def patch_approval_rule(approval_rule_id):
    rule = _approval_rule(approval_rule_id)
    check_match(rule, approval_rule_json)
    body = read_patch(APPROVAL_RULE_IN, _approval_input(rule))
    rules.update_approval_rule(current_user, rule, _rule_fields(body))
    return saved(rule, approval_rule_json)


@bp.delete("/invoicing/approval-rules/<int:approval_rule_id>")
@institution_roles_required(*ADMIN)
def delete_approval_rule(approval_rule_id):
    rule = _approval_rule(approval_rule_id)
    check_match(rule, approval_rule_json)
    rules.delete_approval_rule(current_user, rule)
    return deleted()


@bp.post("/invoicing/approval-rules/<int:approval_rule_id>/actions/move")
@institution_roles_required(*ADMIN)
@idempotent
def move_approval_rule(approval_rule_id):
    rule = _approval_rule(approval_rule_id)
    body = read_body(MOVE_IN)
    check_match(rule, approval_rule_json, required=False)
    rules.move_approval_rule(current_user, rule, body["direction"])
    return saved(rule, approval_rule_json)


# -- charge types ------------------------------------------------------------------------------

def _charge_type(charge_type_code: str) -> ChargeType:
    found = db.session.scalar(select(ChargeType).where(ChargeType.code == charge_type_code))
    if found is None:
        raise NotFound(f"No charge type {charge_type_code} of the library's own (the built-in ones, "
                       f"{', '.join(BUILT_IN_CHARGES)}, are always active).")
    return found


@bp.get("/invoicing/charge-types")
@roles_required(*ADMIN)
def list_charge_types():
    _institution_admin()
    built_in = [{"code": code, "name": name, "active": True, "built_in": True}
                for code, name in BUILT_IN_CHARGES.items()]
    return {"items": built_in + [charge_type_json(c) for c in rules.own_charge_types()]}


@bp.post("/invoicing/charge-types")
@institution_roles_required(*ADMIN)
@idempotent
def create_charge_type():
    body = read_body(CHARGE_TYPE_IN)
    charge_type = rules.create_charge_type(current_user, body["code"], body["name"])
    return saved(charge_type, charge_type_json, 201,
                 lambda c: url_for("api.get_charge_type", charge_type_code=c.code))


@bp.get("/invoicing/charge-types/<charge_type_code>")
@roles_required(*ADMIN)
def get_charge_type(charge_type_code):
    _institution_admin()
    return one(_charge_type(charge_type_code), charge_type_json)


def _set_active(active: bool):
    def view(charge_type_code):
        charge_type = _charge_type(charge_type_code)
        read_body(NO_BODY, optional=True)
        check_match(charge_type, charge_type_json, required=False)
        rules.set_charge_type_active(current_user, charge_type, active)
        return saved(charge_type, charge_type_json)
    return view


for _verb, _active in (("activate", True), ("deactivate", False)):
    _view = _set_active(_active)
    _view.__name__ = f"{_verb}_charge_type"
    bp.add_url_rule(f"/invoicing/charge-types/<charge_type_code>/actions/{_verb}", _view.__name__,
                    institution_roles_required(*ADMIN)(idempotent(_view)), methods=["POST"])


# -- OpenAPI -----------------------------------------------------------------------------------

_ADMIN = "admin of the whole institution"
_RULE, _KIND, _CHARGE = "ApprovalRuleId", "ReviewRuleKind", "ChargeTypeCode"
_NULLABLE_MONEY = {"type": ["string", "null"], "pattern": r"^-?\d+(\.\d+)?$"}

register_openapi(
    schemas={
        "ReviewRule": object_schema({
            "kind": {"type": "string", "enum": list(ReviewRule.KINDS)}, "description": STRING, "active": BOOLEAN,
            "threshold_percent": {"type": ["string", "null"], "description": "The price rule's threshold."}},
            "A check every saved invoice goes through; a failing one keeps it In Review."),
        "ReviewRuleList": list_of("ReviewRule"),
        "ReviewRulePatch": patch_schema(REVIEW_RULE_IN, "Switch the rule on or off; set the price rule's threshold."),
        "ApprovalRule": object_schema({
            "id": INTEGER, "position": {"type": "integer", "description": "1 is tried first."}, "name": STRING,
            "min_total": _NULLABLE_MONEY, "max_total": _NULLABLE_MONEY, "vendor": NULLABLE_STRING,
            "fund": NULLABLE_STRING, "fund_id": {"type": ["integer", "null"]}, "owner_library": NULLABLE_STRING,
            "channel": {"type": ["string", "null"], "enum": [*CHANNELS, None]}, "automatic": BOOLEAN,
            "approver_not_creator": BOOLEAN},
            "An approval rule: the first, by position, whose conditions an invoice meets decides its approval."),
        "ApprovalRuleList": list_of("ApprovalRule"),
        "ApprovalRuleInput": input_schema(APPROVAL_RULE_IN, "A new approval rule (the last to be tried)."),
        "ApprovalRulePatch": patch_schema(APPROVAL_RULE_IN, "Some of the rule's fields; the others stay."),
        "ApprovalRuleMoveInput": input_schema(MOVE_IN, "Where to move it; at either end nothing moves."),
        "ChargeType": object_schema({"code": STRING, "name": STRING, "active": BOOLEAN,
                                     "built_in": {**BOOLEAN, "description": "One of the four built-in types "
                                                                            "(always active)."}}),
        "ChargeTypeList": list_of("ChargeType"),
        "ChargeTypeInput": input_schema(CHARGE_TYPE_IN, "One of the library's own charge types (at most five "
                                                        "active)."),
        "ChargeTypeActiveInput": input_schema(NO_BODY, "Nothing to give."),
    },
    parameters={
        _RULE: path_param("approval_rule_id", "The approval rule's id."),
        _KIND: path_param("review_rule_kind", "The review rule's kind.",
                          {"type": "string", "enum": list(ReviewRule.KINDS)}),
        _CHARGE: path_param("charge_type_code", "The charge type's code.", STRING),
    },
    paths={
        "/api/v1/invoicing/review-rules": {
            "get": operation("listReviewRules", "The review rules", _ADMIN, ("200", "ReviewRuleList", "The rules.")),
        },
        "/api/v1/invoicing/review-rules/{review_rule_kind}": {
            "parameters": [param(_KIND)],
            "get": operation("getReviewRule", "One review rule", _ADMIN, ("200", "ReviewRule", "The rule."),
                             ("404",), etag=True),
            "patch": operation("patchReviewRule", "Switch a review rule on or off, or set its threshold", _ADMIN,
                               ("200", "ReviewRule", "Saved."), ("400", "404"), body="ReviewRulePatch",
                               if_match="required", note="400: a threshold for a rule other than price_differs."),
        },
        "/api/v1/invoicing/approval-rules": {
            "get": operation("listApprovalRules", "The approval rules, in the order they are tried", _ADMIN,
                             ("200", "ApprovalRuleList", "The rules.")),
            "post": operation("createApprovalRule", "Add an approval rule (last in the order)", _ADMIN,
                              ("201", "ApprovalRule", "Created (Location: the rule)."), ("400",),
                              body="ApprovalRuleInput", location="The rule's URL.", idempotent=True),
        },
        "/api/v1/invoicing/approval-rules/{approval_rule_id}": {
            "parameters": [param(_RULE)],
            "get": operation("getApprovalRule", "One approval rule", _ADMIN, ("200", "ApprovalRule", "The rule."),
                             ("404",), etag=True),
            "patch": operation("patchApprovalRule", "Change an approval rule", _ADMIN,
                               ("200", "ApprovalRule", "Saved."), ("400", "404"), body="ApprovalRulePatch",
                               if_match="required", note="Only the fields sent change."),
            "delete": operation("deleteApprovalRule", "Delete an approval rule (those after it move up)", _ADMIN,
                                ("204", None, "Deleted."), ("404",), if_match="required"),
        },
        "/api/v1/invoicing/approval-rules/{approval_rule_id}/actions/move": {
            "parameters": [param(_RULE)],
            "post": operation("moveApprovalRule", "Move an approval rule one place up or down", _ADMIN,
                              ("200", "ApprovalRule", "The rule, at its new position."), ("400", "404"),
                              body="ApprovalRuleMoveInput", idempotent=True, if_match="optional"),
        },
        "/api/v1/invoicing/charge-types": {
            "get": operation("listChargeTypes", "The charge types: the four built-in ones, then the library's own",
                             _ADMIN, ("200", "ChargeTypeList", "The charge types.")),
            "post": operation("createChargeType", "Add a charge type of the library's own", _ADMIN,
                              ("201", "ChargeType", "Created (Location: it)."), ("400", "409", "422"),
                              body="ChargeTypeInput", location="The charge type's URL.", idempotent=True,
                              note="409: the code exists (activate it instead, if inactive). 422: five are active "
                                   "already."),
        },
        "/api/v1/invoicing/charge-types/{charge_type_code}": {
            "parameters": [param(_CHARGE)],
            "get": operation("getChargeType", "One of the library's own charge types", _ADMIN,
                             ("200", "ChargeType", "It."), ("404",), etag=True),
        },
        **{f"/api/v1/invoicing/charge-types/{{charge_type_code}}/actions/{verb}": {
            "parameters": [param(_CHARGE)],
            "post": operation(op_id, summary, _ADMIN, ("200", "ChargeType", "The charge type now."), errors,
                              body="ChargeTypeActiveInput", body_required=False, idempotent=True,
                              if_match="optional", note=(ACTION_NOTE.split(". ")[0] + ". " + note).strip())}
           for verb, op_id, summary, errors, note in (
               ("activate", "activateChargeType", "Offer a charge type on invoices again", ("400", "404", "422"),
                "422: five of the library's own are active already."),
               ("deactivate", "deactivateChargeType", "No longer offer a charge type (invoices that used it keep "
                                                      "it)", ("400", "404"), ""))},
    })
