"""The in-process scheduler (APScheduler 3) that runs the profiles' scheduled jobs.

It runs in exactly one process: ``create_app`` starts it only when ``SCHEDULER_ENABLED`` is set,
never in the debug reloader's watcher process, and only in the process that holds the scheduler
lock (:mod:`.leadership`): ``instance/scheduler.lock`` on SQLite, a PostgreSQL advisory lock on
PostgreSQL, so gunicorn workers, a second app process or a second app server never run it twice.
The other processes say in the log which process runs it, and take over when it stops.

The database is the source of truth. A *reconcile* tick (every ``SCHEDULER_RECONCILE_SECONDS``)
reads the profile sections and adds, retimes or removes their jobs, so an administrator's switch
takes effect within seconds whichever worker served the click. The same tick starts the PO export
when sent POs are waiting, ends the runs whose process died (interrupted), and, at start-up, one
catch-up run for a section whose last scheduled tick passed without a run (missed runs are
coalesced into that one run) or whose scheduled run was interrupted.

Other jobs join through :func:`register`: a hook called on every reconcile tick that adds, retimes
or removes its own jobs (the vendors' EDI pickups, the institution's daily jobs: renewals,
packaging and the notification digest, :mod:`.daily`).
"""
from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

import click
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from tzlocal import get_localzone

from sqlalchemy.exc import OperationalError

from ..clock import utcnow
from ..database import is_busy_error, short_waits
from ..extensions import db
from ..text import T
from . import processes
from .leadership import AdvisoryLock, Elector, FileLock
from .models import JobRun, ProfileSection
from .runs import job_runner, naive_utc, record_skipped
from .schedules import previous_tick, trigger_for

log = logging.getLogger(__name__)
RECONCILE_ID = "reconcile"
HEARTBEAT_KEY = "scheduler_heartbeat"


# -- which process runs it ---------------------------------------------------------------------------

def should_start(app, dedicated: bool = False) -> bool:
    """True when this process won the scheduler lock (the caller then calls :func:`start`). A
    process that lost waits for the lock in the background and starts the scheduler when it wins.
    ``dedicated``: called by ``flask jobs scheduler``. Other command-line commands (``flask
    demo``, ``flask jobs run`` …) never start it; ``flask run`` and WSGI servers do when enabled."""
    if not (dedicated or app.config.get("SCHEDULER_ENABLED")):
        return False
    ctx = click.get_current_context(silent=True)
    if not dedicated and ctx is not None and not (ctx.info_name == "run" and ctx.parent is not None
                                                  and ctx.parent.parent is None):
        return False
    if app.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        return False   # the reloader's watcher: its child serves (and schedules)
    _make_visible()
    elector = Elector(_lock(app), float(app.config.get("SCHEDULER_LEADER_RETRY_SECONDS") or 10),
                      on_lead=lambda: start(app), on_lose=lambda: _shutdown(app))
    app.extensions["scheduler_elector"] = elector
    if elector.try_lead():
        return True
    log.info("scheduler not started in pid %s: %s runs it (it holds %s); this process takes over "
             "if it stops", os.getpid(), elector.lock.owner(), elector.lock)
    elector.watch()
    return False


def _lock(app):
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine.url)
    return FileLock(app.config.get("SCHEDULER_LOCK_FILE") or str(Path(app.instance_path) / "scheduler.lock"))


def _make_visible() -> None:
    """Under gunicorn or ``flask run`` no logging is configured, and an app logger's INFO lines go
    nowhere. Then the scheduler's go to stderr, in gunicorn's format (whose own handler we reuse
    when there is one). Logging configured by the operator (or pytest) is left alone."""
    if log.handlers or logging.getLogger().handlers:
        return
    ours = logging.getLogger("gunicorn.error").handlers
    if ours:
        handler = ours[0]
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s"))
    for name in (__name__, "app.integrations.leadership", "app.integrations.runs"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.propagate = False
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)


