"""Fetching a vendor's EDI files from the real test sshd: invoices created, the remote file renamed
``.handled`` only after the commit; a server that is down fails the run and loses nothing; the next
run picks the file up; the settings' schedule fields are what the integration scheduler reads."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.errors import InvalidInput
from app.extensions import db
from app.integrations.models import JobEvent, JobRun
from app.integrations.scheduler import trigger_for
from app.integrations.edi import services as es
from app.integrations.edi.models import EdiMessage
from app.invoices.models import Invoice
from jobs import fetch_edi
from testkit.erp import sftp_connection
from tests.integrations.edi.helpers import interchange, invoic, pol

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture
def pickup(app, world, orders, sshd):
    """EURV's EDI settings on the real sshd, folder ``edi/in`` (returned as a local Path)."""
    admin = world.user("admin")
    conn, root = sftp_connection(admin, sshd, code="EDISFTP")
    folder = root / "edi" / "in"
    folder.mkdir(parents=True)
    es.save_setting(admin, orders.eur, es.EdiSettingFields(connection=conn, folder="edi/in", active=True,
                                                            schedule="daily", schedule_time="06:30"))
    db.session.commit()
    return folder


def _run(app, **kw) -> JobRun:
    db.session.commit()   # the job runs in its own session: release ours
    run_id = fetch_edi.run(app, "EURV", **kw)
    return db.session.get(JobRun, run_id)


def test_fetch_creates_the_invoice_and_renames_the_file(app, world, orders, pickup):
    p = pol(world, orders.eur)
    data = interchange(invoic("F-1", [(p.number, 2, "20.00", "40.00", None, None)], total="40.00"))
    (pickup / "march.edi").write_bytes(data)
    (pickup / "notes.pdf").write_bytes(b"%PDF")          # not a candidate: left alone
    (pickup / "upload.edi.part").write_bytes(data)       # unfinished upload: left alone
    db.session.commit()
    run = _run(app)
    assert (run.status, run.job, run.profile_id, run.profile_code) == ("completed", "fetch_edi", None, "EDI-EURV")
    assert (run.files, run.records, run.records_failed) == (1, 1, 0)
    inv = db.session.scalar(select(Invoice).filter_by(number="F-1"))
    assert inv.channel == "edi" and inv.lines[0].po_line_id == p.id
    row = db.session.scalar(select(EdiMessage).filter_by(invoice_id=inv.id))
    assert row.source == "fetch" and row.run_id == run.id and row.file_name == "march.edi"
    assert sorted(f.name for f in pickup.iterdir()) == ["march.edi.handled", "notes.pdf", "upload.edi.part"]
    assert (pickup / "march.edi.handled").read_bytes() == data
    # nothing left to fetch
    again = _run(app)
    assert again.status == "completed" and again.files == 0


@SQLITE
def test_failed_messages_stay_in_the_inbox_and_the_file_is_handled(app, world, orders, pickup):
    (pickup / "bad.edi").write_bytes(interchange(invoic("F-2", [("POL-999999", 1, "1.00", "1.00", None, None)],
                                                        total="1.00")))
    (pickup / "junk.txt").write_bytes(b"this is not edifact")
    db.session.commit()
    run = _run(app)
    assert run.status == "failed" and run.status_label == "Failed"   # every message refused: nothing applied
    assert (run.files, run.records, run.records_failed) == (2, 2, 2)
    rows = db.session.scalars(select(EdiMessage).order_by(EdiMessage.file_name)).all()
    assert [(r.file_name, r.status) for r in rows] == [("bad.edi", "failed"), ("junk.txt", "failed")]
    assert rows[0].reason == "Line 1: order line POL-999999 unknown."
    assert rows[1].raw == "this is not edifact"
    # the message that fails matching is ours to fix (retry from the inbox): handled; junk is set aside
    assert sorted(f.name for f in pickup.iterdir()) == ["bad.edi.handled", "junk.txt.rejected"]
    errors = [e.message for e in db.session.scalars(select(JobEvent).filter_by(run_id=run.id, level="error"))]
    assert any("POL-999999 unknown" in e for e in errors)


@SQLITE
def test_server_down_fails_the_run_and_the_next_run_picks_the_file_up(app, world, orders, pickup, sshd):
    p = pol(world, orders.eur)
    (pickup / "later.edi").write_bytes(interchange(invoic("F-3", [(p.number, 2, "20.00", "40.00", None, None)],
                                                          total="40.00")))
    db.session.commit()
    sshd.stop()
    try:
        run = _run(app)
        assert run.status == "failed" and run.message
        assert db.session.scalar(select(EdiMessage).filter_by(file_name="later.edi")) is None
        assert (pickup / "later.edi").exists()
    finally:
        sshd.start()
    run = _run(app)
    assert run.status == "completed" and run.files == 1
    assert db.session.scalar(select(Invoice).filter_by(number="F-3")) is not None
    assert (pickup / "later.edi.handled").exists() and not (pickup / "later.edi").exists()


