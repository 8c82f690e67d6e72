"""The pure prediction of a serial's issues: dates across month ends and leap years, volume roll-over."""
from __future__ import annotations

from datetime import date

import pytest

from app.orders.prediction import Pattern, add_months, issue, predict, problems


def _dates(p, count=4):
    return [i.expected for i in predict(p, 0, count)]


def test_monthly_from_the_31st_keeps_the_month_end_without_drifting():
    p = Pattern("monthly", date(2027, 1, 31))
    assert _dates(p, 5) == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30),
                            date(2027, 5, 31)]


def test_a_leap_year_february_gets_its_29th():
    p = Pattern("monthly", date(2028, 1, 31))
    assert issue(p, 1).expected == date(2028, 2, 29)
    annual = Pattern("annual", date(2028, 2, 29))
    assert _dates(annual, 5) == [date(2028, 2, 29), date(2029, 2, 28), date(2030, 2, 28), date(2031, 2, 28),
                                 date(2032, 2, 29)]


@pytest.mark.parametrize("frequency,second,fifth", [
    ("weekly", date(2026, 12, 31), date(2027, 1, 21)),
    ("bimonthly", date(2027, 2, 24), date(2027, 8, 24)),
    ("quarterly", date(2027, 3, 24), date(2027, 12, 24)),
    ("semiannual", date(2027, 6, 24), date(2028, 12, 24)),
    ("annual", date(2027, 12, 24), date(2030, 12, 24)),
])
def test_each_frequency_steps_from_the_first_date(frequency, second, fifth):
    p = Pattern(frequency, date(2026, 12, 24))
    assert issue(p, 1).expected == second and issue(p, 4).expected == fifth


def test_weekly_crosses_the_year_and_a_leap_day():
    p = Pattern("weekly", date(2028, 2, 22), chronology="day")
    got = predict(p, 0, 3)
    assert [i.expected for i in got] == [date(2028, 2, 22), date(2028, 2, 29), date(2028, 3, 7)]
    assert [i.chronology for i in got] == ["2028 Feb 22", "2028 Feb 29", "2028 Mar 7"]


def test_the_volume_rolls_over_when_it_is_full():
    p = Pattern("monthly", date(2027, 10, 1), first_volume=12, first_issue=11, issues_per_volume=12)
    assert [(i.enumeration, i.chronology) for i in predict(p, 0, 4)] == [
        ("v.12 no.11", "2027 Oct"), ("v.12 no.12", "2027 Nov"), ("v.13 no.1", "2027 Dec"), ("v.13 no.2", "2028 Jan")]


def test_one_issue_a_volume_is_numbered_by_volume_only():
    p = Pattern("annual", date(2027, 1, 15), first_volume=40, issues_per_volume=1, chronology="year")
    assert [(i.enumeration, i.chronology) for i in predict(p, 0, 3)] == [("v.40", "2027"), ("v.41", "2028"),
                                                                         ("v.42", "2029")]


def test_without_volumes_the_numbers_keep_counting():
    p = Pattern("quarterly", date(2027, 1, 1), first_issue=99)
    assert [i.enumeration for i in predict(p, 0, 3)] == ["no.99", "no.100", "no.101"]


def test_predict_continues_from_a_later_issue():
    p = Pattern("monthly", date(2027, 1, 10), first_volume=1, issues_per_volume=6)
    assert [(i.sequence, i.enumeration, i.chronology) for i in predict(p, 6, 2)] == [
        (6, "v.2 no.1", "2027 Jul"), (7, "v.2 no.2", "2027 Aug")]


def test_an_irregular_serial_predicts_numbers_but_no_dates():
    p = Pattern("irregular", None, first_volume=3, first_issue=2, issues_per_volume=4)
    assert [(i.expected, i.enumeration, i.chronology) for i in predict(p, 0, 4)] == [
        (None, "v.3 no.2", ""), (None, "v.3 no.3", ""), (None, "v.3 no.4", ""), (None, "v.4 no.1", "")]


def test_no_chronology_when_none_is_wanted():
    assert issue(Pattern("monthly", date(2027, 1, 1), chronology="none"), 0).chronology == ""


def test_add_months_moves_backwards_and_across_years():
    assert add_months(date(2027, 3, 31), -1) == date(2027, 2, 28)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)


@pytest.mark.parametrize("pattern,field", [
    (Pattern("fortnightly", date(2027, 1, 1)), "frequency"),
    (Pattern("monthly", None), "first_date"),
    (Pattern("monthly", date(2027, 1, 1), chronology="season"), "chronology"),
    (Pattern("monthly", date(2027, 1, 1), first_issue=0), "first_issue"),
    (Pattern("monthly", date(2027, 1, 1), first_volume=2), "issues_per_volume"),
    (Pattern("monthly", date(2027, 1, 1), first_volume=2, issues_per_volume=4, first_issue=5), "first_issue"),
])
def test_problems_name_the_field(pattern, field):
    assert [f for f, _ in problems(pattern)] == [field]


def test_a_sound_pattern_has_no_problems():
    assert problems(Pattern("irregular", None)) == []
    assert problems(Pattern("monthly", date(2027, 1, 1), first_volume=2, issues_per_volume=12, first_issue=12)) == []
