"""A run whose process is killed mid-run (issue 12, finding 7): it no longer blocks "Run now" or the
scheduler's next tick for 15 minutes. The run's owner (host, pid, process mark) tells at once that
its process is gone; the run is marked interrupted with an event and the new run starts."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest

from app.clock import utcnow
from app.extensions import db
from app.integrations import processes
from app.integrations.models import JobEvent, JobRun, ProfileSection
from app.integrations.runs import interrupt_dead_runs
from tests.helpers import login
from testkit.erp import wait_for_run
from tests.integrations.test_scheduler import ROOT, _profile, _reconciles, _runs, _wait, scheduled_app  # noqa: F401

# A process that starts a payment import whose body commits once, says so, then blocks for ever.
BLOCKING_RUN = """
import sys, threading
from datetime import datetime
from pathlib import Path
import jobs.import_payments as target
from app import create_app
from jobs import JOBS

uri, started, trigger, tick = sys.argv[1:5]

def body(ctx):
    ctx.log.info("Working on the first file.")
    ctx.log.commit()
    Path(started).write_text(str(ctx.log.run_id))
    threading.Event().wait()

target.import_payments = body
app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "t", "TESTING": True}, jobs=JOBS)
JOBS["import_payments"](app, "ERP", trigger=trigger,
                       scheduled_for=datetime.fromisoformat(tick) if tick != "-" else None)
"""


def _blocking_run(app, tmp_path, trigger="manual", tick=None):
    """Start the blocking run in its own process; returns (process, run id) once it is inside the body."""
    started = tmp_path / f"started-{time.monotonic_ns()}"
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    proc = subprocess.Popen([sys.executable, "-c", BLOCKING_RUN, uri, str(started), trigger,
                             tick.isoformat() if tick else "-"], cwd=ROOT, start_new_session=True)
    assert _wait(lambda: started.exists() and started.read_text() or proc.poll() is not None, timeout=90)
    assert proc.poll() is None, "the blocking run's process ended early"
    return proc, int(started.read_text())


def _kill(proc):
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)


def _run(run_id):
    db.session.rollback()
    run = db.session.get(JobRun, run_id)
    db.session.refresh(run)
    return run


def test_H12_07_run_now_starts_at_once_after_the_running_process_was_killed(make_app, tmp_path):
    app = make_app("sqlite")
    profile_id, _ = _profile(app, tmp_path)
    with app.app_context():
        proc, dead_id = _blocking_run(app, tmp_path)
        try:
            run = _run(dead_id)
            assert (run.status, run.owner_pid, run.owner_host) == ("running", proc.pid, processes.current().host)
            client = login(app.test_client(), "admin")
            url = f"/admin/erp/profiles/{profile_id}/sections/import_payments/run"
            # While its process lives, the run is respected: "Run now" is refused.
            busy = client.post(url)
            busy_id = int(busy.headers["Location"].rsplit("/", 1)[1])
            assert _run(busy_id).status == "skipped" and _run(dead_id).status == "running"
        finally:
            _kill(proc)
        resp = client.post(url)
        new_id = int(resp.headers["Location"].rsplit("/", 1)[1])
        new = wait_for_run(new_id)
        assert new.status == "completed", new.message
        dead = _run(dead_id)
        assert dead.status == "failed" and dead.interrupted and dead.status_label == "Interrupted"
        assert dead.message.startswith(f"Interrupted: pid {proc.pid} on ")
        events = [e.message for e in db.session.scalars(db.select(JobEvent).filter_by(run_id=dead_id))]
        assert events == ["Working on the first file.", dead.message]
        page = client.get(f"/admin/erp/jobs/runs/{dead_id}").get_data(as_text=True)
        assert "Interrupted" in page and f"pid {proc.pid}" in page


def test_H12_07_the_schedulers_next_tick_runs_at_once_after_the_running_process_was_killed(
        scheduled_app, make_app, tmp_path):
    seed = make_app("sqlite")
    _profile(seed, tmp_path)
    proc, dead_id = _blocking_run(seed, tmp_path)
    try:
        app = scheduled_app(SQLALCHEMY_DATABASE_URI=seed.config["SQLALCHEMY_DATABASE_URI"],
                            SCHEDULE_INTERVAL_OVERRIDE_SECONDS=1)
        with app.app_context():
            # Ticks while the run's process lives are skipped (and recorded).
            assert _wait(lambda: any(r.status == "skipped" for r in _runs()), timeout=30)
    finally:
        _kill(proc)
    with app.app_context():
        killed_at = len(_runs())
        assert _wait(lambda: any(r.trigger == "schedule" and r.status == "completed" for r in _runs()[killed_at:]),
                     timeout=30), _runs()
        dead = _run(dead_id)
        assert dead.status == "failed" and dead.interrupted


def test_H12_07_a_scheduled_run_killed_with_its_process_is_caught_up_when_the_scheduler_restarts(
        scheduled_app, make_app, tmp_path):
    """The scheduler's own process dies during the 02:00 run (hourly section here); when a scheduler
    starts again, the interrupted tick gets one catch-up run at once, not at the next tick."""
    seed = make_app("sqlite")
    _profile(seed, tmp_path, schedule="hourly")
    with seed.app_context():   # set up long ago
        db.session.execute(db.update(ProfileSection).values(updated_at=utcnow() - timedelta(hours=6)))
        db.session.commit()
    tick = utcnow().replace(minute=0, second=0, microsecond=0)
    proc, dead_id = _blocking_run(seed, tmp_path, trigger="schedule", tick=tick)
    _kill(proc)
    app = scheduled_app(SQLALCHEMY_DATABASE_URI=seed.config["SQLALCHEMY_DATABASE_URI"])
    with app.app_context():
        assert _wait(lambda: any(r.status == "completed" for r in _runs()), timeout=30), _runs()
        _reconciles(app).wait(4)   # several reconcile ticks later: still one catch-up
        runs = _runs()
        assert [(r.trigger, r.status) for r in runs] == [("schedule", "failed"), ("catch_up", "completed")]
        assert _run(dead_id).interrupted


def test_H12_07_a_reused_pid_is_not_taken_for_the_owner(make_app):
    """A run recorded with this very process's pid but another start mark (the pid was reused after
    the owner died) is interrupted; one with this process's own mark is left running."""
    me = processes.current()
    if not me.mark:
        pytest.skip("no /proc: the start mark cannot be read here")
    with make_app("sqlite").app_context():
        _reused_pid(me)


def _reused_pid(me):
    boot, ns, start = me.mark.split("|")
    reused = JobRun(job="import_payments", profile_code="X", owner_pid=me.pid, owner_mark=f"{boot}|{ns}|1")
    alive = JobRun(job="import_payments", profile_code="Y")
    elsewhere = JobRun(job="import_payments", profile_code="Z", owner_host="another-host",
                       heartbeat_at=utcnow() - timedelta(minutes=5))
    db.session.add_all([reused, alive, elsewhere])
    db.session.commit()
    assert alive.owner_mark == me.mark and elsewhere.owner_pid == me.pid
    assert interrupt_dead_runs() == [reused.id]
    db.session.commit()
    assert (reused.status, alive.status, elsewhere.status) == ("failed", "running", "running")
    elsewhere.heartbeat_at = utcnow() - timedelta(minutes=16)   # another host's run: only the heartbeat tells
    assert interrupt_dead_runs() == [elsewhere.id]
