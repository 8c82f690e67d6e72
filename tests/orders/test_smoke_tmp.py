from datetime import date
from decimal import Decimal
from app.extensions import db
from app.orders import services as os_
from tests.orders.helpers import line


def test_flow(app, world, orders):
    buyer = world.user("buyer")
    pol = line(world, buyer, orders.eur, quantity=2)
    assert pol.number.startswith("POL-") and pol.status == "in_review"
    assert len(pol.items) == 2 and pol.net_price == Decimal("200.00")
    os_.approve_po_line(buyer, pol)
    assert pol.status == "ready"
    assert world.fund_a.encumbered == Decimal("200.00")
    po = os_.send_po_line(buyer, pol)
    assert pol.status == "sent" and po.status == "sent"
    os_.receive_po_line(buyer, pol, day=date(2026, 3, 1))
    assert pol.status == "waiting_for_invoice"
    os_.close_po_line(buyer, pol)
    assert pol.status == "closed" and po.status == "closed"
    assert world.fund_a.encumbered == 0
    os_.reopen_po_line(buyer, pol)
    os_.approve_po_line(buyer, pol)
    assert pol.status == "sent"
    db.session.commit()
    usd = line(world, buyer, orders.usd, price="33.33")
    os_.approve_po_line(buyer, usd)
    assert usd.distribution[0].encumbered_amount == Decimal("30.66")
    p = os_.cancel_preview(usd)
    assert len(p.items) == 1 and len(p.holdings) == 1
    os_.cancel_po_line(buyer, usd, "no longer needed")
    assert usd.status == "cancelled" and usd.items == [] and usd.holdings == []
    assert [e.action for e in pol.history]
