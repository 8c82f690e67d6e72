"""Role rows for the vendors routes (merged into tests/route_matrix.py)."""
from tests.route_matrix_roles import *  # noqa: F401,F403
from tests.route_matrix_roles import ALL, PURCHASING
from app.auth.models import Role

RATES = frozenset({Role.ADMIN, Role.FUND_MANAGER, Role.INVOICE_MANAGER})

MATRIX = {
    "vendors.index": ALL,
    "vendors.export": ALL,
    "vendors.show": ALL,
    "vendors.new": PURCHASING,
    "vendors.edit": PURCHASING,
    "vendors.add_account": PURCHASING,
    "vendors.remove_account": PURCHASING,
    "vendors.account_channel": PURCHASING,
    "vendors.add_address": PURCHASING,
    "vendors.remove_address": PURCHASING,
    "vendors.add_contact": PURCHASING,
    "vendors.remove_contact": PURCHASING,
    "vendors.contact_roles": PURCHASING,
    "vendors.rates": ALL,
    "vendors.add_rate": RATES,
    "vendors.upload_rates": RATES,
}

API_MATRIX = {
    "api.create_vendor": PURCHASING,
    "api.update_vendor": PURCHASING,
    "api.patch_vendor": PURCHASING,
    "api.create_rate": RATES,
}
# Vendors and rates are the institution's (H12-05): creating a vendor, its accounts and addresses (all go
# to the ERP's payment file) and rates need the role held for the whole institution. Editing a vendor is
# open to a library-scoped buyer for the notes only (tests/org/test_institution_data.py), contacts too.
INSTITUTION_WIDE = {"vendors.new", "vendors.add_account", "vendors.remove_account", "vendors.account_channel", "vendors.add_address",
                    "vendors.remove_address", "vendors.add_rate", "vendors.upload_rates"}
API_INSTITUTION_WIDE = {"api.create_vendor", "api.create_rate"}


def url_args(world) -> dict:
    """URL values for the vendor routes in the role matrix (one vendor with an account, an address and a
    contact, made once per database)."""
    from app.extensions import db
    from app.vendors import services as vendors
    vendor = db.session.scalar(db.select(vendors.Vendor).filter_by(code="SECV"))
    if vendor is None:
        admin = world.user("admin")
        vendor = vendors.create_vendor(admin, "SECV", vendors.VendorFields(name="Matrix vendor", currency="EUR"))
        vendors.add_account(admin, vendor, "MATRIX")
        vendors.add_address(admin, vendor, vendors.AddressFields(line1="1 Matrix Road", types=["payment"]))
        vendors.add_contact(admin, vendor, "Matrix contact")
        db.session.commit()
    return {"vendor_id": vendor.id, "code": vendor.code, "account_id": vendor.accounts[0].id,
            "address_id": vendor.addresses[0].id, "contact_id": vendor.contacts[0].id}
