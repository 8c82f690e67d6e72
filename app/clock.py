"""The one clock: now in UTC. Every column stores its moments as naive UTC datetimes, which
``utcnow()`` gives; APScheduler, remote file times and archive names want an aware one
(``utcnow(aware=True)``)."""
from datetime import datetime, timezone


def utcnow(*, aware: bool = False) -> datetime:
    now = datetime.now(timezone.utc)
    return now if aware else now.replace(tzinfo=None)
