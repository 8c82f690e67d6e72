"""Invoice arithmetic: what an invoice charges to which fund, pro-rata charges, accrual periods,
VAT amounts and the vendor/VAT check.

Pure functions over Decimal; every split goes through :func:`app.ledger.money.split`, so the parts
always add up to the whole.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum
from typing import Mapping, Sequence

from ..text import T
from .money import Rate, quantize, quantize_percent, split

HUNDRED = Decimal(100)


def pro_rata(charge: Decimal, line_totals: Sequence[Decimal], currency: str) -> list[Decimal]:
    """Spread ``charge`` over lines in proportion to their totals (refund lines count by their
    size); the parts add up to the charge exactly. Lines that all total zero share it equally."""
    if not line_totals:
        raise ValueError("a pro-rata charge needs at least one line")
    weights = [abs(t) for t in line_totals]
    if not any(weights):
        weights = [1] * len(line_totals)
    return split(charge, weights, currency)


@dataclass(frozen=True)
class Period:
    """A fiscal period as accrual sees it: a key (its code or id) and its first and last day."""
    key: object
    start: date
    end: date


@dataclass(frozen=True)
class AccrualPart:
    period: Period
    percent: Decimal
    amount: Decimal


class AccrualError(ValueError):
    """A subscription the fiscal periods cannot spread; ``text``: its message as a :class:`~app.text.Text`."""

    def __init__(self, message):
        super().__init__(message)
        self.text = message


def accrual_split(amount: Decimal, currency: str, sub_from: date, sub_to: date,
                  periods: Sequence[Period]) -> list[AccrualPart]:
    """Spread ``amount`` over the fiscal periods a subscription covers.

    Starting with the period that holds ``sub_from``, each period but the last takes its part of
    the subscription in days: (boundary − from) / (to − from), the boundary being the first day
    of the next period, as a cumulative percentage rounded to two decimals less what earlier
    periods took. The last period covered takes what remains, so the parts add up to ``amount``
    exactly.
    """
    if sub_to <= sub_from:
        raise AccrualError(T("The subscription must end after it starts."))
    ordered = sorted(periods, key=lambda p: p.start)
    first = next((i for i, p in enumerate(ordered) if p.start <= sub_from <= p.end), None)
    if first is None:
        raise AccrualError(T("No active fiscal period holds the subscription start %(day)s.", day=sub_from.isoformat()))
    total_days = Decimal((sub_to - sub_from).days)
    parts: list[AccrualPart] = []
    given_percent, given_amount = Decimal(0), Decimal(0)
    cursor = sub_from
    for period in ordered[first:]:
        if parts and period.start != cursor:
            raise AccrualError(T("The fiscal periods leave a gap before %(day)s.", day=period.start.isoformat()))
        boundary = period.end + timedelta(days=1)
        if boundary > sub_to:  # the last period covered takes the remainder
            parts.append(AccrualPart(period, HUNDRED - given_percent, quantize(amount - given_amount, currency)))
            return parts
        cumulative = quantize_percent(Decimal((boundary - sub_from).days) / total_days * HUNDRED)
        percent = cumulative - given_percent
        share = quantize(amount * percent / HUNDRED, currency)
        parts.append(AccrualPart(period, percent, share))
        given_percent, given_amount, cursor = cumulative, given_amount + share, boundary
        if given_percent == HUNDRED:
            parts[-1] = AccrualPart(period, percent, quantize(amount - (given_amount - share), currency))
            return parts
    raise AccrualError(T("No active fiscal period holds the subscription from %(start)s to %(end)s.",
                         start=cursor.isoformat(), end=sub_to.isoformat()))


def vat_of(amount: Decimal, percent: Decimal, currency: str, inclusive: bool) -> Decimal:
    """The VAT in ``amount``: exclusive adds percent of it; inclusive takes the part of a gross
    amount that is VAT (amount × p / (100 + p))."""
    if inclusive:
        return quantize(amount * percent / (HUNDRED + percent), currency)
    return quantize(amount * percent / HUNDRED, currency)


class VatCheck(str, Enum):
    """What saving an invoice needs, from the vendor/VAT table of domain.md §5."""
    NOTHING = "nothing"
    CONFIRM_VAT_THOUGH_NOT_LIABLE = "confirm_vat_though_not_liable"
    CONFIRM_NO_VAT_THOUGH_LIABLE = "confirm_no_vat_though_liable"
    CONFIRM_NO_VAT_GOVERNMENTAL = "confirm_no_vat_governmental"   # yes: add the configured VAT
    ADD_GOVERNMENTAL_VAT = "add_governmental_vat"

    @property
    def needs_confirmation(self) -> bool:
        return self.value.startswith("confirm")


def vat_check(has_governmental_vendor: bool, liable_for_vat: bool, vat_reported: bool) -> VatCheck:
    """The eight rows: whether the vendor has a governmental vendor, is liable, and VAT was reported."""
    if not liable_for_vat:
        return VatCheck.CONFIRM_VAT_THOUGH_NOT_LIABLE if vat_reported else VatCheck.NOTHING
    if not has_governmental_vendor:
        return VatCheck.NOTHING if vat_reported else VatCheck.CONFIRM_NO_VAT_THOUGH_LIABLE
    return VatCheck.ADD_GOVERNMENTAL_VAT if vat_reported else VatCheck.CONFIRM_NO_VAT_GOVERNMENTAL


# -- what an invoice charges -------------------------------------------------------------------

@dataclass(frozen=True)
class ChargedLine:
    """An invoice line as :func:`charge` sees it."""
    key: object                       # the line's position: named in messages, carried by its parts
    total: Decimal
    regular: bool = True              # regular lines take their part of the spread amounts
    vat: Decimal = Decimal(0)         # exclusive VAT charged on top of the total
    subscription: tuple[date, date] | None = None   # with accrual: spread over the fiscal periods it covers


@dataclass(frozen=True)
class FundShare:
    """One fund of a line's distribution. ``fund`` is the caller's own (charge never looks inside);
    ``periods``: with accrual, period key -> (the same fund in that period, its currency)."""
    line: object                      # ChargedLine.key
    fund: object
    currency: str
    weight: Decimal                   # its amount in the distribution (all of a line's zero: equal parts)
    periods: Mapping[object, tuple[object, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ChargePart:
    """One posting: a line's part charged to one fund, in the invoice's and in the fund's currency."""
    line: object
    fund: object
    currency: str                     # the fund's
    amount: Decimal                   # invoice currency
    fund_amount: Decimal              # fund currency


