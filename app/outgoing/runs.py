"""Delivering letters to vendors as runs on Monitor Jobs: job ``send_letters``, a run of no profile.

A run starts three ways: the scheduler's interval job (every ``OUTGOING_INTERVAL_SECONDS``, in the
scheduler's process only: retries whose time came, letters no kick delivered), the kick after a
commit that queued a letter (``db.session.info["outgoing_kick"]``, set by
:func:`app.outgoing.queue.mark_for_delivery`; a thread of that process, when ``OUTGOING_KICK``),
and ``flask letters send``. One run at a time: a run finding another alive leaves the work to it
(which looks for due letters again before it ends). A run finding nothing due is not recorded, so
Monitor Jobs is not flooded by idle minutes.

The run records one event per letter that did not go (PO number, vendor, reason) and counts each
letter handled as a record (failed, interrupted or to be retried: with exceptions).
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import current_app, has_app_context
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from ..clock import utcnow
from ..database import is_postgres, write_intent
from ..extensions import db
from ..integrations.models import JobRun
from ..integrations.runs import RunLog, interrupt_dead_runs
from ..text import T
from . import delivery
from .models import VendorMessage
from .queue import KICK
from .services import due

log = logging.getLogger(__name__)

JOB = "send_letters"
SCHEDULER_JOB_ID = "send_letters"
_LOCK_KEY = 0x5E17_1E77   # PostgreSQL advisory lock: starting a run is one step at a time


def run(app, trigger: str = "schedule", actor_id: int | None = None, limit: int | None = None,
        force: bool = False) -> int | None:
    """Deliver the due letters as a run; its id, or None when nothing was due (not recorded) or
    another run is going on. ``force``: record the run even when it finds nothing (the CLI)."""
    with app.app_context():
        token = write_intent.set(True)
        try:
            for _ in range(5):   # a letter queued while the run ended is taken by another round
                run_id = _run(trigger, actor_id, limit, force)
                if run_id is None or limit is not None or not _anything_due():
                    return run_id
            return run_id
        finally:
            write_intent.reset(token)
            db.session.remove()


def _anything_due() -> bool:
    found = bool(due(utcnow(), 1))
    db.session.commit()
    return found


def _idle() -> bool:
    """Nothing due and nothing "sending": read without taking SQLite's write lock (the scheduler
    asks every minute)."""
    token = write_intent.set(False)
    try:
        db.session.commit()
        idle = not due(utcnow(), 1) and not db.session.scalar(
            select(VendorMessage.id).where(VendorMessage.status == "sending").limit(1))
        db.session.commit()
        return idle
    finally:
        write_intent.reset(token)


def _start(trigger: str, actor_id: int | None, force: bool) -> tuple[JobRun | None, list]:
    """The new run, committed (None when another is alive, or nothing is to do and not ``force``),
    and the letters it found interrupted."""
    if not force and _idle():
        return None, []
    if is_postgres(db.session):
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    interrupt_dead_runs(job=JOB)
    if db.session.scalar(select(JobRun.id).where(JobRun.job == JOB, JobRun.status == "running").limit(1)):
        db.session.commit()
        return None, []
    # No run is alive: a letter still "sending" has lost the process that was sending it.
    orphans = delivery.interrupt_stale(older_than=timedelta(0))
    if not (force or orphans or due(utcnow(), 1)):
        db.session.commit()
        return None, []
    run_ = JobRun(job=JOB, profile_id=None, profile_code="", trigger=trigger, actor_id=actor_id,
                  heartbeat_at=utcnow())
    db.session.add(run_)
    db.session.commit()
    return run_, orphans


_GAVE_UP = {"failed": T("failed"), "interrupted": T("interrupted")}


def _event(run_log: RunLog, outcome: delivery.Outcome) -> None:
    if outcome.status == "queued":
        if outcome.next_attempt_at:
            when = outcome.next_attempt_at.isoformat(sep=" ", timespec="seconds")
            text = T("%(letter)s: not delivered (attempt %(attempt)s), trying again at %(when)s UTC. %(reason)s",
                     letter=outcome.label, attempt=outcome.attempts, when=when, reason=outcome.reason)
        else:
            text = T("%(letter)s: not delivered (attempt %(attempt)s), trying again later. %(reason)s",
                     letter=outcome.label, attempt=outcome.attempts, reason=outcome.reason)
        run_log.warning(text, record=outcome.po_number)
    elif outcome.status in ("failed", "interrupted"):
        run_log.error(T("%(letter)s: %(status)s. %(reason)s", letter=outcome.label, status=_GAVE_UP[outcome.status],
                        reason=outcome.reason), record=outcome.po_number)


def _run(trigger, actor_id, limit, force) -> int | None:
    run_, orphans = _start(trigger, actor_id, force)
    if run_ is None:
        return None
    run_log = RunLog(run_)
    summary = delivery.Summary()
    for outcome in orphans:
        summary.add(outcome)
        _event(run_log, outcome)
        run_log.count(records=1, failed=1)
    run_log.commit()

    def progress(outcome: delivery.Outcome, done: int, total: int) -> None:
        summary.add(outcome)
        _event(run_log, outcome)
        run_log.count(records=1, failed=outcome.status in ("queued", "failed", "interrupted"))
        run_log.progress(done, total)
        run_log.commit()

    try:
        delivery.deliver_due(limit=limit, progress=progress)
    except Exception as exc:  # the run must end visibly whatever happened
        log.exception("send_letters run #%s failed", run_log.run_id)
        db.session.rollback()
        message = T("Unexpected error: %(error)s. Letters not yet sent stay queued.",
                    error=f"{type(exc).__name__}: {exc}")
        run_log.error(message)
        run_log.finish("failed", message)
        return run_log.run_id
    run_log.finish("completed", T("Letters to vendors: %(summary)s.", summary=summary.text()), refusals_fail=False)
    return run_log.run_id


# -- starting runs --------------------------------------------------------------------------------

def in_background(app, trigger: str = "event") -> threading.Thread:
    thread = threading.Thread(target=_safe_run, args=(app, trigger), name="send-letters", daemon=True)
    thread.start()
    return thread


def _safe_run(app, trigger: str) -> None:
    try:
        run(app, trigger=trigger)
    except Exception:  # a background thread has no one to tell but the log; the scheduler retries
        log.exception("delivering letters to vendors failed")


def _after_commit(session) -> None:
    if not session.info.pop(KICK, False) or not has_app_context():
        return
    app = current_app._get_current_object()
    if app.config.get("OUTGOING_KICK"):
        in_background(app)


def _forget_kick(session, previous_transaction) -> None:
    if previous_transaction.parent is None:   # the transaction itself, not a savepoint inside it
        session.info.pop(KICK, None)


def register_kick() -> None:
    """Listen for commits that queued letters (idempotent; called by ``create_app``)."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _forget_kick)


def schedule_delivery(app, scheduler) -> None:
    """Add the interval run to ``scheduler`` (called once when the scheduler starts)."""
    from apscheduler.triggers.interval import IntervalTrigger
    seconds = int(app.config.get("OUTGOING_INTERVAL_SECONDS") or 60)
    scheduler.add_job(_safe_run, IntervalTrigger(seconds=seconds), args=[app, "schedule"], id=SCHEDULER_JOB_ID,
                      replace_existing=True, name="Send letters to vendors")


def waiting() -> dict:
    """Letters waiting to go, by status (for a page or the CLI)."""
    rows = db.session.execute(select(VendorMessage.status, db.func.count()).group_by(VendorMessage.status)).all()
    return {status: count for status, count in rows}

