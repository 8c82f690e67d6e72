"""API v1: PO lines — the list in your scope, one line (with its ETag) with its distribution and
items, creating a line, editing it (PATCH, the page's edit form) and every action the line's page
offers (approve, defer, resume, renew, send, package, receive, receive the next issue, activate,
cancel, close, reopen, replace or change the vendor, change the bibliographic reference, relink,
and the publication pattern).

Everything goes through :mod:`app.orders.services`, which enforces the transition table, the
ordering roles and the library scope; a line outside the caller's scope is not found (404).
Bodies are read as strictly as the rest of the API (unknown keys refused, money and percents as
decimal strings, whole numbers as JSON integers, the fund distribution as rows of shares).
"""
from __future__ import annotations

from flask import request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ..auth.permissions import roles_required
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..funds import services as funds
from ..funds.models import Fund
from ..idempotency import idempotent
from ..inventory import services as inventory
from ..inventory.models import BibRecord
from ..ledger import format_plain
from ..orders import services as orders
from ..orders.models import ACQUISITION_METHODS, PACKAGING, POL_STATUSES, POLine
from ..orders.prediction import CHRONOLOGIES, FREQUENCIES
from ..org.models import Library
from ..vendors.models import Vendor
from .base import filter_fund
from .base import (BOOLEAN, CURRENCY, INTEGER, MOMENT, NULLABLE_DATE, NULLABLE_MOMENT, NULLABLE_STRING,
                   PERCENT_PATTERN, READ, STRING, action_paths, action_routes, bp, by_code, check_match, choice_arg,
                   input_schema, named, object_schema, one, operation, page_args, page_of, param, patch_schema,
                   path_param, per_page_param, query_param, ref, register_openapi, saved, share_schemas,
                   vendor_and_account)
from .inventory import item_json
from .serializers import Body, Field, iso_day, parse_percent, percent_text, read_body, read_patch, timestamp

ORDER = orders.PURCHASING
DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 200
METHOD_FILTERS = (*ACQUISITION_METHODS, "unpaid")
ACTIONS = ("approve", "defer", "resume", "renew", "send", "package", "receive", "receive-next", "activate", "cancel",
           "close", "reopen", "replace-vendor", "change-vendor", "change-reference", "relink")

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
                           nullable=True, schema={"minimum": 1}),
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
    "acquisition_method": Field("enum", "How the material is acquired; a gift, exchange, depository or technical "
                                        "order is not paid for and takes no fund.", default="purchase",
                                choices=tuple(ACQUISITION_METHODS)),
    "currency": Field("str", "A three-letter ISO currency code; null (the default): the vendor's currency.",
                      nullable=True),
    "list_price": Field("decimal", "The price of one copy, in the line's currency (decimal string).",
                        required=True),
    "quantity": Field("int", "Number of copies (1–10000).", default=1, schema={"minimum": 1, "maximum": 10000}),
    "discount": Field("decimal", "Discount percent on the list price (decimal string, 0–100, at most two "
                                 "decimals).", default="0"),
    "distribution_method": Field("enum", "Whether the distribution gives each fund a percent of the net price "
                                         "or an amount.", default="percent", choices=("percent", "amount")),
    "distribution": Field("shares", "The funds that pay: percents adding up to 100, or amounts covering the net "
                                    "price exactly.", default=(), component="POLineFund"),
    "reporting_code": Field("str", "A reporting code.", default="", max_length=40),
    "vendor_reference": Field("str", "The vendor's reference number.", default="", max_length=100),
    "note": Field("str", "A note.", default=""),
    "expected_receipt_date": Field("date", "When the material should arrive (YYYY-MM-DD).", nullable=True),
    "renewal_date": Field("date", "Continuous orders: the next renewal (YYYY-MM-DD; required for them).",
                          nullable=True),
    "renewal_period_months": Field("int", "Continuous orders: months between renewals (1–120).", default=12,
                                   schema={"minimum": 1, "maximum": 120}),
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
DEFER_IN = {"note": _NOTE}
RESUME_IN = {"note": _NOTE}
RENEW_IN = {"note": _NOTE}
ACTIVATE_IN = {
    "activation_date": Field("date", "The day the resource was activated (YYYY-MM-DD, not in the future); default: "
                                     "today.", nullable=True),
}
RECEIVE_NEXT_IN = {name: RECEIVE_IN[name] for name in ("received_date", "enumeration", "chronology")}
PACKAGE_IN = {
    "po": Field("str", "The number of an open purchase order of the line's vendor and owner; null (the default): a "
                       "new one.", nullable=True),
}
VENDOR_CHANGE_IN = {
    "vendor": Field("str", "The new vendor's code (an active vendor other than the line's).", required=True),
    "vendor_account": Field("str", "The code of one of the new vendor's accounts; null: none.", nullable=True),
}
RECORD_IN = {
    "bib_record_id": Field("int", "The bibliographic record (GET /bib-records finds it).", required=True,
                           schema={"minimum": 1}),
}
PATTERN_IN = {
    "frequency": Field("enum", "How often the issues come.", default="monthly", choices=tuple(FREQUENCIES)),
    "first_date": Field("date", "When the next issue to predict is expected (YYYY-MM-DD; not needed for an "
                                "irregular serial).", nullable=True),
    "chronology": Field("enum", "How an issue's chronology is written.", default="month",
                        choices=tuple(CHRONOLOGIES)),
    "first_volume": Field("int", "The next issue's volume; null (the default): issues are numbered without volumes.",
                          nullable=True, schema={"minimum": 1, "maximum": 100000}),
    "first_issue": Field("int", "The next issue's number.", default=1, schema={"minimum": 1, "maximum": 100000}),
    "issues_per_volume": Field("int", "Issues per volume (the number starts again at 1 in each volume).",
                               nullable=True, schema={"minimum": 1, "maximum": 1000}),
    "predict_ahead": Field("int", "How many issues are predicted ahead (1–24).", default=3,
                           schema={"minimum": 1, "maximum": 24}),
}
# What PATCH may change: the page's edit form (the record is changed by change-reference or relink,
# the inventory was made with the line).
PO_LINE_EDIT = {name: f for name, f in PO_LINE_IN.items()
                if name not in ("bib_record_id", "inventory_library", "location_code")}

