"""Template filters (money, dates, percentages) and the text of values in history entries.

Each follows the language of the request (``app.i18n``): separators and currency symbols are the
locale's (Babel's CLDR data), the stored value never changes. Dates in tables and inputs are
YYYY-MM-DD in every language (ISO 8601, which China's GB/T 7408 also is, and what the date fields
ask to be typed); ``long_day`` writes a date in a sentence or a letter the locale's way
(5 December 2026, 2026年12月5日).

Money uses the locale's symbols from Babel (group and decimal separators), read once per locale, and
Python's own formatting for the digits: the dashboard prints thousands of amounts per page and
Babel's per-call pattern handling cost 20 µs each. Grouping is by thousands, which is what the
locales this app is used in do; `tests/test_formatting.py` checks the result equals Babel's.
"""
from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency

from .ledger import format_money
from .text import current_language, english

MONEY_LOCALE = "en"


@lru_cache(maxsize=None)
def _symbols(locale: str) -> dict:
    loc = Locale.parse(locale)
    symbols = loc.number_symbols.get(loc.default_numbering_system, loc.number_symbols["latn"])
    return {",": symbols["group"], ".": symbols["decimal"]}  # Babel's patterns keep an ASCII minus


def money(amount, currency: str = "EUR", locale: str | None = None) -> str:
    """1234.5 EUR -> '1,234.50' (grouped, exact, with the currency's number of decimals), with the
    separators of ``locale`` (the request's by default)."""
    if amount is None:
        return ""
    text = format_money(Decimal(amount), currency)   # what the ledger's messages print too
    symbols = _symbols(locale or current_language())
    if symbols != {",": ",", ".": "."}:
        text = "".join(symbols.get(c, c) for c in text)
    return text


def money_with_symbol(amount, currency: str = "EUR", locale: str | None = None) -> str:
    """1234.5 CNY -> 'CN¥1,234.50' in English, '¥1,234.50' in Chinese: the locale's symbol and
    pattern, the currency's decimals, the amount exact."""
    if amount is None:
        return ""
    return format_currency(Decimal(amount), currency, locale=locale or current_language(), decimal_quantization=False,
                           format_type="standard")


def day(value) -> str:
    """A date as tables and inputs show it: YYYY-MM-DD."""
    return value.strftime("%Y-%m-%d") if value else ""


def long_day(value, locale: str | None = None) -> str:
    """A date in a sentence or a letter: 5 December 2026, 2026年12月5日."""
    return format_date(value, "long", locale=locale or current_language()) if value else ""


def history_text(value) -> str:
    """A value as a history entry stores it: dates ISO, amounts plain, booleans yes/no, None empty,
    a label in English (the history is translated when shown)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return english(value) if isinstance(value, str) else str(value)


def register_filters(app):
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["pct"] = lambda x: f"{(Decimal(x) * 100).quantize(Decimal('1'))}%"
    app.jinja_env.filters["day"] = day
    app.jinja_env.filters["long_day"] = long_day
    app.jinja_env.filters["money_with_symbol"] = money_with_symbol
