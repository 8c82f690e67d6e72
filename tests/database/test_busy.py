"""Finding 1 of issue 12: when the database is busy anyway, every request answers a clear 503 with
Retry-After (the API its JSON error shape, pages and HTMX requests a friendly message), never a
500, and nothing of the request is saved. Web requests wait briefly; jobs stay patient.

The lock is real: another connection holds SQLite's write lock (BEGIN IMMEDIATE) or a fund row's
lock on PostgreSQL (SELECT … FOR UPDATE) while the request runs.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import contextmanager
from decimal import Decimal

import pytest

from app.auth.services import issue_api_token
from app.extensions import db
from app.funds import services as funds
from app.funds.models import Fund, FundTransaction
from app.idempotency import new_form_token
from tests.helpers import login

SHORT = {"SQLITE_BUSY_TIMEOUT_MS": 200, "DB_LOCK_TIMEOUT_MS": 200}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres_only)])
def busy_app(request, make_app):
    app = make_app(request.param, world=True, **SHORT)
    with app.app_context():
        from testkit.world import load_world
        world = load_world()
        yield app, world


@contextmanager
def locked(app, fund_id: int, seconds: float = 30):
    """Hold the lock a writer of ``fund_id`` needs, from another connection, for at most
    ``seconds`` (so a request that would wait for ever still ends the test)."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        conn = sqlite3.connect(uri.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False)
        conn.execute("BEGIN IMMEDIATE")
    else:
        import psycopg
        conn = psycopg.connect(uri.replace("postgresql+psycopg", "postgresql"))
        conn.execute("SELECT id FROM fund WHERE id = %s FOR UPDATE", (fund_id,))
    timer = threading.Timer(seconds, conn.rollback)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        conn.rollback()
        conn.close()


def _count() -> int:
    """Count, then end the test's own transaction (on SQLite it would hold the write lock)."""
    db.session.commit()
    count = db.session.scalar(db.select(db.func.count()).select_from(FundTransaction))
    db.session.commit()
    return count


def test_H12_01_busy_database_answers_503_json_with_retry_after_on_the_api(busy_app):
    app, world = busy_app
    token = issue_api_token(None, world.user("fundmgr"))
    fund_id = world.shared.id
    before = _count()
    client = app.test_client()
    with locked(app, fund_id):
        started = time.monotonic()
        resp = client.post(f"/api/v1/funds/{fund_id}/transactions", json={"type": "allocation",
                           "amount": "5.00"}, headers={"Authorization": f"Bearer {token}"})
        waited = time.monotonic() - started
    assert resp.status_code == 503, resp.data[:300]
    assert resp.mimetype == "application/json"
    assert resp.get_json() == {"error": {"code": "busy", "message": resp.get_json()["error"]["message"]}}
    assert "busy" in resp.get_json()["error"]["message"]
    assert int(resp.headers["Retry-After"]) >= 1
    assert waited < 10
    assert _count() == before
    # once the lock is gone the same request goes through
    resp = client.post(f"/api/v1/funds/{fund_id}/transactions", json={"type": "allocation",
                       "amount": "5.00"}, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 201 and _count() == before + 1


def test_H12_01_busy_database_answers_a_friendly_page_and_htmx_message(busy_app):
    app, world = busy_app
    client = login(app.test_client(), "fundmgr")
    fund_id = world.shared.id
    before = _count()
    url = f"/funds/{fund_id}/allocate"
    with locked(app, fund_id):
        page = client.post(url, data={"amount": "5.00", "reference": "R", "form_token": new_form_token()})
        fragment = client.post(url, data={"amount": "5.00", "reference": "R", "form_token": new_form_token()},
                               headers={"HX-Request": "true"})
    assert page.status_code == 503 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "The database is busy" in text and "Try again in a moment" in text and "<html" in text
    assert int(page.headers["Retry-After"]) >= 1
    assert fragment.status_code == 503 and int(fragment.headers["Retry-After"]) >= 1
    assert fragment.headers["HX-Retarget"] == "#problems"
    body = fragment.get_data(as_text=True)
    assert "The database is busy" in body and "<html" not in body
    assert _count() == before


def test_H12_01_jobs_wait_patiently_while_requests_give_up(make_app):
    """A request gives up after SQLITE_BUSY_TIMEOUT_MS; a job (any other thread) waits up to
    SQLITE_JOB_BUSY_TIMEOUT_MS and gets through once the lock is released."""
    app = make_app("sqlite", world=True, SQLITE_BUSY_TIMEOUT_MS=200, SQLITE_JOB_BUSY_TIMEOUT_MS=30000)
    with app.app_context():
        from testkit.world import load_world
        world = load_world()
        fund_id, actor_id = world.shared.id, world.users["fundmgr"]
        token = issue_api_token(None, world.user("fundmgr"))
        db.session.commit()
    outcome = {}

    def job():
        with app.app_context():
            from app.auth.models import User
            try:
                funds.allocate(db.session.get(User, actor_id), db.session.get(Fund, fund_id), Decimal("1.00"),
                            "JOB")
                db.session.commit()
                outcome["job"] = "ok"
            except Exception as exc:  # reported below
                outcome["job"] = repr(exc)
            finally:
                db.session.remove()

    with app.app_context(), locked(app, fund_id, seconds=60):
        thread = threading.Thread(target=job)
        thread.start()
        resp = app.test_client().post(f"/api/v1/funds/{fund_id}/transactions", json={"type": "allocation",
                                      "amount": "1.00"}, headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 503
        assert thread.is_alive(), outcome   # the job still waits
    thread.join(30)
    assert outcome == {"job": "ok"}


@contextmanager
def lock_taken_after_each_commit(app):
    """Right after a request's commit, another connection takes SQLite's write lock (a busy moment
    that starts just then); released when the block ends."""
    from flask import has_request_context
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    held = []

    def take(_session):
        if has_request_context() and not held:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute("BEGIN IMMEDIATE")
            held.append(conn)

    event.listen(Session, "after_commit", take)
    try:
        yield held
    finally:
        event.remove(Session, "after_commit", take)
        for conn in held:
            conn.rollback()
            conn.close()


def test_H12_01_a_write_committed_just_before_the_database_got_busy_answers_its_success(make_app):
    """What a request renders after its commit only reads: it must not wait for the write lock and
    answer 503 "nothing was saved" for a change that was saved (a client would send it again)."""
    app = make_app("sqlite", world=True, **SHORT)
    with app.app_context():
        from testkit.world import load_world
        world = load_world()
        token = issue_api_token(None, world.user("fundmgr"))
        db.session.commit()
        fund_id = world.shared.id
        before = _count()
        client = app.test_client()
        with lock_taken_after_each_commit(app) as held:
            resp = client.post(f"/api/v1/funds/{fund_id}/transactions", json={"type": "allocation", "amount": "5.00"},
                               headers={"Authorization": f"Bearer {token}"})
        assert held, "the lock was taken after the commit"
        assert resp.status_code == 201, resp.get_data(as_text=True)[:300]
        assert resp.get_json()["items"][0]["amount"] == "5.00"
        browser = login(app.test_client(), "fundmgr")
        with lock_taken_after_each_commit(app) as held:
            page = browser.post(f"/funds/{fund_id}/allocate", headers={"HX-Request": "true"},
                                data={"amount": "7.00", "reference": "R", "form_token": new_form_token()})
        assert held and page.status_code == 200, page.get_data(as_text=True)[:300]
        assert _count() == before + 2
