"""Messages print money as pages do: "short by 84,310.50 EUR", never "84310.50"."""
from decimal import Decimal

import pytest

from app.formatting import money
from app.ledger import FundRules, LimitExceeded, TransactionKind, format_money
from app.ledger.balances import Balance, check_posting


@pytest.mark.parametrize("amount, currency, text", [
    ("99999", "EUR", "99,999.00"), ("84310.5", "EUR", "84,310.50"), ("-1234.5", "USD", "-1,234.50"),
    ("1234567", "JPY", "1,234,567"), ("0", "EUR", "0.00"), ("-0", "EUR", "0.00"), ("79", "GBP", "79.00"),
])
def test_format_money_is_what_pages_show(amount, currency, text):
    assert format_money(Decimal(amount), currency) == text == money(Decimal(amount), currency)


def test_the_ledger_refusal_prints_grouped_amounts():
    with pytest.raises(LimitExceeded) as info:
        check_posting(Balance(allocated=Decimal("15688.50")), TransactionKind.EXPENDITURE, Decimal("99999.00"),
                      FundRules(), currency="EUR", fund_label="BOOKS")
    assert str(info.value) == "Fund BOOKS cannot expend 99,999.00 EUR: it is short by 84,310.50 EUR."
