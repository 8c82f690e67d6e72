"""An input file written moments ago (perhaps still being uploaded) is left for the next run."""
import pytest

import jobs.import_payments
from app.extensions import db
from app.integrations.models import JobEvent, JobRun
from testkit.erp import erp_profile, local_connection

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def test_fresh_file_waits_for_the_next_run(app, world, tmp_path):
    conn, root = local_connection(world.user("admin"), tmp_path / "erp")
    erp_profile(world.user("admin"), conn, folder_root=root)
    db.session.commit()
    (root / "payments/in/pay.xml").write_text("<not-yet")
    app.config["ERP_IMPORT_MIN_AGE_SECONDS"] = 3600
    run_id = jobs.import_payments.run(app, "ERP")
    events = [e.message for e in db.session.scalars(db.select(JobEvent).filter_by(run_id=run_id))]
    assert any("Left pay.xml for the next run" in m for m in events)
    assert (root / "payments/in/pay.xml").exists() and db.session.get(JobRun, run_id).records_failed == 0
    app.config["ERP_IMPORT_MIN_AGE_SECONDS"] = 0
    db.session.commit()
    run_id = jobs.import_payments.run(app, "ERP")
    assert (root / "payments/in/pay.xml.rejected").exists()   # now taken (and refused: not well-formed)


def test_fresh_allocation_file_waits_for_the_next_run(app, world, tmp_path):
    import jobs.load_allocations
    conn, root = local_connection(world.user("admin"), tmp_path / "erp")
    erp_profile(world.user("admin"), conn, folder_root=root)
    db.session.commit()
    (root / "allocations/in/a.csv").write_text("FUND_EXTERNAL_ID,FISCAL_PERIOD_ID,AMOUNT,TRANSACTION_REFERENCE_NUMBER,"
                                               "TRANSACTION_NOTE\n")
    app.config["ERP_IMPORT_MIN_AGE_SECONDS"] = 3600
    run_id = jobs.load_allocations.run(app, "ERP")
    events = [e.message for e in db.session.scalars(db.select(JobEvent).filter_by(run_id=run_id))]
    assert any("Left a.csv for the next run" in m for m in events) and (root / "allocations/in/a.csv").exists()
    app.config["ERP_IMPORT_MIN_AGE_SECONDS"] = 0
    db.session.commit()
    jobs.load_allocations.run(app, "ERP")
    assert (root / "allocations/in/a.csv.handled").exists()
