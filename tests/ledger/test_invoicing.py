"""Invoice arithmetic without an app: accrual, pro rata, VAT amounts and the eight VAT rows."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from app.ledger.invoicing import (AccrualError, Period, VatCheck, accrual_split, pro_rata, vat_check, vat_of)

Y2018 = Period("2018", date(2018, 1, 1), date(2018, 12, 31))
Y2019 = Period("2019", date(2019, 1, 1), date(2019, 12, 31))


def test_accrual_exact_example():
    parts = accrual_split(Decimal("3500.00"), "EUR", date(2018, 6, 1), date(2019, 5, 31), [Y2019, Y2018])
    assert [(p.period.key, p.percent, p.amount) for p in parts] == [
        ("2018", Decimal("58.79"), Decimal("2057.65")), ("2019", Decimal("41.21"), Decimal("1442.35"))]


def test_accrual_within_one_period_takes_everything():
    parts = accrual_split(Decimal("99.99"), "EUR", date(2018, 2, 1), date(2018, 11, 30), [Y2018, Y2019])
    assert [(p.period.key, p.percent, p.amount) for p in parts] == [("2018", Decimal("100"), Decimal("99.99"))]


def test_accrual_needs_periods_for_the_whole_subscription():
    with pytest.raises(AccrualError, match="from 2019-01-01 to 2019-05-31"):
        accrual_split(Decimal("10.00"), "EUR", date(2018, 6, 1), date(2019, 5, 31), [Y2018])
    with pytest.raises(AccrualError, match="subscription start 2017-06-01"):
        accrual_split(Decimal("10.00"), "EUR", date(2017, 6, 1), date(2018, 5, 31), [Y2018, Y2019])
    with pytest.raises(AccrualError, match="end after it starts"):
        accrual_split(Decimal("10.00"), "EUR", date(2018, 6, 1), date(2018, 6, 1), [Y2018])


def _years(first: int, n: int) -> list[Period]:
    return [Period(str(y), date(y, 1, 1), date(y, 12, 31)) for y in range(first, first + n)]


@given(amount=st.decimals(min_value=Decimal("-99999.99"), max_value=Decimal("999999.99"), places=2),
       start=st.integers(0, 364), length=st.integers(1, 1500))
def test_accrual_parts_add_up_exactly(amount, start, length):
    sub_from = date(2018, 1, 1) + timedelta(days=start)
    sub_to = sub_from + timedelta(days=length)
    parts = accrual_split(amount, "EUR", sub_from, sub_to, _years(2018, 7))
    assert sum(p.amount for p in parts) == amount
    assert sum(p.percent for p in parts) == 100
    assert parts[0].period.start <= sub_from <= parts[0].period.end
    assert parts[-1].period.start <= sub_to


@given(charge=st.decimals(min_value=Decimal("-9999.99"), max_value=Decimal("9999.99"), places=2),
       totals=st.lists(st.decimals(min_value=Decimal("-999.99"), max_value=Decimal("9999.99"), places=2),
                       min_size=1, max_size=40))
def test_pro_rata_parts_add_up_to_the_charge(charge, totals):
    parts = pro_rata(charge, totals, "EUR")
    assert sum(parts) == charge and len(parts) == len(totals)


def test_pro_rata_follows_line_totals():
    assert pro_rata(Decimal("10.00"), [Decimal("100.00"), Decimal("200.00"), Decimal("0.00")], "EUR") == [
        Decimal("3.33"), Decimal("6.67"), Decimal("0.00")]
    assert pro_rata(Decimal("1.00"), [Decimal("0"), Decimal("0")], "EUR") == [Decimal("0.50"), Decimal("0.50")]


def test_vat_amounts():
    assert vat_of(Decimal("100.00"), Decimal("20"), "EUR", inclusive=False) == Decimal("20.00")
    assert vat_of(Decimal("120.00"), Decimal("20"), "EUR", inclusive=True) == Decimal("20.00")
    assert vat_of(Decimal("10.00"), Decimal("7.5"), "EUR", inclusive=True) == Decimal("0.70")


@pytest.mark.parametrize("governmental,liable,reported,expected", [
    (False, False, False, VatCheck.NOTHING),
    (False, False, True, VatCheck.CONFIRM_VAT_THOUGH_NOT_LIABLE),
    (False, True, False, VatCheck.CONFIRM_NO_VAT_THOUGH_LIABLE),
    (False, True, True, VatCheck.NOTHING),
    (True, False, False, VatCheck.NOTHING),
    (True, False, True, VatCheck.CONFIRM_VAT_THOUGH_NOT_LIABLE),
    (True, True, False, VatCheck.CONFIRM_NO_VAT_GOVERNMENTAL),
    (True, True, True, VatCheck.ADD_GOVERNMENTAL_VAT),
])
def test_the_eight_vat_rows(governmental, liable, reported, expected):
    result = vat_check(governmental, liable, reported)
    assert result is expected
    assert result.needs_confirmation == (expected in (VatCheck.CONFIRM_VAT_THOUGH_NOT_LIABLE,
                                                      VatCheck.CONFIRM_NO_VAT_THOUGH_LIABLE,
                                                      VatCheck.CONFIRM_NO_VAT_GOVERNMENTAL))
