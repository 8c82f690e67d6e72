"""Money formatting equals Babel's own formatting, for several currencies and locales."""
import re
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
