"""Home and health check."""
from flask import Blueprint, redirect, url_for

from .auth.permissions import ALL_ROLES, public, roles_required

bp = Blueprint("main", __name__)


@bp.get("/")
@roles_required(*ALL_ROLES)
def index():
    return redirect(url_for("funds.dashboard"))


@bp.get("/health")
@public
def health():
    return {"status": "ok"}
