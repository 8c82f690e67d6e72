"""The institution's daily jobs: renewals, packaging and the notification digest, each at a time of
day set on the Institution page (``renewals_at``, ``packaging_at``, ``digest_at``; "" = not
scheduled), as runs of no profile on Monitor Jobs.

A run of a daily job is one per tick: the run row carries the tick it belongs to
(``scheduled_for``) and is inserted only when no run of that job and trigger has it, in one step
(PostgreSQL: an advisory lock per job; SQLite: the write lock taken at BEGIN). Two schedulers, a
double start or a scheduled run meeting a catch-up of the same tick give one run. A run finding
another of the same job alive is recorded as *skipped*. When the scheduler starts after a tick
passed without a run (the app was down), one catch-up run covers it: only the last day counts,
however long the downtime. The CLI commands run the same bodies with trigger "cli".
"""
from __future__ import annotations

import logging
import zlib
from datetime import date, datetime, timezone
from typing import Callable

from sqlalchemy import select, text

from .. import clock
from ..auth.models import Role, User
from ..auth.permissions import require_institution_role
from ..clock import utcnow
from ..database import is_postgres, write_intent
from ..errors import DomainError, InvalidInput
from ..extensions import db
from ..org.models import Institution
from ..text import T
from .models import JobRun
from .runs import RunLog, naive_utc, new_run, system_actor, unexpected
from .schedules import daily_next, daily_previous, daily_trigger

log = logging.getLogger(__name__)

# job -> the Institution column with its time of day
DAILY = {"renewals": "renewals_at", "package_orders": "packaging_at", "digest": "digest_at"}
TIME_LABELS = {"renewals_at": T("Process renewals"), "packaging_at": T("Package and send orders"),
               "digest_at": T("Daily digest of notifications")}
Body = Callable[[RunLog, User, date], str]


def _bodies() -> dict[str, Body]:
    from ..notifications import digest
    from ..orders import package_run, renewal_run
    return {"renewals": renewal_run.body, "package_orders": package_run.daily_body, "digest": digest.body}


def _tz(app):
    return app.config.get("SCHEDULER_TIMEZONE") or _local()


def _local():
    from tzlocal import get_localzone
    return get_localzone()


def time_of(job: str) -> str:
    inst = Institution.current()
    return (getattr(inst, DAILY[job]) or "").strip() if inst is not None else ""


def next_time(app, job: str, now: datetime | None = None) -> datetime | None:
    """When ``job`` runs next (aware, in the scheduler's zone); None when not scheduled."""
    return daily_next(time_of(job), _tz(app), now or utcnow(aware=True))


# -- the Institution page's times ------------------------------------------------------------------------

def set_times(actor, inst: Institution, times: dict[str, str]) -> Institution:
    """Save the daily jobs' times of day (column -> "HH:MM" or "" for not scheduled)."""
    require_institution_role(actor, {Role.ADMIN}, "set when the daily jobs run")
    for column, value in times.items():
        if column not in TIME_LABELS:
            raise InvalidInput(T("Unknown daily job time %(column)s.", column=repr(column)), column)
        value = (value or "").strip()
        if value and daily_trigger(value, timezone.utc) is None:
            raise InvalidInput(T("%(job)s: give a time of day as HH:MM (24 hours), or leave it empty for not "
                                 "scheduled.", job=TIME_LABELS[column]), column)
        if value and len(value) == 4:
            value = "0" + value
        setattr(inst, column, value)
    db.session.flush()
    return inst


# -- one run ---------------------------------------------------------------------------------------------

def run_daily(app, job: str, trigger: str = "schedule", scheduled_for: datetime | None = None,
              actor_id: int | None = None, today: date | None = None) -> int | None:
    """Run daily job ``job`` as a run on Monitor Jobs; its id, or None when this tick already has
    its run."""
    if job not in DAILY:
        raise ValueError(f"unknown daily job {job!r}")
    with app.app_context():
        token = write_intent.set(True)
        try:
            actor = db.session.get(User, actor_id) if actor_id else system_actor()
            run = _start(job, trigger, scheduled_for, actor)
            if run is None or run.status != "running":
                return run.id if run is not None else None
            return _execute(job, run, actor, today or clock.today())
        finally:
            write_intent.reset(token)
            db.session.remove()


