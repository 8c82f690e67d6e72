"""EDIFACT INVOIC interchanges read with pydifact and mapped to plain dataclasses (no database).

:func:`decode` turns the file's bytes into text using the character set its UNB declares
(UNOA/UNOB/UNOC… → Latin-1 family, UNOW/UNOY → UTF-8), leniently. :func:`parse_interchange`
reads the interchange with pydifact; a syntax error (broken segment, UNH without UNT, …) raises
:class:`EdiParseError` with a message for people. Each INVOIC message becomes an
:class:`InvoiceMessage`: header (BGM number and document type, DTM+137 date, NAD+SU/BY, CUX),
one :class:`InvoiceItem` per LIN group (RFF+LI order line reference, QTY+47, PRI+AAA/AAB, MOA+203,
TAX+7 with MOA+124/125, ALC), allowances and charges, and the UNS summary (MOA+77/86/9 total,
MOA+124 tax). What is missing or unreadable in a message goes to its ``errors``; the other
messages of the interchange are unaffected.

Amounts are Decimal. A credit note (document type 381) carries positive amounts in EDIFACT; they
are negated here, so a credit note maps to a refund (negative totals). Line-level allowances and
charges are kept for information only: MOA+203 is the line's net amount, after them.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from pydifact.exceptions import EDISyntaxError, ValidationError
from pydifact.segmentcollection import Interchange, Message

MAX_BYTES = 5 * 1024 * 1024
MAX_MESSAGES = 2000
INVOICE, CREDIT_NOTE = "380", "381"
DOCUMENT_TYPES = {"380": "Commercial invoice", "381": "Credit note", "383": "Debit note", "384": "Corrected invoice",
                  "389": "Self-billed invoice"}
# UNB syntax identifier → Python codec (ISO 9735 character repertoires).
CHARSETS = {"UNOA": "ascii", "UNOB": "ascii", "UNOC": "latin-1", "UNOD": "iso8859-2", "UNOE": "iso8859-5",
            "UNOF": "iso8859-7", "UNOG": "iso8859-3", "UNOH": "iso8859-4", "UNOI": "iso8859-6",
            "UNOJ": "iso8859-8", "UNOK": "iso8859-9", "UNOW": "utf-8", "UNOY": "utf-8"}
# Allowance/charge codes (UNCL 7161) → our charge types; other charge codes are overhead, every
# allowance is a discount. A library charge type whose code equals the EDI code wins (services).
CHARGE_CODES = {"DL": "shipment", "FC": "shipment", "FI": "shipment", "PC": "shipment", "SH": "shipment",
                "IN": "insurance", "HD": "overhead", "AEO": "overhead"}
TOTAL_QUALIFIERS = ("77", "86", "9")   # invoice amount, message total, amount due: the first found
DATE_FORMATS = {"102": ("%Y%m%d", 8), "101": ("%y%m%d", 6), "203": ("%Y%m%d%H%M", 12), "204": ("%Y%m%d%H%M%S", 14)}
_NUMBER = re.compile(r"^-?(\d+([.,]\d*)?|[.,]\d+)$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class EdiParseError(ValueError):
    """The interchange cannot be read at all (a syntax error); the message says where and why."""


@dataclass
class AllowanceCharge:
    indicator: str            # "A" allowance, "C" charge
    code: str                 # the EDI code (UNCL 7161), may be empty
    description: str
    amount: Decimal | None    # signed: allowances negative
    charge_type: str          # our built-in charge type it maps to

    @property
    def label(self) -> str:
        return self.description or self.code or ("allowance" if self.indicator == "A" else "charge")


@dataclass
class InvoiceItem:
    position: str                       # LIN line number as sent
    item_id: str = ""                   # LIN item number (ISBN/EAN …)
    description: str = ""               # IMD text
    order_line: str = ""                # RFF+LI (or an RFF+ON that names a POL-… line)
    order_number: str = ""              # RFF+ON when it is not an order line
    quantity: int | None = None         # QTY+47
    unit_price: Decimal | None = None   # PRI+AAA, else PRI+AAB (per one unit)
    amount: Decimal | None = None       # MOA+203 (net line amount)
    vat_percent: Decimal | None = None  # TAX+7
    vat_amount: Decimal | None = None   # MOA+124 in the line's tax group
    taxable_amount: Decimal | None = None   # MOA+125 in the line's tax group
    allowances_charges: list[AllowanceCharge] = field(default_factory=list)


@dataclass
class InvoiceMessage:
    index: int                           # 1-based position in the interchange
    reference: str                       # UNH message reference
    message_type: str                    # INVOIC …
    raw: str                             # this message alone, as a complete interchange text
    number: str = ""
    document_type: str = ""
    invoice_date: date | None = None
    supplier_id: str = ""
    supplier_name: str = ""
    buyer_id: str = ""
    buyer_name: str = ""
    currency: str = ""
    vat_percent: Decimal | None = None   # header TAX+7
    charges: list[AllowanceCharge] = field(default_factory=list)   # header ALC groups
    items: list[InvoiceItem] = field(default_factory=list)
    total_amount: Decimal | None = None
    tax_amount: Decimal | None = None
    taxable_amount: Decimal | None = None
    lines_amount: Decimal | None = None   # MOA+79
    errors: list[str] = field(default_factory=list)

    @property
    def is_credit_note(self) -> bool:
        return self.document_type == CREDIT_NOTE

    @property
    def document_label(self) -> str:
        return DOCUMENT_TYPES.get(self.document_type, self.document_type)


@dataclass
class ParsedInterchange:
    sender: str
    recipient: str
    control_reference: str
    syntax: str
    messages: list[InvoiceMessage]


# -- bytes → text ------------------------------------------------------------------------------

def declared_charset(data: bytes) -> str:
    """The syntax identifier of the UNB header (UNOC …), or "" when there is none."""
    head = data[:400]
    at = head.find(b"UNB")
    if at < 0 or len(head) < at + 8:
        return ""
    ident = head[at + 4:at + 8]
    return ident.decode("ascii", "replace").upper() if ident.isalpha() else ""


def decode(data: bytes) -> tuple[str, str]:
    """(text, codec used): the declared repertoire first, then UTF-8, then Latin-1 (never fails)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    declared = CHARSETS.get(declared_charset(data))
    for codec in [c for c in (declared, "utf-8") if c]:
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


