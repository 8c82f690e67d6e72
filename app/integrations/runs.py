"""Running a job of a profile: one :class:`JobRun` row per run, its events, counters and progress,
and the guard that never lets two runs of one job of one profile overlap.

Every job (scheduler, "Run now" button, ``flask jobs run``, tests) goes through :func:`execute`
with a body ``body(ctx: JobContext)``. The body commits its units of work with ``ctx.log.commit()``
(events and counters are written in the same transaction as the work they describe) and undoes a
unit with ``ctx.log.rollback()`` (its events and counts go too). An exception that escapes the
body rolls back the unfinished unit and ends the run as *failed* with the reason as an event.

A run records the process running it (:mod:`.processes`). When a run of the same job is found
"running" but its process is gone (killed, crashed, server restarted), it is marked *interrupted*
at once, with an event saying so, and the new run starts: a crash never blocks the next runs. A run
owned by another host cannot be looked up; it counts as interrupted after ``STALE_AFTER`` without a
heartbeat (every commit of the run is one).
"""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from ..auth.models import User
from ..clock import utcnow
from ..auth.services import service_user
from ..database import write_intent
from ..errors import NotFound, RuleViolation
from ..extensions import db
from ..text import T, Text, stored
from . import processes
from .models import JOBS, IntegrationProfile, JobEvent, JobRun, ProfileSection
from .transport import TransferError, open_transport, settled

log = logging.getLogger(__name__)

SYSTEM_USERNAME = "erp-integration"
STALE_AFTER = timedelta(minutes=15)   # a run of another host without a heartbeat for this long was interrupted
AUTOMATIC_TRIGGERS = frozenset({"schedule", "catch_up", "event"})
# What "Not started: run #N of …" names (new_run's ``what``).
WHAT = {"this job": T("this job"), "this fetch": T("this fetch")}


# Where a run's outcome is shown beyond Monitor Jobs: job -> function(run) -> (label, url) or None,
# registered by the domain whose runs they are (app.funds.runs: a rollover's stored report).
RESULT_LINKS: dict[str, Callable[[JobRun], tuple[str, str] | None]] = {}


def result_link(run: JobRun) -> tuple[str, str] | None:
    """``(label, url)`` of the page showing what ``run`` did, when its job has one."""
    found = RESULT_LINKS.get(run.job)
    return found(run) if found is not None else None


class JobRefused(Exception):
    """The job cannot start (unknown profile, section not configured); the message says why
    (``text``: as given, a :class:`~app.text.Text` to record)."""

    @property
    def text(self):
        return self.args[0] if self.args else ""


def message_of(exc: Exception):
    """What to record of ``exc``: its Text when it has one (shown translated later), else its words."""
    text = getattr(exc, "text", None)
    if isinstance(text, Text):
        return text
    if exc.args and isinstance(exc.args[0], Text):
        return exc.args[0]
    return str(exc)


def unexpected(exc: Exception) -> Text:
    """The run's message for an error nobody foresaw (its type and words stay as Python says them)."""
    return T("Unexpected error: %(error)s", error=f"{type(exc).__name__}: {exc}")


def job_runner(app, job: str) -> Callable[..., int | None]:
    """The ``run`` of ``job`` among the jobs handed to ``create_app`` (``jobs.JOBS``): the one
    function the scheduler, the "Run now" and "Fetch now" buttons, ``flask jobs run`` and the
    tests call."""
    try:
        return app.extensions["jobs"][job]
    except KeyError:
        raise JobRefused(T("Job %(job)s is not among the jobs this app was created with.", job=repr(job))) from None


def system_actor() -> User:
    """The user scheduled runs act as: an institution administrator that cannot log in."""
    return service_user(SYSTEM_USERNAME, "ERP integration")


@dataclass
class _Pending:
    level: str
    message: str
    file_name: str
    record: str
    at: datetime = field(default_factory=utcnow)


