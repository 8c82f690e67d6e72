"""API v1: the fiscal-year rollover (app.funds.rollover): preview or commit one, read its report.

Institution administrators only, like the "Fiscal period closure" page. A preview changes nothing
and answers the report (200); a commit answers it with 201 and the Location of the stored rollover.
"""
from __future__ import annotations

from decimal import Decimal

from flask import url_for
from flask_login import current_user

from .. import idempotency
from ..auth.models import Role
from ..auth.permissions import institution_roles_required, require_institution_role, roles_required
from ..errors import InvalidInput
from ..extensions import db
from ..funds import rollover, rollover_rules
from ..ledger.rollover import ALLOCATION_MODES, CARRY_MODES, ENCUMBRANCE_BASES
from .base import (NULLABLE_MOMENT, NULLABLE_STRING, STRING, bp, input_schema, object_schema,
                   operation, param, path_param, ref, register_openapi, saved)
from .serializers import Field, read_body, timestamp

ADMIN = (Role.ADMIN,)

RULE_IN = {
    "code": Field("str", "The ledger's or fund's code in the source period.", required=True, max_length=20),
    "allocation": Field("enum", "none, same or adjust (by `percent`); left out: as the rule above it.",
                        choices=ALLOCATION_MODES),
    "percent": Field("decimal", "With allocation \"adjust\": a percent such as \"3\" or \"-2.5\"."),
    "carry": Field("enum", "none, cash or available; left out: as the rule above it.", choices=CARRY_MODES),
}

ROLLOVER_IN = {
    "source": Field("str", "The code of the fiscal period to roll over (close).", required=True, max_length=20),
    "target": Field("str", "The code of a later fiscal period, which must exist and not overlap it.",
                    required=True, max_length=20),
    "mode": Field("enum", "preview: run it and roll it back (nothing changes; 200); commit: do it (201).",
                  default="preview", choices=("preview", "commit")),
    "allocation": Field("enum", "Each fund's new allocation: none, the same as this year, or this year's "
                                "adjusted by `percent`.", default="same", choices=ALLOCATION_MODES),
    "percent": Field("decimal", "With allocation \"adjust\": a percent such as \"3\" or \"-2.5\".", default="0"),
    "carry": Field("enum", "What is left is carried over as its own allocation: none, the cash balance "
                           "(allocated − expended) or the available balance (− encumbered too).",
                   default="none", choices=CARRY_MODES),
    "one_time": Field("enum", "One-time PO lines re-encumber their remaining encumbrance, their initial "
                              "amount, or nothing.", default="remaining", choices=ENCUMBRANCE_BASES),
    "continuous": Field("enum", "Continuous PO lines: the same choices.", default="remaining",
                        choices=ENCUMBRANCE_BASES),
    "increase": Field("decimal", "Continuous lines' new encumbrance raised by this percent.", default="0"),
    "parts": Field("enum", "What to roll over: the ledgers (fund tree and money) and the PO lines together, "
                           "or one of them (the ledgers first, then the PO lines, as two rollovers).",
                   default="all", choices=("all", "ledgers", "po_lines")),
    "ledgers": Field("objects", "Rules of single ledgers of the source period, instead of the default above.",
                     default=(), spec=RULE_IN, label="Ledger rule", component="RolloverRuleInput"),
    "funds": Field("objects", "Rules of single funds of the source period, instead of their ledger's rule.",
                   default=(), spec=RULE_IN, label="Fund rule", component="RolloverRuleInput"),
}


def _rules(body):
    """The rollover's rules from the request: the default, then per ledger and per fund, checked
    against the source period's codes as the page checks them (app.funds.rollover_rules)."""
    fund_rules, line_rules = rollover.rules_from(body["allocation"], body["percent"], body["carry"],
                                                 body["one_time"], body["continuous"], body["increase"])
    if body["ledgers"] or body["funds"]:
        choices = rollover_rules.source_choices(body["source"])
        data = {"default": {"allocation": body["allocation"], "percent": body["percent"], "carry": body["carry"]}}
        for group in ("ledgers", "funds"):
            data[group] = {}
            for rule in body[group]:
                if rule["code"] in data[group]:
                    raise InvalidInput(f"{group[:-1].capitalize()} {rule['code']} has two rules.", group)
                data[group][rule["code"]] = {k: v for k, v in rule.items() if k != "code" and v is not None}
        fund_rules = rollover_rules.ledger_rules_from_json(data, [code for code, _n, _c in choices.ledgers],
                                                           choices.fund_ledgers)
    parts = body["parts"]
    return (None if parts == "po_lines" else fund_rules), (None if parts == "ledgers" else line_rules)


def _answer(report) -> dict:
    stored = db.session.get(rollover.Rollover, report.rollover_id) if report.rollover_id else None
    return report_json(report, stored)


@bp.post("/rollovers")
@institution_roles_required(*ADMIN)
@idempotency.idempotent
def create_rollover():
    body = read_body(ROLLOVER_IN)
    fund_rules, line_rules = _rules(body)
    if body["mode"] == "commit":
        report = rollover.commit(current_user, body["source"], body["target"], fund_rules, line_rules)
        return saved(report, _answer, 201, lambda r: url_for("api.get_rollover", id=r.rollover_id))
    report = rollover.preview(current_user, body["source"], body["target"], fund_rules, line_rules)
    return saved(report, _answer, 200)


