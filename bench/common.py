"""What the benchmarks share: an app on a SQLite file, reusing a generated database while it
still matches (same row count, same Alembic head, same generator version), and a throwaway
PostgreSQL cluster for the load test."""
from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
FAST_HASH = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
PASSWORD = "bench-password-2026"


def make_app(path: Path, **config):
    """The app on the SQLite file ``path`` (cheap password hashing, CSRF off for the test client, a
    throwaway key for connection secrets)."""
    from cryptography.fernet import Fernet

    from app import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench",
                       "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_PARAMS": FAST_HASH,
                       "CONNECTION_SECRET_KEY": Fernet.generate_key().decode(), **config})


def migrations_head() -> str:
    from alembic.script import ScriptDirectory
    return ScriptDirectory(str(ROOT / "migrations")).get_current_head()


def ensure_db(path: Path, table: str, rows: int, build: Callable[[], None], what: str, force: bool = False,
              version: int | None = None) -> None:
    """Run ``build`` unless ``path`` already holds ``rows`` rows in ``table`` at the migrations' head
    (and, when given, ``PRAGMA user_version`` = ``version``)."""
    if path.exists() and not force:
        with sqlite3.connect(path) as conn:
            try:
                found = (conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0],
                         conn.execute("SELECT version_num FROM alembic_version").fetchone()[0],
                         conn.execute("PRAGMA user_version").fetchone()[0] if version is not None else None)
            except sqlite3.Error:
                found = None
        if found == (rows, migrations_head(), version):
            return
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    build()
    print(f"built {path} with {rows:,} {what} in {time.perf_counter() - started:.1f} s")


def bench_institution(libraries: int):
    """Institution BENCH with libraries LIB01.., the user bench-admin (administrator) and the fiscal
    period BENCH2026; returns (admin, period, libraries). Call inside the app context."""
    from datetime import date

    from app.auth.models import Role
    from app.auth.services import create_user
    from app.extensions import db
    from app.funds import services as fs
    from app.org.models import Institution, Library

    db.session.add(Institution(code="BENCH", name="Bench University", currency="EUR"))
    libs = [Library(code=f"LIB{n:02d}", name=f"Library {n}") for n in range(1, libraries + 1)]
    db.session.add_all(libs)
    db.session.flush()
    admin = create_user(None, "bench-admin", PASSWORD, roles=[(Role.ADMIN, None)])
    period = fs.create_fiscal_period(admin, "BENCH2026", "Bench 2026", date(2026, 1, 1), date(2026, 12, 31))
    return admin, period, libs


# -- a throwaway PostgreSQL (the recipe of tests/conftest.py, which benchmarks do not import) -------

def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30) -> None:
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


@contextmanager
def postgres_cluster(durable: bool = False):
    """A new PostgreSQL cluster on 127.0.0.1 (a free port) in a temporary folder, removed at the end;
    yields its SQLAlchemy URL. Not ``durable``: fsync and synchronous commit off, like the tests."""
    import os
    import shutil
    import subprocess
    import tempfile

    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not bins:
        raise SystemExit("PostgreSQL is not installed (Debian package postgresql)")
    pgbin = bins[-1].parent
    folder = Path(tempfile.mkdtemp(prefix="acq-bench-pg-"))
    folder.chmod(0o755)
    data, port = folder / "data", free_port()
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_pg:
        shutil.chown(folder, "postgres", "postgres")
    subprocess.run(as_pg + [str(pgbin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                            "--locale=C.UTF-8"], check=True, capture_output=True)
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c max_connections=250"
    if not durable:
        opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    subprocess.run(as_pg + [str(pgbin / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-o", opts,
                            "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(as_pg + [str(pgbin / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
