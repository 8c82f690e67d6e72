"""Role rows for the inventory routes (merged into tests/route_matrix.py)."""
from tests.route_matrix_roles import ALL, PURCHASING

MATRIX = {
    "inventory.search": ALL,
    "inventory.show_record": ALL,
    "inventory.show_holding": ALL,
    "inventory.show_item": ALL,
    "inventory.edit_record": PURCHASING,
    "inventory.add_holding": PURCHASING,
    "inventory.add_item": PURCHASING,
    "inventory.receive_item": PURCHASING,
}

API_MATRIX = {
    "api.create_bib_record": PURCHASING,
}


def url_args(world) -> dict:
    """URL values for the inventory routes in the role matrix: a record with a holding of LIBA and an
    unreceived item, which every institution-wide user may see (tests/route_matrix.py::domain_url_args).
    Made once per database: later calls return the same objects."""
    from app.extensions import db
    from app.inventory.models import Item
    from tests.inventory.helpers import make_inventory
    item = db.session.scalar(db.select(Item).filter_by(barcode="A0001"))
    if item is None:
        item = make_inventory(world).item
    return {"record_id": item.holding.bib_record_id, "holding_id": item.holding_id, "item_id": item.id}
