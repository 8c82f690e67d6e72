"""Acquisitions and finance for libraries: the application factory."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Callable, Mapping

from flask import Flask, g, jsonify, render_template, request
from flask_babel import gettext as _, lazy_gettext
from werkzeug.exceptions import BadRequest

from .config import Defaults
from .database import after_commit_reads, configure_engine, write_intent
from . import extensions
from .extensions import csrf, db, login_manager, migrate
from .text import T, english


def create_app(test_config: dict | None = None, jobs: Mapping[str, Callable] | None = None) -> Flask:
    """The app. ``jobs``: the finance jobs' ``run`` functions by name (``jobs.JOBS``, handed over by
    ``wsgi.py`` and the tests) that the scheduler, the pages and ``flask jobs run`` start; the app
    never imports them itself."""
    app = Flask(__name__, instance_relative_config=True)
    app.extensions["jobs"] = dict(jobs or {})
    app.config.from_object(Defaults)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env()
    else:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "acq.db")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app)
    if app.config["PROXY_FIX_X_FOR"]:  # the client's address (login throttling) from X-Forwarded-For
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=int(app.config["PROXY_FIX_X_FOR"]))

    # Uploaded workbooks: never start when openpyxl would parse their XML without defusedxml.
    from .spreadsheets import xml_defences
    if (problem := xml_defences()) is not None:
        raise RuntimeError(problem)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    csrf.init_app(app)
    extensions.htmx.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("Please log in.")
    login_manager.session_protection = "basic"
    from . import i18n
    i18n.init_app(app)

    from . import models  # noqa: F401  (registers every table)
    with app.app_context():
        configure_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"], app.config["SQLITE_JOB_BUSY_TIMEOUT_MS"],
                         app.config["DB_LOCK_TIMEOUT_MS"], strict=app.config.get("TESTING", False))

    _register_blueprints(app)
    _register_hooks(app)
    from .busy import register_busy_handling
    register_busy_handling(app)
    from .cli import register_cli
    register_cli(app)
    from .outgoing.runs import register_kick
    register_kick()   # a commit that queued letters to vendors starts their delivery

    from .auth.permissions import unregistered_endpoints
    missing = unregistered_endpoints(app)
    if missing:
        raise RuntimeError(f"routes without declared roles: {', '.join(missing)}")

    from .integrations import scheduler
    if scheduler.should_start(app):
        scheduler.start(app)
    return app


def _instance_secret(app: Flask) -> str:
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _register_blueprints(app: Flask) -> None:
    from .admin.views import bp as admin_bp
    from .api import bp as api_bp
    from .api.page import bp as api_page_bp
    from .auth.views import bp as auth_bp
    from .funds.views import bp as funds_bp
    from .integrations.allocation_views import bp as erp_periods_bp
    from .integrations.allowed_host_views import bp as erp_allowed_bp
    from .integrations.edi.views import bp as edi_bp
    from .integrations.views import bp as integrations_bp
    from .inventory.views import bp as inventory_bp
    from .invoices.admin_views import bp as invoice_admin_bp
    from .invoices.attachment_views import bp as invoice_notes_bp
    from .invoices.file_views import bp as invoice_files_bp
    from .invoices.form_views import bp as invoice_forms_bp
    from .invoices.line_views import bp as invoice_lines_bp
    from .invoices.views import bp as invoices_bp
    from .main import bp as main_bp
    from .notifications.views import bp as notifications_bp
    from .orders.communications_views import bp as communications_bp
    from .orders.views import bp as orders_bp
    from .outgoing.views import bp as outgoing_bp
    from .reports.views import bp as reports_bp
    from .vendors.views import bp as vendors_bp
    from .work.views import bp as work_bp

    for bp in (main_bp, auth_bp, funds_bp, vendors_bp, inventory_bp, orders_bp, communications_bp, outgoing_bp,
               invoices_bp, invoice_lines_bp, invoice_forms_bp, invoice_admin_bp, invoice_files_bp, invoice_notes_bp,
               edi_bp, integrations_bp, erp_periods_bp, erp_allowed_bp, admin_bp, notifications_bp, api_bp, api_page_bp,
               work_bp, reports_bp):
        app.register_blueprint(bp)


def _register_hooks(app: Flask) -> None:
    from .auth.services import load_session_user
    from .errors import DomainError
    from .htmx import is_api_request

    login_manager.user_loader(load_session_user)

    @login_manager.unauthorized_handler
    def _unauthorized():
        from flask import redirect, url_for
        if request.blueprint == "api":
            return jsonify(error={"code": "unauthorized", "message": "Send Authorization: Bearer <token>."}), 401
        target = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
        if extensions.htmx:
            resp = app.response_class("", 401)
            resp.headers["HX-Redirect"] = target
            return resp
        return redirect(target)

    # Free text over the shared limit (app/limits.py) is refused before any view sees it.
    from .limits import refuse_long_text
    app.before_request(refuse_long_text)

    @app.before_request
    def _read_only_unless_posting():
        g._write_token = write_intent.set(request.method not in ("GET", "HEAD", "OPTIONS"))
        g._after_commit_token = after_commit_reads.set(False)

    @app.teardown_request
    def _reset_intent(_exc):
        token = g.pop("_write_token", None)
        if token is not None:
            write_intent.reset(token)
        token = g.pop("_after_commit_token", None)
        if token is not None:
            after_commit_reads.reset(token)

    @app.after_request
    def _security_headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        if resp.mimetype == "text/html":
            resp.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                "frame-ancestors 'none'; form-action 'self'; base-uri 'self'")
        return resp

    def _htmx_problem(message: str, code: int):
        """An error answering an HTMX request goes to the page's alert area, not into the
        element that asked (which may be a table row)."""
        resp = app.response_class(render_template("_problem.html", message=message), code)
        resp.headers["HX-Retarget"] = "#problems"
        resp.headers["HX-Reswap"] = "innerHTML"
        return resp

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        if request.blueprint == "api":
            return jsonify(error={"code": exc.code, "message": exc.message}), exc.status
        if extensions.htmx:
            return _htmx_problem(exc.message, exc.status)
        return render_template("error.html", code=exc.status, message=exc.message,
                               title=getattr(exc, "title", None)), exc.status

    # Each error's message: a Text (app.text), English in the API's JSON, translated on the pages.
    for code, text in ((403, T("You do not have permission to do this.")), (404, T("Not found.")),
                       (400, T("The request was not understood.")), (405, T("Method not allowed.")),
                       (413, T("The upload is too large (at most 16 MB).")),
                       (500, T("Something went wrong on the server; nothing was saved. Try again, or tell your "
                               "administrator."))):
        def handler(exc, code=code, text=text):
            message = getattr(exc, "description", None) if code == 400 else text
            if is_api_request():
                return jsonify(error={"code": {403: "forbidden", 404: "not_found", 400: "invalid",
                                               405: "method_not_allowed", 413: "too_large",
                                               500: "server_error"}[code],
                                      "message": english(message or text)}), code
            if code == 400 and "CSRF" in (message or ""):
                from flask_login import current_user
                if not current_user.is_authenticated and request.endpoint != "auth.login":
                    # A page opened before logging out (say, in another tab): its session is gone.
                    from flask import flash
                    flash(_("You were logged out (here or in another tab); nothing was saved. Log in again."), "error")
                    return login_manager.unauthorized()
                message = _("Your session changed (logged in again elsewhere?). Reload the page and try again.")
            elif code != 400 or not message or message == BadRequest.description:
                message = str(text)   # werkzeug's own description of a 400 reads as ours
            else:
                message = str(message)   # a Text (app.text) in the reader's language
            if extensions.htmx:
                return _htmx_problem(message, code)
            return render_template("error.html", code=code, message=message), code
        app.register_error_handler(code, handler)

    @app.context_processor
    def _globals():
        from flask_login import current_user
        from .auth.permissions import can_manage_money, has_any_role, is_institution_admin
        from .auth.models import Role
        return dict(Role=Role, has_any_role=has_any_role, can_manage_money=can_manage_money,
                    is_institution_admin=lambda: current_user.is_authenticated and is_institution_admin(current_user))

    from .formatting import register_filters
    from .forms_util import first_invalid, hidden_fields
    register_filters(app)
    app.jinja_env.globals["first_invalid"] = first_invalid
    app.jinja_env.globals["hidden_fields"] = hidden_fields
    from .idempotency import form_token_field  # money forms' one-time token (issue 12, finding 8)
    app.jinja_env.globals["form_token_field"] = form_token_field
