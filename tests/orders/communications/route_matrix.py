"""Role rows for the communications routes (merged into tests/route_matrix.py)."""
from tests.route_matrix_roles import ALL, PURCHASING

MATRIX = {
    "communications.thread": ALL,
    "communications.start": PURCHASING,
    "communications.respond": PURCHASING,
    "communications.retry": PURCHASING,
    "communications.attachment": ALL,
    "communications.claims": ALL,
    "communications.export_claims": ALL,
}


def url_args(world) -> dict:
    """URL values for the communications routes: an institution line of vendor CLMV with a claim
    thread whose first message carries an attachment, visible to every institution-wide user.
    Made once per database: later calls return the same objects. Unless the app already has an
    ATTACHMENT_FOLDER, the attachment goes to one shared folder under the system's temporary one
    (not the instance folder)."""
    import os
    import tempfile

    from flask import current_app

    from app.extensions import db
    from app.orders import communications as cs
    from app.orders.models import Communication, CommunicationMessage, POLine
    from app.vendors import services as vendors
    from app.vendors.models import Vendor
    from tests.orders.helpers import line

    vendor = db.session.scalar(db.select(Vendor).filter_by(code="CLMV"))
    if vendor is None:
        vendor = vendors.create_vendor(world.user("admin"), "CLMV", vendors.VendorFields(name="Claims matrix", currency="EUR"))
        db.session.commit()
    message = db.session.scalar(db.select(CommunicationMessage).join(Communication).join(POLine)
                                .where(POLine.vendor_id == vendor.id).order_by(CommunicationMessage.id))
    if message is None:
        current_app.config.setdefault("ATTACHMENT_FOLDER", os.path.join(tempfile.gettempdir(), "acq-test-attachments"))
        pol = line(world, world.user("admin"), vendor, library=None, title="Matrix line")
        comm = cs.start_communication(world.user("admin"), pol, "general", "Matrix", "Body", "v@claims.example",
                                      attachment=("matrix.txt", b"matrix"), send=False)
        db.session.commit()
        message = comm.messages[0]
    # "number" may be overridden by another domain's line: the tab works for any visible line, and
    # the attachment route needs only the message.
    return {"number": message.communication.po_line.number, "message_id": message.id}
