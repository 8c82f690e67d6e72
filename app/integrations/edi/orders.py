"""EDIFACT ORDERS (D.96A) for a purchase order, built with pydifact from plain data (no Flask, no
database), and the check that reads the built file back before it may be uploaded.

One interchange holds one ORDERS message, laid out the way book-trade (library) EDI orders
usually are::

    UNA:+.? '
    UNB+UNOC:3+<buyer id>:<qualifier>+<supplier id>:<qualifier>+YYMMDD:HHMM+<control ref>++ORDERS'
    UNH+<message ref>+ORDERS:D:96A:UN:EAN008'
    BGM+220+<PO number>+9'                 order; message function 9 original, 1 cancellation
    DTM+137:<CCYYMMDD>:102'                order date
    NAD+BY+<buyer id>::<agency>++<name>'   the institution (agency: 9 GS1/EAN, 31B SAN, ZZZ other)
    RFF+API:<account>'                     our account (customer number) at the vendor, if any
    NAD+SU+<supplier id>::<agency>++<name>'
    CUX+2:<currency>:9'
    per line:
    LIN+<n>++<ISBN-13>:EN'                 the EAN only when the ISBN is a 13-digit 978/979 one
    PIA+5+<ISBN>:IB+<ISSN>:IS'             what identifiers the line has
    IMD+L+050+:::<title, 35 a part>:<…>'   title (050) and author (009), two parts a segment
    QTY+21:<copies>'
    GIR+001+<fund>:LFN+<library>:LLO'      funds and owning library (EDItEUR's GIR), if any
    PRI+AAB:<list price per copy>'
    MOA+203:<net line amount>'             after discount, when known
    RFF+LI:<our order line number>'        what the vendor quotes back on its INVOIC
    UNS+S'
    CNT+2:<number of lines>'
    UNT+<segments from UNH to UNT>+<message ref>'
    UNZ+1+<control ref>'

No line breaks between segments (EDIFACT forbids them; ``break_lines`` for display only).

**Character set.** ``UNOC`` (ISO 8859-1) by default: it is what book-trade EDI partners read.
Text a vendor sees (names, titles, authors) is made representable: control characters and runs of
white space become one space; under UNOC a character outside Latin-1 loses its accents (NFKD,
"Łódź" → "Lódz", typographic quotes and dashes become ASCII) and what still cannot be written
becomes "?". ``UNOW`` (UTF-8) keeps every
character, for a vendor who asks for it. Identifiers (ids, PO and line numbers, fund codes) are
never changed: one that cannot be written is refused (:class:`OrdersError`). The release character
``?`` escapes ``? ' + :`` wherever they occur (pydifact's serializer); amounts use ``.``.

:func:`build_orders` refuses data that cannot make a correct file (:class:`OrdersError`, every
problem listed). :func:`check_orders` parses the bytes back with pydifact and compares everything
with the order, as the file will be sent: envelope (UNA, UNB/UNZ control reference and message
count, UNH/UNT reference and segment count, CNT), header and every line (position, reference,
quantity, prices, identifiers, title, author, funds, library); any difference raises
:class:`OrdersCheckError` naming it. Nothing is uploaded without that check.
"""
from __future__ import annotations

import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from pydifact.control.characters import Characters
from pydifact.exceptions import MissingImplementationWarning
from pydifact.parser import Parser
from pydifact.segmentcollection import Interchange, Message
from pydifact.segments import Segment

from ...text import T
from .format import joined

warnings.filterwarnings("ignore", category=MissingImplementationWarning, module="pydifact")
warnings.filterwarnings("ignore", category=SyntaxWarning, module="pydifact")

