"""Monitor Jobs' queries, shared by the page (:mod:`.views`) and the API: the history of ended runs
by its filters, the runs going on now, and a run's error report as CSV."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

from ..clock import utcnow
from ..extensions import db
from ..spreadsheets import safe_row
from ..text import T
from .models import JobEvent, JobRun

HISTORY_DAYS = {"1": T("Last 24 hours"), "7": T("Last 7 days"), "30": T("Last 30 days")}   # runs started since
REPORT_HEADER = [T("run"), T("job"), T("profile"), T("time (UTC)"), T("level"), T("file"), T("record"), T("message")]


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
    writer.writerow([str(h) for h in REPORT_HEADER])   # in the reader's language, as the rows' labels
    for event in db.session.scalars(events_query(run).where(JobEvent.level.in_(levels))):
        writer.writerow(safe_row([run.id, str(run.job_label), run.profile_code,
                                  event.at.isoformat(sep=" ", timespec="seconds"), str(event.level_label),
                                  event.file_name, event.record, str(event.shown)]))
    return out.getvalue()


def scheduled(app) -> list[dict]:
    """Monitor Jobs' "Scheduled": what the scheduler runs next, soonest first. Each row: ``next``
    (aware, the scheduler's zone), ``job`` (its key) and ``job_label``, ``owner`` (a profile's code,
    EDI-<vendor>, Institution or ""), ``schedule`` (as the page says it), ``kind`` (profile, edi,
    daily or backup) and ``profile_id`` (a profile's section's)."""
    from ..backup.runs import next_backup
    from . import services as integrations
    from .daily import DAILY, next_time, time_of
    from .edi.services import edi_schedules
    from .models import OTHER_JOBS
    from .schedules import next_run

    def row(when, job, label, owner, schedule, kind, profile_id=None):
        return {"next": when, "job": job, "job_label": label, "owner": owner, "schedule": schedule, "kind": kind,
                "profile_id": profile_id}
    rows = []
    for profile in integrations.profiles():
        for section in profile.sections:
            when = next_run(app, section)
            if when is not None:
                rows.append(row(when, section.job, section.label, profile.code, section.schedule_text, "profile",
                                profile.id))
    for _job_id, setting in edi_schedules():
        when = next_run(app, setting)
        if when is not None:
            rows.append(row(when, "fetch_edi", OTHER_JOBS["fetch_edi"], f"EDI-{setting.vendor.code}",
                            setting.schedule_text, "edi"))
    for job in DAILY:
        when = next_time(app, job)
        if when is not None:
            rows.append(row(when, job, OTHER_JOBS[job], T("Institution"), T("Daily at %(time)s", time=time_of(job)),
                            "daily"))
    when = next_backup(app)
    if when is not None:
        rows.append(row(when, "backup", OTHER_JOBS["backup"], "",
                        T("Daily at %(time)s", time=app.config['BACKUP_SCHEDULE'].strip()), "backup"))
    return sorted(rows, key=lambda r: r["next"])
