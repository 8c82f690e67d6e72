"""The header search also finds purchase orders by number and fund transactions by reference, within scope."""
from __future__ import annotations

from app.extensions import db
from app.funds import services as funds
from tests.helpers import login
from tests.orders.helpers import sent_line


def test_search_finds_purchase_orders_and_transaction_references(app, world, vendors):
    admin = world.user("admin")
    pol_a = sent_line(world, admin, vendors.plain, title="Ordered in A")
    pol_b = sent_line(world, admin, vendors.plain, title="Ordered in B", library="b")
    funds.allocate(admin, world.fund_a, "10.00", reference="GRANT-ZX-17")
    funds.allocate(admin, world.fund_b, "10.00", reference="GRANT-ZX-18")
    db.session.commit()
    po_a, po_b = pol_a.po.number, pol_b.po.number

    client = login(app.test_client(), "viewer")
    html = client.get(f"/find?q={po_a}").data.decode()
    found = html[html.index('id="found-pos"'):html.index('id="found-vendors"')]
    assert f'href="/orders/pos/{po_a}"' in found and po_b not in found

    html = client.get("/find?q=grant-zx").data.decode()
    found = html[html.index('id="found-transactions"'):]
    assert "GRANT-ZX-17" in found and "GRANT-ZX-18" in found
    assert f'href="/funds/{world.fund_a.id}?q=GRANT-ZX-17"' in found

    scoped = login(app.test_client(), "viewer-a")
    html = scoped.get("/find?q=grant-zx").data.decode()
    assert "GRANT-ZX-17" in html and "GRANT-ZX-18" not in html
    html = scoped.get(f"/find?q={po_b}").data.decode()
    assert f'href="/orders/pos/{po_b}"' not in html
