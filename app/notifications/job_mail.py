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
from .models import NOTIFY_WHEN, Notification
from .services import notify

FIRST_ERRORS = 5


def failed(run: JobRun) -> bool:
    return run.status == "failed" or run.interrupted or (run.status == "completed" and run.records_failed > 0)


def outcome(run: JobRun) -> str:
    if run.interrupted:
        return "was interrupted"
    if run.status == "failed":
        return "failed"
    if run.records_failed:
        return "completed with exceptions"
    return "completed"


def run_url(run: JobRun) -> str:
    return current_app.url_map.bind("localhost").build("integrations.show_run", {"run_id": run.id})


def summary(run: JobRun) -> str:
    """The run's summary: what ended how, its counts, its message and its first errors."""
    lines = [f"{run.job_label} of profile {run.profile_code} {outcome(run)} "
             f"({run.trigger_label.lower()}, started {run.started_at:%Y-%m-%d %H:%M} UTC).",
             f"{run.files} file(s), {run.records} record(s), {run.records_failed} with exceptions."]
    if run.message:
        lines.append(run.message)
    errors = list(db.session.scalars(select(JobEvent).where(JobEvent.run_id == run.id, JobEvent.level == "error")
                                     .order_by(JobEvent.id).limit(FIRST_ERRORS + 1)))
    if errors:
        shown = "\n".join(f"- {(e.record + ': ') if e.record else ''}{e.message}" for e in errors[:FIRST_ERRORS])
        more = "\n- … more in the run's events" if len(errors) > FIRST_ERRORS else ""
        lines.append("First errors:\n" + shown + more)
    return "\n\n".join(lines)


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
    title = f"ERP run #{run.id} of {run.profile_code} {outcome(run)}: {run.job_label}"
    return notify("job_ended", profile.recipients, title, body=summary(run), url=run_url(run), obj=run)


def set_recipients(actor, profile: IntegrationProfile, notify_when: str, user_ids: list) -> IntegrationProfile:
    """Who is told when the profile's runs end, and when (off, always, failure). Administrators of
    the whole institution only; recipients are active users."""
    require_institution_role(actor, {Role.ADMIN}, "choose who is told when a profile's jobs end")
    if notify_when not in NOTIFY_WHEN:
        raise InvalidInput("Choose " + ", ".join(v.lower() for v in NOTIFY_WHEN.values()) + ".", "notify_when")
    users = []
    for ref in user_ids:
        user = db.session.get(User, parse_id(ref)) if parse_id(ref) else None
        if user is None or not user.active:
            raise InvalidInput("Recipients are active users; one of those chosen is not (any more).", "recipients")
        if user not in users:
            users.append(user)
    if notify_when != "off" and not users:
        raise InvalidInput("Choose at least one recipient, or set it to never.", "recipients")
    profile.notify_when = notify_when
    profile.recipients = users
    db.session.flush()
    return profile


def candidates() -> list[User]:
    """The users an administrator may choose as recipients: the active ones (not the service users)."""
    return list(db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.username)))