def _start(job: str, trigger: str, scheduled_for: datetime | None, actor: User) -> JobRun | None:
    db.session.commit()   # the next statement begins the transaction that takes the write lock
    if is_postgres(db.session):
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                           {"key": zlib.crc32(f"acquisitions: daily {job}".encode())})
    # A tick has its run once, whatever started it (the scheduled time, a catch-up); a run that was
    # interrupted or skipped leaves the tick to a catch-up.
    if scheduled_for is not None and db.session.scalar(
            select(JobRun.id).where(JobRun.job == job, JobRun.scheduled_for == scheduled_for,
                                    JobRun.status != "skipped", JobRun.interrupted.is_(False)).limit(1)):
        db.session.commit()
        return None
    return new_run(job, "", actor, trigger, scheduled_for, "this job", any_owner=True)   # a page's run too


def _execute(job: str, run: JobRun, actor: User, today: date) -> int:
    run_log = RunLog(run)
    try:
        message = _bodies()[job](run_log, actor, today)
    except DomainError as exc:
        run_log.rollback()
        run_log.error(exc.text)
        run_log.finish("failed", exc.text)
    except Exception as exc:  # the run must end visibly whatever happened
        log.exception("daily job %s, run #%s, failed", job, run_log.run_id)
        run_log.rollback()
        message = unexpected(exc)
        run_log.error(message)
        run_log.finish("failed", message)
    else:
        run_log.finish("completed", message)
    return run_log.run_id


# -- the scheduler ---------------------------------------------------------------------------------------

def scheduled(app, job: str, trigger: str = "schedule", tick: datetime | None = None) -> int | None:
    """What APScheduler calls at the job's time (and for a catch-up, with the missed ``tick``)."""
    try:
        if tick is None:
            with app.app_context():
                at = time_of(job)
                db.session.remove()
            tick = daily_previous(at, _tz(app), utcnow(aware=True))
            if tick is None:
                return None   # the time was changed (or cleared) since this job fired
        return run_daily(app, job, trigger=trigger, scheduled_for=naive_utc(tick).replace(second=0, microsecond=0))
    except Exception:  # a job must never take the scheduler down
        log.exception("daily job %s failed to start", job)
        return None


def missed(app, job: str, now: datetime | None = None) -> datetime | None:
    """The tick (aware) a catch-up run is due for: the job's last tick in the last day passed with
    no run of the schedule (or a catch-up, or the command line) since, or its scheduled run was
    interrupted. An interrupted catch-up is not caught up again."""
    now = now or utcnow(aware=True)
    tick = daily_previous(time_of(job), _tz(app), now)
    if tick is None:
        return None
    last = db.session.scalar(select(db.func.max(JobRun.started_at)).where(
        JobRun.job == job, JobRun.trigger.in_(("schedule", "catch_up", "cli")), JobRun.status != "skipped",
        db.or_(JobRun.interrupted.is_(False), JobRun.trigger == "catch_up")))
    return tick if last is None or last < naive_utc(tick) else None


def schedule_daily_jobs(app, scheduler, known: dict, wanted: dict, first: bool) -> None:
    """The reconcile hook: one APScheduler job per scheduled daily job (retimed when its time
    changes), and at the scheduler's first tick one catch-up run for each that missed its tick."""
    now = utcnow(aware=True)
    for job in DAILY:
        at = time_of(job)
        trig = daily_trigger(at, scheduler.timezone)
        if trig is None:
            continue
        job_id = f"daily-{job}"
        wanted[job_id] = at
        if known.get(job_id) != at or scheduler.get_job(job_id) is None:
            scheduler.add_job(scheduled, trig, args=[app, job], id=job_id, replace_existing=True,
                              name=TIME_LABELS[DAILY[job]])
            known[job_id] = at
        if first:
            tick = missed(app, job, now)
            if tick is not None:
                scheduler.add_job(scheduled, "date", args=[app, job, "catch_up", tick], id=f"catch-up-{job_id}",
                                  replace_existing=True, run_date=now)
