"""API v1: PO lines — the list in your scope, one line with its distribution and items, creating a
line, and the status actions (approve, send, receive, cancel, close, reopen).

Everything goes through :mod:`app.orders.services`, which enforces the transition table, the
ordering roles and the library scope; a line outside the caller's scope is not found (404).
Bodies are read as strictly as the rest of the API (unknown keys refused, money and percents as
decimal strings); PO line bodies also carry whole numbers and the fund distribution, which the
shared field kinds of :mod:`app.api.serializers` do not cover, so they are checked here.
"""
from __future__ import annotations

from flask import jsonify, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..auth.permissions import ALL_ROLES, roles_required
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..funds import services as fs
from ..funds.models import Fund
from ..idempotency import idempotent
from ..inventory.models import BibRecord
from ..ledger import format_plain
from ..orders import services as svc
from ..orders.models import POL_STATUSES, POLine
from ..org.models import Library
from ..org.services import MAX_ID
from ..vendors.models import Vendor
from . import serializers as ser
from .inventory import item_json
from .openapi import _input_schema, _object, _operation, _param, _ref
from .serializers import Field
from .views import MAX_PAGE, _commit, _int_arg, bp

READ = ALL_ROLES
ORDER = svc.PURCHASING
DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 200
ACTIONS = ("approve", "send", "receive", "cancel", "close", "reopen")

# -- request bodies ----------------------------------------------------------------------------

_NOTE = Field("str", "A note kept in the line's history.", default="", max_length=1000)

PO_LINE_IN = {
    "vendor": Field("str", "The vendor's code.", required=True),
    "vendor_account": Field("str", "The code of one of the vendor's accounts; null: none.", nullable=True),
    "owner_library": Field("str", "The code of the library the order is for; null (the default): the "
                                  "institution.", nullable=True),
    "inventory_library": Field("str", "The code of the library that receives the material; default: the owner "
                                      "library (required for an institution order).", nullable=True),
    "location_code": Field("str", "Where the holding is kept; default ACQ (ONLINE for electronic material).",
                           default="", max_length=40),
    "bib_record_id": Field("int", "The bibliographic record ordered; null: a brief record is made from the "
                                  "description. Description fields left out are taken from the record.",
                           nullable=True),
    "title": Field("str", "The title (required unless bib_record_id is given).", default="", max_length=500),
    "author": Field("str", "The author.", default="", max_length=300),
    "isbn": Field("str", "An ISBN.", default="", max_length=40),
    "issn": Field("str", "An ISSN.", default="", max_length=20),
    "publisher": Field("str", "The publisher.", default="", max_length=300),
    "publication_date": Field("str", "As printed, e.g. \"2019\".", default="", max_length=40),
    "order_type": Field("enum", "One-time or continuous (a subscription, renewed).", default="one_time",
                        choices=("one_time", "continuous")),
    "material_form": Field("enum", "Physical material is received; electronic material is activated.",
                           default="physical", choices=("physical", "electronic")),
    "packaging": Field("enum", "How the line goes into a purchase order when sent.", default="auto",
                       choices=("auto", "manual")),
    "currency": Field("str", "A three-letter ISO currency code; null (the default): the vendor's currency.",
                      nullable=True),
    "list_price": Field("decimal", "The price of one copy, in the line's currency (decimal string).",
                        required=True),
    "quantity": Field("int", "Number of copies (1–10000).", default=1),
    "discount": Field("decimal", "Discount percent on the list price (decimal string, 0–100, at most two "
                                 "decimals).", default="0"),
    "distribution_method": Field("enum", "Whether the distribution gives each fund a percent of the net price "
                                         "or an amount.", default="percent", choices=("percent", "amount")),
    "distribution": Field("distribution", "The funds that pay: percents adding up to 100, or amounts covering "
                                          "the net price exactly.", default=()),
    "reporting_code": Field("str", "A reporting code.", default="", max_length=40),
    "vendor_reference": Field("str", "The vendor's reference number.", default="", max_length=100),
    "note": Field("str", "A note.", default=""),
    "expected_receipt_date": Field("date", "When the material should arrive (YYYY-MM-DD).", nullable=True),
    "renewal_date": Field("date", "Continuous orders: the next renewal (YYYY-MM-DD; required for them).",
                          nullable=True),
    "renewal_period_months": Field("int", "Continuous orders: months between renewals (1–120).", default=12),
    "manual_renewal": Field("bool", "Continuous orders: renewed by hand rather than automatically.",
                            default=False),
}