# -- references in bodies and filters ----------------------------------------------------------

def _fund(ref, field: str) -> Fund:
    """A fund the caller can see, by id (an integer) or code (a string); unknown ones are InvalidInput."""
    if isinstance(ref, int):
        try:
            return funds.get_fund(current_user, ref)
        except NotFound:
            raise InvalidInput(f"No fund with id {ref}.", field) from None
    found = db.session.scalars(funds.visible_funds(current_user).where(Fund.code == ref)).all()
    if not found:
        raise InvalidInput(f"No fund {ref}.", field)
    if len(found) > 1:
        raise InvalidInput(f"Fund code {ref} is used in several fiscal periods; give the fund's id.", field)
    return found[0]


def _record(ref: int, field: str) -> BibRecord:
    """The record a body names by its id: InvalidInput on ``field`` when there is none."""
    try:
        return inventory.get_record(ref)
    except NotFound:
        raise InvalidInput(f"No bibliographic record {ref}.", field) from None


def _fields(body: Body, pol: POLine | None = None) -> orders.POLineFields:
    """The line's fields from a new line's body, or (``pol``) from a PATCH body read over ``pol``."""
    vendor, account = vendor_and_account(body)
    record = None
    if pol is None and body["bib_record_id"] is not None:
        record = _record(body["bib_record_id"], "bib_record_id")
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
        shares.append(orders.Share(_fund(row["fund"], "distribution"), row[method].strip()))
    owner = named(Library, body["owner_library"], "owner_library", "library") if body["owner_library"] is not None \
        else None
    inventory_library = (named(Library, body["inventory_library"], "inventory_library", "library")
                         if body.get("inventory_library") is not None else None)
    return orders.POLineFields(
        vendor=vendor, vendor_account=account, owner_library=owner, inventory_library=inventory_library,
        location_code=body.get("location_code", ""), bib_record=record if pol is None else pol.bib_record,
        **description, order_type=body["order_type"], material_form=body["material_form"],
        packaging=body["packaging"], acquisition_method=body["acquisition_method"],
        currency=body["currency"] or "", list_price=body["list_price"].strip(), quantity=body["quantity"],
        discount=parse_percent(body["discount"], "discount"), distribution_method=method,
        distribution=shares, reporting_code=body["reporting_code"], vendor_reference=body["vendor_reference"],
        note=body["note"], expected_receipt_date=body["expected_receipt_date"], renewal_date=body["renewal_date"],
        renewal_period_months=body["renewal_period_months"], manual_renewal=body["manual_renewal"])


