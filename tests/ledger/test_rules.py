"""Fund balance rules: what a posting does to a balance, and when it is refused (LED-07).

The boundary table is written out by hand; the property at the end compares
``check_posting`` with an independent model in integer cents.
"""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ledger import (
    Balance, FundRules, InvalidPosting, LimitExceeded, TransactionKind, check_posting, effect_of,
)
from tests.helpers import examples

K = TransactionKind
LABEL = "ENG-BOOKS (Engineering books)"
D = Decimal
NO_OVERSPEND = FundRules()
OVEREXP_100 = FundRules(overexpenditure_allowed=True, overexpenditure_limit=D("100.00"))
OVERENC_10 = FundRules(overencumbrance_allowed=True, overencumbrance_limit_percent=D("10"))
BOTH = FundRules(True, D("10"), True, D("100.00"))


def bal(allocated="0", encumbered="0", expended="0") -> Balance:
    return Balance(D(allocated), D(encumbered), D(expended))


def post(balance, kind, amount, rules=NO_OVERSPEND, base=None, currency="EUR"):
    return check_posting(balance, kind, D(amount), rules, currency=currency, fund_label=LABEL, base=base)


# -- what a posting does ---------------------------------------------------------------------

@pytest.mark.parametrize("kind, amount, expected", [
    (K.ALLOCATION, "10.00", bal("10.00")),
    (K.ALLOCATION, "-10.00", bal("-10.00")),
    (K.TRANSFER, "-2.50", bal("-2.50")),
    (K.ENCUMBRANCE, "3.00", bal(encumbered="3.00")),
    (K.DISENCUMBRANCE, "3.00", bal(encumbered="-3.00")),
    (K.EXPENDITURE, "4.00", bal(expended="4.00")),
    (K.EXPENDITURE, "-4.00", bal(expended="-4.00")),
    ("expenditure", "1.00", bal(expended="1.00")),
])
def test_effect_of(kind, amount, expected):
    assert effect_of(kind, D(amount)) == expected


def test_balance_available_and_addition():
    b = bal("1000.00", "250.00", "100.50")
    assert b.available == D("649.50")
    assert b + bal("1.00", "2.00", "3.00") == bal("1001.00", "252.00", "103.50")
    assert Balance().available == 0


# -- LED-07: the boundary table ----------------------------------------------------------------

