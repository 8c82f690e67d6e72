"""HTMX helpers: one URL per resource, the fragment when HX-Request is set, Vary on it; the answer
to a committed change; and which kind of request is being answered (API, HTMX or a page)."""
from urllib.parse import urlsplit

from flask import Response, flash, make_response, redirect, render_template, request

from .extensions import htmx


def is_api_request() -> bool:
    """A request to the JSON API: errors answer in its JSON shape, never as HTML."""
    return request.blueprint == "api" or request.path.startswith("/api/")


def is_htmx() -> bool:
    return bool(htmx) and not htmx.history_restore_request


def render(page: str, fragment: str | None = None, /, status: int = 200, **ctx) -> Response:
    """Render ``fragment`` for HTMX requests, else the full ``page`` (which includes it)."""
    template = fragment if (fragment and is_htmx()) else page
    resp = make_response(render_template(template, **ctx), status)
    resp.vary.add("HX-Request")
    return resp


def local_path(url: str | None) -> str:
    """``url`` when it is a path of this site, else "": never another site (``//host``, ``/\\host``,
    a scheme), whatever a ``next`` parameter or a stored link says."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url and not urlsplit(url).netloc:
        return url
    return ""


def hx_redirect(url: str) -> Response:
    resp = make_response("", 204)
    resp.headers["HX-Redirect"] = url
    return resp


def redirect_to(url: str) -> Response:
    """Go to ``url`` after a change: a whole page load for HTMX (``HX-Redirect``), a 302 otherwise."""
    return hx_redirect(url) if htmx else redirect(url)


def changed(message: str, url: str, fragment) -> Response:
    """The answer to a committed change: HTMX gets ``fragment()`` (the part of the page that changed,
    which shows the outcome), a plain form a redirect to ``url`` with ``message`` flashed."""
    if htmx:
        return fragment()
    flash(str(message), "ok")   # a Text in the language of the request (the session keeps plain text)
    return redirect(url)
