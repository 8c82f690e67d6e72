"""The send_letters job on Monitor Jobs: a run per delivery with one event per letter that did not
go, no run recorded when nothing is due, one run at a time, letters left "sending" by a dead run
interrupted; the after-commit kick; the scheduler's interval run."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from app.clock import utcnow
from app.extensions import db
from app.integrations.models import OTHER_JOBS, JobEvent, JobRun
from app.letters.data import demo_order
from app.outgoing import queue, runs, snapshot
from app.outgoing.models import VendorMessage
from tests.outgoing.conftest import REFUSED, queued


def run_count() -> int:
    return db.session.scalar(select(func.count()).select_from(JobRun).where(JobRun.job == runs.JOB))


def test_nothing_due_records_no_run(app, world, orders):
    queued(orders.eur, next_attempt_at=utcnow() + timedelta(minutes=5))   # not due yet
    assert runs.run(app) is None and run_count() == 0


@pytest.mark.postgres
def test_a_run_sends_and_names_each_letter_that_did_not_go(app, world, orders, smtp):
    good = queued(orders.eur)
    bad = queued(orders.eur, to=REFUSED)
    run_id = runs.run(app)
    run = db.session.get(JobRun, run_id)
    assert (run.job, run.profile_id, run.profile_code, run.trigger) == ("send_letters", None, "", "schedule")
    assert run.job_label == OTHER_JOBS["send_letters"] == "Send letters to vendors"
    assert run.status == "completed" and (run.records, run.records_failed) == (2, 1)
    assert run.message == "Letters to vendors: 1 sent, 1 failed."
    [event] = run.events.all()
    assert event.level == "error" and event.record == "PO-000001"
    assert "Purchase order PO-000001 to Euro Books: failed" in event.message and "550" in event.message
    assert db.session.get(VendorMessage, good.id).status == "sent" and len(smtp.envelopes) == 1
    assert db.session.get(VendorMessage, bad.id).status == "failed"
    assert runs.run(app) is None and run_count() == 1   # nothing left: no second run recorded


def test_retry_is_a_warning_with_the_next_attempt(app, world, orders, smtp_down):
    queued(orders.eur)
    run = db.session.get(JobRun, runs.run(app))
    assert run.status_label == "Completed with exceptions" and run.message.endswith("1 to retry.")
    [event] = run.events.all()
    assert event.level == "warning" and "trying again at" in event.message and "could not be reached" in event.message


def test_one_run_at_a_time(app, world, orders, smtp):
    queued(orders.eur)
    alive = JobRun(job=runs.JOB, profile_code="", trigger="schedule", heartbeat_at=utcnow())
    db.session.add(alive)
    db.session.commit()
    assert runs.run(app, trigger="event") is None and smtp.envelopes == []
    alive.status = "completed"
    db.session.commit()
    assert runs.run(app, trigger="event") is not None and len(smtp.envelopes) == 1


def test_letter_left_sending_by_a_dead_run_is_interrupted_by_the_next_run(app, world, orders, smtp):
    dead = JobRun(job=runs.JOB, profile_code="", trigger="schedule", heartbeat_at=utcnow(),
                  owner_host="elsewhere.invalid", owner_pid=1, owner_mark="x")
    dead.heartbeat_at = utcnow() - timedelta(hours=1)
    db.session.add(dead)
    left = queued(orders.eur, status="sending", attempts=1)   # a minute old: only the dead run can explain it
    db.session.commit()
    run = db.session.get(JobRun, runs.run(app))
    assert db.session.get(JobRun, dead.id).interrupted
    assert db.session.get(VendorMessage, left.id).status == "interrupted" and smtp.envelopes == []
    [event] = run.events.all()
    assert event.level == "error" and "interrupted" in event.message and "may have reached the vendor" in event.message


def test_kick_after_commit_starts_one_delivery_and_a_rollback_forgets_it(app, world, orders, monkeypatch):
    started = []
    monkeypatch.setattr(runs, "in_background", lambda app_, trigger="event": started.append(trigger))
    app.config["OUTGOING_KICK"] = True
    db.session.add(VendorMessage(kind="po", channel="none", vendor_id=orders.eur.id, payload={}))
    db.session.flush()
    queue.mark_for_delivery()
    db.session.rollback()
    db.session.commit()
    assert started == []
    queue.mark_for_delivery()
    db.session.commit()
    assert started == ["event"] and queue.KICK not in db.session.info
    db.session.commit()
    assert started == ["event"]
    app.config["OUTGOING_KICK"] = False
    queue.mark_for_delivery()
    db.session.commit()
    assert started == ["event"] and queue.KICK not in db.session.info


def test_scheduler_runs_it_every_minute(app):
    scheduler = BackgroundScheduler()
    runs.schedule_delivery(app, scheduler)
    job = scheduler.get_job(runs.SCHEDULER_JOB_ID)
    assert job.trigger.interval == timedelta(seconds=60) and list(job.args) == [app, "schedule"]


def test_cli_sends_and_reports(app, world, orders, smtp):
    queued(orders.eur)
    result = app.test_cli_runner().invoke(args=["letters", "send"])
    assert result.exit_code == 0, result.output
    assert "1 sent" in result.output and len(smtp.envelopes) == 1
    result = app.test_cli_runner().invoke(args=["letters", "send"])
    assert "nothing to send" in result.output and run_count() == 2
    assert db.session.scalar(select(func.count()).select_from(JobEvent)) == 0


@pytest.mark.committing
def test_kick_delivers_in_the_background_right_after_the_commit(app, world, orders, letter_files):
    app.config["OUTGOING_KICK"] = True
    message = VendorMessage(kind="po", channel="email", vendor_id=orders.eur.id, po_number="PO-000001",
                            to_address="orders@vendor.example", payload=snapshot.dump_order(demo_order(1)))
    db.session.add(message)
    queue.mark_for_delivery()
    db.session.commit()
    assert wait_for(lambda: db.session.get(VendorMessage, message.id).status) == "sent"
    assert len(list((letter_files / "mail").iterdir())) == 1
    assert wait_for(lambda: db.session.scalar(select(JobRun.status).where(JobRun.job == runs.JOB))) == "completed"
    run = db.session.scalar(select(JobRun).where(JobRun.job == runs.JOB))
    assert (run.trigger, run.records) == ("event", 1)


def wait_for(read, timeout: float = 20):
    """What ``read()`` gives once it is no longer queued or running (each read in a transaction
    ended at once: on SQLite an open one would hold the write lock the delivery waits for)."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        db.session.rollback()
        if value not in ("queued", "sending", "running", None) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)