SERVICE_CHARACTERS = ":+.? '"          # component, data, decimal mark, release, reserved, terminator
MESSAGE_IDENTIFIER = ["ORDERS", "D", "96A", "UN", "EAN008"]
CODECS = {"UNOC": "latin-1", "UNOW": "utf-8"}
ORDER, CANCELLATION = "9", "1"          # BGM message function (1225)
FUNCTIONS = (ORDER, CANCELLATION)
NAD_AGENCIES = {"14": "9", "31B": "31B"}   # UNB identification code qualifier → NAD code list agency
PART = 35                                # IMD 7008 is an..35
TITLE, AUTHOR = "050", "009"
MAX_LINES = 9999
MAX_QUANTITY = 100_000
MAX_PRICE_DIGITS = 15                    # PRI 5118 n..15; MOA 5004 n..18 (the stricter for both)
_CONTROL = re.compile(r"^[A-Za-z0-9]{1,14}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_ISBN = re.compile(r"^(97[89][0-9]{10}|[0-9]{9}[0-9X])$")
_ISSN = re.compile(r"^[0-9]{7}[0-9X]$")
_SPACES = re.compile(r"\s+")
# Under UNOC: what NFKD does not take back to Latin-1 (typographic marks, letters with strokes).
FOLD = {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i", "Œ": "OE", "œ": "oe",
        "‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-", "…": "...",
        "€": "EUR"}


class OrdersError(ValueError):
    """The order cannot make a correct ORDERS file; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__(T("The EDI order cannot be built: %(problems)s", problems=joined(self.problems)))


class OrdersCheckError(ValueError):
    """The built file does not read back as the order it was built from; ``problems`` says where."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__(T("The EDI order file does not read back as the order (not sent): %(problems)s",
                           problems=joined(self.problems)))


@dataclass(frozen=True)
class Party:
    """An interchange partner: its id (EAN/GLN, SAN …) and the UNB qualifier of that id."""
    id: str
    qualifier: str = "14"
    name: str = ""

    @property
    def agency(self) -> str:
        return NAD_AGENCIES.get(self.qualifier, "ZZZ")


@dataclass(frozen=True)
class OrderLine:
    position: int                       # LIN line number, 1 … in the message
    reference: str                      # RFF+LI: our PO line number (the vendor's INVOIC quotes it)
    quantity: int                       # QTY+21
    list_price: Decimal                 # PRI+AAB, per copy, before discount
    title: str
    author: str = ""
    isbn: str = ""
    issn: str = ""
    net_amount: Decimal | None = None   # MOA+203: the line's net amount (all copies, after discount)
    funds: tuple[str, ...] = ()         # GIR …:LFN
    library: str = ""                   # GIR …:LLO


@dataclass(frozen=True)
class Order:
    number: str                         # BGM: the PO number
    order_date: date                    # DTM+137
    currency: str                       # CUX+2
    buyer: Party                        # UNB sender, NAD+BY: the institution
    supplier: Party                     # UNB recipient, NAD+SU: the vendor
    lines: tuple[OrderLine, ...]
    control_reference: str              # UNB/UNZ, an..14, unique per interchange sent to this vendor
    prepared_at: datetime               # UNB date and time of preparation
    account: str = ""                   # RFF+API after NAD+BY
    syntax: str = "UNOC"                # UNOC (Latin-1) or UNOW (UTF-8)
    message_reference: str = "1"        # UNH/UNT
    function: str = ORDER               # BGM 1225: 9 original order, 1 cancellation


@dataclass
class OrdersFile:
    text: str          # what is written, as text
    data: bytes        # ``text`` encoded in the interchange's character set: the file to upload
    segments: int      # UNT's count (UNH … UNT)


@dataclass
class ReadLine:
    position: int = 0
    ean: str = ""
    reference: str = ""
    quantity: int | None = None
    list_price: Decimal | None = None
    net_amount: Decimal | None = None
    isbn: str = ""
    issn: str = ""
    title: str = ""
    author: str = ""
    funds: list[str] = field(default_factory=list)
    library: str = ""


@dataclass
class ReadOrder:
    """An ORDERS interchange as read back (:func:`read_orders`)."""
    syntax: str = ""
    buyer: Party | None = None
    supplier: Party | None = None
    control_reference: str = ""
    message_reference: str = ""
    number: str = ""
    function: str = ""
    order_date: date | None = None
    currency: str = ""
    account: str = ""
    lines: list[ReadLine] = field(default_factory=list)
    line_count: int | None = None      # CNT+2
    problems: list[str] = field(default_factory=list)   # envelope and syntax problems


# -- text as sent --------------------------------------------------------------------------------

def clean_text(value: str, syntax: str = "UNOC") -> str:
    """Free text as it is written in the file: one line, trimmed, representable in ``syntax``."""
    text = unicodedata.normalize("NFC", str(value or ""))
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)
    text = _SPACES.sub(" ", text).strip()
    if syntax != "UNOC":
        return text
    out = []
    for c in text:
        if ord(c) < 256:
            out.append(c)
            continue
        folded = FOLD.get(c) or "".join(p for p in unicodedata.normalize("NFKD", c)
                                        if ord(p) < 256 and not unicodedata.combining(p))
        out.append(folded or "?")
    return _SPACES.sub(" ", "".join(out)).strip()


