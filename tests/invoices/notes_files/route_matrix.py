"""Role rows for an invoice's Notes and Attachments tabs (merged into tests/route_matrix.py)."""
from app.auth.models import Role
from tests.route_matrix_roles import ALL

OPERATORS = frozenset({Role.ADMIN, Role.INVOICE_OPERATOR, Role.INVOICE_OPERATOR_EXTENDED, Role.INVOICE_MANAGER})

MATRIX = {
    "invoice_notes.notes": ALL,
    "invoice_notes.add_note": OPERATORS,
    "invoice_notes.edit_note": OPERATORS,
    "invoice_notes.delete_note": OPERATORS,
    "invoice_notes.attachments_tab": ALL,
    "invoice_notes.upload": OPERATORS,
    "invoice_notes.download": ALL,
    "invoice_notes.delete_attachment": OPERATORS,
}
API_MATRIX: dict = {}


def url_args(world) -> dict:
    """A note and a small PDF on the institution invoice MATRIX-1 of tests/invoices/route_matrix.py
    (made once per database)."""
    from app.extensions import db
    from app.invoices import attachments
    from app.invoices.models import Invoice, InvoiceAttachment, InvoiceNote
    from tests.invoices.route_matrix import url_args as invoice_args

    invoice = db.session.get(Invoice, invoice_args(world)["invoice_id"])
    note = db.session.scalar(db.select(InvoiceNote).filter_by(invoice_id=invoice.id))
    if note is None:
        note = attachments.add_note(world.user("admin"), invoice, "Matrix note")
        db.session.commit()
    attachment = db.session.scalar(db.select(InvoiceAttachment).filter_by(invoice_id=invoice.id))
    if attachment is None or not (attachments.folder() / attachment.stored_name).is_file():
        if attachment is not None:
            db.session.delete(attachment)
        attachment = attachments.add_attachment(world.user("admin"), invoice, "matrix.pdf", b"%PDF-1.4\n%%EOF\n")
        db.session.commit()
    return {"note_id": note.id, "attachment_id": attachment.id}
