"""API v1: fiscal periods, ledgers, funds (with their rolled-up balances) and fund transactions.

Every change goes through :mod:`app.funds.services`, which enforces the library scope of fund
managers (a 403); what the caller may not see is not found (404). A summary fund's balances are
those of :mod:`app.funds.tree`: the sum over the allocated funds below it that the caller can see.
"""
from __future__ import annotations

from flask import request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import idempotency
from ..auth.permissions import MONEY_MANAGERS, can_manage_money, institution_roles_required, roles_required
from ..errors import Forbidden, InvalidInput
from ..extensions import db
from ..funds import services as funds
from ..funds import tree
from ..funds.models import FiscalPeriod, Fund, FundTransaction, Ledger
from ..ledger import Balance, TransactionKind, format_plain
from ..org.models import Library
from .base import (BOOLEAN, CURRENCY, DATE, INTEGER, MOMENT, NULLABLE_STRING, PERCENT_PATTERN, READ, STATUS,
                   STRING, bp, by_code, check_match, choice_arg, input_schema, list_of, named, object_schema, one,
                   operation, page_args, page_of, param, patch_schema, path_param, query_param, ref, register_openapi,
                   saved)
from .serializers import (Field, parse_date, parse_money, parse_percent, percent_text, read_body, read_patch,
                          timestamp)

MANAGE = MONEY_MANAGERS
PERIOD_STATUS = {"type": "string", "enum": ["active", "inactive", "closed"]}   # a ledger's too
DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 500

# -- request bodies ----------------------------------------------------------------------------

_CODE = "A code: 1–{n} characters without spaces."

FISCAL_PERIOD_IN = {
    "code": Field("str", _CODE.format(n=20), required=True, max_length=20),
    "name": Field("str", "A name.", required=True, max_length=200),
    "start_date": Field("date", "First day (YYYY-MM-DD).", required=True),
    "end_date": Field("date", "Last day (YYYY-MM-DD).", required=True),
    "status": Field("enum", "Active or inactive (no postings at all). A period is closed (status \"closed\" when "
                    "read: no new encumbrances, allocations or transfers) by an administrator on its page.",
                    default="active", choices=("active", "inactive")),
}

LEDGER_IN = {
    "code": Field("str", _CODE.format(n=40) + " Unique within the fiscal period.", required=True, max_length=40),
    "name": Field("str", "A name.", required=True, max_length=200),
    "fiscal_period": Field("str", "The fiscal period's code.", required=True),
    "currency": Field("str", "A three-letter ISO currency code with at most 2 decimals.", required=True),
    "owner": Field("str", "The owning library's code; null (the default): the institution.", nullable=True),
    "available_to_all": Field("bool", "Whether every library may use it. Default: true unless `libraries` "
                                      "are given. Only for institution ledgers."),
    "libraries": Field("str_list", "Codes of the libraries it is available to, with available_to_all false. "
                                   "Only for institution ledgers.", default=()),
    "notes": Field("str", "Free notes.", default=""),
}

FUND_IN = {
    "code": Field("str", _CODE.format(n=40) + " Unique within the fiscal period.", required=True, max_length=40),
    "name": Field("str", "A name.", required=True, max_length=200),
    "ledger": Field("ref", "The ledger: its id (integer) or its code (string; unique among the ledgers you "
                           "can see, or give fiscal_period).", required=True),
    "fiscal_period": Field("str", "Code of the fiscal period, to resolve a ledger code.", nullable=True),
    "parent": Field("ref", "The parent summary fund (id or code, in the ledger's fiscal period); "
                           "null: directly under the ledger.", nullable=True),
    "type": Field("enum", "Summary funds group funds; allocated funds hold money.", default="allocated",
                  choices=("allocated", "summary")),
    "external_id": Field("str", "An identifier in another system.", default="", max_length=100),
    "fund_type": Field("str", "A fund type code, or null.", nullable=True),
    "status": Field("enum", "Active or inactive.", default="active", choices=("active", "inactive")),
    "notes": Field("str", "Free notes.", default=""),
    "overencumbrance_allowed": Field("bool", "May orders encumber beyond what is available?", default=False),
    "overencumbrance_limit_percent": Field("decimal", "How far, as a percent of the allocation "
                                                      "(decimal string, 0–1000).", default="0"),
    "overexpenditure_allowed": Field("bool", "May invoices expend beyond what is available?", default=False),
    "overexpenditure_limit": Field("decimal", "How far, as an amount (decimal string).", default="0"),
    "available_to_all": Field("bool", "Whether every library may use it (institution ledgers only). "
                                      "Default: the ledger's availability."),
    "libraries": Field("str_list", "Codes of the libraries it is available to, with available_to_all false; "
                                   "within the ledger's.", default=()),
}

