"""The flask CLI: init, demo, users, ledger check, order runs."""
from __future__ import annotations

import pytest

from app.auth.models import User
from app.extensions import db
from app.funds.models import Fund, FundTransaction
from app.org.models import Library

pytestmark = pytest.mark.committing


def run(app, *args):
    db.session.commit()  # like a separate process: the test's own transaction must not hold the write lock
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def test_init_and_demo_are_idempotent(app):
    first = run(app, "init", "--password", "first admin password")
    assert first.exit_code == 0 and "Administrator admin created" in first.output
    again = run(app, "init")
    assert again.exit_code == 0 and "created" not in again.output
    out = run(app, "demo")
    assert out.exit_code == 0 and "fundmanager" in out.output and "library-demo-2026" in out.output
    assert "admin" in out.output and "its own password" in out.output  # admin existed before the demo
    counts = (db.session.scalar(db.select(db.func.count()).select_from(Fund)),
              db.session.scalar(db.select(db.func.count()).select_from(FundTransaction)))
    assert run(app, "demo").exit_code == 0
    assert counts == (db.session.scalar(db.select(db.func.count()).select_from(Fund)),
                      db.session.scalar(db.select(db.func.count()).select_from(FundTransaction)))
    assert db.session.scalar(db.select(db.func.count()).select_from(Library)) == 3
    assert counts[0] >= 20 and run(app, "ledger", "check").exit_code == 0
    from app.inventory.models import BibRecord
    from app.vendors.models import ExchangeRate, Vendor
    from app.orders.models import POLine
    assert [db.session.scalar(db.select(db.func.count()).select_from(m))
            for m in (Vendor, ExchangeRate, BibRecord, POLine)] == [4, 2 * 3, 4 + 6, 6], \
        "the demo has vendors, rates (USD, GBP, JPY in two periods), records and orders (each with its record), " \
        "created once"
    statuses = db.session.scalars(db.select(POLine.status).order_by(POLine.id)).all()
    assert {"in_review", "sent", "closed", "cancelled"} <= set(statuses)   # received and paid: closed


def test_users_create_and_token(app):
    run(app, "demo")
    out = run(app, "users", "create", "lena", "--role", "fund_manager", "--library", "LAW", "--password",
              "twelve chars min")
    assert out.exit_code == 0
    user = db.session.scalar(db.select(User).filter_by(username="lena"))
    assert [(a.role, a.library.code) for a in user.assignments] == [("fund_manager", "LAW")]
    db.session.commit()
    bad = app.test_cli_runner().invoke(args=["users", "create", "x", "--role", "viewer", "--library", "NOPE",
                                             "--password", "twelve chars min"])
    assert bad.exit_code != 0 and "No library NOPE" in bad.output
    token = run(app, "users", "token", "lena").output.strip()
    assert token.startswith("acq_") and len(token) > 30
    from app.auth.services import user_for_token
    assert user_for_token(token).username == "lena"


def test_orders_package_and_renewals(app, world):
    from datetime import date
    from app.orders.models import POLine
    from app.orders import services as os_
    from tests.orders.helpers import line, make_vendors
    orders = make_vendors(world)
    buyer = world.user("buyer")
    pol = line(world, buyer, orders.eur, order_type="continuous", renewal_date=date(2030, 1, 10))
    os_.approve_po_line(buyer, pol)
    out = run(app, "orders", "package")
    assert out.exit_code == 0 and "sent to EURV with 1 line(s)" in out.output and "1 purchase order(s)" in out.output
    out = run(app, "orders", "renewals", "--date", "2030-01-01")
    assert out.exit_code == 0 and out.output.startswith("1 waiting for renewal, 0 waiting for manual renewal")
    db.session.expire_all()
    assert db.session.get(POLine, pol.id).status == "waiting_for_renewal"
    assert run(app, "orders", "renewals", "--as", "nobody").exit_code != 0
