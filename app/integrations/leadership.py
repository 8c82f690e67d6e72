"""Which process runs the scheduler: the one holding a lock, and only while it holds it.

* SQLite (one server): an exclusive ``flock`` on ``instance/scheduler.lock``. The file is opened
  without truncating; only the winner writes its pid into it, so the file names the owner.
* PostgreSQL (one or several app servers on one database): a session-level advisory lock, taken
  on a connection of its own that is kept for the life of the process. It goes with the session
  when the process dies, whichever server it ran on.

Processes that lose keep trying every ``SCHEDULER_LEADER_RETRY_SECONDS`` and take over when the
owner stops; the owner checks on the same beat that it still holds its lock (a PostgreSQL
connection can drop) and stops its scheduler when it does not.
"""
from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
import zlib
from typing import Callable

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from . import processes

log = logging.getLogger(__name__)


class FileLock:
    """``flock`` on a file: for processes sharing one machine and one instance folder."""

    def __init__(self, path: str):
        self.path = path
        self._fd: int | None = None

    def __str__(self) -> str:
        return f"the lock file {self.path}"

    def acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)   # never truncate: the owner's pid is in it
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return True

    def held(self) -> bool:
        return self._fd is not None

    def owner(self) -> str:
        """Who holds the lock, from the pid its owner wrote (it may still be writing it)."""
        deadline = time.monotonic() + 1
        while True:
            try:
                with open(self.path) as f:
                    pid = f.read().strip()
            except OSError:
                pid = ""
            if pid.isdigit() or time.monotonic() > deadline:
                return f"pid {pid}" if pid.isdigit() else "another process"
            time.sleep(0.05)

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None


class AdvisoryLock:
    """``pg_try_advisory_lock`` held by a dedicated connection: one scheduler per database."""

    KEY = zlib.crc32(b"acquisitions: scheduler")   # advisory locks are per database

    def __init__(self, url: URL | str):
        me = processes.current()
        # The owner's name shows in pg_stat_activity, so any process can say who leads.
        self._engine = create_engine(url, poolclass=NullPool,
                                     connect_args={"application_name": f"acq scheduler {me}"[:63]})
        self._conn = None

    def __str__(self) -> str:
        return "the scheduler's advisory lock on the PostgreSQL database"

    def acquire(self) -> bool:
        try:
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except SQLAlchemyError as exc:
            log.warning("scheduler lock: cannot connect to the database: %s", exc)
            return False
        try:
            won = conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.KEY})
        except SQLAlchemyError:
            won = False
        if not won:
            conn.close()
            return False
        self._conn = conn
        return True

    def held(self) -> bool:
        if self._conn is None:
            return False
        try:
            return bool(self._conn.scalar(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid() "
                "AND classid = 0 AND objid::bigint = :key AND objsubid = 1"), {"key": self.KEY}))
        except SQLAlchemyError:
            self.release()
            return False

    def owner(self) -> str:
        try:
            with self._engine.connect() as conn:
                name = conn.scalar(text(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid::bigint = :key "
                    "AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database())"), {"key": self.KEY})
        except SQLAlchemyError:
            name = None
        return name.removeprefix("acq scheduler ") if name else "another process"

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()   # ends the session, and with it the lock
            except SQLAlchemyError:
                pass
            self._conn = None


class Elector:
    """Holds the lock for this process or waits for it; calls ``on_lead`` when it wins (after the
    first attempt) and ``on_lose`` when a held lock is lost."""

    def __init__(self, lock, interval: float, on_lead: Callable[[], None], on_lose: Callable[[], None]):
        self.lock, self.interval = lock, interval
        self.on_lead, self.on_lose = on_lead, on_lose
        self.leading = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def try_lead(self) -> bool:
        self.leading = self.lock.acquire()
        return self.leading

    def watch(self) -> None:
        """Keep trying (or checking) in the background, for the life of the process."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="scheduler-elector", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.step()
            except Exception:  # the elector must outlive any one failure
                log.exception("scheduler election failed; trying again")

    def step(self) -> None:
        if self.leading:
            if not self.lock.held():
                self.leading = False
                log.warning("scheduler stopped in pid %s: it no longer holds %s", os.getpid(), self.lock)
                self.on_lose()
        elif self.lock.acquire():
            self.leading = True
            log.info("pid %s took over %s", os.getpid(), self.lock)
            self.on_lead()

    def stop(self) -> None:
        """Stop trying and checking (the lock stays held until ``lock.release()``)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(self.interval + 5)
