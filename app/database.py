"""Database engine behaviour: SQLite pragmas and write transactions, PostgreSQL row locks.

SQLite: WAL, foreign keys, a busy timeout, and every transaction of a state-changing request
(or of a CLI command or job) opened with ``BEGIN IMMEDIATE``, so two writers queue for the write
lock instead of one failing with "database is locked" after reading stale balances. Read-only
requests (GET/HEAD) open a plain deferred transaction and never block writers (WAL).
PostgreSQL: the services lock fund rows with ``SELECT ... FOR UPDATE`` in id order.
"""
from __future__ import annotations

import contextvars
import sqlite3

from sqlalchemy import event, func, insert, select
from sqlalchemy.engine import Engine

# False only inside read-only requests; CLI commands, jobs and tests write by default.
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=True)


def configure_engine(engine: Engine, busy_timeout_ms: int) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no branch
        if not isinstance(dbapi_conn, sqlite3.Connection):
            return
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")


def is_postgres(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def next_ids(session, model, count: int) -> list[int]:
    """The ids the next ``count`` rows of ``model`` will take on SQLite. SQLite cannot batch an
    INSERT … RETURNING whose rows must come back in order, so SQLAlchemy would insert one row per
    statement; with the ids given, it batches. Safe because every writing transaction on SQLite
    holds the database's single write lock (BEGIN IMMEDIATE): no one else can take these ids."""
    session.flush()   # rows still pending elsewhere in the session take their ids first
    last = session.scalar(select(func.max(model.id))) or 0
    return list(range(last + 1, last + 1 + count))


def insert_rows(session, model, values: list[dict]) -> list[int]:
    """Insert ``values`` as rows of ``model`` in batched statements; their ids, in order."""
    if not values:
        return []
    if is_postgres(session):
        session.flush()
        return list(session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), values))
    ids = next_ids(session, model, len(values))
    session.execute(insert(model), [dict(row, id=row_id) for row, row_id in zip(values, ids)])
    return ids
