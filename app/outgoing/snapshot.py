"""A message's ``payload``: the letter's plain data (:mod:`app.letters.data`) and, for EDI, what an
ORDERS file needs besides it, as JSON, so the background job renders exactly what was true when
the message was made. Pure: no Flask, no database.

``dump_*`` and ``load_*`` round-trip exactly (money as decimal strings, dates ISO);
:func:`edi_order` turns a loaded order letter and its EDI part into the
:class:`app.integrations.edi.orders.Order` to build.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal

from ..integrations.edi import orders as edi
from ..letters.data import OrderLetter, OrderLine, PaidInvoice, Party, PaymentNotice

VERSION = 1


@dataclass(frozen=True)
class EdiLine:
    reference: str                     # the PO line number the letter line has
    funds: tuple[str, ...] = ()
    library: str = ""


@dataclass(frozen=True)
class EdiParts:
    """What an ORDERS file needs that a letter does not show."""
    buyer: edi.Party
    supplier: edi.Party
    lines: tuple[EdiLine, ...]
    account: str = ""
    syntax: str = "UNOC"
    function: str = edi.ORDER


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _day(text):
    return date.fromisoformat(text) if text else None


def _party(d: dict | None) -> Party | None:
    return None if d is None else Party(d["name"], tuple(d.get("lines") or ()), d.get("email", ""))


def _line(d: dict) -> OrderLine:
    return OrderLine(number=d["number"], title=d["title"], quantity=int(d["quantity"]),
                     list_price=Decimal(d["list_price"]), net_price=Decimal(d["net_price"]),
                     author=d.get("author", ""), isbn=d.get("isbn", ""), issn=d.get("issn", ""),
                     discount=Decimal(d.get("discount", "0")), reference=d.get("reference", ""),
                     note=d.get("note", ""), expected_receipt=_day(d.get("expected_receipt")))


def dump_order(letter: OrderLetter, edi_parts: EdiParts | None = None) -> dict:
    payload = {"version": VERSION, "type": "order", "letter": _plain(asdict(letter))}
    if edi_parts is not None:
        payload["edi"] = _plain(asdict(edi_parts))
    return payload


def load_order(payload: dict) -> tuple[OrderLetter, EdiParts | None]:
    d = payload["letter"]
    letter = OrderLetter(
        po_number=d["po_number"], letter_date=_day(d["letter_date"]), currency=d["currency"],
        institution=_party(d["institution"]), vendor=_party(d["vendor"]),
        lines=tuple(_line(x) for x in d["lines"]), delivery=_party(d.get("delivery")),
        billing=_party(d.get("billing")), vendor_code=d.get("vendor_code", ""),
        account_code=d.get("account_code", ""), account_description=d.get("account_description", ""),
        ordered_on=_day(d.get("ordered_on")), reason=d.get("reason", ""), note=d.get("note", ""),
        language=d.get("language") or "")
    e = payload.get("edi")
    parts = None
    if e is not None:
        parts = EdiParts(buyer=edi.Party(**e["buyer"]), supplier=edi.Party(**e["supplier"]),
                         lines=tuple(EdiLine(x["reference"], tuple(x.get("funds") or ()), x.get("library", ""))
                                     for x in e["lines"]),
                         account=e.get("account", ""), syntax=e.get("syntax", "UNOC"),
                         function=e.get("function", edi.ORDER))
    return letter, parts


def dump_payment(notice: PaymentNotice) -> dict:
    return {"version": VERSION, "type": "payment", "letter": _plain(asdict(notice))}


def load_payment(payload: dict) -> PaymentNotice:
    d = payload["letter"]
    return PaymentNotice(
        institution=_party(d["institution"]), vendor=_party(d["vendor"]), letter_date=_day(d["letter_date"]),
        currency=d["currency"], payment_date=_day(d["payment_date"]), voucher_number=d["voucher_number"],
        invoices=tuple(PaidInvoice(i["number"], Decimal(i["amount"]), _day(i.get("invoice_date")))
                       for i in d["invoices"]), language=d.get("language") or "")


def edi_order(letter: OrderLetter, parts: EdiParts, control_reference: str, prepared_at: datetime) -> edi.Order:
    """The ORDERS data of an order letter: one LIN per letter line, in the letter's order."""
    by_reference = {line.reference: line for line in parts.lines}
    lines = []
    for position, line in enumerate(letter.lines, start=1):
        extra = by_reference.get(line.number, EdiLine(line.number))
        lines.append(edi.OrderLine(position=position, reference=line.number, quantity=line.quantity,
                                   list_price=line.list_price, title=line.title, author=line.author,
                                   isbn=line.isbn, issn=line.issn, net_amount=line.net_price,
                                   funds=extra.funds, library=extra.library))
    return edi.Order(number=letter.po_number, order_date=letter.ordered_on or letter.letter_date,
                     currency=letter.currency, buyer=parts.buyer, supplier=parts.supplier, lines=tuple(lines),
                     control_reference=control_reference, prepared_at=prepared_at, account=parts.account,
                     syntax=parts.syntax, function=parts.function)


