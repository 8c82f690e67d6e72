"""Database engine behaviour: SQLite pragmas and write transactions, PostgreSQL row locks, and
how long anyone waits for a lock.

SQLite: WAL, foreign keys, a busy timeout, and every transaction of a state-changing request
(or of a CLI command or job) opened with ``BEGIN IMMEDIATE``, so two writers queue for the write
lock instead of one failing with "database is locked" after reading stale balances. Read-only
requests (GET/HEAD) open a plain deferred transaction and never block writers (WAL).
PostgreSQL: the services lock fund rows with ``SELECT ... FOR UPDATE`` in id order.

Waiting: a web request waits briefly for a lock (``SQLITE_BUSY_TIMEOUT_MS`` on SQLite,
``DB_LOCK_TIMEOUT_MS`` as ``lock_timeout`` on PostgreSQL) and then answers 503 "busy" (see
:mod:`app.busy`); jobs, background runs and commands are patient (``SQLITE_JOB_BUSY_TIMEOUT_MS``,
no lock timeout). :data:`short_waits` says which kind of work the current context does.

Sorting text the reader's way: :class:`localized` orders a name or title column by the collation of
the language being written in (``app.text.current_language``) where the database has one —
PostgreSQL's ICU collation ``"zh-x-icu"`` (pinyin order) when it is there (``pg_collation``),
SQLite's ``zh_pinyin`` collation registered on each connection (pinyin from pypinyin; by code point
when pypinyin is missing) — and by the database's own order otherwise (English, or a PostgreSQL
built without ICU).
"""
from __future__ import annotations

import contextvars
import logging
import sqlite3
import unicodedata
from functools import lru_cache

from sqlalchemy import event, func, insert, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from .text import current_language

log = logging.getLogger(__name__)

# False only inside read-only requests; CLI commands, jobs and tests write by default.
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=True)


# True in a web request once it has committed its change (set by the session's after_commit).
after_commit_reads: contextvars.ContextVar[bool] = contextvars.ContextVar("after_commit_reads", default=False)
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def reading_from_now() -> None:
    """The current request has committed its change: what it does next (read what it shows, render
    the page or the answer) only reads, so on SQLite its transactions begin deferred and never wait
    for the write lock. Waiting there could end in a 503 "nothing was saved" for a change that was
    saved. The request's teardown restores both values it started with."""
    write_intent.set(False)
    after_commit_reads.set(True)


def writing_again() -> None:
    """For the rare request that writes again after a commit (a login records the attempt first,
    then the session): its next transaction takes the write lock up front again. A read-only
    transaction opened since the commit (say, to read the saved object's number) is ended first."""
    from .extensions import db
    if db.session().in_transaction():
        db.session.commit()
    write_intent.set(True)
    after_commit_reads.set(False)


@event.listens_for(Session, "after_commit")
def _after_commit(_session) -> None:
    if short_waits.get() and write_intent.get():
        from flask import has_request_context
        if has_request_context():
            reading_from_now()


# True inside web requests (and the scheduler's reconcile tick): wait briefly for a lock, then give
# up with a "busy" error. A new thread starts with the default: patient, as jobs are.
short_waits: contextvars.ContextVar[bool] = contextvars.ContextVar("short_waits", default=False)

# SQLite's messages when the busy timeout ran out; PostgreSQL's SQLSTATEs for a lock wait that
# gave up (lock_timeout) and for a deadlock victim: all mean "try again in a moment".
_SQLITE_BUSY = ("database is locked", "database is busy", "database table is locked")
_PG_BUSY = {"55P03", "40P01"}


def is_busy_error(exc: BaseException) -> bool:
    """Whether ``exc`` (a SQLAlchemy error or a driver's) means the database was busy."""
    orig = getattr(exc, "orig", None) or exc
    if isinstance(orig, sqlite3.OperationalError):
        text = str(orig).lower()
        return any(m in text for m in _SQLITE_BUSY)
    return getattr(orig, "sqlstate", None) in _PG_BUSY


