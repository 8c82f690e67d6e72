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

from flask import request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..auth.models import Role
from ..auth.permissions import in_scope, institution_roles_required, library_scope, roles_required
from ..errors import Forbidden, InvalidInput, NotFound
from ..extensions import db
from ..funds import services as funds
from ..funds.models import FiscalPeriod, Fund
from ..idempotency import idempotent
from ..invoices import charges
from ..invoices import services as invoices
from ..invoices import settings as invoice_settings
from ..invoices.models import CHANNELS, PAYMENT_METHODS, STATUSES, Invoice, InvoiceLine
from ..ledger import format_plain
from ..orders import services as orders
from ..org.models import Library
from ..vendors.models import Vendor
from .base import (BOOLEAN, CURRENCY, DATE, INTEGER, MOMENT, NULLABLE_DATE, NULLABLE_MOMENT, NULLABLE_STRING,
                   PERCENT_PATTERN, READ, STRING, action_paths, action_routes, bp, by_code, check_match, choice_arg,
                   deleted, input_schema, match, named, object_schema, one, operation, page_args, page_of, param,
                   patch_schema, path_param, per_page_param, query_param, ref, refusal, register_openapi, saved,
                   share_schemas, vendor_and_account)
from .orders import _filter_fund
from .serializers import MAX_MONEY, Body, Field, iso_day, percent_text, read_body, read_patch, timestamp

OPERATE = invoices.OPERATORS
APPROVE = invoices.APPROVERS
DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 200
ACTIONS = ("process", "approve", "reject", "mark_in_erp", "paid", "rejected", "send_back_to_review")
CONFIRM_ANSWERS = ("yes", "add_vat", "no_vat")

# -- request bodies ----------------------------------------------------------------------------

SETTINGS_IN = {key: Field("bool", label + ".") for key, label in invoice_settings.LABELS.items()}

FUND_ROWS = "funds"
LINE_IN = {
    "type": Field("str", "regular (the default), or the code of a charge type (a charge as its own line).",
                  default="regular", max_length=20),
    "quantity": Field("int", "A whole number, not zero (negative: a credit).", default=1,
                      schema={"not": {"const": 0}}),
    "price": Field("number", "The unit price in the invoice currency (decimal string).", required=True),
    "total": Field("number", "The line total; null (the default): quantity × price.", nullable=True),
    "po_line": Field("ref", "The PO line invoiced: its number (\"POL-000012\") or id; null: none.", nullable=True),
    "fully_invoiced": Field("bool", "Whether this invoice completes the PO line (false: partial invoicing keeps "
                                    "it open).", default=True),
    "price_note": Field("str", "A note on the price.", default="", max_length=300),
    "subscription_from": Field("date", "Subscription start (YYYY-MM-DD).", nullable=True),
    "subscription_to": Field("date", "Subscription end (YYYY-MM-DD), after the start.", nullable=True),
    "reporting_code": Field("str", "A reporting code.", default="", max_length=40),
    "note": Field("str", "A note.", default=""),
    FUND_ROWS: Field("shares", "The funds that pay: every row a percent (adding up to 100) or every row an "
                               "amount (covering the line total).", default=(), component="InvoiceFund"),
    "vat_code": Field("str", "Line-level VAT: its code.", default="", max_length=20),
    "vat_percent": Field("number", "Line-level VAT: its percent.", nullable=True),
    "vat_amount": Field("number", "Line-level VAT: its amount; null: computed from the percent.", nullable=True),
}
VAT_IN = {
    "level": Field("enum", "VAT on the whole invoice, on its lines, or none.", required=True,
                   choices=("none", "invoice", "line")),
    "inclusive": Field("bool", "Whether the amounts already include the VAT.", default=False),
    "code": Field("str", "Invoice-level VAT code.", default="", max_length=20),
    "percent": Field("number", "Invoice-level VAT percent.", nullable=True),
    "amount": Field("number", "Invoice-level VAT amount; null: computed from the percent.", nullable=True),
    "separate_line": Field("bool", "Post invoice-level VAT as a separate adjustment line (else it is expended "
                                   "from the lines' funds).", default=False),
    "fund": Field("ref", "The fund that takes exclusive invoice-level VAT posted on a separate line (or raised to "
                         "the governmental vendor): its id, or its code in the fiscal period of the invoice date; "
                         "null (the default): the lines' funds.", nullable=True),
}
INVOICE_IN = {
    "number": Field("str", "The vendor's invoice number, unique per vendor.", required=True, max_length=50),
    "vendor": Field("str", "The vendor's code.", required=True),
    "vendor_account": Field("str", "The code of one of the vendor's accounts; null: none.", nullable=True),
    "invoice_date": Field("date", "The invoice date (YYYY-MM-DD); it picks the exchange rate and the fiscal "
                                  "period fund codes are resolved in.", required=True),
    "due_date": Field("date", "When it is due (YYYY-MM-DD).", nullable=True),
    "currency": Field("str", "A three-letter ISO code; null (the default): the vendor's currency.", nullable=True),
    "total_amount": Field("number", "The total as printed on the invoice (negative: a refund).", required=True),
    "owner_library": Field("str", "The owning library's code; null (the default): the institution.",
                           nullable=True),
    "payment_method": Field("enum", "How it is paid.", default="bank_transfer", choices=tuple(PAYMENT_METHODS)),
    "reference_number": Field("str", "A reference number.", default="", max_length=100),
    "notes": Field("str", "Notes.", default=""),
    "prepaid": Field("bool", "Already paid: it skips the ERP unless export_prepaid.", default=False),
    "export_prepaid": Field("bool", "A prepaid invoice that still goes to the ERP.", default=False),
    "internal_copy": Field("bool", "An internal copy, never exported to the ERP.", default=False),
    "explicit_ratio": Field("number", "1 unit of the invoice currency = this many units of a fund's currency "
                                       "(decimal string); null: the repository rate of the invoice date.",
                            nullable=True),
    "pro_rata": Field("bool", "Spread the charges over the lines; null (the default): the institution's "
                              "setting.", nullable=True),
    "charges": Field("amounts", "Additional charges spread pro rata: charge type code → amount.", default={},
                     schema={"examples": [{"shipment": "10.00", "discount": "-2.00"}]}),
    "vat": Field("object", "The VAT of the invoice; null: none.", nullable=True, spec=VAT_IN,
                 component="InvoiceVatInput"),
    "lines": Field("objects", "The invoice lines.", default=(), spec=LINE_IN, label="Line",
                   component="InvoiceLineInput"),
    "confirm": Field("enum", "The answer to the vendor/VAT check when a 409 confirmation_required asked for "
                             "one.", nullable=True, choices=CONFIRM_ANSWERS),
    "process": Field("bool", "Run the review and approval rules right after saving (\"save and continue\").",
                     default=True),
}

