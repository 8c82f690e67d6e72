"""The PO page offers "Create invoice" (pre-filled from the PO) to invoice operators once it was sent."""
from app.extensions import db
from app.orders import services as os_
from tests.helpers import login
from tests.orders.helpers import line


def test_sent_po_links_to_a_new_invoice_from_it(app, world, orders):
    buyer = world.user("buyer")
    pol = line(world, buyer, orders.eur)
    os_.approve_po_line(buyer, pol)
    po = os_.send_po_line(buyer, pol)
    db.session.commit()
    link = f'href="/invoices/new?po={po.number}">Create invoice</a>'
    assert link in login(app.test_client(), "invoicer").get(f"/orders/pos/{po.number}").get_data(as_text=True)
    assert link not in login(app.test_client(), "viewer").get(f"/orders/pos/{po.number}").get_data(as_text=True)
    form = login(app.test_client(), "invoicer").get(f"/invoices/new?po={po.number}").get_data(as_text=True)
    assert pol.number in form
