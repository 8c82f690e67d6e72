"""Role rows for the inventory routes (merged into tests/route_matrix.py)."""
from tests.route_matrix_roles import *  # noqa: F401,F403

MATRIX = {}