# -- text → messages ---------------------------------------------------------------------------

def _syntax_message(exc: Exception) -> str:
    text = str(exc).replace("EDIFACT Syntax Error: ", "")
    if "Invalid segment name" in text:
        text = "a segment name is broken (a separator where the three-letter tag should be)."
    elif "Unexpected end" in text:
        text = "it ends in the middle of a segment (the last segment has no terminator)."
    return f"The file is not a readable EDIFACT interchange: {text}"


def parse_interchange(text: str) -> ParsedInterchange:
    """Read an interchange (UNA/UNB … UNZ) with one or more messages; raises EdiParseError."""
    text = text.strip()
    if not text:
        raise EdiParseError("The file is empty.")
    if not (text.startswith("UNA") or text.startswith("UNB")):
        raise EdiParseError("The file is not an EDIFACT interchange: it must start with UNA or UNB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # pydifact warns that it has no segment directory
            interchange = Interchange.from_str(text)
            messages = list(interchange.get_messages())
    except (EDISyntaxError, ValidationError, AssertionError, IndexError, ValueError, TypeError,
            AttributeError) as exc:
        raise EdiParseError(_syntax_message(exc)) from None
    if not messages:
        raise EdiParseError("The interchange holds no message (no UNH … UNT).")
    if len(messages) > MAX_MESSAGES:
        raise EdiParseError(f"The interchange holds {len(messages)} messages; at most {MAX_MESSAGES} are read.")
    syntax = interchange.syntax_identifier[0] if interchange.syntax_identifier else ""
    parsed = [_message(interchange, m, n) for n, m in enumerate(messages, 1)]
    return ParsedInterchange(sender=_first(interchange.sender), recipient=_first(interchange.recipient),
                             control_reference=_text(interchange.control_reference), syntax=syntax, messages=parsed)


def _standalone(interchange: Interchange, message: Message) -> str:
    """The message wrapped in its interchange's UNA/UNB and a UNZ: a text :func:`parse_interchange`
    reads again on its own (a retry from the inbox), one segment per line."""
    single = Interchange(sender=interchange.sender, recipient=interchange.recipient,
                         control_reference=interchange.control_reference,
                         syntax_identifier=interchange.syntax_identifier, timestamp=interchange.timestamp,
                         characters=interchange.characters, extra_header_elements=interchange.extra_header_elements)
    single.has_una_segment = interchange.has_una_segment
    single.add_message(message)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return single.serialize(break_lines=True)


# -- element helpers ---------------------------------------------------------------------------

def _el(segment, index: int):
    return segment.elements[index] if len(segment.elements) > index else ""


def _comp(element, index: int) -> str:
    if isinstance(element, list):
        return element[index] if len(element) > index else ""
    return element if index == 0 else ""


def _first(element) -> str:
    return _text(_comp(element, 0))


def _text(value) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value if v).strip()
    return str(value or "").strip()


def _qualifier(segment) -> str:
    return _first(_el(segment, 0))


