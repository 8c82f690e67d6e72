"""Fixtures the finance-integration tests share."""
from __future__ import annotations

from datetime import timezone

import pytest
from apscheduler.schedulers.background import BackgroundScheduler


@pytest.fixture
def paused():
    """Schedulers that never fire: their jobs are only looked at (and the catch-ups called here)."""
    made = []

    def _make():
        scheduler = BackgroundScheduler(timezone=timezone.utc)
        scheduler.start(paused=True)
        made.append(scheduler)
        return scheduler
    yield _make
    for scheduler in made:
        scheduler.shutdown(wait=False)
