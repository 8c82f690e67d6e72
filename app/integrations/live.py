"""Live progress of the runs this process is running: run id -> (step, done, total).

A run that commits only at its end (the fiscal-year rollover: all of it in one transaction) cannot
show its progress through its :class:`~app.integrations.models.JobRun` row while it works: on
SQLite its transaction holds the write lock, so nothing else commits. It tells this registry
instead, and the pages served by the same process (Monitor Jobs, the page that started the run)
read it through ``JobRun.live_progress``. Pure: no Flask, no database.
"""
from __future__ import annotations

import threading

_lock = threading.Lock()
_runs: dict[int, tuple[str, int, int | None]] = {}


def report(run_id: int, step: str, done: int, total: int | None) -> None:
    with _lock:
        _runs[run_id] = (step, done, total)


def of(run_id: int) -> tuple[str, int, int | None] | None:
    with _lock:
        return _runs.get(run_id)


def forget(run_id: int) -> None:
    with _lock:
        _runs.pop(run_id, None)
