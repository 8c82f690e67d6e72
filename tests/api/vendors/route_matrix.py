"""Role rows for the API of a vendor's accounts, addresses and contacts and the rates upload (merged
into tests/route_matrix.py; the vendor and rate rows are in tests/vendors/route_matrix.py)."""
from tests.route_matrix_roles import ALL, PURCHASING
from tests.vendors.route_matrix import RATES

MATRIX: dict = {}

API_MATRIX = {
    "api.create_vendor_account": PURCHASING,
    "api.get_vendor_account": ALL,
    "api.patch_vendor_account": PURCHASING,
    "api.delete_vendor_account": PURCHASING,
    "api.create_vendor_address": PURCHASING,
    "api.get_vendor_address": ALL,
    "api.delete_vendor_address": PURCHASING,
    "api.create_vendor_contact": PURCHASING,
    "api.get_vendor_contact": ALL,
    "api.patch_vendor_contact": PURCHASING,
    "api.delete_vendor_contact": PURCHASING,
    "api.upload_rates": RATES,
}
# Accounts and addresses go to the ERP's payment file (as on the vendor page): the role held for the whole
# institution. Contacts are open to a library-scoped buyer.
API_INSTITUTION_WIDE = {"api.create_vendor_account", "api.patch_vendor_account", "api.delete_vendor_account",
                        "api.create_vendor_address", "api.delete_vendor_address", "api.upload_rates"}


def url_args(world) -> dict:
    """The matrix vendor's account (tests/vendors/route_matrix.py makes it, with code MATRIX)."""
    return {"account_code": "MATRIX"}
