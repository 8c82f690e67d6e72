"""Role rows for the invoice pages (merged into tests/route_matrix.py)."""
from app.auth.models import Role
from tests.route_matrix_roles import ALL

OPERATORS = frozenset({Role.ADMIN, Role.INVOICE_OPERATOR, Role.INVOICE_OPERATOR_EXTENDED, Role.INVOICE_MANAGER})
APPROVERS = frozenset({Role.ADMIN, Role.INVOICE_MANAGER})
DELETERS = frozenset({Role.ADMIN, Role.INVOICE_OPERATOR_EXTENDED})

MATRIX = {
    "invoices.index": ALL,
    "invoices.export": ALL,
    "invoices.show": ALL,
    "invoices.vendor_invoices": ALL,
    "invoices.find": ALL,
    "invoices.tasks": OPERATORS,
    "invoices.process": OPERATORS,
    "invoices.approve": APPROVERS,
    "invoices.reject": APPROVERS,
    "invoices.send_back": OPERATORS,
    "invoices.pay": OPERATORS,
    "invoices.change_owner": OPERATORS,
    "invoices.edit_line_notes": OPERATORS,
    "invoices.delete": DELETERS,
}
API_MATRIX: dict = {}


def url_args(world) -> dict:
    """URL values for the invoice routes: an institution invoice In Review (vendor INVM), visible to
    every institution-wide user; made once per database (later calls find it by number)."""
    from app.extensions import db
    from app.invoices.models import Invoice
    from app.vendors import services as vendors
    from tests.invoices.helpers import invoice

    found = db.session.scalar(db.select(Invoice).filter_by(number="MATRIX-1"))
    if found is None:
        vendor = vendors.create_vendor(world.user("admin"), "INVM", vendors.VendorFields(name="Invoice matrix", currency="EUR"))
        found = invoice(world, world.user("admin"), vendor, number="MATRIX-1", library=None)
    return {"invoice_id": found.id, "kind": "review", "line_position": 1}
