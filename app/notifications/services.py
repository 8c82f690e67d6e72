"""Making notifications: :func:`notify` is called by the services of what happened (invoices,
the ERP runs, orders, EDI), in their transaction. Each notification goes to the user's bell; by
e-mail it follows the user's preference for its kind: at once (a notice queued in the outbox of
:mod:`app.outgoing`, delivered with retries), in the daily digest, or not at all.

Reading and marking are the user's own: a user sees only their notifications.
"""
from __future__ import annotations

from html import escape
from typing import Iterable

from flask import current_app, has_request_context, request
from flask_babel import force_locale
from sqlalchemy import func, select, update

from ..auth.models import User
from ..clock import utcnow
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..i18n import LANGUAGES, default_language
from ..ids import parse_id
from ..outgoing.queue import queue_notice
from ..text import T
from .models import DEFAULT_MODE, KINDS, MODES, Notification, NotificationPreference, english, stored_parts


# -- preferences -----------------------------------------------------------------------------------

def preferences(user) -> dict[str, str]:
    """kind -> mode for ``user`` (every kind; :data:`DEFAULT_MODE` where none is set)."""
    rows = db.session.execute(select(NotificationPreference.kind, NotificationPreference.mode)
                              .where(NotificationPreference.user_id == user.id)).all()
    chosen = dict(rows)
    return {kind: chosen.get(kind, DEFAULT_MODE) for kind in KINDS}


def set_preferences(user, modes: dict[str, str]) -> None:
    """Save ``user``'s modes (kind -> now | digest | off); unknown kinds or modes are refused."""
    for kind, mode in modes.items():
        if kind not in KINDS:
            raise InvalidInput(T("Unknown kind of notification %(kind)r.", kind=kind), kind)
        if mode not in MODES:
            raise InvalidInput(T("Choose e-mail at once, daily digest, only in the app."), kind)
    for kind, mode in modes.items():
        row = db.session.get(NotificationPreference, (user.id, kind))
        if row is None:
            db.session.add(NotificationPreference(user_id=user.id, kind=kind, mode=mode))
        else:
            row.mode = mode
    db.session.flush()


# -- making ----------------------------------------------------------------------------------------

def absolute_url(url: str) -> str:
    """``url`` (a path in the app) as a link an e-mail can carry: under ``APP_BASE_URL``, else under
    the address of the request being served; a scheduled job without either keeps the path."""
    base = current_app.config.get("APP_BASE_URL") or (request.url_root if has_request_context() else "")
    base = (base or "").rstrip("/")
    return f"{base}{url}" if base and url.startswith("/") else url


def language_of(user) -> str:
    """The language ``user`` reads their notifications and e-mails in: their own setting, else the
    institution's default."""
    chosen = getattr(user, "language", None)
    return chosen if chosen in LANGUAGES else default_language()


def notice_html(n: Notification) -> str:
    """The body of the e-mail of one notification (in the language being written in: see
    :func:`language_of`)."""
    link = f'<p><a href="{escape(absolute_url(n.url))}">{escape(absolute_url(n.url))}</a></p>' if n.url else ""
    body = "".join(f"<p>{escape(p)}</p>" for p in n.shown_body.split("\n\n") if p.strip())
    return f"<p><strong>{escape(n.shown_title)}</strong></p>{body}{link}"


def notify(kind: str, users: Iterable[User], title: str, *, body="", url: str = "", obj=None,
           library_id: int | None = None) -> list[Notification]:
    """One notification of ``kind`` for each active user of ``users`` (each once), about ``obj``
    (a model instance: its table and id are kept) owned by ``library_id``. Mailed at once to those
    whose preference is "now", in the user's language; the digest job takes the "digest" ones. The
    caller commits.

    ``title`` and ``body`` may be Texts (app.text), shown in the reader's language on the bell and in
    the user's in e-mails; ``body`` may also be a list of paragraphs (Texts or strings; a list inside
    one is its lines). The notification keeps their English as well."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    title_text, body_text = stored_parts(title), stored_parts(body)
    title, body = " ".join(english(title).split())[:300], english(body)
    made, seen = [], set()
    for user in users:
        if user is None or user.id in seen or not user.active:
            continue
        seen.add(user.id)
        mode = preferences(user)[kind]
        n = Notification(user_id=user.id, kind=kind, title=title, body=body, url=url,
                         title_text=title_text, body_text=body_text,
                         object_type=getattr(obj, "__tablename__", "") if obj is not None else "",
                         object_id=getattr(obj, "id", None), library_id=library_id, delivery=mode)
        db.session.add(n)
        if mode == "now":
            db.session.flush()
            with force_locale(language_of(user)):
                subject, html = n.shown_title, notice_html(n)
            if queue_notice(user, subject, html) is not None:
                n.mailed_at = utcnow()
        made.append(n)
    db.session.flush()
    return made


# -- reading (the user's own) ----------------------------------------------------------------------

def unread_count(user) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def for_user(user, unread_only: bool = False):
    """A select of ``user``'s notifications, newest first."""
    q = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        q = q.where(Notification.read_at.is_(None))
    return q.order_by(Notification.id.desc())


def get(user, ref) -> Notification:
    n = db.session.get(Notification, parse_id(ref)) if parse_id(ref) else None
    if n is None or n.user_id != user.id:
        raise NotFound(T("No such notification."))
    return n


def mark(user, n: Notification, read: bool = True) -> Notification:
    n.read_at = utcnow() if read else None
    db.session.flush()
    return n


def mark_all_read(user) -> int:
    result = db.session.execute(update(Notification).where(Notification.user_id == user.id,
                                                           Notification.read_at.is_(None))
                                .values(read_at=utcnow()).execution_options(synchronize_session=False))
    return result.rowcount