FUND_UPDATE = {k: v for k, v in FUND_IN.items() if k not in ("code", "fiscal_period")}

TRANSACTION_IN = {
    "type": Field("enum", "An allocation gives money to the fund (negative: takes it back); a transfer "
                          "moves money from this fund to target_fund.", required=True,
                  choices=("allocation", "transfer")),
    "amount": Field("decimal", "A decimal string such as \"250.00\"; a transfer's is positive.", required=True),
    "target_fund": Field("ref", "For a transfer: the receiving fund (id or code in the same fiscal period).",
                         nullable=True),
    "reference": Field("str", "A short reference.", default="", max_length=100),
    "note": Field("str", "A note.", default=""),
}



# -- lookups -----------------------------------------------------------------------------------

def _fiscal_period(code: str) -> FiscalPeriod:
    """A fiscal period by its code (funds.get_fiscal_period would also take any digits as an id)."""
    return by_code(FiscalPeriod, code, "fiscal period")


def _period_arg():
    code = request.args.get("fiscal_period")
    return _fiscal_period(code) if code else None


def _libraries(codes, field="libraries") -> list[Library]:
    return [named(Library, code, field, "library") for code in dict.fromkeys(codes)]


def _balances(rows: list[Fund]) -> dict[int, Balance]:
    """Each fund's balances: its own for an allocated fund; a summary fund's rolled up by
    :func:`app.funds.tree.rolled_up` over what the current user can see."""
    result = {f.id: f.balance for f in rows if f.kind == "allocated"}
    for period in {f.fiscal_period for f in rows if f.kind == "summary"}:
        rolled = tree.rolled_up(current_user, period)
        result.update({f.id: rolled.get(f.id, tree.ZERO) for f in rows
                       if f.kind == "summary" and f.fiscal_period_id == period.id})
    return result


# -- fiscal periods ----------------------------------------------------------------------------

@bp.get("/fiscal-periods")
@roles_required(*READ)
def list_fiscal_periods():
    return {"items": [fiscal_period_json(fp) for fp in funds.fiscal_periods()]}


@bp.post("/fiscal-periods")
@institution_roles_required(*MANAGE)
@idempotency.idempotent
def create_fiscal_period():
    body = read_body(FISCAL_PERIOD_IN)
    fp = funds.create_fiscal_period(current_user, body["code"], body["name"], body["start_date"],
                                    body["end_date"], body["status"])
    return saved(fp, fiscal_period_json, 201, lambda p: url_for("api.get_fiscal_period", period_code=p.code))


# -- ledgers -----------------------------------------------------------------------------------

@bp.get("/ledgers")
@roles_required(*READ)
def list_ledgers():
    period = _period_arg()
    q = select(Ledger).where(funds.visible_ledgers_clause(current_user))
    if period is not None:
        q = q.where(Ledger.fiscal_period_id == period.id)
    ledgers = sorted(db.session.scalars(q), key=lambda lg: (-lg.fiscal_period.start_date.toordinal(), lg.code))
    return {"items": [ledger_json(lg) for lg in ledgers]}