_NOTE = Field("str", "A note kept in the invoice's history.", default="", max_length=1000)
_REASON = Field("str", "Why (kept in the history and shown to the reviewer).", required=True, max_length=1000)
PROCESS_IN: dict[str, Field] = {}
APPROVE_IN = {"note": _NOTE,
              "late_reason": Field("str", "Needed when the invoice expends on a closed fiscal period: an "
                                   "administrator's reason, kept in the invoice's history.", default="",
                                   max_length=1000)}
REJECT_IN = {"reason": _REASON}
MARK_IN_ERP_IN: dict[str, Field] = {}
PAID_IN = {
    "voucher_number": Field("str", "The payment voucher's number.", required=True, max_length=50),
    "payment_date": Field("date", "The day it was paid (YYYY-MM-DD).", required=True),
    "amount": Field("number", "The amount paid (decimal string).", required=True),
    "currency": Field("str", "The currency paid in; null (the default): the invoice currency.", nullable=True),
}
REJECTED_IN = {"reason": Field("str", "The ERP's rejection note: it becomes the invoice's alert.", required=True,
                               max_length=1000)}
SEND_BACK_IN = {"reason": _REASON}
CHANGE_OWNER_IN = {"owner": Field("str", "The new owner library's code; null: the institution.", required=True,
                                  nullable=True)}
# PATCH /invoices/{id}: the fields of the edit page; lines, charges and vat, when sent, replace the
# invoice's whole list (map, object).
INVOICE_UPDATE = {**{k: f for k, f in INVOICE_IN.items() if k != "process"},
                  "process": Field("bool", "Run the review and approval rules right after saving (\"save and "
                                           "continue\"); false (the default): save only.", default=False)}
# PATCH /invoices/{id}/lines/{position}: what stays editable on the lines past approval.
LINE_NOTES_IN = {name: Field("str", f"The line's {label}.", max_length=longest)
                 for name, (label, longest) in invoices.LINE_NOTE_FIELDS.items()}
ACTION_BODIES = {"process": PROCESS_IN, "approve": APPROVE_IN, "reject": REJECT_IN, "mark_in_erp": MARK_IN_ERP_IN,
                 "paid": PAID_IN, "rejected": REJECTED_IN, "send_back_to_review": SEND_BACK_IN}

# -- references --------------------------------------------------------------------------------

def _period_of(day: date) -> FiscalPeriod | None:
    return db.session.scalar(select(FiscalPeriod).where(FiscalPeriod.start_date <= day, FiscalPeriod.end_date >= day)
                             .order_by(FiscalPeriod.start_date))


def _fund(ref, day: date, where: str, field: str = "lines") -> Fund:
    """A visible fund by id, or by code in the fiscal period of the invoice date."""
    if isinstance(ref, int):
        try:
            return funds.get_fund(current_user, ref)
        except NotFound:
            raise InvalidInput(f"{where}: no fund with id {ref}.", field) from None
    period = _period_of(day)
    if period is None:
        raise InvalidInput(f"{where}: no fiscal period holds the invoice date {day.isoformat()}, so fund {ref} "
                           "cannot be found by its code; give its id.", field)
    fund = db.session.scalar(funds.visible_funds(current_user).where(Fund.code == ref,
                                                                     Fund.fiscal_period_id == period.id))
    if fund is None:
        raise InvalidInput(f"{where}: no fund {ref} in fiscal period {period.code} (the invoice date's).", field)
    return fund


def _po_line(ref, where: str):
    try:
        return orders.get_po_line(current_user, ref)
    except NotFound:
        raise InvalidInput(f"{where}: no PO line {ref}.", "lines") from None