def _as_input(pol: POLine) -> dict:
    """The line as :data:`PO_LINE_EDIT` reads it: what a PATCH leaves as it is. The distribution
    names each fund by its id (a code may be used in several fiscal periods)."""
    data = po_line_json(pol)
    current = {name: data[name] for name in PO_LINE_EDIT}
    current["expected_receipt_date"], current["renewal_date"] = pol.expected_receipt_date, pol.renewal_date
    method = pol.distribution_method
    current["distribution"] = [
        {"fund": share.fund_id, method: percent_text(share.percent) if method == "percent"
         else format_plain(share.amount, pol.currency)} for share in pol.distribution]
    return current


# -- what the API returns ----------------------------------------------------------------------

def allowed_actions(pol: POLine) -> list[str]:
    """Which of :data:`ACTIONS` the line's status (and order type) allows, as the line's page offers
    them; roles and scope still apply."""
    may_receive = pol.may("receive")
    allowed = {
        "approve": pol.may("approve"), "defer": pol.may("defer"), "resume": pol.may("resume"),
        "renew": pol.may("renew"),
        # A Ready line is packaged and sent in one go; a packaged one sends its PO.
        "send": pol.status == "ready" or pol.status in PACKAGING,
        "package": pol.status == "ready" and pol.packaging == "manual",
        "receive": may_receive and not (pol.is_electronic and pol.activation_date is not None),
        "receive-next": may_receive and not pol.is_one_time and not pol.is_electronic,
        "activate": may_receive and pol.is_electronic and pol.activation_date is None,
        "cancel": pol.may("cancel"),
        "close": pol.may("close"),
        "reopen": pol.may("reopen"),
        "replace-vendor": pol.may("replace_vendor"),
        "change-vendor": pol.may("change_vendor"),
        "change-reference": pol.may("change_reference"),
        "relink": pol.may("relink"),
    }
    return [a for a in ACTIONS if allowed[a]]


def pattern_json(pol: POLine) -> dict | None:
    p = pol.pattern
    if p is None:
        return None
    return {"frequency": p.frequency, "first_date": iso_day(p.first_date), "chronology": p.chronology,
            "first_volume": p.first_volume, "first_issue": p.first_issue, "issues_per_volume": p.issues_per_volume,
            "predict_ahead": p.predict_ahead}


def share_json(share, currency: str) -> dict:
    encumbered = share.encumbered_amount
    return {"fund": share.fund.code, "fund_id": share.fund_id,
            "percent": percent_text(share.percent),
            "amount": format_plain(share.amount, currency),
            "encumbered_amount": (format_plain(encumbered, share.encumbered_currency)
                                  if encumbered is not None else None),
            "encumbered_currency": share.encumbered_currency}


def po_line_json(pol: POLine) -> dict:
    currency = pol.currency
    return {
        "id": pol.id, "number": pol.number, "status": pol.status, "order_type": pol.order_type,
        "material_form": pol.material_form, "packaging": pol.packaging, "acquisition_method": pol.acquisition_method,
        "owner_library": pol.owner_library.code if pol.owner_library else None,
        "vendor": pol.vendor.code, "vendor_account": pol.vendor_account.code if pol.vendor_account else None,
        "po": pol.po.number if pol.po else None, "bib_record_id": pol.bib_record_id,
        "title": pol.title, "author": pol.author, "isbn": pol.isbn, "issn": pol.issn, "publisher": pol.publisher,
        "publication_date": pol.publication_date, "currency": currency,
        "list_price": format_plain(pol.list_price, currency), "discount": percent_text(pol.discount),
        "net_price": format_plain(pol.net_price, currency), "quantity": pol.quantity,
        "distribution_method": pol.distribution_method,
        "distribution": [share_json(s, currency) for s in pol.distribution],
        "reporting_code": pol.reporting_code, "vendor_reference": pol.vendor_reference, "note": pol.note,
        "expected_receipt_date": iso_day(pol.expected_receipt_date), "renewal_date": iso_day(pol.renewal_date),
        "renewal_period_months": pol.renewal_period_months, "manual_renewal": pol.manual_renewal,
        "activation_date": iso_day(pol.activation_date), "fully_invoiced": pol.fully_invoiced, "paid": pol.paid,
        "cancel_reason": pol.cancel_reason, "items": [item_json(i) for i in pol.items], "pattern": pattern_json(pol),
        "created_at": timestamp(pol.created_at), "approved_at": timestamp(pol.approved_at),
        "sent_at": timestamp(pol.sent_at), "closed_at": timestamp(pol.closed_at),
        "allowed_actions": allowed_actions(pol),
    }


