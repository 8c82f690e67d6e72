"""Shared fixtures: the app on SQLite and on a real PostgreSQL, clients, a standard world.

Every test that takes ``app`` runs twice, once per database. The PostgreSQL cluster is a
throwaway one started for the session (or TEST_POSTGRES_URL when given). With CI=true a missing
PostgreSQL, Chromium or sshd fails the run instead of skipping.
"""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import tempfile

import contextvars

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import text

from app import create_app
from app.extensions import db
from jobs import JOBS

from tests.servers import REQUIRE, free_port, need, wait_port  # noqa: E402,F401  (re-exported for the tests)
FAST_HASH = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
PASSWORD = "correct horse battery"


def base_config(uri: str, **extra) -> dict:
    return {"TESTING": True, "SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_PARAMS": FAST_HASH,
            "ERP_IMPORT_MIN_AGE_SECONDS": 0, "BACKUP_SCHEDULE": "", **extra}


class IsolatedClient(FlaskClient):
    """Each request runs in a fresh context, like a separate server process.

    Without this, a test holding an app context would share ``g`` (Flask-Login's cached user,
    the CSRF token) and the SQLAlchemy session with every request it makes. The test's own
    session is committed first, so its transaction never holds SQLite's write lock across a
    request; its objects reload on next access."""

    def open(self, *args, **kwargs):
        if has_app_context():
            db.session.commit()
        return contextvars.Context().run(super().open, *args, **kwargs)


def _upgrade(uri: str) -> None:
    from flask_migrate import upgrade
    app = create_app(base_config(uri))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    _upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_url(tmp_path_factory):
    url = os.environ.get("TEST_POSTGRES_URL")
    if url:
        yield url
        return
    bins = sorted(pathlib.Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    need(bool(bins), "PostgreSQL (Debian package postgresql)")
    pgbin = bins[-1].parent
    # Its own directory, outside pytest's basetemp (which other pytest runs may prune).
    d = pathlib.Path(tempfile.mkdtemp(prefix="acq-pg-"))
    d.chmod(0o755)
    data, port = d / "data", free_port()
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_pg:
        shutil.chown(d, "postgres", "postgres")
    init = subprocess.run(as_pg + [str(pgbin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                   "-E", "UTF8", "--locale=C.UTF-8"], capture_output=True, text=True)
    if init.returncode:
        pytest.fail(f"initdb failed: {init.stderr or init.stdout}")
    opts = (f"-c listen_addresses=127.0.0.1 -p {port} -k {d} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=250")
    subprocess.run(as_pg + [str(pgbin / "pg_ctl"), "-D", str(data), "-l", str(d / "log"), "-w", "-o", opts,
                            "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(as_pg + [str(pgbin / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_migrated(pg_url):
    _upgrade(pg_url)
    return pg_url


def _truncate_pg(app):
    with app.app_context():
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.session.commit()


@pytest.fixture
def make_app(request, tmp_path, sqlite_template):
    """make_app(backend, **config) -> a fresh app on an empty, migrated database."""
    made = []

    def _make(backend: str = "sqlite", **extra):
        files = {} if "ATTACHMENT_FOLDER" in extra else {"ATTACHMENT_FOLDER": str(tmp_path / "attachments")}
        if backend == "sqlite":
            path = tmp_path / f"test{len(made)}.db"
            shutil.copy(sqlite_template, path)
            app = create_app(base_config(f"sqlite:///{path}", **files, **extra), jobs=JOBS)
        else:
            url = request.getfixturevalue("pg_migrated")
            app = create_app(base_config(url, **files, **extra), jobs=JOBS)
            _truncate_pg(app)
        with app.app_context():
            from app.setup import ensure_institution
            ensure_institution()
            db.session.commit()
        app.test_client_class = IsolatedClient
        made.append(app)
        return app

    yield _make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    return request.param


@pytest.fixture
def app(make_app, backend):
    app = make_app(backend)
    with app.app_context():
        yield app


@pytest.fixture
def world(app):
    from tests.factories import build_world
    return build_world()


@pytest.fixture
def client(app):
    return app.test_client()


def login(client, username: str, password: str = PASSWORD):
    resp = client.post("/login", data={"username": username, "password": password})
    assert resp.status_code == 302, f"login of {username} failed: {resp.status_code}"
    return client


@pytest.fixture
def login_as(app):
    def _login(username: str):
        return login(app.test_client(), username)
    return _login




from tests.erp_fixtures import ftp_server, sshd  # noqa: E402,F401  (real S/FTP servers for the ERP tests)