def _line_fields(body: Body, n: int, day: date) -> invoices.LineFields:
    where = f"Line {n}"
    rows = body[FUND_ROWS]
    methods = {"percent" if "percent" in row else "amount" for row in rows}
    if len(methods) > 1:
        raise InvalidInput(f"{where}: give every fund a percent, or every fund an amount.", "lines")
    method = methods.pop() if methods else "percent"
    if body["total"] is None and abs(Decimal(body["price"]) * body["quantity"]) >= MAX_MONEY:
        raise InvalidInput(f"{where}: quantity × price must be below {MAX_MONEY:f}.", "lines")
    shares = [invoices.Share(_fund(row["fund"], day, where), row[method].strip()) for row in rows]
    return invoices.LineFields(
        unit_price=body["price"], quantity=body["quantity"], line_type=body["type"],
        po_line=_po_line(body["po_line"], where) if body["po_line"] is not None else None, total=body["total"],
        fully_invoiced=body["fully_invoiced"], price_note=body["price_note"],
        subscription_from=body["subscription_from"], subscription_to=body["subscription_to"],
        reporting_code=body["reporting_code"], vat_code=body["vat_code"], vat_percent=body["vat_percent"],
        vat_amount=body["vat_amount"], distribution_method=method, distribution=shares, note=body["note"])


def _invoice_fields(body: Body) -> invoices.InvoiceFields:
    vendor, account = vendor_and_account(body)
    vat = body["vat"] or Body({"level": "none", "inclusive": False, "code": "", "percent": None,
                                   "amount": None, "separate_line": False, "fund": None}, set())
    day = body["invoice_date"]
    return invoices.InvoiceFields(
        number=body["number"], vendor=vendor, invoice_date=day, total_amount=body["total_amount"],
        currency=body["currency"] or "", vendor_account=account, due_date=body["due_date"],
        owner_library=(named(Library, body["owner_library"], "owner_library", "library")
                       if body["owner_library"] is not None else None),
        payment_method=body["payment_method"], reference_number=body["reference_number"], notes=body["notes"],
        prepaid=body["prepaid"], export_prepaid=body["export_prepaid"], internal_copy=body["internal_copy"],
        explicit_ratio=body["explicit_ratio"], pro_rata=body["pro_rata"], charges=dict(body["charges"]),
        vat_level=vat["level"], vat_inclusive=vat["inclusive"], vat_code=vat["code"], vat_percent=vat["percent"],
        vat_amount=vat["amount"], vat_separate_line=vat["separate_line"],
        vat_fund=_fund(vat["fund"], day, "VAT", "vat") if vat["fund"] is not None else None,
        lines=[_line_fields(line, n, day) for n, line in enumerate(body["lines"], 1)])


# -- what the API returns ----------------------------------------------------------------------

# The actions the API names otherwise than the pages (app.invoices.services.ACTIONS).
ACTION_NAMES = {"paid": "pay", "rejected": "erp_rejected", "send_back_to_review": "send_back"}


def allowed_actions(invoice: Invoice) -> list[str]:
    """The actions the invoice's status allows (roles, scope and the rules still apply)."""
    allowed = invoices.invoice_actions(None, invoice)
    return [a for a in ACTIONS if ACTION_NAMES.get(a, a) in allowed]