def configure_engine(engine: Engine, busy_timeout_ms: int, job_busy_timeout_ms: int | None = None,
                     lock_timeout_ms: int = 0, strict: bool = False) -> None:
    """``busy_timeout_ms``: how long a web request waits for SQLite's write lock;
    ``job_busy_timeout_ms``: the same for everything else (default: the same);
    ``lock_timeout_ms``: PostgreSQL's ``lock_timeout`` in web requests (0: wait as long as it takes);
    ``strict``: a write after a request's commit without :func:`writing_again` raises (tests) instead
    of being logged."""
    web_ms = int(busy_timeout_ms)
    job_ms = int(job_busy_timeout_ms if job_busy_timeout_ms is not None else busy_timeout_ms)
    register_collations(engine)
    if engine.dialect.name == "postgresql" and lock_timeout_ms:
        @event.listens_for(engine, "begin")
        def _pg_begin(conn):
            if short_waits.get():
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}")
        return
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, record):  # pragma: no branch
        if not isinstance(dbapi_conn, sqlite3.Connection):
            return
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
        cur = dbapi_conn.cursor()
        mode = cur.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal" and engine.url.database not in (None, "", ":memory:"):
            log.warning("SQLite refused WAL mode (journal_mode is %s): readers and writers will block each "
                        "other", mode)
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={job_ms}")
        cur.close()
        record.info["busy_timeout_ms"] = job_ms

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        wanted = web_ms if short_waits.get() else job_ms
        info = conn.info   # the pooled DBAPI connection's own dict (outlives this checkout)
        if info.get("busy_timeout_ms") != wanted:   # a pragma, no I/O: cheap, but skip it when unchanged
            conn.exec_driver_sql(f"PRAGMA busy_timeout={wanted}")
            info["busy_timeout_ms"] = wanted
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")
        info["after_commit_reads"] = not write_intent.get() and after_commit_reads.get()

    if strict:
        # Tests run most requests inside one outer transaction whose sessions only open SAVEPOINTs:
        # each SAVEPOINT stands for the transaction a request would begin, so it gets the same flag
        # (restored when it ends).
        @event.listens_for(engine, "begin")
        def _no_savepoints_yet(conn):
            conn.info.pop("after_commit_reads_outer", None)

        @event.listens_for(engine, "savepoint")
        def _on_savepoint(conn, _name):
            conn.info.setdefault("after_commit_reads_outer", []).append(conn.info.get("after_commit_reads"))
            conn.info["after_commit_reads"] = not write_intent.get() and after_commit_reads.get()

        @event.listens_for(engine, "release_savepoint")
        @event.listens_for(engine, "rollback_savepoint")
        def _savepoint_ended(conn, _name, _context):
            outer = conn.info.get("after_commit_reads_outer")
            if outer:
                conn.info["after_commit_reads"] = outer.pop()

    @event.listens_for(engine, "before_cursor_execute")
    def _no_writes_after_the_commit(conn, _cursor, statement, *_args):
        # A write in a transaction begun deferred after the request's commit would not hold the
        # write lock up front (next_ids relies on it): such a request must call writing_again().
        if conn.info.get("after_commit_reads") and statement.lstrip()[:7].upper().startswith(_WRITES):
            message = f"a write after this request's commit without writing_again(): {statement[:80]}"
            if strict:
                raise RuntimeError(message)
            log.warning(message)


def is_postgres(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def next_ids(session, model, count: int) -> list[int]:
    """The ids the next ``count`` rows of ``model`` will take, so that many rows go in one batch.

    SQLite cannot batch an INSERT … RETURNING whose rows must come back in order, so SQLAlchemy
    would insert one row per statement; with the ids given, it batches. Safe because every writing
    transaction on SQLite holds the database's single write lock (BEGIN IMMEDIATE): no one else can
    take these ids. PostgreSQL: taken from the table's sequence in one query (never handed out twice)."""
    session.flush()   # rows still pending elsewhere in the session take their ids first
    if is_postgres(session):
        return sorted(session.scalars(text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                                           "FROM generate_series(1, :count)"),
                                      {"table": model.__table__.name, "count": count}))
    last = session.scalar(select(func.max(model.id))) or 0
    return list(range(last + 1, last + 1 + count))


