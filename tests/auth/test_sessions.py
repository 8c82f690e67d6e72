"""Finding 2 of issue 12: logout ends every copy of a session; sessions expire when idle and at an
absolute age. The clock is driven by hand (tests/auth/conftest.py), nothing sleeps."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.funds.models import FundTransaction
from app.invoices.models import Invoice
from tests.helpers import login
from testkit.world import build_world, load_world
from tests.invoices.helpers import invoice, make_vendors

COOKIE = "acq_session"
HX = {"HX-Request": "true"}


def _cookie(client) -> str:
    return client.get_cookie(COOKIE).value


def _client_with(app, cookie: str):
    client = app.test_client()
    client.set_cookie(COOKIE, cookie)
    return client


def _transactions() -> int:
    return db.session.scalar(select(func.count()).select_from(FundTransaction))


def _sent_to_login(resp) -> bool:
    return resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def _htmx_sent_to_login(resp) -> bool:
    return resp.status_code == 401 and resp.headers["HX-Redirect"].startswith("/login")


def test_H12_02_logout_ends_every_copy_of_the_session(app):
    world = build_world()
    waiting = invoice(world, world.user("admin"), make_vendors(world).plain, number="STOLEN-1", process=True)
    assert waiting.status == "in_approval"
    allocate = f"/funds/{world.shared.id}/allocate"

    client = login(app.test_client(), "admin")
    other_browser = login(app.test_client(), "admin")
    saved = _cookie(client)
    assert _client_with(app, saved).get("/funds/").status_code == 200  # a copy works while logged in
    assert _sent_to_login(client.post("/logout"))

    before = _transactions()
    assert _sent_to_login(_client_with(app, saved).get("/funds/"))
    assert _htmx_sent_to_login(_client_with(app, saved).post(allocate, data={"amount": "5.00"}, headers=HX))
    assert _sent_to_login(_client_with(app, saved).post(allocate, data={"amount": "5.00"}))
    assert _sent_to_login(_client_with(app, saved).post(f"/invoices/{waiting.id}/approve"))
    assert _transactions() == before
    assert db.session.get(Invoice, waiting.id).status == "in_approval"

    assert other_browser.get("/funds/").status_code == 200, "logging out in one browser leaves the others"
    login(client, "admin")
    assert client.get("/funds/").status_code == 200
    assert _sent_to_login(_client_with(app, saved).get("/funds/")), "the old cookie stays dead after a new login"


def test_H12_02_session_lifetimes_default_to_8_hours_idle_and_7_days(make_app):
    app = make_app("sqlite")
    assert app.config["SESSION_IDLE_TIMEOUT"] == timedelta(hours=8)
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(days=7)


@pytest.fixture
def sqlite_world(make_app):
    app = make_app("sqlite", world=True)
    with app.app_context():
        world = load_world()
        yield app, world


def test_H12_02_idle_session_expires(sqlite_world, clock):
    app, world = sqlite_world
    client = login(app.test_client(), "fundmgr")
    for _ in range(3):  # each request restarts the idle time
        clock.advance(hours=7, minutes=59)
        assert client.get("/funds/").status_code == 200
    clock.advance(hours=8, minutes=1)
    copy = _cookie(client)
    before = _transactions()
    resp = _client_with(app, copy).post(f"/funds/{world.shared.id}/allocate", data={"amount": "5.00"}, headers=HX)
    assert _htmx_sent_to_login(resp)
    assert _transactions() == before
    resp = client.get("/funds/")
    assert _sent_to_login(resp)
    page = client.get(resp.headers["Location"]).data.decode()
    assert "Your session has ended" in page
    login(client, "fundmgr")
    assert client.get("/funds/").status_code == 200


def test_H12_02_session_ends_at_its_absolute_age_even_when_busy(sqlite_world, clock):
    app, world = sqlite_world
    client = login(app.test_client(), "fundmgr")
    started = clock.now
    while clock.now + timedelta(hours=6) < started + timedelta(days=7):
        clock.advance(hours=6)
        assert client.get("/funds/").status_code == 200
    clock.now = started + timedelta(days=7, minutes=1)
    assert _htmx_sent_to_login(client.post(f"/funds/{world.shared.id}/allocate", data={"amount": "5.00"},
                                           headers=HX))
    assert _sent_to_login(client.get("/funds/"))
    login(client, "fundmgr")
    assert client.get("/funds/").status_code == 200
    clock.advance(hours=5)
    assert client.get("/funds/").status_code == 200, "a new login starts a new lifetime"


def test_H12_02_a_form_sent_from_another_tab_after_logout_goes_to_the_login_page(make_app):
    """With CSRF on, a form of a page opened before logging out (in another tab) fails its CSRF check
    because the session is gone: the answer sends the person to the login page saying why, instead
    of a 400 "session changed" under a page that still shows them logged in."""
    import re
    app = make_app("sqlite", world=True, WTF_CSRF_ENABLED=True)
    with app.app_context():
        world = load_world()
        db.session.commit()
        fund_id = world.shared.id
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"username": "fundmgr", "password": "correct horse battery",
                                       "csrf_token": token}).status_code == 302
    page = client.get(f"/funds/{fund_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code in (302, 303)
    with app.app_context():
        before = _transactions()
    data = {"amount": "5.00", "csrf_token": token, "form_token": "x" * 24}
    fragment = client.post(f"/funds/{fund_id}/allocate", data=data, headers=HX)
    assert _htmx_sent_to_login(fragment)
    resp = client.post(f"/funds/{fund_id}/allocate", data=data)
    assert _sent_to_login(resp)
    assert "You were logged out" in client.get(resp.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert _transactions() == before