def line_json(line: InvoiceLine, currency: str) -> dict:
    return {
        "position": line.position, "type": line.line_type,
        "po_line": line.po_line.number if line.po_line else None, "quantity": line.quantity,
        "price": format_plain(line.unit_price, currency), "total": format_plain(line.total, currency),
        "fully_invoiced": line.fully_invoiced, "price_note": line.price_note,
        "subscription_from": iso_day(line.subscription_from), "subscription_to": iso_day(line.subscription_to),
        "reporting_code": line.reporting_code, "note": line.note, "vat_code": line.vat_code,
        "vat_percent": percent_text(line.vat_percent), "vat_amount": format_plain(line.vat_amount, currency),
        "distribution_method": line.distribution_method,
        "funds": [{"fund": d.fund.code, "fund_id": d.fund_id, "percent": percent_text(d.percent),
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
            "invoice_date": invoice.invoice_date.isoformat(), "due_date": iso_day(invoice.due_date),
            "currency": currency, "total_amount": format_plain(invoice.total_amount, currency),
            "owner_library": invoice.owner_library.code if invoice.owner_library else None,
            "channel": invoice.channel,
            "review_problems": [p.text for p in invoices.review_problems_for(current_user, invoice)],
            "alert": invoice.alert, "created_at": timestamp(invoice.created_at),
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
                "percent": percent_text(invoice.vat_percent), "amount": format_plain(invoice.vat_amount, currency),
                "separate_line": invoice.vat_separate_line, "confirmed": invoice.vat_confirmed,
                "fund": invoice.vat_fund.code if invoice.vat_fund else None},
        "governmental_for": invoice.governmental_for_id, "governmental_invoice": governmental,
        "erp_identifier": invoice.erp_identifier,
        "lines": [line_json(line, currency) for line in invoice.lines],
        "charges": {c.charge_type: format_plain(c.amount, currency) for c in invoice.charges},
        "postings": [posting_json(tx, positions) for tx in charges.postings_of(invoice)],
        "created_by": invoice.created_by.username if invoice.created_by else None,
        "approved_at": timestamp(invoice.approved_at),
        "approved_by": invoice.approved_by.username if invoice.approved_by else None,
        "exported_at": timestamp(invoice.exported_at),
        "payment": ({"voucher_number": invoice.voucher_number, "date": iso_day(invoice.payment_date),
                     "amount": format_plain(invoice.payment_amount, invoice.payment_currency or currency),
                     "currency": invoice.payment_currency or currency} if paid else None),
        "closed_at": timestamp(invoice.closed_at),
    }


def _line_input(line: InvoiceLine, currency: str) -> dict:
    """A line as :data:`LINE_IN` reads it (funds by id): what a PATCH without ``lines`` keeps."""
    method = line.distribution_method
    return {
        "type": line.line_type, "quantity": line.quantity, "price": format_plain(line.unit_price, currency),
        # a total that is just quantity × price stays null, so a changed price changes it (as on the page)
        "total": None if line.total == line.unit_price * line.quantity else format_plain(line.total, currency),
        "po_line": line.po_line.number if line.po_line else None, "fully_invoiced": line.fully_invoiced,
        "price_note": line.price_note, "subscription_from": line.subscription_from,
        "subscription_to": line.subscription_to, "reporting_code": line.reporting_code, "note": line.note,
        FUND_ROWS: [{"fund": d.fund_id, method: (percent_text(d.percent) if method == "percent"
                                                 else format_plain(d.amount, currency))}
                    for d in line.distribution],
        "vat_code": line.vat_code, "vat_percent": percent_text(line.vat_percent),
        "vat_amount": format_plain(line.vat_amount, currency) if line.vat_amount else None,
    }


def _as_input(invoice: Invoice) -> dict:
    """The invoice as :data:`INVOICE_UPDATE` reads it: what a PATCH leaves as it is. The separate VAT
    line is left out (saving adds it again), as on the edit page; ``confirm`` is asked again."""
    currency = invoice.currency
    return {
        "number": invoice.number, "vendor": invoice.vendor.code,
        "vendor_account": invoice.vendor_account.code if invoice.vendor_account else None,
        "invoice_date": invoice.invoice_date, "due_date": invoice.due_date, "currency": currency,
        "total_amount": format_plain(invoice.total_amount, currency),
        "owner_library": invoice.owner_library.code if invoice.owner_library else None,
        "payment_method": invoice.payment_method, "reference_number": invoice.reference_number,
        "notes": invoice.notes, "prepaid": invoice.prepaid, "export_prepaid": invoice.export_prepaid,
        "internal_copy": invoice.internal_copy,
        "explicit_ratio": (format(invoice.explicit_ratio.normalize(), "f")
                           if invoice.explicit_ratio is not None else None),
        "pro_rata": invoice.pro_rata,
        "charges": {c.charge_type: format_plain(c.amount, currency) for c in invoice.charges},
        "vat": {"level": invoice.vat_level, "inclusive": invoice.vat_inclusive, "code": invoice.vat_code,
                "percent": percent_text(invoice.vat_percent),
                "amount": format_plain(invoice.vat_amount, currency) if invoice.vat_amount else None,
                "separate_line": invoice.vat_separate_line, "fund": invoice.vat_fund_id},
        "lines": [_line_input(line, currency) for line in invoice.lines if line.line_type != "vat"],
        "confirm": None, "process": False,
    }


# -- settings ----------------------------------------------------------------------------------

@bp.get("/settings")
@roles_required(*READ)
def get_settings():
    return one(invoice_settings.all_settings(), dict)


@bp.put("/settings")
@institution_roles_required(Role.ADMIN)
def update_settings():
    body = read_body(SETTINGS_IN)
    match(invoice_settings.all_settings)
    values = invoice_settings.update(current_user, {key: body[key] for key in SETTINGS_IN if key in body.given})
    return saved(values, dict)


@bp.patch("/settings")
@institution_roles_required(Role.ADMIN)
def patch_settings():
    """The same partial update as PUT (which changes only the settings sent, too)."""
    match(invoice_settings.all_settings)
    body = read_patch(SETTINGS_IN, invoice_settings.all_settings())
    values = invoice_settings.update(current_user, {key: body[key] for key in body.given})
    return saved(values, dict)


# -- invoices ----------------------------------------------------------------------------------

@bp.get("/invoices")
@roles_required(*READ)
def list_invoices():
    """The invoice list's filters and sorts (newest first when no sort is given)."""
    page = page_args(DEFAULT_PER_PAGE, MAX_PER_PAGE)
    args = request.args
    sort = choice_arg("sort", invoices.INVOICE_SORTS)
    invoice_filter = invoices.InvoiceFilter(
        q=args.get("q", "").strip()[:200], status=choice_arg("status", STATUSES),
        vendor_id=by_code(Vendor, args["vendor"], "vendor").id if args.get("vendor") else None,
        fund_id=_filter_fund(args["fund"]).id if args.get("fund") else None,
        library_id=by_code(Library, args["library"], "library").id if args.get("library") else None,
        channel=choice_arg("channel", CHANNELS), approvable=_flag_arg("approvable"),
        erp_rejected=_flag_arg("erp_rejected"), waiting_days=_days_arg("waiting_days"))
    query = select(Invoice).where(*invoices.invoice_conditions(current_user, invoice_filter))
    if sort.lstrip("-") == "vendor":
        query = query.join(Vendor, Vendor.id == Invoice.vendor_id)
    return page.of(query.order_by(*(invoices.INVOICE_SORTS[sort] if sort else (Invoice.id.desc(),))), summary_json)


def _flag_arg(name: str) -> bool:
    value = request.args.get(name, "")
    if value not in ("", "true", "false", "1", "0"):
        raise InvalidInput(f"Parameter {name} must be true or false.", name)
    return value in ("true", "1")


def _days_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    if value == "":
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 4):
        raise InvalidInput(f"Parameter {name} must be a whole number of days from 0 to 9999.", name)
    return int(value)


