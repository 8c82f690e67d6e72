"""Role rows for the fiscal period closure pages (merged into tests/route_matrix.py): institution
administrators only."""
from tests.route_matrix_roles import ADMIN

MATRIX: dict = {
    "funds.rollovers": ADMIN,
    "funds.rollover_rules_table": ADMIN,
    "funds.show_rollover": ADMIN,
    "funds.undo_rollover": ADMIN,
    "funds.rollover_report_file": ADMIN,
    "funds.rollover_run": ADMIN,
}
API_MATRIX: dict = {"api.create_rollover": ADMIN, "api.get_rollover": ADMIN}
INSTITUTION_WIDE = set(MATRIX)   # a rollover changes every library's funds
API_INSTITUTION_WIDE = {"api.create_rollover"}


def url_args(world) -> dict:
    """An undone rollover row (no money moved) and a failed rollover run, made once per database."""
    from app.extensions import db
    from app.funds.models import FiscalPeriod, Rollover
    from app.integrations.models import JobRun

    rollover_id = db.session.scalar(db.select(Rollover.id).order_by(Rollover.id).limit(1))
    if rollover_id is None:
        from datetime import date
        target = FiscalPeriod(code="FY-MATRIX", name="Matrix", start_date=date(2099, 1, 1), end_date=date(2099, 12, 31))
        db.session.add(target)
        db.session.flush()
        stored = Rollover(source_period_id=world.period.id, target_period_id=target.id, status="undone")
        db.session.add(stored)
        db.session.commit()
        rollover_id = stored.id
    run_id = db.session.scalar(db.select(JobRun.id).filter_by(job="rollover", profile_code="MATRIX"))
    if run_id is None:
        run = JobRun(job="rollover", profile_code="MATRIX", status="failed",
                     message="MATRIX-RUN")
        db.session.add(run)
        db.session.commit()
        run_id = run.id
    return {"rollover_id": rollover_id, "file_type": "csv", "rollover_run_id": run_id}
