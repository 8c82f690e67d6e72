"""Role rows for the invoice line list (merged into tests/route_matrix.py)."""
from tests.route_matrix_roles import ALL

MATRIX = {
    "invoice_lines.index": ALL,
    "invoice_lines.export": ALL,
}