@bp.get("/invoices/<int:id>")
@roles_required(*READ)
def get_invoice(id):  # noqa: A002 - the path parameter is {id}
    return one(invoices.get_invoice(current_user, id), invoice_json)


def _confirmation_needed(exc: invoices.ConfirmationNeeded):
    return refusal(exc, field="confirm", check=exc.check.value, answers=sorted(invoices.ANSWERS[exc.check]))


@bp.patch("/invoices/<int:id>")
@roles_required(*OPERATE)
def patch_invoice(id):  # noqa: A002
    """The edit page's save: the fields sent replace the invoice's (lines as a whole list)."""
    invoice = invoices.get_invoice(current_user, id)
    if not invoices.can_edit(current_user, invoice.owner_library_id):   # as the edit page: 403
        raise Forbidden("You may only edit invoices for your own library.", "owner_library")
    check_match(invoice, invoice_json)
    body = read_patch(INVOICE_UPDATE, _as_input(invoice))
    fields = _invoice_fields(body)
    try:
        invoices.update_invoice(current_user, invoice, fields, confirm=body["confirm"])
    except invoices.ConfirmationNeeded as exc:
        return _confirmation_needed(exc)
    if body["process"]:
        invoices.process_invoice(current_user, invoice)
    return saved(invoice, invoice_json)


@bp.delete("/invoices/<int:id>")
@roles_required(*invoices.DELETERS)
def delete_invoice(id):  # noqa: A002
    invoice = invoices.get_invoice(current_user, id)
    reason = request.args.get("reason", "").strip()
    if len(reason) > 1000:
        raise InvalidInput("Parameter reason is longer than 1000 characters.", "reason")
    check_match(invoice, invoice_json)
    invoices.delete_invoice(current_user, invoice, reason)
    return deleted()


def _line_of(invoice: Invoice, position: int) -> InvoiceLine:
    line = next((ln for ln in invoice.lines if ln.position == position), None)
    if line is None:
        raise NotFound(f"Invoice {invoice.number} has no line {position}.")
    return line


@bp.get("/invoices/<int:id>/lines/<int:position>")
@roles_required(*READ)
def get_invoice_line(id, position):  # noqa: A002
    invoice = invoices.get_invoice(current_user, id)
    return one(_line_of(invoice, position), lambda ln: line_json(ln, invoice.currency))


@bp.patch("/invoices/<int:id>/lines/<int:position>")
@roles_required(*OPERATE)
def patch_invoice_line(id, position):  # noqa: A002
    """The notes of a line of an approved, exported or closed invoice (the page's line notes form)."""
    invoice = invoices.get_invoice(current_user, id)
    line = _line_of(invoice, position)

    def to_json(ln):
        return line_json(ln, invoice.currency)
    check_match(line, to_json)
    body = read_patch(LINE_NOTES_IN, {name: getattr(line, name) for name in LINE_NOTES_IN})
    line = invoices.edit_line_notes(current_user, invoice, position, {name: body[name] for name in body.given})
    return saved(line, to_json)


@bp.post("/invoices")
@roles_required(*OPERATE)
@idempotent
def create_invoice():
    body = read_body(INVOICE_IN)
    fields = _invoice_fields(body)
    try:
        invoice = invoices.create_invoice(current_user, fields, channel="api", confirm=body["confirm"])
    except invoices.ConfirmationNeeded as exc:
        return _confirmation_needed(exc)
    if body["process"]:
        invoices.process_invoice(current_user, invoice)
    return saved(invoice, invoice_json, 201, lambda inv: url_for("api.get_invoice", id=inv.id))


def _within_scope(invoice: Invoice, roles, what: str) -> None:
    # For the ERP hand-offs, whose services trust their caller (the integration job).
    if not in_scope(library_scope(current_user, roles), invoice.owner_library_id):
        raise Forbidden(f"You may only {what} for your own library.", "owner_library")


def _mark_in_erp(invoice: Invoice, body: Body) -> None:
    _within_scope(invoice, APPROVE, "mark invoices as exported")
    invoices.mark_exported(current_user, invoice)


def _erp_rejected(invoice: Invoice, body: Body) -> None:
    _within_scope(invoice, APPROVE, "record ERP rejections")
    invoices.send_back_to_review(current_user, invoice, body["reason"], erp=True)


action_routes("/invoices/<int:id>/actions", lambda id: invoices.get_invoice(current_user, id), invoice_json, {
    "process": ("process_invoice", OPERATE, PROCESS_IN,
                lambda inv, body: invoices.process_invoice(current_user, inv)),
    "approve": ("approve_invoice", APPROVE, APPROVE_IN,
                lambda inv, body: invoices.approve_invoice(current_user, inv, body["note"], body["late_reason"])),
    "reject": ("reject_invoice", APPROVE, REJECT_IN,
               lambda inv, body: invoices.reject_invoice(current_user, inv, body["reason"])),
    "mark_in_erp": ("mark_invoice_in_erp", APPROVE, MARK_IN_ERP_IN, _mark_in_erp),
    "paid": ("record_invoice_payment", OPERATE, PAID_IN, lambda inv, body: invoices.record_payment(
        current_user, inv, body["voucher_number"], body["payment_date"], body["amount"], body["currency"])),
    "rejected": ("erp_reject_invoice", APPROVE, REJECTED_IN, _erp_rejected),
    "send_back_to_review": ("send_invoice_back_to_review", OPERATE, SEND_BACK_IN,
                            lambda inv, body: invoices.send_back_to_review(current_user, inv, body["reason"])),
})


