"""The job-end e-mail: a run of a profile's job that ends tells the profile's recipients once, with
the run's summary and a link to its events (real SMTP through the outbox); "always" vs "failure";
a recipient whose preference is off gets the bell only; the reaper's interrupted runs tell too;
only administrators choose, and only active users are recipients."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.clock import utcnow
from app.errors import Forbidden, InvalidInput
from app.extensions import db
from app.integrations.models import JobRun
from app.integrations.runs import execute, interrupt_dead_runs
from app.notifications import job_mail
from app.notifications import services as notes
from app.notifications.models import Notification
from app.outgoing import delivery
from testkit.erp import erp_profile, local_connection


@pytest.fixture
def profile(world, tmp_path):
    admin, fm = world.user("admin"), world.user("fundmgr")
    admin.email, fm.email = "admin@lib.example", "fm@lib.example"
    conn, root = local_connection(admin, tmp_path / "erp")
    prof = erp_profile(admin, conn, code="DEMO-ERP", folder_root=root)
    job_mail.set_recipients(admin, prof, "failure", [admin.id, fm.id])
    db.session.commit()
    return prof


def failing(ctx):
    ctx.log.count(files=1, records=3, failed=2)
    for n in range(1, 8):
        ctx.log.error(f"vendor unknown in the ERP ({n})", record=f"INV-{n}")
    ctx.log.commit()
    raise RuntimeError("the ERP folder is full")


def with_exceptions(ctx):
    ctx.log.count(files=1, records=2, failed=1)
    ctx.log.error("amount does not match", record="INV-9")
    ctx.log.commit()


def clean(ctx):
    ctx.log.count(files=1, records=2)
    ctx.log.commit()


def told(run_id):
    return list(db.session.scalars(select(Notification).where(Notification.kind == "job_ended",
                                                              Notification.object_id == run_id)
                                   .order_by(Notification.user_id)))


def test_a_failed_run_mails_the_recipients_once_with_its_summary(app, world, profile, smtp):
    run_id = execute(app, "export_invoices", "DEMO-ERP", failing)
    run = db.session.get(JobRun, run_id)
    assert run.status == "failed"
    notes_ = told(run_id)
    assert sorted(n.user_id for n in notes_) == sorted([world.users["admin"], world.users["fundmgr"]])
    assert all(n.delivery == "now" and n.mailed_at for n in notes_)
    # Ending it again (a second finish, the reaper) tells nobody again.
    from app.integrations.runs import RunLog
    RunLog(run).finish("failed", run.message)
    interrupt_dead_runs()
    db.session.commit()
    assert len(told(run_id)) == 2
    assert delivery.deliver_due().sent == 2
    assert delivery.deliver_due().sent == 0
    assert sorted(m["To"] for m in smtp.messages) == ["admin@lib.example", "fm@lib.example"]
    msg = smtp.messages[0]
    assert msg["Subject"] == f"ERP run #{run_id} of DEMO-ERP failed: Export invoices for payment"
    text = msg.get_body(("plain",)).get_content()
    assert "1 file(s), 3 record(s), 2 with exceptions" in text
    assert "the ERP folder is full" in text
    assert "INV-1: vendor unknown in the ERP (1)" in text and "INV-5:" in text and "INV-6:" not in text
    assert f"/admin/erp/jobs/runs/{run_id}" in text


def test_always_tells_every_run_failure_only_the_bad_ones(app, world, profile):
    ok = execute(app, "export_invoices", "DEMO-ERP", clean)
    bumpy = execute(app, "export_invoices", "DEMO-ERP", with_exceptions)
    assert told(ok) == [], "failure only: a clean run tells nobody"
    assert [n.title for n in told(bumpy)][0] == \
        f"ERP run #{bumpy} of DEMO-ERP completed with exceptions: Export invoices for payment"
    job_mail.set_recipients(world.user("admin"), profile, "always", [world.users["fundmgr"]])
    db.session.commit()
    ok2 = execute(app, "export_invoices", "DEMO-ERP", clean)
    assert [n.user_id for n in told(ok2)] == [world.users["fundmgr"]]
    assert told(ok2)[0].title == f"ERP run #{ok2} of DEMO-ERP completed: Export invoices for payment"
    job_mail.set_recipients(world.user("admin"), profile, "off", [])
    db.session.commit()
    assert told(execute(app, "export_invoices", "DEMO-ERP", failing)) == []


def test_a_recipient_whose_preference_is_off_gets_no_mail(app, world, profile, smtp):
    notes.set_preferences(world.user("fundmgr"), {"job_ended": "off"})
    notes.set_preferences(world.user("admin"), {"job_ended": "digest"})
    db.session.commit()
    run_id = execute(app, "export_invoices", "DEMO-ERP", failing)
    assert [(n.delivery, n.mailed_at) for n in told(run_id)] == [("digest", None), ("off", None)]
    assert delivery.deliver_due().sent == 0 and smtp.messages == []
    assert notes.unread_count(world.user("fundmgr")) == 1, "the bell still tells"


def test_an_interrupted_run_tells_once(app, world, profile):
    run = JobRun(job="import_payments", profile_id=profile.id, profile_code="DEMO-ERP", trigger="schedule",
                 owner_host="another-host", owner_pid=4242, heartbeat_at=utcnow() - timedelta(hours=1),
                 started_at=utcnow() - timedelta(hours=1))
    db.session.add(run)
    db.session.commit()
    assert interrupt_dead_runs() == [run.id]
    db.session.commit()
    assert interrupt_dead_runs() == []
    [first, second] = told(run.id)
    assert first.title == f"ERP run #{run.id} of DEMO-ERP was interrupted: Import payment confirmation"
    assert "Interrupted" in first.body
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 2


def test_only_administrators_choose_and_only_active_users(app, world, profile):
    with pytest.raises(Forbidden):
        job_mail.set_recipients(world.user("fundmgr"), profile, "always", [world.users["fundmgr"]])
    buyer = world.user("buyer")
    buyer.active = False
    with pytest.raises(InvalidInput):
        job_mail.set_recipients(world.user("admin"), profile, "always", [buyer.id])
    with pytest.raises(InvalidInput):
        job_mail.set_recipients(world.user("admin"), profile, "sometimes", [world.users["fundmgr"]])
    with pytest.raises(InvalidInput):
        job_mail.set_recipients(world.user("admin"), profile, "always", [])
    with pytest.raises(InvalidInput):
        job_mail.set_recipients(world.user("admin"), profile, "always", ["999999"])
