"""Exact money: parsing, quantising to the currency's minor unit, and the one split function."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Sequence

from babel.numbers import get_currency_precision

from ..text import T

_PLAIN_AMOUNT = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")  # ASCII digits only
MAX_INTEGER_DIGITS = 12  # the money columns are NUMERIC(14,2)
# Every amount stored must stay below this in magnitude: NUMERIC(14,2) on PostgreSQL; SQLite keeps
# integer cents, which would overflow its 64-bit integers only far above, but one limit holds for both.
MAX_AMOUNT = Decimal(10) ** MAX_INTEGER_DIGITS


class AmountError(ValueError):
    """An amount that cannot be accepted as money (not a number, too precise, ...).

    The message is meant for people and does not repeat the field's name; ``field`` carries it
    for callers that report many fields at once (file loads, the API). It is a lower-case phrase a
    caller puts after the field's name ("Unit price: not a number"): ``str(err)`` is it in the reader's
    language, ``err.text`` the :class:`~app.text.Text` to put in a sentence of one's own."""

    def __init__(self, message: str, field: str = "amount"):
        super().__init__(message)
        self.text = message
        self.field = field


@lru_cache(maxsize=None)
def minor_unit(currency: str) -> int:
    """Number of decimals of the currency's minor unit (EUR 2, JPY 0, KWD 3)."""
    return get_currency_precision(currency.upper())


@lru_cache(maxsize=None)
def _exponent(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit(currency))


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round a computed amount to the currency's minor unit, half away from zero."""
    if not isinstance(amount, Decimal):
        raise TypeError("money must be a Decimal, not %s" % type(amount).__name__)
    return amount.quantize(_exponent(currency), rounding=ROUND_HALF_UP)


CENT = Decimal("0.01")   # two decimals: the scale of the money columns, whatever the currency's minor unit
PERCENT_STEP = CENT      # percentages (VAT, fund shares, accrual shares) have two decimals
RATE_SCALE = 8           # exchange rates and explicit ratios have at most eight decimals
RATE_STEP = Decimal(1).scaleb(-RATE_SCALE)


def to_cents(value: Decimal, rounding: str | None = None) -> Decimal:
    """``value`` with exactly two decimals, as the money columns hold it (file formats and sums
    read back that carry no currency; :func:`quantize` rounds to a currency's own minor unit).
    Decimal's default rounding, half to even, unless ``rounding`` says otherwise."""
    return value.quantize(CENT, rounding=rounding)


def has_cent_precision(value: Decimal) -> bool:
    """Whether ``value`` has at most two decimals."""
    return value == value.quantize(CENT)


def quantize_rate(value: Decimal) -> Decimal:
    """An exchange rate or ratio to eight decimals (Decimal's default rounding, half to even)."""
    return value.quantize(RATE_STEP)


def quantize_percent(value: Decimal, rounding: str | None = None) -> Decimal:
    """A percentage to two decimals (Decimal's default rounding, half to even, unless given)."""
    return value.quantize(PERCENT_STEP, rounding=rounding)


def has_percent_precision(value: Decimal) -> bool:
    """Whether ``value`` has at most two decimals, as every stored percentage must."""
    return value == value.quantize(PERCENT_STEP)


def within_range(value: Decimal) -> bool:
    """Whether the money columns can hold ``value`` (finite, fewer than 13 digits before the point)."""
    return value.is_finite() and abs(value) < MAX_AMOUNT


def check_range(value: Decimal, field: str = "amount") -> Decimal:
    """``value`` itself, or :class:`AmountError` when it is beyond what the money columns hold.

    The one range check: :func:`parse_amount` calls it for every amount typed or read from a
    file, the invoice services for amounts they compute (quantity × price), the ledger for
    postings and the balances they lead to."""
    if not value.is_finite():
        raise AmountError(T("not a number"), field)
    if not within_range(value):
        raise AmountError(T("%(value)s is too large (at most %(digits)s digits before the decimal point)",
                            value=_plain_digits(value), digits=MAX_INTEGER_DIGITS), field)
    return value


def _plain_digits(value: Decimal) -> str:
    """A huge amount for a message: its digits when short enough, else its order of magnitude."""
    if value.adjusted() < 40:
        return f"{value:f}"
    digits = value.adjusted() + 1
    return T("-a number of %(digits)s digits", digits=digits) if value < 0 else \
        T("a number of %(digits)s digits", digits=digits)