def _change_owner(invoice: Invoice, body: Body) -> None:
    owner = named(Library, body["owner"], "owner", "library") if body["owner"] is not None else None
    invoices.change_owner(current_user, invoice, owner)


# Not among allowed_actions: every status allows it.
action_routes("/invoices/<int:id>/actions", lambda id: invoices.get_invoice(current_user, id), invoice_json, {
    "change_owner": ("change_invoice_owner", OPERATE, CHANGE_OWNER_IN, _change_owner),
})


# -- OpenAPI -----------------------------------------------------------------------------------

_READ = "any role; invoices outside your library scope are not found"
_OPERATE = "admin, invoice_operator, invoice_operator_extended or invoice_manager, within your library scope"
_APPROVE = "admin or invoice_manager, within your library scope"
_DELETE = "admin or invoice_operator_extended, within your library scope"
_INVOICE = "InvoiceId"
_CONFIRM_409 = {"409": {"description": "Duplicate invoice number, or a confirmation is needed.",
                        "content": {"application/json": {"schema": {"anyOf": [
                            ref("Error"), ref("InvoiceConfirmationRequired")]}}}}}
_NULLABLE_PERCENT = {"type": ["string", "null"], "pattern": PERCENT_PATTERN}


def _camel(action: str) -> str:
    return "".join(part.title() for part in action.split("_"))


_SUMMARY = {
    "id": INTEGER, "number": STRING, "status": {"type": "string", "enum": list(STATUSES)},
    "vendor": {"type": "string", "description": "The vendor's code."}, "invoice_date": DATE,
    "due_date": NULLABLE_DATE, "currency": CURRENCY, "total_amount": ref("Money"),
    "owner_library": {"type": ["string", "null"], "description": "The owning library's code; null: the institution."},
    "channel": {"type": "string", "enum": ["manual", "po", "file", "edi", "api"]},
    "review_problems": {"type": "array", "items": STRING, "description": "Why the review rules keep it In Review, "
                        "as you may read them: a possible duplicate in a library outside your scope is not named."},
    "alert": {"type": "string", "description": "E.g. the reason it was rejected or sent back."},
    "created_at": MOMENT,
    "allowed_actions": {"type": "array", "items": {"type": "string", "enum": list(ACTIONS)},
                        "description": "The actions its status allows (your role, scope and the rules still decide)."},
}

