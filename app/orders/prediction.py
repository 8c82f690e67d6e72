"""Predicting the issues of a serial from a simple publication pattern (pure: no Flask, no database).

A pattern says how often the issues come (a frequency), when the first one to predict is
expected, how issues are numbered (volume and issue, the issue number restarting when a volume is
full) and how the date is printed as the issue's chronology ("2027 Jan"). Issue 0 is that first
issue; :func:`predict` gives issue ``n`` and the ones after it.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from ..text import T

# key: (label, issues a year; None for no schedule)
FREQUENCIES: dict[str, tuple[str, int | None]] = {
    "weekly": (T("Weekly"), 52),
    "monthly": (T("Monthly"), 12),
    "bimonthly": (T("Every two months"), 6),
    "quarterly": (T("Quarterly"), 4),
    "semiannual": (T("Twice a year"), 2),
    "annual": (T("Once a year"), 1),
    "irregular": (T("Irregular (no schedule)"), None),
}
MONTH_STEPS = {"monthly": 1, "bimonthly": 2, "quarterly": 3, "semiannual": 6, "annual": 12}
CHRONOLOGIES = {
    "month": T("Year and month (2027 Jan)"),
    "day": T("Year, month and day (2027 Jan 8)"),
    "year": T("Year (2027)"),
    "none": T("None"),
}
LAST_YEAR = 9000   # a first date after it could predict issues past the calendar's end
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Pattern:
    frequency: str
    first_date: date | None            # when issue 0 is expected (None only for an irregular serial)
    first_issue: int = 1               # the number of issue 0
    first_volume: int | None = None    # None: issues are numbered without volumes
    issues_per_volume: int | None = None
    chronology: str = "month"


@dataclass(frozen=True)
class Issue:
    sequence: int              # 0 for the pattern's first issue
    expected: date | None
    volume: int | None
    number: int
    enumeration: str           # "v.3 no.12", "v.3" (one issue a volume), "no.145"
    chronology: str            # "2027 Jan", or "" when there is no date or none is wanted


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months``; a day past the end of the month lands on its last day."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expected_date(p: Pattern, n: int) -> date | None:
    """When issue ``n`` is expected, always counted from the first date (so Jan 31 gives Feb 28 or 29,
    then Mar 31, never drifting to the 28th)."""
    if p.first_date is None or p.frequency == "irregular":
        return None
    if p.frequency == "weekly":
        return p.first_date + timedelta(weeks=n)
    return add_months(p.first_date, MONTH_STEPS[p.frequency] * n)


def numbering(p: Pattern, n: int) -> tuple[int | None, int]:
    """(volume, issue number) of issue ``n``: the number restarts at 1 when a volume is full."""
    if p.first_volume is None or not p.issues_per_volume:
        return None, p.first_issue + n
    index = p.first_issue - 1 + n
    return p.first_volume + index // p.issues_per_volume, index % p.issues_per_volume + 1


def enumeration_label(p: Pattern, volume: int | None, number: int) -> str:
    if volume is None:
        return f"no.{number}"
    if p.issues_per_volume == 1:
        return f"v.{volume}"
    return f"v.{volume} no.{number}"


def chronology_label(style: str, day: date | None) -> str:
    if day is None or style == "none":
        return ""
    if style == "year":
        return str(day.year)
    if style == "day":
        return f"{day.year} {MONTHS[day.month - 1]} {day.day}"
    return f"{day.year} {MONTHS[day.month - 1]}"


def issue(p: Pattern, n: int) -> Issue:
    day = expected_date(p, n)
    volume, number = numbering(p, n)
    return Issue(n, day, volume, number, enumeration_label(p, volume, number), chronology_label(p.chronology, day))


def predict(p: Pattern, start: int, count: int) -> list[Issue]:
    """Issues ``start`` to ``start + count - 1``."""
    return [issue(p, n) for n in range(start, start + count)]


def problems(p: Pattern) -> list[tuple[str, str]]:
    """What is wrong with a pattern, as (field, message) pairs; empty when it can predict."""
    found = []
    if p.frequency not in FREQUENCIES:
        found.append(("frequency", T("Choose how often the issues come.")))
    elif p.frequency != "irregular" and p.first_date is None:
        found.append(("first_date", T("Enter when the first issue to predict is expected.")))
    elif p.first_date is not None and p.first_date.year >= LAST_YEAR:
        found.append(("first_date", T("Enter a date before the year %(year)s (the issues after it are "
                                      "predicted from it).", year=LAST_YEAR)))
    if p.chronology not in CHRONOLOGIES:
        found.append(("chronology", T("Choose how the chronology is written.")))
    if p.first_issue < 1:
        found.append(("first_issue", T("The first issue number is 1 or more.")))
    if p.first_volume is not None:
        if p.first_volume < 1:
            found.append(("first_volume", T("The volume is 1 or more (leave it empty for no volumes).")))
        if not p.issues_per_volume or p.issues_per_volume < 1:
            found.append(("issues_per_volume", T("Say how many issues make a volume.")))
        elif p.first_issue > p.issues_per_volume:
            found.append(("first_issue", T("A volume has %(per_volume)s issues: the first issue number cannot be "
                                           "%(first)s.", per_volume=p.issues_per_volume, first=p.first_issue)))
    return found
