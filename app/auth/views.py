"""Log in and out."""

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_babel import gettext as _

from ..extensions import db
from ..htmx import local_path, render
from ..i18n import LANGUAGES
from .forms import LoginForm
from .permissions import ALL_ROLES, public, roles_required
from .services import LoginThrottled, authenticate, end_session, start_session

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    return local_path(target) or url_for("main.index")   # else the user's home


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data.strip(), form.password.data, request.remote_addr or "?")
        except LoginThrottled as exc:
            form.form_errors.append(exc.message)
            resp = render("auth/login.html", form=form, status=429)
            resp.headers["Retry-After"] = str(exc.retry_after)
            return resp
        if user is not None:
            start_session(user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        form.form_errors.append(_("Unknown user name or wrong password."))
        return render("auth/login.html", form=form, status=401)
    return render("auth/login.html", form=form, status=400 if request.method == "POST" else 200)


@bp.post("/logout")
@roles_required(*ALL_ROLES)
def logout():
    end_session()
    db.session.commit()
    flash(_("You are logged out."))
    return redirect(url_for("auth.login"))


@bp.post("/language")
@public
def language():
    """The language of the pages before logging in (the header's switch on the login page), kept in
    the session; a signed-in user's switch saves it to their profile instead (``work.set_language``)."""
    chosen = request.form.get("language", "")
    if chosen in LANGUAGES:
        session["language"] = chosen
    return redirect(local_path(request.form.get("next")) or url_for("auth.login"))