APPROVE_IN = {
    "note": _NOTE,
    "date": Field("date", "The date of the encumbrances (YYYY-MM-DD); default: today.", nullable=True),
}
SEND_IN: dict[str, Field] = {}
RECEIVE_IN = {
    "received_date": Field("date", "The day the material arrived or was activated (YYYY-MM-DD, not in the "
                                   "future); default: today.", nullable=True),
    "item_ids": Field("int_list", "Physical one-time lines: the items (copies) that arrived; default: every "
                                  "one not yet received. Not for electronic lines.", nullable=True),
    "enumeration": Field("str", "Continuous physical lines: the new issue's enumeration, e.g. \"v.12 no.3\".",
                         default="", max_length=100),
    "chronology": Field("str", "Continuous physical lines: the new issue's chronology, e.g. \"2026 March\".",
                        default="", max_length=100),
}
CANCEL_IN = {
    "reason": Field("str", "Why nothing will be received or paid (kept in the line's history).", required=True,
                    max_length=1000),
}
CLOSE_IN = {"note": _NOTE}
REOPEN_IN = {"note": _NOTE}

_LOCAL_KINDS = {"int", "int_list", "distribution"}


def _read_body(spec: dict[str, Field], *, optional: bool = False) -> ser.Body:
    """Like :func:`serializers.read_body`, with the kinds it lacks; ``optional``: no body reads as {}."""
    data = {} if optional and not request.get_data(cache=True).strip() else ser.json_object()
    unknown = sorted(set(data) - set(spec))
    if unknown:
        names = ", ".join(f'"{k}"' for k in unknown)
        allowed = f"allowed: {', '.join(spec)}" if spec else "this action takes no fields"
        raise InvalidInput(f"Unknown field{'s' if len(unknown) > 1 else ''} {names}; {allowed}.", unknown[0])
    missing = [k for k, f in spec.items() if f.required and k not in data]
    if missing:
        names = ", ".join(f'"{k}"' for k in missing)
        raise InvalidInput(f"Missing required field{'s' if len(missing) > 1 else ''} {names}.", missing[0])
    values = {}
    for name, f in spec.items():
        if name not in data:
            values[name] = f.default
        elif data[name] is None and f.nullable:
            values[name] = None
        elif f.kind in _LOCAL_KINDS:
            values[name] = _check_local(name, f, data[name])
        else:
            values[name] = ser._check(name, f, data[name])
    return ser.Body(values, set(data))


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_local(name: str, f: Field, value):
    if value is None:
        raise InvalidInput(f"Field \"{name}\" must not be null.", name)
    if f.kind == "int":
        if not _whole(value):
            raise InvalidInput(f"Field \"{name}\" must be a whole number (a JSON integer).", name)
        return value
    if f.kind == "int_list":
        if not isinstance(value, list) or not all(_whole(v) for v in value):
            raise InvalidInput(f"Field \"{name}\" must be a list of ids (JSON integers).", name)
        return value
    return _distribution_rows(name, value)


def _distribution_rows(name: str, value) -> list[dict]:
    """Check the shape of each row: {"fund": id or code, "percent" or "amount": decimal string}."""
    if not isinstance(value, list):
        raise InvalidInput(f"Field \"{name}\" must be a list of {{\"fund\", \"percent\" or \"amount\"}} objects.",
                           name)
    for n, row in enumerate(value, 1):
        if not isinstance(row, dict):
            raise InvalidInput(f"Distribution row {n} must be an object such as {{\"fund\": \"SHARED\", "
                               "\"percent\": \"100\"}.", name)
        unknown = sorted(set(row) - {"fund", "percent", "amount"})
        if unknown:
            raise InvalidInput(f"Distribution row {n}: unknown field \"{unknown[0]}\"; allowed: fund, percent, "
                               "amount.", name)
        fund = row.get("fund")
        if isinstance(fund, bool) or not isinstance(fund, (int, str)) or fund == "" or (
                isinstance(fund, int) and fund <= 0):
            raise InvalidInput(f"Distribution row {n}: \"fund\" must be a fund id (an integer) or code (a string).",
                               name)
        given = [k for k in ("percent", "amount") if k in row]
        if len(given) != 1:
            raise InvalidInput(f"Distribution row {n}: give either \"percent\" or \"amount\".", name)
        share = row[given[0]]
        if not isinstance(share, str):
            raise InvalidInput(f"Distribution row {n}: \"{given[0]}\" must be a decimal string such as \"50\", "
                               "not a JSON number.", name)
        if not ser._DECIMAL.match(share.strip()):
            raise InvalidInput(f"Distribution row {n}: \"{share}\" is not a decimal number.", name)
    return value


