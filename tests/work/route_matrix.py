"""Role rows for My work and the user's own page (merged into tests/route_matrix.py)."""
from tests.route_matrix_roles import ALL

MATRIX: dict = {
    "work.index": ALL,
    "work.me": ALL,
    "work.set_home": ALL,
    "work.set_language": ALL,
    "work.set_columns": ALL,
}


def url_args(world) -> dict:
    return {"list_name": "po_lines"}
