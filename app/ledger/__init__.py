"""The money core: exact amounts, splitting and fund balance rules.

Pure Python on purpose (no Flask, no SQLAlchemy): every service, job and test uses these
functions, and they can be tested without an application.
"""
from .money import (  # noqa: F401
    AmountError, MAX_AMOUNT, check_range, has_percent_precision, minor_unit, parse_amount, quantize,
    quantize_percent, split, format_plain, format_money,
)
from .balances import (  # noqa: F401
    Balance, FundRules, InvalidPosting, LimitExceeded, TransactionKind, check_posting, effect_of,
)
