"""EDIFACT INVOIC files read with pydifact and mapped to plain dataclasses (no database).

:func:`decode` turns the file's bytes into text using the character set its UNB declares
(UNOA/UNOB/UNOC… → Latin-1 family, UNOW/UNOY → UTF-8), leniently. :func:`parse_file` reads every
message of every interchange of the file: real vendor files hold several interchanges one after
another, stray empty segments between them, or a message without lines. The file is cut into
segments and messages here; pydifact reads each message alone, wrapped in its interchange's
UNA/UNB, so a part that cannot be read (cut short, no UNT, a broken segment) is refused alone:
an :class:`InvoiceMessage` with ``refused`` set and its raw text. Only a file that is not EDIFACT
at all raises :class:`EdiParseError`. Nothing else ever escapes: a fuzz test holds us to it.

Each INVOIC message becomes an :class:`InvoiceMessage`: header (BGM number and document type,
DTM+137 date, NAD+SU/BY, CUX), one :class:`InvoiceItem` per LIN group (RFF+LI order line
reference, QTY+47, PRI+AAA/AAB, MOA+203, TAX+7 with MOA+124/125, ALC), allowances and charges,
and the UNS summary (MOA+77/86/9 total, MOA+124 tax). What is missing or unreadable in a message
goes to its ``errors``, among them an amount beyond the money columns' range (the ledger's
``check_range``); the other messages are unaffected.

Amounts are Decimal. A credit note (document type 381) carries positive amounts in EDIFACT; they
are negated here, so a credit note maps to a refund (negative totals). Line-level allowances and
charges are kept for information only: MOA+203 is the line's net amount, after them.
"""
from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from pydifact.exceptions import MissingImplementationWarning
from pydifact.segmentcollection import Interchange, Message

from ...ledger.money import AmountError, check_range
from ...text import T

log = logging.getLogger(__name__)
# pydifact warns on every segment that it has no segment directory to validate against, and on
# empty segments; said once here (catch_warnings per call is not thread-safe, and runs are threads).
warnings.filterwarnings("ignore", category=MissingImplementationWarning, module="pydifact")
warnings.filterwarnings("ignore", category=SyntaxWarning, module="pydifact")

