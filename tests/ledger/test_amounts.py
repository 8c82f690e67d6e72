"""LED-03: amounts are parsed exactly or refused, never silently rounded; quantising is half-up."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.ledger import AmountError, format_plain, minor_unit, parse_amount, quantize
from app.types import Money
from tests.helpers import examples

DECIMALS = {"EUR": 2, "JPY": 0, "KWD": 3}
# An amount must fit the money columns (NUMERIC(14,2): 12 digits before the decimal point);
# taken from the column type, not from app.ledger.
INT_DIGITS = Money().precision - Money().scale
AMOUNT_SETTINGS = settings(max_examples=examples(1000), deadline=None, database=None)


@st.composite
def valid_amounts(draw):
    """A Decimal the currency can hold exactly: up to INT_DIGITS integer digits, its minor unit's
    decimals."""
    currency = draw(st.sampled_from(sorted(DECIMALS)))
    places = DECIMALS[currency]
    limit = 10**INT_DIGITS * 10**places
    units = draw(st.integers(min_value=-limit + 1, max_value=limit - 1))
    return Decimal(units).scaleb(-places), currency


def test_LED03_minor_units():
    assert [minor_unit(c) for c in ("EUR", "JPY", "KWD", "eur")] == [2, 0, 3, 2]


@AMOUNT_SETTINGS
@given(valid_amounts())
@example((Decimal("0.01"), "EUR"))
@example((Decimal("-0.01"), "EUR"))
@example((Decimal("999999999999.99"), "EUR"))
@example((Decimal("-999999999999"), "JPY"))
@example((Decimal("0.001"), "KWD"))
def test_LED03_round_trip(data):
    """parse_amount(format_plain(x)) == x, with the currency's exponent, and the text is plain."""
    x, currency = data
    text = format_plain(x, currency)
    assert "e" not in text.lower() and "," not in text and " " not in text
    # independent rendering: sign, integer digits, and exactly `places` decimals
    places = DECIMALS[currency]
    units = int(x.scaleb(places))
    whole, frac = divmod(abs(units), 10**places)
    expected = ("-" if units < 0 else "") + str(whole) + (f".{frac:0{places}d}" if places else "")
    assert text == expected
    back = parse_amount(text, currency)
    assert back == x
    assert back.as_tuple().exponent == -places
    # the Decimal and int forms parse to the same value
    assert parse_amount(x, currency) == x
    if places == 0:
        assert parse_amount(int(x), currency) == x


@AMOUNT_SETTINGS
@given(valid_amounts(), st.integers(min_value=1, max_value=9))
def test_LED03_refuses_more_decimals_than_the_currency(data, extra):
    """An amount with a non-zero digit beyond the minor unit is refused, as text and as Decimal."""
    x, currency = data
    places = DECIMALS[currency]
    too_precise = x + Decimal(extra).scaleb(-(places + 1)) * (1 if x >= 0 else -1)
    with pytest.raises(AmountError):
        parse_amount(f"{too_precise:f}", currency)
    with pytest.raises(AmountError):
        parse_amount(too_precise, currency)


@AMOUNT_SETTINGS
@given(st.decimals(allow_nan=True, allow_infinity=True), st.sampled_from(sorted(DECIMALS)))
def test_LED03_any_decimal_is_accepted_exactly_or_refused_with_amount_error(value, currency):
    """No Decimal escapes as another exception (e.g. decimal.InvalidOperation), and an accepted
    one keeps its value."""
    try:
        got = parse_amount(value, currency)
    except AmountError:
        return
    assert got == value
    assert abs(got) < 10**INT_DIGITS


@pytest.mark.parametrize("value, currency", [
    ("1.234", "EUR"),
    ("0.001", "EUR"),
    ("1.5", "JPY"),
    ("1.0001", "KWD"),
    ("1e3", "EUR"),
    ("1E3", "EUR"),
    ("1.00e0", "EUR"),
    ("1,000.00", "EUR"),
    ("1 000.00", "EUR"),
    ("1.000,00", "EUR"),
    ("12,5", "EUR"),
    ("NaN", "EUR"),
    ("nan", "EUR"),
    ("Infinity", "EUR"),
    ("-Infinity", "EUR"),
    ("inf", "EUR"),
    ("", "EUR"),
    ("  ", "EUR"),
    (None, "EUR"),
    ("abc", "EUR"),
    ("€1.00", "EUR"),
    ("1.00 EUR", "EUR"),
    ("--1", "EUR"),
    ("1.", "EUR"),
    ("0x10", "EUR"),
    ("1_000", "EUR"),
    ("1000000000000", "EUR"),         # 13 integer digits: more than the money columns hold
    ("-1000000000000.00", "EUR"),
    ("1" * 100, "EUR"),
    (1.5, "EUR"),
    (1.0, "EUR"),
    (float("nan"), "EUR"),
    (True, "EUR"),
    (False, "EUR"),
    (Decimal("NaN"), "EUR"),
    (Decimal("Infinity"), "EUR"),
    (Decimal("1.005"), "EUR"),
    (Decimal("0.5"), "JPY"),
    (Decimal("1E+12"), "EUR"),
    (Decimal("1E+30"), "EUR"),        # quantize() alone would raise decimal.InvalidOperation
    (Decimal("-1E+40"), "JPY"),
    (10**12, "EUR"),
])
def test_LED03_refusals(value, currency):
    with pytest.raises(AmountError):
        parse_amount(value, currency)