# -- routes ------------------------------------------------------------------------------------

@bp.get("/po-lines")
@roles_required(*READ)
def list_po_lines():
    page = page_args(DEFAULT_PER_PAGE, MAX_PER_PAGE)
    args = request.args
    status = args.get("status", "")
    if status and status not in ("open", "renewal") and status not in POL_STATUSES:
        raise InvalidInput(f"Parameter status must be open, renewal or one of: {', '.join(POL_STATUSES)}.", "status")
    sort = choice_arg("sort", orders.SORTS) or "-number"
    line_filter = orders.LineFilter(
        q=args.get("q", "").strip(), status=status, sort=sort, method=choice_arg("method", METHOD_FILTERS),
        vendor_id=by_code(Vendor, args["vendor"], "vendor").id if args.get("vendor") else None,
        fund_id=filter_fund(args["fund"]).id if args.get("fund") else None,
        library_id=by_code(Library, args["library"], "library").id if args.get("library") else None)
    query = orders.po_lines_query(current_user, line_filter).options(
        selectinload(POLine.distribution), selectinload(POLine.items), selectinload(POLine.vendor_account),
        selectinload(POLine.po))
    return page.of(query, po_line_json)


@bp.get("/po-lines/<number>")
@roles_required(*READ)
def get_po_line(number):
    return one(orders.get_po_line(current_user, number), po_line_json)


@bp.patch("/po-lines/<number>")
@roles_required(*ORDER)
def patch_po_line(number):
    """The line page's edit form: a line In Review or Deferred; only the fields sent change."""
    pol = orders.get_po_line(current_user, number)
    check_match(pol, po_line_json)
    body = read_patch(PO_LINE_EDIT, _as_input(pol))
    orders.update_po_line(current_user, pol, _fields(body, pol))
    return saved(pol, po_line_json)


@bp.post("/po-lines")
@roles_required(*ORDER)
@idempotent
def create_po_line():
    pol = orders.create_po_line(current_user, _fields(read_body(PO_LINE_IN)))
    return saved(pol, po_line_json, 201, lambda p: url_for("api.get_po_line", number=p.number))


def _receive(pol: POLine, body: Body) -> None:
    day = body["received_date"]
    if pol.is_electronic:
        extra = sorted(body.given & {"item_ids", "enumeration", "chronology"})
        if extra:
            raise InvalidInput(f"{pol.number} is electronic: it is activated, so \"{extra[0]}\" does not apply.",
                               extra[0])
        orders.activate_po_line(current_user, pol, day)
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
    orders.receive_po_line(current_user, pol, items, day, body["enumeration"], body["chronology"])


def _package(pol: POLine, body: Body) -> None:
    po = None
    if body["po"] is not None:
        try:
            po = orders.get_po(current_user, body["po"])
        except NotFound:
            raise InvalidInput(f"No purchase order {body['po']}.", "po") from None
    orders.package_po_line(current_user, pol, po)


def _vendor_change(service):
    def change(pol: POLine, body: Body) -> None:
        vendor, account = vendor_and_account(body)
        service(current_user, pol, vendor, account)
    return change


def _pattern(pol: POLine, body: Body) -> None:
    def text(value):
        return "" if value is None else value
    orders.save_pattern(current_user, pol, orders.PatternFields(
        frequency=body["frequency"], first_date=body["first_date"], first_volume=text(body["first_volume"]),
        first_issue=body["first_issue"], issues_per_volume=text(body["issues_per_volume"]),
        chronology=body["chronology"], predict_ahead=body["predict_ahead"]))


def _note_action(service):
    return lambda pol, body: service(current_user, pol, note=body["note"])


