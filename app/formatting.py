"""Template filters (money, dates, percentages) and the text of values in history entries.

Money uses the locale's symbols from Babel (group and decimal separators), read once per locale, and
Python's own formatting for the digits: the dashboard prints thousands of amounts per page and
Babel's per-call pattern handling cost 20 µs each. Grouping is by thousands, which is what the
locales this app is used in do; `tests/test_formatting.py` checks the result equals Babel's.
"""
from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel import Locale

from .ledger import format_money

MONEY_LOCALE = "en"


@lru_cache(maxsize=None)
def _symbols(locale: str) -> dict:
    loc = Locale.parse(locale)
    symbols = loc.number_symbols.get(loc.default_numbering_system, loc.number_symbols["latn"])
    return {",": symbols["group"], ".": symbols["decimal"]}  # Babel's patterns keep an ASCII minus


def money(amount, currency: str = "EUR", locale: str = MONEY_LOCALE) -> str:
    """1234.5 EUR -> '1,234.50' (grouped, exact, with the currency's number of decimals)."""
    if amount is None:
        return ""
    text = format_money(Decimal(amount), currency)   # what the ledger's messages print too
    symbols = _symbols(locale)
    if symbols != {",": ",", ".": "."}:
        text = "".join(symbols.get(c, c) for c in text)
    return text


def history_text(value) -> str:
    """A value as a history entry shows it: dates ISO, amounts plain, booleans yes/no, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def register_filters(app):
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["pct"] = lambda x: f"{(Decimal(x) * 100).quantize(Decimal('1'))}%"
    app.jinja_env.filters["day"] = lambda d: d.strftime("%Y-%m-%d") if d else ""