# -- references in bodies and filters ----------------------------------------------------------

def _vendor(code: str) -> Vendor:
    vendor = db.session.scalar(select(Vendor).where(Vendor.code == code))
    if vendor is None:
        raise InvalidInput(f"No vendor {code}.", "vendor")
    return vendor


def _library(code: str, field: str) -> Library:
    library = db.session.scalar(select(Library).where(Library.code == code))
    if library is None:
        raise InvalidInput(f"No library {code}.", field)
    return library


def _fund(ref, field: str) -> Fund:
    """A fund the caller can see, by id (an integer) or code (a string); unknown ones are InvalidInput."""
    if isinstance(ref, int):
        try:
            return fs.get_fund(current_user, ref)
        except NotFound:
            raise InvalidInput(f"No fund with id {ref}.", field) from None
    funds = db.session.scalars(fs.visible_funds(current_user).where(Fund.code == ref)).all()
    if not funds:
        raise InvalidInput(f"No fund {ref}.", field)
    if len(funds) > 1:
        raise InvalidInput(f"Fund code {ref} is used in several fiscal periods; give the fund's id.", field)
    return funds[0]


def _fields(body: ser.Body) -> svc.POLineFields:
    vendor = _vendor(body["vendor"])
    account = None
    if body["vendor_account"] is not None:
        account = next((a for a in vendor.accounts if a.code == body["vendor_account"]), None)
        if account is None:
            raise InvalidInput(f"Vendor {vendor.code} has no account {body['vendor_account']}.", "vendor_account")
    record = None
    if body["bib_record_id"] is not None:
        record = db.session.get(BibRecord, body["bib_record_id"]) if body["bib_record_id"] <= MAX_ID else None
        if record is None:
            raise InvalidInput(f"No bibliographic record {body['bib_record_id']}.", "bib_record_id")
    description = {}
    for name in ("title", "author", "isbn", "issn", "publisher", "publication_date"):
        use_record = record is not None and name not in body.given
        description[name] = (getattr(record, name) or "") if use_record else body[name]
    method = body["distribution_method"]
    shares = []
    for n, row in enumerate(body["distribution"], 1):
        if method not in row:
            other = "amount" if method == "percent" else "percent"
            raise InvalidInput(f"Distribution row {n} gives \"{other}\", but distribution_method is \"{method}\".",
                               "distribution")
        shares.append(svc.Share(_fund(row["fund"], "distribution"), row[method].strip()))
    owner = _library(body["owner_library"], "owner_library") if body["owner_library"] is not None else None
    inventory = (_library(body["inventory_library"], "inventory_library")
                 if body["inventory_library"] is not None else None)
    return svc.POLineFields(
        vendor=vendor, vendor_account=account, owner_library=owner, inventory_library=inventory,
        location_code=body["location_code"], bib_record=record, **description,
        order_type=body["order_type"], material_form=body["material_form"], packaging=body["packaging"],
        currency=body["currency"] or "", list_price=body["list_price"].strip(), quantity=body["quantity"],
        discount=ser.parse_percent(body["discount"], "discount"), distribution_method=method,
        distribution=shares, reporting_code=body["reporting_code"], vendor_reference=body["vendor_reference"],
        note=body["note"], expected_receipt_date=body["expected_receipt_date"], renewal_date=body["renewal_date"],
        renewal_period_months=body["renewal_period_months"], manual_renewal=body["manual_renewal"])


def _filter_fund(ref: str) -> Fund:
    """The ``fund`` query parameter: a visible fund's code, or its id when no fund has that code."""
    funds = db.session.scalars(fs.visible_funds(current_user).where(Fund.code == ref)).all()
    if len(funds) > 1:
        raise InvalidInput(f"Fund code {ref} is used in several fiscal periods; give the fund's id.", "fund")
    if funds:
        return funds[0]
    if ref.isascii() and ref.isdigit():
        try:
            return fs.get_fund(current_user, ref)
        except NotFound:
            pass
    raise NotFound(f"No fund {ref}.")


