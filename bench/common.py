"""What the benchmarks share: an app on a SQLite file, reusing a generated database while it
still matches (same row count, same Alembic head, same generator version), and a throwaway
PostgreSQL cluster for the load test (testkit/postgres.py, shared with the tests)."""
from __future__ import annotations

import resource
import sqlite3
import time
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
    from app.funds import services as funds
    from app.org.models import Institution, Library

    db.session.add(Institution(code="BENCH", name="Bench University", currency="EUR"))
    libs = [Library(code=f"LIB{n:02d}", name=f"Library {n}") for n in range(1, libraries + 1)]
    db.session.add_all(libs)
    db.session.flush()
    admin = create_user(None, "bench-admin", PASSWORD, roles=[(Role.ADMIN, None)])
    period = funds.create_fiscal_period(admin, "BENCH2026", "Bench 2026", date(2026, 1, 1), date(2026, 12, 31))
    return admin, period, libs


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (VmHWM: unlike ``ru_maxrss``, not carried over
    from the parent across exec, so a fresh subprocess measures only itself)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# A free port, waiting for one, and a throwaway PostgreSQL cluster: the recipes the tests use too.
from testkit.net import free_port, wait_port  # noqa: E402,F401
from testkit.postgres import postgres_cluster  # noqa: E402,F401
