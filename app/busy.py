"""A busy database answers a clear 503, never a 500.

Web requests wait only briefly for a lock (:data:`app.database.short_waits`); when the wait runs
out, SQLite raises "database is locked" and PostgreSQL "lock timeout". Such an error becomes:

* on the API (``/api/...``): the JSON error shape ``{"error": {"code": "busy", "message": ...}}``;
* on an HTMX request: the message in the page's alert area;
* on a page: the error page saying the database is busy;

always with status 503 and a ``Retry-After`` header. Nothing of the request was saved (its
transaction is rolled back), so trying again is safe.
"""
from __future__ import annotations

import logging

from flask import g, jsonify, render_template, request
from sqlalchemy.exc import OperationalError

from .database import is_busy_error, short_waits, write_intent
from .extensions import db, htmx
from .htmx import is_api_request
from .text import T

log = logging.getLogger(__name__)
MESSAGE = T("The database is busy; nothing was saved. Try again in a moment.")


def register_busy_handling(app) -> None:
    def _short_waits():
        g._short_waits_token = short_waits.set(True)

    def _reset(_exc):
        token = g.pop("_short_waits_token", None)
        if token is not None:
            short_waits.reset(token)

    # First of the before-request hooks: anything that reads the database after it waits briefly.
    app.before_request_funcs.setdefault(None, []).insert(0, _short_waits)
    app.teardown_request(_reset)

    @app.errorhandler(OperationalError)
    def _busy(exc: OperationalError):
        if not is_busy_error(exc):
            raise exc
        db.session.rollback()
        log.warning("database busy: %s %s answered 503", request.method, request.path)
        retry = str(app.config.get("BUSY_RETRY_AFTER_SECONDS", 2))
        if is_api_request():
            resp = jsonify(error={"code": "busy", "message": MESSAGE})
            resp.status_code = 503
        else:
            resp = app.response_class(_page(), 503)
            if htmx:   # into the page's alert area, whatever element asked
                resp.headers["HX-Retarget"] = "#problems"
                resp.headers["HX-Reswap"] = "innerHTML"
        resp.headers["Retry-After"] = retry
        return resp


def _page() -> str:
    # Rendering may read (the user, their roles): read-only, so it never waits for the write lock.
    token = write_intent.set(False)
    try:
        if htmx:
            return render_template("_problem.html", message=MESSAGE)
        return render_template("error.html", code=503, message=MESSAGE)
    except Exception:   # the page itself could not be read: a plain answer still beats a 500
        db.session.rollback()
        log.warning("the busy page could not be rendered", exc_info=True)
        title, heading = T("Busy"), T("The database is busy")
        return f"<!doctype html><title>{title}</title><h1>{heading}</h1><p>{MESSAGE}</p>"
    finally:
        write_intent.reset(token)
