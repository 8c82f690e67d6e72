"""API v1: invoices and the invoicing settings.

Creating an invoice (channel "api"), reading one with its lines, distribution, charges and the
fund transactions it posted, the list in your scope, and the workflow actions. Everything goes
through :mod:`app.invoices.services` (and :mod:`app.invoices.settings`), so the rules and messages
are those of the pages; an invoice outside the caller's scope is not found (404).

Bodies are read strictly (unknown keys refused, money, percents and ratios as decimal strings,
never JSON numbers). A fund in a line's ``funds`` is an id (a JSON integer) or a code (a string)
resolved in the fiscal period that holds the invoice date. When saving needs the answer to the
vendor/VAT check, the answer is 409 ``confirmation_required`` with the question and the accepted
answers; send the invoice again with ``confirm``.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import jsonify, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..auth.models import Role
from ..auth.permissions import ALL_ROLES, in_scope, institution_roles_required, library_scope, roles_required
from ..errors import Forbidden, InvalidInput, NotFound
from ..extensions import db
from ..funds import services as fs
from ..funds.models import FiscalPeriod, Fund
from ..idempotency import idempotent
from ..invoices import charges
from ..invoices import services as ivs
from ..invoices import settings as invoice_settings
from ..invoices.models import PAYMENT_METHODS, STATUSES, Invoice, InvoiceLine
from ..ledger import format_plain
from ..orders import services as orders
from ..org.models import Library
from ..vendors.models import Vendor
from . import serializers as ser
from .openapi import _input_schema, _object, _operation, _param, _ref
from .orders import _distribution_rows
from .serializers import Field
from .views import MAX_PAGE, _commit, _int_arg, bp

READ = ALL_ROLES
OPERATE = ivs.OPERATORS
APPROVE = ivs.APPROVERS
DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 200
ACTIONS = ("process", "approve", "reject", "mark_in_erp", "paid", "rejected", "send_back_to_review")
CONFIRM_ANSWERS = ("yes", "add_vat", "no_vat")

# -- request bodies ----------------------------------------------------------------------------

SETTINGS_IN = {key: Field("bool", label + ".") for key, label in invoice_settings.LABELS.items()}

FUND_ROWS = "funds"
LINE_IN = {
    "type": Field("str", "regular (the default), or the code of a charge type (a charge as its own line).",
                  default="regular", max_length=20),
    "quantity": Field("int", "A whole number, not zero (negative: a credit).", default=1),
    "price": Field("decimal", "The unit price in the invoice currency (decimal string).", required=True),
    "total": Field("decimal", "The line total; null (the default): quantity × price.", nullable=True),
    "po_line": Field("ref", "The PO line invoiced: its number (\"POL-000012\") or id; null: none.", nullable=True),
    "fully_invoiced": Field("bool", "Whether this invoice completes the PO line (false: partial invoicing keeps "
                                    "it open).", default=True),
    "price_note": Field("str", "A note on the price.", default="", max_length=300),
    "subscription_from": Field("date", "Subscription start (YYYY-MM-DD).", nullable=True),
    "subscription_to": Field("date", "Subscription end (YYYY-MM-DD), after the start.", nullable=True),
    "reporting_code": Field("str", "A reporting code.", default="", max_length=40),
    "note": Field("str", "A note.", default=""),
    FUND_ROWS: Field("funds", "The funds that pay: every row a percent (adding up to 100) or every row an "
                              "amount (covering the line total).", default=()),
    "vat_code": Field("str", "Line-level VAT: its code.", default="", max_length=20),
    "vat_percent": Field("decimal", "Line-level VAT: its percent.", nullable=True),
    "vat_amount": Field("decimal", "Line-level VAT: its amount; null: computed from the percent.", nullable=True),
}
VAT_IN = {
    "level": Field("enum", "VAT on the whole invoice, on its lines, or none.", required=True,
                   choices=("none", "invoice", "line")),
    "inclusive": Field("bool", "Whether the amounts already include the VAT.", default=False),
    "code": Field("str", "Invoice-level VAT code.", default="", max_length=20),
    "percent": Field("decimal", "Invoice-level VAT percent.", nullable=True),
    "amount": Field("decimal", "Invoice-level VAT amount; null: computed from the percent.", nullable=True),
    "separate_line": Field("bool", "Post invoice-level VAT as a separate adjustment line (else it is expended "
                                   "from the lines' funds).", default=False),
}
INVOICE_IN = {
    "number": Field("str", "The vendor's invoice number, unique per vendor.", required=True, max_length=50),
    "vendor": Field("str", "The vendor's code.", required=True),
    "vendor_account": Field("str", "The code of one of the vendor's accounts; null: none.", nullable=True),
    "invoice_date": Field("date", "The invoice date (YYYY-MM-DD); it picks the exchange rate and the fiscal "
                                  "period fund codes are resolved in.", required=True),
    "due_date": Field("date", "When it is due (YYYY-MM-DD).", nullable=True),
    "currency": Field("str", "A three-letter ISO code; null (the default): the vendor's currency.", nullable=True),
    "total_amount": Field("decimal", "The total as printed on the invoice (negative: a refund).", required=True),
    "owner_library": Field("str", "The owning library's code; null (the default): the institution.",
                           nullable=True),
    "payment_method": Field("enum", "How it is paid.", default="bank_transfer", choices=tuple(PAYMENT_METHODS)),
    "reference_number": Field("str", "A reference number.", default="", max_length=100),
    "notes": Field("str", "Notes.", default=""),
    "prepaid": Field("bool", "Already paid: it skips the ERP unless export_prepaid.", default=False),
    "export_prepaid": Field("bool", "A prepaid invoice that still goes to the ERP.", default=False),
    "internal_copy": Field("bool", "An internal copy, never exported to the ERP.", default=False),
    "explicit_ratio": Field("decimal", "1 unit of the invoice currency = this many units of a fund's currency "
                                       "(decimal string); null: the repository rate of the invoice date.",
                            nullable=True),
    "pro_rata": Field("bool", "Spread the charges over the lines; null (the default): the institution's "
                              "setting.", nullable=True),
    "charges": Field("charges", "Additional charges spread pro rata: charge type code → amount.", default={}),
    "vat": Field("vat", "The VAT of the invoice; null: none.", nullable=True),
    "lines": Field("lines", "The invoice lines.", default=()),
    "confirm": Field("enum", "The answer to the vendor/VAT check when a 409 confirmation_required asked for "
                             "one.", nullable=True, choices=CONFIRM_ANSWERS),
    "process": Field("bool", "Run the review and approval rules right after saving (\"save and continue\").",
                     default=True),
}

_NOTE = Field("str", "A note kept in the invoice's history.", default="", max_length=1000)
_REASON = Field("str", "Why (kept in the history and shown to the reviewer).", required=True, max_length=1000)
PROCESS_IN: dict[str, Field] = {}
APPROVE_IN = {"note": _NOTE}
REJECT_IN = {"reason": _REASON}
MARK_IN_ERP_IN: dict[str, Field] = {}
PAID_IN = {
    "voucher_number": Field("str", "The payment voucher's number.", required=True, max_length=50),
    "payment_date": Field("date", "The day it was paid (YYYY-MM-DD).", required=True),
    "amount": Field("decimal", "The amount paid (decimal string).", required=True),
    "currency": Field("str", "The currency paid in; null (the default): the invoice currency.", nullable=True),
}
REJECTED_IN = {"reason": Field("str", "The ERP's rejection note: it becomes the invoice's alert.", required=True,
                               max_length=1000)}
SEND_BACK_IN = {"reason": _REASON}
ACTION_BODIES = {"process": PROCESS_IN, "approve": APPROVE_IN, "reject": REJECT_IN, "mark_in_erp": MARK_IN_ERP_IN,
                 "paid": PAID_IN, "rejected": REJECTED_IN, "send_back_to_review": SEND_BACK_IN}

_LOCAL_KINDS = {"int", "funds", "charges", "vat", "lines"}


def _read(data, spec: dict[str, Field], where: str | None = None, field: str | None = None) -> ser.Body:
    """Check an object against ``spec``. Nested objects (``where`` "Line 2", field "lines") report
    their problems prefixed with where they are, on the top-level field."""
    def refuse(message: str, name: str):
        raise InvalidInput(f"{where}: {message}" if where else message, field or name)

    if not isinstance(data, dict):
        refuse("must be a JSON object.", "")
    unknown = sorted(set(data) - set(spec))
    if unknown:
        names = ", ".join(f'"{k}"' for k in unknown)
        allowed = f"allowed: {', '.join(spec)}" if spec else "this action takes no fields"
        refuse(f"Unknown field{'s' if len(unknown) > 1 else ''} {names}; {allowed}.", unknown[0])
    missing = [k for k, f in spec.items() if f.required and k not in data]
    if missing:
        names = ", ".join(f'"{k}"' for k in missing)
        refuse(f"Missing required field{'s' if len(missing) > 1 else ''} {names}.", missing[0])
    values = {}
    for name, f in spec.items():
        if name not in data:
            values[name] = f.default
            continue
        value = data[name]
        if value is None and f.nullable:
            values[name] = None
            continue
        try:
            values[name] = _check_local(name, f, value) if f.kind in _LOCAL_KINDS else ser._check(name, f, value)
        except InvalidInput as exc:
            refuse(exc.message, name)
        if f.kind == "decimal":
            values[name] = _decimal_text(values[name], name)
    return ser.Body(values, set(data))


def _decimal_text(value: str, name: str) -> str:
    text = value.strip()
    if not ser._DECIMAL.match(text):
        raise InvalidInput(f"Field \"{name}\": \"{value}\" is not a decimal number such as \"12.50\".", name)
    if abs(Decimal(text)) >= ser.MAX_MONEY:
        raise InvalidInput(f"Field \"{name}\" must be below {ser.MAX_MONEY:f}.", name)
    return text


def _check_local(name: str, f: Field, value):
    if value is None:
        raise InvalidInput(f"Field \"{name}\" must not be null.", name)
    if f.kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidInput(f"Field \"{name}\" must be a whole number (a JSON integer).", name)
        return value
    if f.kind == "funds":
        return _distribution_rows(name, value)
    if f.kind == "charges":
        if not isinstance(value, dict):
            raise InvalidInput(f"Field \"{name}\" must be an object of charge type code → amount, such as "
                               "{\"shipment\": \"10.00\"}.", name)
        for code, amount in value.items():
            if not isinstance(amount, str):
                raise InvalidInput(f"Charge \"{code}\" must be a decimal string such as \"10.00\", not a JSON "
                                   "number.", name)
            _decimal_text(amount, name)
        return {code: amount.strip() for code, amount in value.items()}
    if f.kind == "vat":
        return _read(value, VAT_IN, "vat", name)
    if not isinstance(value, list):
        raise InvalidInput(f"Field \"{name}\" must be a list of line objects.", name)
    return [_read(line, LINE_IN, f"Line {n}", name) for n, line in enumerate(value, 1)]


# -- references --------------------------------------------------------------------------------

def _vendor(code: str) -> Vendor:
    vendor = db.session.scalar(select(Vendor).where(Vendor.code == code))
    if vendor is None:
        raise InvalidInput(f"No vendor {code}.", "vendor")
    return vendor


def _library(code: str) -> Library:
    library = db.session.scalar(select(Library).where(Library.code == code))
    if library is None:
        raise InvalidInput(f"No library {code}.", "owner_library")
    return library


def _period_of(day: date) -> FiscalPeriod | None:
    return db.session.scalar(select(FiscalPeriod).where(FiscalPeriod.start_date <= day, FiscalPeriod.end_date >= day)
                             .order_by(FiscalPeriod.start_date))


def _fund(ref, day: date, where: str) -> Fund:
    """A visible fund by id, or by code in the fiscal period of the invoice date."""
    if isinstance(ref, int):
        try:
            return fs.get_fund(current_user, ref)
        except NotFound:
            raise InvalidInput(f"{where}: no fund with id {ref}.", "lines") from None
    period = _period_of(day)
    if period is None:
        raise InvalidInput(f"{where}: no fiscal period holds the invoice date {day.isoformat()}, so fund {ref} "
                           "cannot be found by its code; give its id.", "lines")
    fund = db.session.scalar(fs.visible_funds(current_user).where(Fund.code == ref,
                                                                  Fund.fiscal_period_id == period.id))
    if fund is None:
        raise InvalidInput(f"{where}: no fund {ref} in fiscal period {period.code} (the invoice date's).", "lines")
    return fund


def _po_line(ref, where: str):
    try:
        return orders.get_po_line(current_user, ref)
    except NotFound:
        raise InvalidInput(f"{where}: no PO line {ref}.", "lines") from None


def _line_fields(body: ser.Body, n: int, day: date) -> ivs.LineFields:
    where = f"Line {n}"
    rows = body[FUND_ROWS]
    methods = {"percent" if "percent" in row else "amount" for row in rows}
    if len(methods) > 1:
        raise InvalidInput(f"{where}: give every fund a percent, or every fund an amount.", "lines")
    method = methods.pop() if methods else "percent"
    if body["total"] is None and abs(Decimal(body["price"]) * body["quantity"]) >= ser.MAX_MONEY:
        raise InvalidInput(f"{where}: quantity × price must be below {ser.MAX_MONEY:f}.", "lines")
    shares = [ivs.Share(_fund(row["fund"], day, where), row[method].strip()) for row in rows]
    return ivs.LineFields(
        unit_price=body["price"], quantity=body["quantity"], line_type=body["type"],
        po_line=_po_line(body["po_line"], where) if body["po_line"] is not None else None, total=body["total"],
        fully_invoiced=body["fully_invoiced"], price_note=body["price_note"],
        subscription_from=body["subscription_from"], subscription_to=body["subscription_to"],
        reporting_code=body["reporting_code"], vat_code=body["vat_code"], vat_percent=body["vat_percent"],
        vat_amount=body["vat_amount"], distribution_method=method, distribution=shares, note=body["note"])


def _invoice_fields(body: ser.Body) -> ivs.InvoiceFields:
    vendor = _vendor(body["vendor"])
    account = None
    if body["vendor_account"] is not None:
        account = next((a for a in vendor.accounts if a.code == body["vendor_account"]), None)
        if account is None:
            raise InvalidInput(f"Vendor {vendor.code} has no account {body['vendor_account']}.", "vendor_account")
    vat = body["vat"] or ser.Body({"level": "none", "inclusive": False, "code": "", "percent": None,
                                   "amount": None, "separate_line": False}, set())
    day = body["invoice_date"]
    return ivs.InvoiceFields(
        number=body["number"], vendor=vendor, invoice_date=day, total_amount=body["total_amount"],
        currency=body["currency"] or "", vendor_account=account, due_date=body["due_date"],
        owner_library=_library(body["owner_library"]) if body["owner_library"] is not None else None,
        payment_method=body["payment_method"], reference_number=body["reference_number"], notes=body["notes"],
        prepaid=body["prepaid"], export_prepaid=body["export_prepaid"], internal_copy=body["internal_copy"],
        explicit_ratio=body["explicit_ratio"], pro_rata=body["pro_rata"], charges=dict(body["charges"]),
        vat_level=vat["level"], vat_inclusive=vat["inclusive"], vat_code=vat["code"], vat_percent=vat["percent"],
        vat_amount=vat["amount"], vat_separate_line=vat["separate_line"],
        lines=[_line_fields(line, n, day) for n, line in enumerate(body["lines"], 1)])


# -- what the API returns ----------------------------------------------------------------------

def _day(value) -> str | None:
    return value.isoformat() if value is not None else None


def _percent(value) -> str | None:
    return ser._percent(value) if value is not None else None


# The actions the API names otherwise than the pages (app.invoices.services.ACTIONS).
ACTION_NAMES = {"paid": "pay", "rejected": "erp_rejected", "send_back_to_review": "send_back"}


def allowed_actions(invoice: Invoice) -> list[str]:
    """The actions the invoice's status allows (roles, scope and the rules still apply)."""
    allowed = ivs.invoice_actions(None, invoice)
    return [a for a in ACTIONS if ACTION_NAMES.get(a, a) in allowed]


