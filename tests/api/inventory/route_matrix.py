"""Role rows for the inventory API endpoints besides record search and creation (those are in
tests/inventory/route_matrix.py): reading for every role, changing for administrators and purchasing
operators (their library's holdings and items; the service refuses others with 403)."""
from tests.route_matrix_roles import ALL, PURCHASING

MATRIX: dict = {}

API_MATRIX = {
    "api.patch_bib_record": PURCHASING,
    "api.create_holding": PURCHASING,
    "api.get_holding": ALL,
    "api.create_item": PURCHASING,
    "api.get_item": ALL,
    "api.receive_item": PURCHASING,
    "api.bind_items": PURCHASING,
    "api.list_work_orders": ALL,
    "api.get_work_order": ALL,
    "api.complete_work_order": PURCHASING,
    "api.scan_work_order": PURCHASING,
}
