"""The same EDI file received twice at the same moment (two uploads, or an upload and a fetch) on
PostgreSQL: exactly one receipt creates the invoice, the other is recorded as a duplicate."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.extensions import db
from app.integrations.edi import services as es
from app.integrations.edi.models import EdiMessage
from app.invoices.models import Invoice
from app.vendors.models import Vendor


@pytest.mark.postgres_only
def test_same_file_at_once_creates_one_invoice(make_app):
    app = make_app("postgresql", world=True, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 2})
    with app.app_context():
        from testkit.world import load_world
        from tests.integrations.edi.helpers import interchange, invoic, pol
        from tests.orders.helpers import make_vendors
        world = load_world()
        vendors = make_vendors(world)
        p = pol(world, vendors.eur)
        data = interchange(invoic("RACE-1", [(p.number, 2, "20.00", "40.00", None, None)], total="40.00"))
        user_id, vendor_id = world.users["invoicer"], vendors.eur.id
        db.session.commit()
    barrier, results, lock = threading.Barrier(4), [], threading.Lock()

    def receive(n):
        with app.app_context():
            user, vendor = db.session.get(User, user_id), db.session.get(Vendor, vendor_id)
            db.session.commit()
            barrier.wait()
            try:
                result = es.receive_edi_file(user, vendor, f"copy{n}.edi", data)
                db.session.commit()
                outcome = result.messages[0].status
            except Exception as exc:  # anything else fails the test
                db.session.rollback()
                outcome = f"ERROR {type(exc).__name__}: {exc}"
            finally:
                db.session.remove()
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=receive, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(results) == ["duplicate", "duplicate", "duplicate", "invoice_created"], results
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invoice).filter_by(number="RACE-1")) == 1
        assert db.session.scalar(select(func.count()).select_from(EdiMessage)) == 4
