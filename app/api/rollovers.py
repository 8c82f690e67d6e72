"""API v1: the fiscal-year rollover (app.funds.rollover): preview or commit one, read its report.

Institution administrators only, like the "Fiscal period closure" page. A preview changes nothing
and answers the report (200); a commit answers it with 201 and the Location of the stored rollover.
"""
from __future__ import annotations

from decimal import Decimal

from flask import Response, url_for
from flask_login import current_user

from .. import idempotency
from ..auth.models import Role
from ..auth.permissions import institution_roles_required, require_institution_role, roles_required
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..funds import rollover, rollover_report, rollover_rules, runs
from ..funds.rollover_report import XLSX_TYPE
from ..funds.models import FiscalPeriod
from ..ids import parse_id
from ..integrations.models import JobRun
from ..ledger.rollover import ALLOCATION_MODES, CARRY_MODES, ENCUMBRANCE_BASES
from .base import (INTEGER, MOMENT, NULLABLE_MOMENT, NULLABLE_STRING, STRING, bp, by_code, check_match, input_schema,
                   list_of, object_schema, one, operation, param, path_param, ref, register_openapi, saved)
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


def _fund_rules(body, fund_rules=None):
    """The funds' rules of the request: the default, then per ledger and per fund, checked against
    the source period's codes as the page checks them (app.funds.rollover_rules)."""
    if fund_rules is None:
        fund_rules, _lines = rollover.rules_from(body["allocation"], body["percent"], body["carry"])
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
    return fund_rules


def _rules(body):
    """The rollover's rules from the request: the funds' (:func:`_fund_rules`) and the PO lines'."""
    fund_rules, line_rules = rollover.rules_from(body["allocation"], body["percent"], body["carry"],
                                                 body["one_time"], body["continuous"], body["increase"])
    fund_rules = _fund_rules(body, fund_rules)
    parts = body["parts"]
    return (None if parts == "po_lines" else fund_rules), (None if parts == "ledgers" else line_rules)


RULES_IN = {name: ROLLOVER_IN[name] for name in ("source", "allocation", "percent", "carry", "ledgers", "funds")}


def _answer(report) -> dict:
    stored = db.session.get(rollover.Rollover, report.rollover_id) if report.rollover_id else None
    return report_json(report, stored)


def _admin_reads(what: str) -> None:
    """A GET of the closure pages' data: an institution-wide administrator's (a library-scoped one: 403)."""
    require_institution_role(current_user, frozenset(ADMIN), what)


@bp.get("/rollovers")
@roles_required(*ADMIN)
def list_rollovers():
    _admin_reads("read rollovers")
    return {"items": [rollover_summary_json(r) for r in rollover.rollovers()]}


@bp.post("/rollovers")
@institution_roles_required(*ADMIN)
@idempotency.idempotent
def create_rollover():
    body = read_body(ROLLOVER_IN)
    fund_rules, line_rules = _rules(body)
    if body["mode"] == "commit":
        report = rollover.commit(current_user, body["source"], body["target"], fund_rules, line_rules)
        return saved(report, _answer, 201, lambda r: url_for("api.get_rollover", rollover_id=r.rollover_id))
    report = rollover.preview(current_user, body["source"], body["target"], fund_rules, line_rules)
    return saved(report, _answer, 200)


@bp.get("/rollovers/<int:rollover_id>")
@roles_required(*ADMIN)
def get_rollover(rollover_id):
    _admin_reads("read rollovers")
    stored = rollover.get_rollover(rollover_id)
    return one(stored, lambda r: report_json(rollover.report_of(r), r))


@bp.post("/rollovers/<int:rollover_id>/actions/undo")
@institution_roles_required(*ADMIN)
@idempotency.idempotent
def undo_rollover(rollover_id):
    """Undo a committed rollover here and now (the page starts a run of the same service)."""
    stored = rollover.get_rollover(rollover_id)
    read_body({}, optional=True)
    check_match(stored, lambda r: report_json(rollover.report_of(r), r), required=False)
    rollover.check_undoable(current_user, stored)
    rollover.undo(current_user, stored)
    return saved(stored, lambda r: report_json(rollover.report_of(r), r))