def normal_isbn(value: str) -> str:
    return re.sub(r"[\s-]", "", value or "").upper()


def _parts(text: str) -> list[str]:
    return [text[i:i + PART] for i in range(0, len(text), PART)]


def _amount(value: Decimal) -> str:
    return format(value.copy_abs() if value == 0 else value, "f")   # never "-0"


# -- building ------------------------------------------------------------------------------------

def _problems(order: Order) -> list[str]:
    problems: list[str] = []
    codec = CODECS.get(order.syntax)
    if codec is None:
        return [T("The character set %(syntax)s is not supported (UNOC or UNOW).", syntax=repr(order.syntax))]

    def ident(value: str, what: str, size: int = 35, required: bool = True) -> None:
        if not value:
            if required:
                problems.append(T("%(what)s is missing.", what=what))
            return
        if len(value) > size:
            problems.append(T("%(what)s %(value)s is longer than %(n)s characters.", what=what,
                              value=repr(value[:40]), n=size))
        if value != value.strip() or any(unicodedata.category(c)[0] in "CZ" and c != " " for c in value):
            problems.append(T("%(what)s %(value)s has control characters or spaces around it.", what=what,
                              value=repr(value)))
        try:
            value.encode(codec)
        except UnicodeEncodeError:
            problems.append(T("%(what)s %(value)s cannot be written in %(syntax)s.", what=what, value=repr(value),
                              syntax=order.syntax))

    ident(order.number, T("The PO number"))
    ident(order.buyer.id, T("Our EDI id (the interchange sender)"))
    ident(order.supplier.id, T("The vendor's EDI id (the interchange recipient)"))
    ident(order.buyer.qualifier, T("Our EDI id qualifier"), 4)
    ident(order.supplier.qualifier, T("The vendor's EDI id qualifier"), 4)
    ident(order.account, T("The account at the vendor"), required=False)
    ident(order.message_reference, T("The message reference"), 14)
    if not _CONTROL.match(order.control_reference or ""):
        problems.append(T("The interchange control reference %(value)s must be 1 to 14 letters or digits.",
                          value=repr(order.control_reference)))
    if not _CURRENCY.match(order.currency or ""):
        problems.append(T("The currency %(value)s is not an ISO 4217 code.", value=repr(order.currency)))
    if order.function not in FUNCTIONS:
        problems.append(T("The message function %(value)s is not 9 (order) or 1 (cancellation).",
                          value=repr(order.function)))
    if not order.lines:
        problems.append(T("The order has no lines."))
    if len(order.lines) > MAX_LINES:
        problems.append(T("The order has %(n)s lines; one message holds at most %(limit)s.", n=len(order.lines),
                          limit=MAX_LINES))
    positions = [line.position for line in order.lines]
    if len(set(positions)) != len(positions):
        problems.append(T("Two lines have the same line number."))
    references = [line.reference for line in order.lines]
    if len(set(references)) != len(references):
        problems.append(T("Two lines have the same order line reference."))
    for line in order.lines:
        where = line.position
        if not isinstance(line.position, int) or not 1 <= line.position <= 999_999:
            problems.append(T("Line %(line)s: the line number must be a whole number from 1 to 999999.", line=where))
        ident(line.reference, T("Line %(line)s: the order line reference", line=where))
        if not isinstance(line.quantity, int) or isinstance(line.quantity, bool) \
                or not 1 <= line.quantity <= MAX_QUANTITY:
            problems.append(T("Line %(line)s: the quantity %(value)s must be a whole number from 1 to %(limit)s.",
                              line=where, value=repr(line.quantity), limit=MAX_QUANTITY))
        for what, value in ((T("list price"), line.list_price), (T("net amount"), line.net_amount)):
            if value is None and what == "net amount":
                continue
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                problems.append(T("Line %(line)s: the %(what)s %(value)s must be an amount of zero or more.",
                                  line=where, what=what, value=repr(value)))
            elif len(_amount(value).replace(".", "").lstrip("0")) > MAX_PRICE_DIGITS:
                problems.append(T("Line %(line)s: the %(what)s %(value)s has more than %(n)s digits.", line=where,
                                  what=what, value=str(value), n=MAX_PRICE_DIGITS))
        if not clean_text(line.title, order.syntax):
            problems.append(T("Line %(line)s: the title is empty.", line=where))
        isbn, issn = normal_isbn(line.isbn), normal_isbn(line.issn)
        if isbn and not _ISBN.match(isbn):
            problems.append(T("Line %(line)s: %(value)s is not an ISBN (10 or 13 digits).", line=where,
                              value=repr(line.isbn)))
        if issn and not _ISSN.match(issn):
            problems.append(T("Line %(line)s: %(value)s is not an ISSN (8 digits).", line=where,
                              value=repr(line.issn)))
        for fund in line.funds:
            ident(fund, T("Line %(line)s: the fund code", line=where))
        ident(line.library, T("Line %(line)s: the library code", line=where), required=False)
    return problems


