"""The institution's daily jobs (renewals, packaging, the digest) on the scheduler, driven with a
pinned clock and no sleeps: a job is added at its time of day and retimed when the time changes,
runs once per tick (a double start, two processes), catches up once after downtime, and its run
is on Monitor Jobs with its events."""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.extensions import db
from app.integrations import daily
from app.integrations.models import JobEvent, JobRun
from app.org.models import Institution

UTC = timezone.utc
T0600 = datetime(2026, 6, 15, 6, 0, tzinfo=UTC)


@pytest.fixture
def clock(app, monkeypatch):
    """The scheduler's clock, pinned (the zone: UTC)."""
    app.config["SCHEDULER_TIMEZONE"] = "UTC"
    now = [T0600 + timedelta(seconds=3)]
    monkeypatch.setattr(daily, "utcnow", lambda aware=False: now[0] if aware else now[0].replace(tzinfo=None))
    monkeypatch.setattr(daily, "_tz", lambda app: UTC)
    return now


def _times(renewals="06:00", packaging="", digest="07:00"):
    inst = Institution.current()
    inst.renewals_at, inst.packaging_at, inst.digest_at = renewals, packaging, digest
    db.session.commit()


def _runs(job):
    db.session.expire_all()
    return list(db.session.scalars(select(JobRun).where(JobRun.job == job).order_by(JobRun.id)))


def test_jobs_follow_the_times_of_day(app, clock, paused):
    _times()
    scheduler = paused()
    known, wanted = {}, {}
    daily.schedule_daily_jobs(app, scheduler, known, wanted, first=False)
    assert set(wanted) == {"daily-renewals", "daily-digest"}, "packaging has no time: not scheduled"
    assert str(scheduler.get_job("daily-digest").trigger) == "cron[hour='7', minute='0']"
    _times(digest="18:30", packaging="05:15")
    wanted = {}
    daily.schedule_daily_jobs(app, scheduler, known, wanted, first=False)
    assert set(wanted) == {"daily-renewals", "daily-digest", "daily-package_orders"}
    assert str(scheduler.get_job("daily-digest").trigger) == "cron[hour='18', minute='30']"
    assert daily.next_time(app, "digest", T0600) == datetime(2026, 6, 15, 18, 30, tzinfo=UTC)
    assert daily.next_time(app, "package_orders", T0600) == datetime(2026, 6, 16, 5, 15, tzinfo=UTC)
    _times(renewals="")
    assert daily.next_time(app, "renewals") is None


def test_due_at_its_time_once_per_tick(app, world, clock):
    _times()
    first = daily.scheduled(app, "renewals")
    assert daily.scheduled(app, "renewals") is None, "a double start of the same tick"
    [run] = _runs("renewals")
    assert run.id == first and run.trigger == "schedule" and run.status == "completed"
    assert run.scheduled_for == datetime(2026, 6, 15, 6, 0) and run.profile_id is None
    assert run.job_label == "Process renewals"
    clock[0] = T0600 + timedelta(days=1, seconds=1)
    assert daily.scheduled(app, "renewals") is not None
    assert len(_runs("renewals")) == 2


def test_catch_up_once_after_downtime(app, world, clock, paused):
    _times()
    clock[0] = T0600 + timedelta(days=3, hours=2)   # down for three days: one catch-up, for the last tick
    tick = daily.missed(app, "renewals")
    assert tick == T0600 + timedelta(days=3)
    scheduler = paused()
    daily.schedule_daily_jobs(app, scheduler, {}, {}, first=True)
    catch_ups = [j for j in scheduler.get_jobs() if j.id.startswith("catch-up-")]
    assert sorted(j.id for j in catch_ups) == ["catch-up-daily-digest", "catch-up-daily-renewals"]
    for job in catch_ups:
        job.func(*job.args)
        job.func(*job.args)   # started twice: one run
    assert [(r.trigger, r.scheduled_for) for r in _runs("renewals")] == [("catch_up", datetime(2026, 6, 18, 6, 0))]
    assert len(_runs("digest")) == 1
    assert daily.missed(app, "renewals") is None, "caught up"
    again = paused()
    daily.schedule_daily_jobs(app, again, {}, {}, first=True)   # the app restarts once more
    assert not [j for j in again.get_jobs() if j.id.startswith("catch-up-")]
    assert daily.scheduled(app, "renewals") is None, "the tick caught up is not run again by the schedule"


