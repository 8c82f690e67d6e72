"""The demo has work waiting (issue 16): an invoice In Approval the demo invoice manager may approve,
PO lines with claims due, a failed ERP run of DEMO-ERP whose recipient on failure (admin) was told."""
import pytest

from app.auth.models import User
from app.extensions import db
from app.integrations.models import IntegrationProfile, JobEvent, JobRun
from app.invoices import services as invoices
from app.invoices.models import Invoice
from app.notifications.models import Notification
from app.orders import services as orders

pytestmark = [pytest.mark.parametrize("backend", ["sqlite"], indirect=True), pytest.mark.committing]


def test_the_demo_has_work_waiting(app, tmp_path):
    runner = app.test_cli_runner()
    for _ in range(2):   # idempotent: one invoice, one failed run, one notification
        db.session.commit()
        result = runner.invoke(args=["demo", "--erp-dir", str(tmp_path / "erp")])
        assert result.exit_code == 0, result.output
    manager = db.session.scalar(db.select(User).filter_by(username="invoice-manager"))
    [inv] = db.session.scalars(db.select(Invoice).filter_by(number="DEMO-APPROVE-1")).all()
    assert inv.status == "in_approval"
    assert "approve" in invoices.invoice_actions(manager, inv)
    fm = db.session.scalar(db.select(User).filter_by(username="fundmanager"))
    assert len(db.session.scalars(orders.claims_query(fm)).all()) == 2, "the two late lines"
    profile = db.session.scalar(db.select(IntegrationProfile).filter_by(code="DEMO-ERP"))
    assert profile.notify_when == "failure" and [u.username for u in profile.recipients] == ["admin"]
    [run] = db.session.scalars(db.select(JobRun).filter_by(profile_id=profile.id, status="failed")).all()
    assert db.session.scalar(db.select(JobEvent.id).filter_by(run_id=run.id, level="error")) is not None
    [told] = db.session.scalars(db.select(Notification).filter_by(kind="job_ended")).all()
    assert told.user.username == "admin" and told.object_id == run.id