action_routes("/po-lines/<number>/actions", lambda number: orders.get_po_line(current_user, number), po_line_json, {
    "approve": ("approve_po_line", ORDER, APPROVE_IN,
                lambda pol, body: orders.approve_po_line(current_user, pol, on=body["date"], note=body["note"])),
    "defer": ("defer_po_line", ORDER, DEFER_IN, _note_action(orders.defer_po_line)),
    "resume": ("resume_po_line", ORDER, RESUME_IN, _note_action(orders.resume_po_line)),
    "renew": ("renew_po_line", ORDER, RENEW_IN, _note_action(orders.renew_po_line)),
    "send": ("send_po_line", ORDER, SEND_IN, lambda pol, body: orders.send_po_line(current_user, pol)),
    "package": ("package_po_line", ORDER, PACKAGE_IN, _package),
    "receive": ("receive_po_line", ORDER, RECEIVE_IN, _receive),
    "receive-next": ("receive_next_po_line", ORDER, RECEIVE_NEXT_IN,
                     lambda pol, body: orders.receive_next_issue(current_user, pol, body["received_date"],
                                                                 body["enumeration"], body["chronology"])),
    "activate": ("activate_po_line", ORDER, ACTIVATE_IN,
                 lambda pol, body: orders.activate_po_line(current_user, pol, body["activation_date"])),
    "replace-vendor": ("replace_vendor_po_line", ORDER, VENDOR_CHANGE_IN, _vendor_change(orders.replace_vendor)),
    "change-vendor": ("change_vendor_po_line", ORDER, VENDOR_CHANGE_IN, _vendor_change(orders.change_vendor)),
    "change-reference": ("change_reference_po_line", ORDER, RECORD_IN,
                         lambda pol, body: orders.change_reference(
                             current_user, pol, _record(body["bib_record_id"], "bib_record_id"))),
    "relink": ("relink_po_line", ORDER, RECORD_IN,
               lambda pol, body: orders.relink_po_line(current_user, pol,
                                                       _record(body["bib_record_id"], "bib_record_id"))),
    "pattern": ("pattern_po_line", ORDER, PATTERN_IN, _pattern),
    "cancel": ("cancel_po_line", ORDER, CANCEL_IN,
               lambda pol, body: orders.cancel_po_line(current_user, pol, body["reason"])),
    "close": ("close_po_line", ORDER, CLOSE_IN, _note_action(orders.close_po_line)),
    "reopen": ("reopen_po_line", ORDER, REOPEN_IN, _note_action(orders.reopen_po_line)),
})


# -- OpenAPI -----------------------------------------------------------------------------------

_READ = "any role; lines outside your library scope are not found"


def _schema_name(action: str) -> str:
    return action.title().replace("-", "")


def _operation_id(action: str) -> str:
    name = _schema_name(action)
    return name[0].lower() + name[1:] + "POLine"


# action: (body spec, body description, summary)
_ACTION_DOCS = {
    "approve": (APPROVE_IN, "Approving encumbers each fund of the distribution in the fund's currency.",
                "Approve a line In Review or Deferred: it is Ready and its funds are encumbered"),
    "defer": (DEFER_IN, "Deferring keeps a line In Review aside; resume brings it back.", "Defer a line In Review"),
    "resume": (RESUME_IN, "The line is In Review again.", "Resume a Deferred line"),
    "renew": (RENEW_IN, "The renewal date moves on by the renewal period.",
              "Renew a continuous order waiting for renewal"),
    "send": (SEND_IN, "Nothing to give.", "Send a line: a Ready one is packaged into a purchase order, which is sent"),
    "package": (PACKAGE_IN, "The PO is sent later (POST /purchase-orders/{po_number}/actions/send).",
                "Package a Ready line (manual packaging) into an open purchase order, or a new one"),
    "receive": (RECEIVE_IN, "What arrived. Electronic lines are activated instead (only received_date applies).",
                "Receive a Sent line's material, or activate an electronic one"),
    "receive-next": (RECEIVE_NEXT_IN, "The next predicted issue (enumeration and chronology as predicted unless "
                                      "given), else a new one.", "Receive the next issue of a continuous order"),
    "activate": (ACTIVATE_IN, "An electronic resource is activated rather than received.",
                 "Activate a Sent electronic line"),
    "cancel": (CANCEL_IN, "Cancelling releases the encumbrance; when the line is alone on its order, inventory not yet "
                          "received is deleted.", "Cancel an open line: nothing will be received or paid"),
    "close": (CLOSE_IN, "Closing releases what is still encumbered; inventory stays.", "Close a complete line"),
    "reopen": (REOPEN_IN, "A reopened line is In Review again.", "Reopen a closed line: back In Review"),
    "replace-vendor": (VENDOR_CHANGE_IN, "Only the vendor changes; a line already sent is ordered from the new vendor "
                                         "and cancelled with the old one.", "Replace the vendor of a sent line"),
    "change-vendor": (VENDOR_CHANGE_IN, "The line moves into a new purchase order for the new vendor, which is sent "
                                        "at once; its old order is deleted when no line is left on it.",
                      "Order a sent line from another vendor"),
    "change-reference": (RECORD_IN, "The line's title, author and identifiers are taken from the record; the line "
                                    "and its inventory stay linked where they are.",
                         "Change a line's bibliographic reference (its description)"),
    "relink": (RECORD_IN, "The line, its holdings and their items move to the record; the description follows.",
               "Relink a line to another bibliographic record"),
    "pattern": (PATTERN_IN, "Issues still predicted are predicted again from the pattern; received ones stay.",
                "Set or replace a continuous physical order's publication pattern"),
}
_ORDER = "admin or purchasing_operator, within your library scope"
_LINE = "POLineNumber"