def _decimal(value: str, what: str, errors: list[str]) -> Decimal | None:
    text = (value or "").strip()
    if not text:
        errors.append(f"{what}: no value.")
        return None
    if not _NUMBER.match(text):
        errors.append(f"{what}: {text!r} is not a number.")
        return None
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        errors.append(f"{what}: {text!r} is not a number.")
        return None


def _moa(segment, errors: list[str], where: str) -> tuple[str, Decimal | None]:
    element = _el(segment, 0)
    qualifier = _comp(element, 0)
    return qualifier, _decimal(_comp(element, 1), f"{where}MOA+{qualifier}", errors)


# -- one message -------------------------------------------------------------------------------

def _message(interchange: Interchange, message: Message, index: int) -> InvoiceMessage:
    msg = InvoiceMessage(index=index, reference=_text(message.reference_number),
                         message_type=_first(message.identifier), raw=_standalone(interchange, message))
    errors = msg.errors
    if msg.message_type != "INVOIC":
        errors.append(f"Message {msg.reference} is {msg.message_type or 'of no type'}, not INVOIC.")
        return msg
    section = "header"            # header → line (after each LIN) → summary (after UNS)
    item: InvoiceItem | None = None
    alc: AllowanceCharge | None = None   # the open ALC group, waiting for its MOA
    tax_target = None                    # "header" / the item whose TAX group is open
    for segment in message.segments:
        tag = segment.tag
        where = f"Line {item.position}: " if section == "line" and item else ""
        if tag == "BGM":
            msg.document_type = _first(_el(segment, 0))
            msg.number = _first(_el(segment, 1))
        elif tag == "DTM":
            element = _el(segment, 0)
            if _comp(element, 0) == "137" and section == "header":
                msg.invoice_date = _date(_comp(element, 1), _comp(element, 2) or "102", errors)
        elif tag == "NAD" and section == "header":
            party, ident = _qualifier(segment), _first(_el(segment, 1))
            name = _text(_el(segment, 3)) or _text(_el(segment, 2))
            if party == "SU":
                msg.supplier_id, msg.supplier_name = ident, name
            elif party == "BY":
                msg.buyer_id, msg.buyer_name = ident, name
        elif tag == "CUX" and section == "header":
            element = _el(segment, 0)
            if _comp(element, 0) in ("2", ""):
                msg.currency = _comp(element, 1).strip().upper()
        elif tag == "LIN":
            section, alc, tax_target = "line", None, None
            item = InvoiceItem(position=_first(_el(segment, 0)) or str(len(msg.items) + 1),
                               item_id=_first(_el(segment, 2)))
            msg.items.append(item)
        elif tag == "UNS":
            section, item, alc, tax_target = "summary", None, None, "summary"
        elif tag == "IMD" and item is not None:
            text = _text(_comp(_el(segment, 2), 3)) or _text(_el(segment, 2))
            item.description = (item.description + " " + text).strip()[:300]
        elif tag == "QTY" and item is not None:
            element = _el(segment, 0)
            if _comp(element, 0) == "47":
                value = _decimal(_comp(element, 1), f"{where}QTY+47", errors)
                if value is not None:
                    if value != value.to_integral_value() or value == 0:
                        errors.append(f"{where}the invoiced quantity {value} is not a whole number above zero.")
                    else:
                        item.quantity = int(value)
        elif tag == "PRI" and item is not None:
            element = _el(segment, 0)
            kind = _comp(element, 0)
            if kind in ("AAA", "AAB"):
                value = _decimal(_comp(element, 1), f"{where}PRI+{kind}", errors)
                basis = _comp(element, 4)
                if value is not None and basis:
                    per = _decimal(basis, f"{where}PRI+{kind} price basis", errors)
                    value = value / per if per else value
                if value is not None and (kind == "AAA" or item.unit_price is None):
                    item.unit_price = value
        elif tag == "RFF":
            element = _el(segment, 0)
            kind, value = _comp(element, 0), _comp(element, 1).strip()
            if item is not None and section == "line":
                if kind == "LI" or (kind == "ON" and value.upper().startswith("POL-")):
                    item.order_line = item.order_line or value.upper()
                elif kind == "ON":
                    item.order_number = value
        elif tag == "TAX":
            if _qualifier(segment) == "7":
                rate = _comp(_el(segment, 4), 3)
                percent = _decimal(rate, f"{where}TAX+7 rate", errors) if rate.strip() else None
                if section == "line" and item is not None:
                    item.vat_percent, tax_target = percent, item
                elif section == "header":
                    msg.vat_percent, tax_target = percent, "header"
                alc = None
        elif tag == "ALC":
            indicator = _qualifier(segment)
            if indicator in ("A", "C"):
                special = _el(segment, 4)
                code = _comp(special, 0).strip().upper()
                alc = AllowanceCharge(indicator=indicator, code=code, description=_text(_comp(special, 3)),
                                      amount=None, charge_type="discount" if indicator == "A"
                                      else CHARGE_CODES.get(code, "overhead"))
                (item.allowances_charges if section == "line" and item is not None else msg.charges).append(alc)
                tax_target = None
        elif tag == "MOA":
            qualifier, value = _moa(segment, errors, where)
            if value is None:
                continue
            if alc is not None and qualifier in ("8", "23", "204", "131"):
                alc.amount = -abs(value) if alc.indicator == "A" else value
            elif section == "line" and item is not None:
                if qualifier == "203":
                    item.amount = value
                elif qualifier == "124" and tax_target is item:
                    item.vat_amount = value
                elif qualifier == "125" and tax_target is item:
                    item.taxable_amount = value
            elif section == "summary":
                if qualifier in TOTAL_QUALIFIERS and msg.total_amount is None:
                    msg.total_amount = value
                elif qualifier in TOTAL_QUALIFIERS:
                    pass
                elif qualifier == "124":
                    msg.tax_amount = value
                elif qualifier == "125":
                    msg.taxable_amount = value
                elif qualifier == "79":
                    msg.lines_amount = value
            elif section == "header" and tax_target == "header":
                if qualifier == "124":
                    msg.tax_amount = value
                elif qualifier == "125":
                    msg.taxable_amount = value
    _check(msg)
    if msg.is_credit_note:
        _negate(msg)
    return msg