def line_json(line: InvoiceLine, currency: str) -> dict:
    return {
        "position": line.position, "type": line.line_type,
        "po_line": line.po_line.number if line.po_line else None, "quantity": line.quantity,
        "price": format_plain(line.unit_price, currency), "total": format_plain(line.total, currency),
        "fully_invoiced": line.fully_invoiced, "price_note": line.price_note,
        "subscription_from": _day(line.subscription_from), "subscription_to": _day(line.subscription_to),
        "reporting_code": line.reporting_code, "note": line.note, "vat_code": line.vat_code,
        "vat_percent": _percent(line.vat_percent), "vat_amount": format_plain(line.vat_amount, currency),
        "distribution_method": line.distribution_method,
        "funds": [{"fund": d.fund.code, "fund_id": d.fund_id, "percent": _percent(d.percent),
                   "amount": format_plain(d.amount, currency)} for d in line.distribution],
    }


def posting_json(tx, positions: dict[int, int]) -> dict:
    line = positions.get(tx.source_id) if tx.source_type == charges.LINE_SOURCE else None
    return {"id": tx.id, "fund": tx.fund.code, "fund_id": tx.fund_id, "type": tx.kind,
            "amount": format_plain(tx.amount, tx.currency), "currency": tx.currency,
            "date": tx.transaction_date.isoformat(), "line": line}