MAX_BYTES = 5 * 1024 * 1024
MAX_MESSAGES = 2000
MAX_QUANTITY = 100_000   # copies on one invoice line (the invoice services refuse more)
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
_NUMBER = re.compile(r"^-?([0-9]+([.,][0-9]*)?|[.,][0-9]+)$")   # ASCII digits only, as everywhere
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class EdiParseError(ValueError):
    """The interchange cannot be read at all (a syntax error); the message says where and why.
    ``text``: the reason as a :class:`~app.text.Text` (English as a ``str``, translated when shown)."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


@dataclass
class AllowanceCharge:
    indicator: str            # "A" allowance, "C" charge
    code: str                 # the EDI code (UNCL 7161), may be empty
    description: str
    amount: Decimal | None    # signed: allowances negative
    charge_type: str          # our built-in charge type it maps to

    @property
    def label(self) -> str:
        return self.description or self.code or (T("allowance") if self.indicator == "A" else T("charge"))


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
    refused: str = ""                     # this part of the file could not be read at all: why

    @property
    def problems(self) -> list[str]:
        """What the parser refuses in the message as sent (empty: readable and complete)."""
        return [self.refused] if self.refused else self.errors

    @property
    def is_credit_note(self) -> bool:
        return self.document_type == CREDIT_NOTE

    @property
    def document_label(self) -> str:
        return DOCUMENT_TYPES.get(self.document_type, self.document_type)


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
#
# The file is cut into segments here (escape-aware), then grouped into interchanges and messages;
# pydifact reads each message alone, wrapped in its own interchange. So a broken part refuses only
# itself, and a file of several interchanges, or with stray empty segments, is read whole.

DEFAULT_CHARACTERS = ":+.? '"   # component, data, decimal, escape, reserved, terminator (no UNA)
ENVELOPE_TAGS = ("UNG", "UNE")  # functional groups: their messages are read, the group envelope ignored
UNEXPECTED = "The message could not be read (an internal error, logged)"   # the English; see unexpected()


@dataclass
class _Segment:
    text: str         # as sent, without its terminator (escapes kept)
    tag: str
    una: str          # the six service characters in force


@dataclass
class _Unit:
    """A message (UNH … UNT) of a complete interchange, or a part of the file that cannot be read."""
    segments: list[_Segment]
    unb: _Segment | None = None
    refused: str = ""


@dataclass
class ParsedFile:
    messages: list[InvoiceMessage]   # in file order; a part that cannot be read has ``refused`` set
    interchanges: int = 0
    empty_segments: int = 0          # stray terminators skipped


@lru_cache(maxsize=32)
def _stops(una: str) -> re.Pattern:
    return re.compile("[" + re.escape(una[3] + una[5]) + "]")


def _tag(text: str, una: str) -> str:
    end = len(text)
    for sep in (una[0], una[1]):
        at = text.find(sep)
        if at >= 0:
            end = min(end, at)
    return text[:end]


def _scan(text: str) -> tuple[list[_Segment], int, str]:
    """(segments, empty segments skipped, what is left after the last terminator)."""
    una = DEFAULT_CHARACTERS
    segments: list[_Segment] = []
    empty = pos = 0
    size = len(text)
    while True:
        while pos < size and text[pos] in " \t\r\n":
            pos += 1
        if pos >= size:
            return segments, empty, ""
        if text.startswith("UNA", pos):
            if size - pos < 9:
                return segments, empty, text[pos:]
            una = text[pos + 3:pos + 9]
            segments.append(_Segment(text[pos:pos + 9], "UNA", una))
            pos += 9
            continue
        escape, terminator, stops = una[3], una[5], _stops(una)
        start = end = pos
        while True:
            found = stops.search(text, end)
            if found is None:
                return segments, empty, text[start:]
            if found.group() == terminator:
                end = found.start()
                break
            end = found.start() + 2   # the escape and the character it makes ordinary
            if end > size:
                return segments, empty, text[start:]
        body = text[start:end]   # not stripped: a trailing space may be escaped ("? ")
        pos = end + 1
        if not body:
            empty += 1   # a stray terminator ('' in the file)
            continue
        segments.append(_Segment(body, _tag(body, una), una))


def _split(text: str, sep: str, escape: str) -> list[str]:
    """The parts of a segment or element between unescaped ``sep``, escapes resolved."""
    parts, current, i = [], [], 0
    while i < len(text):
        c = text[i]
        if c == escape and i + 1 < len(text):
            current.append(text[i + 1])
            i += 2
            continue
        if c == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
        i += 1
    parts.append("".join(current))
    return parts


def _join(segments: list[_Segment]) -> str:
    """Segments as text again, one a line (the raw text kept in the inbox)."""
    return "".join((s.text if s.tag == "UNA" else s.text + s.una[5]) + "\n" for s in segments)


def _units(segments: list[_Segment], tail: str) -> tuple[list[_Unit], int]:
    """Group the segments into the messages of complete interchanges; what does not fit becomes a
    refused unit with its reason."""
    units: list[_Unit] = []
    interchanges = 0
    una: _Segment | None = None        # a UNA waiting for its UNB
    unb: _Segment | None = None        # the open interchange's header
    opened: list[_Segment] = []        # every segment of the open interchange
    first = 0                          # index of the open interchange's first unit
    message: list[_Segment] | None = None
    stray: list[_Segment] = []

    def refuse(parts: list[_Segment], reason: str) -> None:
        units.append(_Unit(list(parts), refused=reason))

    def flush_stray() -> None:
        if stray:
            tags = ", ".join(s.tag[:10] or "?" for s in stray[:5]) + ("…" if len(stray) > 5 else "")
            refuse(stray, T("%(n)s segment(s) outside any message (%(tags)s): no UNH before them, or no UNB (the "
                            "interchange header) before that; they were not read.", n=len(stray), tags=tags))
            stray.clear()

    def close_unfinished(reason: str) -> None:
        nonlocal unb, opened, message
        del units[first:]   # the interchange never ended: everything of it is one refusal
        refuse(opened, reason)
        unb, opened, message = None, [], None

    for seg in segments:
        if seg.tag in ("UNA", "UNB") and unb is not None:
            close_unfinished(T("The interchange stops before its end (it has no UNZ segment before the next one "
                               "starts): no invoice of it was created. Ask the vendor to send it again."))
        if seg.tag == "UNA":
            flush_stray()
            if una is not None:
                refuse([una], T("A UNA with no interchange (UNB) after it."))
            una = seg
            continue
        if seg.tag == "UNB":
            flush_stray()
            unb, first, message = seg, len(units), None
            opened = ([una] if una else []) + [seg]
            una = None
            continue
        if unb is None:
            stray.append(seg)
            continue
        opened.append(seg)
        if seg.tag == "UNZ":
            if message is not None:
                refuse(message, T("The message has no UNT (its end): it was not read."))
            flush_stray()
            for unit in units[first:]:
                unit.unb = unb
            interchanges += 1
            unb, opened, message = None, [], None
        elif seg.tag == "UNH":
            if message is not None:
                refuse(message, T("The message has no UNT (its end) before the next UNH: it was not read."))
            flush_stray()
            message = [seg]
        elif seg.tag == "UNT":
            if message is None:
                stray.append(seg)
                continue
            message.append(seg)
            units.append(_Unit(message))
            message = None
        elif message is not None:
            message.append(seg)
        elif seg.tag not in ENVELOPE_TAGS:
            stray.append(seg)
    cut = _Segment(tail.strip(), "", (unb or una or _Segment("", "", DEFAULT_CHARACTERS)).una) if tail.strip() else None
    if unb is not None:
        opened += [cut] if cut else []
        close_unfinished(T("The file is cut short: the interchange stops before its end (it has no UNZ segment), so "
                           "no invoice of it was created. Ask the vendor to send the file again. (Its last segment "
                           "is cut off too.)") if cut else
                         T("The file is cut short: the interchange stops before its end (it has no UNZ segment), so "
                           "no invoice of it was created. Ask the vendor to send the file again."))
    else:
        flush_stray()
        if una is not None or cut is not None:
            refuse(([una] if una else []) + ([cut] if cut else []),
                   T("The file is cut short: it ends in the middle of a segment.") if cut else
                   T("The file is cut short: it ends after its UNA, before any interchange (UNB)."))
    return units, interchanges


def _standalone(unit: _Unit) -> str:
    """The message wrapped in its interchange's UNA/UNB and a UNZ: a text that reads again alone."""
    una = unit.unb.una
    elements = _split(unit.unb.text, una[1], una[3])
    control = elements[5] if len(elements) > 5 else ""
    control = "".join(una[3] + c if c in (una[0], una[1], una[3], una[5]) else c for c in control)
    unz = _Segment(f"UNZ{una[1]}1{una[1]}{control}", "UNZ", una)
    return _join([_Segment("UNA" + una, "UNA", una), unit.unb, *unit.segments, unz])