class NoRate(LookupError):
    """No rate was given for the fund currency :attr:`currency`."""

    def __init__(self, currency: str):
        super().__init__(currency)
        self.currency = currency


class NoPeriodFund(LookupError):
    """Accrual needs ``fund`` in fiscal period ``period`` (a :class:`Period`) and none was given."""

    def __init__(self, fund, period: Period):
        super().__init__(fund, period.key)
        self.fund, self.period = fund, period


def gross_amounts(lines: Sequence[ChargedLine], spread: Sequence[Decimal], currency: str) -> dict:
    """Each line's amount to charge, in invoice currency: its total, its exclusive VAT, and its
    pro-rata part of every amount in ``spread`` (the charges, invoice VAT) over the regular lines."""
    gross = {line.key: line.total + line.vat for line in lines}
    regular = [line for line in lines if line.regular]
    for amount in spread:
        for line, part in zip(regular, pro_rata(amount, [line.total for line in regular], currency)):
            gross[line.key] += part
    return gross


def charge(lines: Sequence[ChargedLine], shares: Sequence[FundShare], periods: Sequence[Period] | None,
           rates: Mapping[str, Rate], *, currency: str, spread: Sequence[Decimal] = ()) -> list[ChargePart]:
    """Every fund posting an invoice in ``currency`` makes, exact: per line (in order), its gross
    amount (:func:`gross_amounts`) split over its funds in proportion to their weights; with
    accrual (``periods`` not None) each part of a line with a subscription spread over the fiscal
    periods it covers, onto the same fund in each; then per fund currency converted once at
    ``rates[currency]`` and split again. The parts of a line add up to its gross amount and their
    fund amounts to each converted subtotal, so no cent is made or lost.

    Raises :class:`AccrualError` ("Line <key>: ..."), :class:`NoPeriodFund` and :class:`NoRate`
    at the first line that needs what is missing."""
    gross = gross_amounts(lines, spread, currency)
    by_line: dict[object, list[FundShare]] = {}
    for share in shares:
        by_line.setdefault(share.line, []).append(share)
    result: list[ChargePart] = []
    for line in lines:
        mine = by_line.get(line.key)
        if not mine:
            continue
        weights = [abs(s.weight) for s in mine] if any(s.weight for s in mine) else [1] * len(mine)
        pieces: list[tuple[object, str, Decimal]] = []
        for share, part in zip(mine, split(gross[line.key], weights, currency)):
            if periods is not None and line.subscription:
                pieces += _accrued(line, share, part, currency, periods)
            elif part:
                pieces.append((share.fund, share.currency, part))
        by_currency: dict[str, list[tuple[object, Decimal]]] = {}
        for fund, fund_currency, part in pieces:
            by_currency.setdefault(fund_currency, []).append((fund, part))
        for fund_currency, group in by_currency.items():
            if fund_currency not in rates:
                raise NoRate(fund_currency)
            subtotal = sum(part for _, part in group)
            converted = rates[fund_currency].convert(subtotal, fund_currency)
            fund_parts = split(converted, [abs(part) for _, part in group], fund_currency) if subtotal else \
                [quantize(Decimal(0), fund_currency)] * len(group)
            result += [ChargePart(line.key, fund, fund_currency, part, fund_part)
                       for (fund, part), fund_part in zip(group, fund_parts)]
    return result


def _accrued(line: ChargedLine, share: FundShare, part: Decimal, currency: str,
             periods: Sequence[Period]) -> list[tuple[object, str, Decimal]]:
    try:
        spread = accrual_split(part, currency, line.subscription[0], line.subscription[1], periods)
    except AccrualError as exc:
        raise AccrualError(T("Line %(line)s: %(problem)s", line=line.key, problem=exc.text)) from None
    pieces = []
    for accrued in spread:
        if accrued.amount:
            if accrued.period.key not in share.periods:
                raise NoPeriodFund(share.fund, accrued.period)
            fund, fund_currency = share.periods[accrued.period.key]
            pieces.append((fund, fund_currency, accrued.amount))
    return pieces