def order_segments(order: Order) -> list[Segment]:
    """The message's segments between UNH and UNT (the data is assumed checked)."""
    syntax = order.syntax

    def text(value: str) -> str:
        return clean_text(value, syntax)

    segments = [Segment("BGM", "220", order.number, order.function),
                Segment("DTM", ["137", f"{order.order_date:%Y%m%d}", "102"])]
    for qualifier, party in (("BY", order.buyer), ("SU", order.supplier)):
        name = text(party.name)[:PART]
        segments.append(Segment("NAD", qualifier, [party.id, "", party.agency], *(["", name] if name else [])))
        if qualifier == "BY" and order.account:
            segments.append(Segment("RFF", ["API", order.account]))
    segments.append(Segment("CUX", ["2", order.currency, "9"]))
    for line in order.lines:
        isbn, issn = normal_isbn(line.isbn), normal_isbn(line.issn)
        ean = isbn if len(isbn) == 13 else ""
        segments.append(Segment("LIN", str(line.position), "", [ean, "EN"]) if ean
                        else Segment("LIN", str(line.position)))
        ids = ([[isbn, "IB"]] if isbn else []) + ([[issn, "IS"]] if issn else [])
        if ids:
            segments.append(Segment("PIA", "5", *ids))
        for code, value in ((TITLE, line.title), (AUTHOR, line.author)):
            parts = _parts(text(value))
            for i in range(0, len(parts), 2):
                segments.append(Segment("IMD", "L", code, ["", "", "", *parts[i:i + 2]]))
        segments.append(Segment("QTY", ["21", str(line.quantity)]))
        gir = [[fund, "LFN"] for fund in line.funds] + ([[line.library, "LLO"]] if line.library else [])
        if gir:
            segments.append(Segment("GIR", "001", *gir))
        segments.append(Segment("PRI", ["AAB", _amount(line.list_price)]))
        if line.net_amount is not None:
            segments.append(Segment("MOA", ["203", _amount(line.net_amount)]))
        segments.append(Segment("RFF", ["LI", line.reference]))
    segments += [Segment("UNS", "S"), Segment("CNT", ["2", str(len(order.lines))])]
    return segments


def build_orders(order: Order, break_lines: bool = False) -> OrdersFile:
    """The ORDERS interchange of ``order``; :class:`OrdersError` when the data cannot make one."""
    problems = _problems(order)
    if problems:
        raise OrdersError(problems)
    characters = Characters.from_str(SERVICE_CHARACTERS)
    interchange = Interchange(sender=[order.buyer.id, order.buyer.qualifier],
                              recipient=[order.supplier.id, order.supplier.qualifier],
                              control_reference=order.control_reference, syntax_identifier=(order.syntax, 3),
                              timestamp=order.prepared_at, characters=characters,
                              extra_header_elements=["", "ORDERS"])
    interchange.has_una_segment = True
    message = Message(order.message_reference, MESSAGE_IDENTIFIER, characters=characters)
    message.add_segments(order_segments(order))
    interchange.add_message(message)
    text = interchange.serialize(break_lines=break_lines)
    return OrdersFile(text=text, data=text.encode(CODECS[order.syntax]), segments=len(message.segments) + 2)


def file_name(order: Order) -> str:
    """A name for the file on the vendor's server: ``ORDERS_<PO>_<control ref>.edi`` (safe characters)."""
    return f"ORDERS_{re.sub(r'[^A-Za-z0-9-]', '_', order.number)}_{order.control_reference}.edi"