def start(app) -> BackgroundScheduler:
    """Start the scheduler in this process (which holds the scheduler lock)."""
    tz = app.config.get("SCHEDULER_TIMEZONE") or get_localzone()
    scheduler = BackgroundScheduler(timezone=tz, job_defaults={"coalesce": True, "max_instances": 1,
                                                               "misfire_grace_time": None})
    scheduler.app = app
    app.extensions["scheduler"] = scheduler
    app.extensions.pop("scheduler_reconciled", None)
    app.extensions.pop("scheduler_versions", None)
    scheduler.add_listener(lambda event: _record_skip(app, event), EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
    scheduler.add_job(reconcile, IntervalTrigger(seconds=app.config.get("SCHEDULER_RECONCILE_SECONDS", 5)),
                      args=[app], id=RECONCILE_ID, next_run_time=datetime.now(scheduler.timezone))
    from ..backup.runs import schedule_backup
    schedule_backup(app, scheduler)   # the daily backup at BACKUP_SCHEDULE
    from ..outgoing.runs import schedule_delivery
    schedule_delivery(app, scheduler)   # letters to vendors: retries, and what no kick delivered
    scheduler.start()
    atexit.register(lambda: scheduler.running and scheduler.shutdown(wait=False))
    elector = app.extensions.get("scheduler_elector")
    if elector is not None:
        elector.watch()
    log.info("scheduler started in pid %s on %s (it holds %s)", os.getpid(), processes.current().host,
             elector.lock if elector else "no lock")
    return scheduler


def _shutdown(app, wait: bool = False) -> None:
    # After a reconcile tick in progress: it looks jobs up, which APScheduler's shutdown(wait=True)
    # blocks while it waits for the running jobs (a deadlock); later ticks find no scheduler.
    with _state_lock:
        scheduler = app.extensions.pop("scheduler", None)
    if scheduler is not None and scheduler.running:
        scheduler.shutdown(wait=wait)


def stop(app) -> None:
    """Stop the scheduler and give up the lock (or stop waiting for it): tests, and a clean exit."""
    elector = app.extensions.pop("scheduler_elector", None)
    if elector is not None:
        elector.stop()   # no takeover from here on
    _shutdown(app, wait=True)
    if elector is not None:
        elector.lock.release()
        elector.leading = False


# -- the jobs the scheduler runs -----------------------------------------------------------------------

def run_section(app, job: str, profile_code: str, trigger: str = "schedule") -> None:
    """What APScheduler calls: the job's ``run`` with the tick it belongs to (so two schedulers
    can never both record one tick: job_run has a unique (job, profile, scheduled_for))."""
    now = utcnow(aware=True)
    with app.app_context():
        section = _section(job, profile_code)
        tick = previous_tick(app, section, now) if section is not None and trigger == "schedule" else None
    scheduled_for = naive_utc(tick) if tick else naive_utc(now).replace(microsecond=0)
    try:
        job_runner(app, job)(app, profile_code, trigger=trigger, scheduled_for=scheduled_for)
    except Exception:  # a job must never take the scheduler down
        log.exception("scheduled %s of %s failed to start", job, profile_code)


def _section(job: str, profile_code: str) -> ProfileSection | None:
    from .models import IntegrationProfile
    return db.session.scalar(db.select(ProfileSection).join(IntegrationProfile)
                             .where(ProfileSection.job == job, IntegrationProfile.code == profile_code))


_state_lock = threading.Lock()
_busy_ticks = [0]   # reconcile ticks in a row that found the database busy

Hook = Callable[..., None]
HOOKS: list[Hook] = []


def register(hook: Hook) -> Hook:
    """Add ``hook(app, scheduler, known, wanted)`` to every reconcile tick. It adds or retimes its
    jobs (``scheduler.add_job(..., id=job_id, replace_existing=True)`` when ``known[job_id]``
    differs from the version it wants) and puts each job it wants into ``wanted`` (job id ->
    version); the reconcile removes the jobs no hook wants any more. Usable as a decorator."""
    if hook not in HOOKS:
        HOOKS.append(hook)
    return hook


@register
def _edi_pickups(app, scheduler, known: dict, wanted: dict) -> None:
    """The vendors' EDI pickups (app.integrations.edi.services); their catch-up at the first tick."""
    from .edi.services import schedule_edi_jobs
    schedule_edi_jobs(app, scheduler, known, wanted, first=not app.extensions.get("scheduler_reconciled"))


@register
def _daily_jobs(app, scheduler, known: dict, wanted: dict) -> None:
    """The institution's daily jobs (renewals, packaging, the digest; app.integrations.daily);
    their catch-up at the first tick."""
    from .daily import schedule_daily_jobs
    schedule_daily_jobs(app, scheduler, known, wanted, first=not app.extensions.get("scheduler_reconciled"))


def reconcile(app) -> None:
    """Make the scheduler's jobs match the database (and start waiting PO exports). A busy
    database is no failure: the tick waits only briefly, says so in one log line (no traceback,
    once per busy spell) and the next tick tries again."""
    with _state_lock, app.app_context():
        scheduler = app.extensions.get("scheduler")
        if scheduler is None:
            return
        token = short_waits.set(True)
        try:
            _reconcile(app, scheduler)
            if _busy_ticks[0]:
                log.info("scheduler reconcile done again after %s busy tick(s)", _busy_ticks[0])
                _busy_ticks[0] = 0
        except OperationalError as exc:
            db.session.rollback()
            if not is_busy_error(exc):
                log.exception("scheduler reconcile failed")
            else:
                _busy_ticks[0] += 1
                if _busy_ticks[0] == 1:
                    log.warning("scheduler reconcile: the database is busy (%s); trying again at the next tick",
                                str(getattr(exc, "orig", exc)).splitlines()[0])
        except Exception:
            log.exception("scheduler reconcile failed")
        finally:
            short_waits.reset(token)
            db.session.remove()


def _reconcile(app, scheduler) -> None:
    from .models import IntegrationProfile
    from .runs import interrupt_dead_runs
    first = not app.extensions.get("scheduler_reconciled")
    interrupt_dead_runs()   # of any job: the next run of theirs must not wait
    db.session.commit()
    tz = scheduler.timezone
    override = app.config.get("SCHEDULE_INTERVAL_OVERRIDE_SECONDS")
    known = app.extensions.setdefault("scheduler_versions", {})
    wanted = {}
    rows = db.session.execute(db.select(ProfileSection, IntegrationProfile.code).join(IntegrationProfile)).all()
    now = utcnow(aware=True)
    for section, code in rows:
        trig = trigger_for(section, tz, override)
        if trig is None:
            continue
        job_id = f"section-{section.id}"
        wanted[job_id] = section.version
        if known.get(job_id) != section.version or scheduler.get_job(job_id) is None:
            scheduler.add_job(run_section, trig, args=[app, section.job, code], id=job_id, replace_existing=True,
                              name=f"{code}: {section.label}")
            known[job_id] = section.version
        if first and _missed(app, section, code, now):
            scheduler.add_job(run_section, "date", args=[app, section.job, code, "catch_up"],
                              id=f"catch-up-{section.id}", replace_existing=True, run_date=now)
    for hook in HOOKS:
        hook(app, scheduler, known, wanted)
    for job_id in list(known):
        if job_id not in wanted:
            if scheduler.get_job(job_id) is not None:
                scheduler.remove_job(job_id)
            known.pop(job_id)
    _start_order_exports(app, scheduler, rows)
    _heartbeat()
    app.extensions["scheduler_reconciled"] = True


def _missed(app, section: ProfileSection, code: str, now: datetime) -> bool:
    """A tick passed (while no scheduler ran) after the section was last changed, and no run
    followed it, or its run was interrupted: one catch-up run covers all the ticks missed (an
    interrupted catch-up is not caught up again: a job that kills its process does not loop)."""
    tick = previous_tick(app, section, now)
    if tick is None:
        return False
    tick_utc = naive_utc(tick)
    if section.updated_at and section.updated_at > tick_utc:
        return False
    last = db.session.scalar(db.select(db.func.max(JobRun.started_at))
                             .where(JobRun.job == section.job, JobRun.profile_id == section.profile_id,
                                    JobRun.trigger.in_(("schedule", "catch_up")),
                                    db.or_(JobRun.interrupted.is_(False), JobRun.trigger == "catch_up")))
    return last is None or last < tick_utc


def _start_order_exports(app, scheduler, rows) -> None:
    """Sent POs are exported as soon as they are queued (the PO export has no schedule); after a
    failed run, wait ``ERP_ORDER_RETRY_SECONDS`` before trying again."""
    try:
        from .order_export import pending_orders
    except ImportError:
        return
    retry = timedelta(seconds=app.config.get("ERP_ORDER_RETRY_SECONDS", 60))
    for section, code in rows:
        if section.job != "export_orders" or not section.active or not section.path:
            continue
        job_id = f"orders-{section.id}"
        if scheduler.get_job(job_id) is not None:
            continue
        last = db.session.scalar(db.select(JobRun).where(JobRun.job == "export_orders",
                                                         JobRun.profile_id == section.profile_id)
                                 .order_by(JobRun.id.desc()).limit(1))
        if last is not None and (last.status == "running" or
                                 (last.status == "failed" and utcnow() - (last.ended_at or last.started_at) < retry)):
            continue
        if pending_orders(section.profile):
            scheduler.add_job(run_section, "date", args=[app, "export_orders", code, "event"], id=job_id,
                              run_date=utcnow(aware=True))


def _heartbeat() -> None:
    from ..invoices.models import Setting
    row = db.session.get(Setting, HEARTBEAT_KEY)
    value = {"pid": os.getpid(), "host": processes.current().host, "at": utcnow().isoformat(timespec="seconds")}
    if row is None:
        db.session.add(Setting(key=HEARTBEAT_KEY, value=value))
    else:
        row.value = value
    db.session.commit()


def heartbeat() -> dict | None:
    """The scheduler process's last sign of life: {"pid", "at" (naive UTC), "age" (seconds)}."""
    from ..invoices.models import Setting
    row = db.session.get(Setting, HEARTBEAT_KEY)
    if row is None:
        return None
    at = datetime.fromisoformat(row.value["at"])
    return {"pid": row.value.get("pid"), "host": row.value.get("host"), "at": at,
            "age": (utcnow() - at).total_seconds()}


def _event_tick(event) -> datetime | None:
    """The tick an APScheduler event is about: a missed job's ``scheduled_run_time``, or the last of
    the ``scheduled_run_times`` a job still running could not take."""
    when = getattr(event, "scheduled_run_time", None)
    if when is None:
        times = getattr(event, "scheduled_run_times", None) or ()
        when = max(times) if times else None
    return when


def _record_skip(app, event) -> None:
    """A tick that could not run (the previous run still going, or missed) is recorded, not silent."""
    if str(event.job_id).startswith("edi-"):
        from .edi.services import record_skip
        record_skip(app, event.job_id, T("the previous fetch is still going") if event.code == EVENT_JOB_MAX_INSTANCES
                    else T("the tick was missed"), _event_tick(event))
        return
    if not str(event.job_id).startswith("section-"):
        return
    with app.app_context():
        try:
            section = db.session.get(ProfileSection, int(event.job_id.split("-", 1)[1]))
            if section is None:
                return
            reason = (T("the previous run is still going") if event.code == EVENT_JOB_MAX_INSTANCES
                      else T("the tick was missed"))
            record_skipped(section.job, section.profile_id, section.profile.code, _event_tick(event), reason)
        except Exception:
            db.session.rollback()
            log.exception("could not record a skipped tick")
        finally:
            db.session.remove()
