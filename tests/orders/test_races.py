"""Two people pressing Approve (or Send) on one line at once: the line is encumbered once."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.extensions import db
from app.funds.models import FundTransaction
from app.orders import services as os_
from tests.helpers import race
from tests.orders.helpers import line, make_vendors

pytestmark = [pytest.mark.committing, pytest.mark.postgres]


def _race(app, action, pol_id: int, actor_id: int, n: int) -> list[str]:
    def load(_n):
        actor = db.session.get(User, actor_id)
        return actor, os_.get_po_line(actor, pol_id)
    return race(app, range(n), load, action)


def test_concurrent_approvals_encumber_once(app, world):
    orders = make_vendors(world)
    pol = line(world, world.user("buyer"), orders.eur, price="40.00")
    pol_id, buyer_id, fund_id = pol.id, world.users["buyer"], world.fund_a.id
    db.session.commit()
    results = _race(app, os_.approve_po_line, pol_id, buyer_id, 6)
    assert not [r for r in results if r.startswith("ERROR")], results
    assert results.count("ok") == 1
    assert all("you cannot approve it" in r for r in results if r != "ok")
    db.session.expire_all()
    rows = db.session.scalar(select(func.count()).select_from(FundTransaction)
                             .where(FundTransaction.source_type == "po_line", FundTransaction.source_id == pol_id))
    assert rows == 1
    assert db.session.get(type(world.fund_a), fund_id).encumbered == Decimal("40.00")
    db.session.commit()  # end the test's own read before the next race (SQLite: one writer at a time)
    sends = _race(app, os_.send_po_line, pol_id, buyer_id, 4)
    assert sends.count("ok") == 1, sends
