"""A user's own notifications on screen: the bell in the header (the unread count, one COUNT query,
polled every minute), the list (newest first, unread or all, paged) with mark read / unread and
"mark all read", opening one (marks it read, then goes to its object), and the user's e-mail
preferences per kind (``/me/notifications``).

Every route is open to every role and shows or changes only the current user's rows: another
user's notification is not found (404). Changes are POSTs with the CSRF token; HTMX gets the
changed row or list with the bell swapped out of band, a plain form a redirect.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user

from ..auth.permissions import ALL_ROLES, roles_required
from ..errors import InvalidInput
from ..extensions import db, htmx
from ..htmx import local_path, render
from . import services
from .models import KINDS, MODES

bp = Blueprint("notifications", __name__)
LIST, ROW, BELL = "notifications/_list.html", "notifications/_row.html", "notifications/_bell.html"


@bp.app_template_global()
def unread_notifications() -> int:
    """The current user's unread count, for the bell of every page."""
    return services.unread_count(current_user) if current_user.is_authenticated else 0


def _show() -> str:
    return "all" if request.values.get("show") == "all" else "unread"


def _list_context(show: str) -> dict:
    query = services.for_user(current_user, unread_only=show == "unread")
    page = db.paginate(query, page=max(request.args.get("page", 1, type=int), 1),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return dict(page=page, show=show, page_url=lambda n: url_for("notifications.index", show=show, page=n),
                unread=services.unread_count(current_user))


@bp.get("/notifications")
@roles_required(*ALL_ROLES)
def index():
    return render("notifications/index.html", LIST, **_list_context(_show()))


@bp.get("/notifications/bell")
@roles_required(*ALL_ROLES)
def bell():
    """The bell alone (its poll); a plain visit goes to the list."""
    if not htmx:
        return redirect(url_for("notifications.index"))
    return render(BELL, BELL)


@bp.post("/notifications/<int:notification_id>/read")
@roles_required(*ALL_ROLES)
def mark(notification_id: int):
    n = services.get(current_user, notification_id)
    read = request.form.get("read", "1") != "0"
    services.mark(current_user, n, read=read)
    db.session.commit()
    if htmx:
        return render(ROW, ROW, n=n, show=_show(), row_bell=True)
    return redirect(url_for("notifications.index", show=_show()))


@bp.post("/notifications/read-all")
@roles_required(*ALL_ROLES)
def mark_all():
    count = services.mark_all_read(current_user)
    db.session.commit()
    if htmx:
        return render(LIST, LIST, oob_bell=True, **_list_context(_show()))
    flash(ngettext("%(num)d notification marked read.", "%(num)d notifications marked read.", count)
          if count else _("Nothing was unread."), "ok")
    return redirect(url_for("notifications.index", show=_show()))


@bp.post("/notifications/<int:notification_id>/open")
@roles_required(*ALL_ROLES)
def open_(notification_id: int):
    """Mark it read and go to what it is about (the list when it links nowhere)."""
    n = services.get(current_user, notification_id)
    services.mark(current_user, n, read=True)
    target = local_path(n.url) or url_for("notifications.index", show="all")
    db.session.commit()
    return redirect(target)


@bp.route("/me/notifications", methods=["GET", "POST"])
@roles_required(*ALL_ROLES)
def preferences():
    """How the user hears of each kind by e-mail: at once, in the daily digest, or only in the app."""
    modes, error = services.preferences(current_user), None
    if request.method == "POST":
        wanted = {kind: request.form.get(kind, modes[kind]) for kind in KINDS}
        try:
            services.set_preferences(current_user, wanted)
        except InvalidInput as exc:
            db.session.rollback()
            error, modes = exc.message, wanted
        else:
            db.session.commit()
            if not htmx:
                flash(_("Your notification preferences are saved."), "ok")
                return redirect(url_for("work.me"))
            modes = services.preferences(current_user)
    return render("notifications/preferences.html", "notifications/_preferences.html",
                  status=422 if error else 200, kinds=KINDS, modes_available=MODES, modes=modes, error=error,
                  saved=request.method == "POST" and not error)
