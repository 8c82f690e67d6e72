"""The plain data a letter is made from, and the template context built from it.

Templates see only what :func:`order_context` and :func:`payment_context` return: dicts, lists and
strings (amounts already formatted exactly for the currency with :func:`app.formatting.money`,
dates written the letter's way with :func:`app.formatting.long_day`: "15 January 2026",
"2026年1月15日"), never model objects, so a template can neither compute money nor reach anything
else. Both follow the letter's ``language`` (a Babel locale; the vendor's, chosen when the letter
is made), not the language of whoever happens to be reading the page.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ..formatting import long_day, money
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
    language: str = ""         # the letter's language (Babel locale); "": English


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
    language: str = ""         # the letter's language (Babel locale); "": English


def _day(d: date | None, language: str) -> str:
    return long_day(d, language) if d else ""


def _percent(value: Decimal) -> str:
    text = format(quantize_percent(Decimal(value)), "f").rstrip("0").rstrip(".")
    return f"{text}%"


def _party(p: Party | None) -> dict:
    if p is None:
        return {"name": "", "lines": [], "email": ""}
    return {"name": p.name, "lines": list(p.lines), "email": p.email}


def order_context(letter: OrderLetter, language: str | None = None) -> dict:
    """The template context of an order letter, in ``language`` (else the letter's own, else English)."""
    lang = language or letter.language or "en"
    cur = letter.currency
    total = quantize(sum((Decimal(line.net_price) for line in letter.lines), Decimal(0)), cur)
    lines = [{
        "number": line.number, "title": line.title, "author": line.author, "isbn": line.isbn,
        "issn": line.issn, "quantity": line.quantity, "list_price": money(line.list_price, cur, lang),
        "discount": _percent(line.discount), "net_price": money(line.net_price, cur, lang),
        "reference": line.reference, "note": line.note, "expected_receipt": _day(line.expected_receipt, lang),
    } for line in letter.lines]
    return {
        "po": {"number": letter.po_number, "ordered_on": _day(letter.ordered_on, lang), "note": letter.note},
        "date": _day(letter.letter_date, lang), "currency": cur, "language": lang,
        "institution": _party(letter.institution), "vendor": _party(letter.vendor),
        "delivery": _party(letter.delivery or letter.institution),
        "billing": _party(letter.billing or letter.institution),
        "vendor_code": letter.vendor_code,
        "account": {"code": letter.account_code, "description": letter.account_description},
        "lines": lines, "reason": letter.reason,
        "totals": {"net": money(total, cur, lang), "quantity": sum(line.quantity for line in letter.lines),
                   "lines": len(lines)},
    }


def payment_context(notice: PaymentNotice, language: str | None = None) -> dict:
    """The template context of a payment notice, in ``language`` (else the notice's own, else English)."""
    lang = language or notice.language or "en"
    cur = notice.currency
    total = quantize(sum((Decimal(i.amount) for i in notice.invoices), Decimal(0)), cur)
    return {
        "date": _day(notice.letter_date, lang), "currency": cur, "language": lang,
        "institution": _party(notice.institution), "vendor": _party(notice.vendor),
        "payment": {"date": _day(notice.payment_date, lang), "voucher": notice.voucher_number},
        "invoices": [{"number": i.number, "date": _day(i.invoice_date, lang), "amount": money(i.amount, cur, lang)}
                     for i in notice.invoices],
        "totals": {"amount": money(total, cur, lang), "invoices": len(notice.invoices)},
    }


# -- demo data: the preview of the editing page, and what a template is checked against ----------

_DEMO = {   # language -> institution, vendor, delivery name, title pattern, account, cancellation reason
    "en": (Party("Demo University Library", ("1 Library Square", "1000 Demo City"), "acquisitions@library.example"),
           Party("Demo Books Ltd", ("5 Market Street", "2000 Vendor Town"), "orders@vendor.example"),
           "Demo University Library, Acquisitions", "Sample title {n}", "Author, A.", "Main account",
           "No longer needed."),
    "zh_Hans": (Party("示例大学图书馆", ("图书馆路 1 号", "100000 示例市"), "acquisitions@library.example"),
                Party("示例图书有限公司", ("市场街 5 号", "200000 供应商市"), "orders@vendor.example"),
                "示例大学图书馆采访部", "示例题名 {n}", "作者甲", "主账户", "不再需要。"),
}


def _demo(language: str) -> tuple:
    return _DEMO.get(language, _DEMO["en"])


def demo_order(lines: int = 2, day: date = date(2026, 1, 15), language: str = "en") -> OrderLetter:
    institution, vendor, delivery, title, author, account, reason = _demo(language)
    sample = [OrderLine(number=f"POL-{n:05d}", title=title.format(n=n), author=author,
                        isbn="9780000000002", issn="", quantity=n % 3 + 1, list_price=Decimal("24.90"),
                        discount=Decimal("10"), reference=f"VR-{n}",
                        net_price=quantize(Decimal("24.90") * (n % 3 + 1) * Decimal("0.9"), "EUR"),
                        expected_receipt=day)
              for n in range(1, lines + 1)]
    return OrderLetter(po_number="PO-000001", letter_date=day, currency="EUR",
                       institution=institution, vendor=vendor,
                       delivery=Party(delivery, institution.lines),
                       vendor_code="DEMO", account_code="DEMO-MAIN", account_description=account,
                       lines=tuple(sample), ordered_on=day, reason=reason, language=language)


def demo_payment(day: date = date(2026, 1, 15), language: str = "en") -> PaymentNotice:
    institution, vendor = _demo(language)[:2]
    return PaymentNotice(institution=institution, vendor=vendor, letter_date=day,
                         currency="EUR", payment_date=day, voucher_number="V-2026-0001",
                         invoices=(PaidInvoice("INV-1", Decimal("120.50"), day),
                                   PaidInvoice("INV-2", Decimal("9.99"), day)), language=language)


def demo_context(kind: str, language: str = "en") -> dict:
    """The demo data of ``kind`` (what a template is checked and previewed with), in ``language``."""
    if kind == "payment_notice":
        return payment_context(demo_payment(language=language), language)
    return order_context(demo_order(language=language), language)
