"""Log in and out."""
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_login import login_user, logout_user

from ..extensions import db
from ..htmx import render
from .forms import LoginForm
from .permissions import ALL_ROLES, public, roles_required
from .services import LoginThrottled, authenticate

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("funds.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data.strip(), form.password.data, request.remote_addr or "?")
        except LoginThrottled:
            user = None
            form.form_errors.append("Too many failed attempts. Wait 15 minutes and try again.")
            status = 429
        if user is not None:
            session.clear()  # a fresh session (and CSRF token) at login
            login_user(user)
            session.permanent = True
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        db.session.commit()  # keep the failure record for throttling
        if status == 200:
            form.form_errors.append("Unknown user name or wrong password.")
            status = 401
    elif request.method == "POST":
        status = 400
    return render("auth/login.html", form=form, status=status)


@bp.post("/logout")
@roles_required(*ALL_ROLES)
def logout():
    logout_user()
    session.clear()
    flash("You are logged out.")
    return redirect(url_for("auth.login"))
