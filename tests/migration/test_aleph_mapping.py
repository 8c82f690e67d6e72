"""The pure Aleph mapping (no application, no database): reading, codes and periods, limits, transactions."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from app.ledger import Balance
from app.migration.aleph import (
    AlephInputError, absolute_to_percent, parse_aleph_number, percent_to_absolute, plan_migration, read_z601,
    read_z76,
)

DATA = Path(__file__).parent / "data"
Z76_HEADER = "Z76_BUDGET_NUMBER,Z76_NAME,Z76_VALID_DATE_TO,Z76_STATUS,Z76_SW_ABSOLUTE_PERCENT," \
             "Z76_MAX_OVER_COMMITTED,Z76_MAX_OVER_EXPENDITURE\n"
Z601_HEADER = "Z601_BUDGET_NUMBER,Z601_SEQUENCE,Z601_TYPE,Z601_CREDIT_DEBIT,Z601_LOCAL_SUM,Z601_OPEN_DATE,Z601_NOTE\n"


def fixture_plan():
    budgets = read_z76((DATA / "z76_budgets.csv").open(newline=""), "z76_budgets.csv")
    tx = read_z601((DATA / "z601_transactions.csv").open(newline=""), [b.number for b in budgets],
                   "z601_transactions.csv")
    return plan_migration(budgets, tx)


def plan_of(z76_rows: str, z601_rows: str = ""):
    budgets = read_z76(io.StringIO(Z76_HEADER + z76_rows), "z76.csv")
    return plan_migration(budgets, read_z601(io.StringIO(Z601_HEADER + z601_rows),
                                             [b.number for b in budgets], "z601.csv"))


def test_amounts_follow_the_implied_decimals_rule():
    assert parse_aleph_number("00000000100000") == Decimal("1000.00")
    assert parse_aleph_number("1000.5") == Decimal("1000.50")
    assert parse_aleph_number("0") == Decimal("0.00")
    for bad in ("1,000.00", "-5.00", "1e3", "12.345", ""):
        with pytest.raises(ValueError):
            parse_aleph_number(bad)


def test_H12_04_aleph_amounts_beyond_the_money_columns_are_refused():
    assert parse_aleph_number("99999999999999") == Decimal("999999999999.99")
    for bad in ("100000000000000", "12345678901234567890", "1000000000000.00", "٥.00"):
        with pytest.raises(ValueError, match="too large|not an amount"):
            parse_aleph_number(bad)
    with pytest.raises(AlephInputError, match="z601.csv row 2: transaction X-2010/1: .*too large"):
        plan_of("X-2010,Name,20101231,AC,A,,\n", "X-2010,1,ALC,C,12345678901234567890,20100101,\n")


def test_fiscal_period_from_suffix_valid_to_or_latest_created():
    plan = fixture_plan()
    year_of = {b: f.year for b, f in plan.fund_of_budget.items()}
    code_of = {b: f.code for b, f in plan.fund_of_budget.items()}
    # only the -YYYY years found in budget numbers become fiscal periods (no FY2099)
    assert sorted(plan.years) == [2004, 2005]
    assert (code_of["ART-2004"], year_of["ART-2004"]) == ("ART", 2004)
    assert (code_of["ART-2005"], year_of["ART-2005"]) == ("ART", 2005)
    # PGIFT has no suffix: valid-to 2005-06-30 -> fiscal year 2005, which the -2005 budgets created
    assert (code_of["PGIFT"], year_of["PGIFT"]) == ("PGIFT", 2005)
    # FUTURE: valid-to year 2099 was not created -> the latest created period, 2005
    assert year_of["FUTURE"] == 2005
    # MAPS-OLD: non-numeric suffix -> -FUND appended; its period comes from valid-to 2004-06-30
    assert (code_of["MAPS-OLD"], year_of["MAPS-OLD"]) == ("MAPS-OLD-FUND", 2004)
    changes = "\n".join(plan.code_changes)
    assert "MAPS-OLD -> MAPS-OLD-FUND: non-numeric suffix -OLD" in changes
    assert "FUTURE: no -YYYY suffix, valid-to year 2099 has no fiscal period, so the latest one, 2005" in changes
    assert "PGIFT: no -YYYY suffix, fiscal period 2005 from valid-to 2005-06-30" in changes
    # period dates come from the budgets' validity; status active when one of its budgets is AC
    fy4, fy5 = plan.years[2004], plan.years[2005]
    assert (fy4.code, fy4.start, fy4.end, fy4.status) == ("FY2004", date(2003, 7, 1), date(2004, 6, 30), "inactive")
    assert (fy5.code, fy5.start, fy5.end, fy5.status) == ("FY2005", date(2004, 7, 1), date(2005, 6, 30), "active")


def test_numeric_non_year_suffix_keeps_its_code_and_no_suffix_gets_no_fund_suffix():
    plan = plan_of("AB-12,Short suffix,20101231,AC,A,,\nPLAIN,No suffix,20101231,AC,A,,\n")
    assert {b: f.code for b, f in plan.fund_of_budget.items()} == {"AB-12": "AB-12", "PLAIN": "PLAIN"}
    assert sorted(plan.years) == [2010]  # no suffix anywhere: the valid-to year is created


def test_over_encumbrance_absolute_becomes_percent_of_estimated_balance():
    plan = fixture_plan()
    art = plan.fund_of_budget["ART-2004"]
    # ART-2004 estimated balance = ILC 5000.00 + ALC 1500.00 + CRY 750.00 - TRN (debit) 250.00 = 7000.00
    # (ENC 400.00/-100.00 and INV 1200.00/-50.00 are not part of it).
    # Over-encumbrance 333.33 absolute -> 333.33 * 100 / 7000.00 = 4.7618571... -> 4.76 % (half up, 2 places)
    assert art.overencumbrance_limit_percent == Decimal("4.76") and art.overencumbrance_allowed
    # Over-expenditure was given as an absolute 00000000025000 = 250.00: unchanged
    assert art.overexpenditure_limit == Decimal("250.00") and art.overexpenditure_allowed
    assert absolute_to_percent(Decimal("333.33"), Decimal("7000.00")) == Decimal("4.76")
    assert "ART-2004: over-encumbrance 333.33 absolute / estimated balance 7000.00 x 100 = 4.76 %" \
        in plan.conversions


def test_over_expenditure_percent_becomes_absolute_sum():
    plan = fixture_plan()
    art = plan.fund_of_budget["ART-2005"]
    # ART-2005 estimated balance = ILC 00000000123457 = 1234.57 (the zero ENC is skipped).
    # Over-expenditure 2.5 % -> 2.5 * 1234.57 / 100 = 30.86425 -> 30.86 (half up, cents)
    assert art.overexpenditure_limit == Decimal("30.86") and art.overexpenditure_allowed
    # Over-encumbrance was already a percent (switch P): 7.50 % unchanged
    assert art.overencumbrance_limit_percent == Decimal("7.50")
    assert percent_to_absolute(Decimal("2.5"), Decimal("1234.57")) == Decimal("30.86")
    assert "ART-2005: over-expenditure 2.50 % x estimated balance 1234.57 / 100 = 30.86" in plan.conversions


def test_half_up_rounding_and_unconvertible_limits():
    # 1.005 % of 1000.00 = 10.05 exactly; 0.125 % of 100.00 = 0.125 -> 0.13 (half up, not banker's 0.12)
    assert percent_to_absolute(Decimal("0.125"), Decimal("100.00")) == Decimal("0.13")
    # 10.00 absolute against 2000.00: 10 * 100 / 2000 = 0.5 -> 0.50 %
    assert absolute_to_percent(Decimal("10.00"), Decimal("2000.00")) == Decimal("0.50")
    plan = plan_of("EMPTY-2010,No money,20101231,AC,A,50.00,\nHUGE-2010,Tiny base,20101231,AC,A,100.00,\n",
                   "HUGE-2010,1,ALC,C,5.00,20100101,\n")
    assert plan.fund_of_budget["EMPTY-2010"].overencumbrance_allowed is False
    assert any("EMPTY-2010: over-encumbrance 50.00 (absolute) not converted" in w for w in plan.warnings)
    # 100.00 / 5.00 * 100 = 2000 % is above what a fund accepts: capped at 1000 %
    assert plan.fund_of_budget["HUGE-2010"].overencumbrance_limit_percent == Decimal("1000")


def test_notes_types_external_id_and_dropped_fields():
    plan = fixture_plan()
    art = plan.fund_of_budget["ART-2004"]
    assert art.notes == "Selector: JB\nEndowed 1987\nReviewed yearly"
    assert art.fund_type == "ENDOW" and art.external_id == "SAP-4711" and art.status == "inactive"
    assert plan.fund_types == ["ENDOW", "GIFT", "UNIVA"]
    assert plan.dropped == {"department": 2, "annual flag": 3, "budget group": 2}


def test_hierarchy_summary_funds_and_grandparent_ledger():
    plan = fixture_plan()
    funds = {(f.year, f.code): f for f in plan.funds}
    # LAW-2005 > LAWBK-2005 > LAWFOR-2005: three levels, so LAW gets a ledger of its own in FY2005
    assert [(lp.year, lp.code) for lp in plan.ledgers] == [(2004, "GENERAL"), (2005, "GENERAL"), (2005, "LAW")]
    assert (funds[2005, "LAW"].ledger, funds[2005, "LAW"].parent) == ("LAW", None)
    assert (funds[2005, "LAWBK-SUM"].kind, funds[2005, "LAWBK-SUM"].parent) == ("summary", None)
    assert funds[2005, "LAWBK"].parent == "LAWBK-SUM" and funds[2005, "LAWFOR"].parent == "LAWBK-SUM"
    # HIST-2005 > HISTUS-2005: two levels stay in the general ledger under a summary fund
    assert funds[2005, "HIST-SUM"].ledger == "GENERAL"
    assert funds[2005, "HISTUS"].parent == "HIST-SUM" and funds[2005, "HIST"].parent == "HIST-SUM"
    order = [f.code for f in plan.funds]
    assert order.index("LAWBK-SUM") < order.index("LAWFOR")


def test_transaction_kinds_signs_and_transfer_pairs():
    plan = fixture_plan()
    art = [(p.kind, p.amount) for p in plan.postings if p.budget == "ART-2004"]
    assert art == [("allocation", Decimal("5000.00")), ("allocation", Decimal("1500.00")),
                   ("allocation", Decimal("750.00")), ("transfer", Decimal("-250.00")),
                   ("encumbrance", Decimal("400.00")), ("disencumbrance", Decimal("100.00")),
                   ("expenditure", Decimal("1200.00")), ("expenditure", Decimal("-50.00"))]
    legs = [p for p in plan.postings if p.kind == "transfer"]
    assert len(legs) == 2 and legs[0].transfer_id and legs[0].transfer_id == legs[1].transfer_id
    assert {(p.budget, p.counterpart) for p in legs} == {("ART-2004", "MAPS-OLD"), ("MAPS-OLD", "ART-2004")}
    inv = next(p for p in plan.postings if p.reference == "200401150000008")
    assert "INVOICE" in inv.note and "invoice BLACKWELL" in inv.note and "order 00001234500001" in inv.note
    # the zero ENC cannot be a fund transaction: reported, not posted
    assert len(plan.postings) == 18 and len(plan.skipped) == 1
    # Aleph's own totals: allocated 7000.00, encumbered 400 - 100 = 300.00, expended 1200 - 50 = 1150.00
    assert plan.aleph_totals["ART-2004"] == Balance(Decimal("7000.00"), Decimal("300.00"), Decimal("1150.00"))
    # HISTUS has no open date: the fiscal period's start
    assert next(p.on for p in plan.postings if p.budget == "HISTUS-2005") == date(2004, 7, 1)


@pytest.mark.parametrize("z76, z601, message", [
    ("X-2010,Name,2010123,AC,A,,\n", "", "z76.csv row 2: budget X-2010: '2010123' is not a date YYYYMMDD"),
    ("X-2010,Name,20101231,AC,A,,\nX-2010,Again,20101231,AC,A,,\n", "",
     "z76.csv row 3: budget X-2010 already given in row 2"),
    ("X-2010,Name,20101231,AC,A,1.234,\n", "", "z76.csv row 2: budget X-2010: '1.234' is not an amount"),
    ("X-2010,Name,20101231,AC,Q,,\n", "", "z76.csv row 2: Z76_SW_ABSOLUTE_PERCENT 'Q' is not A or P"),
    ("X-2010,Name,20101231,AC,A\n", "", "z76.csv row 2: 5 fields where the header has 7"),
    ("NOYEAR,Name,0,AC,A,,\n", "", "z76.csv row 2: budget NOYEAR has no -YYYY suffix and no Z76_VALID_DATE_TO"),
    ("X-2010,Name,20101231,AC,A,,\n", "X-2010,1,FOO,C,1.00,20100101,\n", "z601.csv row 2: unknown Z601_TYPE 'FOO'"),
    ("X-2010,Name,20101231,AC,A,,\n", "Y-2010,1,ALC,C,1.00,20100101,\n",
     "z601.csv row 2: budget Y-2010 is not in the Z76 file"),
    ("X-2010,Name,20101231,AC,A,,\n", "X-2010,1,ALC,X,1.00,20100101,\n",
     "z601.csv row 2: Z601_CREDIT_DEBIT 'X' is not C or D"),
    ("X-2010,Name,20101231,AC,A,,\n", "X-2010,1,ALC,C,1.00,20100101,\nX-2010,1,ALC,C,2.00,20100101,\n",
     "z601.csv row 3: transaction X-2010/1 already given in row 2"),
    ("X-2010,Name,20101231,AC,A,,\n", "X-2010,1,ALC,C,-1.00,20100101,\n", "z601.csv row 2: transaction X-2010/1:"),
    ("X-2010,Name,20101231,AC,A,,\nX,Name,20101231,AC,A,,\nX-FOO,N,20101231,AC,A,,\n", "",
     "z76.csv row 3: budget X: fund code X in fiscal period 2010 is also the code of budget X-2010"),
])
def test_malformed_input_is_refused_with_file_and_row(z76, z601, message):
    with pytest.raises(AlephInputError) as caught:
        plan_of(z76, z601)
    assert str(caught.value).startswith(message), str(caught.value)


def test_missing_required_column_names_the_file():
    with pytest.raises(AlephInputError, match=r"z76.csv row 1: missing column\(s\) Z76_NAME"):
        read_z76(io.StringIO("Z76_BUDGET_NUMBER\nA-2010\n"), "z76.csv")
    # headers are matched case-insensitively with - read as _
    budgets = read_z76(io.StringIO("z76-budget-number,Z76-NAME\nA-2010,Name\n"), "z76.csv")
    assert budgets[0].number == "A-2010"


def test_parent_cycle_is_refused():
    z76 = ("Z76_BUDGET_NUMBER,Z76_NAME,Z76_BUDGET_PARENT\n"
           "A-2010,A,B-2010\nB-2010,B,A-2010\n")
    with pytest.raises(AlephInputError, match="cycle"):
        plan_migration(read_z76(io.StringIO(z76), "z76.csv"), [])
