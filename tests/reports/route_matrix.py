"""Role rows for the reports page and its exports (merged into tests/route_matrix.py): every role,
each seeing only the funds and invoices of their scope."""
from tests.route_matrix_roles import ALL

MATRIX: dict = {"reports.index": ALL, "reports.export": ALL}


def url_args(world) -> dict:
    return {"name": "months", "fmt": "csv"}