@bp.post("/ledgers")
@roles_required(*MANAGE)
@idempotency.idempotent
def create_ledger():
    body = read_body(LEDGER_IN)
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
    ledger = funds.create_ledger(current_user, body["code"], body["name"], period, currency, owner,
                                 to_all, libraries, body["notes"])
    return saved(ledger, ledger_json, 201, lambda lg: url_for("api.get_ledger", ledger_id=lg.id))


# -- funds -------------------------------------------------------------------------------------

def _fund_answer(fund: Fund) -> dict:
    return fund_json(fund, _balances([fund])[fund.id])


@bp.get("/funds")
@roles_required(*READ)
def list_funds():
    period = _period_arg()
    text = (request.args.get("q") or "").strip()
    q = (funds.search_funds(current_user, text) if text else funds.visible_funds(current_user)) \
        .options(selectinload(Fund.owner), selectinload(Fund.parent))
    if period is not None:
        q = q.where(Fund.fiscal_period_id == period.id)
    rows = sorted(db.session.scalars(q), key=lambda f: (-f.fiscal_period.start_date.toordinal(), f.code))
    balances = _balances(rows)
    return {"items": [fund_json(f, balances[f.id]) for f in rows]}


@bp.get("/funds/<int:id>")
@roles_required(*READ)
def get_fund(id):  # noqa: A002 - the path parameter is {id}
    return one(funds.get_fund(current_user, id), _fund_answer)


def _fund_fields(body, ledger, parent, to_all: bool, libraries) -> funds.FundFields:
    """The fund's fields from a create or PATCH body (its ledger, parent and libraries already found)."""
    return funds.FundFields(
        name=body["name"], kind=body["type"], parent=parent, external_id=body["external_id"],
        fund_type=funds.get_fund_type(body["fund_type"]), status=body["status"], notes=body["notes"],
        overencumbrance_allowed=body["overencumbrance_allowed"],
        overencumbrance_limit_percent=parse_percent(body["overencumbrance_limit_percent"],
                                                    "overencumbrance_limit_percent"),
        overexpenditure_allowed=body["overexpenditure_allowed"],
        overexpenditure_limit=parse_money(body["overexpenditure_limit"], ledger.currency, "overexpenditure_limit"),
        available_to_all=to_all, libraries=libraries)


def _fund_as_input(fund) -> dict:
    """The fund as :data:`FUND_UPDATE` reads it (ledger and parent by id): what a PATCH leaves as it is."""
    data = _fund_answer(fund)
    current = {name: data[name] for name in FUND_UPDATE}
    current["ledger"], current["parent"] = fund.ledger_id, fund.parent_id
    return current


@bp.patch("/funds/<int:id>")
@roles_required(*MANAGE)
def patch_fund(id):  # noqa: A002 - the path parameter is {id}
    fund = funds.get_fund(current_user, id)
    if not can_manage_money(current_user, fund.owner_library_id):
        raise Forbidden(f"You may not change fund {fund.code}: it is not your library's.")
    check_match(fund, _fund_answer)
    body = read_patch(FUND_UPDATE, _fund_as_input(fund))
    period = fund.fiscal_period
    ledger = funds.find_ledger(current_user, body["ledger"], period)
    parent = funds.find_fund(current_user, body["parent"], period, "parent") if body["parent"] is not None else None
    libraries = _libraries(body["libraries"])
    to_all = body["available_to_all"]
    if libraries and "libraries" in body.given and "available_to_all" not in body.given:
        to_all = False   # libraries named: available to those only
    funds.update_fund(current_user, fund, _fund_fields(body, ledger, parent, bool(to_all), libraries), ledger=ledger)
    return saved(fund, _fund_answer)


