"""My work (``/work``), the home page (``/`` and after logging in: My work or the fund dashboard)
and the user's own page (``/me``) where they choose it; the columns a user shows on a list
(``/me/columns/<list>``, posted by the list's column chooser).

Every role may open both pages; what My work lists follows the user's roles and library scope
(:mod:`app.work.services`). ``/me`` holds one section per setting, each its own fragment.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_babel import gettext as _, lazy_gettext as _l, refresh
from wtforms import RadioField, SelectField

from .. import i18n, list_columns
from ..auth.permissions import ALL_ROLES, roles_required
from ..extensions import db
from ..htmx import hx_redirect, is_htmx, local_path, render
from ..saving import saving
from ..text import T
from ..notifications import services as notifications
from ..notifications.models import KINDS, MODES
from . import services as work

bp = Blueprint("work", __name__)


@bp.app_template_global("has_work")
def has_work() -> bool:
    """Whether the header shows My work: the user's roles have something on it."""
    return current_user.is_authenticated and work.has_work(current_user)


class HomeForm(FlaskForm):
    home = RadioField(_l("After logging in, show"), choices=list(work.HOMES.items()))


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language of the pages"), choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = [("", _("The browser's language")), *i18n.LANGUAGES.items()]


@bp.get("/work")
@roles_required(*ALL_ROLES)
def index():
    days = int(current_app.config["WORK_WAITING_FOR_PAYMENT_DAYS"])
    return render("work/index.html", sections=work.sections(current_user, waiting_for_days=days),
                  any_work=work.has_work(current_user))


def _home_form() -> HomeForm:
    form = HomeForm()
    if not form.is_submitted():
        form.home.data = current_user.home if current_user.home in work.HOMES else "work"
    return form


@bp.get("/me")
@roles_required(*ALL_ROLES)
def me():
    return _me()


def _me(fragment: str | None = None, status: int = 200, **forms):
    """/me (or one of its setting fragments), with ``forms`` in place of fresh ones."""
    context = {"home_form": forms.get("home_form") or _home_form(),
               "language_form": forms.get("language_form") or _language_form(),
               "any_work": work.has_work(current_user), "kinds": KINDS, "modes_available": MODES,
               "modes": notifications.preferences(current_user)}
    return render("work/me.html", fragment, status=status, **context)


def _language_form() -> LanguageForm:
    form = LanguageForm()
    if not form.is_submitted():
        form.language.data = current_user.language or ""
    return form


@bp.post("/me/language")
@roles_required(*ALL_ROLES)
def set_language():
    """The user's interface language; the whole page changes, so this answers with a redirect (an
    HTMX request gets HX-Redirect) to ``next`` (a page of this site) or /me."""
    form = _language_form()
    saved = False
    if form.validate():
        with saving(form) as saved:
            work.set_language(current_user, form.language.data or None)
    if not saved:
        return _me(status=422, language_form=form)
    refresh()   # the request's language was chosen before the change: the message is in the new one
    flash(_("The pages are now in %(language)s.", language=i18n.LANGUAGES.get(
        current_user.language, _("the browser's language"))), "ok")
    target = local_path(request.form.get("next")) or url_for(".me")
    return hx_redirect(target) if is_htmx() else redirect(target)


@bp.post("/me/home")
@roles_required(*ALL_ROLES)
def set_home():
    form = _home_form()
    if not form.validate():
        return _me("work/_home_setting.html", 422, home_form=form)
    with saving(form) as saved:
        work.set_home(current_user, form.home.data)
    if not saved:
        return _me("work/_home_setting.html", 422, home_form=form)
    message = str(T("After logging in you will see %(page)s.", page=work.HOMES[current_user.home]))
    if is_htmx():
        return render("work/_home_setting.html", home_form=form, any_work=work.has_work(current_user), saved=message)
    flash(message, "ok")
    return redirect(url_for(".me"))


@bp.post("/me/columns/<list_name>")
@roles_required(*ALL_ROLES)
def set_columns(list_name):
    """Save the columns the user shows on the list ``list_name``: ``order`` (every column, in the order
    the chooser lists them), ``show`` (the ticked ones), ``move`` (``key:-1`` or ``key:1``) or
    ``reset``. HTMX gets the chooser again, and the list (listening for ``columnsChanged``)
    reloads its table; a plain form goes back to ``next``."""
    table = list_columns.TABLES.get(list_name)
    if table is None:
        abort(404)
    form = request.form
    if form.get("reset"):
        keys = table.default_keys
    else:
        order = form.getlist("order")[:200]
        key, _sep, step = (form.get("move") or "").partition(":")
        if key and step in ("-1", "1"):
            order = list_columns.moved(order, key, int(step))
        ticked = set(form.getlist("show")[:200])
        keys = [k for k in order if k in ticked]
    list_columns.save(current_user, table, keys)
    db.session.commit()
    if not is_htmx():
        flash(_("Columns of %(list)s saved.", list=table.title), "ok")
        return redirect(local_path(form.get("next")) or url_for("main.index"))
    resp = render("_columns_menu.html", table=table, open=True, choices=list_columns.choices(current_user, table),
                  next=form.get("next") or "")
    resp.headers["HX-Trigger"] = "columnsChanged"
    return resp
