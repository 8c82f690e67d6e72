"""Monitor Jobs' queries, shared by the page (:mod:`.views`) and the API: the history of ended runs
by its filters, the runs going on now, and a run's error report as CSV."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

from ..clock import utcnow
from ..extensions import db
from ..spreadsheets import safe_row
from .models import JobEvent, JobRun

HISTORY_DAYS = {"1": "Last 24 hours", "7": "Last 7 days", "30": "Last 30 days"}   # runs started since
REPORT_HEADER = ["run", "job", "profile", "time (UTC)", "level", "file", "record", "message"]


def history_query(filters: dict):
    """Ended runs, newest first; ``filters``: job, status, profile (code) and days, each "" for any."""
    q = db.select(JobRun).where(JobRun.status != "running")
    if filters.get("job"):
        q = q.where(JobRun.job == filters["job"])
    if filters.get("status"):
        q = q.where(JobRun.status == filters["status"])
    if filters.get("profile"):
        q = q.where(JobRun.profile_code == filters["profile"])
    if filters.get("days"):
        q = q.where(JobRun.started_at >= utcnow() - timedelta(days=int(filters["days"])))
    return q.order_by(JobRun.id.desc())


def running() -> list[JobRun]:
    return list(db.session.scalars(db.select(JobRun).filter_by(status="running").order_by(JobRun.id)))


def events_query(run: JobRun):
    return db.select(JobEvent).filter_by(run_id=run.id).order_by(JobEvent.id)


def report_csv(run: JobRun, all_levels: bool = False) -> str:
    """The run's warnings and errors (every event with ``all_levels``) as CSV, formulas neutralised."""
    levels = ("info", "warning", "error") if all_levels else ("warning", "error")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(REPORT_HEADER)
    for event in db.session.scalars(events_query(run).where(JobEvent.level.in_(levels))):
        writer.writerow(safe_row([run.id, run.job_label, run.profile_code,
                                  event.at.isoformat(sep=" ", timespec="seconds"), event.level, event.file_name,
                                  event.record, event.message]))
    return out.getvalue()
