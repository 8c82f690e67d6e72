"""Money formatting equals Babel's own formatting, for several currencies and locales; money with
its symbol and dates in a sentence follow the language (English, Chinese), from the request or a
``force_locale`` block; typed amounts stay strict in every language (ASCII digits and a decimal
point: full-width digits, Chinese punctuation, grouping and currency signs are refused, saying what
to type)."""
import re
from datetime import date
from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from hypothesis import HealthCheck, given, settings, strategies as st

from app.formatting import long_day, money, money_with_symbol
from app.ledger import minor_unit
from app.ledger.money import AmountError, parse_amount
from tests.helpers import examples


@settings(max_examples=examples(300), suppress_health_check=[HealthCheck.too_slow])   # a busy machine
@given(st.integers(-10**14, 10**14), st.sampled_from(["EUR", "USD", "JPY", "KZT"]),
       st.sampled_from(["en", "de", "fr", "sv", "zh_Hans"]))
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


def test_date_inputs_are_typed_as_the_pages_show_dates():
    """Pages show dates as YYYY-MM-DD; a native date input would show the browser's own format
    (12/05/2026 here, 05.12.2026 there). Every date input is a text input asking for YYYY-MM-DD."""
    import re
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent / "app"
    for path in (root / "templates").rglob("*.html"):
        assert 'type="date"' not in path.read_text(), path
    for path in root.rglob("*.py"):
        assert not re.search(r"(?<!Iso)DateField\(", path.read_text()), f"{path}: use forms_util.IsoDateField"


def test_a_date_field_renders_as_text_with_the_iso_pattern(app, world):
    from tests.helpers import login
    html = login(app.test_client(), "invoicer").get("/invoices/new").data.decode()
    field = re.search(r'<input[^>]*id="invoice_date"[^>]*>', html).group(0)
    assert 'type="text"' in field and 'placeholder="YYYY-MM-DD"' in field and 'hx-post=' in field
    assert 'pattern="\\d{4}-\\d{2}-\\d{2}"' in field


@pytest.mark.parametrize("amount,currency,en,zh", [
    ("1234.5", "CNY", "CN¥1,234.50", "¥1,234.50"),
    ("-1234.5", "CNY", "-CN¥1,234.50", "-¥1,234.50"),
    ("1234567.89", "EUR", "€1,234,567.89", "€1,234,567.89"),
    ("0.5", "USD", "$0.50", "US$0.50"),
    ("1000", "JPY", "¥1,000", "JP¥1,000"),
])
def test_money_with_symbol_per_language(amount, currency, en, zh):
    assert money_with_symbol(Decimal(amount), currency, "en") == en
    assert money_with_symbol(Decimal(amount), currency, "zh_Hans") == zh
    assert money(Decimal(amount), currency, "zh_Hans") == money(Decimal(amount), currency, "en"), \
        "Chinese groups by thousands with , and writes . as English does"


def test_long_day_per_language():
    assert long_day(date(2026, 12, 5), "zh_Hans") == "2026年12月5日"
    assert long_day(date(2026, 1, 15), "zh_Hans") == "2026年1月15日"
    assert long_day(date(2026, 12, 5), "en") == "December 5, 2026"
    assert long_day(None, "zh_Hans") == "" and money_with_symbol(None, "CNY") == ""


def test_formatting_follows_the_request_and_force_locale(app):
    from flask_babel import force_locale, refresh
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        refresh()   # the locale is kept per application context: the test's outlives each request
        assert money_with_symbol(Decimal("1234.5"), "CNY") == "¥1,234.50"
        assert long_day(date(2026, 12, 5)) == "2026年12月5日"
        with force_locale("en"):   # a letter to an English-speaking vendor from a Chinese page
            assert money_with_symbol(Decimal("1234.5"), "CNY") == "CN¥1,234.50"
            assert long_day(date(2026, 12, 5)) == "December 5, 2026"
    with app.test_request_context("/", headers={"Accept-Language": "en-GB"}):
        refresh()
        assert money_with_symbol(Decimal("1234.5"), "CNY") == "CN¥1,234.50"
        with force_locale("zh_Hans"):
            assert long_day(date(2026, 12, 5)) == "2026年12月5日"
    with app.test_request_context("/api/invoices", headers={"Accept-Language": "zh-CN"}):
        refresh()
        assert long_day(date(2026, 12, 5)) == "December 5, 2026", "the API answers in English"


@pytest.mark.parametrize("typed", [
    "１２３.５０",      # full-width digits (a Chinese input method's)
    "１２３",
    "12．50",          # full-width full stop
    "12。50",          # ideographic full stop
    "12，50",          # full-width comma
    "1,234.50",        # grouping, in any language
    "1 234.50",
    "¥12.50", "￥12.50", "12.50元", "CN¥12.50",   # currency signs and units
    "一百",             # numerals written in characters
])
def test_typed_amounts_stay_strict_in_chinese_too(typed):
    with pytest.raises(AmountError) as refused:
        parse_amount(typed, "CNY")
    message = str(refused.value)
    assert typed in message and "1234.50" in message, "names what was typed and shows what to type"


@pytest.mark.parametrize("typed,value", [("1234.5", "1234.50"), (" 12.50 ", "12.50"), ("-0.01", "-0.01"),
                                         ("+7", "7.00"), ("0", "0.00")])
def test_what_a_chinese_locale_user_may_type(typed, value):
    assert str(parse_amount(typed, "CNY")) == value


def test_more_decimals_than_the_currency_has_are_refused_not_rounded():
    with pytest.raises(AmountError) as refused:
        parse_amount("12.505", "CNY")
    assert "2 decimals" in str(refused.value)
    with pytest.raises(AmountError):
        parse_amount("12.5", "JPY")