register_openapi(
    schemas={
        "POLineFund": object_schema({
            "fund": {"type": "string", "description": "The fund's code."}, "fund_id": INTEGER,
            "percent": {"type": ["string", "null"], "pattern": PERCENT_PATTERN,
                        "description": "Its percent (percent distributions); null for amount distributions."},
            "amount": {"allOf": [ref("Money")], "description": "Its share of the net price, in the line's currency."},
            "encumbered_amount": {"type": ["string", "null"], "pattern": r"^-?\d+(\.\d+)?$",
                                  "description": "What approving encumbered, in the fund's currency; null before "
                                                 "approval."},
            "encumbered_currency": NULLABLE_STRING}),
        "POLine": object_schema({
            "id": INTEGER, "number": {"type": "string", "examples": ["POL-000012"]},
            "status": {"type": "string", "enum": list(POL_STATUSES)},
            "order_type": {"type": "string", "enum": ["one_time", "continuous"]},
            "material_form": {"type": "string", "enum": ["physical", "electronic"]},
            "packaging": {"type": "string", "enum": ["auto", "manual"]},
            "acquisition_method": {"type": "string", "enum": list(ACQUISITION_METHODS)},
            "owner_library": {"type": ["string", "null"], "description": "The owning library's code; null: the "
                                                                         "institution."},
            "vendor": {"type": "string", "description": "The vendor's code."},
            "vendor_account": {"type": ["string", "null"], "description": "The vendor account's code."},
            "po": {"type": ["string", "null"], "description": "The purchase order's number, once packaged."},
            "bib_record_id": {"type": ["integer", "null"]},
            "title": STRING, "author": STRING, "isbn": STRING, "issn": STRING, "publisher": STRING,
            "publication_date": STRING, "currency": CURRENCY, "list_price": ref("Money"),
            "discount": {"type": "string", "pattern": PERCENT_PATTERN, "description": "A percent as a decimal string."},
            "net_price": ref("Money"), "quantity": INTEGER,
            "distribution_method": {"type": "string", "enum": ["percent", "amount"]},
            "distribution": {"type": "array", "items": ref("POLineFund")},
            "reporting_code": STRING, "vendor_reference": STRING, "note": STRING,
            "expected_receipt_date": NULLABLE_DATE, "renewal_date": NULLABLE_DATE, "renewal_period_months": INTEGER,
            "manual_renewal": BOOLEAN, "activation_date": NULLABLE_DATE, "fully_invoiced": BOOLEAN, "paid": BOOLEAN,
            "cancel_reason": STRING,
            "items": {"type": "array", "items": ref("Item"), "description": "The copies or issues ordered."},
            "pattern": {"oneOf": [ref("POLinePattern"), {"type": "null"}],
                        "description": "A continuous physical order's publication pattern; null: none."},
            "created_at": MOMENT, "approved_at": NULLABLE_MOMENT, "sent_at": NULLABLE_MOMENT,
            "closed_at": NULLABLE_MOMENT,
            "allowed_actions": {"type": "array", "items": {"type": "string", "enum": list(ACTIONS)},
                                "description": "The actions the line's status allows (your role and library scope "
                                               "still decide whether you may take them)."}},
            "A PO line: one ordered title or resource. net_price = list_price × quantity less the discount."),
        "POLinePattern": object_schema({
            "frequency": {"type": "string", "enum": list(FREQUENCIES)}, "first_date": NULLABLE_DATE,
            "chronology": {"type": "string", "enum": list(CHRONOLOGIES)},
            "first_volume": {"type": ["integer", "null"]}, "first_issue": INTEGER,
            "issues_per_volume": {"type": ["integer", "null"]}, "predict_ahead": INTEGER},
            "How the issues come; the next ones are predicted as items from it."),
        "POLinePage": page_of("POLine", "Lines"),
        "POLinePatch": patch_schema(PO_LINE_EDIT, "Some of the fields of a line In Review or Deferred; those not sent "
                                                  "stay as they are (the distribution is replaced as a whole)."),
        "POLineInput": input_schema(PO_LINE_IN, "A new PO line, In Review. Its bibliographic record, holding and (for "
                                                "a one-time physical order) one item per copy are made with it."),
        **share_schemas("POLineFund", "the fund's code", "Percent of the net price, e.g. \"33.33\".",
                        "Amount in the line's currency, e.g. \"12.50\".",
                        ("With distribution_method percent.", "With distribution_method amount.")),
        **{f"POLine{_schema_name(action)}Input": input_schema(spec, text)
           for action, (spec, text, _summary) in _ACTION_DOCS.items()},
    },
    parameters={
        _LINE: path_param("number", "The line's number, e.g. POL-000012 (or its id).", STRING),
        "POLineStatusFilter": query_param("status", {"type": "string", "enum": ["open", "renewal", *POL_STATUSES]},
                                          "Only lines in this status; open: every status but closed and cancelled; "
                                          "renewal: waiting for (manual) renewal."),
        "POLineMethodFilter": query_param("method", {"type": "string", "enum": list(METHOD_FILTERS)},
                                          "Only lines of this acquisition method; unpaid: every method not paid for "
                                          "(gift, exchange, …)."),
        "POLineVendorFilter": query_param("vendor", STRING, "Only lines ordered from the vendor with this code."),
        "POLineFundFilter": query_param("fund", STRING, "Only lines paid (in part) by this fund: its code, or its id."),
        "POLineLibraryFilter": query_param("library", STRING, "Only lines owned by the library with this code."),
        "POLineQuery": query_param("q", STRING, "Every word in the title, number, ISBN, author or vendor reference."),
        "POLinePerPage": per_page_param(MAX_PER_PAGE, DEFAULT_PER_PAGE),
        "POLineSort": query_param("sort", {"type": "string", "enum": list(orders.SORTS), "default": "-number"},
                                  "The order; a leading minus reverses it."),
    },
    paths={
        "/api/v1/po-lines": {
            "get": operation("listPOLines", "The PO lines you can see, newest first, paged", _READ,
                             ("200", "POLinePage", "One page of lines."), ("400", "404"),
                             params=("POLineStatusFilter", "POLineMethodFilter", "POLineVendorFilter",
                                     "POLineFundFilter", "POLineLibraryFilter", "POLineQuery", "POLineSort", "Page",
                                     "POLinePerPage")),
            "post": operation("createPOLine", "Create a PO line (In Review)", _ORDER,
                              ("201", "POLine", "Created (Location: the line)."), ("400", "422"), body="POLineInput",
                              location="The new line's URL.", idempotent=True),
        },
        "/api/v1/po-lines/{number}": {
            "parameters": [param(_LINE)],
            "get": operation("getPOLine", "One PO line with its distribution and items", _READ,
                             ("200", "POLine", "The line."), ("404",), etag=True),
            "patch": operation("patchPOLine", "Edit a line In Review or Deferred (the page's edit form)", _ORDER,
                               ("200", "POLine", "Saved."), ("400", "404", "422"), body="POLinePatch",
                               if_match="required", note="Only the fields sent change. A line in another status "
                                                         "is refused (422)."),
        },
        **action_paths("/api/v1/po-lines/{number}/actions", _LINE, {
            action: (_operation_id(action), summary, _ORDER, f"POLine{_schema_name(action)}Input")
            for action, (_spec, _text, summary) in _ACTION_DOCS.items()}, ("200", "POLine", "The updated line.")),
    })
