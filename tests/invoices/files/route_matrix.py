"""Role rows for loading invoices from Excel files (merged into tests/route_matrix.py): the invoice
operators (and extended), invoice managers and administrators; their library scope is checked by
the invoice services for each invoice of the file."""
from tests.invoices.route_matrix import OPERATORS

MATRIX = {
    "invoice_files.upload": OPERATORS,
    "invoice_files.template": OPERATORS,
    "invoice_files.preview": OPERATORS,
    "invoice_files.load": OPERATORS,
    "invoice_files.load_status": OPERATORS,
}
API_MATRIX: dict = {}


def url_args(world) -> dict:
    """A finished file-load run (the institution's invoice staff may follow any load)."""
    from app.extensions import db
    from app.integrations.models import JobRun

    run_id = db.session.scalar(db.select(JobRun.id).filter_by(job="invoice_file", profile_code="FILE-MATRIX"))
    if run_id is None:
        run = JobRun(job="invoice_file", profile_code="FILE-MATRIX", status="completed", message="Nothing.",
                     actor_id=world.users["invoicer"])
        db.session.add(run)
        db.session.commit()
        run_id = run.id
    return {"load_run_id": run_id}
