"""Fund balances derived from transactions, and the over-encumbrance/over-expenditure rules."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from ..text import T
from .money import MAX_AMOUNT, _plain_digits, format_money, quantize, within_range

ZERO = Decimal("0")


class TransactionKind(str, Enum):
    ALLOCATION = "allocation"          # +/- money given to (or taken from) a fund
    TRANSFER = "transfer"              # one leg of a transfer: - on the source, + on the target
    ENCUMBRANCE = "encumbrance"        # money committed by an approved order line
    DISENCUMBRANCE = "disencumbrance"  # commitment released (invoice, close, cancel)
    EXPENDITURE = "expenditure"        # money spent by an invoice line (negative: a refund)


@dataclass(frozen=True)
class Balance:
    allocated: Decimal = ZERO   # allocations and transfers
    encumbered: Decimal = ZERO
    expended: Decimal = ZERO

    @property
    def available(self) -> Decimal:
        return self.allocated - self.encumbered - self.expended

    def __add__(self, other: "Balance") -> "Balance":
        return Balance(self.allocated + other.allocated, self.encumbered + other.encumbered,
                       self.expended + other.expended)

    def spent_fraction(self) -> Decimal:
        """Share of the allocation encumbered or expended (for the spent bars), clamped to 0..1."""
        if self.allocated <= 0:
            return Decimal(1) if (self.encumbered + self.expended) > 0 else ZERO
        return max(ZERO, min(Decimal(1), (self.encumbered + self.expended) / self.allocated))


def effect_of(kind: TransactionKind | str, amount: Decimal) -> Balance:
    """How one transaction of ``kind`` and signed ``amount`` changes a balance."""
    kind = TransactionKind(kind)
    if kind in (TransactionKind.ALLOCATION, TransactionKind.TRANSFER):
        return Balance(allocated=amount)
    if kind is TransactionKind.ENCUMBRANCE:
        return Balance(encumbered=amount)
    if kind is TransactionKind.DISENCUMBRANCE:
        return Balance(encumbered=-amount)
    return Balance(expended=amount)


@dataclass(frozen=True)
class FundRules:
    overencumbrance_allowed: bool = False
    overencumbrance_limit_percent: Decimal = ZERO   # percent of the allocation
    overexpenditure_allowed: bool = False
    overexpenditure_limit: Decimal = ZERO           # absolute sum in the fund's currency

    def overdraft(self, kind: TransactionKind, allocated: Decimal, currency: str) -> Decimal:
        """How far below zero ``available`` may go after a posting of ``kind``."""
        if kind is TransactionKind.ENCUMBRANCE and self.overencumbrance_allowed:
            return quantize(max(allocated, ZERO) * self.overencumbrance_limit_percent / 100, currency)
        if kind is TransactionKind.EXPENDITURE and self.overexpenditure_allowed:
            return self.overexpenditure_limit
        return ZERO


class LimitExceeded(Exception):
    """A posting refused because it would take a fund past what its rules permit."""

    def __init__(self, fund_label: str, shortfall: Decimal, currency: str, kind: TransactionKind,
                 amount: Decimal | None = None):
        self.fund_label, self.shortfall, self.currency, self.kind = fund_label, shortfall, currency, kind
        figures = dict(fund=fund_label, short=f"{format_money(shortfall, currency)} {currency}")
        if amount is None:
            texts = {
                TransactionKind.ENCUMBRANCE: T("Fund %(fund)s cannot encumber this amount: it is short by %(short)s.",
                                               **figures),
                TransactionKind.EXPENDITURE: T("Fund %(fund)s cannot expend this amount: it is short by %(short)s.",
                                               **figures),
                TransactionKind.TRANSFER: T("Fund %(fund)s cannot transfer out this amount: it is short by "
                                            "%(short)s.", **figures),
                TransactionKind.ALLOCATION: T("Fund %(fund)s cannot give back this amount: it is short by "
                                              "%(short)s.", **figures),
            }
            other = T("Fund %(fund)s cannot release this amount: it is short by %(short)s.", **figures)
        else:
            figures["amount"] = f"{format_money(abs(amount), currency)} {currency}"
            texts = {
                TransactionKind.ENCUMBRANCE: T("Fund %(fund)s cannot encumber %(amount)s: it is short by %(short)s.",
                                               **figures),
                TransactionKind.EXPENDITURE: T("Fund %(fund)s cannot expend %(amount)s: it is short by %(short)s.",
                                               **figures),
                TransactionKind.TRANSFER: T("Fund %(fund)s cannot transfer out %(amount)s: it is short by "
                                            "%(short)s.", **figures),
                TransactionKind.ALLOCATION: T("Fund %(fund)s cannot give back %(amount)s: it is short by "
                                              "%(short)s.", **figures),
            }
            other = T("Fund %(fund)s cannot release %(amount)s: it is short by %(short)s.", **figures)
        self.text = texts.get(kind, other)
        super().__init__(self.text)


class InvalidPosting(ValueError):
    """A posting that makes no sense whatever the limits (releasing more than is encumbered); ``text``
    the :class:`~app.text.Text` of its message."""

    def __init__(self, message):
        super().__init__(message)
        self.text = message


def check_posting(balance: Balance, kind: TransactionKind | str, amount: Decimal, rules: FundRules,
                  *, currency: str, fund_label: str, base: Balance | None = None) -> Balance:
    """Return the balance after the posting, or raise :class:`LimitExceeded`.

    A posting that lowers ``available`` must leave it at or above zero, or, for encumbrances and
    expenditures on a fund that allows it, within the fund's overdraft. Postings that raise
    ``available`` (a release, a refund, an allocation) are always accepted. ``base`` lets a
    caller that posts several rows at once check the combined effect against the starting
    balance.
    """
    kind = TransactionKind(kind)
    if not within_range(amount):
        raise InvalidPosting(T("%(amount)s %(currency)s is beyond the largest amount the ledger holds (below %(max)s).",
                               amount=_plain_digits(amount), currency=currency, max=format_money(MAX_AMOUNT, currency)))
    after = balance + effect_of(kind, amount)
    for name in ("allocated", "encumbered", "expended"):
        total = getattr(after, name)
        if not within_range(total):
            figures = dict(fund=fund_label, amount=f"{format_money(amount, currency)} {currency}",
                           total=f"{format_money(total, currency)} {currency}", max=format_money(MAX_AMOUNT, currency))
            raise InvalidPosting({
                "allocated": T("Fund %(fund)s cannot take %(amount)s: its allocated total would be %(total)s, beyond "
                               "the largest amount the ledger holds (below %(max)s).", **figures),
                "encumbered": T("Fund %(fund)s cannot take %(amount)s: its encumbered total would be %(total)s, "
                                "beyond the largest amount the ledger holds (below %(max)s).", **figures),
                "expended": T("Fund %(fund)s cannot take %(amount)s: its expended total would be %(total)s, beyond "
                              "the largest amount the ledger holds (below %(max)s).", **figures),
            }[name])
    if kind is TransactionKind.DISENCUMBRANCE and (amount < 0 or after.encumbered < 0):
        raise InvalidPosting(T("Fund %(fund)s has only %(encumbered)s encumbered; it cannot release %(amount)s.",
                               fund=fund_label, encumbered=f"{format_money(balance.encumbered, currency)} {currency}",
                               amount=f"{format_money(amount, currency)} {currency}"))
    if kind is TransactionKind.ENCUMBRANCE and amount < 0:
        raise InvalidPosting(T("An encumbrance is positive; release money with a disencumbrance."))
    start = base or balance
    if after.available >= start.available or after.available >= 0:
        return after
    allowed = rules.overdraft(kind, after.allocated, currency)
    if -after.available <= allowed:
        return after
    raise LimitExceeded(fund_label, -after.available - allowed, currency, kind, amount)


