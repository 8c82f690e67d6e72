"""Money formatting equals Babel's own formatting, for several currencies and locales."""
from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from hypothesis import given, settings, strategies as st

from app.formatting import money
from app.ledger import minor_unit
from tests.helpers import examples


@settings(max_examples=examples(300))
@given(st.integers(-10**14, 10**14), st.sampled_from(["EUR", "USD", "JPY", "KZT"]),
       st.sampled_from(["en", "de", "fr", "sv"]))
def test_money_matches_babel(units, currency, locale):
    digits = minor_unit(currency)
    amount = Decimal(units).scaleb(-digits)
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    assert money(amount, currency, locale) == format_decimal(amount, format=pattern, locale=locale,
                                                             decimal_quantization=False)


@pytest.mark.parametrize("amount,currency,text", [("1234.5", "EUR", "1,234.50"), ("-0.01", "EUR", "-0.01"),
                                                  ("1000", "JPY", "1,000"), ("0", "USD", "0.00")])
def test_money_examples(amount, currency, text):
    assert money(Decimal(amount), currency) == text
