"""Role rows for EDI invoices (merged into tests/route_matrix.py): the inbox and the upload for
invoice operators (and extended), invoice managers and administrators (institution-wide: the pages
refuse a library-scoped one); the vendor EDI settings for administrators."""
from tests.invoices.route_matrix import OPERATORS
from tests.route_matrix_roles import ADMIN

MATRIX = {
    "edi.inbox": OPERATORS,
    "edi.export_inbox": OPERATORS,
    "edi.show": OPERATORS,
    "edi.retry": OPERATORS,
    "edi.upload": OPERATORS,
    "edi.receive": OPERATORS,
    "edi.upload_status": OPERATORS,
    "edi.settings_list": ADMIN,
    "edi.edit_setting": ADMIN,
    "edi.fetch_now": ADMIN,
}
API_MATRIX: dict = {}
INSTITUTION_WIDE = {"edi.settings_list", "edi.edit_setting", "edi.fetch_now"}  # vendors' EDI settings


def url_args(world) -> dict:
    """One inbox row (a file that cannot be read, made once per database), a vendor and an ended
    upload run."""
    from app.extensions import db
    from app.integrations.edi.models import EdiMessage
    from app.vendors import services as vendors
    from app.vendors.models import Vendor

    row = db.session.scalar(db.select(EdiMessage).filter_by(file_name="matrix.edi"))
    if row is None:
        from app.text import T
        row = EdiMessage(file_name="matrix.edi", sha256="0" * 64, raw="not edifact", status="failed", source="upload")
        row.set_reason(T("The file is not an EDIFACT interchange: it must start with UNA or UNB."))
        db.session.add(row)
        db.session.commit()
    vendor = db.session.scalar(db.select(Vendor).filter_by(code="EDIM"))
    if vendor is None:
        vendor = vendors.create_vendor(world.user("admin"), "EDIM", vendors.VendorFields(name="EDI matrix", currency="EUR"))
        db.session.commit()
    from app.integrations.models import JobRun
    run = db.session.scalar(db.select(JobRun).filter_by(job="upload_edi", profile_code="EDI-MATRIX"))
    if run is None:
        run = JobRun(job="upload_edi", profile_code="EDI-MATRIX", status="completed", message="matrix.edi")
        db.session.add(run)
        db.session.commit()
    return {"edi_message_id": row.id, "edi_vendor_id": vendor.id, "upload_run_id": run.id}