UNNEST_FROM = 100   # PostgreSQL: from this many rows, insert_rows sends one INSERT … SELECT FROM unnest(arrays)


def insert_rows(session, model, values: list[dict]) -> list[int]:
    """Insert ``values`` as rows of ``model`` in batched statements; their ids, in order.

    PostgreSQL, many rows: the ids are taken from the sequence first and the rows sent as one
    array per column in a single ``INSERT … SELECT FROM unnest(…)``. (SQLAlchemy's batched
    INSERT … RETURNING sends statements of thousands of parameters, which the driver parses in
    Python, and an ``executemany`` makes the server run one INSERT per row: both are several
    times slower at tens of thousands of rows.)"""
    if not values:
        return []
    if is_postgres(session):
        if len(values) < UNNEST_FROM:
            session.flush()
            return list(session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), values))
        ids = next_ids(session, model, len(values))
        _insert_unnest(session, model.__table__, values, ids)
        return ids
    ids = next_ids(session, model, len(values))
    session.execute(insert(model), [dict(row, id=row_id) for row, row_id in zip(values, ids)])
    return ids


def _insert_unnest(session, table, values: list[dict], ids: list[int]) -> None:
    """The rows (with their ``ids``) as one INSERT of unnested arrays, one per column: the values
    given, else the column's Python default (as SQLAlchemy would fill it in), else the server's."""
    dialect = session.get_bind().dialect
    given = set().union(*values)
    names, casts, params = [], [], {}
    for n, col in enumerate(table.columns):
        if col.key == "id":
            data = ids
        elif col.key in given:
            data = [row.get(col.key) for row in values]
        elif col.default is not None and col.default.is_scalar:
            data = [col.default.arg] * len(values)
        elif col.default is not None and col.default.is_callable:
            data = [col.default.arg(None) for _ in values]
        else:
            continue   # the server's default, or NULL
        process = col.type.bind_processor(dialect)
        if process is not None:
            data = [process(v) for v in data]
        names.append(dialect.identifier_preparer.quote(col.name))
        casts.append(f"CAST(:c{n} AS {col.type.compile(dialect=dialect)}[])")
        params[f"c{n}"] = data
    session.execute(text(f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({', '.join(names)}) "
                         f"SELECT * FROM unnest({', '.join(casts)})"), params)


def update_rows(session, model, values: list[dict]) -> None:
    """Update rows of ``model`` by primary key: each dict holds ``id`` and the columns to set (the
    same in every dict). PostgreSQL, many rows: one ``UPDATE … FROM unnest(…)`` (an
    ``executemany`` makes the server run one UPDATE per row); else SQLAlchemy's bulk UPDATE. Objects
    the session holds are not refreshed: expire them, or set their loaded values."""
    if not values:
        return
    if not is_postgres(session) or len(values) < UNNEST_FROM:
        session.execute(update(model).execution_options(synchronize_session=False), values)
        return
    session.flush()
    dialect = session.get_bind().dialect
    table, quote = model.__table__, dialect.identifier_preparer.quote
    columns = [table.c.id] + [table.columns[k] for k in values[0] if k != "id"]
    casts, params = [], {}
    for n, col in enumerate(columns):
        data = [row[col.key] for row in values]
        process = col.type.bind_processor(dialect)
        if process is not None:
            data = [process(v) for v in data]
        casts.append(f"CAST(:c{n} AS {col.type.compile(dialect=dialect)}[])")
        params[f"c{n}"] = data
    names = [quote(col.name) for col in columns]
    session.execute(text(
        f"UPDATE {dialect.identifier_preparer.format_table(table)} AS t "
        f"SET {', '.join(f'{name} = v.{name}' for name in names[1:])} "
        f"FROM unnest({', '.join(casts)}) AS v({', '.join(names)}) WHERE t.{names[0]} = v.{names[0]}"), params)


# -- sorting text in the reader's language --------------------------------------------------------

# Language (Babel locale) -> collation: PostgreSQL's ICU one, and the one this module registers on
# SQLite connections. Languages not listed sort in the database's own order.
PG_COLLATIONS = {"zh_Hans": "zh-x-icu"}
SQLITE_COLLATIONS = {"zh_Hans": "zh_pinyin"}


