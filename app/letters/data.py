"""The plain data a letter is made from, and the template context built from it.

Templates see only what :func:`order_context` and :func:`payment_context` return: dicts, lists and
strings (amounts already formatted exactly for the currency with :func:`app.formatting.money`,
dates ISO), never model objects, so a template can neither compute money nor reach anything else.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ..formatting import money
from ..ledger.money import quantize, quantize_percent


@dataclass(frozen=True)
class Party:
    """A name and its printable address lines (institution, delivery, billing, vendor)."""
    name: str
    lines: tuple[str, ...] = ()
    email: str = ""


@dataclass(frozen=True)
class OrderLine:
    number: str
    title: str
    quantity: int
    list_price: Decimal        # per copy
    net_price: Decimal         # the line's total after discount (as app.orders.services.net_price)
    author: str = ""
    isbn: str = ""
    issn: str = ""
    discount: Decimal = Decimal(0)   # percent
    reference: str = ""        # the vendor's reference
    note: str = ""
    expected_receipt: date | None = None


@dataclass(frozen=True)
class OrderLetter:
    """A PO letter, a cancellation (``lines`` are the cancelled ones) or a claim (the claimed lines)."""
    po_number: str
    letter_date: date
    currency: str
    institution: Party
    vendor: Party
    lines: tuple[OrderLine, ...]
    delivery: Party | None = None
    billing: Party | None = None
    vendor_code: str = ""
    account_code: str = ""
    account_description: str = ""
    ordered_on: date | None = None
    reason: str = ""           # cancellation reason, or the claim's message
    note: str = ""


@dataclass(frozen=True)
class PaidInvoice:
    number: str
    amount: Decimal
    invoice_date: date | None = None


@dataclass(frozen=True)
class PaymentNotice:
    institution: Party
    vendor: Party
    letter_date: date
    currency: str
    payment_date: date
    voucher_number: str
    invoices: tuple[PaidInvoice, ...] = field(default_factory=tuple)


def _day(d: date | None) -> str:
    return d.isoformat() if d else ""


def _percent(value: Decimal) -> str:
    text = format(quantize_percent(Decimal(value)), "f").rstrip("0").rstrip(".")
    return f"{text}%"


def _party(p: Party | None) -> dict:
    if p is None:
        return {"name": "", "lines": [], "email": ""}
    return {"name": p.name, "lines": list(p.lines), "email": p.email}


def order_context(letter: OrderLetter) -> dict:
    cur = letter.currency
    total = quantize(sum((Decimal(line.net_price) for line in letter.lines), Decimal(0)), cur)
    lines = [{
        "number": line.number, "title": line.title, "author": line.author, "isbn": line.isbn,
        "issn": line.issn, "quantity": line.quantity, "list_price": money(line.list_price, cur),
        "discount": _percent(line.discount), "net_price": money(line.net_price, cur),
        "reference": line.reference, "note": line.note, "expected_receipt": _day(line.expected_receipt),
    } for line in letter.lines]
    return {
        "po": {"number": letter.po_number, "ordered_on": _day(letter.ordered_on), "note": letter.note},
        "date": _day(letter.letter_date), "currency": cur,
        "institution": _party(letter.institution), "vendor": _party(letter.vendor),
        "delivery": _party(letter.delivery or letter.institution),
        "billing": _party(letter.billing or letter.institution),
        "vendor_code": letter.vendor_code,
        "account": {"code": letter.account_code, "description": letter.account_description},
        "lines": lines, "reason": letter.reason,
        "totals": {"net": money(total, cur), "quantity": sum(line.quantity for line in letter.lines),
                   "lines": len(lines)},
    }


def payment_context(notice: PaymentNotice) -> dict:
    cur = notice.currency
    total = quantize(sum((Decimal(i.amount) for i in notice.invoices), Decimal(0)), cur)
    return {
        "date": _day(notice.letter_date), "currency": cur,
        "institution": _party(notice.institution), "vendor": _party(notice.vendor),
        "payment": {"date": _day(notice.payment_date), "voucher": notice.voucher_number},
        "invoices": [{"number": i.number, "date": _day(i.invoice_date), "amount": money(i.amount, cur)}
                     for i in notice.invoices],
        "totals": {"amount": money(total, cur), "invoices": len(notice.invoices)},
    }


# -- demo data: the preview of the editing page, and what a template is checked against ----------

_DEMO_INSTITUTION = Party("Demo University Library", ("1 Library Square", "1000 Demo City"),
                          "acquisitions@library.example")
_DEMO_VENDOR = Party("Demo Books Ltd", ("5 Market Street", "2000 Vendor Town"), "orders@vendor.example")


def demo_order(lines: int = 2, day: date = date(2026, 1, 15)) -> OrderLetter:
    sample = [OrderLine(number=f"POL-{n:05d}", title=f"Sample title {n}", author="Author, A.",
                        isbn="9780000000002", issn="", quantity=n % 3 + 1, list_price=Decimal("24.90"),
                        discount=Decimal("10"), reference=f"VR-{n}",
                        net_price=quantize(Decimal("24.90") * (n % 3 + 1) * Decimal("0.9"), "EUR"),
                        expected_receipt=day)
              for n in range(1, lines + 1)]
    return OrderLetter(po_number="PO-000001", letter_date=day, currency="EUR",
                       institution=_DEMO_INSTITUTION, vendor=_DEMO_VENDOR,
                       delivery=Party("Demo University Library, Acquisitions", ("1 Library Square",
                                                                                "1000 Demo City")),
                       vendor_code="DEMO", account_code="DEMO-MAIN", account_description="Main account",
                       lines=tuple(sample), ordered_on=day, reason="No longer needed.")


def demo_payment(day: date = date(2026, 1, 15)) -> PaymentNotice:
    return PaymentNotice(institution=_DEMO_INSTITUTION, vendor=_DEMO_VENDOR, letter_date=day,
                         currency="EUR", payment_date=day, voucher_number="V-2026-0001",
                         invoices=(PaidInvoice("INV-1", Decimal("120.50"), day),
                                   PaidInvoice("INV-2", Decimal("9.99"), day)))


def demo_context(kind: str) -> dict:
    return payment_context(demo_payment()) if kind == "payment_notice" else order_context(demo_order())
