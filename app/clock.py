"""The one clock: now in UTC, and today's date.

``utcnow()``: every column stores its moments as naive UTC datetimes, which it gives; APScheduler,
remote file times and archive names want an aware one (``utcnow(aware=True)``). It is always the
real time.

``today()``: the business day, the institution's local date (``date.today()``: the server's own
time zone). Every default "today" goes through it: which fiscal period is current, which funds a
PO line may be charged to, the default posting, receipt and invoice dates, renewals, claims, the
fund charts, the demo. Never call ``date.today()`` elsewhere, nor take a day from ``utcnow()``.

For tests and demos only, the day can be pinned (timestamps stay real):

- ``freeze_today(date(2026, 6, 15))`` pins it in this process (every thread) until
  ``freeze_today(None)``; ``with freeze_today(day): ...`` pins it for the block and then restores
  the pin before it;
- the environment variable ``ACQ_TODAY=2026-06-15`` (ISO date) pins it wherever
  ``freeze_today`` does not, so that child processes (the CLI, job workers, servers) follow too.
  An invalid value fails every call rather than falling back to the real date.

The test suite pins both for the whole session (tests/conftest.py).
"""
from __future__ import annotations

import os
from datetime import date, datetime, timezone

ENV_VAR = "ACQ_TODAY"

_pinned: date | None = None


def utcnow(*, aware: bool = False) -> datetime:
    now = datetime.now(timezone.utc)
    return now if aware else now.replace(tzinfo=None)


def today() -> date:
    """The business day: the pinned day if any (``freeze_today``, else ``ACQ_TODAY``), else the
    real local date."""
    if _pinned is not None:
        return _pinned
    value = os.environ.get(ENV_VAR)
    if value:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{ENV_VAR}={value!r} is not a date (YYYY-MM-DD)") from None
    return date.today()


class freeze_today:
    """Pin ``today()`` to ``day`` (``None``: unpin, back to ``ACQ_TODAY`` or the real date). Takes
    effect at once; used as a context manager, restores on exit whatever was pinned before."""

    def __init__(self, day: date | None):
        global _pinned
        if day is not None and (not isinstance(day, date) or isinstance(day, datetime)):
            raise TypeError(f"freeze_today wants a date, not {day!r}")
        self.previous, _pinned = _pinned, day

    def __enter__(self) -> date:
        return today()

    def __exit__(self, *exc) -> None:
        global _pinned
        _pinned = self.previous
