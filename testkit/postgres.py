"""A throwaway PostgreSQL cluster (Debian's binaries, a temporary folder, a free port on 127.0.0.1)
and databases made from templates in it. Used by the tests (one cluster per run, one database per
test worker) and by the load benchmark."""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import tempfile
from contextlib import contextmanager

from .net import free_port


def binaries() -> pathlib.Path | None:
    """The newest installed PostgreSQL's bin folder, or None."""
    found = sorted(pathlib.Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


class Cluster:
    """``Cluster.start()`` runs initdb and pg_ctl start; ``url`` is its SQLAlchemy URL (database
    ``postgres``); ``stop()`` stops it and removes its folder. Not ``durable``: fsync and synchronous
    commit off (a test or benchmark database may be lost in a crash)."""

    def __init__(self, folder: pathlib.Path, port: int):
        self.folder, self.port = folder, port
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    @staticmethod
    def _as_postgres() -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @classmethod
    def start(cls, durable: bool = False, max_connections: int = 250) -> "Cluster":
        pgbin = binaries()
        if pgbin is None:
            raise RuntimeError("PostgreSQL is not installed (Debian package postgresql)")
        # Its own folder, outside pytest's basetemp (which other pytest runs may prune).
        folder = pathlib.Path(tempfile.mkdtemp(prefix="acq-pg-"))
        folder.chmod(0o755)
        as_pg = cls._as_postgres()
        if as_pg:
            shutil.chown(folder, "postgres", "postgres")
        cluster = cls(folder, free_port())
        data = folder / "data"
        init = subprocess.run(as_pg + [str(pgbin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                       "-E", "UTF8", "--locale=C.UTF-8"], capture_output=True, text=True)
        if init.returncode:
            shutil.rmtree(folder, ignore_errors=True)
            raise RuntimeError(f"initdb failed: {init.stderr or init.stdout}")
        opts = (f"-c listen_addresses=127.0.0.1 -p {cluster.port} -k {folder} -c max_connections={max_connections}")
        if not durable:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        started = subprocess.run(as_pg + [str(pgbin / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w",
                                          "-o", opts, "start"], capture_output=True, text=True)
        if started.returncode:
            shutil.rmtree(folder, ignore_errors=True)
            raise RuntimeError(f"pg_ctl start failed: {started.stderr or started.stdout}")
        return cluster

    def stop(self) -> None:
        pgbin = binaries()
        subprocess.run(self._as_postgres() + [str(pgbin / "pg_ctl"), "-D", str(self.folder / "data"),
                                              "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def postgres_cluster(durable: bool = False):
    """A new cluster for the duration of the block; yields its SQLAlchemy URL."""
    cluster = Cluster.start(durable=durable)
    try:
        yield cluster.url
    finally:
        cluster.stop()


def database_url(server_url: str, name: str) -> str:
    """``server_url`` (any database of the server) with the database ``name``."""
    from sqlalchemy.engine import make_url
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def _admin(server_url: str, *statements: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool
    engine = create_engine(server_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    """A new database ``name`` (a copy of ``template`` when given, which nobody may be connected
    to); returns its URL."""
    _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
           f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return database_url(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def databases(server_url: str, prefix: str) -> list[str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool
    engine = create_engine(server_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                                     {"p": prefix + "%"}))
    finally:
        engine.dispose()