@bp.get("/rollovers/<int:rollover_id>/report.csv", defaults={"file_type": "csv"}, endpoint="rollover_report_csv")
@bp.get("/rollovers/<int:rollover_id>/report.xlsx", defaults={"file_type": "xlsx"}, endpoint="rollover_report_xlsx")
@roles_required(*ADMIN)
def rollover_report_file(rollover_id, file_type):
    """The stored report as the closure page gives it: a CSV file or an .xlsx workbook."""
    _admin_reads("read rollovers")
    stored = rollover.get_rollover(rollover_id)
    body, mimetype, name = rollover_report.download(rollover.report_of(stored), stored.id, file_type)
    resp = Response(body, mimetype=mimetype)
    resp.headers.set("Content-Disposition", "attachment", filename=name)
    return resp


@bp.post("/rollovers/actions/preview-rules")
@institution_roles_required(*ADMIN)
def preview_rollover_rules():
    """What each ledger and allocated fund of the source period would get under these rules (the
    closure form's rules table); nothing is rolled over."""
    body = read_body(RULES_IN)
    choices = rollover_rules.source_choices(_source(body["source"]))
    rules = _fund_rules(body)

    def row(ledger: str, fund: str) -> dict:
        rule = rules.rule_for(ledger, fund)
        return {"allocation": rule.allocation, "percent": _percent(rule.percent), "carry": rule.carry,
                "origin": rules.origin(ledger, fund), "label": rules.label(ledger, fund)}
    return {"source": body["source"], "default": rules.default.label(),
            "ledgers": [{"code": code, "name": name, "currency": currency, **row(code, "")}
                        for code, name, currency in choices.ledgers],
            "funds": [{"code": code, "name": name, "ledger": ledger, **row(ledger, code)}
                      for code, name, ledger in choices.funds]}


def _source(code: str):
    return by_code(FiscalPeriod, code, "fiscal period")


def _percent(value) -> str:
    return f"{Decimal(value).normalize():f}" if Decimal(value) != 0 else "0"


@bp.get("/rollover-runs/<int:rollover_run_id>")
@roles_required(*ADMIN)
def get_rollover_run(rollover_run_id):
    """A rollover run (started on the closure page, or by the CLI): its progress, then its outcome and
    the rollover it made or undid."""
    _admin_reads("read rollover runs")
    run = db.session.get(JobRun, rollover_run_id) if parse_id(rollover_run_id) else None
    if run is None or run.job not in runs.JOBS:
        raise NotFound(f"No rollover run {rollover_run_id}.")
    return one(run, run_json)


# -- what the API returns ----------------------------------------------------------------------

def _money(amount) -> str:
    """A plain decimal string: the report's amounts are already exact in their fund's currency."""
    if amount is None:
        return "0.00"
    value = Decimal(amount)
    return f"{value.copy_abs() if value == 0 else value:f}"


def rollover_summary_json(r) -> dict:
    return {"id": r.id, "source": r.source_period.code, "target": r.target_period.code, "status": r.status,
            "created_at": timestamp(r.created_at), "created_by": r.created_by.username if r.created_by else None,
            "undone_at": timestamp(r.undone_at)}


def run_json(run) -> dict:
    return {"id": run.id, "action": _run_action(run), "owner": run.profile_code, "status": run.status,
            "message": run.message, "started_at": timestamp(run.started_at), "ended_at": timestamp(run.ended_at),
            "progress_done": run.progress_done, "progress_total": run.progress_total,
            "rollover": runs.rollover_id_of(run)}


def _run_action(run) -> str:
    return "undo" if run.job == runs.UNDO_JOB else "rollover"


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
_RULE_GOT = {"allocation": {"type": "string", "enum": list(ALLOCATION_MODES)},
             "percent": {**STRING, "description": "The allocation's adjustment in percent."},
             "carry": {"type": "string", "enum": list(CARRY_MODES)},
             "origin": {"type": "string", "enum": ["default", "ledger", "fund"],
                        "description": "Where the rule comes from."},
             "label": {**STRING, "description": "The rule, for a person."}}
