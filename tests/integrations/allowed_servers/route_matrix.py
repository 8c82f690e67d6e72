"""Role rows for the allowed S/FTP servers page (merged into tests/route_matrix.py): institution
administrators only."""
from tests.route_matrix_roles import ADMIN

MATRIX: dict = {
    "erp_allowed.index": ADMIN,
    "erp_allowed.add": ADMIN,
    "erp_allowed.remove": ADMIN,
}
API_MATRIX: dict = {}
INSTITUTION_WIDE = set(MATRIX)


def url_args(world) -> dict:
    return {"entry_id": 1}
