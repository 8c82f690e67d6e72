"""When a schedule fires: the APScheduler trigger of a schedule preset (none, hourly, daily at
HH:MM, weekly on a day at HH:MM) and its next and previous tick, read from the database alone so
any worker can show them. A schedule is anything with the attributes ``active``, ``schedule``,
``schedule_time`` and ``schedule_day``: a profile's section or a vendor's EDI pickup."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from tzlocal import get_localzone

from ..clock import utcnow


def trigger_for(section, tz, override_seconds: int | None = None):
    if section.schedule == "none" or not section.active:
        return None
    if override_seconds:
        return IntervalTrigger(seconds=override_seconds, timezone=tz,
                               start_date=datetime(2000, 1, 1, tzinfo=timezone.utc))
    if section.schedule == "hourly":
        return CronTrigger(minute=0, timezone=tz)
    hour, minute = (int(x) for x in (section.schedule_time or "00:00").split(":"))
    if section.schedule == "daily":
        return CronTrigger(hour=hour, minute=minute, timezone=tz)
    if section.schedule == "weekly" and section.schedule_day is not None:
        return CronTrigger(day_of_week=section.schedule_day, hour=hour, minute=minute, timezone=tz)
    return None


def _tz(app):
    return app.config.get("SCHEDULER_TIMEZONE") or get_localzone()


def next_run(app, section, now: datetime | None = None) -> datetime | None:
    """When the section's job runs next (aware datetime in the scheduler's zone), from the database
    alone, so any worker can show it."""
    tz = _tz(app)
    trig = trigger_for(section, tz, app.config.get("SCHEDULE_INTERVAL_OVERRIDE_SECONDS"))
    if trig is None:
        return None
    now = now or utcnow(aware=True)
    return trig.get_next_fire_time(None, now.astimezone(trig.timezone))


def previous_tick(app, section, now: datetime) -> datetime | None:
    """The last time the section's job should have run at or before ``now`` (aware)."""
    tz = _tz(app)
    trig = trigger_for(section, tz, app.config.get("SCHEDULE_INTERVAL_OVERRIDE_SECONDS"))
    if trig is None:
        return None
    span = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(days=7)}
    window = timedelta(seconds=app.config["SCHEDULE_INTERVAL_OVERRIDE_SECONDS"]) \
        if app.config.get("SCHEDULE_INTERVAL_OVERRIDE_SECONDS") else span[section.schedule]
    tick = trig.get_next_fire_time(None, (now - window - timedelta(seconds=1)).astimezone(trig.timezone))
    last = None
    while tick is not None and tick <= now:
        last = tick
        tick = trig.get_next_fire_time(tick, tick + timedelta(microseconds=1))
    return last


# -- the institution's daily jobs (renewals, packaging, the digest) at a time of day -----------------

def daily_trigger(at: str, tz):
    """The trigger of a daily job at ``at`` ("HH:MM"; "" or anything else: not scheduled)."""
    try:
        hour, minute = (int(x) for x in (at or "").split(":"))
    except ValueError:
        return None
    if not (0 <= hour < 24 and 0 <= minute < 60):
        return None
    return CronTrigger(hour=hour, minute=minute, timezone=tz)


def daily_next(at: str, tz, now: datetime) -> datetime | None:
    """When a daily job at ``at`` runs next after ``now`` (aware)."""
    trig = daily_trigger(at, tz)
    return trig.get_next_fire_time(None, now.astimezone(trig.timezone)) if trig else None


def daily_previous(at: str, tz, now: datetime) -> datetime | None:
    """The last tick of a daily job at ``at`` at or before ``now`` (aware): within the last day."""
    trig = daily_trigger(at, tz)
    if trig is None:
        return None
    tick = trig.get_next_fire_time(None, (now - timedelta(days=1, seconds=1)).astimezone(trig.timezone))
    last = None
    while tick is not None and tick <= now:
        last = tick
        tick = trig.get_next_fire_time(tick, tick + timedelta(microseconds=1))
    return last
