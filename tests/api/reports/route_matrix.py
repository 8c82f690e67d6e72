"""Role rows for the reports' and list exports' API (merged into tests/route_matrix.py): reading,
for every role, within their scope (the defaults: nothing to list)."""
MATRIX: dict = {}
API_MATRIX: dict = {}

# The exports keep their list page's roles (tests/<domain>/route_matrix.py has the same rows).
from tests.invoices.route_matrix import OPERATORS  # noqa: E402
from tests.route_matrix_roles import ADMIN  # noqa: E402

API_MATRIX.update({"api.export_job_runs": ADMIN, "api.export_job_run_events": ADMIN, "api.export_edi_inbox": OPERATORS})
