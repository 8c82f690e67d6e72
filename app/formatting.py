"""Template filters: money through Babel, dates, percentages."""
from decimal import Decimal

from babel.numbers import format_decimal

from .ledger import minor_unit, quantize


def money(amount, currency: str = "EUR") -> str:
    """1234.5 EUR -> '1,234.50' (grouped, exact, the currency's decimals)."""
    if amount is None:
        return ""
    digits = minor_unit(currency)
    fmt = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(quantize(Decimal(amount), currency), format=fmt, locale="en", decimal_quantization=False)


def register_filters(app):
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["pct"] = lambda x: f"{(Decimal(x) * 100).quantize(Decimal('1'))}%"
    app.jinja_env.filters["day"] = lambda d: d.strftime("%Y-%m-%d") if d else ""
