"""Numbers people or files type are ASCII digits only, wherever the app parses them: a digit of
another script (Arabic-Indic ٣, Persian ۳, Devanagari ३) is refused, never read as its value."""
from __future__ import annotations

import pytest

from app.errors import InvalidInput

OTHER = ["٠.٩", "۰.۹", "०.९", "1٢.50"]


@pytest.mark.parametrize("text", OTHER)
def test_H12_11_rates_take_ascii_digits_only(text):
    from app.vendors.services import parse_rate
    with pytest.raises(InvalidInput):
        parse_rate(text)
    assert str(parse_rate("0.9")) == "0.9"


@pytest.mark.parametrize("text", OTHER)
def test_H12_11_api_percents_take_ascii_digits_only(text):
    from app.api.serializers import parse_percent
    with pytest.raises(InvalidInput):
        parse_percent(text, "percent")


@pytest.mark.parametrize("text", OTHER)
def test_money_takes_ascii_digits_only_as_before(text):
    from app.ledger.money import AmountError, parse_amount
    with pytest.raises(AmountError):
        parse_amount(text, "EUR")


def test_H12_11_aleph_values_take_ascii_digits_only():
    from app.migration.aleph import parse_aleph_date, parse_aleph_number
    with pytest.raises(ValueError):
        parse_aleph_number("١٠.٥٠")
    with pytest.raises(ValueError):
        parse_aleph_date("٢٠٢٦٠١٠١")


def test_H12_11_isbn_and_issn_take_ascii_digits_only():
    from app.inventory.services import _ISBN, _ISSN
    assert not _ISBN.match("٠٣٠٦٤٠٦١٥٢") and not _ISSN.match("٠٣١٧٨٤٧١")
    assert _ISBN.match("0306406152") and _ISSN.match("03178471")


def test_H12_11_invoice_form_line_keys_take_ascii_digits_only():
    from app.invoices.form_views import LINE_KEY, LINE_PREFIX
    assert LINE_KEY.match(f"{LINE_PREFIX}-3-unit_price").groups() == ("3", "unit_price")
    assert not LINE_KEY.match(f"{LINE_PREFIX}-٣-unit_price")
    assert not LINE_KEY.match(f"{LINE_PREFIX}-{'9' * 5000}-unit_price")   # int() of it would raise