def _filter_by_code(model, code: str, what: str):
    found = db.session.scalar(select(model).where(model.code == code))
    if found is None:
        raise NotFound(f"No {what} {code}.")
    return found


# -- what the API returns ----------------------------------------------------------------------

def allowed_actions(pol: POLine) -> list[str]:
    """Which of :data:`ACTIONS` the line's status (and order type) allows; roles and scope still apply."""
    allowed = {
        "approve": pol.may("approve"),
        # A Ready line is packaged and sent in one go; a packaged one sends its PO.
        "send": pol.status == "ready" or pol.may("send"),
        "receive": pol.may("receive") and not (pol.is_electronic and pol.activation_date is not None),
        "cancel": pol.may("cancel"),
        "close": pol.may("close"),
        "reopen": pol.may("reopen"),
    }
    return [a for a in ACTIONS if allowed[a]]


def _day(value) -> str | None:
    return value.isoformat() if value is not None else None


def share_json(share, currency: str) -> dict:
    encumbered = share.encumbered_amount
    return {"fund": share.fund.code, "fund_id": share.fund_id,
            "percent": ser._percent(share.percent) if share.percent is not None else None,
            "amount": format_plain(share.amount, currency),
            "encumbered_amount": (format_plain(encumbered, share.encumbered_currency)
                                  if encumbered is not None else None),
            "encumbered_currency": share.encumbered_currency}


def po_line_json(pol: POLine) -> dict:
    currency = pol.currency
    return {
        "id": pol.id, "number": pol.number, "status": pol.status, "order_type": pol.order_type,
        "material_form": pol.material_form, "packaging": pol.packaging,
        "owner_library": pol.owner_library.code if pol.owner_library else None,
        "vendor": pol.vendor.code, "vendor_account": pol.vendor_account.code if pol.vendor_account else None,
        "po": pol.po.number if pol.po else None, "bib_record_id": pol.bib_record_id,
        "title": pol.title, "author": pol.author, "isbn": pol.isbn, "issn": pol.issn, "publisher": pol.publisher,
        "publication_date": pol.publication_date, "currency": currency,
        "list_price": format_plain(pol.list_price, currency), "discount": ser._percent(pol.discount),
        "net_price": format_plain(pol.net_price, currency), "quantity": pol.quantity,
        "distribution_method": pol.distribution_method,
        "distribution": [share_json(s, currency) for s in pol.distribution],
        "reporting_code": pol.reporting_code, "vendor_reference": pol.vendor_reference, "note": pol.note,
        "expected_receipt_date": _day(pol.expected_receipt_date), "renewal_date": _day(pol.renewal_date),
        "renewal_period_months": pol.renewal_period_months, "manual_renewal": pol.manual_renewal,
        "activation_date": _day(pol.activation_date), "fully_invoiced": pol.fully_invoiced, "paid": pol.paid,
        "cancel_reason": pol.cancel_reason, "items": [item_json(i) for i in pol.items],
        "created_at": ser._timestamp(pol.created_at), "approved_at": ser._timestamp(pol.approved_at),
        "sent_at": ser._timestamp(pol.sent_at), "closed_at": ser._timestamp(pol.closed_at),
        "allowed_actions": allowed_actions(pol),
    }


# -- routes ------------------------------------------------------------------------------------

