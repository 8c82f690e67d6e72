"""Big loads as background runs that commit in chunks.

A big load (an Excel invoice file, the Aleph migration) is a :class:`JobRun` of a job in
``OTHER_JOBS`` (no profile): started from a page it runs in a thread of the web process and the
page follows it by polling; started from a command it runs in the foreground. Either way its body
is ``body(run_log, chunks, ...)`` and commits through :class:`Chunks`: a chunk holds its locks
about ``LOAD_CHUNK_SECONDS``, then commits with the run's events and progress; on SQLite the load
then pauses ``LOAD_PAUSE_SECONDS`` so that writers waiting for the write lock (SQLite retries a
busy lock by sleeping, it keeps no queue) get it before the next chunk.

A big input runs in a process of its own (:mod:`.load_worker`; the child is ``jobs/load_worker.py``),
so its Python work never takes turns on the interpreter lock with the pages of the web process
that started it.

A :class:`BulkLoad` row keyed by the input's SHA-256 remembers how far a load got; a run that
dies part-way leaves it behind, and loading the same input again carries on from there. A run
still "running" whose process is gone (:func:`.runs.owner_gone`) is marked interrupted.
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from typing import Callable

from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..auth.models import User
from ..clock import utcnow
from ..database import write_intent
from ..extensions import db
from .models import OTHER_JOBS, BulkLoad, JobEvent, JobRun
from .load_worker import spawn
from ..text import T
from .runs import RunLog, claim, message_of, owner_gone

log = logging.getLogger(__name__)
INTERRUPTED = T("Interrupted: the process running it stopped. Load the same input again to carry on.")


@contextmanager
def reading():
    """A stretch of reading, parsing and checking that takes no write lock: on SQLite it runs in a
    deferred transaction (readers never block writers in WAL mode), ended before and after."""
    db.session.commit()
    token = write_intent.set(False)
    try:
        yield
        db.session.commit()   # ends the read transaction; nothing was written
    except BaseException:
        db.session.rollback()
        raise
    finally:
        write_intent.reset(token)


class LoadRefused(Exception):
    """The load cannot start; the message says why (``text``: as given, a Text to record)."""

    @property
    def text(self):
        return self.args[0] if self.args else ""


class Chunks:
    """The commit points of a big load."""

    def __init__(self, run_log: RunLog, chunk_seconds: float, pause_seconds: float):
        self.log = run_log
        self.chunk_seconds, self.pause_seconds = chunk_seconds, pause_seconds
        self.commits = 0
        self._started = time.monotonic()

    @classmethod
    def for_app(cls, run_log: RunLog) -> "Chunks":
        cfg = current_app.config
        # PostgreSQL queues lock waiters fairly; SQLite's waiters retry on a timer and need the gap.
        pause = float(cfg.get("LOAD_PAUSE_SECONDS", 0.1)) if db.engine.dialect.name == "sqlite" else 0.0
        return cls(run_log, float(cfg.get("LOAD_CHUNK_SECONDS", 0.1)), pause)

    def due(self) -> bool:
        return time.monotonic() - self._started >= self.chunk_seconds

    def maybe_commit(self) -> bool:
        """Commit when the chunk has held its locks long enough; True when it did."""
        if not self.due():
            return False
        self.commit()
        return True

    def commit(self) -> None:
        self.log.commit()
        self.commits += 1
        if self.pause_seconds:
            time.sleep(self.pause_seconds)   # let the writers waiting for SQLite's lock have it
        self._started = time.monotonic()


def interrupt(run: JobRun, message: str = INTERRUPTED) -> None:
    run.status, run.ended_at, run.interrupted = "failed", utcnow(), True
    run.say(message)
    db.session.add(JobEvent.of(run.id, "error", message))


def start(job: str, owner: str, actor: User, kind: str, key: str, name: str,
          trigger: str = "manual") -> tuple[JobRun, BulkLoad, bool]:
    """The run of a load of input ``key`` and its :class:`BulkLoad` row, committed:
    ``(run, load, started)``. When a live run is loading the same input already, that run is
    returned with ``started`` False. A dead one is marked interrupted and this run carries on."""
    assert job in OTHER_JOBS, job
    try:
        return _start(job, owner, actor, kind, key, name, trigger)
    except IntegrityError:   # the same input started twice at once: the other start made the row
        db.session.rollback()
        return _start(job, owner, actor, kind, key, name, trigger)


def _start(job, owner, actor, kind, key, name, trigger) -> tuple[JobRun, BulkLoad, bool]:
    load = db.session.scalar(db.select(BulkLoad).filter_by(kind=kind, key=key).with_for_update())
    if load is not None and load.run is not None and load.run.status == "running":
        if not owner_gone(load.run):
            db.session.commit()
            return load.run, load, False
        interrupt(load.run)
    run = JobRun(job=job, profile_id=None, profile_code=owner[:40], trigger=trigger, actor_id=actor.id,
                 heartbeat_at=utcnow())
    db.session.add(run)
    db.session.flush()
    if load is None:
        load = BulkLoad(kind=kind, key=key)
        db.session.add(load)
    load.name, load.status, load.run_id = name[:255], "running", run.id
    db.session.commit()
    return run, load, True


def execute(app, run_id: int, body: Callable[..., str], *args) -> None:
    """Run ``body(run_log, chunks, *args)`` as run ``run_id`` (in this thread, with its own app
    context); its return value is the run's report. An exception rolls back the unfinished chunk
    and fails the run with the reason; what earlier chunks committed stays."""
    with app.app_context():
        token = write_intent.set(True)
        try:
            run = db.session.get(JobRun, run_id)
            claim(run)   # in a load process of its own, that process is the owner
            run_log = RunLog(run)
            chunks = Chunks.for_app(run_log)
            db.session.commit()
            try:
                message = body(run_log, chunks, *args)
            except LoadRefused as exc:
                _fail(run_log, message_of(exc))
            except Exception as exc:  # the run must end visibly whatever happened
                log.exception("%s run #%s failed", run.job, run_id)
                _fail(run_log, T("Unexpected error: %(error)s. What was committed before stays; load the same "
                                 "input again to carry on.", error=f"{type(exc).__name__}: {exc}"))
            else:
                run_log.finish("completed", message)
                _load_status(run_id, "done")
        finally:
            write_intent.reset(token)
            db.session.remove()


def _fail(run_log: RunLog, message: str) -> None:
    run_log.rollback()
    run_log.error(message)
    run_log.finish("failed", message)
    _load_status(run_log.run_id, "failed")


def _load_status(run_id: int, status: str) -> None:
    load = db.session.scalar(db.select(BulkLoad).filter_by(run_id=run_id))
    if load is not None:
        load.status = status
        db.session.commit()


def in_background(app, run_id: int, body: Callable[..., str], *args, own_process: bool = False) -> None:
    """Start :func:`execute` in a thread of this process, or with ``own_process`` in a child process
    (:mod:`.load_worker`: a big load must not slow the pages this process serves); the web request
    answers at once either way."""
    if own_process:
        spawn(app, run_id, body, *args, on_exit=lambda code: process_ended(app, run_id, code))
        return
    threading.Thread(target=execute, args=(app, run_id, body, *args), name=f"run-{run_id}", daemon=True).start()


def process_ended(app, run_id: int, code: int) -> None:
    """The child process of run ``run_id`` ended with exit ``code``: a run it left "running" (killed,
    out of memory) is marked interrupted at once and its load failed; loading the same input
    again carries on from the last committed chunk."""
    with app.app_context():
        try:
            run = db.session.get(JobRun, run_id)
            if run is not None and run.status == "running":
                interrupt(run, T("Interrupted: the load process stopped (exit code %(code)s). Load the same "
                                 "input again to carry on.", code=code))
                load = db.session.scalar(db.select(BulkLoad).filter_by(run_id=run_id))
                if load is not None:
                    load.status = "failed"
                db.session.commit()
        except Exception:  # noqa: BLE001 (a reaper must not die noisily; the run then looks stale)
            db.session.rollback()
            log.exception("could not mark run #%s interrupted", run_id)
        finally:
            db.session.remove()
