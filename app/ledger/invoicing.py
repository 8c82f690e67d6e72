"""Invoice arithmetic: pro-rata charges, accrual periods, VAT amounts and the vendor/VAT check.

Pure functions over Decimal; every split goes through :func:`app.ledger.money.split`, so the parts
always add up to the whole.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum
from typing import Sequence

from .money import quantize, quantize_percent, split

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
    pass


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
        raise AccrualError("The subscription must end after it starts.")
    ordered = sorted(periods, key=lambda p: p.start)
    first = next((i for i, p in enumerate(ordered) if p.start <= sub_from <= p.end), None)
    if first is None:
        raise AccrualError(f"No active fiscal period holds the subscription start {sub_from.isoformat()}.")
    total_days = Decimal((sub_to - sub_from).days)
    parts: list[AccrualPart] = []
    given_percent, given_amount = Decimal(0), Decimal(0)
    cursor = sub_from
    for period in ordered[first:]:
        if parts and period.start != cursor:
            raise AccrualError(f"The fiscal periods leave a gap before {period.start.isoformat()}.")
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
    raise AccrualError(f"No active fiscal period holds the subscription from {cursor.isoformat()} "
                       f"to {sub_to.isoformat()}.")


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
