"""The database's copy and its way back.

SQLite: the online backup API copies the whole file in one step, under one read transaction, so
the copy is one consistent state even while others write (WAL lets them go on meanwhile).
PostgreSQL: a REPEATABLE READ transaction exports its snapshot; the row counts are read in it and
``pg_dump --snapshot`` dumps exactly that state (custom format). ``pg_restore`` loads it back in
one transaction.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from ..text import T
from . import BackupError

SQLITE_MEMBER = "database/acq.sqlite3"
PG_MEMBER = "database/acq.pgdump"


@dataclass
class Snapshot:
    kind: str                  # sqlite | postgresql
    member: str                # its name inside the archive
    path: Path                 # the copy, staged on disk
    row_counts: dict[str, int]
    revision: str | None       # alembic revision of the copy
    server_version: str


def kind(engine: Engine) -> str:
    name = engine.dialect.name
    if name not in ("sqlite", "postgresql"):
        raise BackupError(T("Backups handle SQLite and PostgreSQL databases, not %(name)s.", name=name))
    return name


def describe(engine: Engine) -> str:
    """The database's address without its password, for messages."""
    return engine.url.render_as_string(hide_password=True)


def dump(engine: Engine, staging: Path, busy_timeout_ms: int = 15000) -> Snapshot:
    if kind(engine) == "sqlite":
        return _dump_sqlite(engine, staging, busy_timeout_ms)
    return _dump_postgresql(engine, staging)


def table_counts(conn: Connection) -> dict[str, int]:
    """Rows per table (SQLite's own tables left out), read in ``conn``'s transaction."""
    quote = conn.dialect.identifier_preparer.quote
    return {name: conn.execute(text(f"SELECT count(*) FROM {quote(name)}")).scalar_one()
            for name in sorted(inspect(conn).get_table_names()) if not name.startswith("sqlite_")}


def revision(conn: Connection) -> str | None:
    if "alembic_version" not in inspect(conn).get_table_names():
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def rows_present(engine: Engine) -> dict[str, int]:
    """The tables of the target database that hold rows (the Alembic bookkeeping aside)."""
    if kind(engine) == "sqlite":
        path = _sqlite_path(engine)
        if not path.exists() or path.stat().st_size == 0:
            return {}
    try:
        with engine.connect() as conn:
            counts = table_counts(conn)
    except OperationalError as exc:
        raise BackupError(T("Cannot open the database %(database)s: %(error)s", database=describe(engine),
                            error=str(exc.orig))) from None
    return {name: n for name, n in counts.items() if n and name != "alembic_version"}


def has_tables(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(inspect(conn).get_table_names())


# -- SQLite ------------------------------------------------------------------------------------------

def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        raise BackupError(T("An in-memory SQLite database has nothing on disk to back up or restore into."))
    return Path(database)


def _dump_sqlite(engine: Engine, staging: Path, busy_timeout_ms: int) -> Snapshot:
    source = _sqlite_path(engine)
    if not source.exists():
        raise BackupError(T("The SQLite database %(path)s does not exist.", path=str(source)))
    target = staging / Path(SQLITE_MEMBER).name
    with closing(sqlite3.connect(source, timeout=busy_timeout_ms / 1000)) as src, \
            closing(sqlite3.connect(target)) as dst:
        src.backup(dst)   # pages=-1: every page in one step, so one consistent read snapshot
        dst.execute("PRAGMA journal_mode=DELETE")   # the copy is one self-contained file
        version = sqlite3.sqlite_version
    copy = create_engine(f"sqlite:///{target}")
    try:
        with copy.connect() as conn:
            counts, rev = table_counts(conn), revision(conn)
    finally:
        copy.dispose()
    return Snapshot("sqlite", SQLITE_MEMBER, target, counts, rev, version)


def restore_sqlite(engine: Engine, copy: Path) -> None:
    """Put the restored file in place of the (empty) database file."""
    target = _sqlite_path(engine).resolve()
    engine.dispose()   # no connection of ours may keep the old file (or its WAL) open
    target.parent.mkdir(parents=True, exist_ok=True)
    incoming = target.with_name(target.name + ".restoring")
    shutil.move(str(copy), incoming)
    with open(incoming, "rb") as fh:
        os.fsync(fh.fileno())
    # A WAL left by the old file would be replayed into the new one.
    for suffix in ("-wal", "-shm", "-journal"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    os.replace(incoming, target)
    _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- PostgreSQL --------------------------------------------------------------------------------------

def pg_tool(name: str) -> str:
    """``pg_dump`` / ``pg_restore`` of the newest PostgreSQL installed (Debian keeps them under
    /usr/lib/postgresql/<version>/bin; a dump needs a pg_dump at least as new as the server),
    else the one on PATH."""
    def version(path: Path) -> float:
        try:
            return float(path.parent.parent.name)
        except ValueError:
            return 0.0
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=version)
    if found:
        return str(found[-1])
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise BackupError(T("%(name)s was not found: install PostgreSQL's client programs (Debian package "
                        "postgresql-client).", name=name))


def _libpq(engine: Engine) -> tuple[str, dict]:
    """A libpq URI for the command-line tools, and an environment carrying the password (never
    on the command line, where other users could read it)."""
    url = engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _run(args: list[str], env: dict, what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(T("%(what)s failed: %(detail)s", what=what,
                            detail=" ".join(detail[-5:]) or f"exit code {done.returncode}"))


def _dump_postgresql(engine: Engine, staging: Path) -> Snapshot:
    pg_dump = pg_tool("pg_dump")
    target = staging / Path(PG_MEMBER).name
    uri, env = _libpq(engine)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            counts, rev = table_counts(conn), revision(conn)
            version = conn.execute(text("SHOW server_version")).scalar_one()
            # The snapshot lives as long as this transaction: pg_dump runs inside it.
            _run([pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={target}", f"--dbname={uri}"],
                 env, "pg_dump")
    return Snapshot("postgresql", PG_MEMBER, target, counts, rev, version)


def restore_postgresql(engine: Engine, dump_file: Path) -> None:
    """Load the dump into the configured (empty) database in one transaction: a failure leaves it
    as it was. Empty tables already there (a schema made by ``flask db upgrade``) are replaced."""
    clean = has_tables(engine)
    engine.dispose()
    uri, env = _libpq(engine)
    args = [pg_tool("pg_restore"), "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges"]
    if clean:
        args += ["--clean", "--if-exists"]
    _run(args + [f"--dbname={uri}", str(dump_file)], env, "pg_restore")