register_openapi(
    schemas={
        "InvoiceSettings": object_schema({key: BOOLEAN for key in invoice_settings.DEFAULTS},
                                         "The institution's invoicing settings."),
        "InvoiceSettingsInput": input_schema(SETTINGS_IN, "Any of the settings, as true or false."),
        "InvoiceSettingsPatch": patch_schema(SETTINGS_IN, "Some of the settings, as true or false."),
        "InvoiceLineFund": object_schema({
            "fund": {"type": "string", "description": "The fund's code."}, "fund_id": INTEGER,
            "percent": _NULLABLE_PERCENT,
            "amount": {"allOf": [ref("Money")], "description": "Its share, invoice currency."}}),
        "InvoiceLine": object_schema({
            "position": INTEGER, "type": STRING, "po_line": NULLABLE_STRING, "quantity": INTEGER,
            "price": ref("Money"), "total": ref("Money"), "fully_invoiced": BOOLEAN, "price_note": STRING,
            "subscription_from": NULLABLE_DATE, "subscription_to": NULLABLE_DATE, "reporting_code": STRING,
            "note": STRING, "vat_code": STRING, "vat_percent": _NULLABLE_PERCENT, "vat_amount": ref("Money"),
            "distribution_method": {"type": "string", "enum": ["percent", "amount"]},
            "funds": {"type": "array", "items": ref("InvoiceLineFund")}}),
        "InvoicePosting": object_schema({
            "id": INTEGER, "fund": STRING, "fund_id": INTEGER,
            "type": {"type": "string", "enum": ["encumbrance", "disencumbrance", "expenditure"]},
            "amount": {"allOf": [ref("Money")], "description": "In the fund's currency."}, "currency": STRING,
            "date": DATE, "line": {"type": ["integer", "null"], "description": "The invoice line it charges."}}),
        "InvoiceSummary": object_schema(_SUMMARY),
        "Invoice": object_schema({
            **_SUMMARY,
            "vendor_account": NULLABLE_STRING, "payment_method": {"type": "string", "enum": list(PAYMENT_METHODS)},
            "reference_number": STRING, "notes": STRING, "prepaid": BOOLEAN, "export_prepaid": BOOLEAN,
            "internal_copy": BOOLEAN, "explicit_ratio": {"type": ["string", "null"], "pattern": r"^\d+(\.\d+)?$"},
            "pro_rata": {"type": ["boolean", "null"], "description": "null: the institution's setting."},
            "vat": object_schema({"level": {"type": "string", "enum": ["none", "invoice", "line"]},
                                  "inclusive": BOOLEAN, "code": STRING, "percent": _NULLABLE_PERCENT,
                                  "amount": ref("Money"), "separate_line": BOOLEAN,
                                  "confirmed": {"type": "string", "description": "The vendor/VAT check confirmed, "
                                                                                 "if any."},
                                  "fund": {"type": ["string", "null"],
                                           "description": "The code of the fund that takes the VAT; null: the "
                                                          "lines' funds."}}),
            "governmental_for": {"type": ["integer", "null"], "description": "For a VAT invoice raised to a "
                                                                             "governmental vendor: the invoice it is "
                                                                             "for."},
            "governmental_invoice": {"type": ["integer", "null"], "description": "The VAT invoice raised to the "
                                                                                 "governmental vendor for this one."},
            "erp_identifier": NULLABLE_STRING,
            "lines": {"type": "array", "items": ref("InvoiceLine")},
            "charges": {"type": "object", "additionalProperties": ref("Money"),
                        "description": "Charges spread pro rata: charge type code → amount."},
            "postings": {"type": "array", "items": ref("InvoicePosting"),
                         "description": "The fund transactions it posted (and their reversals), in fund currency."},
            "created_by": NULLABLE_STRING, "approved_at": NULLABLE_MOMENT, "approved_by": NULLABLE_STRING,
            "exported_at": NULLABLE_MOMENT,
            "payment": {"oneOf": [object_schema({"voucher_number": STRING, "date": DATE, "amount": ref("Money"),
                                                 "currency": STRING}), {"type": "null"}]},
            "closed_at": NULLABLE_MOMENT,
        }, "An invoice with its lines, charges and the money it posted."),
        "InvoicePage": page_of("InvoiceSummary", "Invoices"),
        "InvoiceInput": input_schema(INVOICE_IN, "A new invoice, In Review (then processed unless process is false)."),
        "InvoiceLineInput": input_schema(LINE_IN, "An invoice line."),
        "InvoicePatch": patch_schema(INVOICE_UPDATE, "Some of the invoice's fields; those not sent stay as they "
                                                     "are. lines, charges and vat, when sent, replace the whole "
                                                     "list, map or object."),
        "InvoiceLineNotesPatch": patch_schema(LINE_NOTES_IN, "Some of the line's notes."),
        "InvoiceChangeOwnerInput": input_schema(CHANGE_OWNER_IN, "The new owner."),
        "InvoiceVatInput": input_schema(VAT_IN, "The invoice's VAT."),
        **share_schemas("InvoiceFund", "the fund's code, in the fiscal period of the invoice date",
                        "Percent of the line, e.g. \"50\".", "Amount in the invoice currency."),
        "InvoiceConfirmationRequired": object_schema({"error": object_schema({
            "code": {"type": "string", "const": "confirmation_required"},
            "message": {"type": "string", "description": "The question to answer."},
            "field": {"type": "string", "const": "confirm"},
            "check": {"type": "string", "description": "Which row of the vendor/VAT check asks."},
            "answers": {"type": "array", "items": {"type": "string", "enum": list(CONFIRM_ANSWERS)},
                        "description": "What confirm accepts: \"yes\"; for a governmental vendor \"add_vat\" (add its "
                                       "VAT and raise an invoice to it) or \"no_vat\"."}})}),
        **{f"Invoice{_camel(action)}Input": input_schema(spec, "What the action needs." if spec else "Nothing to give.")
           for action, spec in ACTION_BODIES.items()},
    },
    parameters={
        _INVOICE: path_param("id", "The invoice's id."),
        "InvoiceStatusFilter": query_param("status", {"type": "string", "enum": list(STATUSES)},
                                           "Only invoices in this status."),
        "InvoiceVendorFilter": query_param("vendor", STRING, "Only invoices of the vendor with this code."),
        "InvoiceQuery": query_param("q", STRING, "Every word in the invoice number or reference, the vendor's code "
                                                 "or name, or a line's PO line number."),
        "InvoiceFundFilter": query_param("fund", STRING, "Only invoices with a line paid by this fund: its code, or "
                                                         "its id."),
        "InvoiceLibraryFilter": query_param("library", STRING, "Only invoices owned by this library (its code)."),
        "InvoiceChannelFilter": query_param("channel", {"type": "string", "enum": list(CHANNELS)},
                                            "Only invoices created this way."),
        "InvoiceApprovableFilter": query_param("approvable", BOOLEAN, "Only invoices In Approval that you may "
                                                                      "approve."),
        "InvoiceErpRejectedFilter": query_param("erp_rejected", BOOLEAN, "Only invoices the ERP rejected."),
        "InvoiceWaitingDaysFilter": query_param("waiting_days", {"type": "integer", "minimum": 0, "maximum": 9999},
                                                "Only invoices Waiting for Payment for more than this many days."),
        "InvoiceSort": query_param("sort", {"type": "string", "enum": list(invoices.INVOICE_SORTS)},
                                   "The order (a leading minus reverses it); none: newest first."),
        "InvoicePerPage": per_page_param(MAX_PER_PAGE, DEFAULT_PER_PAGE),
        "InvoiceLinePosition": path_param("position", "The line's position on the invoice (1, 2, …)."),
        "InvoiceDeleteReason": query_param("reason", {"type": "string", "maxLength": 1000},
                                           "Why it is deleted (kept in the history)."),
    },
    paths={
        "/api/v1/settings": {
            "get": operation("getInvoiceSettings", "The invoicing settings", "any role",
                             ("200", "InvoiceSettings", "The settings."), etag=True),
            "put": operation("updateInvoiceSettings", "Change invoicing settings", "admin of the whole institution",
                             ("200", "InvoiceSettings", "The settings now."), ("400",), body="InvoiceSettingsInput",
                             if_match="required", note="Only the settings sent change."),
            "patch": operation("patchInvoiceSettings", "Change invoicing settings (as PUT)",
                               "admin of the whole institution", ("200", "InvoiceSettings", "The settings now."),
                               ("400",), body="InvoiceSettingsPatch", if_match="required",
                               note="Only the settings sent change."),
        },
        "/api/v1/invoices": {
            "get": operation("listInvoices", "The invoices you can see, newest first (or sorted), paged", _READ,
                             ("200", "InvoicePage", "One page of invoices."), ("400", "404"),
                             params=("InvoiceQuery", "InvoiceStatusFilter", "InvoiceVendorFilter", "InvoiceFundFilter",
                                     "InvoiceLibraryFilter", "InvoiceChannelFilter", "InvoiceApprovableFilter",
                                     "InvoiceErpRejectedFilter", "InvoiceWaitingDaysFilter", "InvoiceSort", "Page",
                                     "InvoicePerPage")),
            "post": operation(
                "createInvoice", "Create an invoice (channel api) and process it", _OPERATE,
                ("201", "Invoice", "Created (Location: the invoice)."), ("400", "404", "409", "422"),
                body="InvoiceInput", location="The new invoice's URL.", idempotent=True,
                note="409: the number is already used for the vendor (duplicate, naming the invoice), or the "
                     "vendor/VAT check needs an answer (confirmation_required: send it again with confirm). 422: "
                     "e.g. a fund would be over-expended.",
                responses=_CONFIRM_409),
        },
        "/api/v1/invoices/{id}": {
            "parameters": [param(_INVOICE)],
            "get": operation("getInvoice", "One invoice with its lines, charges and postings", _READ,
                             ("200", "Invoice", "The invoice."), ("404",), etag=True),
            "patch": operation(
                "patchInvoice", "Edit an invoice In Review or In Approval (the edit page's save)", _OPERATE,
                ("200", "Invoice", "Saved (In Review; processed when process is true)."),
                ("400", "404", "409", "422"), body="InvoicePatch", if_match="required", responses=_CONFIRM_409,
                note="Only the fields sent change; lines, when sent, replace all the lines (the separate VAT line "
                     "is made again by saving), charges all the charges, vat the whole VAT. An invoice In "
                     "Approval goes back to In Review. 409 as on creation: a duplicate number, or "
                     "confirmation_required (send the change again with confirm). 422: its status does not "
                     "allow editing, or a rule refused it. 403: your role is not for its library."),
            "delete": operation(
                "deleteInvoice", "Delete an invoice that has expended nothing (its history keeps a record)", _DELETE,
                ("204", None, "Deleted."), ("400", "404", "422"), if_match="required",
                params=("InvoiceDeleteReason",),
                note="422: it has expended money (send it back to review first)."),
        },
        "/api/v1/invoices/{id}/lines/{position}": {
            "parameters": [param(_INVOICE), param("InvoiceLinePosition")],
            "get": operation("getInvoiceLine", "One line of an invoice", _READ, ("200", "InvoiceLine", "The line."),
                             ("404",), etag=True),
            "patch": operation(
                "patchInvoiceLineNotes", "Change the notes of a line of an approved, exported or closed invoice",
                _OPERATE, ("200", "InvoiceLine", "Saved (the history keeps the change)."), ("400", "404", "422"),
                body="InvoiceLineNotesPatch", if_match="required",
                note="Only price_note, reporting_code and note; 422 while the invoice can still be edited whole "
                     "(edit it with PATCH /invoices/{id})."),
        },
        **action_paths("/api/v1/invoices/{id}/actions", _INVOICE, {
            "change_owner": ("invoiceActionChangeOwner", "Give the invoice to another library (or the institution)",
                             _OPERATE, "InvoiceChangeOwnerInput")}, ("200", "Invoice", "The updated invoice.")),
        **action_paths("/api/v1/invoices/{id}/actions", _INVOICE, {
            action: (f"invoiceAction{_camel(action)}", summary, roles, f"Invoice{_camel(action)}Input")
            for action, (summary, roles) in {
                "process": ("Save and continue: the review rules, then the approval rules", _OPERATE),
                "approve": ("Approve an invoice In Approval: its funds are expended", _APPROVE),
                "reject": ("Reject an invoice In Approval: back to review with the reason", _APPROVE),
                "mark_in_erp": ("The ERP has it: Waiting for Payment (or Closed when payment is not handled here)",
                                _APPROVE),
                "paid": ("Record the payment: Closed", _OPERATE),
                "rejected": ("The ERP rejected it: back to review with the reason as its alert", _APPROVE),
                "send_back_to_review": ("Send back to review: its postings are reversed", _OPERATE),
            }.items()}, ("200", "Invoice", "The updated invoice.")),
    })
