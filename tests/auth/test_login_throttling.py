"""Finding 10 of issue 12: failed logins are counted per (account, address) and per address, and
refused past a limit there; per account they only slow the login down, by a growing, bounded
delay, so an attacker cannot lock the owner out. Clock and sleep are driven by hand."""
from __future__ import annotations

import sqlite3
import threading

import pytest

from tests.helpers import PASSWORD
from testkit.world import build_world, load_world

ATTACKER = "203.0.113.9"
OWNER = "198.51.100.7"
WRONG = "not the password"


@pytest.fixture
def sqlite_app(make_app):
    app = make_app("sqlite", world=True)
    with app.app_context():
        load_world()
        yield app


def _login(app, username, password, addr):
    return app.test_client().post("/login", data={"username": username, "password": password},
                                  environ_base={"REMOTE_ADDR": addr})


def test_H12_10_an_attackers_failures_do_not_lock_out_the_owner(sqlite_app, clock):
    app = sqlite_app
    for _ in range(5):
        assert _login(app, "admin", WRONG, ATTACKER).status_code == 401
    refused = _login(app, "admin", PASSWORD, ATTACKER)
    assert refused.status_code == 429
    assert "Too many failed attempts for this user name from your address" in refused.data.decode()
    assert int(refused.headers["Retry-After"]) > 0

    clock.slept.clear()
    assert _login(app, "admin", PASSWORD, OWNER).status_code == 302, "the owner logs in from elsewhere"
    assert clock.slept and 0 < clock.slept[0] <= app.config["LOGIN_MAX_DELAY"], "... a little slowed down"
    assert _login(app, "fundmgr", PASSWORD, ATTACKER).status_code == 302, "other accounts from that address too"

    clock.advance(minutes=16)
    clock.slept.clear()
    assert _login(app, "admin", PASSWORD, ATTACKER).status_code == 302, "the window passes"
    assert clock.slept == []


def test_H12_10_the_delay_per_account_grows_is_bounded_and_holds_no_write_lock(sqlite_app, clock):
    app = sqlite_app
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    writable_while_sleeping = []

    def try_to_write():
        other = sqlite3.connect(path, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.rollback()
            writable_while_sleeping.append(True)
        except sqlite3.OperationalError:
            writable_while_sleeping.append(False)
        finally:
            other.close()

    clock.on_sleep = try_to_write
    delays = []
    for i in range(40):  # an attacker spreading guesses over many addresses
        clock.slept.clear()
        assert _login(app, "admin", WRONG, f"10.0.{i}.1").status_code == 401
        delays.append(sum(clock.slept))
    limit, cap = app.config["LOGIN_MAX_FAILURES"], app.config["LOGIN_MAX_DELAY"]
    assert delays[:limit] == [0] * limit
    assert delays == sorted(delays) and delays[limit] > 0 and max(delays) == cap <= 5
    assert all(writable_while_sleeping) and len(writable_while_sleeping) == len(delays) - limit

    clock.slept.clear()
    assert _login(app, "admin", PASSWORD, OWNER).status_code == 302
    assert clock.slept == [cap]


def test_H12_10_one_address_guessing_many_accounts_is_refused(sqlite_app, clock):
    app = sqlite_app
    per_address = app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    for i in range(per_address):
        assert _login(app, f"guess{i}", WRONG, ATTACKER).status_code == 401
    refused = _login(app, "viewer", PASSWORD, ATTACKER)
    assert refused.status_code == 429 and "Too many failed logins from your address" in refused.data.decode()
    assert _login(app, "viewer", PASSWORD, OWNER).status_code == 302
    clock.advance(minutes=16)
    assert _login(app, "viewer", PASSWORD, ATTACKER).status_code == 302


def test_H12_10_a_successful_login_forgets_that_addresss_typos(sqlite_app, clock):
    app = sqlite_app
    for _ in range(4):
        assert _login(app, "viewer", WRONG, OWNER).status_code == 401
    assert _login(app, "viewer", PASSWORD, OWNER).status_code == 302
    for _ in range(4):
        assert _login(app, "viewer", WRONG, OWNER).status_code == 401
    assert _login(app, "viewer", PASSWORD, OWNER).status_code == 302


@pytest.mark.committing
@pytest.mark.postgres
def test_H12_10_simultaneous_guesses_do_not_slip_past_the_limit(app, clock):
    """Counting and recording an attempt happen in one transaction serialised per address, so 20
    guesses sent at once from one address for one account still get only LOGIN_MAX_FAILURES tries."""
    build_world()
    start = threading.Barrier(20)
    codes = []

    def guess():
        client = app.test_client()
        start.wait()
        codes.append(client.post("/login", data={"username": "admin", "password": WRONG},
                                 environ_base={"REMOTE_ADDR": ATTACKER}).status_code)

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(codes) == [401] * app.config["LOGIN_MAX_FAILURES"] + [429] * 15


def test_H12_10_behind_a_proxy_the_forwarded_address_counts(make_app, clock):
    app = make_app("sqlite", world=True, PROXY_FIX_X_FOR=1)
    with app.app_context():
        load_world()

    def via_proxy(password, addr):
        return app.test_client().post("/login", data={"username": "admin", "password": password},
                                      headers={"X-Forwarded-For": addr}, environ_base={"REMOTE_ADDR": "127.0.0.1"})

    for _ in range(5):
        assert via_proxy(WRONG, ATTACKER).status_code == 401
    assert via_proxy(PASSWORD, ATTACKER).status_code == 429
    assert via_proxy(PASSWORD, OWNER).status_code == 302
