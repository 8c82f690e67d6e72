"""Role rows for the reports' and list exports' API (merged into tests/route_matrix.py): reading,
for every role, within their scope (the defaults: nothing to list)."""
MATRIX: dict = {}
API_MATRIX: dict = {}