# (starting balance, rules, kind, amount, accepted?, shortfall when refused)
BOUNDARIES = [
    # no over-spending: available may reach zero, not one cent below
    (bal("1000.00"), NO_OVERSPEND, K.EXPENDITURE, "1000.00", True, None),
    (bal("1000.00"), NO_OVERSPEND, K.EXPENDITURE, "1000.01", False, "0.01"),
    (bal("1000.00"), NO_OVERSPEND, K.ENCUMBRANCE, "1000.00", True, None),
    (bal("1000.00"), NO_OVERSPEND, K.ENCUMBRANCE, "1000.01", False, "0.01"),
    # over-expenditure allowed up to 100.00
    (bal("1000.00"), OVEREXP_100, K.EXPENDITURE, "1100.00", True, None),
    (bal("1000.00"), OVEREXP_100, K.EXPENDITURE, "1100.01", False, "0.01"),
    (bal("1000.00"), OVEREXP_100, K.EXPENDITURE, "1250.00", False, "150.00"),
    # ... which does not let an encumbrance go over
    (bal("1000.00"), OVEREXP_100, K.ENCUMBRANCE, "1000.01", False, "0.01"),
    # over-encumbrance allowed up to 10 % of the allocation
    (bal("1000.00"), OVERENC_10, K.ENCUMBRANCE, "1100.00", True, None),
    (bal("1000.00"), OVERENC_10, K.ENCUMBRANCE, "1100.01", False, "0.01"),
    # ... which does not let an expenditure go over
    (bal("1000.00"), OVERENC_10, K.EXPENDITURE, "1000.01", False, "0.01"),
    # the flag matters, not only the limit
    (bal("1000.00"), FundRules(False, D("10"), False, D("100.00")), K.ENCUMBRANCE, "1000.01", False, "0.01"),
    (bal("1000.00"), FundRules(False, D("10"), False, D("100.00")), K.EXPENDITURE, "1000.01", False, "0.01"),
    # allowed, but with a zero limit
    (bal("1000.00"), FundRules(True, D("0"), True, D("0")), K.EXPENDITURE, "1000.01", False, "0.01"),
    # with existing encumbrances and expenditures
    (bal("1000.00", "400.00"), NO_OVERSPEND, K.EXPENDITURE, "600.00", True, None),
    (bal("1000.00", "400.00"), NO_OVERSPEND, K.EXPENDITURE, "600.01", False, "0.01"),
    (bal("1000.00", "400.00"), OVEREXP_100, K.EXPENDITURE, "700.00", True, None),
    (bal("1000.00", "400.00"), OVEREXP_100, K.EXPENDITURE, "700.01", False, "0.01"),
    (bal("1000.00", "400.00", "300.00"), OVERENC_10, K.ENCUMBRANCE, "400.00", True, None),
    (bal("1000.00", "400.00", "300.00"), OVERENC_10, K.ENCUMBRANCE, "400.01", False, "0.01"),
    (bal("1000.00", "1100.00"), OVERENC_10, K.ENCUMBRANCE, "0.01", False, "0.01"),
    (bal("1000.00", "1050.00"), BOTH, K.EXPENDITURE, "50.00", True, None),
    (bal("1000.00", "1050.00"), BOTH, K.EXPENDITURE, "50.01", False, "0.01"),
    # the over-encumbrance allowance follows the allocation, and a negative one gives none
    (bal("2000.00"), OVERENC_10, K.ENCUMBRANCE, "2200.00", True, None),
    (bal("2000.00"), OVERENC_10, K.ENCUMBRANCE, "2200.01", False, "0.01"),
    (bal("-5.00"), OVERENC_10, K.ENCUMBRANCE, "0.01", False, "5.01"),
    (bal("1000.00"), FundRules(True, D("12.5")), K.ENCUMBRANCE, "1125.00", True, None),
    (bal("1000.00"), FundRules(True, D("12.5")), K.ENCUMBRANCE, "1125.01", False, "0.01"),
    # the allowance is quantised half-up: 10 % of 0.05 is 0.005, which allows 0.01
    (bal("0.05"), OVERENC_10, K.ENCUMBRANCE, "0.06", True, None),
    (bal("0.05"), OVERENC_10, K.ENCUMBRANCE, "0.07", False, "0.01"),
    (bal("0.04"), OVERENC_10, K.ENCUMBRANCE, "0.05", False, "0.01"),   # 0.004 -> 0.00
    # taking money back (allocation decrease, transfer out) never goes below zero
    (bal("1000.00", "900.00"), NO_OVERSPEND, K.ALLOCATION, "-100.00", True, None),
    (bal("1000.00", "900.00"), NO_OVERSPEND, K.ALLOCATION, "-100.01", False, "0.01"),
    (bal("1000.00", "900.00"), BOTH, K.ALLOCATION, "-100.01", False, "0.01"),
    (bal("1000.00", "900.00"), BOTH, K.TRANSFER, "-100.00", True, None),
    (bal("1000.00", "900.00"), BOTH, K.TRANSFER, "-100.01", False, "0.01"),
    (bal("1000.00", "1050.00"), BOTH, K.ALLOCATION, "-0.01", False, "50.01"),  # already over
    # money coming in is always accepted, even on a fund far over its limits
    (bal("1000.00", "5000.00"), NO_OVERSPEND, K.ALLOCATION, "0.01", True, None),
    (bal("1000.00", "5000.00"), NO_OVERSPEND, K.TRANSFER, "0.01", True, None),
    (bal("1000.00", "5000.00"), NO_OVERSPEND, K.DISENCUMBRANCE, "0.01", True, None),
    (bal("1000.00", "0", "5000.00"), NO_OVERSPEND, K.EXPENDITURE, "-0.01", True, None),
]