# -- reading back --------------------------------------------------------------------------------

def _el(segment: Segment, index: int):
    return segment.elements[index] if len(segment.elements) > index else ""


def _comp(element, index: int) -> str:
    if isinstance(element, list):
        return element[index] if len(element) > index else ""
    return element if index == 0 and element is not None else ""


def _number(value: str, what: str, problems: list[str], whole: bool = False):
    try:
        number = Decimal(value)
        if not number.is_finite() or not re.match(r"^[0-9]+(\.[0-9]+)?$", value):
            raise InvalidOperation(value)
    except (InvalidOperation, TypeError):
        problems.append(T("%(what)s: %(value)s is not a number.", what=what, value=repr(value)))
        return None
    if whole:
        if number != number.to_integral_value():
            problems.append(T("%(what)s: %(value)s is not a whole number.", what=what, value=repr(value)))
            return None
        return int(number)
    return number


def read_orders(data: bytes) -> ReadOrder:
    """Parse an ORDERS interchange of one message with pydifact. Syntax and envelope problems go to
    ``problems``; the content is compared with an order by :func:`check_orders`."""
    read = ReadOrder()
    problems = read.problems
    head = data[:40]
    at = head.find(b"UNB+")
    read.syntax = head[at + 4:at + 8].decode("ascii", "replace") if at >= 0 else ""
    codec = CODECS.get(read.syntax)
    if codec is None:
        problems.append(T("The interchange declares the character set %(syntax)s, not UNOC or UNOW.",
                          syntax=repr(read.syntax)))
        return read
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        problems.append(T("The file is not valid %(syntax)s (%(codec)s) text: %(reason)s at byte %(byte)s.",
                          syntax=read.syntax, codec=codec, reason=exc.reason, byte=exc.start))
        return read
    if not text.startswith("UNA" + SERVICE_CHARACTERS):
        problems.append(T("The file must start with the service string advice %(una)s.",
                          una="UNA" + SERVICE_CHARACTERS))
        return read
    try:
        segments = [s for s in Parser().parse(text) if s.tag != "UNA"]
    except Exception as exc:  # noqa: BLE001 - whatever pydifact raises, the file is refused with its reason
        problems.append(T("The file is not readable EDIFACT: %(error)s.", error=str(exc)))
        return read
    tags = [s.tag for s in segments]
    if tags[:2] != ["UNB", "UNH"] or tags[-2:] != ["UNT", "UNZ"] or tags.count("UNH") != 1 \
            or tags.count("UNT") != 1 or tags.count("UNB") != 1 or tags.count("UNZ") != 1:
        envelope = " ".join(t for t in tags if t.startswith("UN"))
        problems.append(T("The file must be one interchange (UNB … UNZ) of one message (UNH … UNT); it has "
                          "%(envelope)s.", envelope=envelope) if envelope else
                        T("The file must be one interchange (UNB … UNZ) of one message (UNH … UNT); it has no "
                          "envelope."))
        return read
    unb, unh, unt, unz = segments[0], segments[1], segments[-2], segments[-1]
    body = segments[2:-2]
    read.buyer = Party(_comp(_el(unb, 1), 0), _comp(_el(unb, 1), 1))
    read.supplier = Party(_comp(_el(unb, 2), 0), _comp(_el(unb, 2), 1))
    read.control_reference = _comp(_el(unb, 4), 0)
    read.message_reference = _comp(_el(unh, 0), 0)
    if _comp(_el(unb, 0), 1) != "3":
        problems.append(T("UNB: syntax version %(value)s, expected 3.", value=repr(_comp(_el(unb, 0), 1))))
    if _el(unh, 1) != MESSAGE_IDENTIFIER:
        problems.append(T("UNH: the message is %(got)s, not %(want)s.", got=":".join(_el(unh, 1) or []),
                          want=":".join(MESSAGE_IDENTIFIER)))
    if _comp(_el(unt, 0), 0) != str(len(body) + 2):
        problems.append(T("UNT: the segment count is %(value)s; the message has %(n)s.",
                          value=repr(_comp(_el(unt, 0), 0)), n=len(body) + 2))
    if _comp(_el(unt, 1), 0) != read.message_reference:
        problems.append(T("UNT: the message reference %(value)s is not UNH's %(want)s.",
                          value=repr(_comp(_el(unt, 1), 0)), want=repr(read.message_reference)))
    if _comp(_el(unz, 0), 0) != "1":
        problems.append(T("UNZ: the message count is %(value)s; the interchange has 1.",
                          value=repr(_comp(_el(unz, 0), 0))))
    if _comp(_el(unz, 1), 0) != read.control_reference:
        problems.append(T("UNZ: the control reference %(value)s is not UNB's %(want)s.",
                          value=repr(_comp(_el(unz, 1), 0)), want=repr(read.control_reference)))
    _read_body(read, body)
    return read


