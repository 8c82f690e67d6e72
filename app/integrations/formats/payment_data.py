"""The invoice export file ``payment_data`` (Alma-style "invoices for payment"), written from plain
data: no database, no clock. The same invoices always give the same bytes, so a batch can be
rendered again and compared, and a failed upload is retried with an identical file.

Element names and order follow Alma's real files: default namespace, ``invoice_list/invoice*``,
plain decimal amounts, ``true``/``false``, a 16-digit ``unique_identifier``, every additional charge
written (zeros included). Like Alma, an optional element without a value is left out rather than
written empty (a loader reading an element's first child fails on an empty one); the list
containers Alma keeps when empty (``vendor_payment_address_list``, ``invoice_line_list``) stay.

Two element sets (a profile's ``xsd_version``), each described exactly by our own XSD:

- ``current`` (``xsd/payment_data.xsd``): the 2021-style files, with ``approved_by``,
  ``vendor_national_tax_id``, ``vendor_account_code``, ``number_of_attachments`` and, per fund,
  ``local_amount``, ``ledger_code`` and ``ledger_name``; every date MM/DD/YYYY.
- ``v1`` (``xsd/payment_data_v1.xsd``): the 2016/2017 files, without those additions (``approved_by``
  stays, written when set, as in those files), with ``prepaid_ind``, and audit dates as YYYYMMDD.
  "Version 1" is our name for that shape; Alma documents no such switch.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache

NAMESPACE = "http://com/exlibris/repository/acq/invoice/xmlbeans"
VERSIONS = {"current": "payment_data.xsd", "v1": "payment_data_v1.xsd"}   # element set -> its XSD
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
    prepaid: bool = False           # written in version 1 only (prepaid_ind)


def schema_name(version: str) -> str:
    """The XSD (under ``formats/xsd``) that files of element set ``version`` are checked against."""
    try:
        return VERSIONS[version]
    except KeyError:
        raise ValueError(f"Unknown XSD version {version!r}; use one of {', '.join(VERSIONS)}.") from None


# -- writing ---------------------------------------------------------------------------------------

def money(value: Decimal | int) -> str:
    """A plain decimal: no exponent, no thousands separator, "-" for negatives, never "-0"."""
    value = Decimal(value)
    if value == 0:
        value = abs(value)
    return format(value, "f")


def us_date(day: date) -> str:
    return day.strftime("%m/%d/%Y")


def compact_date(day: date) -> str:
    """YYYYMMDD: the audit dates of the 2016/2017 files (version 1)."""
    return day.strftime("%Y%m%d")


def _bool(value: bool) -> str:
    return "true" if value else "false"


# Text that needs more than copying: markup characters, carriage returns (which XML parsers would
# turn into newlines) and the characters XML cannot carry at all.
_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _escaped(text: str) -> str:
    if _SPECIAL.search(text) is None:
        return text
    text = _NOT_XML.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


class _Writer:
    """Indented XML text, laid out as lxml's pretty printer does (two spaces per level, a leaf on
    one line, an element without content as ``<tag/>``). Writing text directly is several times
    faster than building an element tree, and the export writes hundreds of elements per invoice."""
    __slots__ = ("parts", "pad", "v1", "audit_date")

    def __init__(self, version: str = "current"):
        schema_name(version)
        self.parts: list[str] = []
        self.pad = ""
        self.v1 = version == "v1"
        self.audit_date = compact_date if self.v1 else us_date

    def leaf(self, tag: str, text: str) -> None:
        self.parts.append(f"{self.pad}<{tag}>{_escaped(text)}</{tag}>\n")

    def optional(self, tag: str, text: str) -> None:
        """``tag`` when it has a value; left out (as Alma does) when it has none."""
        if text:
            self.leaf(tag, text)

    def empty(self, tag: str) -> None:
        self.parts.append(f"{self.pad}<{tag}/>\n")

    def open(self, tag: str, attributes: str = "") -> None:
        self.parts.append(f"{self.pad}<{tag}{attributes}>\n")
        self.pad += "  "

    def close(self, tag: str) -> None:
        self.pad = self.pad[:-2]
        self.parts.append(f"{self.pad}</{tag}>\n")

    def many(self, tag: str, items, write, keep_empty: bool = True) -> None:
        """``tag`` holding ``write(self, item)`` for each item; when there is none, ``<tag/>``
        (``keep_empty``) or nothing."""
        if not items:
            if keep_empty:
                self.empty(tag)
            return
        self.open(tag)
        for item in items:
            write(self, item)
        self.close(tag)


def _amount(w: _Writer, tag: str, amount: Amount) -> None:
    w.open(tag)
    w.leaf("currency", amount.currency)
    w.leaf("sum", money(amount.sum))
    w.close(tag)


def _audit(w: _Writer, tag: str, audit: Audit) -> None:
    w.open(tag)
    w.leaf("createdBy", audit.created_by)
    w.leaf("creationDate", w.audit_date(audit.creation_date))
    w.leaf("customerId", audit.customer_id)
    w.leaf("institutionId", audit.institution_id)
    if audit.modification_date is not None:
        w.leaf("modificationDate", w.audit_date(audit.modification_date))
    w.leaf("modifiedBy", audit.modified_by)
    w.close(tag)


def _address(w: _Writer, address: PaymentAddress) -> None:
    w.open("payment_address", f' preferred="{_bool(address.preferred)}"')
    for n, text in enumerate(address.lines[:5], start=1):
        w.leaf(f"line{n}", text)
    w.optional("city", address.city)
    w.optional("country", address.country)
    w.optional("note", address.note)
    w.optional("postalCode", address.postal_code)
    w.optional("stateProvince", address.state_province)
    w.many("types", address.types, lambda w, t: w.leaf("type", t))
    w.close("payment_address")


def _fund(w: _Writer, fund: FundInfo) -> None:
    # The hottest element (one per line and fund): written in one piece, its fund part cached.
    p = w.pad
    q, r = p + "  ", p + "    "
    local = "" if w.v1 else (
        f"{q}<local_amount>\n{r}<currency>{_escaped(fund.local_amount.currency)}</currency>\n"
        f"{r}<sum>{money(fund.local_amount.sum)}</sum>\n{q}</local_amount>\n")
    w.parts.append(
        f"{p}<fund_info>\n"
        f"{q}<amount>\n{r}<currency>{_escaped(fund.amount.currency)}</currency>\n"
        f"{r}<sum>{money(fund.amount.sum)}</sum>\n{q}</amount>\n"
        + local
        + _fund_fields(q, w.v1, fund.code, fund.name, fund.fiscal_period, fund.external_id, fund.type, fund.fund_type,
                       fund.fund_type_desc, fund.ledger_code, fund.ledger_name)
        + f"{p}</fund_info>\n")


@lru_cache(maxsize=1024)
def _fund_fields(pad: str, v1: bool, *values: str) -> str:
    return "".join(f"{pad}<{tag}>{_escaped(value)}</{tag}>\n" for tag, value in zip(_FUND_FIELDS, values)
                   if (value or tag not in _FUND_OPTIONAL) and not (v1 and tag in _FUND_2021))


_FUND_FIELDS = ("code", "name", "fiscal_period", "external_id", "type", "fund_type", "fund_type_desc", "ledger_code",
                "ledger_name")
_FUND_OPTIONAL = {"fund_type", "fund_type_desc", "ledger_name"}   # left out when they have no value
_FUND_2021 = {"ledger_code", "ledger_name"}                          # not in version 1


def _po_line(w: _Writer, pol: POLineInfo) -> None:
    w.open("po_line_info")
    w.leaf("fully_Invoiced_ind", _bool(pol.fully_invoiced))
    w.leaf("po_line_owner", pol.owner)
    meta = [(tag, value) for tag, value in (
        ("acqterms_identifier", pol.identifier), ("acqterms_identifierType", pol.identifier_type),
        ("creator", pol.creator), ("date", pol.date), ("publisher", pol.publisher)) if value]
    if meta:
        w.many("meta_data_values", meta, lambda w, item: w.leaf(*item))
    if pol.vendor_reference_number:
        w.leaf("vendor_reference_number", pol.vendor_reference_number)
    w.leaf("po_line_number", pol.number)
    w.leaf("po_line_price", money(pol.price))
    w.leaf("po_line_title", pol.title)
    w.close("po_line_info")


def _line(w: _Writer, line: InvoiceLineData) -> None:
    w.open("invoice_line")
    w.leaf("line_number", str(line.line_number))
    w.leaf("line_type", line.line_type)
    if line.note:
        w.leaf("note", line.note)
    w.leaf("quantity", str(line.quantity))
    w.optional("reporting_code", line.reporting_code)
    w.leaf("total_price", money(line.total_price))
    w.leaf("price", money(line.price))
    if line.po_line is not None:
        _po_line(w, line.po_line)
    w.many("fund_info_list", line.funds, _fund, keep_empty=False)   # absent on a line without funds
    w.close("invoice_line")


def _note(w: _Writer, note: Note) -> None:
    w.open("note")
    w.leaf("content", note.content)
    _audit(w, "owneredEntity", note.audit)
    w.close("note")


def _rate(w: _Writer, rate: ExchangeRateInfo) -> None:
    w.open("exchange_rate")
    w.leaf("rate", money(rate.rate))
    w.leaf("currency", rate.currency)
    w.leaf("explicit_ind", _bool(rate.explicit))
    w.close("exchange_rate")


def _invoice(w: _Writer, inv: InvoiceData) -> None:
    unknown = set(inv.charges) - set(CHARGE_ELEMENTS)
    if unknown:
        raise ValueError(f"Unknown additional charge(s): {', '.join(sorted(unknown))}")
    w.open("invoice")
    w.leaf("invoice_number", inv.number)
    if inv.reference_number:
        w.leaf("invoice_ref_num", inv.reference_number)
    w.leaf("invoice_owner", inv.owner)
    w.optional("approved_by", inv.approved_by)
    _amount(w, "invoice_amount", inv.amount)
    w.leaf("vendor_code", inv.vendor_code)
    w.leaf("vendor_name", inv.vendor_name)
    w.optional("vendor_additional_code", inv.vendor_additional_code)
    w.optional("vendor_FinancialSys_Code", inv.vendor_financial_sys_code)
    w.leaf("vendor_liable_for_vat", _bool(inv.vendor_liable_for_vat))
    if not w.v1:
        w.optional("vendor_national_tax_id", inv.vendor_national_tax_id)
    w.many("vendor_payment_address_list", inv.payment_addresses, _address)
    if not w.v1:
        w.optional("vendor_account_code", inv.vendor_account_code)
    w.optional("vendor_account_FinancialSys_Code", inv.vendor_account_financial_sys_code)
    w.leaf("unique_identifier", inv.unique_identifier)
    w.leaf("invoice_date", us_date(inv.invoice_date))
    if inv.due_date is not None:
        w.leaf("invoice_due_date", us_date(inv.due_date))
    w.leaf("payment_method", inv.payment_method)
    if w.v1:
        w.leaf("prepaid_ind", _bool(inv.prepaid))
    else:
        w.leaf("number_of_attachments", str(inv.number_of_attachments))
    w.many("noteList", inv.notes, _note, keep_empty=False)
    _audit(w, "invoice_ownered_entity", inv.audit)
    w.open("vat_info")
    w.leaf("expended_from_fund_ind", _bool(inv.vat.expended_from_fund))
    w.leaf("inclusive_ind", _bool(inv.vat.inclusive))
    w.leaf("vat_amount", money(inv.vat.amount))
    w.leaf("vat_percentage", money(inv.vat.percentage))
    if inv.vat.code:
        w.leaf("vat_code", inv.vat.code)
    w.leaf("vat_type", inv.vat.vat_type)
    w.leaf("vat_in_invoice_line_level", _bool(inv.vat.line_level))
    w.close("vat_info")
    zero = Decimal("0.00")
    w.open("additional_charges")
    pad = w.pad
    w.parts.append("".join(f"{pad}<{tag}>{money(inv.charges.get(tag, zero))}</{tag}>\n" for tag in CHARGE_ELEMENTS))
    w.close("additional_charges")
    w.many("invoice_exchange_rate_list", inv.exchange_rates, _rate, keep_empty=False)
    w.many("invoice_line_list", inv.lines, _line)
    w.close("invoice")


def build_payment_data(invoices, version: str = "current") -> bytes:
    """The export file for ``invoices`` (at least one) in element set ``version`` (see
    :data:`VERSIONS`): UTF-8 with an XML declaration."""
    invoices = list(invoices)
    if not invoices:
        raise ValueError("An export file holds at least one invoice.")
    w = _Writer(version)
    w.parts.append('<?xml version="1.0" encoding="UTF-8"?>\n')
    w.open("payment_data", f' xmlns="{NAMESPACE}"')
    w.many("invoice_list", invoices, _invoice)
    w.close("payment_data")
    return "".join(w.parts).encode("utf-8")