@pytest.mark.parametrize("start, rules, kind, amount, ok, shortfall", BOUNDARIES)
def test_LED07_boundaries(start, rules, kind, amount, ok, shortfall):
    expected_after = start + effect_of(kind, D(amount))
    if ok:
        assert post(start, kind, amount, rules) == expected_after
    else:
        with pytest.raises(LimitExceeded) as info:
            post(start, kind, amount, rules)
        assert info.value.shortfall == D(shortfall)
        assert f"short by {shortfall} EUR" in str(info.value)
        assert LABEL in str(info.value)
        assert info.value.fund_label == LABEL


def test_LED07_message_names_fund_action_amount_and_shortfall():
    with pytest.raises(LimitExceeded) as info:
        post(bal("1000.00"), K.EXPENDITURE, "1000.01")
    assert str(info.value) == f"Fund {LABEL} cannot expend 1,000.01 EUR: it is short by 0.01 EUR."
    assert info.value.kind is K.EXPENDITURE and info.value.currency == "EUR"
    with pytest.raises(LimitExceeded) as info:
        post(bal("10.00"), K.TRANSFER, "-12.00")
    assert "transfer out 12.00 EUR" in str(info.value) and "short by 2.00 EUR" in str(info.value)
    with pytest.raises(LimitExceeded) as info:
        post(bal("10.00", "10.00"), K.ALLOCATION, "-1.00")
    assert "give back 1.00 EUR" in str(info.value)
    with pytest.raises(LimitExceeded) as info:
        post(bal("1000.00"), K.ENCUMBRANCE, "1234.56", OVERENC_10)
    assert "encumber 1,234.56 EUR" in str(info.value) and "short by 134.56 EUR" in str(info.value)


def test_LED07_jpy_has_no_decimals():
    rules = FundRules(True, D("10"), True, D("500"))
    assert post(bal("10000"), K.EXPENDITURE, "10500", rules, currency="JPY") == bal("10000", "0", "10500")
    with pytest.raises(LimitExceeded) as info:
        post(bal("10000"), K.EXPENDITURE, "10501", rules, currency="JPY")
    assert "short by 1 JPY" in str(info.value)
    # 10 % of 10005 JPY is 1000.5 -> 1001 (half-up)
    assert post(bal("10005"), K.ENCUMBRANCE, "11006", rules, currency="JPY").available == D("-1001")
    with pytest.raises(LimitExceeded):
        post(bal("10005"), K.ENCUMBRANCE, "11007", rules, currency="JPY")


def test_LED07_a_refused_posting_leaves_the_balance_alone():
    start = bal("100.00", "20.00", "30.00")
    with pytest.raises(LimitExceeded):
        post(start, K.EXPENDITURE, "50.01")
    assert start == bal("100.00", "20.00", "30.00")  # frozen, but the caller's value is what counts


# -- releases and refunds ---------------------------------------------------------------------

cents = st.integers(min_value=0, max_value=10**9)
rules_strategy = st.builds(
    FundRules, st.booleans(), st.integers(0, 20000).map(lambda h: D(h).scaleb(-2)),
    st.booleans(), st.integers(0, 10**7).map(lambda c: D(c).scaleb(-2)))


@settings(max_examples=examples(500), deadline=None, database=None)
@given(st.integers(-10**9, 10**9), cents, st.integers(-10**9, 10**9), rules_strategy, st.data())
def test_LED07_releases_and_refunds_are_always_accepted(alloc, enc, exp, rules, data):
    """Whatever the balance (even far over every limit), releasing what is encumbered and
    refunding (a negative expenditure) are accepted and raise available by the amount."""
    start = Balance(D(alloc).scaleb(-2), D(enc).scaleb(-2), D(exp).scaleb(-2))
    release = D(data.draw(st.integers(1, max(enc, 1)))).scaleb(-2) if enc else None
    refund = D(data.draw(st.integers(1, 10**9))).scaleb(-2)
    if release is not None:
        after = post(start, K.DISENCUMBRANCE, release, rules)
        assert after.available == start.available + release
        assert after.encumbered == start.encumbered - release
    after = post(start, K.EXPENDITURE, -refund, rules)
    assert after.available == start.available + refund
    assert after.expended == start.expended - refund