def summary_json(invoice: Invoice) -> dict:
    currency = invoice.currency
    return {"id": invoice.id, "number": invoice.number, "status": invoice.status, "vendor": invoice.vendor.code,
            "invoice_date": invoice.invoice_date.isoformat(), "due_date": _day(invoice.due_date),
            "currency": currency, "total_amount": format_plain(invoice.total_amount, currency),
            "owner_library": invoice.owner_library.code if invoice.owner_library else None,
            "channel": invoice.channel,
            "review_problems": [p.text for p in ivs.review_problems_for(current_user, invoice)],
            "alert": invoice.alert, "created_at": ser._timestamp(invoice.created_at),
            "allowed_actions": allowed_actions(invoice)}


def invoice_json(invoice: Invoice) -> dict:
    currency = invoice.currency
    positions = {line.id: line.position for line in invoice.lines}
    governmental = db.session.scalar(select(Invoice.id).where(Invoice.governmental_for_id == invoice.id)
                                     .order_by(Invoice.id).limit(1))
    paid = invoice.payment_amount is not None
    return {
        **summary_json(invoice),
        "vendor_account": invoice.vendor_account.code if invoice.vendor_account else None,
        "payment_method": invoice.payment_method, "reference_number": invoice.reference_number,
        "notes": invoice.notes, "prepaid": invoice.prepaid, "export_prepaid": invoice.export_prepaid,
        "internal_copy": invoice.internal_copy,
        "explicit_ratio": (format(invoice.explicit_ratio.normalize(), "f")
                           if invoice.explicit_ratio is not None else None),
        "pro_rata": invoice.pro_rata,
        "vat": {"level": invoice.vat_level, "inclusive": invoice.vat_inclusive, "code": invoice.vat_code,
                "percent": _percent(invoice.vat_percent), "amount": format_plain(invoice.vat_amount, currency),
                "separate_line": invoice.vat_separate_line, "confirmed": invoice.vat_confirmed},
        "governmental_for": invoice.governmental_for_id, "governmental_invoice": governmental,
        "erp_identifier": invoice.erp_identifier,
        "lines": [line_json(line, currency) for line in invoice.lines],
        "charges": {c.charge_type: format_plain(c.amount, currency) for c in invoice.charges},
        "postings": [posting_json(tx, positions) for tx in charges.postings_of(invoice)],
        "created_by": invoice.created_by.username if invoice.created_by else None,
        "approved_at": ser._timestamp(invoice.approved_at),
        "approved_by": invoice.approved_by.username if invoice.approved_by else None,
        "exported_at": ser._timestamp(invoice.exported_at),
        "payment": ({"voucher_number": invoice.voucher_number, "date": _day(invoice.payment_date),
                     "amount": format_plain(invoice.payment_amount, invoice.payment_currency or currency),
                     "currency": invoice.payment_currency or currency} if paid else None),
        "closed_at": ser._timestamp(invoice.closed_at),
    }


