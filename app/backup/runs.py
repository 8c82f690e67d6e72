"""A backup as a run on Monitor Jobs (``JobRun`` with job ``backup``), and the scheduler's daily
backup at ``BACKUP_SCHEDULE`` keeping the newest ``BACKUP_KEEP`` archives."""
from __future__ import annotations

import logging
import re
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger
from flask import current_app
from tzlocal import get_localzone
from sqlalchemy.exc import OperationalError

from ..clock import utcnow
from ..database import is_busy_error, write_intent
from ..extensions import db
from ..integrations.models import JobEvent, JobRun
from . import BackupError
from ..text import T
from .archive import backup_lock, create_backup

log = logging.getLogger(__name__)
JOB = "backup"
SCHEDULER_JOB_ID = "backup"
RECORD_PATIENCE_SECONDS = 300
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def run_backup(app, trigger: str = "schedule", folder: str | Path | None = None, keep: int | None = None,
               scheduled_for: datetime | None = None) -> int | None:
    """Take a backup as a ``JobRun``; returns the run's id (None when another scheduler already
    took this tick). ``keep``: prune to the newest N archives afterwards (the scheduled run uses
    ``BACKUP_KEEP``)."""
    with app.app_context():
        token = write_intent.set(False)   # reads never queue for SQLite's write lock; _record writes
        try:
            return _run(trigger, folder, keep, scheduled_for)
        finally:
            write_intent.reset(token)
            db.session.remove()


def _record(change) -> int:
    """Run ``change()`` (which returns the run row it added or changed) and commit. A backup's
    bookkeeping waits out busy writers past SQLite's busy timeout: an archive that was written
    must not go unrecorded because others kept the write lock."""
    deadline = time.monotonic() + RECORD_PATIENCE_SECONDS
    db.session.commit()   # the write opens its own (immediate) transaction
    token = write_intent.set(True)
    try:
        while True:
            try:
                run = change()
                db.session.commit()
                return run.id
            except OperationalError as exc:
                db.session.rollback()
                if not is_busy_error(exc) or time.monotonic() > deadline:
                    raise
    finally:
        write_intent.reset(token)


def _new_run(trigger, scheduled_for, **fields) -> JobRun:
    run = JobRun(job=JOB, profile_id=None, profile_code="", trigger=trigger, scheduled_for=scheduled_for,
                 **fields)
    db.session.add(run)
    db.session.flush()
    return run


def _run(trigger, folder, keep, scheduled_for) -> int | None:
    if trigger == "schedule":
        if scheduled_for is None:
            scheduled_for = utcnow().replace(second=0, microsecond=0)
        if keep is None:
            keep = current_app.config.get("BACKUP_KEEP")
        if db.session.scalar(db.select(JobRun.id).filter_by(job=JOB, scheduled_for=scheduled_for)):
            return None
    db.session.commit()   # no transaction of ours stays open while the database is copied
    started = utcnow()
    with ExitStack() as held:
        try:
            held.enter_context(backup_lock())
        except BackupError as exc:
            message = T("Not started: %(reason)s", reason=exc.message)

            def skipped():
                run = _new_run(trigger, scheduled_for, status="skipped", ended_at=utcnow())
                run.say(message)
                db.session.add(JobEvent.of(run.id, "warning", message))
                return run
            return _record(skipped)
        events: list[tuple[str, str]] = []
        run_id = None

        def running(_snapshot) -> int:
            """Recorded once the copy is taken (so the copy never waits for the write lock)."""
            def change():
                # Holding the lock, any backup still marked running has lost its process.
                for stale in db.session.scalars(db.select(JobRun).filter_by(job=JOB, status="running")):
                    stale.status, stale.ended_at, stale.interrupted = "failed", utcnow(), True
                    message = T("Interrupted: the process running it stopped.")
                    stale.say(message)
                    db.session.add(JobEvent.of(stale.id, "error", message))
                return _new_run(trigger, scheduled_for, started_at=started, heartbeat_at=utcnow())
            nonlocal run_id
            run_id = _record(change)
            return run_id

        try:
            result = create_backup(folder, keep, note=lambda text: events.append(("info", text)), on_copied=running)
        except Exception as exc:  # the run must end visibly whatever happened
            if isinstance(exc, BackupError):
                message = exc.message
            else:
                log.exception("backup failed")
                message = T("Unexpected error: %(error)s", error=f"{type(exc).__name__}: {exc}")
            db.session.rollback()
            events.append(("error", message))
            status, files, records = "failed", 0, 0
        else:
            if result.removed:
                message = T("%(name)s (%(size)s bytes) in %(folder)s. %(removed)s older archive(s) removed.",
                            name=result.path.name, size=f"{result.size:,}", folder=str(result.path.parent),
                            removed=len(result.removed))
            else:
                message = T("%(name)s (%(size)s bytes) in %(folder)s.", name=result.path.name,
                            size=f"{result.size:,}", folder=str(result.path.parent))
            status, files, records = "completed", len(result.files), sum(result.manifest["row_counts"].values())

        def finish():
            run = db.session.get(JobRun, run_id) if run_id else _new_run(trigger, scheduled_for, started_at=started)
            run.status, run.ended_at = status, utcnow()
            run.say(message)
            run.files, run.records, run.heartbeat_at = files, records, utcnow()
            for level, text in events:
                db.session.add(JobEvent.of(run.id, level, text))
            return run
        return _record(finish)


# -- the scheduler's daily backup ----------------------------------------------------------------------

def schedule_time(app) -> tuple[int, int] | None:
    """(hour, minute) of ``BACKUP_SCHEDULE`` ("HH:MM"; empty or None: no scheduled backup)."""
    value = (app.config.get("BACKUP_SCHEDULE") or "").strip()
    if not value:
        return None
    match = _TIME.match(value)
    if not match:
        raise ValueError(f"BACKUP_SCHEDULE must be a time of day HH:MM (or empty for none), not {value!r}.")
    return int(match.group(1)), int(match.group(2))


def _trigger(app, tz) -> CronTrigger | None:
    when = schedule_time(app)
    return CronTrigger(hour=when[0], minute=when[1], timezone=tz) if when else None


def schedule_backup(app, scheduler) -> None:
    """Add the daily backup to ``scheduler`` (called once when the scheduler starts)."""
    trigger = _trigger(app, scheduler.timezone)
    if trigger is not None:
        scheduler.add_job(run_backup, trigger, args=[app], kwargs={"trigger": "schedule"}, id=SCHEDULER_JOB_ID,
                          replace_existing=True, name="Daily backup")


def next_backup(app, now: datetime | None = None) -> datetime | None:
    """When the daily backup runs next (for Monitor Jobs); None when none is scheduled."""
    try:
        trigger = _trigger(app, app.config.get("SCHEDULER_TIMEZONE") or get_localzone())
    except ValueError:
        return None
    if trigger is None:
        return None
    now = now or utcnow(aware=True)
    return trigger.get_next_fire_time(None, now.astimezone(trigger.timezone))