def test_releasing_more_than_is_encumbered_is_invalid():
    """Nonsense postings are refused whatever the limits (not as a limit: InvalidPosting)."""
    with pytest.raises(InvalidPosting):
        post(bal("100.00", "10.00"), K.DISENCUMBRANCE, "10.01", BOTH)
    with pytest.raises(InvalidPosting):
        post(bal("100.00", "10.00"), K.DISENCUMBRANCE, "-1.00", BOTH)
    with pytest.raises(InvalidPosting):
        post(bal("100.00"), K.ENCUMBRANCE, "-1.00", BOTH)
    assert post(bal("100.00", "10.00"), K.DISENCUMBRANCE, "10.00") == bal("100.00", "0.00")


# -- base=: several rows posted together are checked against the starting balance -------------

def test_LED07_base_combined_invoice_on_a_fund_that_is_already_over():
    """An invoice releases 100.00 and spends 80.00 on a fund 50.00 over (allowed encumbrance).

    Row by row, the expenditure would take available from +50.00 to -30.00 (refused: the fund
    allows no over-expenditure). Checked against the starting balance (-50.00) the invoice
    raises available, so it is accepted."""
    start = bal("1000.00", "1050.00")                   # available -50.00, within 10 %
    after_release = post(start, K.DISENCUMBRANCE, "100.00", OVERENC_10, base=start)
    assert after_release.available == D("50.00")
    with pytest.raises(LimitExceeded):
        post(after_release, K.EXPENDITURE, "80.00", OVERENC_10)          # without base
    after = post(after_release, K.EXPENDITURE, "80.00", OVERENC_10, base=start)
    assert after == bal("1000.00", "950.00", "80.00") and after.available == D("-30.00")


def test_LED07_base_does_not_let_a_batch_lower_available_past_the_limit():
    """Two encumbrances of one order: each within the limit alone, not together."""
    start = bal("1000.00", "1000.00")                   # available 0, may go to -100.00
    first = post(start, K.ENCUMBRANCE, "60.00", OVERENC_10, base=start)
    assert first.available == D("-60.00")
    with pytest.raises(LimitExceeded) as info:
        post(first, K.ENCUMBRANCE, "60.00", OVERENC_10, base=start)
    assert info.value.shortfall == D("20.00")
    # an invoice that releases 100.00 and spends 120.00 lowers available by 20.00: refused,
    # even though the running balance after the release had 100.00 available
    released = post(start, K.DISENCUMBRANCE, "100.00", NO_OVERSPEND, base=start)
    with pytest.raises(LimitExceeded) as info:
        post(released, K.EXPENDITURE, "120.00", NO_OVERSPEND, base=start)
    assert info.value.shortfall == D("20.00")
    assert "short by 20.00 EUR" in str(info.value)


def test_LED07_base_lets_a_batch_that_ends_at_or_above_the_start_through():
    """A batch that does not lower available overall is accepted even on an overdrawn fund."""
    start = bal("100.00", "0", "150.00")                # available -50.00 (an old over-spend)
    up = post(start, K.ALLOCATION, "40.00", base=start)
    assert post(up, K.EXPENDITURE, "40.00", base=start).available == D("-50.00")
    with pytest.raises(LimitExceeded) as info:
        post(up, K.EXPENDITURE, "40.01", base=start)
    assert info.value.shortfall == D("50.01")


# -- the rule as a whole, against an independent model in cents -------------------------------

