"""Finding 1 of issue 12: the scheduler's reconcile tick survives a busy database: it waits only
briefly, logs one line without a traceback for the whole busy spell, and the next tick after the
lock is gone does its work."""
from __future__ import annotations

import logging
import sqlite3
import time

from apscheduler.schedulers.background import BackgroundScheduler

from app.extensions import db
from app.integrations import scheduler


def test_H12_01_reconcile_survives_a_busy_database_and_retries_next_tick(make_app, caplog, monkeypatch):
    app = make_app("sqlite", SQLITE_BUSY_TIMEOUT_MS=100)
    monkeypatch.setattr(scheduler, "_busy_ticks", [0], raising=False)
    monkeypatch.setattr(scheduler.log, "disabled", False)   # Alembic's logging setup disables existing loggers
    app.extensions["scheduler"] = BackgroundScheduler(timezone="UTC")   # never started: holds the jobs only
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")   # a long write elsewhere holds the lock
    caplog.set_level(logging.INFO, logger=scheduler.log.name)
    try:
        for _ in range(3):
            started = time.monotonic()
            scheduler.reconcile(app)   # raises nothing
            assert time.monotonic() - started < 10   # a short wait, not a job's patient one
    finally:
        holder.rollback()
        holder.close()
    records = [r for r in caplog.records if r.name == scheduler.log.name]
    assert [r.levelname for r in records] == ["WARNING"], [r.getMessage() for r in records]
    assert "database is busy" in records[0].getMessage() and records[0].exc_info is None
    assert not app.extensions.get("scheduler_reconciled")

    scheduler.reconcile(app)   # the next tick once the lock is gone
    assert app.extensions.get("scheduler_reconciled")
    assert "after 3 busy tick(s)" in caplog.records[-1].getMessage()
    with app.app_context():
        assert scheduler.heartbeat() is not None
        db.session.rollback()