# -- settings ----------------------------------------------------------------------------------

@bp.get("/settings")
@roles_required(*READ)
def get_settings():
    return invoice_settings.all_settings()


@bp.put("/settings")
@institution_roles_required(Role.ADMIN)
def update_settings():
    body = ser.read_body(SETTINGS_IN)
    values = invoice_settings.update(current_user, {key: body[key] for key in SETTINGS_IN if key in body.given})
    _commit()
    return values


# -- invoices ----------------------------------------------------------------------------------

@bp.get("/invoices")
@roles_required(*READ)
def list_invoices():
    page = _int_arg("page", 1, MAX_PAGE)
    per_page = _int_arg("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    status = request.args.get("status", "")
    query = select(Invoice).where(ivs.visible_invoices_clause(current_user))
    if status:
        if status not in STATUSES:
            raise InvalidInput(f"Parameter status must be one of: {', '.join(STATUSES)}.", "status")
        query = query.where(Invoice.status == status)
    if request.args.get("vendor"):
        code = request.args["vendor"]
        vendor = db.session.scalar(select(Vendor).where(Vendor.code == code))
        if vendor is None:
            raise NotFound(f"No vendor {code}.")
        query = query.where(Invoice.vendor_id == vendor.id)
    result = db.paginate(query.order_by(Invoice.id.desc()), page=page, per_page=per_page,
                         max_per_page=MAX_PER_PAGE, error_out=False)
    return {"items": [summary_json(inv) for inv in result.items], "page": page, "per_page": per_page,
            "total": result.total}


@bp.get("/invoices/<int:id>")
@roles_required(*READ)
def get_invoice(id):  # noqa: A002 - the path parameter is {id}
    return invoice_json(ivs.get_invoice(current_user, id))


@bp.post("/invoices")
@roles_required(*OPERATE)
@idempotent
def create_invoice():
    body = _read(ser.json_object(), INVOICE_IN)
    fields = _invoice_fields(body)
    try:
        invoice = ivs.create_invoice(current_user, fields, channel="api", confirm=body["confirm"])
    except ivs.ConfirmationNeeded as exc:
        db.session.rollback()
        return jsonify(error={"code": exc.code, "message": exc.message, "field": "confirm",
                              "check": exc.check.value, "answers": sorted(ivs.ANSWERS[exc.check])}), exc.status
    if body["process"]:
        ivs.process_invoice(current_user, invoice)
    _commit()
    resp = jsonify(invoice_json(invoice))
    resp.status_code = 201
    resp.headers["Location"] = url_for("api.get_invoice", id=invoice.id)
    return resp


def _within_scope(invoice: Invoice, roles, what: str) -> None:
    # For the ERP hand-offs, whose services trust their caller (the integration job).
    if not in_scope(library_scope(current_user, roles), invoice.owner_library_id):
        raise Forbidden(f"You may only {what} for your own library.", "owner_library")


def _act(invoice_id: int, action: str, run):
    """Find the invoice (404 outside the caller's scope), read the optional body, run one service."""
    invoice = ivs.get_invoice(current_user, invoice_id)
    data = {} if not request.get_data(cache=True).strip() else ser.json_object()
    run(invoice, _read(data, ACTION_BODIES[action]))
    _commit()
    return invoice_json(invoice)


@bp.post("/invoices/<int:id>/actions/process")
@roles_required(*OPERATE)
@idempotent
def process_invoice(id):  # noqa: A002
    return _act(id, "process", lambda inv, body: ivs.process_invoice(current_user, inv))


@bp.post("/invoices/<int:id>/actions/approve")
@roles_required(*APPROVE)
@idempotent
def approve_invoice(id):  # noqa: A002
    return _act(id, "approve", lambda inv, body: ivs.approve_invoice(current_user, inv, body["note"]))


@bp.post("/invoices/<int:id>/actions/reject")
@roles_required(*APPROVE)
@idempotent
def reject_invoice(id):  # noqa: A002
    return _act(id, "reject", lambda inv, body: ivs.reject_invoice(current_user, inv, body["reason"]))


def _mark_in_erp(invoice: Invoice, body) -> None:
    _within_scope(invoice, APPROVE, "mark invoices as exported")
    ivs.mark_exported(current_user, invoice)


@bp.post("/invoices/<int:id>/actions/mark_in_erp")
@roles_required(*APPROVE)
@idempotent
def mark_invoice_in_erp(id):  # noqa: A002
    return _act(id, "mark_in_erp", _mark_in_erp)


@bp.post("/invoices/<int:id>/actions/paid")
@roles_required(*OPERATE)
@idempotent
def record_invoice_payment(id):  # noqa: A002
    return _act(id, "paid", lambda inv, body: ivs.record_payment(
        current_user, inv, body["voucher_number"], body["payment_date"], body["amount"], body["currency"]))


def _erp_rejected(invoice: Invoice, body) -> None:
    _within_scope(invoice, APPROVE, "record ERP rejections")
    ivs.send_back_to_review(current_user, invoice, body["reason"], erp=True)


@bp.post("/invoices/<int:id>/actions/rejected")
@roles_required(*APPROVE)
@idempotent
def erp_reject_invoice(id):  # noqa: A002
    return _act(id, "rejected", _erp_rejected)


@bp.post("/invoices/<int:id>/actions/send_back_to_review")
@roles_required(*OPERATE)
@idempotent
def send_invoice_back_to_review(id):  # noqa: A002
    return _act(id, "send_back_to_review",
                lambda inv, body: ivs.send_back_to_review(current_user, inv, body["reason"]))


# -- OpenAPI -----------------------------------------------------------------------------------

def _openapi():
    string, integer, boolean = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
    code_or_null = {"type": ["string", "null"]}
    day, day_or_null = {"type": "string", "format": "date"}, {"type": ["string", "null"], "format": "date"}
    moment = {"type": "string", "format": "date-time"}
    moment_or_null = {"type": ["string", "null"], "format": "date-time"}
    percent_or_null = {"type": ["string", "null"], "pattern": r"^\d+\.\d{2}$"}
    money = _ref("Money")
    status = {"type": "string", "enum": list(STATUSES)}
    fund_ref = {"oneOf": [{"type": "integer", "minimum": 1, "description": "the fund's id"},
                          {"type": "string", "minLength": 1, "description": "the fund's code, in the fiscal "
                                                                           "period of the invoice date"}]}
    share_in = {"type": "string", "pattern": r"^\s*[+-]?\d{1,15}(\.\d+)?\s*$"}

    line_input = _input_schema(LINE_IN, "An invoice line.")
    line_input["properties"]["quantity"] = {"type": "integer", "not": {"const": 0}, "default": 1,
                                            "description": LINE_IN["quantity"].description}
    line_input["properties"][FUND_ROWS] = {
        "type": "array", "default": [], "description": LINE_IN[FUND_ROWS].description,
        "items": {"oneOf": [_ref("InvoiceFundPercentInput"), _ref("InvoiceFundAmountInput")]}}
    vat_input = _input_schema(VAT_IN, "The invoice's VAT.")
    invoice_input = _input_schema(INVOICE_IN, "A new invoice, In Review (then processed unless process is false).")
    props = invoice_input["properties"]
    props["charges"] = {"type": "object", "default": {}, "description": INVOICE_IN["charges"].description,
                        "additionalProperties": share_in, "examples": [{"shipment": "10.00", "discount": "-2.00"}]}
    props["vat"] = {"oneOf": [_ref("InvoiceVatInput"), {"type": "null"}], "description": INVOICE_IN["vat"].description}
    props["lines"] = {"type": "array", "default": [], "items": _ref("InvoiceLineInput"),
                      "description": INVOICE_IN["lines"].description}

    summary_props = {
        "id": integer, "number": string, "status": status, "vendor": {"type": "string", "description": "The "
                                                                                                       "vendor's code."},
        "invoice_date": day, "due_date": day_or_null, "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "total_amount": money,
        "owner_library": {"type": ["string", "null"], "description": "The owning library's code; null: the "
                                                                     "institution."},
        "channel": {"type": "string", "enum": ["manual", "po", "file", "edi", "api"]},
        "review_problems": {"type": "array", "items": string, "description": "Why the review rules keep it In "
                            "Review, as you may read them: a possible duplicate in a library outside your scope "
                            "is not named."},
        "alert": {"type": "string", "description": "E.g. the reason it was rejected or sent back."},
        "created_at": moment,
        "allowed_actions": {"type": "array", "items": {"type": "string", "enum": list(ACTIONS)},
                            "description": "The actions its status allows (your role, scope and the rules still "
                                           "decide)."},
    }
    invoice_props = {
        **summary_props,
        "vendor_account": code_or_null, "payment_method": {"type": "string", "enum": list(PAYMENT_METHODS)},
        "reference_number": string, "notes": string, "prepaid": boolean, "export_prepaid": boolean,
        "internal_copy": boolean,
        "explicit_ratio": {"type": ["string", "null"], "pattern": r"^\d+(\.\d+)?$"},
        "pro_rata": {"type": ["boolean", "null"], "description": "null: the institution's setting."},
        "vat": _object({"level": {"type": "string", "enum": ["none", "invoice", "line"]}, "inclusive": boolean,
                        "code": string, "percent": percent_or_null, "amount": money, "separate_line": boolean,
                        "confirmed": {"type": "string", "description": "The vendor/VAT check confirmed, if any."}}),
        "governmental_for": {"type": ["integer", "null"], "description": "For a VAT invoice raised to a "
                                                                         "governmental vendor: the invoice it is for."},
        "governmental_invoice": {"type": ["integer", "null"], "description": "The VAT invoice raised to the "
                                                                             "governmental vendor for this one."},
        "erp_identifier": code_or_null,
        "lines": {"type": "array", "items": _ref("InvoiceLine")},
        "charges": {"type": "object", "additionalProperties": money,
                    "description": "Charges spread pro rata: charge type code → amount."},
        "postings": {"type": "array", "items": _ref("InvoicePosting"),
                     "description": "The fund transactions it posted (and their reversals), in fund currency."},
        "created_by": code_or_null, "approved_at": moment_or_null, "approved_by": code_or_null,
        "exported_at": moment_or_null,
        "payment": {"oneOf": [_object({"voucher_number": string, "date": day, "amount": money,
                                       "currency": string}), {"type": "null"}]},
        "closed_at": moment_or_null,
    }
    schemas = {
        "InvoiceSettings": _object({key: boolean for key in invoice_settings.DEFAULTS},
                                   "The institution's invoicing settings."),
        "InvoiceSettingsInput": {**_input_schema(SETTINGS_IN, "Any of the settings, as true or false."),
                                 "required": []},
        "InvoiceLineFund": _object({"fund": {"type": "string", "description": "The fund's code."},
                                    "fund_id": integer, "percent": percent_or_null,
                                    "amount": {"allOf": [money], "description": "Its share, invoice currency."}}),
        "InvoiceLine": _object({
            "position": integer, "type": string, "po_line": code_or_null, "quantity": integer, "price": money,
            "total": money, "fully_invoiced": boolean, "price_note": string, "subscription_from": day_or_null,
            "subscription_to": day_or_null, "reporting_code": string, "note": string, "vat_code": string,
            "vat_percent": percent_or_null, "vat_amount": money,
            "distribution_method": {"type": "string", "enum": ["percent", "amount"]},
            "funds": {"type": "array", "items": _ref("InvoiceLineFund")}}),
        "InvoicePosting": _object({
            "id": integer, "fund": string, "fund_id": integer,
            "type": {"type": "string", "enum": ["encumbrance", "disencumbrance", "expenditure"]},
            "amount": {"allOf": [money], "description": "In the fund's currency."}, "currency": string,
            "date": day, "line": {"type": ["integer", "null"], "description": "The invoice line it charges."}}),
        "InvoiceSummary": _object(summary_props),
        "Invoice": _object(invoice_props, "An invoice with its lines, charges and the money it posted."),
        "InvoicePage": _object({"items": {"type": "array", "items": _ref("InvoiceSummary")}, "page": integer,
                                "per_page": integer, "total": {"type": "integer", "description": "Invoices over "
                                                                                                 "all pages."}}),
        "InvoiceInput": invoice_input,
        "InvoiceLineInput": line_input,
        "InvoiceVatInput": vat_input,
        "InvoiceFundPercentInput": _object({"fund": fund_ref, "percent": dict(share_in, description="Percent of "
                                                                              "the line, e.g. \"50\".")}),
        "InvoiceFundAmountInput": _object({"fund": fund_ref, "amount": dict(share_in, description="Amount in the "
                                                                            "invoice currency.")}),
        "InvoiceConfirmationRequired": _object({"error": _object({
            "code": {"type": "string", "const": "confirmation_required"},
            "message": {"type": "string", "description": "The question to answer."},
            "field": {"type": "string", "const": "confirm"},
            "check": {"type": "string", "description": "Which row of the vendor/VAT check asks."},
            "answers": {"type": "array", "items": {"type": "string", "enum": list(CONFIRM_ANSWERS)},
                        "description": "What confirm accepts: \"yes\"; for a governmental vendor \"add_vat\" (add "
                                       "its VAT and raise an invoice to it) or \"no_vat\"."}})}),
        **{f"Invoice{''.join(p.title() for p in action.split('_'))}Input": _input_schema(spec, "")
           for action, spec in ACTION_BODIES.items()},
    }
    for action in ACTIONS:
        schemas[f"Invoice{''.join(p.title() for p in action.split('_'))}Input"]["description"] = (
            "Nothing to give." if not ACTION_BODIES[action] else "What the action needs.")
    parameters = {
        "InvoiceId": {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"},
                      "description": "The invoice's id."},
        "InvoiceStatusFilter": {"name": "status", "in": "query", "required": False,
                                "schema": {"type": "string", "enum": list(STATUSES)},
                                "description": "Only invoices in this status."},
        "InvoiceVendorFilter": {"name": "vendor", "in": "query", "required": False, "schema": string,
                                "description": "Only invoices of the vendor with this code."},
        "InvoicePerPage": {"name": "per_page", "in": "query", "required": False,
                           "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                                      "default": DEFAULT_PER_PAGE}},
    }
    read = "any role; invoices outside your library scope are not found"
    operate = "admin, invoice_operator, invoice_operator_extended or invoice_manager, within your library scope"
    approve = "admin or invoice_manager, within your library scope"

    create = _operation("createInvoice", "Create an invoice (channel api) and process it", operate,
                        ("201", "Invoice", "Created (Location: the invoice)."), ("400", "404", "409", "422"),
                        body="InvoiceInput")
    create["description"] += (" 409: the number is already used for the vendor (duplicate, naming the invoice), "
                              "or the vendor/VAT check needs an answer (confirmation_required: send it again with "
                              "confirm). 422: e.g. a fund would be over-expended.")
    create["responses"]["201"]["headers"] = {"Location": {"description": "The new invoice's URL.",
                                                          "schema": {"type": "string"}}}
    create["responses"]["409"] = {"description": "Duplicate invoice number, or a confirmation is needed.",
                                  "content": {"application/json": {"schema": {"anyOf": [
                                      _ref("Error"), _ref("InvoiceConfirmationRequired")]}}}}
    put = _operation("updateInvoiceSettings", "Change invoicing settings", "admin of the whole institution",
                     ("200", "InvoiceSettings", "The settings now."), ("400",), body="InvoiceSettingsInput")
    paths = {
        "/api/v1/settings": {
            "get": _operation("getInvoiceSettings", "The invoicing settings", "any role",
                              ("200", "InvoiceSettings", "The settings.")),
            "put": put,
        },
        "/api/v1/invoices": {
            "get": _operation("listInvoices", "The invoices you can see, newest first, paged", read,
                              ("200", "InvoicePage", "One page of invoices."), ("400", "404"),
                              params=("InvoiceStatusFilter", "InvoiceVendorFilter", "Page", "InvoicePerPage")),
            "post": create,
        },
        "/api/v1/invoices/{id}": {
            "parameters": [_param("InvoiceId")],
            "get": _operation("getInvoice", "One invoice with its lines, charges and postings", read,
                              ("200", "Invoice", "The invoice."), ("404",)),
        },
    }
    actions = {
        "process": ("Save and continue: the review rules, then the approval rules", operate),
        "approve": ("Approve an invoice In Approval: its funds are expended", approve),
        "reject": ("Reject an invoice In Approval: back to review with the reason", approve),
        "mark_in_erp": ("The ERP has it: Waiting for Payment (or Closed when payment is not handled here)", approve),
        "paid": ("Record the payment: Closed", operate),
        "rejected": ("The ERP rejected it: back to review with the reason as its alert", approve),
        "send_back_to_review": ("Send back to review: its postings are reversed", operate),
    }
    for action, (summary, roles) in actions.items():
        name = "".join(p.title() for p in action.split("_"))
        op = _operation(f"invoiceAction{name}", summary, roles, ("200", "Invoice", "The updated invoice."),
                        ("400", "404", "422"), body=f"Invoice{name}Input")
        op["requestBody"]["required"] = False
        op["description"] += (" The body is optional. A status that does not allow the action is refused (422) "
                              "and nothing changes.")
        paths[f"/api/v1/invoices/{{id}}/actions/{action}"] = {"parameters": [_param("InvoiceId")], "post": op}
    return paths, schemas, parameters


OPENAPI_PATHS, OPENAPI_SCHEMAS, OPENAPI_PARAMETERS = _openapi()