def model_outcome(alloc, enc, exp, rules_c, kind, amount):
    """Return ("ok", (allocated, encumbered, expended) after) or ("refused", shortfall); every
    number in integer cents.

    rules_c = (enc_allowed, percent in hundredths of a percent, exp_allowed, limit in cents)."""
    enc_ok, pct_h, exp_ok, limit = rules_c
    d_alloc = amount if kind in (K.ALLOCATION, K.TRANSFER) else 0
    d_enc = amount if kind is K.ENCUMBRANCE else (-amount if kind is K.DISENCUMBRANCE else 0)
    d_exp = amount if kind is K.EXPENDITURE else 0
    before = alloc - enc - exp
    after = (alloc + d_alloc) - (enc + d_enc) - (exp + d_exp)
    new = (alloc + d_alloc, enc + d_enc, exp + d_exp)
    if after >= 0 or after >= before:
        return "ok", new
    if kind is K.ENCUMBRANCE and enc_ok:
        a = max(alloc + d_alloc, 0)
        allowed = (2 * a * pct_h + 10000) // 20000        # a * pct_h / 10000, rounded half up
    elif kind is K.EXPENDITURE and exp_ok:
        allowed = limit
    else:
        allowed = 0
    return ("ok", new) if -after <= allowed else ("refused", -after - allowed)


@settings(max_examples=examples(2000), deadline=None, database=None)
@given(st.integers(-10**7, 10**7), st.integers(0, 10**7), st.integers(-10**7, 10**7),
       st.booleans(), st.integers(0, 20000), st.booleans(), st.integers(0, 10**6),
       st.sampled_from(list(K)), st.integers(1, 2 * 10**7), st.booleans())
def test_LED07_check_posting_matches_the_model(alloc, enc, exp, enc_ok, pct_h, exp_ok, limit, kind,
                                               magnitude, negative):
    if kind in (K.ENCUMBRANCE, K.DISENCUMBRANCE):
        negative = False                          # those are positive by definition
    if kind is K.DISENCUMBRANCE:
        magnitude = min(magnitude, enc) or None   # release at most what is encumbered
        if magnitude is None:
            return
    amount = -magnitude if negative else magnitude
    rules = FundRules(enc_ok, D(pct_h).scaleb(-2), exp_ok, D(limit).scaleb(-2))
    start = Balance(D(alloc).scaleb(-2), D(enc).scaleb(-2), D(exp).scaleb(-2))
    outcome, detail = model_outcome(alloc, enc, exp, (enc_ok, pct_h, exp_ok, limit), kind, amount)
    try:
        after = post(start, kind, D(amount).scaleb(-2), rules)
    except LimitExceeded as exc:
        assert outcome == "refused", (start, kind, amount, rules)
        assert exc.shortfall == D(detail).scaleb(-2)
        assert f"short by {D(detail).scaleb(-2):,} EUR" in str(exc)
    else:
        assert outcome == "ok", (start, kind, amount, rules, after)
        assert after == Balance(*(D(c).scaleb(-2) for c in detail))


# -- issue 12, finding 4: nothing the ledger posts or totals leaves the money columns' range ---

@pytest.mark.parametrize("start, kind, amount, what", [
    (bal(), K.ALLOCATION, "1000000000000.00", "beyond the largest amount"),
    (bal("999999999999.00"), K.ALLOCATION, "1.00", "allocated total would be 1,000,000,000,000.00"),
    (bal("-999999999999.00"), K.TRANSFER, "-1.00", "allocated total would be -1,000,000,000,000.00"),
    (bal("999999999999.99", "999999999999.00"), K.ENCUMBRANCE, "1.00", "encumbered total"),
    (bal("999999999999.99", expended="999999999999.50"), K.EXPENDITURE, "0.50", "expended total"),
    (bal(), K.EXPENDITURE, "-99999999999999999999999", "beyond the largest amount"),
])
def test_H12_04_postings_beyond_the_money_columns_are_invalid(start, kind, amount, what):
    with pytest.raises(InvalidPosting, match=what):
        post(start, kind, amount, BOTH)
    assert post(bal("999999999998.00"), K.ALLOCATION, "1.99", BOTH) == bal("999999999999.99")
