"""API v1 endpoints (filled in by the API slice)."""
from flask import Blueprint, g, request

from ..auth.services import user_for_token
from ..extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # token-authenticated only: no cookies are accepted here, so no CSRF either


@bp.before_request
def _token_auth():
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    # Replace whatever a session cookie would have loaded: the API trusts the token alone.
    g._login_user = user_for_token(token) if token else None
    if g._login_user is None:
        from flask_login import AnonymousUserMixin
        g._login_user = AnonymousUserMixin()