def test_LED03_refusals_are_value_errors_carrying_the_field():
    assert issubclass(AmountError, ValueError)
    with pytest.raises(AmountError) as info:
        parse_amount("1.234", "EUR", field="unit_price")
    assert info.value.field == "unit_price"
    assert "2 decimals" in str(info.value)
    with pytest.raises(AmountError) as info:
        parse_amount("1.5", "JPY")
    assert info.value.field == "amount"


@pytest.mark.parametrize("value, currency, expected", [
    ("1234.5", "EUR", "1234.50"),
    ("-0.01", "EUR", "-0.01"),
    ("+7", "EUR", "7.00"),
    ("  12.30  ", "EUR", "12.30"),
    ("1.230", "EUR", "1.23"),          # trailing zeros are not extra precision
    ("5.00", "JPY", "5"),
    ("1234", "JPY", "1234"),
    ("0.125", "KWD", "0.125"),
    ("999999999999.99", "EUR", "999999999999.99"),
    ("-999999999999", "JPY", "-999999999999"),
    ("0000000000000000001.50", "EUR", "1.50"),   # leading zeros are not digits of the amount
    (Decimal("1E+3"), "EUR", "1000.00"),        # a Decimal is already exact
    (12, "EUR", "12.00"),
    (Decimal("3.1"), "EUR", "3.10"),
])
def test_LED03_accepted(value, currency, expected):
    got = parse_amount(value, currency)
    assert isinstance(got, Decimal)
    assert str(got) == expected


@pytest.mark.parametrize("value, currency, expected", [
    ("0.005", "EUR", "0.01"),
    ("0.004999", "EUR", "0.00"),
    ("0.015", "EUR", "0.02"),      # half-up, not banker's rounding (which gives 0.02 here too)
    ("0.025", "EUR", "0.03"),      # banker's rounding would give 0.02
    ("-0.005", "EUR", "-0.01"),    # half away from zero
    ("-0.025", "EUR", "-0.03"),
    ("2.5", "JPY", "3"),
    ("3.5", "JPY", "4"),
    ("-2.5", "JPY", "-3"),
    ("2.4999", "JPY", "2"),
    ("1.0005", "KWD", "1.001"),
    ("12.3", "EUR", "12.30"),
])
def test_LED03_quantize_is_half_up(value, currency, expected):
    assert str(quantize(Decimal(value), currency)) == expected


@AMOUNT_SETTINGS
@given(st.integers(min_value=-10**12, max_value=10**12), st.integers(min_value=0, max_value=999))
def test_LED03_quantize_half_up_property(units, thousandths):
    """quantize(x) for x = units + thousandths/1000 cents, checked with integer arithmetic."""
    x = (Decimal(units) + Decimal(thousandths) / 1000).scaleb(-2)
    got = quantize(x, "EUR")
    # expected: round the magnitude half up, then put the sign back
    mag = abs(units * 1000 + thousandths if units >= 0 else units * 1000 + thousandths)
    cents = (mag + 500) // 1000
    expected = Decimal(cents if units * 1000 + thousandths >= 0 else -cents).scaleb(-2)
    assert got == expected
    assert got.as_tuple().exponent == -2


def test_LED03_quantize_refuses_floats():
    with pytest.raises(TypeError):
        quantize(1.5, "EUR")
    with pytest.raises(TypeError):
        format_plain(0.1, "EUR")


def test_non_ascii_digits_and_negative_zero():
    from app.ledger import split
    with pytest.raises(AmountError):
        parse_amount("١٢٣", "EUR")  # Arabic-Indic digits are not a plain amount
    assert format_plain(Decimal("-0.004"), "EUR") == "0.00"
    with pytest.raises(TypeError):
        split(Decimal("1.00"), [0.5, 0.5], "EUR")


# -- issue 12, finding 4: one range check, for typed, read and computed amounts ----------------

@pytest.mark.parametrize("value", [Decimal("1E+12"), Decimal("-1000000000000.00"), Decimal("12345678901234567890"),
                                   Decimal("1E+400"), "1" + "0" * 300])
def test_H12_04_the_money_range_is_checked_once_for_text_and_decimals(value):
    from app.ledger import MAX_AMOUNT, check_range
    assert MAX_AMOUNT == Decimal(10) ** INT_DIGITS   # the limit is the column's
    with pytest.raises(AmountError, match="too large"):
        parse_amount(value, "EUR", field="total")
    if isinstance(value, Decimal):
        with pytest.raises(AmountError, match="too large"):
            check_range(value)
    assert check_range(Decimal("999999999999.99")) == Decimal("999999999999.99")
