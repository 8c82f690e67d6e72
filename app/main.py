"""Home and health check."""
from flask import Blueprint, redirect, url_for
from flask_login import current_user

from .auth.permissions import ALL_ROLES, public, roles_required
from .work.services import home_endpoint

bp = Blueprint("main", __name__)


@bp.get("/")
@roles_required(*ALL_ROLES)
def index():
    """The user's home: My work, or the fund dashboard when they chose it (app.work.services.home_endpoint)."""
    return redirect(url_for(home_endpoint(current_user)))


@bp.get("/health")
@public
def health():
    return {"status": "ok"}
