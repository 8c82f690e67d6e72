"""LED-02: ``split`` divides a total in proportion to weights, exactly and deterministically.

The properties are checked against exact rational arithmetic (``fractions.Fraction``), written
here independently of the largest-remainder code in ``app.ledger.money``. Minor units are
hard-coded (EUR 2 decimals, JPY 0) rather than asked of the code under test.
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.ledger import split
from tests.helpers import examples

DECIMALS = {"EUR": 2, "JPY": 0}
SPLIT_SETTINGS = settings(max_examples=examples(2000), deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])

# A weight: zero (often, so zero weights are exercised), a non-negative integer, or a
# non-negative Decimal with up to 4 decimals.
weight = st.one_of(
    st.just(0),
    st.just(Decimal("0.000")),
    st.integers(min_value=0, max_value=10**6),
    st.builds(lambda n, places: Decimal(n).scaleb(-places),
              st.integers(min_value=0, max_value=10**10), st.integers(min_value=0, max_value=4)),
)


@st.composite
def weight_lists(draw):
    ws = draw(st.lists(weight, min_size=1, max_size=50))
    if all(w == 0 for w in ws):  # at least one positive weight
        i = draw(st.integers(min_value=0, max_value=len(ws) - 1))
        ws[i] = draw(st.integers(min_value=1, max_value=10**6))
    return ws


@st.composite
def split_inputs(draw):
    currency = draw(st.sampled_from(sorted(DECIMALS)))
    units = draw(st.integers(min_value=-10**9, max_value=10**9))
    return Decimal(units).scaleb(-DECIMALS[currency]), draw(weight_lists()), currency


def unit_of(currency: str) -> Fraction:
    return Fraction(1, 10 ** DECIMALS[currency])


def exact_shares(total: Decimal, ws) -> list[Fraction]:
    s = sum(Fraction(w) for w in ws)
    return [Fraction(total) * Fraction(w) / s for w in ws]


@SPLIT_SETTINGS
@given(split_inputs())
@example((Decimal("0.05"), [70, 30], "EUR"))
@example((Decimal("-0.01"), [1, 1, 1], "EUR"))
@example((Decimal("0.02"), [4, 1, 1], "EUR"))
@example((Decimal("1000000000"), [0, 1, 0], "JPY"))
def test_LED02_split_properties(data):
    """Sum exact; each part within one minor unit of its exact share; deterministic; sign; zeros;
    the left-over units go to the largest remainders."""
    total, ws, currency = data
    ws_before = list(ws)
    parts = split(total, ws, currency)
    unit = unit_of(currency)

    assert ws == ws_before, "split must not change its weights"
    assert len(parts) == len(ws)
    # every part is a Decimal with exactly the currency's decimals
    for p in parts:
        assert isinstance(p, Decimal)
        assert p.as_tuple().exponent == -DECIMALS[currency]
    # the parts add up to the total, exactly
    assert sum(Fraction(p) for p in parts) == Fraction(total)
    # each part is within one minor unit of its exact share (strictly: floor or ceiling)
    for p, share in zip(parts, exact_shares(total, ws)):
        assert abs(Fraction(p) - share) < unit, (p, share)
    # same input -> same output
    assert split(total, list(ws), currency) == parts
    # every part has the sign of the total or is zero
    for p in parts:
        assert p == 0 or (p > 0) == (total > 0)
        # a zero part is a plain zero: never Decimal("-0.00"), which prints as "-0.00"
        assert p != 0 or not p.is_signed(), p
    # zero weights get zero
    for p, w in zip(parts, ws):
        if w == 0:
            assert p == 0
    # largest remainder, ties to the earlier part
    check_largest_remainder(total, ws, parts, currency)


def check_largest_remainder(total, ws, parts, currency):
    """A part rounded up (in magnitude) never has a smaller remainder than a part rounded down,
    and on equal remainders the rounded-up part is the earlier one."""
    unit = unit_of(currency)
    mag_shares = [abs(share) / unit for share in exact_shares(total, ws)]   # minor units, >= 0
    mag_parts = [abs(Fraction(p)) / unit for p in parts]
    rem = [m - (m.numerator // m.denominator) for m in mag_shares]
    up = [i for i in range(len(ws)) if mag_parts[i] > mag_shares[i]]
    down = [i for i in range(len(ws)) if mag_parts[i] < mag_shares[i]]
    for i in up:
        for j in down:
            assert rem[i] > rem[j] or (rem[i] == rem[j] and i < j), (i, j, rem[i], rem[j])


@settings(SPLIT_SETTINGS, max_examples=examples(1000))
@given(st.sampled_from(sorted(DECIMALS)), st.integers(min_value=-200, max_value=200),
       st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=8).filter(any))
def test_LED02_split_ties_with_small_numbers(currency, units, ws):
    """Small totals and weights make many equal, non-terminating remainders (1/3, 2/7, ...) on
    shares of different sizes: the tie-break must compare the remainders exactly."""
    total = Decimal(units).scaleb(-DECIMALS[currency])
    parts = split(total, ws, currency)
    assert sum(parts) == total
    check_largest_remainder(total, ws, parts, currency)


@settings(SPLIT_SETTINGS, max_examples=examples(500))
@given(split_inputs(), st.integers(min_value=1, max_value=1000))
def test_LED02_split_ignores_weight_scale(data, factor):
    """Multiplying every weight by the same positive integer changes nothing."""
    total, ws, currency = data
    assert split(total, [Decimal(w) * factor for w in ws], currency) == split(total, ws, currency)


@pytest.mark.parametrize("total, weights, currency, expected", [
    ("0.05", [70, 30], "EUR", ["0.04", "0.01"]),
    ("100.00", [1, 1, 1], "EUR", ["33.34", "33.33", "33.33"]),
    ("-10.00", [1, 1, 1], "EUR", ["-3.34", "-3.33", "-3.33"]),
    # ties go to the earlier part
    ("0.01", [1, 1], "EUR", ["0.01", "0.00"]),
    ("0.02", [1, 1, 1], "EUR", ["0.01", "0.01", "0.00"]),
    ("-0.01", [1, 1], "EUR", ["-0.01", "0.00"]),
    ("1", [5, 5], "JPY", ["1", "0"]),
    ("2", [1, 1, 1], "JPY", ["1", "1", "0"]),
    # ... but a larger remainder wins over an earlier index
    ("0.01", [1, 2], "EUR", ["0.00", "0.01"]),
    ("10", [1, 1, 2], "JPY", ["3", "2", "5"]),
    # zero weights get zero, Decimal weights work like integer ones
    ("1.00", [0, 1, 0], "EUR", ["0.00", "1.00", "0.00"]),
    ("1.00", [Decimal("0.5"), Decimal("0.25"), Decimal("0.25")], "EUR", ["0.50", "0.25", "0.25"]),
    ("0.00", [1, 2], "EUR", ["0.00", "0.00"]),
    ("100", [3, 3, 3], "JPY", ["34", "33", "33"]),
    # equal remainders (1/3 each) on shares of different sizes: still the earlier part
    ("0.02", [4, 1, 1], "EUR", ["0.02", "0.00", "0.00"]),
    ("2", [4, 1, 1], "JPY", ["2", "0", "0"]),
    ("-0.02", [4, 1, 1], "EUR", ["-0.02", "0.00", "0.00"]),
    ("0.05", [10, 1, 1, 3], "EUR", ["0.04", "0.00", "0.00", "0.01"]),
])
def test_LED02_split_fixed_examples(total, weights, currency, expected):
    parts = split(Decimal(total), weights, currency)
    assert parts == [Decimal(e) for e in expected]
    assert [str(p) for p in parts] == expected  # the exponent too, not only the value


@pytest.mark.parametrize("weights, message", [
    ([], "at least one weight"),
    ([1, -1], "negative"),
    ([Decimal("-0.01"), 5], "negative"),
    ([0], "all be zero"),
    ([0, Decimal("0.00"), 0], "all be zero"),
])
def test_LED02_split_refuses_bad_weights(weights, message):
    with pytest.raises(ValueError, match=message):
        split(Decimal("10.00"), weights, "EUR")
