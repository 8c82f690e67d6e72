"""A vendor's EDI pickup on the scheduler, driven with a pinned clock and no sleeps, as a profile's
section is: each fetch carries the tick it belongs to (one fetch per tick), after downtime one
catch-up fetch covers the ticks missed (and is not repeated at the next start), an interrupted
scheduled fetch is caught up but an interrupted catch-up is not, and a tick that could not run is
recorded as a *skipped* fetch with a warning."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent, JobSubmissionEvent
from sqlalchemy import select

from app.clock import utcnow
from app.extensions import db
from app.integrations import scheduler as integration_scheduler
from app.integrations.edi import services as es
from app.integrations.models import JobEvent, JobRun
from testkit.erp import local_connection

UTC = timezone.utc
SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture
def clock(app, monkeypatch):
    """The pickups' clock, pinned ten minutes past the current real hour (UTC), so the runs'
    real start times fall after the ticks the scheduler decides about."""
    app.config["SCHEDULER_TIMEZONE"] = "UTC"
    app.config.pop("SCHEDULE_INTERVAL_OVERRIDE_SECONDS", None)
    hour = utcnow(aware=True).replace(minute=0, second=0, microsecond=0)
    now = [hour + timedelta(minutes=10)]
    monkeypatch.setattr(es, "utcnow", lambda aware=False: now[0] if aware else now[0].replace(tzinfo=None))
    return now


@pytest.fixture
def hourly(app, world, orders, tmp_path, clock):
    """EURV's hourly pickup from a local folder (empty), last saved six hours before the pinned now."""
    admin = world.user("admin")
    conn, root = local_connection(admin, tmp_path / "edi")
    (root / "in").mkdir()
    setting = es.save_setting(admin, orders.eur, es.EdiSettingFields(connection=conn, folder="in", active=True,
                                                                      schedule="hourly"))
    setting.updated_at = clock[0].replace(tzinfo=None) - timedelta(hours=6)
    db.session.commit()
    return setting


def _runs():
    db.session.expire_all()
    return list(db.session.scalars(select(JobRun).where(JobRun.job == es.JOB).order_by(JobRun.id)))


def _tick(clock) -> datetime:
    return clock[0].replace(minute=0)


def _catch_ups(scheduler):
    return [j for j in scheduler.get_jobs() if j.id.startswith("catch-up-")]


@SQLITE
def test_catch_up_once_after_downtime(app, hourly, clock, paused):
    tick = _tick(clock)
    assert es.missed_tick(app, hourly) == tick, "six hourly ticks passed with no fetch: the last one is due"
    scheduler = paused()
    es.schedule_edi_jobs(app, scheduler, {}, {}, first=True)
    [job] = _catch_ups(scheduler)
    assert job.id == f"catch-up-edi-{hourly.id}" and job.kwargs == {"trigger": "catch_up", "tick": tick}
    db.session.commit()
    job.func(*job.args, **job.kwargs)
    job.func(*job.args, **job.kwargs)   # started twice: one fetch
    runs = _runs()
    assert [(r.trigger, r.status, r.scheduled_for, r.profile_code) for r in runs] == \
        [("catch_up", "completed", tick.replace(tzinfo=None), "EDI-EURV")]
    assert es.missed_tick(app, hourly) is None, "caught up"
    again = paused()
    es.schedule_edi_jobs(app, again, {}, {}, first=True)   # the app restarts once more
    assert _catch_ups(again) == []
    assert es.scheduled_fetch(app, "EURV") is None, "the tick caught up is not fetched again by the schedule"
    assert len(_runs()) == 1


@SQLITE
def test_only_the_first_reconcile_catches_up(app, hourly, clock, paused):
    scheduler = paused()
    es.schedule_edi_jobs(app, scheduler, {}, {})
    assert _catch_ups(scheduler) == [] and scheduler.get_job(f"edi-{hourly.id}") is not None