@bp.post("/funds")
@roles_required(*MANAGE)
@idempotency.idempotent
def create_fund():
    body = read_body(FUND_IN)
    period = _fiscal_period(body["fiscal_period"]) if body["fiscal_period"] is not None else None
    ledger = funds.find_ledger(current_user, body["ledger"], period)
    parent = (funds.find_fund(current_user, body["parent"], ledger.fiscal_period, "parent")
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
    fund = funds.create_fund(current_user, ledger, body["code"], _fund_fields(body, ledger, parent, to_all, libraries))
    return saved(fund, _fund_answer, 201, lambda f: url_for("api.get_fund", id=f.id))


# -- fund transactions -------------------------------------------------------------------------

@bp.get("/funds/<int:id>/transactions")
@roles_required(*READ)
def list_transactions(id):  # noqa: A002
    fund = funds.get_fund(current_user, id)
    page = page_args(DEFAULT_PER_PAGE, MAX_PER_PAGE)
    kind = choice_arg("type", [k.value for k in TransactionKind]) or None
    since = parse_date(request.args["since"], "since") if request.args.get("since") else None
    until = parse_date(request.args["until"], "until") if request.args.get("until") else None
    q = funds.transactions_query(fund, kind=kind, since=since, until=until).order_by(FundTransaction.id)
    return page.of(q, transaction_json)


@bp.post("/funds/<int:id>/transactions")
@roles_required(*MANAGE)
@idempotency.idempotent
def post_transaction(id):  # noqa: A002
    fund = funds.get_fund(current_user, id)
    if not can_manage_money(current_user, fund.owner_library_id):
        raise Forbidden(f"You may not manage the money of fund {fund.code}.")
    body = read_body(TRANSACTION_IN)
    amount = parse_money(body["amount"], fund.currency, "amount")
    reference, note = body["reference"], body["note"]
    if body["type"] == "allocation":
        if body["target_fund"] is not None:
            raise InvalidInput("target_fund is only for a transfer.", "target_fund")
        rows = [funds.allocate(current_user, fund, amount, reference, note)]
    else:
        if body["target_fund"] is None:
            raise InvalidInput("A transfer needs target_fund.", "target_fund")
        target = funds.find_fund(current_user, body["target_fund"], fund.fiscal_period, "target_fund")
        rows = funds.transfer(current_user, fund, target, amount, reference, note)
    return saved(rows, lambda txs: {"items": [transaction_json(tx) for tx in txs]}, 201)


# -- what the API returns ----------------------------------------------------------------------

def fiscal_period_json(fp) -> dict:
    return {"id": fp.id, "code": fp.code, "name": fp.name, "start_date": fp.start_date.isoformat(),
            "end_date": fp.end_date.isoformat(), "status": fp.status}


def ledger_json(ledger) -> dict:
    return {"id": ledger.id, "code": ledger.code, "name": ledger.name,
            "fiscal_period": ledger.fiscal_period.code, "currency": ledger.currency,
            "owner": ledger.owner.code if ledger.owner else None,
            "available_to_all": ledger.available_to_all,
            "libraries": [lib.code for lib in ledger.libraries],
            "status": ledger.status, "notes": ledger.notes}


def balances_json(balance: Balance, currency: str) -> dict:
    return {"allocated": format_plain(balance.allocated, currency),
            "encumbered": format_plain(balance.encumbered, currency),
            "expended": format_plain(balance.expended, currency),
            "available": format_plain(balance.available, currency)}


def fund_json(fund, balance: Balance) -> dict:
    currency = fund.currency
    return {"id": fund.id, "code": fund.code, "name": fund.name,
            "fiscal_period": fund.fiscal_period.code,
            "ledger": fund.ledger.code, "ledger_id": fund.ledger_id,
            "parent": fund.parent.code if fund.parent else None, "parent_id": fund.parent_id,
            "type": fund.kind, "status": fund.status, "currency": currency,
            "external_id": fund.external_id,
            "fund_type": fund.fund_type.code if fund.fund_type else None,
            "notes": fund.notes,
            "owner": fund.owner.code if fund.owner else None,
            "available_to_all": fund.available_to_all,
            "libraries": [lib.code for lib in fund.libraries],
            "overencumbrance_allowed": fund.overencumbrance_allowed,
            "overencumbrance_limit_percent": percent_text(fund.overencumbrance_limit_percent),
            "overexpenditure_allowed": fund.overexpenditure_allowed,
            "overexpenditure_limit": format_plain(fund.overexpenditure_limit, currency),
            "balances": balances_json(balance, currency)}


def transaction_json(tx) -> dict:
    return {"id": tx.id, "fund": tx.fund_id, "type": TransactionKind(tx.kind).value,
            "amount": format_plain(tx.amount, tx.currency), "currency": tx.currency,
            "date": tx.transaction_date.isoformat(), "reference": tx.reference, "note": tx.note,
            "actor": tx.actor.username if tx.actor else None, "transfer_id": tx.transfer_id,
            "counterpart_fund": tx.counterpart_fund_id, "created_at": timestamp(tx.created_at)}


# -- OpenAPI -----------------------------------------------------------------------------------

_READ = "any role; rows outside your library scope are not found"
_MANAGE = "admin or fund_manager, within your library scope"
_TRANSACTION = object_schema({
    "id": INTEGER, "fund": {"type": "integer", "description": "The fund's id."},
    "type": {"type": "string", "enum": ["allocation", "transfer", "encumbrance", "disencumbrance", "expenditure"]},
    "amount": ref("Money"), "currency": STRING, "date": DATE, "reference": STRING, "note": STRING,
    "actor": {"type": ["string", "null"], "description": "User name of whoever posted it."},
    "transfer_id": {"type": ["string", "null"], "description": "Shared by the two legs of a transfer."},
    "counterpart_fund": {"type": ["integer", "null"], "description": "The other fund of a transfer."},
    "created_at": MOMENT})

register_openapi(
    schemas={
        "Balances": object_schema({"allocated": ref("Money"), "encumbered": ref("Money"), "expended": ref("Money"),
                                   "available": ref("Money")},
                                  "available = allocated - encumbered - expended. For a summary fund: the sum over "
                                  "the allocated funds below it that the caller can see."),
        "FiscalPeriod": object_schema({"id": INTEGER, "code": STRING, "name": STRING, "start_date": DATE,
                                       "end_date": DATE, "status": PERIOD_STATUS}),
        "Ledger": object_schema({
            "id": INTEGER, "code": STRING, "name": STRING,
            "fiscal_period": {"type": "string", "description": "The fiscal period's code."}, "currency": CURRENCY,
            "owner": {"type": ["string", "null"], "description": "Owning library's code; null: the institution."},
            "available_to_all": BOOLEAN, "libraries": {"type": "array", "items": STRING}, "status": PERIOD_STATUS,
            "notes": STRING}),
        "Fund": object_schema({
            "id": INTEGER, "code": STRING, "name": STRING,
            "fiscal_period": {"type": "string", "description": "The fiscal period's code."},
            "ledger": {"type": "string", "description": "The ledger's code."}, "ledger_id": INTEGER,
            "parent": {"type": ["string", "null"], "description": "The parent summary fund's code."},
            "parent_id": {"type": ["integer", "null"]},
            "type": {"type": "string", "enum": ["allocated", "summary"]}, "status": STATUS, "currency": CURRENCY,
            "external_id": STRING, "fund_type": NULLABLE_STRING, "notes": STRING,
            "owner": {"type": ["string", "null"], "description": "Owning library's code (the ledger's owner); "
                                                                 "null: the institution."},
            "available_to_all": BOOLEAN, "libraries": {"type": "array", "items": STRING},
            "overencumbrance_allowed": BOOLEAN,
            "overencumbrance_limit_percent": {"type": "string", "pattern": PERCENT_PATTERN},
            "overexpenditure_allowed": BOOLEAN, "overexpenditure_limit": ref("Money"),
            "balances": ref("Balances")}),
        "Transaction": _TRANSACTION,
        "FiscalPeriodList": list_of("FiscalPeriod"),
        "LedgerList": list_of("Ledger"),
        "FundList": list_of("Fund"),
        "TransactionList": list_of("Transaction"),
        "TransactionPage": page_of("Transaction", "Rows"),
        "FiscalPeriodInput": input_schema(FISCAL_PERIOD_IN, "A new fiscal period; dates must not overlap another's."),
        "LedgerInput": input_schema(LEDGER_IN, "A new ledger."),
        "FundInput": input_schema(FUND_IN, "A new fund."),
        "FundPatch": patch_schema(FUND_UPDATE, "Some of the fund's fields; those not sent stay as they are. A new "
                                               "ledger moves the fund (and the funds below it) there: same fiscal "
                                               "period, currency and availability. Sending libraries without "
                                               "available_to_all makes it available to those only."),
        "TransactionInput": input_schema(TRANSACTION_IN, "An allocation or a transfer from this fund."),
    },
    parameters={
        "FundId": path_param("id", "The fund's id."),
        "FundSearch": query_param("q", STRING, "Text in the fund's code, name or external id (the fund search)."),
        "FiscalPeriodFilter": query_param("fiscal_period", STRING, "Only rows of the fiscal period with this code."),
        "PerPage": query_param("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                                            "default": DEFAULT_PER_PAGE}),
        "TransactionType": query_param("type", _TRANSACTION["properties"]["type"]),
        "Since": query_param("since", DATE, "Transactions dated on or after this day."),
        "Until": query_param("until", DATE, "Transactions dated on or before this day."),
    },
    paths={
        "/api/v1/fiscal-periods": {
            "get": operation("listFiscalPeriods", "List fiscal periods, latest first", _READ,
                             ("200", "FiscalPeriodList", "The fiscal periods.")),
            "post": operation("createFiscalPeriod", "Create a fiscal period", "admin or an institution-wide "
                              "fund_manager", ("201", "FiscalPeriod", "Created."), ("400", "409", "422"),
                              body="FiscalPeriodInput", location="The new fiscal period's URL.", idempotent=True),
        },
        "/api/v1/ledgers": {
            "get": operation("listLedgers", "List the ledgers you can see", _READ,
                             ("200", "LedgerList", "The ledgers."), ("404",), params=("FiscalPeriodFilter",)),
            "post": operation("createLedger", "Create a ledger", _MANAGE, ("201", "Ledger", "Created."),
                              ("400", "404", "409", "422"), body="LedgerInput", location="The new ledger's URL.",
                              idempotent=True),
        },
        "/api/v1/funds": {
            "get": operation("listFunds", "List (or search) the funds you can see, with balances", _READ,
                             ("200", "FundList", "The funds."), ("404",), params=("FiscalPeriodFilter", "FundSearch"),
                             note="With q: at most 100 funds, latest fiscal period first (the fund search page)."),
            "post": operation("createFund", "Create a fund", _MANAGE, ("201", "Fund", "Created (Location: the fund)."),
                              ("400", "404", "409", "422"), body="FundInput", location="The new fund's URL.",
                              idempotent=True),
        },
        "/api/v1/funds/{id}": {
            "parameters": [param("FundId")],
            "get": operation("getFund", "One fund with its balances", _READ, ("200", "Fund", "The fund."), ("404",),
                             etag=True),
            "patch": operation("patchFund", "Change some of a fund's fields", _MANAGE + " (another library's: 403)",
                               ("200", "Fund", "Saved."), ("400", "404", "422"), body="FundPatch",
                               if_match="required", note="Only the fields sent change. The ETag covers the "
                                                         "balances too: money posted meanwhile is a change."),
        },
        "/api/v1/funds/{id}/transactions": {
            "parameters": [param("FundId")],
            "get": operation("listFundTransactions", "A fund's transactions, oldest first, paged", _READ,
                             ("200", "TransactionPage", "One page of transactions."), ("400", "404"),
                             params=("Page", "PerPage", "TransactionType", "Since", "Until")),
            "post": operation("postFundTransaction", "Allocate to the fund, or transfer from it", _MANAGE,
                              ("201", "TransactionList", "The transaction, or both legs of a transfer."),
                              ("400", "404", "422"), body="TransactionInput", idempotent=True),
        },
    })
