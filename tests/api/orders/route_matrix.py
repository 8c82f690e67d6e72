"""Role rows for the ordering API endpoints (merged into tests/route_matrix.py). The API has no pages,
so MATRIX is empty; API_MATRIX lists every endpoint: reading for every role, ordering (and the
packaging preview) for administrators and purchasing operators. Each part's rows are kept apart
for the test that gives each of them a request (tests/api/orders/test_*.py)."""
from tests.route_matrix_roles import ALL, PURCHASING

MATRIX: dict = {}

PO_LINE_API = {
    "api.list_po_lines": ALL,
    "api.get_po_line": ALL,
    "api.create_po_line": PURCHASING,
    "api.patch_po_line": PURCHASING,
    **{f"api.{action}_po_line": PURCHASING
       for action in ("approve", "defer", "resume", "renew", "send", "package", "receive", "receive_next", "activate",
                      "cancel", "close", "reopen", "replace_vendor", "change_vendor", "change_reference", "relink",
                      "pattern")},
}
PURCHASE_ORDER_API = {
    "api.list_purchase_orders": ALL,
    "api.get_purchase_order": ALL,
    "api.package_preview": PURCHASING,
    "api.package_ready": PURCHASING,
    "api.send_purchase_order": PURCHASING,
}
COMMUNICATION_API = {
    "api.list_claims": ALL,
    "api.list_communications": ALL,
    "api.get_communication": ALL,
    "api.start_communication": PURCHASING,
    "api.add_response": PURCHASING,
    "api.retry_communication_message": PURCHASING,
    "api.communication_attachment": ALL,
    "api.list_po_messages": ALL,
    "api.list_po_line_messages": ALL,
    "api.get_vendor_message": ALL,
    "api.vendor_message_pdf": ALL,
    "api.vendor_message_edi": ALL,
    "api.resend_vendor_message": PURCHASING,
}
API_MATRIX = {**PO_LINE_API, **PURCHASE_ORDER_API, **COMMUNICATION_API}
