"""API v1: reading one fiscal period, ledger or fund with its ETag and changing it (PATCH, If-Match
required), and closing and reopening a fiscal period — the edit pages' services and rules.

A fiscal period is the institution's: changing it needs the money managers' role held for the whole
institution, closing and reopening an institution-wide administrator (as on /fiscal-periods/). A
ledger or a fund is changed within the caller's library scope (:mod:`app.funds.services` says 403);
one the caller cannot see is not found.
"""
from __future__ import annotations

from datetime import date

from flask_login import current_user

from .. import idempotency
from ..auth.models import Role
from ..auth.permissions import can_manage_money, institution_roles_required, roles_required
from ..errors import Forbidden
from ..funds import closing
from ..funds import services as funds
from ..funds.models import FiscalPeriod
from .base import (READ, STRING, bp, by_code, check_match, input_schema, one, operation, param, patch_schema,
                   path_param, register_openapi, saved)
from .funds import FISCAL_PERIOD_IN, LEDGER_IN, MANAGE, _libraries, fiscal_period_json, ledger_json
from .serializers import Field, read_body, read_patch

FISCAL_PERIOD_UPDATE = {k: v for k, v in FISCAL_PERIOD_IN.items() if k != "code"}
LEDGER_UPDATE = {k: LEDGER_IN[k] for k in ("name", "owner", "available_to_all", "libraries", "notes")}
CLOSE_IN = {
    "note": Field("str", "Why, kept in the period's history.", default=""),
    "confirm": Field("bool", "Close even with PO lines or invoices still open on the period's funds (without it "
                             "such a close is refused with 409, code needs_confirmation, naming them).",
                     default=False),
}
REOPEN_IN = {"reason": Field("str", "Why it is reopened, kept in the period's history.", required=True)}


def _as_input(data: dict, spec: dict) -> dict:
    return {name: data[name] for name in spec}


# -- fiscal periods ----------------------------------------------------------------------------

def _period(period_code: str):
    return by_code(FiscalPeriod, period_code, "fiscal period")


@bp.get("/fiscal-periods/<period_code>")
@roles_required(*READ)
def get_fiscal_period(period_code):
    return one(_period(period_code), fiscal_period_json)


@bp.patch("/fiscal-periods/<period_code>")
@institution_roles_required(*MANAGE)
def patch_fiscal_period(period_code):
    period = _period(period_code)
    check_match(period, fiscal_period_json)
    body = read_patch(FISCAL_PERIOD_UPDATE, _as_input(fiscal_period_json(period), FISCAL_PERIOD_UPDATE))
    funds.update_fiscal_period(current_user, period, body["name"], _day(body["start_date"]), _day(body["end_date"]),
                               body["status"])
    return saved(period, fiscal_period_json)


