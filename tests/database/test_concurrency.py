"""LED-08/LED-10: concurrent spends against one fund never overspend.

Each spend runs in its own thread, app context, session and database connection, all released
at once by a barrier. PostgreSQL serialises them with SELECT ... FOR UPDATE on the fund row;
SQLite with BEGIN IMMEDIATE.
"""
from __future__ import annotations

from decimal import Decimal

import pytest

from app.auth.models import User
from app.extensions import db
from app.funds import services as funds
from app.funds.models import Fund, FundTransaction
from app.ledger import TransactionKind
from tests.helpers import race


def _race(app, fund_id: int, actor_id: int, spends: int, amount: Decimal):
    def load(_n):
        return db.session.get(User, actor_id), db.session.get(Fund, fund_id)

    def spend(actor, fund):
        funds.post(actor, fund, TransactionKind.EXPENDITURE, amount, reference="RACE")
    return race(app, range(spends), load, spend)


def _setup(app):
    with app.app_context():
        from testkit.world import build_world
        world = build_world()
        return world.shared.id, world.users["fundmgr"]


@pytest.mark.postgres_only
@pytest.mark.parametrize("run", range(3))
def test_LED08_100_concurrent_spends_on_postgresql(make_app, run):
    app = make_app("postgresql", SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 105, "max_overflow": 5})
    fund_id, actor_id = _setup(app)
    results = _race(app, fund_id, actor_id, 100, Decimal("15.00"))
    errors = [r for r in results if r.startswith("ERROR")]
    assert not errors, errors[:3]
    assert results.count("ok") == 66
    refused = [r for r in results if r != "ok"]
    assert len(refused) == 34 and all("SHARED" in r and "short by 5.00 EUR" in r for r in refused)
    with app.app_context():
        fund = db.session.get(Fund, fund_id)
        assert fund.balance.available == Decimal("10.00")
        assert funds.check_ledger() == []
        assert db.session.scalar(db.select(db.func.count()).select_from(FundTransaction)
                                 .where(FundTransaction.reference == "RACE")) == 66


def test_LED10_concurrent_spends_on_sqlite(make_app):
    app = make_app("sqlite")
    fund_id, actor_id = _setup(app)
    with app.app_context():
        funds.post(db.session.get(User, actor_id), db.session.get(Fund, fund_id), TransactionKind.EXPENDITURE,
                Decimal("900.00"))
        db.session.commit()
    results = _race(app, fund_id, actor_id, 16, Decimal("15.00"))
    assert not [r for r in results if r.startswith("ERROR")]
    assert results.count("ok") == 6
    with app.app_context():
        assert db.session.get(Fund, fund_id).balance.available == Decimal("10.00")
        assert funds.check_ledger() == []