def parse_amount(text, currency: str, *, field: str = "amount") -> Decimal:
    """Parse what a person or a file typed as an amount, refusing anything inexact.

    Accepts "1234.5", "-0.01", a Decimal or an int. Refuses floats, exponents, thousands
    separators, NaN/Infinity, and more decimals than the currency has: those are errors, never
    silently rounded.
    """
    if isinstance(text, bool) or isinstance(text, float):
        raise AmountError(T("give the amount as a decimal string such as \"12.50\""), field)
    if isinstance(text, int):
        text = str(text)
    if isinstance(text, Decimal):
        if not text.is_finite():
            raise AmountError(T("not a number"), field)
        value = text
    else:
        raw = ("" if text is None else str(text)).strip()
        if not raw:
            raise AmountError(T("an amount is required"), field)
        if len(raw) > 1000 or not _PLAIN_AMOUNT.match(raw):
            shown = raw if len(raw) <= 64 else raw[:60] + "…"
            raise AmountError(T("\"%(text)s\" is not an amount (use digits and a decimal point, e.g. 1234.50)",
                                text=shown), field)
        try:
            value = Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the pattern already excludes this
            raise AmountError(T("\"%(text)s\" is not an amount", text=raw[:64]), field) from None
    check_range(value, field)
    digits = minor_unit(currency)
    if value.as_tuple().exponent < -digits and value != value.quantize(_exponent(currency)):
        raise AmountError(T("%(currency)s amounts have at most %(digits)s decimals, got %(value)s",
                            currency=currency, digits=digits, value=value), field)
    return value.quantize(_exponent(currency))


def format_plain(amount: Decimal, currency: str) -> str:
    """The amount as a plain decimal string ("1234.50"), the way the API and files carry it."""
    value = quantize(amount, currency)
    return f"{value.copy_abs() if value == 0 else value:f}"  # never "-0.00"


def format_money(amount: Decimal, currency: str) -> str:
    """The amount as a person reads it, on pages and in messages alike: thousands grouped, the
    currency's decimals ("1,234.50"; JPY "1,235"). ``app.formatting.money`` gives it the locale's
    symbols; files and the API carry :func:`format_plain`."""
    value = quantize(Decimal(amount), currency)
    return format(value.copy_abs() if value == 0 else value, f",.{minor_unit(currency)}f")


def split(total: Decimal, weights: Sequence[Decimal | int], currency: str) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights`` so that the parts add up exactly.

    Largest remainder method in minor units: each part gets the floor of its exact share, and
    the units left over go one by one to the parts with the largest remainders; equal
    remainders go to the earlier part (a deterministic tie-break). Negative totals split their
    absolute value and every part takes the sign. Zero weights get zero; weights must not be
    negative and not all zero.
    """
    if not weights:
        raise ValueError("split needs at least one weight")
    if any(isinstance(w, float) for w in weights):
        raise TypeError("split weights must be Decimal or int, not float")
    if len(weights) == 1 and weights[0] > 0:   # one part takes it all (most invoice lines have one fund)
        whole = quantize(total, currency)
        return [abs(whole) if whole == 0 else whole]
    ws = [Decimal(w) for w in weights]
    if any(w < 0 for w in ws):
        raise ValueError("split weights must not be negative")
    weight_sum = sum(ws)
    if weight_sum == 0:
        raise ValueError("split weights must not all be zero")
    unit = _exponent(currency)
    total = quantize(total, currency)
    sign = -1 if total < 0 else 1
    units = int((abs(total) / unit).to_integral_value())
    # Exact shares in integers: each weight as an exact ratio over one common denominator, so
    # equal remainders of shares of different sizes compare equal (28-digit Decimal division cut
    # them at different places), and no Fraction arithmetic on long invoices.
    ratios = [w.as_integer_ratio() for w in ws]
    common = math.lcm(*(d for _, d in ratios))
    ints = [n * (common // d) for n, d in ratios]
    int_sum = sum(ints)
    floors, remainders = [], []
    for w in ints:
        q, r = divmod(units * w, int_sum)            # exact share = q + r / int_sum
        floors.append(q)
        remainders.append(r)
    left = units - sum(floors)
    order = sorted(range(len(ints)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        floors[i] += 1
    # sign * f in integers first: a zero part of a negative total is 0.00, not Decimal("-0.00")
    return [(Decimal(sign * f) * unit).quantize(unit) for f in floors]


@dataclass(frozen=True)
class Rate:
    """An exchange from one currency to another: ``amount × times / per``, rounded once at the end
    (an explicit ratio, or the rates of both currencies against the institution's)."""
    times: Decimal
    per: Decimal = Decimal(1)

    def convert(self, amount: Decimal, currency: str) -> Decimal:
        """``amount`` in the target ``currency``, rounded half-up to its minor unit."""
        return quantize(amount * self.times / self.per, currency)

    @property
    def ratio(self) -> Decimal:
        """Units of the target currency for one unit of the source."""
        return self.times / self.per
