"""What an invoice charges to which fund (app.ledger.invoicing.charge), without an app: gross
amounts, fund shares, accrual periods and conversion, every split adding up exactly."""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from app.ledger.invoicing import (AccrualError, ChargedLine, FundShare, NoPeriodFund, NoRate, Period, charge,
                                  gross_amounts)
from app.ledger.money import Rate, quantize, split

EUR = {"EUR": Rate(Decimal(1))}
Y2018 = Period(18, date(2018, 1, 1), date(2018, 12, 31))
Y2019 = Period(19, date(2019, 1, 1), date(2019, 12, 31))


def D(text: str) -> Decimal:
    return Decimal(text)


def _rows(parts) -> list[tuple]:
    return [(p.line, p.fund, p.currency, p.amount, p.fund_amount) for p in parts]


def test_one_line_one_fund_takes_the_whole_total():
    parts = charge([ChargedLine(1, D("100.00"))], [FundShare(1, "A", "EUR", D("100.00"))], None, EUR, currency="EUR")
    assert _rows(parts) == [(1, "A", "EUR", D("100.00"), D("100.00"))]


def test_charges_spread_over_regular_lines_by_their_totals():
    lines = [ChargedLine(1, D("60.00")), ChargedLine(2, D("40.00")), ChargedLine(3, D("5.00"), regular=False)]
    assert gross_amounts(lines, [D("10.00"), D("-1.00")], "EUR") == {1: D("65.40"), 2: D("43.60"), 3: D("5.00")}


def test_exclusive_line_vat_is_charged_on_top():
    assert gross_amounts([ChargedLine(1, D("100.00"), vat=D("24.00"))], [], "EUR") == {1: D("124.00")}


def test_a_line_is_split_over_its_funds_by_their_amounts():
    shares = [FundShare(1, "A", "EUR", D("2.00")), FundShare(1, "B", "EUR", D("1.00"))]
    parts = charge([ChargedLine(1, D("3.00"))], shares, None, EUR, currency="EUR", spread=[D("0.01")])
    assert [(p.fund, p.amount) for p in parts] == [("A", D("2.01")), ("B", D("1.00"))]


def test_funds_without_amounts_share_equally():
    shares = [FundShare(1, "A", "EUR", D("0")), FundShare(1, "B", "EUR", D("0"))]
    parts = charge([ChargedLine(1, D("0.01"))], shares, None, EUR, currency="EUR")
    assert [(p.fund, p.amount) for p in parts] == [("A", D("0.01"))]   # a zero part posts nothing


def test_lines_without_funds_charge_nothing():
    assert charge([ChargedLine(1, D("5.00"))], [], None, EUR, currency="EUR") == []


def test_each_currency_is_converted_once_and_split_again():
    shares = [FundShare(1, "K1", "KZT", D("1.00")), FundShare(1, "K2", "KZT", D("1.00")),
              FundShare(1, "E", "EUR", D("1.00"))]
    rates = {"EUR": Rate(Decimal(1)), "KZT": Rate(D("1.10"), D("0.0021"))}   # via the institution's currency
    parts = charge([ChargedLine(1, D("3.00"))], shares, None, rates, currency="EUR")
    assert _rows(parts) == [(1, "K1", "KZT", D("1.00"), D("523.81")), (1, "K2", "KZT", D("1.00"), D("523.81")),
                            (1, "E", "EUR", D("1.00"), D("1.00"))]
    assert parts[0].fund_amount + parts[1].fund_amount == rates["KZT"].convert(D("2.00"), "KZT")


def test_an_explicit_ratio_also_applies_to_the_invoice_currency():
    parts = charge([ChargedLine(1, D("10.00"))], [FundShare(1, "A", "EUR", D("1"))], None,
                   {"EUR": Rate(D("1.5"))}, currency="EUR")
    assert parts[0].fund_amount == D("15.00")


def test_accrual_spreads_onto_the_same_fund_in_each_period():
    line = ChargedLine(7, D("3500.00"), subscription=(date(2018, 6, 1), date(2019, 5, 31)))
    share = FundShare(7, "A-2018", "EUR", D("3500.00"), periods={18: ("A-2018", "EUR"), 19: ("A-2019", "EUR")})
    parts = charge([line], [share], [Y2018, Y2019], EUR, currency="EUR")
    assert [(p.fund, p.amount) for p in parts] == [("A-2018", D("2057.65")), ("A-2019", D("1442.35"))]
    # without accrual the subscription is charged to the line's own fund
    assert [(p.fund, p.amount) for p in charge([line], [share], None, EUR, currency="EUR")] == [
        ("A-2018", D("3500.00"))]