def test_an_interrupted_run_is_caught_up_but_an_interrupted_catch_up_is_not(app, world, clock):
    _times()
    db.session.add(JobRun(job="renewals", profile_code="", trigger="schedule", status="failed", interrupted=True,
                          scheduled_for=datetime(2026, 6, 15, 6, 0), started_at=datetime(2026, 6, 15, 6, 0)))
    db.session.commit()
    clock[0] = T0600 + timedelta(hours=1)
    tick = daily.missed(app, "renewals")
    assert tick == T0600
    assert daily.scheduled(app, "renewals", "catch_up", tick) is not None
    run = _runs("renewals")[-1]
    run.status, run.interrupted = "failed", True
    db.session.commit()
    assert daily.missed(app, "renewals") is None


def test_the_cli_run_counts_as_the_days_run(app, world, clock):
    _times()
    clock[0] = T0600 + timedelta(hours=1)
    daily.run_daily(app, "renewals", trigger="cli")
    assert daily.missed(app, "renewals") is None


def test_a_run_while_another_is_alive_is_recorded_skipped(app, world, clock):
    _times(packaging="06:00")
    db.session.add(JobRun(job="package_orders", profile_code="orders", trigger="manual", status="running"))
    db.session.commit()
    daily.scheduled(app, "package_orders")
    skipped = _runs("package_orders")[-1]
    assert skipped.status == "skipped" and "still running" in skipped.message


def test_renewals_and_packaging_record_what_they_did(app, world, clock):
    from app.orders import services as os_
    from app.orders.models import POLine
    from tests.orders.helpers import line, make_vendors
    orders = make_vendors(world)
    buyer = world.user("buyer")
    pol = line(world, buyer, orders.eur, order_type="continuous", renewal_date=date(2030, 1, 10))
    os_.approve_po_line(buyer, pol)
    db.session.commit()
    pack = db.session.get(JobRun, daily.run_daily(app, "package_orders", trigger="manual"))
    assert pack.status == "completed" and pack.message == "1 purchase order(s) packaged and sent."
    events = [e.message for e in db.session.scalars(select(JobEvent).filter_by(run_id=pack.id))]
    assert any("sent to EURV with 1 line(s)" in m for m in events)
    run = db.session.get(JobRun, daily.run_daily(app, "renewals", trigger="manual", today=date(2030, 1, 10)))
    db.session.expire_all()
    number = db.session.get(POLine, pol.id).number
    events = [e.message for e in db.session.scalars(select(JobEvent).filter_by(run_id=run.id))]
    assert run.message.startswith("1 waiting for renewal, 0 waiting for manual renewal, 1 renewed.")
    assert f"{number} waits for renewal." in events
    assert any(m.startswith(f"{number} renewed; next renewal date") for m in events)


@pytest.mark.committing
def test_two_processes_at_one_tick_give_one_run(make_app, monkeypatch):
    """Two apps (two engines, as two processes have) on one database start the same tick at once."""
    first = make_app("sqlite", SCHEDULER_TIMEZONE="UTC")
    second = make_app("sqlite", SCHEDULER_TIMEZONE="UTC",
                      SQLALCHEMY_DATABASE_URI=first.config["SQLALCHEMY_DATABASE_URI"])
    now = T0600 + timedelta(seconds=1)
    monkeypatch.setattr(daily, "utcnow", lambda aware=False: now if aware else now.replace(tzinfo=None))
    monkeypatch.setattr(daily, "_tz", lambda app: UTC)
    with first.app_context():
        _times()
    start = threading.Barrier(2)
    results = []

    def go(app):
        start.wait()
        results.append(daily.scheduled(app, "digest", tick=T0600))
    threads = [threading.Thread(target=go, args=(a,)) for a in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 2 and results.count(None) == 1, results
    with first.app_context():
        assert len(_runs("digest")) == 1