class RunLog:
    """Events, counters and progress of one run, written at the job's commit points."""

    def __init__(self, run: JobRun):
        self.run_id = run.id
        self.files = self.records = self.records_failed = 0
        self.not_applied = 0   # records without a problem of their own, refused with their file
        self.done = 0
        self.total: int | None = None
        self._pending: list[_Pending] = []
        self._saved = (0, 0, 0, 0, None, 0)
        self.notes: list[str] = []   # added to the run's report line (e.g. "more remain: run again")

    # recording
    def info(self, message: str, file: str = "", record: str = "") -> None:
        self._pending.append(_Pending("info", message, file, record))

    def warning(self, message: str, file: str = "", record: str = "") -> None:
        self._pending.append(_Pending("warning", message, file, record))

    def error(self, message: str, file: str = "", record: str = "") -> None:
        self._pending.append(_Pending("error", message, file, record))

    def note(self, text: str) -> None:
        """A sentence for the run's report line on Monitor Jobs."""
        self.notes.append(text)

    def count(self, files: int = 0, records: int = 0, failed: int = 0, not_applied: int = 0) -> None:
        """``failed``: records refused for a problem of their own; ``not_applied``: good records
        refused with them (a file loaded all or nothing)."""
        self.files += files
        self.records += records
        self.records_failed += failed
        self.not_applied += not_applied

    @property
    def applied_nothing(self) -> bool:
        """Every record (or the only file) was refused: the run changed nothing it was given."""
        return self.records_failed > 0 and self.records_failed + self.not_applied >= self.records

    def progress(self, done: int, total: int | None = None) -> None:
        self.done = done
        if total is not None:
            self.total = total

    # commit points
    def _write(self, status: str | None = None, message: str | None = None) -> JobRun:
        run = db.session.get(JobRun, self.run_id)
        if self._pending:   # one INSERT: a bulk job records an event per record
            db.session.execute(insert(JobEvent), [
                dict(run_id=self.run_id, at=p.at, level=p.level, message=p.message[:4000], text=stored(p.message),
                     file_name=p.file_name[:255], record=p.record[:255]) for p in self._pending])
        self._pending = []
        run.files, run.records, run.records_failed = self.files, self.records, self.records_failed
        run.progress_done, run.progress_total = self.done, self.total
        run.heartbeat_at = utcnow()
        if status:
            run.status, run.ended_at = status, utcnow()
        if message is not None:
            run.say(message)
        return run

    def commit(self) -> None:
        """Commit the unit of work with its events and counters."""
        self._write()
        db.session.commit()
        self._saved = (self.files, self.records, self.records_failed, self.done, self.total, self.not_applied)

    def rollback(self) -> None:
        """Undo the unit of work: its events and counts are dropped with it."""
        db.session.rollback()
        self._pending = []
        self.files, self.records, self.records_failed, self.done, self.total, self.not_applied = self._saved

    def finish(self, status: str, message: str = "", *, refusals_fail: bool = True) -> None:
        """``completed`` becomes ``failed`` when the run applied nothing because every record it
        was given was refused (Monitor Jobs shows it red, and the failure notice goes out).
        ``refusals_fail=False``: a job whose failed records wait to be tried again (letters not
        yet delivered) is never failed for them alone."""
        if status == "completed" and refusals_fail and self.applied_nothing:
            status = "failed"
        run = self._write(status, message)
        tell_ended(run)
        db.session.commit()


def settled_inputs(ctx: "JobContext", files: list) -> list:
    """The input files to take now: one written in the last ``ERP_IMPORT_MIN_AGE_SECONDS`` (perhaps
    still being uploaded) is left for the next run, and the run says so."""
    from flask import current_app
    ready, fresh = settled(files, float(current_app.config.get("ERP_IMPORT_MIN_AGE_SECONDS", 10)))
    for f in fresh:
        ctx.log.info(T("Left %(name)s for the next run: it was written moments ago (perhaps still being "
                       "uploaded).", name=f.name), file=f.name)
    return ready


@dataclass
class JobContext:
    run: JobRun
    profile: IntegrationProfile
    section: ProfileSection
    actor: User
    log: RunLog
    options: dict = field(default_factory=dict)

    @property
    def folder(self) -> str:
        return self.section.path

    @contextmanager
    def transport(self):
        with open_transport(self.profile.connection) as t:
            yield t


def tell_ended(run: JobRun) -> None:
    """The job-end e-mail of ``run``'s profile (:mod:`app.notifications.job_mail`), in the
    transaction that ends the run. A failure to tell never keeps a run from ending: it is logged."""
    if run.profile_id is None:
        return
    from ..notifications.job_mail import run_ended
    try:
        with db.session.begin_nested():
            run_ended(run)
    except Exception:  # noqa: BLE001 (the run's end matters more than its e-mail)
        log.exception("could not tell the recipients that run #%s ended", run.id)


def owner_gone(run: JobRun) -> bool:
    """The process running ``run`` has ended (looked up on this host; elsewhere, by the heartbeat)."""
    gone = processes.is_gone(run.owner_host, run.owner_pid, run.owner_mark)
    if gone is None:
        return (run.heartbeat_at or run.started_at) < utcnow() - STALE_AFTER
    return gone


def claim(run: JobRun) -> None:
    """This process runs ``run`` (created by another, say a web request): it becomes its owner."""
    me = processes.current()
    run.owner_host, run.owner_pid, run.owner_mark = me.host, me.pid, me.mark


