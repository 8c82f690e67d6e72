"""API v1 endpoints: fiscal periods, ledgers, funds and fund transactions as JSON.

Token auth only (``Authorization: Bearer <token>``); the same roles as the pages (every view
declares them), the same scope filters (an out-of-scope id is a 404) and the same services for
every change (they enforce the library scope of fund managers: a 403). Errors are
``{"error": {"code", "message"[, "field"]}}`` with 400/401/403/404/409/422.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..auth.permissions import ALL_ROLES, MONEY_MANAGERS, can_manage_money, institution_roles_required, roles_required
from ..auth.services import user_for_token
from ..errors import DomainError, Duplicate, Forbidden, InvalidInput, NotFound
from .. import idempotency
from ..extensions import csrf, db
from ..funds import services as fs
from ..funds.models import FiscalPeriod, Fund, FundTransaction, Ledger
from ..funds.scope import visible_funds_clause
from ..ledger import Balance, TransactionKind
from ..org.models import Library
from . import serializers as ser

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # token-authenticated only: no cookies are accepted here, so no CSRF either

READ = ALL_ROLES
MANAGE = MONEY_MANAGERS
DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 500
MAX_PAGE = 10_000_000


@bp.before_request
def _token_auth():
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    # Replace whatever a session cookie would have loaded: the API trusts the token alone.
    g._login_user = user_for_token(token) if token else None
    if g._login_user is None:
        from flask_login import AnonymousUserMixin
        g._login_user = AnonymousUserMixin()


@bp.after_request
def _api_headers(resp):
    resp.headers.setdefault("Cache-Control", "no-store")
    if resp.status_code == 401:
        resp.headers.setdefault("WWW-Authenticate", 'Bearer realm="api"')
    return resp


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    # Undo whatever the refused service call had already added to the session.
    db.session.rollback()
    error = {"code": exc.code, "message": exc.message}
    if exc.field:
        error["field"] = exc.field
    return jsonify(error=error), exc.status


@bp.errorhandler(IntegrityError)
def _integrity_error(exc: IntegrityError):
    # The services check codes before writing; a unique constraint can still fire when two
    # requests create the same code at the same moment.
    db.session.rollback()
    return jsonify(error={"code": Duplicate.code, "message": "It conflicts with something saved at the same "
                          "time (most likely the same code); reload and check."}), Duplicate.status


def _commit() -> None:
    idempotency.commit()  # only a flush when an Idempotency-Key request commits with its stored answer


# -- lookups -----------------------------------------------------------------------------------

def _fiscal_period(code: str) -> FiscalPeriod:
    """A fiscal period by its code (fs.get_fiscal_period would also take any digits as an id)."""
    fp = db.session.scalar(select(FiscalPeriod).where(FiscalPeriod.code == code))
    if fp is None:
        raise NotFound(f"No fiscal period {code}.")
    return fp


def _period_arg():
    code = request.args.get("fiscal_period")
    return _fiscal_period(code) if code else None


def _libraries(codes, field="libraries") -> list[Library]:
    libs = []
    for code in dict.fromkeys(codes):
        lib = db.session.scalar(select(Library).where(Library.code == code))
        if lib is None:
            raise InvalidInput(f"No library {code}.", field)
        libs.append(lib)
    return libs


def _rolled_up(funds: list[Fund]) -> dict[int, Balance]:
    """Each fund's balances: its own for an allocated fund; for a summary fund, the sum over the
    allocated funds below it that the current user can see (invisible levels are skipped)."""
    result = {f.id: f.balance for f in funds if f.kind == "allocated"}
    summaries = {f.id: Balance() for f in funds if f.kind == "summary"}
    if summaries:
        period_ids = {f.fiscal_period_id for f in funds if f.kind == "summary"}
        parents = dict(db.session.execute(
            select(Fund.id, Fund.parent_id).where(Fund.fiscal_period_id.in_(period_ids))).all())
        leaves = db.session.execute(
            select(Fund.id, Fund.allocated, Fund.encumbered, Fund.expended).where(
                visible_funds_clause(current_user), Fund.fiscal_period_id.in_(period_ids),
                Fund.kind == "allocated")).all()
        for fund_id, allocated, encumbered, expended in leaves:
            balance, seen = Balance(allocated, encumbered, expended), {fund_id}
            node = parents.get(fund_id)
            while node is not None and node not in seen:
                seen.add(node)
                if node in summaries:
                    summaries[node] = summaries[node] + balance
                node = parents.get(node)
    result.update(summaries)
    return result


def _int_arg(name: str, default: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        limit = f" between 1 and {maximum}"
        raise InvalidInput(f"Parameter {name} must be a whole number{limit}.", name)
    return int(raw)


# -- fiscal periods ----------------------------------------------------------------------------

@bp.get("/fiscal-periods")
@roles_required(*READ)
def list_fiscal_periods():
    return {"items": [ser.fiscal_period_json(fp) for fp in fs.fiscal_periods()]}


@bp.post("/fiscal-periods")
@institution_roles_required(*MANAGE)
def create_fiscal_period():
    body = ser.read_body(ser.FISCAL_PERIOD_IN)
    fp = fs.create_fiscal_period(current_user, body["code"], body["name"], body["start_date"],
                                 body["end_date"], body["status"])
    _commit()
    return ser.fiscal_period_json(fp), 201


# -- ledgers -----------------------------------------------------------------------------------

@bp.get("/ledgers")
@roles_required(*READ)
def list_ledgers():
    period = _period_arg()
    q = select(Ledger).where(fs.visible_ledgers_clause(current_user))
    if period is not None:
        q = q.where(Ledger.fiscal_period_id == period.id)
    ledgers = sorted(db.session.scalars(q), key=lambda lg: (-lg.fiscal_period.start_date.toordinal(), lg.code))
    return {"items": [ser.ledger_json(lg) for lg in ledgers]}


@bp.post("/ledgers")
@roles_required(*MANAGE)
def create_ledger():
    body = ser.read_body(ser.LEDGER_IN)
    currency = body["currency"].strip().upper()
    period = _fiscal_period(body["fiscal_period"])
    owner = _libraries([body["owner"]], "owner")[0] if body["owner"] is not None else None
    libraries = _libraries(body["libraries"])
    if owner is not None and libraries:
        raise InvalidInput("A library-owned ledger is available to its owner only; leave out libraries.",
                           "libraries")
    to_all = body["available_to_all"]
    if to_all is None:
        to_all = not libraries
    elif to_all and libraries:
        raise InvalidInput("Give libraries only with available_to_all false.", "libraries")
    ledger = fs.create_ledger(current_user, body["code"], body["name"], period, currency, owner,
                              to_all, libraries, body["notes"])
    _commit()
    return ser.ledger_json(ledger), 201


# -- funds -------------------------------------------------------------------------------------

def _fund_query():
    return fs.visible_funds(current_user).options(selectinload(Fund.owner), selectinload(Fund.parent))


@bp.get("/funds")
@roles_required(*READ)
def list_funds():
    period = _period_arg()
    q = _fund_query()
    if period is not None:
        q = q.where(Fund.fiscal_period_id == period.id)
    funds = sorted(db.session.scalars(q), key=lambda f: (-f.fiscal_period.start_date.toordinal(), f.code))
    balances = _rolled_up(funds)
    return {"items": [ser.fund_json(f, balances[f.id]) for f in funds]}


@bp.get("/funds/<int:id>")
@roles_required(*READ)
def get_fund(id):  # noqa: A002 - the path parameter is {id}
    fund = fs.get_fund(current_user, id)
    return ser.fund_json(fund, _rolled_up([fund])[fund.id])


@bp.post("/funds")
@roles_required(*MANAGE)
def create_fund():
    body = ser.read_body(ser.FUND_IN)
    period = _fiscal_period(body["fiscal_period"]) if body["fiscal_period"] is not None else None
    ledger = fs.find_ledger(current_user, body["ledger"], period)
    parent = (fs.find_fund(current_user, body["parent"], ledger.fiscal_period, "parent")
              if body["parent"] is not None else None)
    libraries = _libraries(body["libraries"])
    to_all = body["available_to_all"]
    if ledger.owner_library_id is not None:
        if libraries:
            raise InvalidInput(f"Ledger {ledger.code} belongs to a library, so its funds are available to that "
                               "library only; leave out libraries.", "libraries")
        to_all = False
    elif to_all is None:  # default: the ledger's availability
        to_all = ledger.available_to_all and not libraries
        if not to_all and not libraries:
            libraries = list(ledger.libraries)
    elif to_all and libraries:
        raise InvalidInput("Give libraries only with available_to_all false.", "libraries")
    fields = fs.FundFields(
        name=body["name"], kind=body["type"], parent=parent, external_id=body["external_id"],
        fund_type=fs.get_fund_type(body["fund_type"]), status=body["status"], notes=body["notes"],
        overencumbrance_allowed=body["overencumbrance_allowed"],
        overencumbrance_limit_percent=ser.parse_percent(body["overencumbrance_limit_percent"],
                                                        "overencumbrance_limit_percent"),
        overexpenditure_allowed=body["overexpenditure_allowed"],
        overexpenditure_limit=ser.parse_money(body["overexpenditure_limit"], ledger.currency,
                                              "overexpenditure_limit"),
        available_to_all=to_all, libraries=libraries)
    fund = fs.create_fund(current_user, ledger, body["code"], fields)
    _commit()
    resp = jsonify(ser.fund_json(fund, _rolled_up([fund])[fund.id]))
    resp.status_code = 201
    resp.headers["Location"] = url_for("api.get_fund", id=fund.id)
    return resp


# -- fund transactions -------------------------------------------------------------------------

@bp.get("/funds/<int:id>/transactions")
@roles_required(*READ)
def list_transactions(id):  # noqa: A002
    fund = fs.get_fund(current_user, id)
    page = _int_arg("page", 1, MAX_PAGE)
    per_page = _int_arg("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    kind = request.args.get("type") or None
    if kind is not None and kind not in {k.value for k in TransactionKind}:
        raise InvalidInput(f"Parameter type must be one of: {', '.join(k.value for k in TransactionKind)}.", "type")
    since = ser.parse_date(request.args["since"], "since") if request.args.get("since") else None
    until = ser.parse_date(request.args["until"], "until") if request.args.get("until") else None
    q = fs.transactions_query(fund, kind=kind, since=since, until=until).order_by(FundTransaction.id)
    result = db.paginate(q, page=page, per_page=per_page, max_per_page=MAX_PER_PAGE, error_out=False)
    return {"items": [ser.transaction_json(tx) for tx in result.items], "page": page, "per_page": per_page,
            "total": result.total}


@bp.post("/funds/<int:id>/transactions")
@roles_required(*MANAGE)
@idempotency.idempotent
def post_transaction(id):  # noqa: A002
    fund = fs.get_fund(current_user, id)
    if not can_manage_money(current_user, fund.owner_library_id):
        raise Forbidden(f"You may not manage the money of fund {fund.code}.")
    body = ser.read_body(ser.TRANSACTION_IN)
    amount = ser.parse_money(body["amount"], fund.currency, "amount")
    reference, note = body["reference"], body["note"]
    if body["type"] == "allocation":
        if body["target_fund"] is not None:
            raise InvalidInput("target_fund is only for a transfer.", "target_fund")
        rows = [fs.allocate(current_user, fund, amount, reference, note)]
    else:
        if body["target_fund"] is None:
            raise InvalidInput("A transfer needs target_fund.", "target_fund")
        target = fs.find_fund(current_user, body["target_fund"], fund.fiscal_period, "target_fund")
        rows = fs.transfer(current_user, fund, target, amount, reference, note)
    _commit()
    return {"items": [ser.transaction_json(tx) for tx in rows]}, 201


# -- the document ------------------------------------------------------------------------------

@bp.get("/openapi.json")
@roles_required(*READ)
def openapi_document():
    from .openapi import build_document
    return build_document()
