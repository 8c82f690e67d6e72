"""The rollover planner (app.ledger.rollover): exact figures, skips, and money neither made nor lost."""
from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.ledger import Balance, FundRules, TransactionKind
from app.ledger.rollover import (DO_NOT_ROLL, INACTIVE, INSUFFICIENT, NO_COUNTERPART, PARENT_SKIPPED,
                                 TARGET_UNUSABLE, EncumbranceRule, FundRule, LedgerRules, LineRules, LineShare,
                                 RuleError, SourceFund, SourceLine, TargetFund, plan_funds, plan_lines)
from tests.helpers import examples

BOOKS = SourceFund("BOOKS", "GEN", allocated=D("10000.00"), expended=D("6250.50"), encumbered=D("1200.00"))
PLUS3 = FundRule("adjust", D("3"), "available")


def test_issue_figures_carry_available():
    [p] = plan_funds([BOOKS], LedgerRules(PLUS3), "EUR")
    assert (p.allocation, p.carried, p.total) == (D("10300.00"), D("2549.50"), D("12849.50"))
    assert p.left == D("3749.50") and p.not_carried == D("1200.00")


def test_issue_figures_carry_cash():
    [p] = plan_funds([BOOKS], LedgerRules(FundRule("adjust", D("3"), "cash")), "EUR")
    assert (p.allocation, p.carried, p.total, p.not_carried) == (D("10300.00"), D("3749.50"), D("14049.50"), D("0.00"))


def test_issue_figures_lines():
    rules = LineRules(EncumbranceRule("remaining"), EncumbranceRule("remaining", D("5")))
    target = {"BOOKS": TargetFund("BOOKS", "EUR", Balance(D("12849.50")))}
    plans = plan_lines([SourceLine(1, "one_time", (LineShare("BOOKS", D("700.00"), D("700.00")),)),
                        SourceLine(2, "continuous", (LineShare("BOOKS", D("500.00"), D("500.00")),))], rules, target)
    assert [(p.moved, p.shares[0].released, p.shares[0].encumbered) for p in plans] == [
        (True, D("700.00"), D("700.00")), (True, D("500.00"), D("525.00"))]


def test_allocation_modes_round_half_up():
    f = SourceFund("F", "L", allocated=D("333.33"))
    assert plan_funds([f], LedgerRules(FundRule("none")), "EUR")[0].allocation == D("0.00")
    assert plan_funds([f], LedgerRules(FundRule("same")), "EUR")[0].allocation == D("333.33")
    assert plan_funds([f], LedgerRules(FundRule("adjust", D("-1.5"))), "EUR")[0].allocation == D("328.33")  # 328.3300…
    assert plan_funds([f], LedgerRules(FundRule("adjust", D("0.15"))), "EUR")[0].allocation == D("333.83")  # 333.829995
    assert plan_funds([f], LedgerRules(FundRule("adjust", D("0.15"))), "JPY")[0].allocation == D("334")


def test_rules_per_ledger_and_fund():
    rules = LedgerRules(FundRule("none"), {"L": FundRule("same")}, {"G": FundRule("adjust", D("10"))})
    plans = {p.code: p for p in plan_funds([SourceFund("F", "L", allocated=D("100")), SourceFund("G", "L",
                                           allocated=D("100")), SourceFund("H", "M", allocated=D("100"))],
                                           rules, "EUR")}
    assert {c: p.allocation for c, p in plans.items()} == {"F": D("100.00"), "G": D("110.00"), "H": D("0.00")}


def test_skips_and_parents_first():
    funds = [SourceFund("CHILD", "L", parent="SUM", allocated=D("50"), expended=D("10")),
             SourceFund("SUM", "L", kind="summary", parent="TOP", roll_over=False),
             SourceFund("TOP", "L", kind="summary"),
             SourceFund("OFF", "L", active=False, allocated=D("5")),
             SourceFund("OK", "L", parent="TOP", allocated=D("5"))]
    plans = plan_funds(funds, LedgerRules(FundRule("same", carry="cash")), "EUR")
    order = [p.code for p in plans]
    assert order.index("TOP") < order.index("SUM") < order.index("CHILD") and order.index("TOP") < order.index("OK")
    by = {p.code: p for p in plans}
    assert (by["SUM"].skipped, by["CHILD"].skipped, by["OFF"].skipped) == (DO_NOT_ROLL, PARENT_SKIPPED, INACTIVE)
    assert by["CHILD"].not_carried == D("40.00") and by["CHILD"].allocation == D("0.00")
    assert by["OK"].skipped is None and by["OK"].total == D("10.00")


