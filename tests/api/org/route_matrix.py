"""Role rows for the organisation's API (merged into tests/route_matrix.py): users and roles,
libraries, the institution, fund types and the ERP's fiscal period numbers are an institution-wide
administrator's, as on /admin."""
from tests.route_matrix_roles import ADMIN

MATRIX: dict = {}
_READS = {"api.list_users", "api.get_user", "api.list_libraries", "api.get_library", "api.get_institution",
          "api.list_fund_types", "api.get_erp_fiscal_periods"}
API_INSTITUTION_WIDE = {"api.create_user", "api.patch_user", "api.add_user_role", "api.remove_user_role",
                        "api.add_library", "api.patch_library", "api.patch_institution", "api.create_fund_type",
                        "api.patch_erp_fiscal_periods"}
API_MATRIX = {endpoint: ADMIN for endpoint in _READS | API_INSTITUTION_WIDE}


def url_args(world) -> dict:
    return {"library_code": world.lib_a.code}