def _syntax_message(exc: Exception) -> str:
    text = str(exc).replace("EDIFACT Syntax Error: ", "").strip()
    if isinstance(exc, (IndexError, AssertionError, KeyError, TypeError)) or not text:
        return T("The message is not readable EDIFACT: its interchange header (UNB) or message header (UNH) lacks "
                 "an element it must have.")
    if "Invalid segment name" in text:
        return T("The message is not readable EDIFACT: a segment name is broken (a separator where the three-letter "
                 "tag should be).")
    if "Unexpected end" in text:
        return T("The message is not readable EDIFACT: it ends in the middle of a segment (the last segment has no "
                 "terminator).")
    return T("The message is not readable EDIFACT: %(error)s", error=text)   # pydifact's own words


def joined(sentences: list) -> str:
    """The sentences one after the other (a Text when they are: each translated when shown), joined
    pairwise so a stored message nests only as deep as log2 of their number; "" for none."""
    sentences = list(sentences)
    if len(sentences) <= 1:
        return sentences[0] if sentences else ""
    middle = len(sentences) // 2
    return T("%(first)s %(then)s", first=joined(sentences[:middle]), then=joined(sentences[middle:]))


def unexpected(error: Exception) -> str:
    """The reason of a message that broke something of ours (:data:`UNEXPECTED`, the error's type)."""
    return T("The message could not be read (an internal error, logged): %(error)s.", error=type(error).__name__)


