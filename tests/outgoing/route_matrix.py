"""Role rows for the letters to vendors (app/outgoing/views.py) and the institution's details
(merged into tests/route_matrix.py)."""
from tests.route_matrix_roles import ADMIN, ALL, PURCHASING

MATRIX = {
    "outgoing.templates": ADMIN,
    "outgoing.set_active": ADMIN,
    "outgoing.edit": ADMIN,
    "outgoing.preview": ADMIN,
    "outgoing.preview_pdf": ADMIN,
    "outgoing.reset": ADMIN,
    "outgoing.send_test": ADMIN,
    "outgoing.po_messages": ALL,
    "outgoing.message_pdf": ALL,
    "outgoing.message_edi": ALL,
    "outgoing.resend": PURCHASING,
    "outgoing.send_now": ADMIN,
    "admin.institution": ADMIN,
    "admin.library_address": ADMIN,
}
INSTITUTION_WIDE = {"outgoing.templates", "outgoing.set_active", "outgoing.edit", "outgoing.preview",
                    "outgoing.preview_pdf", "outgoing.reset", "outgoing.send_test", "outgoing.send_now", "admin.institution",
                    "admin.library_address"}


def url_args(world) -> dict:
    """A message with a stored PDF and EDI file about an institution PO of vendor LETV, visible to
    every institution-wide user; made once per database. Unless the app has a LETTER_FOLDER, the
    files go to one shared folder under the system's temporary one."""
    import os
    import tempfile

    from flask import current_app

    from app.extensions import db
    from app.outgoing.models import VendorMessage
    from app.vendors import services as vendors
    from app.vendors.models import Vendor
    from tests.outgoing.helpers import message, sent_po

    current_app.config.setdefault("LETTER_FOLDER", os.path.join(tempfile.gettempdir(), "acq-test-letters"))
    vendor = db.session.scalar(db.select(Vendor).filter_by(code="LETV"))
    if vendor is None:
        vendor = vendors.create_vendor(world.user("admin"), "LETV", vendors.VendorFields(name="Letters matrix",
                                                                                         currency="EUR"))
        db.session.commit()
    found = db.session.scalar(db.select(VendorMessage).where(VendorMessage.vendor_id == vendor.id))
    if found is None or not os.path.exists(os.path.join(current_app.config["LETTER_FOLDER"], found.pdf_file)):
        po = sent_po(world, vendor, library=None)
        found = message(po, pdf=b"%PDF-1.4 matrix", edi=b"UNA:+.? 'UNB+UNOC:3'")
    return {"letter": "po", "vendor_message_id": found.id, "library_id": world.lib_a.id}