def _read_body(read: ReadOrder, body: list[Segment]) -> None:
    problems = read.problems
    line: ReadLine | None = None
    for segment in body:
        tag = segment.tag
        where = line.position if line else None
        if tag == "BGM":
            read.number, read.function = _comp(_el(segment, 1), 0), _comp(_el(segment, 2), 0)
            if _comp(_el(segment, 0), 0) != "220":
                problems.append(T("BGM: document %(value)s is not an order (220).",
                                  value=repr(_comp(_el(segment, 0), 0))))
        elif tag == "DTM" and line is None and _comp(_el(segment, 0), 0) == "137":
            try:
                read.order_date = datetime.strptime(_comp(_el(segment, 0), 1), "%Y%m%d").date()
            except ValueError:
                problems.append(T("DTM+137: %(value)s is not a CCYYMMDD date.", value=repr(_comp(_el(segment, 0), 1))))
        elif tag == "NAD" and line is None:
            party = Party(_comp(_el(segment, 1), 0), _comp(_el(segment, 1), 2), _comp(_el(segment, 3), 0))
            if _comp(_el(segment, 0), 0) == "BY":
                read.buyer = Party(read.buyer.id if read.buyer else "", read.buyer.qualifier if read.buyer else "",
                                   party.name)
                _same(problems, "NAD+BY id", party.id, read.buyer.id)
            elif _comp(_el(segment, 0), 0) == "SU":
                read.supplier = Party(read.supplier.id if read.supplier else "",
                                      read.supplier.qualifier if read.supplier else "", party.name)
                _same(problems, "NAD+SU id", party.id, read.supplier.id)
        elif tag == "CUX" and line is None:
            read.currency = _comp(_el(segment, 0), 1)
        elif tag == "LIN":
            position = _number(_comp(_el(segment, 0), 0), "LIN", problems, whole=True)
            line = ReadLine(position=position or 0, ean=_comp(_el(segment, 2), 0))
            read.lines.append(line)
        elif tag == "RFF" and line is None and _comp(_el(segment, 0), 0) == "API":
            read.account = _comp(_el(segment, 0), 1)
        elif line is None and tag in ("PIA", "IMD", "QTY", "GIR", "PRI", "MOA", "RFF"):
            problems.append(T("%(segment)s before the first LIN.", segment=tag))
        elif tag == "PIA":
            for element in segment.elements[1:]:
                kind = _comp(element, 1)
                if kind == "IB":
                    line.isbn = _comp(element, 0)
                elif kind == "IS":
                    line.issn = _comp(element, 0)
        elif tag == "IMD":
            parts = "".join(_el(segment, 2)[3:] if isinstance(_el(segment, 2), list) else [])
            if _comp(_el(segment, 1), 0) == TITLE:
                line.title += parts
            elif _comp(_el(segment, 1), 0) == AUTHOR:
                line.author += parts
        elif tag == "QTY" and _comp(_el(segment, 0), 0) == "21":
            line.quantity = _number(_comp(_el(segment, 0), 1), _at(where, "QTY+21"), problems, whole=True)
        elif tag == "GIR":
            for element in segment.elements[1:]:
                if _comp(element, 1) == "LFN":
                    line.funds.append(_comp(element, 0))
                elif _comp(element, 1) == "LLO":
                    line.library = _comp(element, 0)
        elif tag == "PRI" and _comp(_el(segment, 0), 0) == "AAB":
            line.list_price = _number(_comp(_el(segment, 0), 1), _at(where, "PRI+AAB"), problems)
        elif tag == "MOA" and _comp(_el(segment, 0), 0) == "203":
            line.net_amount = _number(_comp(_el(segment, 0), 1), _at(where, "MOA+203"), problems)
        elif tag == "RFF" and _comp(_el(segment, 0), 0) == "LI":
            line.reference = _comp(_el(segment, 0), 1)
        elif tag == "UNS":
            line = None
        elif tag == "CNT" and _comp(_el(segment, 0), 0) == "2":
            read.line_count = _number(_comp(_el(segment, 0), 1), "CNT+2", problems, whole=True)


