"""LED-08 for invoices: 100 concurrent approvals of 15.00 against 1,000.00 available -> 66 approved."""
from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from app.auth.models import User
from app.errors import RuleViolation
from app.extensions import db
from app.funds import services as fs
from app.funds.models import Fund
from app.invoices import services as ivs
from app.invoices.models import Invoice, ReviewRule


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
    barrier, results, lock = threading.Barrier(100), [], threading.Lock()

    def approve(invoice_id):
        with app.app_context():
            manager = db.session.get(User, manager_id)
            inv = db.session.get(Invoice, invoice_id)
            db.session.commit()
            barrier.wait()
            try:
                ivs.approve_invoice(manager, inv)
                db.session.commit()
                outcome = "ok"
            except RuleViolation as exc:
                db.session.rollback()
                outcome = exc.message
            except Exception as exc:  # anything else fails the test
                db.session.rollback()
                outcome = f"ERROR {type(exc).__name__}: {exc}"
            finally:
                db.session.remove()
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=approve, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not [r for r in results if r.startswith("ERROR")], results[:3]
    assert results.count("ok") == 66
    assert all("SHARED" in r and "short by 5.00 EUR" in r for r in results if r != "ok")
    with app.app_context():
        fund = db.session.get(Fund, fund_id)
        assert fund.expended == Decimal("990.00") and fund.balance.available == Decimal("10.00")
        assert fs.check_ledger() == []
        assert db.session.scalar(db.select(db.func.count()).select_from(Invoice)
                                 .where(Invoice.status == "ready_to_be_paid")) == 66