def parse_file(text: str) -> ParsedFile:
    """Every message of every interchange of the file, in order. A part that cannot be read comes
    back as a message with ``refused`` (the reason) and its raw text; :class:`EdiParseError` only
    when the file as a whole is not EDIFACT (empty, not starting with UNA/UNB, no message, too many)."""
    text = text.strip()
    if not text:
        raise EdiParseError(T("The file is empty."))
    if not (text.startswith("UNA") or text.startswith("UNB")):
        raise EdiParseError(T("The file is not an EDIFACT interchange: it must start with UNA or UNB."))
    segments, empty, tail = _scan(text)
    units, interchanges = _units(segments, tail)
    if not units:
        raise EdiParseError(T("The file holds no message (no UNH … UNT)."))
    if len(units) > MAX_MESSAGES:
        raise EdiParseError(T("The file holds %(n)s messages; at most %(limit)s are read at once. Ask the vendor for "
                              "smaller files.", n=len(units), limit=MAX_MESSAGES))
    return ParsedFile(messages=[_read(unit, n) for n, unit in enumerate(units, 1)], interchanges=interchanges,
                      empty_segments=empty)


def _read(unit: _Unit, index: int) -> InvoiceMessage:
    if unit.refused:   # inside a complete interchange: wrapped in it, so a retry reads the same
        return _refused(unit, index, _standalone(unit) if unit.unb else _join(unit.segments), unit.refused)
    raw = _standalone(unit)
    try:
        [message] = list(Interchange.from_str(raw).get_messages())
    except Exception as exc:  # noqa: BLE001 - whatever pydifact raises, only this message is refused
        return _refused(unit, index, raw, _syntax_message(exc))
    try:
        return _message(message, index, raw)
    except Exception as exc:  # noqa: BLE001 - a safety net: a bug here must not stop the other messages
        log.exception("EDI message %s could not be mapped", index)
        return _refused(unit, index, raw, unexpected(exc))


def _refused(unit: _Unit, index: int, raw: str, reason: str) -> InvoiceMessage:
    head = next((s for s in unit.segments if s.tag == "UNH"), None)
    reference = ""
    if head is not None:
        parts = _split(head.text, head.una[1], head.una[3])
        reference = parts[1].strip()[:35] if len(parts) > 1 else ""
    return InvoiceMessage(index=index, reference=reference, message_type="", raw=raw, refused=reason)


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


def _decimal(value: str, what: str, errors: list[str], money: bool = True) -> Decimal | None:
    text = (value or "").strip()
    if not text:
        errors.append(T("%(what)s: no value.", what=what))
        return None
    if len(text) > 64:
        errors.append(T("%(what)s: a number of %(n)s characters is too long to be read.", what=what, n=len(text)))
        return None
    if not _NUMBER.match(text):
        errors.append(T("%(what)s: %(value)s is not a number.", what=what, value=repr(text)))
        return None
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        errors.append(T("%(what)s: %(value)s is not a number.", what=what, value=repr(text)))
        return None
    return _in_range(value, what, errors) if money else value


def _in_range(value: Decimal, what: str, errors: list[str]) -> Decimal | None:
    """The money columns' range, checked where every amount is (app.ledger.money.check_range)."""
    try:
        return check_range(value)
    except AmountError as exc:
        errors.append(T("%(what)s: %(reason)s.", what=what, reason=exc.args[0] if exc.args else str(exc)))
        return None


def _at(line: str | None, what: str) -> str:
    """What a number's problem names: the segment (``QTY+47``), on its line when it is in one."""
    return T("Line %(line)s: %(what)s", line=line, what=what) if line else what


def _moa(segment, errors: list[str], where: str | None) -> tuple[str, Decimal | None]:
    element = _el(segment, 0)
    qualifier = _comp(element, 0)
    return qualifier, _decimal(_comp(element, 1), _at(where, f"MOA+{qualifier}"), errors)


# -- one message -------------------------------------------------------------------------------

