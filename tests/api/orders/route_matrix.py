"""Role rows for the PO-line API endpoints (merged into tests/route_matrix.py). The API has no pages,
so MATRIX is empty; API_MATRIX lists every endpoint, reading for every role and ordering for
administrators and purchasing operators."""
from tests.route_matrix_roles import ALL, PURCHASING

MATRIX: dict = {}

API_MATRIX = {
    "api.list_po_lines": ALL,
    "api.get_po_line": ALL,
    "api.create_po_line": PURCHASING,
    "api.approve_po_line": PURCHASING,
    "api.send_po_line": PURCHASING,
    "api.receive_po_line": PURCHASING,
    "api.cancel_po_line": PURCHASING,
    "api.close_po_line": PURCHASING,
    "api.reopen_po_line": PURCHASING,
    "api.patch_po_line": PURCHASING,
    **{f"api.{action}_po_line": PURCHASING
       for action in ("defer", "resume", "renew", "package", "receive_next", "activate", "replace_vendor",
                      "change_vendor", "change_reference", "relink", "pattern")},
}