def test_what_is_missing_is_named():
    line = ChargedLine(2, D("10.00"), subscription=(date(2018, 6, 1), date(2019, 5, 31)))
    with pytest.raises(NoPeriodFund) as missing:
        charge([line], [FundShare(2, "A", "EUR", D("1"), periods={18: ("A", "EUR")})], [Y2018, Y2019], EUR,
               currency="EUR")
    assert (missing.value.fund, missing.value.period) == ("A", Y2019)
    with pytest.raises(AccrualError, match=r"^Line 2: No active fiscal period holds the subscription from 2019"):
        charge([line], [FundShare(2, "A", "EUR", D("1"), periods={18: ("A", "EUR")})], [Y2018], EUR, currency="EUR")
    with pytest.raises(NoRate) as no_rate:
        charge([ChargedLine(1, D("1.00"))], [FundShare(1, "U", "USD", D("1"))], None, EUR, currency="EUR")
    assert no_rate.value.currency == "USD"


def test_a_line_charging_nothing_needs_no_rate():
    assert charge([ChargedLine(1, D("0.00"))], [FundShare(1, "U", "USD", D("1"))], None, EUR, currency="EUR") == []


# -- the parts add up exactly ------------------------------------------------------------------

money = st.decimals(min_value=D("-9999.99"), max_value=D("99999.99"), places=2)
weights = st.decimals(min_value=D("0"), max_value=D("5000.00"), places=2)
CURRENCIES = {"EUR": Rate(Decimal(1)), "KZT": Rate(D("1.10"), D("0.0021")), "JPY": Rate(D("1.10"), D("0.0061")),
              "KWD": Rate(D("0.91234567"))}


@st.composite
def invoices(draw, accrual: bool = False):
    n = draw(st.integers(1, 6))
    lines, shares = [], []
    for key in range(1, n + 1):
        start = draw(st.dates(date(2018, 1, 1), date(2019, 12, 1))) if accrual else None
        sub = (start, date.fromordinal(start.toordinal() + draw(st.integers(1, 700)))) if accrual else None
        lines.append(ChargedLine(key, draw(money), regular=draw(st.booleans()) or key == 1,
                                 vat=draw(st.sampled_from([D(0), D("1.99")])), subscription=sub))
        for f in range(draw(st.integers(0, 3))):
            currency = draw(st.sampled_from(sorted(CURRENCIES)))
            periods = {p: (f"F{f}-{p}", currency) for p in range(2018, 2022)}
            shares.append(FundShare(key, f"F{f}", currency, draw(weights), periods=periods))
    return lines, shares, draw(st.lists(money, max_size=3))


def _check_adds_up(lines, shares, spread, parts):
    gross = gross_amounts(lines, spread, "EUR")
    assert sum(gross.values()) == sum(ln.total + ln.vat for ln in lines) + sum(spread)
    by_line, by_group, fund_by_group = defaultdict(Decimal), defaultdict(Decimal), defaultdict(Decimal)
    for p in parts:
        assert p.amount and p.amount == quantize(p.amount, "EUR") and p.fund_amount == quantize(p.fund_amount,
                                                                                                 p.currency)
        by_line[p.line] += p.amount
        by_group[(p.line, p.currency)] += p.amount
        fund_by_group[(p.line, p.currency)] += p.fund_amount
    for line in lines:
        if any(s.line == line.key for s in shares):
            assert by_line[line.key] == quantize(gross[line.key], "EUR")   # no cent made or lost
    for group, amount in by_group.items():
        assert fund_by_group[group] == (CURRENCIES[group[1]].convert(amount, group[1]) if amount else 0)


@given(invoices())
def test_every_part_adds_up_to_its_total(invoice):
    lines, shares, spread = invoice
    _check_adds_up(lines, shares, spread, charge(lines, shares, None, CURRENCIES, currency="EUR", spread=spread))


@given(invoices(accrual=True))
def test_accrued_parts_add_up_to_the_line_too(invoice):
    lines, shares, spread = invoice
    years = [Period(y, date(y, 1, 1), date(y, 12, 31)) for y in range(2018, 2022)]
    parts = charge(lines, shares, years, CURRENCIES, currency="EUR", spread=spread)
    _check_adds_up(lines, shares, spread, parts)
    assert all("-" in p.fund for p in parts)   # charged to the fund's namesake in each period


@given(total=money, weight=st.one_of(st.integers(1, 10**6), weights.filter(bool)))
def test_one_weight_takes_the_whole_total_rounded(total, weight):
    [whole] = split(total, [weight], "EUR")
    assert whole == quantize(total, "EUR") and str(whole) != "-0.00"
