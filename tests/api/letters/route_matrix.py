"""Role rows for the letters API (app/api/letters.py): an administrator of the whole institution, as on
/admin/letters and Monitor Jobs' "Send waiting letters now" (merged into tests/route_matrix.py)."""
from tests.route_matrix_roles import ADMIN

MATRIX: dict = {}

# Reading is refused to a library's administrator by the view (as on the page); changing, previewing,
# sending a test and sending the waiting letters need the role for the whole institution.
API_INSTITUTION_WIDE = {"api.patch_letter", "api.reset_letter", "api.activate_letter", "api.deactivate_letter",
                        "api.preview_letter", "api.preview_letter_pdf", "api.send_test_letter",
                        "api.send_waiting_letters"}
API_MATRIX = {"api.list_letters": ADMIN, "api.get_letter": ADMIN,
              **{endpoint: ADMIN for endpoint in API_INSTITUTION_WIDE}}
