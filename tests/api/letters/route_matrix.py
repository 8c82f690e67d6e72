"""Role rows for the letter templates API (app/api/letters.py): an administrator of the whole
institution, as on /admin/letters (merged into tests/route_matrix.py)."""
from tests.route_matrix_roles import ADMIN

MATRIX: dict = {}

# Reading is refused to a library's administrator by the view (as on the page); changing, previewing and
# sending a test need the role for the whole institution (institution_roles_required).
API_INSTITUTION_WIDE = {"api.patch_letter", "api.reset_letter", "api.activate_letter", "api.deactivate_letter",
                        "api.preview_letter", "api.preview_letter_pdf", "api.send_test_letter"}
API_MATRIX = {"api.list_letters": ADMIN, "api.get_letter": ADMIN, **{endpoint: ADMIN for endpoint in API_INSTITUTION_WIDE}}