@bp.get("/rollovers/<int:id>")
@roles_required(*ADMIN)
def get_rollover(id):  # noqa: A002 - the path parameter is {id}
    require_institution_role(current_user, frozenset(ADMIN), "read rollovers")
    stored = rollover.get_rollover(id)
    return report_json(rollover.report_of(stored), stored)


# -- what the API returns ----------------------------------------------------------------------

def _money(amount) -> str:
    """A plain decimal string: the report's amounts are already exact in their fund's currency."""
    if amount is None:
        return "0.00"
    value = Decimal(amount)
    return f"{value.copy_abs() if value == 0 else value:f}"


def report_json(report, stored=None) -> dict:
    totals = report.totals
    return {
        "id": report.rollover_id, "source": report.source, "target": report.target, "status": report.status,
        "created_at": timestamp(stored.created_at) if stored else None,
        "created_by": stored.created_by.username if stored and stored.created_by else None,
        "undone_at": timestamp(stored.undone_at) if stored and stored.undone_at else None,
        "rules": {"funds": stored.fund_rules, "po_lines": stored.line_rules} if stored else None,
        "funds": [{"code": f.code, "ledger": f.ledger, "type": f.kind, "allocated": _money(f.allocated),
                   "expended": _money(f.expended), "encumbered": _money(f.encumbered), "left": _money(f.left),
                   "carried": _money(f.carried), "not_carried": _money(f.not_carried),
                   "new_allocation": _money(f.new_allocation), "skipped": f.skipped, "reason": f.reason or None,
                   "created": f.created, "rule": f.rule} for f in report.funds],
        "po_lines": [{"po_line": line.po_line, "order_type": line.order_type, "old_fund": line.old_fund,
                      "new_fund": line.new_fund, "remaining": _money(line.remaining),
                      "released": _money(line.released), "encumbered": _money(line.encumbered),
                      "moved": line.moved, "reason": line.reason, "detail": line.detail} for line in report.lines],
        "totals": {name: _money(totals.get(name)) for name in TOTALS},
    }


# -- OpenAPI -----------------------------------------------------------------------------------

TOTALS = ("allocated", "expended", "encumbered", "left", "carried", "not_carried", "new_allocation", "released",
          "reencumbered", "not_moved")
_ADMIN = "an institution-wide admin"
_MONEY = ref("Money")

register_openapi(
    schemas={
        "RolloverFundRow": object_schema({
            "code": STRING, "ledger": STRING, "type": {"type": "string", "enum": ["allocated", "summary"]},
            "allocated": _MONEY, "expended": _MONEY, "encumbered": _MONEY,
            "left": {**_MONEY, "description": "The cash balance: allocated − expended = carried + not_carried."},
            "carried": _MONEY, "not_carried": _MONEY, "new_allocation": _MONEY,
            "skipped": {**NULLABLE_STRING, "description": "Why it was not rolled over (a key), or null."},
            "reason": NULLABLE_STRING, "created": {"type": "boolean", "description": "The target fund was made "
                                                                                      "by this rollover."},
            "rule": {**STRING, "description": "The rule the fund got, and where it came from (ledger, override)."}}),
        "RolloverLineRow": object_schema({
            "po_line": STRING, "order_type": {"type": "string", "enum": ["one_time", "continuous"]},
            "old_fund": STRING, "new_fund": NULLABLE_STRING, "remaining": _MONEY, "released": _MONEY,
            "encumbered": _MONEY, "moved": {"type": "boolean"},
            "reason": {**NULLABLE_STRING, "description": "Why the line was left as it was, or null (moved)."},
            "detail": STRING}),
        "Rollover": object_schema({
            "id": {"type": ["integer", "null"], "description": "The stored rollover; null for a preview."},
            "source": STRING, "target": STRING,
            "status": {"type": "string", "enum": ["preview", "committed", "undone"]},
            "created_at": NULLABLE_MOMENT, "created_by": NULLABLE_STRING, "undone_at": NULLABLE_MOMENT,
            "rules": {"type": ["object", "null"]},
            "funds": {"type": "array", "items": ref("RolloverFundRow")},
            "po_lines": {"type": "array", "items": ref("RolloverLineRow")},
            "totals": object_schema({name: _MONEY for name in TOTALS})}, "What a rollover did, or would do."),
        "RolloverInput": input_schema(ROLLOVER_IN, "The periods and the rules of a rollover."),
        "RolloverRuleInput": input_schema(RULE_IN, "The rule of one ledger or one fund."),
    },
    parameters={"RolloverId": path_param("id", "The rollover's id.")},
    paths={
        "/api/v1/rollovers": {
            "post": operation("createRollover", "Preview or commit a fiscal-year rollover", _ADMIN,
                              ("201", "Rollover", "Committed (Location: the rollover)."), ("400", "404", "409", "422"),
                              body="RolloverInput", location="The rollover's URL.", idempotent=True,
                              note="A preview answers 200 with the same report and changes nothing. A second "
                                   "commit of the same periods is refused (409) and changes nothing.",
                              responses={"200": {"description": "The preview.", "content": {
                                  "application/json": {"schema": ref("Rollover")}}}}),
        },
        "/api/v1/rollovers/{id}": {
            "parameters": [param("RolloverId")],
            "get": operation("getRollover", "A stored rollover's report", _ADMIN, ("200", "Rollover", "The report."),
                             ("404",)),
        },
    })
