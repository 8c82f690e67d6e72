"""flask jobs run NAME --profile CODE: the same run as the button, its report printed, exit 1 on failure."""
import pytest

from app.extensions import db
from app.integrations.models import JobRun
from testkit.erp import erp_profile, local_connection

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def test_jobs_run_prints_the_report_and_fails_visibly(app, world, tmp_path, monkeypatch):
    import jobs.load_allocations as loader
    conn, root = local_connection(world.user("admin"), tmp_path / "erp")
    erp_profile(world.user("admin"), conn, folder_root=root)
    db.session.commit()

    def body(ctx):
        ctx.log.count(files=1, records=2, failed=1)
        ctx.log.warning("row 3: unknown fund XYZ", file="a.csv", record="row 3")
    monkeypatch.setattr(loader, "load_allocations", body)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["jobs", "run", "load-allocations", "--profile", "ERP"])
    assert result.exit_code == 0, result.output
    assert "Completed with exceptions" in result.output and "a.csv row 3: row 3: unknown fund XYZ" in result.output
    run = db.session.scalar(db.select(JobRun).order_by(JobRun.id.desc()))
    assert run.trigger == "cli" and run.actor.username == "erp-integration"

    def broken(ctx):
        raise RuntimeError("disk full")
    monkeypatch.setattr(loader, "load_allocations", broken)
    db.session.commit()
    result = runner.invoke(args=["jobs", "run", "load-allocations", "--profile", "ERP"])
    assert result.exit_code == 1 and "Failed" in result.output and "disk full" in result.output
    result = runner.invoke(args=["jobs", "run", "load-allocations", "--profile", "NOPE"])
    assert result.exit_code != 0 and "No integration profile 'NOPE'" in result.output
