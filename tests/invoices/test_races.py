"""LED-08 for invoices: 100 concurrent approvals of 15.00 against 1,000.00 available -> 66 approved."""
from __future__ import annotations

from decimal import Decimal

import pytest

from app.auth.models import User
from app.extensions import db
from app.funds import services as funds
from app.funds.models import Fund
from app.invoices import services as invoices
from app.invoices.models import Invoice, ReviewRule
from tests.helpers import race


@pytest.mark.postgres_only
def test_100_concurrent_invoice_approvals_on_postgresql(make_app):
    app = make_app("postgresql", world=True, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 105, "max_overflow": 5})
    with app.app_context():
        from testkit.world import load_world
        from tests.invoices.helpers import invoice, make_vendors
        world = load_world()
        vendors = make_vendors(world)
        db.session.execute(db.update(ReviewRule).values(active=False))  # 100 look-alike invoices
        op = world.user("invoicer")
        ids = [invoice(world, op, vendors.plain, number=f"R-{n}", amounts=("15.00",), process=True, library=None).id
               for n in range(100)]
        fund_id, manager_id = world.shared.id, world.users["invmanager"]
        db.session.commit()
    def load(invoice_id):
        return db.session.get(User, manager_id), db.session.get(Invoice, invoice_id)

    results = race(app, ids, load, invoices.approve_invoice)
    assert not [r for r in results if r.startswith("ERROR")], results[:3]
    assert results.count("ok") == 66
    assert all("SHARED" in r and "short by 5.00 EUR" in r for r in results if r != "ok")
    with app.app_context():
        fund = db.session.get(Fund, fund_id)
        assert fund.expended == Decimal("990.00") and fund.balance.available == Decimal("10.00")
        assert funds.check_ledger() == []
        assert db.session.scalar(db.select(db.func.count()).select_from(Invoice)
                                 .where(Invoice.status == "ready_to_be_paid")) == 66