def test_deficit_is_not_carried():
    [p] = plan_funds([SourceFund("F", "L", allocated=D("100"), expended=D("150"))],
                     LedgerRules(FundRule("same", carry="cash")), "EUR")
    assert p.carried == D("0.00") and p.not_carried == D("-50.00")


def test_bad_rules():
    with pytest.raises(RuleError):
        FundRule("double")
    with pytest.raises(RuleError):
        FundRule("adjust", D("-101"))
    with pytest.raises(RuleError):
        EncumbranceRule("expended")
    assert LedgerRules.from_dict(LedgerRules(PLUS3, {"L": FundRule()}).to_dict()) == LedgerRules(PLUS3, {"L": FundRule()})
    rules = LineRules(EncumbranceRule("initial"), EncumbranceRule("none", D("5")))
    assert LineRules.from_dict(rules.to_dict()) == rules


def test_lines_reported_whole():
    targets = {"A": TargetFund("A", "EUR", Balance(D("100.00"))),
               "B": TargetFund("B", "EUR", Balance(D("10.00"))),
               "S": TargetFund("S", "EUR", usable=False)}
    line = lambda key, *codes: SourceLine(key, "one_time", tuple(LineShare(c, D("20.00"), D("30.00")) for c in codes))  # noqa: E731
    plans = plan_lines([line(1, "A", "X"), line(2, "A", "S"), line(3, "A", "B"), line(4, "A"),
                        line(5, "A", "A2")], LineRules(), targets)
    assert [p.reason for p in plans] == [NO_COUNTERPART, TARGET_UNUSABLE, INSUFFICIENT, None, NO_COUNTERPART]
    assert plans[2].fund_code == "B" and "short by 10.00" in plans[2].detail
    for p in plans[:3]:   # left exactly as they were: nothing released, nothing new
        assert all(s.released == 0 and s.encumbered == 0 and s.kept == D("20.00") for s in p.shares)


def test_lines_count_against_each_other_and_over_encumbrance():
    targets = {"A": TargetFund("A", "EUR", Balance(D("100.00")), FundRules(True, D("10")))}
    share = LineShare("A", D("60.00"), D("60.00"))
    plans = plan_lines([SourceLine(i, "one_time", (share,)) for i in range(3)], LineRules(), targets)
    assert [p.moved for p in plans] == [True, False, False]   # 120 > 100 + 10 %
    plans = plan_lines([SourceLine(1, "one_time", (LineShare("A", D("55.00"), D("1.00")),))] * 2, LineRules(), targets)
    assert [p.moved for p in plans] == [True, True]           # 110 = 100 + 10 %


def test_initial_and_none():
    targets = {"A": TargetFund("A", "EUR", Balance(D("1000.00")))}
    share = (LineShare("A", D("20.00"), D("70.00")),)
    [p] = plan_lines([SourceLine(1, "one_time", share)], LineRules(EncumbranceRule("initial")), targets)
    assert (p.shares[0].released, p.shares[0].encumbered) == (D("20.00"), D("70.00"))
    [p] = plan_lines([SourceLine(1, "continuous", share)], LineRules(continuous=EncumbranceRule("none")), targets)
    assert p.moved and (p.shares[0].released, p.shares[0].encumbered) == (D("20.00"), D("0.00"))


# -- money is neither made nor lost ---------------------------------------------------------------

cents = st.integers(min_value=0, max_value=10**9).map(lambda n: D(n).scaleb(-2))
percent = st.integers(min_value=-10000, max_value=10000).map(lambda n: D(n).scaleb(-2))
fund_rule = st.builds(FundRule, st.sampled_from(["none", "same", "adjust"]), percent,
                      st.sampled_from(["none", "cash", "available"]))


