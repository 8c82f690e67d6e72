"""Role rows for the binding work-order routes (merged into tests/route_matrix.py)."""
from tests.route_matrix_roles import ALL, PURCHASING

MATRIX = {
    "inventory.bind_items": PURCHASING,
    "inventory.work_orders": ALL,
    "inventory.show_work_order": ALL,
    "inventory.complete_work_order": PURCHASING,
    "inventory.scan_work_order": PURCHASING,
}


def url_args(world) -> dict:
    """An open binding work order of library A, which every institution-wide user may see. Made once per
    database: later calls return the same one. (The bind route's holding_id comes from the inventory rows.)"""
    from app.extensions import db
    from app.inventory.models import Item, WorkOrder
    from tests.inventory.binding.helpers import make_bindable, bind
    work_order = db.session.scalar(db.select(WorkOrder).join(Item, WorkOrder.new_item_id == Item.id)
                                   .where(Item.barcode == "MATRIX-BOUND"))
    if work_order is None:
        work_order = bind(world.user("admin"), make_bindable(world, prefix="MATRIX-"), barcode="MATRIX-BOUND")
        db.session.commit()
    return {"work_order_id": work_order.id}
