"""A clock the auth tests drive by hand, and a sleep that records instead of waiting."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest


class Clock:
    def __init__(self):
        self.now = datetime(2026, 3, 2, 8, 0, 0)
        self.slept: list[float] = []
        self.on_sleep = None

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if self.on_sleep:
            self.on_sleep()
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    import app.auth.services as services
    c = Clock()
    monkeypatch.setattr(services, "utcnow", c)
    monkeypatch.setattr(services, "sleep", c.sleep, raising=False)
    return c
