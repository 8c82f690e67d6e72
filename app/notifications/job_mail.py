"""The job-end e-mail: when a run of a profile's job ends, each of the profile's recipients gets a
``job_ended`` notification with the run's summary and a link to its events on Monitor Jobs,
after every run (``notify_when`` "always") or only after one that failed, was interrupted or
completed with exceptions ("failure"). The user's preference for ``job_ended`` decides whether it
is mailed at once, in the digest or not at all.

:func:`run_ended` is called where a run ends (``RunLog.finish``, the reaper of dead runs), in the
transaction that ends it, and tells once per run: a run that has its notifications already is
not told again. The administrators choose the recipients on the profile page
(:func:`set_recipients`)."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from ..auth.models import Role, User
from ..auth.permissions import require_institution_role
from ..errors import InvalidInput
from ..extensions import db
from ..ids import parse_id
from ..integrations.models import IntegrationProfile, JobEvent, JobRun
from ..text import T, Text
from .models import NOTIFY_WHEN, Notification
from .services import notify

FIRST_ERRORS = 5


def failed(run: JobRun) -> bool:
    return run.status == "failed" or run.interrupted or (run.status == "completed" and run.records_failed > 0)


def outcome(run: JobRun) -> str:
    """How the run ended: ``interrupted``, ``failed``, ``exceptions`` (completed with exceptions) or
    ``completed``."""
    if run.interrupted:
        return "interrupted"
    if run.status == "failed":
        return "failed"
    if run.records_failed:
        return "exceptions"
    return "completed"


def _title(run: JobRun) -> Text:
    args = dict(id=run.id, profile=run.profile_code, job=run.job_label)
    return {"interrupted": T("ERP run #%(id)s of %(profile)s was interrupted: %(job)s", **args),
            "failed": T("ERP run #%(id)s of %(profile)s failed: %(job)s", **args),
            "exceptions": T("ERP run #%(id)s of %(profile)s completed with exceptions: %(job)s", **args),
            "completed": T("ERP run #%(id)s of %(profile)s completed: %(job)s", **args)}[outcome(run)]


def _ended(run: JobRun) -> Text:
    args = dict(job=run.job_label, profile=run.profile_code, trigger=run.trigger_label,
                started=f"{run.started_at:%Y-%m-%d %H:%M}")
    return {"interrupted": T("%(job)s of profile %(profile)s was interrupted (%(trigger)s, started %(started)s UTC).",
                             **args),
            "failed": T("%(job)s of profile %(profile)s failed (%(trigger)s, started %(started)s UTC).", **args),
            "exceptions": T("%(job)s of profile %(profile)s completed with exceptions (%(trigger)s, started "
                            "%(started)s UTC).", **args),
            "completed": T("%(job)s of profile %(profile)s completed (%(trigger)s, started %(started)s UTC).",
                           **args)}[outcome(run)]


def run_url(run: JobRun) -> str:
    return current_app.url_map.bind("localhost").build("integrations.show_run", {"run_id": run.id})


def summary(run: JobRun) -> list:
    """The run's summary, as the paragraphs of a notification's body (app.notifications.services.notify):
    what ended how, its counts, its message and its first errors (a paragraph of lines)."""
    lines = [_ended(run),
             T("%(files)s file(s), %(records)s record(s), %(failed)s with exceptions.", files=run.files,
               records=run.records, failed=run.records_failed)]
    if run.message:
        lines.append(run.shown_message)
    errors = list(db.session.scalars(select(JobEvent).where(JobEvent.run_id == run.id, JobEvent.level == "error")
                                     .order_by(JobEvent.id).limit(FIRST_ERRORS + 1)))
    if errors:
        first = [T("- %(record)s: %(message)s", record=e.record, message=e.shown) if e.record
                 else T("- %(message)s", message=e.shown) for e in errors[:FIRST_ERRORS]]
        more = [T("- … more in the run's events")] if len(errors) > FIRST_ERRORS else []
        lines.append([T("First errors:"), *first, *more])
    return lines


def run_ended(run: JobRun) -> list[Notification]:
    """Tell the recipients of ``run``'s profile that it ended, as its profile asks; once per run.
    The caller commits (with the run's end)."""
    if run.profile_id is None or run.status not in ("completed", "failed"):
        return []
    profile = db.session.get(IntegrationProfile, run.profile_id)
    if profile is None or profile.notify_when == "off" or not profile.recipients:
        return []
    if profile.notify_when == "failure" and not failed(run):
        return []
    db.session.flush()
    told = db.session.scalar(select(Notification.id).where(
        Notification.kind == "job_ended", Notification.object_type == JobRun.__tablename__,
        Notification.object_id == run.id).limit(1))
    if told is not None:
        return []
    return notify("job_ended", profile.recipients, _title(run), body=summary(run), url=run_url(run), obj=run)


def set_recipients(actor, profile: IntegrationProfile, notify_when: str, user_ids: list) -> IntegrationProfile:
    """Who is told when the profile's runs end, and when (off, always, failure). Administrators of
    the whole institution only; recipients are active users."""
    require_institution_role(actor, {Role.ADMIN}, "choose who is told when a profile's jobs end")
    if notify_when not in NOTIFY_WHEN:
        raise InvalidInput(T("Choose never, after every run, only when a run failed."), "notify_when")
    users = []
    for ref in user_ids:
        user = db.session.get(User, parse_id(ref)) if parse_id(ref) else None
        if user is None or not user.active:
            raise InvalidInput(T("Recipients are active users; one of those chosen is not (any more)."), "recipients")
        if user not in users:
            users.append(user)
    if notify_when != "off" and not users:
        raise InvalidInput(T("Choose at least one recipient, or set it to never."), "recipients")
    profile.notify_when = notify_when
    profile.recipients = users
    db.session.flush()
    return profile


def candidates() -> list[User]:
    """The users an administrator may choose as recipients: the active ones (not the service users)."""
    return list(db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.username)))
