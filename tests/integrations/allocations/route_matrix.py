"""Role rows for the ERP fiscal period numbers page (merged into tests/route_matrix.py): institution
administrators only (a library-scoped administrator is refused by the page itself)."""
from tests.route_matrix_roles import ADMIN

MATRIX: dict = {
    "erp_periods.index": ADMIN,
    "erp_periods.save": ADMIN,
}
API_MATRIX: dict = {}
INSTITUTION_WIDE = set(MATRIX)  # the ERP fiscal period numbers


def url_args(world) -> dict:
    return {}
