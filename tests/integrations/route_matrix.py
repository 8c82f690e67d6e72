"""Role rows for the ERP integration pages (merged into tests/route_matrix.py): institution
administrators only (a library-scoped administrator is refused by the pages themselves)."""
from tests.route_matrix_roles import ADMIN

MATRIX: dict = {
    "integrations.index": ADMIN,
    "integrations.new_connection": ADMIN,
    "integrations.edit_connection": ADMIN,
    "integrations.test_connection": ADMIN,
    "integrations.delete_connection": ADMIN,
    "integrations.new_profile": ADMIN,
    "integrations.edit_profile": ADMIN,
    "integrations.profile_sections": ADMIN,
    "integrations.section_stylesheet": ADMIN,
    "integrations.preview_stylesheet": ADMIN,
    "integrations.show_profile": ADMIN,
    "integrations.set_section_active": ADMIN,
    "integrations.set_notifications": ADMIN,
    "integrations.payment_format": ADMIN,
    "integrations.run_now": ADMIN,
    "integrations.rerun_failed_orders": ADMIN,
    "integrations.delete_profile": ADMIN,
    "integrations.monitor": ADMIN,
    "integrations.running": ADMIN,
    "integrations.show_run": ADMIN,
    "integrations.run_report": ADMIN,
    "integrations.export_runs": ADMIN,
    "integrations.export_events": ADMIN,
}
API_MATRIX: dict = {}
INSTITUTION_WIDE = set(MATRIX)  # the ERP connections and profiles serve every library


def url_args(world) -> dict:
    """A local-folder connection, a profile on it and one finished run (made once per database)."""
    import tempfile

    from app.extensions import db
    from app.integrations import services as integrations
    from app.integrations.models import IntegrationProfile, JobRun

    profile = db.session.scalar(db.select(IntegrationProfile).filter_by(code="MATRIX"))
    if profile is None:
        admin = world.user("admin")
        conn = integrations.create_connection(admin, integrations.ConnectionFields(code="MATRIX", name="Matrix", kind="local",
                                                                 root_path=tempfile.mkdtemp()))
        profile = integrations.create_profile(admin, integrations.ProfileFields(code="MATRIX", name="Matrix", connection_id=conn.id,
                                                              financial_system="SAP"))
        db.session.add(JobRun(job="export_invoices", profile_id=profile.id, profile_code="MATRIX",
                              status="completed"))
        db.session.commit()
    run_id = db.session.scalar(db.select(JobRun.id).filter_by(profile_code="MATRIX"))
    return {"connection_id": profile.connection_id, "profile_id": profile.id, "job": "export_invoices",
            "run_id": run_id}