def _day(value):
    """A date of the body, or the period's current one (as answered: ISO text)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


@bp.post("/fiscal-periods/<period_code>/actions/close")
@institution_roles_required(Role.ADMIN)
@idempotency.idempotent
def close_fiscal_period(period_code):
    period = _period(period_code)
    body = read_body(CLOSE_IN, optional=True)
    check_match(period, fiscal_period_json, required=False)
    closing.close_period(current_user, period, body["note"], confirmed=body["confirm"])
    return saved(period, fiscal_period_json)


@bp.post("/fiscal-periods/<period_code>/actions/reopen")
@institution_roles_required(Role.ADMIN)
@idempotency.idempotent
def reopen_fiscal_period(period_code):
    period = _period(period_code)
    body = read_body(REOPEN_IN, optional=True)
    check_match(period, fiscal_period_json, required=False)
    funds.reopen_fiscal_period(current_user, period, body["reason"])
    return saved(period, fiscal_period_json)


# -- ledgers -----------------------------------------------------------------------------------

def _ledger_for_change(ledger_id: int):
    ledger = funds.get_ledger(current_user, ledger_id)
    if not can_manage_money(current_user, ledger.owner_library_id):
        raise Forbidden(f"You may not change ledger {ledger.code}: it is not your library's.")
    return ledger


@bp.get("/ledgers/<int:ledger_id>")
@roles_required(*READ)
def get_ledger(ledger_id):
    return one(funds.get_ledger(current_user, ledger_id), ledger_json)


@bp.patch("/ledgers/<int:ledger_id>")
@roles_required(*MANAGE)
def patch_ledger(ledger_id):
    ledger = _ledger_for_change(ledger_id)
    check_match(ledger, ledger_json)
    body = read_patch(LEDGER_UPDATE, _as_input(ledger_json(ledger), LEDGER_UPDATE))
    owner = _libraries([body["owner"]], "owner")[0] if body["owner"] is not None else None
    libraries = _libraries(body["libraries"])
    to_all = body["available_to_all"]
    if libraries and "libraries" in body.given and "available_to_all" not in body.given:
        to_all = False   # libraries named: available to those only
    funds.update_ledger(current_user, ledger, body["name"], owner, to_all, libraries, body["notes"])
    return saved(ledger, ledger_json)


# -- OpenAPI -----------------------------------------------------------------------------------

_READ = "any role; rows outside your library scope are not found"
_MANAGE = "admin or fund_manager, within your library scope (another library's: 403)"
_PERIODS = "admin or fund_manager, held for the whole institution"
_CLOSE = "an institution-wide admin"
_ACTION = "The body is optional; If-Match is optional (412 when the period changed since)."

register_openapi(
    schemas={
        "FiscalPeriodPatch": patch_schema(FISCAL_PERIOD_UPDATE, "Some of the period's fields; those not sent stay "
                                                                "as they are. A closed period is reopened (action "
                                                                "reopen) before its status can change."),
        "LedgerPatch": patch_schema(LEDGER_UPDATE, "Some of the ledger's fields; those not sent stay as they are. "
                                                   "Its code, fiscal period and currency do not change. Sending "
                                                   "libraries without available_to_all makes it available to those "
                                                   "only."),
        "FiscalPeriodClose": input_schema(CLOSE_IN, "Closing a fiscal period."),
        "FiscalPeriodReopen": input_schema(REOPEN_IN, "Reopening a closed fiscal period."),
    },
    parameters={
        "FiscalPeriodCode": path_param("period_code", "The fiscal period's code.", STRING),
        "LedgerId": path_param("ledger_id", "The ledger's id."),
    },
    paths={
        "/api/v1/fiscal-periods/{period_code}": {
            "parameters": [param("FiscalPeriodCode")],
            "get": operation("getFiscalPeriod", "One fiscal period", _READ, ("200", "FiscalPeriod", "The period."),
                             ("404",), etag=True),
            "patch": operation("patchFiscalPeriod", "Change some of a fiscal period's fields", _PERIODS,
                               ("200", "FiscalPeriod", "Saved."), ("400", "404", "422"), body="FiscalPeriodPatch",
                               if_match="required", note="Only the fields sent change."),
        },
        "/api/v1/fiscal-periods/{period_code}/actions/close": {
            "parameters": [param("FiscalPeriodCode")],
            "post": operation("closeFiscalPeriod", "Close a fiscal period", _CLOSE,
                              ("200", "FiscalPeriod", "Closed: no new encumbrances, allocations or transfers."),
                              ("400", "404", "409", "422"), body="FiscalPeriodClose", idempotent=True,
                              body_required=False, if_match="optional",
                              note=_ACTION + " 409 (code needs_confirmation): PO lines or invoices are still open "
                                             "on its funds; send confirm true to close anyway. 422: already closed."),
        },
        "/api/v1/fiscal-periods/{period_code}/actions/reopen": {
            "parameters": [param("FiscalPeriodCode")],
            "post": operation("reopenFiscalPeriod", "Reopen a closed fiscal period", _CLOSE,
                              ("200", "FiscalPeriod", "Active again."), ("400", "404", "422"),
                              body="FiscalPeriodReopen", idempotent=True, body_required=False, if_match="optional",
                              note=_ACTION + " The reason is required (400 without it); 422: not closed."),
        },
        "/api/v1/ledgers/{ledger_id}": {
            "parameters": [param("LedgerId")],
            "get": operation("getLedger", "One ledger", _READ, ("200", "Ledger", "The ledger."), ("404",), etag=True),
            "patch": operation("patchLedger", "Change some of a ledger's fields", _MANAGE, ("200", "Ledger", "Saved."),
                               ("400", "404"), body="LedgerPatch", if_match="required",
                               note="Only the fields sent change. An owner change carries over to its funds."),
        },
    })