_REPORT_FILE = {"text/csv": {"schema": {"type": "string"}}}
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
        "RolloverSummary": object_schema({
            "id": INTEGER, "source": STRING, "target": STRING,
            "status": {"type": "string", "enum": ["preview", "committed", "undone"]},
            "created_at": MOMENT, "created_by": NULLABLE_STRING, "undone_at": NULLABLE_MOMENT}),
        "RolloverList": list_of("RolloverSummary"),
        "RolloverRun": object_schema({
            "id": INTEGER, "action": {"type": "string", "enum": ["rollover", "undo"],
                                      "description": "A preview or a commit (rollover), or an undo."},
            "owner": {**STRING, "description": "The periods, source→target."},
            "status": {"type": "string", "enum": ["running", "completed", "failed", "skipped"]},
            "message": STRING, "started_at": MOMENT, "ended_at": NULLABLE_MOMENT, "progress_done": INTEGER,
            "progress_total": {"type": ["integer", "null"]},
            "rollover": {"type": ["integer", "null"], "description": "The rollover it made (a commit, a kept "
                                                                     "preview) or undid, once completed."}},
            "A rollover run of the closure page or the CLI (as on Monitor Jobs)."),
        "RolloverRulesInput": input_schema(RULES_IN, "A source period and the funds' rules to try."),
        "RolloverRulesPreview": object_schema({
            "source": STRING, "default": {**STRING, "description": "The default rule, for a person."},
            "ledgers": {"type": "array", "items": ref("RolloverRuleOfLedger")},
            "funds": {"type": "array", "items": ref("RolloverRuleOfFund")}},
            "The rule each ledger and allocated fund of the source period gets."),
        "RolloverRuleOfLedger": object_schema({"code": STRING, "name": STRING, "currency": STRING, **_RULE_GOT}),
        "RolloverRuleOfFund": object_schema({"code": STRING, "name": STRING, "ledger": STRING, **_RULE_GOT}),
        "RolloverRuleInput": input_schema(RULE_IN, "The rule of one ledger or one fund."),
    },
    parameters={"RolloverId": path_param("rollover_id", "The rollover's id."),
                "RolloverRunId": path_param("rollover_run_id", "The run's id (as on Monitor Jobs).")},
    paths={
        "/api/v1/rollovers": {
            "get": operation("listRollovers", "Stored rollovers: committed, undone and kept previews, latest first",
                             _ADMIN, ("200", "RolloverList", "The rollovers.")),
            "post": operation("createRollover", "Preview or commit a fiscal-year rollover", _ADMIN,
                              ("201", "Rollover", "Committed (Location: the rollover)."), ("400", "404", "409", "422"),
                              body="RolloverInput", location="The rollover's URL.", idempotent=True,
                              note="A preview answers 200 with the same report and changes nothing. A second "
                                   "commit of the same periods is refused (409) and changes nothing.",
                              responses={"200": {"description": "The preview.", "content": {
                                  "application/json": {"schema": ref("Rollover")}}}}),
        },
        "/api/v1/rollovers/{rollover_id}": {
            "parameters": [param("RolloverId")],
            "get": operation("getRollover", "A stored rollover's report", _ADMIN, ("200", "Rollover", "The report."),
                             ("404",), etag=True),
        },
        "/api/v1/rollovers/{rollover_id}/actions/undo": {
            "parameters": [param("RolloverId")],
            "post": operation("undoRollover", "Undo a committed rollover", _ADMIN,
                              ("200", "Rollover", "Undone: its report, status undone."), ("400", "404", "422"),
                              idempotent=True, if_match="optional",
                              note="No body. Done at once (the page runs the same service as a run). 422: not a "
                                   "committed rollover, or money was posted to its funds since."),
        },
        "/api/v1/rollovers/{rollover_id}/report.csv": {
            "parameters": [param("RolloverId")],
            "get": operation("getRolloverReportCsv", "A stored rollover's report as a CSV file", _ADMIN,
                             ("200", _REPORT_FILE, "The report (text/csv; charset=utf-8), as the closure page "
                                                   "gives it."), ("404",)),
        },
        "/api/v1/rollovers/{rollover_id}/report.xlsx": {
            "parameters": [param("RolloverId")],
            "get": operation("getRolloverReportXlsx", "A stored rollover's report as an .xlsx workbook", _ADMIN,
                             ("200", {XLSX_TYPE: {"schema": {"type": "string", "contentMediaType": XLSX_TYPE}}},
                              "The workbook, as the closure page gives it."), ("404",)),
        },
        "/api/v1/rollovers/actions/preview-rules": {
            "post": operation("previewRolloverRules", "The rule each ledger and fund would get", _ADMIN,
                              ("200", "RolloverRulesPreview", "The rules; nothing changes."), ("400", "404"),
                              body="RolloverRulesInput",
                              note="The closure form's rules table: the default rule, overridden per ledger and "
                                   "per fund. 404: no such source period."),
        },
        "/api/v1/rollover-runs/{rollover_run_id}": {
            "parameters": [param("RolloverRunId")],
            "get": operation("getRolloverRun", "A rollover run's progress and outcome", _ADMIN,
                             ("200", "RolloverRun", "The run."), ("404",), etag=True),
        },
    })