@st.composite
def trees(draw):
    n = draw(st.integers(min_value=1, max_value=25))
    funds = []
    for i in range(n):
        summaries = [f.code for f in funds if f.kind == "summary"]
        parent = draw(st.sampled_from([None] + summaries)) if summaries else None
        kind = draw(st.sampled_from(["summary", "allocated", "allocated"]))
        allocated, expended, encumbered = draw(cents), draw(cents), draw(cents)
        funds.append(SourceFund(f"F{i}", draw(st.sampled_from(["L1", "L2"])), kind, parent,
                                allocated if kind == "allocated" else D("0"),
                                expended if kind == "allocated" else D("0"),
                                encumbered if kind == "allocated" else D("0"),
                                draw(st.booleans()) or draw(st.booleans()), draw(st.booleans()) or draw(st.booleans())))
    return funds


@settings(max_examples=examples(300), deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees(), fund_rule, st.dictionaries(st.sampled_from(["L1", "L2"]), fund_rule),
       st.dictionaries(st.sampled_from([f"F{i}" for i in range(25)]), fund_rule))
def test_funds_neither_make_nor_lose_money(funds, default, ledgers, overrides):
    plans = plan_funds(funds, LedgerRules(default, ledgers, overrides), "EUR")
    assert sorted(p.code for p in plans) == sorted(f.code for f in funds)
    seen = set()
    for p in plans:
        assert p.left == p.carried + p.not_carried
        assert p.carried >= 0 and p.allocation >= 0
        assert p.source.parent is None or p.source.parent in seen   # parents first
        seen.add(p.code)
        if p.skipped or p.source.kind == "summary":
            assert p.total == 0
        elif p.rule.carry == "available":
            assert p.carried == max(p.source.available, 0)
    assert sum(p.left for p in plans) == sum(p.carried + p.not_carried for p in plans)


@st.composite
def line_sets(draw):
    codes = ["A", "B", "C", "D"]
    targets = {}
    for code in draw(st.lists(st.sampled_from(codes), unique=True)):
        targets[code] = TargetFund(code, "EUR", Balance(draw(cents), draw(cents), draw(cents)),
                                   FundRules(draw(st.booleans()), draw(percent).copy_abs()),
                                   draw(st.booleans()) or draw(st.booleans()))
    lines = []
    for i in range(draw(st.integers(min_value=0, max_value=30))):
        shares = tuple(LineShare(c, draw(cents), draw(cents))
                       for c in draw(st.lists(st.sampled_from(codes), min_size=1, max_size=3, unique=True)))
        lines.append(SourceLine(i, draw(st.sampled_from(["one_time", "continuous"])), shares))
    return lines, targets


encumbrance_rule = st.builds(EncumbranceRule, st.sampled_from(["remaining", "initial", "none"]),
                             st.integers(min_value=0, max_value=5000).map(lambda n: D(n).scaleb(-2)))


@settings(max_examples=examples(300), deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(line_sets(), encumbrance_rule, encumbrance_rule)
def test_lines_neither_make_nor_lose_encumbrances(data, one_time, continuous):
    lines, targets = data
    rules = LineRules(one_time, continuous)
    plans = plan_lines(lines, rules, targets)
    assert [p.line for p in plans] == lines
    for p in plans:
        for share, move in zip(p.line.shares, p.shares):
            assert move.released + move.kept == share.remaining   # released or reported, never lost
            if p.moved:
                assert move.released == share.remaining and move.kept == 0
                if rules.rule_for(p.line.order_type) == EncumbranceRule("remaining"):
                    assert move.encumbered == share.remaining   # the new one equals the released one
            else:
                assert move.released == 0 and move.encumbered == 0
    # no target fund is pushed past what it may take
    for code, t in targets.items():
        before = t.balance
        added = sum((m.encumbered for p in plans for m in p.shares if m.fund_code == code), D(0))
        after = Balance(before.allocated, before.encumbered + added, before.expended)
        if added:
            allowed = t.rules.overdraft(TransactionKind.ENCUMBRANCE, after.allocated, "EUR")
            assert after.available >= min(before.available, -allowed) or after.available >= 0
