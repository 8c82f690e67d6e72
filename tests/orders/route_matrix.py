"""Role rows for the orders routes (merged into tests/route_matrix.py)."""
from tests.route_matrix_roles import *  # noqa: F401,F403
from tests.route_matrix_roles import ALL, PURCHASING

MATRIX: dict = {
    "orders.index": ALL,
    "orders.export_lines": ALL,
    "orders.show": ALL,
    "orders.pos": ALL,
    "orders.export_pos": ALL,
    "orders.show_po": ALL,
    "orders.vendor_orders": ALL,
    "orders.new": PURCHASING,
    "orders.edit": PURCHASING,
    "orders.records": PURCHASING,
    "orders.approve": PURCHASING,
    "orders.defer": PURCHASING,
    "orders.resume": PURCHASING,
    "orders.close": PURCHASING,
    "orders.reopen": PURCHASING,
    "orders.renew": PURCHASING,
    "orders.send": PURCHASING,
    "orders.package": PURCHASING,
    "orders.receive": PURCHASING,
    "orders.receive_next": PURCHASING,
    "orders.pattern": PURCHASING,
    "orders.activate": PURCHASING,
    "orders.cancel": PURCHASING,
    "orders.replace_vendor": PURCHASING,
    "orders.change_vendor": PURCHASING,
    "orders.change_reference": PURCHASING,
    "orders.relink": PURCHASING,
    "orders.package_preview": PURCHASING,
    "orders.package_ready": PURCHASING,
    "orders.send_po": PURCHASING,
}
API_MATRIX: dict = {}


def url_args(world) -> dict:
    """URL values for the orders routes: one PO line of library A In Review and one sent PO, made once
    per database (later calls find them by title)."""
    from app.extensions import db
    from app.orders import services as orders
    from app.orders.models import POLine, PurchaseOrder
    from app.vendors import services as vendors
    from tests.orders.helpers import line

    pol = db.session.scalar(db.select(POLine).filter_by(title="Matrix order"))
    if pol is None:
        admin = world.user("admin")
        vendor = vendors.create_vendor(admin, "SECO", vendors.VendorFields(name="Matrix order vendor", currency="EUR"))
        line(world, admin, vendor, title="Matrix order")
        sent = line(world, admin, vendor, title="Matrix sent order")
        orders.approve_po_line(admin, sent)
        orders.send_po_line(admin, sent)
        db.session.commit()
        pol = db.session.scalar(db.select(POLine).filter_by(title="Matrix order"))
    po = db.session.scalar(db.select(PurchaseOrder).order_by(PurchaseOrder.id))
    return {"number": pol.number, "po_number": po.number}