def _at(line, what: str) -> str:
    return T("Line %(line)s: %(what)s", line=line, what=what) if line else what


# What each line's value is called when it does not read back (the keys stay the file's terms).
_CHECKED = {"LIN number": T("LIN number"), "RFF+LI reference": T("RFF+LI reference"),
            "QTY+21 quantity": T("QTY+21 quantity"), "PRI+AAB list price": T("PRI+AAB list price"),
            "MOA+203 net amount": T("MOA+203 net amount"), "title (IMD 050)": T("title (IMD 050)"),
            "author (IMD 009)": T("author (IMD 009)"), "funds (GIR LFN)": T("funds (GIR LFN)"),
            "library (GIR LLO)": T("library (GIR LLO)")}


def _same(problems: list[str], what: str, got, want) -> None:
    if got != want:
        problems.append(T("%(what)s: the file has %(got)s, the order %(want)s.", what=what, got=repr(got),
                          want=repr(want)))


def check_orders(data: bytes, order: Order) -> ReadOrder:
    """Read ``data`` back and compare it with ``order`` as it should have been written; raises
    :class:`OrdersCheckError` listing every difference, else returns what was read."""
    read = read_orders(data)
    problems = list(read.problems)
    if problems and read.buyer is None:
        raise OrdersCheckError(problems)
    syntax = order.syntax

    def text(value: str) -> str:
        return clean_text(value, syntax)

    _same(problems, T("The character set"), read.syntax, order.syntax)
    _same(problems, T("UNB sender"), (read.buyer.id, read.buyer.qualifier), (order.buyer.id, order.buyer.qualifier))
    _same(problems, T("UNB recipient"), (read.supplier.id, read.supplier.qualifier),
          (order.supplier.id, order.supplier.qualifier))
    _same(problems, T("NAD+BY name"), read.buyer.name, text(order.buyer.name)[:PART])
    _same(problems, T("NAD+SU name"), read.supplier.name, text(order.supplier.name)[:PART])
    _same(problems, T("The control reference"), read.control_reference, order.control_reference)
    _same(problems, T("The message reference"), read.message_reference, order.message_reference)
    _same(problems, T("BGM: the PO number"), read.number, order.number)
    _same(problems, T("BGM: the message function"), read.function, order.function)
    _same(problems, T("DTM+137: the order date"), read.order_date, order.order_date)
    _same(problems, T("CUX: the currency"), read.currency, order.currency)
    _same(problems, T("RFF+API: the account"), read.account, order.account)
    _same(problems, T("CNT+2: the line count"), read.line_count, len(order.lines))
    _same(problems, T("The number of lines (LIN)"), len(read.lines), len(order.lines))
    for got, want in zip(read.lines, order.lines):
        where = (want.position, want.reference)
        isbn = normal_isbn(want.isbn)
        expected = {"LIN number": want.position, "EAN (LIN)": isbn if len(isbn) == 13 else "",
                    "RFF+LI reference": want.reference, "QTY+21 quantity": want.quantity,
                    "PRI+AAB list price": want.list_price, "MOA+203 net amount": want.net_amount,
                    "ISBN (PIA)": isbn, "ISSN (PIA)": normal_isbn(want.issn), "title (IMD 050)": text(want.title),
                    "author (IMD 009)": text(want.author), "funds (GIR LFN)": list(want.funds),
                    "library (GIR LLO)": want.library}
        actual = {"LIN number": got.position, "EAN (LIN)": got.ean, "RFF+LI reference": got.reference,
                  "QTY+21 quantity": got.quantity, "PRI+AAB list price": got.list_price,
                  "MOA+203 net amount": got.net_amount, "ISBN (PIA)": got.isbn, "ISSN (PIA)": got.issn,
                  "title (IMD 050)": got.title, "author (IMD 009)": got.author, "funds (GIR LFN)": got.funds,
                  "library (GIR LLO)": got.library}
        for key, value in expected.items():
            _same(problems, T("Line %(line)s (%(reference)s): %(what)s", line=where[0], reference=where[1],
                              what=_CHECKED.get(key, key)), actual[key], value)
    if problems:
        raise OrdersCheckError(problems)
    return read
