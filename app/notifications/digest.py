"""The daily digest (job ``digest`` on Monitor Jobs, at the institution's ``digest_at``): first the
day's reminders (claims and renewals due: :func:`app.notifications.triggers.reminders`), then
one e-mail per user with their notifications to be mailed in the digest and not mailed yet,
grouped by kind, each with its link. The e-mail and the notifications' ``mailed_at`` are one
commit, so nothing is mailed twice; a user with nothing gets nothing."""
from __future__ import annotations

from datetime import date
from html import escape
from itertools import groupby

from flask_babel import force_locale
from sqlalchemy import select

from ..auth.models import User
from ..clock import utcnow
from ..extensions import db
from ..outgoing.queue import queue_notice
from ..text import T
from .models import KINDS, Notification
from .services import absolute_url, language_of
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
        heading = T("%(kind)s (%(n)s)", kind=KINDS[kind], n=len(group))
        parts.append(f"<h3>{escape(str(heading))}</h3><ul>")
        for n in group[:MAX_PER_KIND]:
            title = escape(n.shown_title)
            line = f'<a href="{escape(absolute_url(n.url))}">{title}</a>' if n.url else title
            parts.append(f"<li>{line}</li>")
        if len(group) > MAX_PER_KIND:
            more = T("… and %(n)s more (see your notifications in the app).", n=len(group) - MAX_PER_KIND)
            parts.append(f"<li>{escape(str(more))}</li>")
        parts.append("</ul>")
    return "".join(parts)


def subject(count: int, today: date) -> str:
    """The digest's subject, in the language being written in (:func:`~.services.language_of` its reader)."""
    return str(T("Your daily digest of %(day)s: %(count)s notification(s)", day=today.isoformat(), count=count))


def body(run_log, actor: User, today: date) -> str:
    found = reminders(today)
    run_log.info(T("Reminders of %(day)s: %(claims)s claim(s) due, %(renewals)s renewal(s) due.",
                   day=today.isoformat(), claims=found["claim_due"], renewals=found["renewal_due"]))
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
            run_log.info(T("%(user)s: not mailed, the user is inactive (%(n)s notification(s)).",
                           user=user.username, n=len(items)), record=user.username)
        elif not _queued(user, items, today):
            run_log.warning(T("%(user)s: not mailed, the user has no e-mail address (%(n)s notification(s) wait "
                              "in the app).", user=user.username, n=len(items)), record=user.username)
            run_log.count(records=1, failed=1)
        else:
            now = utcnow()
            for n in items:
                n.mailed_at = now
            mailed += 1
            items_mailed += len(items)
            run_log.count(records=1)
            run_log.info(T("%(user)s: %(n)s notification(s) mailed.", user=user.username, n=len(items)),
                         record=user.username)
        run_log.progress(done)
        run_log.commit()
    return T("%(mailed)s digest(s) mailed with %(n)s notification(s).", mailed=mailed, n=items_mailed)


def _queued(user, items: list[Notification], today: date) -> bool:
    """Queue ``user``'s digest, written in their language; False when they have no e-mail address."""
    with force_locale(language_of(user)):
        mail_subject, html = subject(len(items), today), digest_html(items)
    return queue_notice(user, mail_subject, html) is not None