def _is_han(char: str) -> bool:
    return unicodedata.name(char, "").startswith("CJK ")   # CJK UNIFIED / COMPATIBILITY IDEOGRAPH


@lru_cache(maxsize=65536)
def pinyin_key(value: str) -> tuple:
    """The sort key of ``value`` in pinyin order, as ``zh-x-icu`` sorts on PostgreSQL (closely
    enough): spaces, punctuation and digits first, then Chinese characters by their reading
    (syllable, then tone: 北京 as bei3 jing1; a character of several readings by the one pypinyin
    gives it in this word), then the letters of other scripts, case-insensitively. Without
    pypinyin, Chinese characters sort by code point."""
    try:
        from pypinyin import Style, lazy_pinyin
        readings = lazy_pinyin(value, style=Style.TONE3, neutral_tone_with_five=True, errors=lambda chars: list(chars))
    except ImportError:   # pragma: no cover - pypinyin is in requirements.txt
        readings = list(value)
    if len(readings) != len(value):    # a run pypinyin did not split one per character
        readings = list(value)
    key = []
    for char, reading in zip(value, readings):
        if _is_han(char):
            syllable = reading.rstrip("012345") if reading != char else char
            key.append((1, syllable, reading[len(syllable):], char))
        else:
            key.append((2 if char.isalpha() else 0, char.casefold(), "", char))
    return tuple(key)


def _pinyin_compare(a: str, b: str) -> int:
    ka, kb = pinyin_key(a), pinyin_key(b)
    return (ka > kb) - (ka < kb)


def register_collations(engine: Engine) -> None:
    """SQLite: register ``zh_pinyin`` on each new connection. PostgreSQL: note on each new
    connection which of :data:`PG_COLLATIONS` the server has (``pg_collation``; ICU collations
    exist only on a server built with ICU), for :class:`localized` to use only those."""
    if getattr(engine.dialect, "_collations_known", None) is not None:
        return
    engine.dialect._collations_known = set()   # what every connection of this engine has

    @event.listens_for(engine, "connect")
    def _collations_on_connect(dbapi_conn, _record):
        if engine.dialect.name == "sqlite" and isinstance(dbapi_conn, sqlite3.Connection):
            dbapi_conn.create_collation("zh_pinyin", _pinyin_compare)
            engine.dialect._collations_known.update(SQLITE_COLLATIONS.values())
        elif engine.dialect.name == "postgresql":
            cur = dbapi_conn.cursor()
            try:
                cur.execute("SELECT collname FROM pg_collation WHERE collname = ANY(%s)",
                            (list(PG_COLLATIONS.values()),))
                engine.dialect._collations_known.update(row[0] for row in cur.fetchall())
            finally:
                cur.close()
                dbapi_conn.rollback()


def collation_for(dialect, language: str) -> str | None:
    """The collation that sorts text of ``language`` on ``dialect``, if its database has one."""
    wanted = {"sqlite": SQLITE_COLLATIONS, "postgresql": PG_COLLATIONS}.get(dialect.name, {}).get(language)
    return wanted if wanted and wanted in (getattr(dialect, "_collations_known", None) or ()) else None


class localized(ColumnElement):
    """``column`` (a name or a title) to sort by in the reader's language: ``ORDER BY
    localized(Vendor.name)`` becomes ``vendor.name COLLATE "zh-x-icu"`` on PostgreSQL when the page is
    in Chinese, ``COLLATE "zh_pinyin"`` on SQLite, plain ``vendor.name`` otherwise. The language is
    read when the statement is compiled, so a statement holding one is not kept in SQLAlchemy's
    compiled cache (it differs between readers). Use it in ORDER BY only (a comparison with a
    collation would change what equals what); ``.desc()`` works as on a column."""
    inherit_cache = False

    def __init__(self, column):
        self.column = column
        self.type = column.type

    def get_children(self, **kw):
        return (self.column,)


@compiles(localized)
def _compile_localized(element, compiler, **kw):
    sql = compiler.process(element.column, **kw)
    collation = collation_for(compiler.dialect, current_language())
    return f'{sql} COLLATE "{collation}"' if collation else sql
