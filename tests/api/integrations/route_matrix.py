"""Role rows for the ERP integration API (merged into tests/route_matrix.py): administrators only,
held for the whole institution (a library-scoped one gets 403, as on the pages). The writes of
shared settings are institution-wide routes; the reads, the connection test, "Run now" and the
section switches check the institution scope in the view or the service."""
from tests.route_matrix_roles import ADMIN

MATRIX: dict = {}

_ENDPOINTS = (
    "list_erp_connections", "create_erp_connection", "get_erp_connection", "patch_erp_connection",
    "delete_erp_connection", "test_erp_connection",
    "list_erp_profiles", "create_erp_profile", "get_erp_profile", "patch_erp_profile", "delete_erp_profile",
    "get_erp_section", "patch_erp_section", "activate_erp_section", "deactivate_erp_section", "run_erp_section",
    "get_erp_notifications", "patch_erp_notifications", "get_erp_stylesheet", "patch_erp_stylesheet",
    "get_erp_payment_format", "patch_erp_payment_format", "rerun_failed_erp_orders", "list_erp_export_files",
    "preview_erp_stylesheet",
    "list_erp_runs", "list_running_erp_runs", "list_scheduled_erp_runs", "get_erp_run", "list_erp_run_events",
    "get_erp_run_report",
    "list_erp_allowed_servers", "add_erp_allowed_server", "get_erp_allowed_server", "remove_erp_allowed_server",
)
API_MATRIX = {f"api.{name}": ADMIN for name in _ENDPOINTS}
API_INSTITUTION_WIDE = {f"api.{name}" for name in (
    "create_erp_connection", "patch_erp_connection", "delete_erp_connection",
    "create_erp_profile", "patch_erp_profile", "delete_erp_profile", "patch_erp_section",
    "patch_erp_notifications", "patch_erp_stylesheet", "patch_erp_payment_format", "rerun_failed_erp_orders",
    "add_erp_allowed_server", "remove_erp_allowed_server")}


def url_args(world) -> dict:
    """The MATRIX connection and profile of tests/integrations/route_matrix.py, by code."""
    from tests.integrations.route_matrix import url_args as erp_args
    erp_args(world)
    return {"connection_code": "MATRIX", "profile_code": "MATRIX", "entry_id": 1,
            "fiscal_period_code": world.period.code}