def interrupt_dead_runs(**where) -> list[int]:
    """Mark as interrupted every running run (of ``where``: job, profile_id, profile_code …) whose
    process is gone; their ids. The caller commits."""
    ended = []
    for run in db.session.scalars(db.select(JobRun).filter_by(status="running", **where).order_by(JobRun.id)).all():
        if not owner_gone(run):
            continue
        # Lock it and look again: another process may be ending it at this moment (PostgreSQL).
        run = db.session.scalar(db.select(JobRun).filter_by(id=run.id, status="running").with_for_update()
                                .execution_options(populate_existing=True))
        if run is None:
            continue
        last = (run.heartbeat_at or run.started_at).isoformat(sep=" ", timespec="seconds")
        owner = f"pid {run.owner_pid} on {run.owner_host}" if run.owner_pid else "the process running it"
        run.status, run.ended_at, run.interrupted = "failed", utcnow(), True
        if run.owner_pid:
            message = T("Interrupted: pid %(pid)s on %(host)s stopped before the run ended (last sign of life "
                        "%(last)s UTC). What it had committed is kept; a new run can start now.",
                        pid=run.owner_pid, host=run.owner_host, last=last)
        else:
            message = T("Interrupted: the process running it stopped before the run ended (last sign of life "
                        "%(last)s UTC). What it had committed is kept; a new run can start now.", last=last)
        run.say(message)
        db.session.add(JobEvent.of(run.id, "error", message))
        log.warning("run #%s (%s of %s) interrupted: %s is gone", run.id, run.job, run.profile_code, owner)
        tell_ended(run)
        ended.append(run.id)
    return ended


