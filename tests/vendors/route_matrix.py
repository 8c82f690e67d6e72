"""Role rows for the vendors routes (merged into tests/route_matrix.py)."""
from tests.route_matrix_roles import *  # noqa: F401,F403
from tests.route_matrix_roles import ALL, PURCHASING
from app.auth.models import Role

RATES = frozenset({Role.ADMIN, Role.FUND_MANAGER, Role.INVOICE_MANAGER})

MATRIX = {
    "vendors.index": ALL,
    "vendors.show": ALL,
    "vendors.new": PURCHASING,
    "vendors.edit": PURCHASING,
    "vendors.add_account": PURCHASING,
    "vendors.remove_account": PURCHASING,
    "vendors.add_address": PURCHASING,
    "vendors.remove_address": PURCHASING,
    "vendors.add_contact": PURCHASING,
    "vendors.remove_contact": PURCHASING,
    "vendors.rates": ALL,
    "vendors.add_rate": RATES,
    "vendors.upload_rates": RATES,
}

API_MATRIX = {
    "api.create_vendor": PURCHASING,
    "api.update_vendor": PURCHASING,
    "api.create_rate": RATES,
}


def url_args(world) -> dict:
    """URL values for the vendor routes in the role matrix (one vendor, made once per database)."""
    from app.extensions import db
    from app.vendors import services as vs
    vendor = db.session.scalar(db.select(vs.Vendor).filter_by(code="SECV"))
    if vendor is None:
        vendor = vs.create_vendor(world.user("admin"), "SECV", vs.VendorFields(name="Matrix vendor", currency="EUR"))
        db.session.commit()
    return {"vendor_id": vendor.id, "code": vendor.code}