@SQLITE
def test_rename_failure_after_commit_is_not_applied_twice(app, world, orders, pickup, monkeypatch):
    from app.integrations import transport
    p = pol(world, orders.eur)
    (pickup / "twice.edi").write_bytes(interchange(invoic("F-4", [(p.number, 2, "20.00", "40.00", None, None)],
                                                          total="40.00")))
    db.session.commit()

    def broken(self, folder, old, new):
        raise transport.TransferError("rename refused")
    with monkeypatch.context() as m:
        m.setattr(transport.SFTPTransport, "rename", broken)
        assert _run(app).status == "failed"
    assert (pickup / "twice.edi").exists()
    run = _run(app)
    assert run.status == "completed"
    statuses = [r.status for r in db.session.scalars(select(EdiMessage).filter_by(file_name="twice.edi")
                                                     .order_by(EdiMessage.id))]
    assert statuses == ["invoice_created", "duplicate"]
    assert len(db.session.scalars(select(Invoice).filter_by(number="F-4")).all()) == 1
    assert (pickup / "twice.edi.handled").exists()


@SQLITE
def test_oversized_remote_file_is_renamed_rejected(app, world, orders, pickup, monkeypatch):
    monkeypatch.setattr(es, "MAX_FILE_BYTES", 50)
    (pickup / "huge.edi").write_bytes(b"U" * 51)
    db.session.commit()
    run = _run(app)
    assert run.records_failed == 1 and (pickup / "huge.edi.rejected").exists()


@SQLITE
def test_schedules_for_the_scheduler(app, world, orders, pickup):
    from zoneinfo import ZoneInfo
    [(job_id, setting)] = es.edi_schedules()
    assert job_id == f"edi-{setting.id}" and setting.version == 1
    trig = trigger_for(setting, ZoneInfo("UTC"))
    assert "hour='6'" in str(trig) and "minute='30'" in str(trig)
    admin = world.user("admin")
    es.save_setting(admin, orders.eur, es.EdiSettingFields(connection=setting.connection, folder="edi/in",
                                                            active=False, schedule="daily", schedule_time="06:30"))
    db.session.commit()
    assert es.edi_schedules() == [] and setting.version == 2
    # an automatic run of an inactive setting does nothing
    db.session.commit()
    assert fetch_edi.run(app, "EURV", trigger="schedule") is None
    with pytest.raises(InvalidInput, match="HH:MM"):
        es.save_setting(admin, orders.eur, es.EdiSettingFields(connection=setting.connection, folder="edi",
                                                                schedule="daily", schedule_time="25:00"))
    with pytest.raises(InvalidInput):
        es.save_setting(admin, orders.eur, es.EdiSettingFields(connection=setting.connection, folder="../etc"))


@SQLITE
def test_scheduler_hook_adds_retimes_and_drops_the_vendor_jobs(app, world, orders, pickup):
    from apscheduler.schedulers.background import BackgroundScheduler
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start(paused=True)   # jobs are stored and retimed; nothing runs
    try:
        _hook_steps(app, world, orders, scheduler)
    finally:
        scheduler.shutdown(wait=False)


def _hook_steps(app, world, orders, scheduler):
    known: dict = {}
    wanted: dict = {}
    es.schedule_edi_jobs(app, scheduler, known, wanted)
    setting = es.setting_of(orders.eur)
    job_id = f"edi-{setting.id}"
    assert wanted == known == {job_id: 1}
    job = scheduler.get_job(job_id)
    assert job.args[1] == "EURV" and job.kwargs == {"trigger": "schedule"} and "minute='30'" in str(job.trigger)
    es.save_setting(world.user("admin"), orders.eur, es.EdiSettingFields(
        connection=setting.connection, folder="edi/in", active=True, schedule="hourly"))
    db.session.commit()
    wanted = {}
    es.schedule_edi_jobs(app, scheduler, known, wanted)
    assert wanted == {job_id: 2} and "minute='0'" in str(scheduler.get_job(job_id).trigger)
    es.save_setting(world.user("admin"), orders.eur, es.EdiSettingFields(
        connection=setting.connection, folder="edi/in", active=False, schedule="hourly"))
    db.session.commit()
    wanted = {}
    es.schedule_edi_jobs(app, scheduler, known, wanted)
    assert wanted == {}   # the reconcile tick removes what is known but no longer wanted


@SQLITE
def test_H12_07_fetch_now_starts_at_once_when_the_running_fetch_lost_its_process(app, world, orders, pickup):
    """A fetch left "running" by a process that is gone (here: this pid with another start mark,
    i.e. a reused pid) is marked interrupted when "Fetch now" is pressed, and the new fetch starts."""
    from app.integrations import processes
    me = processes.current()
    if not me.mark:
        pytest.skip("no /proc: the start mark cannot be read here")
    boot, ns, _start = me.mark.split("|")
    dead = JobRun(job=es.JOB, profile_code=es.setting_of(orders.eur).job_code, trigger="manual")
    db.session.add(dead)
    db.session.flush()
    dead.owner_pid, dead.owner_mark = me.pid, f"{boot}|{ns}|1"
    db.session.commit()
    run = es.start_fetch(world.user("admin"), orders.eur)
    assert run.status == "running", run.message
    db.session.refresh(dead)
    assert (dead.status, dead.interrupted) == ("failed", True)