def _message(message: Message, index: int, raw: str) -> InvoiceMessage:
    msg = InvoiceMessage(index=index, reference=_text(message.reference_number)[:35],
                         message_type=_first(message.identifier), raw=raw)
    errors = msg.errors
    if msg.message_type != "INVOIC":
        if msg.message_type:
            errors.append(T("Message %(reference)s is %(type)s, not INVOIC.", reference=msg.reference,
                            type=msg.message_type))
        else:
            errors.append(T("Message %(reference)s is of no type, not INVOIC.", reference=msg.reference))
        return msg
    section = "header"            # header → line (after each LIN) → summary (after UNS)
    item: InvoiceItem | None = None
    alc: AllowanceCharge | None = None   # the open ALC group, waiting for its MOA
    tax_target = None                    # "header" / the item whose TAX group is open
    for segment in message.segments:
        tag = segment.tag
        where = item.position if section == "line" and item else None   # the line a problem is on
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
                value = _decimal(_comp(element, 1), _at(where, "QTY+47"), errors, money=False)
                if value is not None:
                    if value != value.to_integral_value() or value == 0:
                        errors.append(T("Line %(line)s: the invoiced quantity %(value)s is not a whole number above "
                                        "zero.", line=item.position, value=str(value)))
                    elif abs(value) > MAX_QUANTITY:
                        errors.append(T("Line %(line)s: the invoiced quantity %(value)s is more than %(limit)s.",
                                        line=item.position, value=str(value), limit=f"{MAX_QUANTITY:,}"))
                    else:
                        item.quantity = int(value)
        elif tag == "PRI" and item is not None:
            element = _el(segment, 0)
            kind = _comp(element, 0)
            if kind in ("AAA", "AAB"):
                value = _decimal(_comp(element, 1), _at(where, f"PRI+{kind}"), errors)
                basis = _comp(element, 4)
                if value is not None and basis:
                    per = _decimal(basis, _at(where, T("%(segment)s price basis", segment=f"PRI+{kind}")), errors)
                    value = _in_range(value / per, _at(where, T("%(segment)s per unit", segment=f"PRI+{kind}")),
                                      errors) if per else value
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
                percent = _decimal(rate, _at(where, T("%(segment)s rate", segment="TAX+7")), errors) \
                    if rate.strip() else None
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
        errors.append(T("DTM+137: date format %(format)s is not supported (use 102, CCYYMMDD).", format=fmt))
        return None
    pattern, length = DATE_FORMATS[fmt]
    value = value.strip()
    try:
        if len(value) != length or not (value.isascii() and value.isdigit()):
            raise ValueError(value)
        return datetime.strptime(value, pattern).date()
    except ValueError:
        errors.append(T("DTM+137: %(value)s is not a date in format %(format)s.", value=repr(value), format=fmt))
        return None


def _check(msg: InvoiceMessage) -> None:
    errors = msg.errors
    if not msg.number:
        errors.append(T("BGM: the invoice number is missing."))
    elif len(msg.number) > 50:
        errors.append(T("BGM: the invoice number %(number)s… is longer than 50 characters.", number=msg.number[:60]))
    if msg.document_type not in DOCUMENT_TYPES:
        errors.append(T("BGM: document type %(type)s is not an invoice or credit note (%(types)s).",
                        type=msg.document_type or "(none)",
                        types=", ".join(f"{k} {v}" for k, v in DOCUMENT_TYPES.items())))
    if msg.invoice_date is None and not any(e.startswith("DTM+137") for e in errors):
        errors.append(T("DTM+137: the invoice date is missing."))
    if msg.currency and not _CURRENCY.match(msg.currency):
        errors.append(T("CUX: %(value)s is not a currency code.", value=repr(msg.currency)))
    if not msg.items:
        errors.append(T("The invoice has no lines (LIN)."))
    for item in msg.items:
        where = f"Line {item.position}"
        if not item.order_line:
            errors.append(T("Line %(line)s: no order line reference (RFF+LI with our POL number).",
                            line=item.position))
        if item.quantity is None and not any(e.startswith(f"{where}: QTY") or e.startswith(f"{where}: the invoiced")
                                             for e in errors):   # (the English of the sentences above)
            errors.append(T("Line %(line)s: the invoiced quantity (QTY+47) is missing.", line=item.position))
        if item.amount is None and item.unit_price is None:
            errors.append(T("Line %(line)s: neither a line amount (MOA+203) nor a price (PRI) is given.",
                            line=item.position))
    for alc in msg.charges + [a for item in msg.items for a in item.allowances_charges]:
        if alc.amount is None:
            errors.append(T("ALC %(charge)s: the amount (MOA+8 or MOA+23) is missing.", charge=alc.label))


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