@SQLITE
def test_no_catch_up_when_the_last_tick_was_fetched_or_the_setting_changed_since(app, world, orders, hourly,
                                                                                   clock, paused):
    db.session.commit()
    assert es.scheduled_fetch(app, "EURV") is not None
    [run] = _runs()
    assert (run.trigger, run.scheduled_for) == ("schedule", _tick(clock).replace(tzinfo=None))
    assert es.missed_tick(app, hourly) is None
    clock[0] += timedelta(hours=3)
    assert es.missed_tick(app, hourly) == _tick(clock)
    hourly.updated_at = clock[0].replace(tzinfo=None) - timedelta(minutes=1)   # saved after the last tick
    db.session.commit()
    assert es.missed_tick(app, hourly) is None
    hourly.active = False
    db.session.commit()
    scheduler = paused()
    es.schedule_edi_jobs(app, scheduler, {}, {}, first=True)
    assert scheduler.get_jobs() == [], "an inactive pickup is neither scheduled nor caught up"


@SQLITE
def test_an_interrupted_fetch_is_caught_up_but_an_interrupted_catch_up_is_not(app, hourly, clock):
    tick = _tick(clock).replace(tzinfo=None)
    db.session.add(JobRun(job=es.JOB, profile_code="EDI-EURV", trigger="schedule", status="failed",
                          interrupted=True, scheduled_for=tick, started_at=tick))
    db.session.commit()
    assert es.missed_tick(app, hourly) == _tick(clock)
    assert es.scheduled_fetch(app, "EURV", trigger="catch_up", tick=_tick(clock)) is not None, \
        "the interrupted fetch's tick is fetched again"
    run = _runs()[-1]
    assert (run.trigger, run.status, run.scheduled_for) == ("catch_up", "completed", tick)
    run.status, run.interrupted = "failed", True
    db.session.commit()
    assert es.missed_tick(app, hourly) is None


@SQLITE
def test_a_skipped_tick_is_recorded_and_left_to_a_catch_up(app, hourly, clock):
    when = _tick(clock)
    listener_event = JobSubmissionEvent(EVENT_JOB_MAX_INSTANCES, f"edi-{hourly.id}", None, [when])
    db.session.commit()
    integration_scheduler._record_skip(app, listener_event)
    integration_scheduler._record_skip(app, JobExecutionEvent(EVENT_JOB_MISSED, f"edi-{hourly.id}", None,
                                                              when + timedelta(hours=1)))
    integration_scheduler._record_skip(app, JobExecutionEvent(EVENT_JOB_MISSED, "edi-999999", None, when))
    first, second = _runs()
    assert (first.status, first.trigger, first.profile_code, first.scheduled_for) == \
        ("skipped", "schedule", "EDI-EURV", when.replace(tzinfo=None))
    assert first.message == "Not started: the previous fetch is still going."
    assert (second.message, second.scheduled_for) == ("Not started: the tick was missed.",
                                                      (when + timedelta(hours=1)).replace(tzinfo=None))
    assert [e.level for e in db.session.scalars(select(JobEvent).filter_by(run_id=first.id))] == ["warning"]
    # The skipped tick did not fetch: it is still due, and its scheduled fetch may still start.
    assert es.missed_tick(app, hourly) == when
    assert es.scheduled_fetch(app, "EURV") is not None
    assert _runs()[-1].status == "completed"


@SQLITE
def test_the_scheduler_passes_its_first_tick_to_the_pickups(app, hourly, clock, paused, monkeypatch):
    seen = []
    monkeypatch.setattr(es, "schedule_edi_jobs", lambda app_, s, k, w, first=False: seen.append(first))
    scheduler = paused()
    integration_scheduler._edi_pickups(app, scheduler, {}, {})
    app.extensions["scheduler_reconciled"] = True
    try:
        integration_scheduler._edi_pickups(app, scheduler, {}, {})
    finally:
        app.extensions.pop("scheduler_reconciled", None)
    assert seen == [True, False]
