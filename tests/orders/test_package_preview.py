""""Package and send ready lines" shows what it would send (orders per vendor and owner, the lines, totals
per currency) and sends only once that very set is confirmed."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.orders import services as os_
from app.orders.models import POLine, PurchaseOrder
from tests.helpers import login
from tests.orders.helpers import confirmed, line, make_vendors


def _ready_lines(world):
    orders = make_vendors(world)
    admin = world.user("admin")
    made = [line(world, admin, orders.eur, title="Eur one", price="10.00"),
            line(world, admin, orders.eur, title="Eur two", price="20.50"),
            line(world, admin, orders.usd, title="Usd one", price="7.00", currency="USD")]
    for pol in made:
        os_.approve_po_line(admin, pol)
    db.session.commit()
    return orders, made


def _sent() -> int:
    db.session.expire_all()
    return db.session.scalar(select(db.func.count()).select_from(PurchaseOrder))


def test_preview_lists_orders_lines_and_totals_then_sends_on_confirmation(app, world):
    orders, made = _ready_lines(world)
    client = login(app.test_client(), "buyer")
    listing = client.get("/orders/pos/").data.decode()
    assert 'href="/orders/pos/package"' in listing and 'action="/orders/pos/package"' not in listing

    html = client.get("/orders/pos/package").data.decode()
    assert _sent() == 0, "looking sends nothing"
    groups = html[html.index('id="package-groups"'):html.index('id="package-lines"')]
    assert "EURV" in groups and "USDV" in groups and "30.50 EUR" in groups and "7.00 USD" in groups
    assert "Total in EUR" in groups and "Total in USD" in groups
    assert all(pol.number in html for pol in made)
    assert "3 ready lines go into 2 new purchase orders" in html and "Send 2 orders (3 lines)" in html

    resp = client.post("/orders/pos/package", data={"ready": confirmed(client)})
    assert resp.status_code == 302 and _sent() == 2
    assert all(db.session.get(POLine, p.id).status == "sent" for p in made)


def test_a_post_without_confirmation_or_of_another_set_sends_nothing(app, world):
    orders, made = _ready_lines(world)
    client = login(app.test_client(), "buyer")
    resp = client.post("/orders/pos/package")
    assert resp.status_code == 409 and _sent() == 0
    assert "did not confirm" in resp.data.decode() and 'name="ready"' in resp.data.decode()

    seen = confirmed(client)
    late = line(world, world.user("admin"), orders.eur, title="Made ready after the preview")
    os_.approve_po_line(world.user("admin"), late)
    db.session.commit()
    resp = client.post("/orders/pos/package", data={"ready": seen})
    assert resp.status_code == 409 and _sent() == 0
    assert late.number in resp.data.decode(), "the preview again, with the new line"


def test_nothing_ready(app, world):
    client = login(app.test_client(), "buyer")
    assert "No ready line waits" in client.get("/orders/pos/package").data.decode()
