"""The invoice export file ``payment_data`` (Alma-style "invoices for payment"), written from plain
data: no database, no clock. The same invoices always give the same bytes, so a batch can be
rendered again and compared, and a failed upload is retried with an identical file.

Element names and order follow the 2021-style export (see the project's format notes): default
namespace, ``invoice_list/invoice*``, dates MM/DD/YYYY, plain decimal amounts, ``true``/``false``,
a 16-digit ``unique_identifier``, every additional charge written (zeros included). Our own XSD
``xsd/payment_data.xsd`` describes exactly what is written here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from lxml import etree

NAMESPACE = "http://com/exlibris/repository/acq/invoice/xmlbeans"
_NS = "{%s}" % NAMESPACE
# Characters XML 1.0 cannot carry (control characters other than tab, newline, carriage return).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# The invoice-level charges, in the order they are written (all always present).
CHARGE_ELEMENTS = (
    "total_charges_amount", "overhead_amount", "discount_amount", "shipment_amount", "insurance_amount",
    "supply_of_approvals_book_collections_amount", "barcode_labelling_amount", "classification_amount",
    "general_servicing_by_library_bookseller_amount", "binding_amount", "sleeving_amount",
    "data_communication_amount", "miscellaneous_servicing_amount", "audio_CD-ROM_packaging_amount",
    "security_fitting_amount", "cataloguing_services_amount", "commission_amount", "delivery_amount",
    "exchange_rate_guarantee_charge_amount", "handling_charge_amount", "small_order_surcharge_amount",
    "insurance_charge_amount", "posting_charge_amount", "packing_charge_amount",
    "postage_and_packing_charge_amount", "special_handling_amount", "miscellaneous_credit_adjustment_amount",
    "miscellaneous_charge_amount",
)


@dataclass(frozen=True)
class Amount:
    currency: str
    sum: Decimal


@dataclass(frozen=True)
class Audit:
    """Who created and last changed a record, and when (dates only)."""
    created_by: str
    creation_date: date
    customer_id: str
    institution_id: str
    modified_by: str
    modification_date: date | None = None


@dataclass(frozen=True)
class Note:
    content: str
    audit: Audit


@dataclass(frozen=True)
class PaymentAddress:
    preferred: bool
    lines: tuple[str, ...]          # 1 to 5 address lines
    city: str
    postal_code: str
    state_province: str
    types: tuple[str, ...]
    country: str = ""
    note: str = ""


@dataclass(frozen=True)
class FundInfo:
    amount: Amount                  # in the invoice currency
    local_amount: Amount            # in the fund's currency
    code: str
    name: str
    fiscal_period: str
    external_id: str
    type: str                       # ALLOCATED | SUMMARY | LEDGER
    fund_type: str
    fund_type_desc: str
    ledger_code: str
    ledger_name: str


@dataclass(frozen=True)
class POLineInfo:
    fully_invoiced: bool
    owner: str
    number: str
    price: Decimal
    title: str
    identifier: str = ""
    identifier_type: str = ""       # ISBN | ISSN
    creator: str = ""
    date: str = ""
    publisher: str = ""
    vendor_reference_number: str = ""


@dataclass(frozen=True)
class InvoiceLineData:
    line_number: int
    line_type: str
    quantity: int
    reporting_code: str
    total_price: Decimal
    price: Decimal
    funds: tuple[FundInfo, ...] = ()
    po_line: POLineInfo | None = None
    note: str = ""


@dataclass(frozen=True)
class VatInfo:
    expended_from_fund: bool
    inclusive: bool
    amount: Decimal
    percentage: Decimal
    vat_type: str                   # INCLUSIVE | EXCLUSIVE | LINEEXCLUSIVE
    line_level: bool
    code: str = ""


@dataclass(frozen=True)
class ExchangeRateInfo:
    rate: Decimal                   # 1 unit of the invoice currency = rate units of ``currency``
    currency: str
    explicit: bool


@dataclass(frozen=True)
class InvoiceData:
    number: str
    owner: str
    approved_by: str
    amount: Amount
    vendor_code: str
    vendor_name: str
    vendor_additional_code: str
    vendor_financial_sys_code: str
    vendor_liable_for_vat: bool
    vendor_national_tax_id: str
    unique_identifier: str
    invoice_date: date
    payment_method: str
    audit: Audit
    vat: VatInfo
    lines: tuple[InvoiceLineData, ...]
    reference_number: str = ""
    payment_addresses: tuple[PaymentAddress, ...] = ()
    vendor_account_code: str = ""
    vendor_account_financial_sys_code: str = ""
    due_date: date | None = None
    number_of_attachments: int = 0
    notes: tuple[Note, ...] = ()
    charges: dict[str, Decimal] = field(default_factory=dict)   # CHARGE_ELEMENTS name -> amount
    exchange_rates: tuple[ExchangeRateInfo, ...] = ()


# -- writing ---------------------------------------------------------------------------------------

def money(value: Decimal | int) -> str:
    """A plain decimal: no exponent, no thousands separator, "-" for negatives, never "-0"."""
    value = Decimal(value)
    if value == 0:
        value = abs(value)
    return format(value, "f")


def us_date(day: date) -> str:
    return day.strftime("%m/%d/%Y")


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, _NS + tag)
    if text is not None:
        el.text = _NOT_XML.sub("", text)
    return el


def _amount(parent, tag: str, amount: Amount) -> None:
    el = _sub(parent, tag)
    _sub(el, "currency", amount.currency)
    _sub(el, "sum", money(amount.sum))


def _audit(parent, tag: str, audit: Audit) -> None:
    el = _sub(parent, tag)
    _sub(el, "createdBy", audit.created_by)
    _sub(el, "creationDate", us_date(audit.creation_date))
    _sub(el, "customerId", audit.customer_id)
    _sub(el, "institutionId", audit.institution_id)
    if audit.modification_date is not None:
        _sub(el, "modificationDate", us_date(audit.modification_date))
    _sub(el, "modifiedBy", audit.modified_by)


def _address(parent, address: PaymentAddress) -> None:
    el = _sub(parent, "payment_address")
    el.set("preferred", _bool(address.preferred))
    for n, text in enumerate(address.lines[:5], start=1):
        _sub(el, f"line{n}", text)
    _sub(el, "city", address.city)
    if address.country:
        _sub(el, "country", address.country)
    if address.note:
        _sub(el, "note", address.note)
    _sub(el, "postalCode", address.postal_code)
    _sub(el, "stateProvince", address.state_province)
    types = _sub(el, "types")
    for t in address.types:
        _sub(types, "type", t)


def _fund(parent, fund: FundInfo) -> None:
    el = _sub(parent, "fund_info")
    _amount(el, "amount", fund.amount)
    _amount(el, "local_amount", fund.local_amount)
    _sub(el, "code", fund.code)
    _sub(el, "name", fund.name)
    _sub(el, "fiscal_period", fund.fiscal_period)
    _sub(el, "external_id", fund.external_id)
    _sub(el, "type", fund.type)
    _sub(el, "fund_type", fund.fund_type)
    _sub(el, "fund_type_desc", fund.fund_type_desc)
    _sub(el, "ledger_code", fund.ledger_code)
    _sub(el, "ledger_name", fund.ledger_name)


def _po_line(parent, pol: POLineInfo) -> None:
    el = _sub(parent, "po_line_info")
    _sub(el, "fully_Invoiced_ind", _bool(pol.fully_invoiced))
    _sub(el, "po_line_owner", pol.owner)
    meta = [("acqterms_identifier", pol.identifier), ("acqterms_identifierType", pol.identifier_type),
            ("creator", pol.creator), ("date", pol.date), ("publisher", pol.publisher)]
    if any(value for _, value in meta):
        values = _sub(el, "meta_data_values")
        for tag, value in meta:
            if value:
                _sub(values, tag, value)
    if pol.vendor_reference_number:
        _sub(el, "vendor_reference_number", pol.vendor_reference_number)
    _sub(el, "po_line_number", pol.number)
    _sub(el, "po_line_price", money(pol.price))
    _sub(el, "po_line_title", pol.title)


def _line(parent, line: InvoiceLineData) -> None:
    el = _sub(parent, "invoice_line")
    _sub(el, "line_number", str(line.line_number))
    _sub(el, "line_type", line.line_type)
    if line.note:
        _sub(el, "note", line.note)
    _sub(el, "quantity", str(line.quantity))
    _sub(el, "reporting_code", line.reporting_code)
    _sub(el, "total_price", money(line.total_price))
    _sub(el, "price", money(line.price))
    if line.po_line is not None:
        _po_line(el, line.po_line)
    funds = _sub(el, "fund_info_list")
    for fund in line.funds:
        _fund(funds, fund)


def _invoice(parent, inv: InvoiceData) -> None:
    el = _sub(parent, "invoice")
    _sub(el, "invoice_number", inv.number)
    if inv.reference_number:
        _sub(el, "invoice_ref_num", inv.reference_number)
    _sub(el, "invoice_owner", inv.owner)
    _sub(el, "approved_by", inv.approved_by)
    _amount(el, "invoice_amount", inv.amount)
    _sub(el, "vendor_code", inv.vendor_code)
    _sub(el, "vendor_name", inv.vendor_name)
    _sub(el, "vendor_additional_code", inv.vendor_additional_code)
    _sub(el, "vendor_FinancialSys_Code", inv.vendor_financial_sys_code)
    _sub(el, "vendor_liable_for_vat", _bool(inv.vendor_liable_for_vat))
    _sub(el, "vendor_national_tax_id", inv.vendor_national_tax_id)
    addresses = _sub(el, "vendor_payment_address_list")
    for address in inv.payment_addresses:
        _address(addresses, address)
    _sub(el, "vendor_account_code", inv.vendor_account_code)
    _sub(el, "vendor_account_FinancialSys_Code", inv.vendor_account_financial_sys_code)
    _sub(el, "unique_identifier", inv.unique_identifier)
    _sub(el, "invoice_date", us_date(inv.invoice_date))
    if inv.due_date is not None:
        _sub(el, "invoice_due_date", us_date(inv.due_date))
    _sub(el, "payment_method", inv.payment_method)
    _sub(el, "number_of_attachments", str(inv.number_of_attachments))
    notes = _sub(el, "noteList")
    for note in inv.notes:
        n = _sub(notes, "note")
        _sub(n, "content", note.content)
        _audit(n, "owneredEntity", note.audit)
    _audit(el, "invoice_ownered_entity", inv.audit)
    vat = _sub(el, "vat_info")
    _sub(vat, "expended_from_fund_ind", _bool(inv.vat.expended_from_fund))
    _sub(vat, "inclusive_ind", _bool(inv.vat.inclusive))
    _sub(vat, "vat_amount", money(inv.vat.amount))
    _sub(vat, "vat_percentage", money(inv.vat.percentage))
    if inv.vat.code:
        _sub(vat, "vat_code", inv.vat.code)
    _sub(vat, "vat_type", inv.vat.vat_type)
    _sub(vat, "vat_in_invoice_line_level", _bool(inv.vat.line_level))
    unknown = set(inv.charges) - set(CHARGE_ELEMENTS)
    if unknown:
        raise ValueError(f"Unknown additional charge(s): {', '.join(sorted(unknown))}")
    charges = _sub(el, "additional_charges")
    zero = Decimal("0.00")
    for tag in CHARGE_ELEMENTS:
        _sub(charges, tag, money(inv.charges.get(tag, zero)))
    rates = _sub(el, "invoice_exchange_rate_list")
    for rate in inv.exchange_rates:
        r = _sub(rates, "exchange_rate")
        _sub(r, "rate", money(rate.rate))
        _sub(r, "currency", rate.currency)
        _sub(r, "explicit_ind", _bool(rate.explicit))
    lines = _sub(el, "invoice_line_list")
    for line in inv.lines:
        _line(lines, line)


def build_tree(invoices) -> etree._Element:
    invoices = list(invoices)
    if not invoices:
        raise ValueError("An export file holds at least one invoice.")
    root = etree.Element(_NS + "payment_data", nsmap={None: NAMESPACE})
    invoice_list = _sub(root, "invoice_list")
    for inv in invoices:
        _invoice(invoice_list, inv)
    return root


def serialize(root: etree._Element) -> bytes:
    """A tree from :func:`build_tree` as the file's bytes: UTF-8 with an XML declaration."""
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=False, pretty_print=True)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def build_payment_data(invoices) -> bytes:
    """The export file for ``invoices`` (at least one)."""
    return serialize(build_tree(invoices))
