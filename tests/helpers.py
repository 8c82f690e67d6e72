"""Constants and plain helpers of the tests (no fixtures: those live in tests/fixtures/).

``PASSWORD`` is every world user's password; ``login`` logs a test client in; ``need`` skips a test
(or, with CI=true, fails it) when a program it needs is missing; ``examples`` scales a Hypothesis
example count to the profile in force (see tests/conftest.py)."""
from __future__ import annotations

import contextvars
import os

import pytest
from flask import has_app_context
from flask.testing import FlaskClient

from testkit.net import free_port, served, wait_port  # noqa: F401  (for the tests)
from testkit import FAST_HASH, PASSWORD  # noqa: F401

REQUIRE = os.environ.get("CI") == "true"


def need(ok: bool, what: str):
    if not ok:
        (pytest.fail if REQUIRE else pytest.skip)(f"{what} not available")


def base_config(uri: str, **extra) -> dict:
    return {"TESTING": True, "SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_PARAMS": FAST_HASH,
            "ERP_IMPORT_MIN_AGE_SECONDS": 0, "BACKUP_SCHEDULE": "", "OUTGOING_KICK": False,
            "PACKAGE_RUNS_IN_FOREGROUND": True, **extra}


class IsolatedClient(FlaskClient):
    """Each request runs in a fresh context, like a separate server process.

    Without this, a test holding an app context would share ``g`` (Flask-Login's cached user,
    the CSRF token) and the SQLAlchemy session with every request it makes. The test's own
    session is committed first, so its transaction never holds SQLite's write lock across a
    request; its objects reload on next access. The answer is read whole inside that context too
    (``buffered``): a streamed one (app/exports.py) pushes the request's contexts again as it is read."""

    def open(self, *args, **kwargs):
        if has_app_context():
            from app.extensions import db
            db.session.commit()
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)


def login(client, username: str, password: str = PASSWORD):
    resp = client.post("/login", data={"username": username, "password": password})
    assert resp.status_code == 302, f"login of {username} failed: {resp.status_code}"
    return client


def full_hypothesis() -> bool:
    from hypothesis import settings
    return settings._current_profile == "ci"


def examples(count: int) -> int:
    """``count`` examples in the full (CI) Hypothesis profile, a tenth of them (at least 10) in the
    quick one used while developing."""
    return count if full_hypothesis() else max(10, count // 10)


def upgrade(uri: str) -> None:
    """Bring the database at ``uri`` to the migrations' head (``flask db upgrade``)."""
    from flask_migrate import upgrade as flask_upgrade

    from app import create_app
    from app.extensions import db
    app = create_app(base_config(uri))
    with app.app_context():
        flask_upgrade()
        db.engine.dispose()


def race(app, runs: list, load, act, done=lambda _result: "ok") -> list[str]:
    """Run ``act(*load(run))`` for every item of ``runs`` at once, each in its own thread, app
    context, session and connection, released together by a barrier after ``load`` has read what it
    needs (that read is committed first, so each ``act`` opens its own write transaction). Returns
    each thread's outcome, in the order they ended: ``done(result)`` when its change was committed,
    the message of a refusal (RuleViolation), or ``"ERROR <type>: <message>"`` for anything else."""
    import threading

    from app.errors import RuleViolation
    from app.extensions import db

    barrier, results, lock = threading.Barrier(len(runs)), [], threading.Lock()

    def one(run):
        with app.app_context():
            args = load(run)
            db.session.commit()
            barrier.wait()
            try:
                result = act(*args)
                db.session.commit()
                outcome = done(result)
            except RuleViolation as exc:
                db.session.rollback()
                outcome = exc.message
            except Exception as exc:  # anything else is a failure of the test
                db.session.rollback()
                outcome = f"ERROR {type(exc).__name__}: {exc}"
            finally:
                db.session.remove()
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=one, args=(run,)) for run in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def show_columns(user, list_name: str, keys=None) -> None:
    """Let ``user`` show ``keys`` (default: every column) on the list ``list_name``, as the column
    chooser would, and commit."""
    from app import list_columns
    from app.extensions import db
    table = list_columns.TABLES[list_name]
    list_columns.save(user, table, keys if keys is not None else [c.key for c in table.columns.all])
    db.session.commit()
