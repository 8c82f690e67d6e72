"""API v1: reading an invoice from a request body (create and PATCH) into the services' fields, and
the invoice as those bodies read it (what a PATCH leaves as it is).

Bodies are read strictly (unknown keys refused, money, percents and ratios as decimal strings,
never JSON numbers). A fund in a line's ``funds`` is an id (a JSON integer) or a code (a string)
resolved in the fiscal period that holds the invoice date.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_login import current_user
from sqlalchemy import select

from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..funds import services as funds
from ..funds.models import FiscalPeriod, Fund
from ..invoices import services as invoices
from ..invoices.models import PAYMENT_METHODS, Invoice, InvoiceLine
from ..ledger import format_plain
from ..orders import services as orders
from ..org.models import Library
from .base import named, vendor_and_account
from .serializers import MAX_MONEY, Body, Field, percent_text

CONFIRM_ANSWERS = ("yes", "add_vat", "no_vat")

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

# PATCH /invoices/{id}: the fields of the edit page; lines, charges and vat, when sent, replace the
# invoice's whole list (map, object).
INVOICE_UPDATE = {**{k: f for k, f in INVOICE_IN.items() if k != "process"},
                  "process": Field("bool", "Run the review and approval rules right after saving (\"save and "
                                           "continue\"); false (the default): save only.", default=False)}
# PATCH /invoices/{id}/lines/{position}: what stays editable on the lines past approval.
LINE_NOTES_IN = {name: Field("str", f"The line's {label}.", max_length=longest)
                 for name, (label, longest) in invoices.LINE_NOTE_FIELDS.items()}

# -- references --------------------------------------------------------------------------------

def period_of(day: date) -> FiscalPeriod | None:
    return db.session.scalar(select(FiscalPeriod).where(FiscalPeriod.start_date <= day, FiscalPeriod.end_date >= day)
                             .order_by(FiscalPeriod.start_date))


def fund_of(ref, day: date, where: str, field: str = "lines") -> Fund:
    """A visible fund by id, or by code in the fiscal period of the invoice date."""
    if isinstance(ref, int):
        try:
            return funds.get_fund(current_user, ref)
        except NotFound:
            raise InvalidInput(f"{where}: no fund with id {ref}.", field) from None
    period = period_of(day)
    if period is None:
        raise InvalidInput(f"{where}: no fiscal period holds the invoice date {day.isoformat()}, so fund {ref} "
                           "cannot be found by its code; give its id.", field)
    fund = db.session.scalar(funds.visible_funds(current_user).where(Fund.code == ref,
                                                                     Fund.fiscal_period_id == period.id))
    if fund is None:
        raise InvalidInput(f"{where}: no fund {ref} in fiscal period {period.code} (the invoice date's).", field)
    return fund


def po_line_of(ref, where: str):
    try:
        return orders.get_po_line(current_user, ref)
    except NotFound:
        raise InvalidInput(f"{where}: no PO line {ref}.", "lines") from None


def line_fields(body: Body, n: int, day: date) -> invoices.LineFields:
    where = f"Line {n}"
    rows = body[FUND_ROWS]
    methods = {"percent" if "percent" in row else "amount" for row in rows}
    if len(methods) > 1:
        raise InvalidInput(f"{where}: give every fund a percent, or every fund an amount.", "lines")
    method = methods.pop() if methods else "percent"
    if body["total"] is None and abs(Decimal(body["price"]) * body["quantity"]) >= MAX_MONEY:
        raise InvalidInput(f"{where}: quantity × price must be below {MAX_MONEY:f}.", "lines")
    shares = [invoices.Share(fund_of(row["fund"], day, where), row[method].strip()) for row in rows]
    return invoices.LineFields(
        unit_price=body["price"], quantity=body["quantity"], line_type=body["type"],
        po_line=po_line_of(body["po_line"], where) if body["po_line"] is not None else None, total=body["total"],
        fully_invoiced=body["fully_invoiced"], price_note=body["price_note"],
        subscription_from=body["subscription_from"], subscription_to=body["subscription_to"],
        reporting_code=body["reporting_code"], vat_code=body["vat_code"], vat_percent=body["vat_percent"],
        vat_amount=body["vat_amount"], distribution_method=method, distribution=shares, note=body["note"])


def invoice_fields(body: Body) -> invoices.InvoiceFields:
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
        vat_fund=fund_of(vat["fund"], day, "VAT", "vat") if vat["fund"] is not None else None,
        lines=[line_fields(line, n, day) for n, line in enumerate(body["lines"], 1)])


def line_input(line: InvoiceLine, currency: str) -> dict:
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


def as_input(invoice: Invoice) -> dict:
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
        "lines": [line_input(line, currency) for line in invoice.lines if line.line_type != "vat"],
        "confirm": None, "process": False,
    }