def naive_utc(moment: datetime) -> datetime:
    """An aware moment as the naive UTC the runs store."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def record_skipped(job: str, profile_id: int | None, profile_code: str, when: datetime | None, reason: str) -> None:
    """A scheduler tick of ``job`` that did not start (``when``: its time, aware), as a *skipped*
    run with a warning saying why; committed."""
    message = T("Not started: %(reason)s.", reason=reason)
    run = JobRun(job=job, profile_id=profile_id, profile_code=profile_code, trigger="schedule", status="skipped",
                 ended_at=utcnow(), scheduled_for=naive_utc(when) if when else None)
    run.say(message)
    db.session.add(run)
    db.session.flush()
    db.session.add(JobEvent.of(run.id, "warning", message))
    db.session.commit()


def new_run(job: str, owner: str, actor: User, trigger: str, scheduled_for: datetime | None, what: str,
            any_owner: bool = False) -> JobRun:
    """A new run of ``job`` for ``owner`` (a run of no profile), committed: *skipped*, with a warning
    saying so, while another of the same job (and owner, unless ``any_owner``) is still running
    (``what`` names it in the message, e.g. "this fetch"). A run whose process is gone is marked
    interrupted first."""
    same = {"job": job} if any_owner else {"job": job, "profile_code": owner}
    interrupt_dead_runs(**same)
    busy = db.session.scalar(db.select(JobRun.id).filter_by(status="running", **same).limit(1))
    run = JobRun(job=job, profile_id=None, profile_code=owner, trigger=trigger, scheduled_for=scheduled_for,
                 actor_id=actor.id, heartbeat_at=utcnow())
    if busy:
        run.status, run.ended_at = "skipped", utcnow()
        message = T("Not started: run #%(run)s of %(what)s is still running.", run=busy, what=WHAT.get(what, what))
        run.say(message)
    db.session.add(run)
    db.session.flush()
    if busy:
        db.session.add(JobEvent.of(run.id, "warning", message))
    db.session.commit()
    return run


def start_run(job: str, profile: IntegrationProfile, actor: User, trigger: str,
              scheduled_for: datetime | None = None) -> JobRun | None:
    """Insert the run row, or record a *skipped* run when one of the same job and profile is still
    running. Returns None when another scheduler already took this tick."""
    # The section's row is the lock that makes "is one running?" and the insert one step (PostgreSQL).
    db.session.execute(db.select(ProfileSection.id).filter_by(profile_id=profile.id, job=job).with_for_update())
    interrupt_dead_runs(job=job, profile_id=profile.id)
    busy = db.session.scalar(db.select(JobRun.id).filter_by(job=job, profile_id=profile.id, status="running"))
    run = JobRun(job=job, profile_id=profile.id, profile_code=profile.code, trigger=trigger,
                 scheduled_for=scheduled_for, actor_id=actor.id, heartbeat_at=utcnow())
    if busy:
        run.status, run.ended_at = "skipped", utcnow()
        message = T("Not started: run #%(run)s of %(what)s is still running.", run=busy, what=WHAT["this job"])
        run.say(message)
    db.session.add(run)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return None
    if busy:
        db.session.add(JobEvent.of(run.id, "warning", message))
    db.session.commit()
    return run


def execute(app, job: str, profile_code: str, body: Callable[[JobContext], None], *, actor_id: int | None = None,
            trigger: str = "manual", scheduled_for: datetime | None = None, run_id: int | None = None,
            options: dict | None = None) -> int | None:
    """Run ``body`` as job ``job`` of profile ``profile_code``; returns the run's id (None when an
    automatic run found its section inactive or its tick already taken). ``run_id``: a run row
    already created by :func:`start_run` (the "Run now" button creates it before the thread starts)."""
    if job not in JOBS:
        raise JobRefused(T("Unknown job %(job)s.", job=repr(job)))
    with app.app_context():
        token = write_intent.set(True)
        try:
            return _execute(job, profile_code, body, actor_id, trigger, scheduled_for, run_id, options or {})
        finally:
            write_intent.reset(token)
            db.session.remove()


def _execute(job, profile_code, body, actor_id, trigger, scheduled_for, run_id, options):
    profile = db.session.scalar(db.select(IntegrationProfile).filter_by(code=profile_code))
    if profile is None:
        raise JobRefused(T("No integration profile %(code)s.", code=repr(profile_code)))
    section = profile.section(job)
    if section is None:
        raise JobRefused(T("Profile %(code)s has no section '%(section)s'.", code=profile.code, section=JOBS[job]))
    if trigger in AUTOMATIC_TRIGGERS and not section.active:
        return None
    actor = db.session.get(User, actor_id) if actor_id else system_actor()
    if run_id is not None:
        run = db.session.get(JobRun, run_id)
        if run.status == "running":   # created elsewhere (a web request): this process runs it
            claim(run)
    else:
        run = start_run(job, profile, actor, trigger, scheduled_for)
        if run is None:
            return None
    if run.status != "running":
        return run.id
    ctx = JobContext(run=run, profile=profile, section=section, actor=actor, log=RunLog(run), options=options)
    try:
        if not section.path:
            raise JobRefused(T("Section '%(section)s' of profile %(code)s has no folder configured.",
                               section=JOBS[job], code=profile.code))
        # No transaction stays open into the body: on SQLite it would hold the write lock while the
        # body waits on the network.
        db.session.commit()
        body(ctx)
    except (TransferError, JobRefused) as exc:
        ctx.log.rollback()
        ctx.log.error(message_of(exc))
        ctx.log.finish("failed", message_of(exc))
    except Exception as exc:  # the run must end visibly whatever happened
        log.exception("job %s of profile %s failed", job, profile_code)
        ctx.log.rollback()
        message = unexpected(exc)
        ctx.log.error(message)
        ctx.log.finish("failed", message)
    else:
        ctx.log.finish("completed", _summary(ctx.log))
    return run.id


def _summary(log_: RunLog) -> Text:
    if log_.records_failed:
        text = T("%(files)s file(s), %(records)s record(s), %(failed)s with exceptions.", files=log_.files,
                 records=log_.records, failed=log_.records_failed)
    else:
        text = T("%(files)s file(s), %(records)s record(s).", files=log_.files, records=log_.records)
    return with_notes(text, log_.notes)


def with_notes(text, notes: list) -> Text:
    """``text`` followed by the sentences ``notes`` (each shown in the reader's language)."""
    for note in notes:
        text = T("%(text)s %(note)s", text=text, note=note)
    return text


def run_in_thread(app, job: str, profile_code: str, run_id: int, actor_id: int) -> threading.Thread:
    """Run the started run ``run_id`` in a thread of this process (the "Run now" button and the API)."""
    thread = threading.Thread(target=job_runner(app, job), args=(app, profile_code),
                              kwargs={"run_id": run_id, "actor_id": actor_id, "trigger": "manual"},
                              name=f"run-{run_id}", daemon=True)
    thread.start()
    return thread


def run_now(app, profile: IntegrationProfile, job: str, actor: User) -> JobRun:
    """"Run now": the run row (committed; *skipped* while another run of the job is running), then the
    run itself in a thread. NotFound for a job the profile has no section of; RuleViolation when the
    section has no folder yet."""
    section = profile.section(job) if job in JOBS else None
    if section is None:
        raise NotFound(T("No such section."))
    if not section.path:
        raise RuleViolation(T("Give '%(section)s' a folder first (Sections).", section=section.label), "path")
    run = start_run(job, profile, actor, "manual")
    if run.status == "running":
        run_in_thread(app, job, profile.code, run.id, actor.id)
    return run
