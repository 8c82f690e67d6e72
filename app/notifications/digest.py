"""The daily digest (job ``digest`` on Monitor Jobs, at the institution's ``digest_at``): first the
day's reminders (claims and renewals due: :func:`app.notifications.triggers.reminders`), then
one e-mail per user with their notifications to be mailed in the digest and not mailed yet,
grouped by kind, each with its link. The e-mail and the notifications' ``mailed_at`` are one
commit, so nothing is mailed twice; a user with nothing gets nothing."""
from __future__ import annotations

from datetime import date
from html import escape
from itertools import groupby

from sqlalchemy import select

from ..auth.models import User
from ..clock import utcnow
from ..extensions import db
from ..outgoing.queue import queue_notice
from .models import KINDS, Notification
from .services import absolute_url
from .triggers import reminders

MAX_PER_KIND = 50   # more are counted, not listed (the bell lists them all)


def waiting(user_id: int | None = None):
    """A select of the notifications the digest mails and has not mailed yet."""
    q = select(Notification).where(Notification.delivery == "digest", Notification.mailed_at.is_(None))
    if user_id is not None:
        q = q.where(Notification.user_id == user_id)
    return q.order_by(Notification.kind, Notification.id)


def digest_html(items: list[Notification]) -> str:
    """The body of one user's digest: a heading per kind, a line (with its link) per notification."""
    parts = []
    for kind, group in groupby(items, key=lambda n: n.kind):
        group = list(group)
        parts.append(f"<h3>{escape(KINDS[kind])} ({len(group)})</h3><ul>")
        for n in group[:MAX_PER_KIND]:
            title = escape(n.title)
            line = f'<a href="{escape(absolute_url(n.url))}">{title}</a>' if n.url else title
            parts.append(f"<li>{line}</li>")
        if len(group) > MAX_PER_KIND:
            parts.append(f"<li>… and {len(group) - MAX_PER_KIND} more (see your notifications in the app).</li>")
        parts.append("</ul>")
    return "".join(parts)


def subject(count: int, today: date) -> str:
    return f"Your daily digest of {today.isoformat()}: {count} notification(s)"


def body(run_log, actor: User, today: date) -> str:
    found = reminders(today)
    run_log.info(f"Reminders of {today.isoformat()}: {found['claim_due']} claim(s) due, "
                 f"{found['renewal_due']} renewal(s) due.")
    run_log.commit()
    user_ids = list(db.session.scalars(select(Notification.user_id).where(
        Notification.delivery == "digest", Notification.mailed_at.is_(None)).distinct().order_by(Notification.user_id)))
    db.session.commit()
    mailed = items_mailed = 0
    run_log.progress(0, len(user_ids))
    for done, user_id in enumerate(user_ids, start=1):
        user = db.session.get(User, user_id)
        items = list(db.session.scalars(waiting(user_id)))
        if not items:
            pass   # mailed meanwhile (the bell's "mail now", another run)
        elif not user.active:
            run_log.info(f"{user.username}: not mailed, the user is inactive ({len(items)} notification(s)).",
                         record=user.username)
        elif queue_notice(user, subject(len(items), today), digest_html(items)) is None:
            run_log.warning(f"{user.username}: not mailed, the user has no e-mail address ({len(items)} "
                            "notification(s) wait in the app).", record=user.username)
            run_log.count(records=1, failed=1)
        else:
            now = utcnow()
            for n in items:
                n.mailed_at = now
            mailed += 1
            items_mailed += len(items)
            run_log.count(records=1)
            run_log.info(f"{user.username}: {len(items)} notification(s) mailed.", record=user.username)
        run_log.progress(done)
        run_log.commit()
    return f"{mailed} digest(s) mailed with {items_mailed} notification(s)."
