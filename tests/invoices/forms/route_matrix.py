"""Role rows for the invoice forms (merged into tests/route_matrix.py)."""
from app.auth.models import Role

OPERATORS = frozenset({Role.ADMIN, Role.INVOICE_OPERATOR, Role.INVOICE_OPERATOR_EXTENDED, Role.INVOICE_MANAGER})

MATRIX = {
    "invoice_forms.new": OPERATORS,
    "invoice_forms.edit": OPERATORS,
    "invoice_forms.line_row": OPERATORS,
}
API_MATRIX: dict = {}


def url_args(world) -> dict:
    """URL values for the invoice forms: an institution invoice In Review (vendor INVF) that every
    institution-wide operator may edit; made once per database (later calls find it by number)."""
    from app.extensions import db
    from app.invoices.models import Invoice
    from app.vendors import services as vendors
    from tests.invoices.helpers import invoice

    found = db.session.scalar(db.select(Invoice).filter_by(number="MATRIX-F1"))
    if found is None:
        vendor = vendors.create_vendor(world.user("admin"), "INVF", vendors.VendorFields(name="Invoice form matrix",
                                                                                currency="EUR"))
        found = invoice(world, world.user("admin"), vendor, number="MATRIX-F1", library=None)
    return {"invoice_id": found.id}
