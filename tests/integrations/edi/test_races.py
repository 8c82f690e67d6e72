"""The same EDI file received twice at the same moment (two uploads, or an upload and a fetch) on
PostgreSQL: exactly one receipt creates the invoice, the other is recorded as a duplicate."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.extensions import db
from app.integrations.edi import services as edi
from app.integrations.edi.models import EdiMessage
from app.invoices.models import Invoice
from app.vendors.models import Vendor
from tests.helpers import race


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
    def load(n):
        return db.session.get(User, user_id), db.session.get(Vendor, vendor_id), f"copy{n}.edi"

    results = race(app, range(4), load, lambda user, vendor, name: edi.receive_edi_file(user, vendor, name, data),
                   done=lambda result: result.messages[0].status)
    assert sorted(results) == ["duplicate", "duplicate", "duplicate", "invoice_created"], results
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invoice).filter_by(number="RACE-1")) == 1
        assert db.session.scalar(select(func.count()).select_from(EdiMessage)) == 4