def _date(value: str, fmt: str, errors: list[str]) -> date | None:
    if fmt not in DATE_FORMATS:
        errors.append(f"DTM+137: date format {fmt} is not supported (use 102, CCYYMMDD).")
        return None
    pattern, length = DATE_FORMATS[fmt]
    value = value.strip()
    try:
        if len(value) != length or not value.isdigit():
            raise ValueError(value)
        return datetime.strptime(value, pattern).date()
    except ValueError:
        errors.append(f"DTM+137: {value!r} is not a date in format {fmt}.")
        return None


def _check(msg: InvoiceMessage) -> None:
    errors = msg.errors
    if not msg.number:
        errors.append("BGM: the invoice number is missing.")
    elif len(msg.number) > 50:
        errors.append(f"BGM: the invoice number {msg.number[:60]}… is longer than 50 characters.")
    if msg.document_type not in DOCUMENT_TYPES:
        errors.append(f"BGM: document type {msg.document_type or '(none)'} is not an invoice or credit note "
                      f"({', '.join(f'{k} {v}' for k, v in DOCUMENT_TYPES.items())}).")
    if msg.invoice_date is None and not any(e.startswith("DTM+137") for e in errors):
        errors.append("DTM+137: the invoice date is missing.")
    if msg.currency and not _CURRENCY.match(msg.currency):
        errors.append(f"CUX: {msg.currency!r} is not a currency code.")
    if not msg.items:
        errors.append("The invoice has no lines (LIN).")
    for item in msg.items:
        where = f"Line {item.position}"
        if not item.order_line:
            errors.append(f"{where}: no order line reference (RFF+LI with our POL number).")
        if item.quantity is None and not any(e.startswith(f"{where}: QTY") or e.startswith(f"{where}: the invoiced")
                                             for e in errors):
            errors.append(f"{where}: the invoiced quantity (QTY+47) is missing.")
        if item.amount is None and item.unit_price is None:
            errors.append(f"{where}: neither a line amount (MOA+203) nor a price (PRI) is given.")
    for alc in msg.charges + [a for item in msg.items for a in item.allowances_charges]:
        if alc.amount is None:
            errors.append(f"ALC {alc.label}: the amount (MOA+8 or MOA+23) is missing.")


def _negate(msg: InvoiceMessage) -> None:
    """A credit note's positive amounts become a refund's negative ones."""
    def neg(value):
        return -value if value is not None else None
    msg.total_amount, msg.tax_amount = neg(msg.total_amount), neg(msg.tax_amount)
    msg.taxable_amount, msg.lines_amount = neg(msg.taxable_amount), neg(msg.lines_amount)
    for item in msg.items:
        item.amount, item.unit_price = neg(item.amount), neg(item.unit_price)
        item.vat_amount, item.taxable_amount = neg(item.vat_amount), neg(item.taxable_amount)
        for alc in item.allowances_charges:
            alc.amount = neg(alc.amount)
    for alc in msg.charges:
        alc.amount = neg(alc.amount)