@bp.get("/po-lines")
@roles_required(*READ)
def list_po_lines():
    page = _int_arg("page", 1, MAX_PAGE)
    per_page = _int_arg("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    args = request.args
    status = args.get("status", "")
    if status and status != "open" and status not in POL_STATUSES:
        raise InvalidInput(f"Parameter status must be open or one of: {', '.join(POL_STATUSES)}.", "status")
    sort = args.get("sort") or "-number"
    if sort not in svc.SORTS:
        raise InvalidInput(f"Parameter sort must be one of: {', '.join(svc.SORTS)}.", "sort")
    line_filter = svc.LineFilter(
        q=args.get("q", "").strip(), status=status, sort=sort,
        vendor_id=_filter_by_code(Vendor, args["vendor"], "vendor").id if args.get("vendor") else None,
        fund_id=_filter_fund(args["fund"]).id if args.get("fund") else None,
        library_id=_filter_by_code(Library, args["library"], "library").id if args.get("library") else None)
    query = svc.po_lines_query(current_user, line_filter).options(
        selectinload(POLine.distribution), selectinload(POLine.items), selectinload(POLine.vendor_account),
        selectinload(POLine.po))
    result = db.paginate(query, page=page, per_page=per_page, max_per_page=MAX_PER_PAGE, error_out=False)
    return {"items": [po_line_json(p) for p in result.items], "page": page, "per_page": per_page,
            "total": result.total}


@bp.get("/po-lines/<number>")
@roles_required(*READ)
def get_po_line(number):
    return po_line_json(svc.get_po_line(current_user, number))


@bp.post("/po-lines")
@roles_required(*ORDER)
@idempotent
def create_po_line():
    pol = svc.create_po_line(current_user, _fields(_read_body(PO_LINE_IN)))
    _commit()
    resp = jsonify(po_line_json(pol))
    resp.status_code = 201
    resp.headers["Location"] = url_for("api.get_po_line", number=pol.number)
    return resp


def _act(number: str, spec: dict[str, Field], run):
    """Find the line (404 outside the caller's scope), read the optional body, run one service."""
    pol = svc.get_po_line(current_user, number)
    run(pol, _read_body(spec, optional=True))
    _commit()
    return po_line_json(pol)


@bp.post("/po-lines/<number>/actions/approve")
@roles_required(*ORDER)
@idempotent
def approve_po_line(number):
    return _act(number, APPROVE_IN,
                lambda pol, body: svc.approve_po_line(current_user, pol, on=body["date"], note=body["note"]))


@bp.post("/po-lines/<number>/actions/send")
@roles_required(*ORDER)
@idempotent
def send_po_line(number):
    return _act(number, SEND_IN, lambda pol, body: svc.send_po_line(current_user, pol))


def _receive(pol: POLine, body: ser.Body) -> None:
    day = body["received_date"]
    if pol.is_electronic:
        extra = sorted(body.given & {"item_ids", "enumeration", "chronology"})
        if extra:
            raise InvalidInput(f"{pol.number} is electronic: it is activated, so \"{extra[0]}\" does not apply.",
                               extra[0])
        svc.activate_po_line(current_user, pol, day)
        return
    items = None
    if body["item_ids"] is not None:
        mine = {item.id: item for item in pol.items}
        ids = list(dict.fromkeys(body["item_ids"]))
        if not ids:
            raise InvalidInput("Give at least one item id, or leave out item_ids to receive every copy not yet "
                               "received.", "item_ids")
        strangers = [i for i in ids if i not in mine]
        if strangers:
            raise InvalidInput(f"Item {strangers[0]} is not an item of {pol.number}.", "item_ids")
        items = [mine[i] for i in ids]
    svc.receive_po_line(current_user, pol, items, day, body["enumeration"], body["chronology"])


@bp.post("/po-lines/<number>/actions/receive")
@roles_required(*ORDER)
@idempotent
def receive_po_line(number):
    return _act(number, RECEIVE_IN, _receive)


@bp.post("/po-lines/<number>/actions/cancel")
@roles_required(*ORDER)
@idempotent
def cancel_po_line(number):
    return _act(number, CANCEL_IN, lambda pol, body: svc.cancel_po_line(current_user, pol, body["reason"]))


@bp.post("/po-lines/<number>/actions/close")
@roles_required(*ORDER)
@idempotent
def close_po_line(number):
    return _act(number, CLOSE_IN, lambda pol, body: svc.close_po_line(current_user, pol, body["note"]))


@bp.post("/po-lines/<number>/actions/reopen")
@roles_required(*ORDER)
@idempotent
def reopen_po_line(number):
    return _act(number, REOPEN_IN, lambda pol, body: svc.reopen_po_line(current_user, pol, body["note"]))


# -- OpenAPI -----------------------------------------------------------------------------------

def _openapi():
    string, integer, boolean = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
    code_or_null = {"type": ["string", "null"]}
    day_or_null = {"type": ["string", "null"], "format": "date"}
    moment = {"type": "string", "format": "date-time"}
    moment_or_null = {"type": ["string", "null"], "format": "date-time"}
    percent = {"type": "string", "pattern": r"^\d+\.\d{2}$", "description": "A percent as a decimal string."}
    money = _ref("Money")
    status = {"type": "string", "enum": list(POL_STATUSES)}

    line_input = _input_schema(PO_LINE_IN, "A new PO line, In Review. Its bibliographic record, holding and (for a "
                                           "one-time physical order) one item per copy are made with it.")
    props = line_input["properties"]
    props["quantity"] = {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1,
                         "description": PO_LINE_IN["quantity"].description}
    props["renewal_period_months"] = {"type": "integer", "minimum": 1, "maximum": 120, "default": 12,
                                      "description": PO_LINE_IN["renewal_period_months"].description}
    props["bib_record_id"] = {"type": ["integer", "null"], "minimum": 1,
                              "description": PO_LINE_IN["bib_record_id"].description}
    props["distribution"] = {"type": "array", "default": [], "description": PO_LINE_IN["distribution"].description,
                             "items": {"oneOf": [_ref("POLineFundPercentInput"), _ref("POLineFundAmountInput")]}}
    fund_ref = {"oneOf": [{"type": "integer", "minimum": 1, "description": "the fund's id"},
                          {"type": "string", "minLength": 1, "description": "the fund's code"}]}
    share_in = {"type": "string", "pattern": r"^\s*[+-]?\d{1,15}(\.\d+)?\s*$"}

    receive_input = _input_schema(RECEIVE_IN, "What arrived. Electronic lines are activated instead (only "
                                              "received_date applies).")
    receive_input["properties"]["item_ids"] = {"type": ["array", "null"], "items": {"type": "integer"},
                                               "description": RECEIVE_IN["item_ids"].description}

    schemas = {
        "POLineFund": _object({
            "fund": {"type": "string", "description": "The fund's code."}, "fund_id": integer,
            "percent": {"type": ["string", "null"], "pattern": r"^\d+\.\d{2}$",
                        "description": "Its percent (percent distributions); null for amount distributions."},
            "amount": {"allOf": [money], "description": "Its share of the net price, in the line's currency."},
            "encumbered_amount": {"type": ["string", "null"], "pattern": r"^-?\d+(\.\d+)?$",
                                  "description": "What approving encumbered, in the fund's currency; null "
                                                 "before approval."},
            "encumbered_currency": code_or_null}),
        "POLine": _object({
            "id": integer, "number": {"type": "string", "examples": ["POL-000012"]}, "status": status,
            "order_type": {"type": "string", "enum": ["one_time", "continuous"]},
            "material_form": {"type": "string", "enum": ["physical", "electronic"]},
            "packaging": {"type": "string", "enum": ["auto", "manual"]},
            "owner_library": {"type": ["string", "null"], "description": "The owning library's code; null: the "
                                                                         "institution."},
            "vendor": {"type": "string", "description": "The vendor's code."},
            "vendor_account": {"type": ["string", "null"], "description": "The vendor account's code."},
            "po": {"type": ["string", "null"], "description": "The purchase order's number, once packaged."},
            "bib_record_id": {"type": ["integer", "null"]},
            "title": string, "author": string, "isbn": string, "issn": string, "publisher": string,
            "publication_date": string, "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "list_price": money, "discount": percent, "net_price": money, "quantity": integer,
            "distribution_method": {"type": "string", "enum": ["percent", "amount"]},
            "distribution": {"type": "array", "items": _ref("POLineFund")},
            "reporting_code": string, "vendor_reference": string, "note": string,
            "expected_receipt_date": day_or_null, "renewal_date": day_or_null, "renewal_period_months": integer,
            "manual_renewal": boolean, "activation_date": day_or_null, "fully_invoiced": boolean, "paid": boolean,
            "cancel_reason": string,
            "items": {"type": "array", "items": _ref("Item"), "description": "The copies or issues ordered."},
            "created_at": moment, "approved_at": moment_or_null, "sent_at": moment_or_null,
            "closed_at": moment_or_null,
            "allowed_actions": {"type": "array", "items": {"type": "string", "enum": list(ACTIONS)},
                                "description": "The actions the line's status allows (your role and library "
                                               "scope still decide whether you may take them)."}},
            "A PO line: one ordered title or resource. net_price = list_price × quantity less the discount."),
        "POLinePage": _object({"items": {"type": "array", "items": _ref("POLine")}, "page": integer,
                               "per_page": integer, "total": {"type": "integer", "description": "Lines over all "
                                                                                                "pages."}}),
        "POLineInput": line_input,
        "POLineFundPercentInput": _object({"fund": fund_ref, "percent": dict(share_in, description="Percent of the "
                                                                             "net price, e.g. \"33.33\".")},
                                          "With distribution_method percent."),
        "POLineFundAmountInput": _object({"fund": fund_ref, "amount": dict(share_in, description="Amount in the "
                                                                           "line's currency, e.g. \"12.50\".")},
                                         "With distribution_method amount."),
        "POLineApproveInput": _input_schema(APPROVE_IN, "Approving encumbers each fund of the distribution in the "
                                                        "fund's currency."),
        "POLineSendInput": _input_schema(SEND_IN, "Nothing to give."),
        "POLineReceiveInput": receive_input,
        "POLineCancelInput": _input_schema(CANCEL_IN, "Cancelling releases the encumbrance; when the line is alone "
                                                      "on its order, inventory not yet received is deleted."),
        "POLineCloseInput": _input_schema(CLOSE_IN, "Closing releases what is still encumbered; inventory stays."),
        "POLineReopenInput": _input_schema(REOPEN_IN, "A reopened line is In Review again."),
    }
    parameters = {
        "POLineNumber": {"name": "number", "in": "path", "required": True, "schema": string,
                         "description": "The line's number, e.g. POL-000012 (or its id)."},
        "POLineStatusFilter": {"name": "status", "in": "query", "required": False,
                               "schema": {"type": "string", "enum": ["open", *POL_STATUSES]},
                               "description": "Only lines in this status; open: every status but closed and "
                                              "cancelled."},
        "POLineVendorFilter": {"name": "vendor", "in": "query", "required": False, "schema": string,
                               "description": "Only lines ordered from the vendor with this code."},
        "POLineFundFilter": {"name": "fund", "in": "query", "required": False, "schema": string,
                             "description": "Only lines paid (in part) by this fund: its code, or its id."},
        "POLineLibraryFilter": {"name": "library", "in": "query", "required": False, "schema": string,
                                "description": "Only lines owned by the library with this code."},
        "POLineQuery": {"name": "q", "in": "query", "required": False, "schema": string,
                        "description": "Every word in the title, number, ISBN, author or vendor reference."},
        "POLinePerPage": {"name": "per_page", "in": "query", "required": False,
                          "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                                     "default": DEFAULT_PER_PAGE}},
        "POLineSort": {"name": "sort", "in": "query", "required": False,
                       "schema": {"type": "string", "enum": list(svc.SORTS), "default": "-number"},
                       "description": "The order; a leading minus reverses it."},
    }
    read = "any role; lines outside your library scope are not found"
    order = "admin or purchasing_operator, within your library scope"

    create = _operation("createPOLine", "Create a PO line (In Review)", order,
                        ("201", "POLine", "Created (Location: the line)."), ("400", "422"), body="POLineInput")
    create["responses"]["201"]["headers"] = {"Location": {"description": "The new line's URL.",
                                                          "schema": {"type": "string"}}}
    paths = {
        "/api/v1/po-lines": {
            "get": _operation("listPOLines", "The PO lines you can see, newest first, paged", read,
                              ("200", "POLinePage", "One page of lines."), ("400", "404"),
                              params=("POLineStatusFilter", "POLineVendorFilter", "POLineFundFilter",
                                      "POLineLibraryFilter", "POLineQuery", "POLineSort", "Page",
                                      "POLinePerPage")),
            "post": create,
        },
        "/api/v1/po-lines/{number}": {
            "parameters": [_param("POLineNumber")],
            "get": _operation("getPOLine", "One PO line with its distribution and items", read,
                              ("200", "POLine", "The line."), ("404",)),
        },
    }
    summaries = {
        "approve": "Approve a line In Review or Deferred: it is Ready and its funds are encumbered",
        "send": "Send a line: a Ready one is packaged into a purchase order, which is sent",
        "receive": "Receive a Sent line's material, or activate an electronic one",
        "cancel": "Cancel an open line: nothing will be received or paid",
        "close": "Close a complete line",
        "reopen": "Reopen a closed line: back In Review",
    }
    for action in ACTIONS:
        op = _operation(f"{action}POLine", summaries[action], order, ("200", "POLine", "The updated line."),
                        ("400", "404", "422"), body=f"POLine{action.title()}Input")
        op["requestBody"]["required"] = False
        op["description"] += (" The body is optional. A status that does not allow the action is refused (422) "
                              "and nothing changes.")
        paths[f"/api/v1/po-lines/{{number}}/actions/{action}"] = {"parameters": [_param("POLineNumber")],
                                                                  "post": op}
    return paths, schemas, parameters


OPENAPI_PATHS, OPENAPI_SCHEMAS, OPENAPI_PARAMETERS = _openapi()
