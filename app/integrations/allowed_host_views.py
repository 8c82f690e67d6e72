"""The administrator's page of the S/FTP servers a test instance may connect to (beside
ERP_CONNECTION_ALLOWLIST in the config file: see :mod:`.allowed_hosts`). Institution
administrators only; the list and its forms are one fragment (#allowed-servers) that the forms
swap, or without JavaScript post and come back to the page."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.models import Role
from ..auth.permissions import is_institution_admin, roles_required
from ..htmx import is_htmx, render
from ..saving import saving
from . import allowed_hosts
from . import services as integrations

bp = Blueprint("erp_allowed", __name__, url_prefix="/admin/erp/allowed-servers")
ADMIN = (Role.ADMIN,)
PAGE, FRAGMENT = "integrations/allowed_servers.html", "integrations/_allowed_servers.html"


@bp.before_request
def _institution_admins_only():
    if current_user.is_authenticated and not is_institution_admin(current_user):
        abort(403)


def _page(status: int = 200, **ctx):
    connections = integrations.connections()
    return render(PAGE, FRAGMENT, status=status, entries=allowed_hosts.active(), removed=allowed_hosts.removed(),
                  environment=allowed_hosts.environment(), environment_label=allowed_hosts.environment_label(),
                  config_codes=allowed_hosts.config_codes(),
                  connections=connections, why={c.id: allowed_hosts.why_allowed(c) for c in connections},
                  page_name=allowed_hosts.PAGE_NAME, **ctx)


def _after(saved, message: str, values: dict | None = None):
    if is_htmx():
        if not saved:
            return _page(saved.status, problem=saved.message, values=values or {})
        return _page(message=message)
    flash(message if saved else saved.message, "ok" if saved else "error")
    return redirect(url_for(".index"))


@bp.get("")
@roles_required(*ADMIN)
def index():
    return _page()


@bp.post("")
@roles_required(*ADMIN)
def add():
    values = {"address": request.form.get("address", "")[:300], "note": request.form.get("note", "")[:300]}
    with saving() as saved:
        entry = allowed_hosts.add(current_user, values["address"], values["note"])
    return _after(saved, _("%(address)s is allowed now.", address=entry.address) if saved else "", values)


@bp.post("/<int:entry_id>/remove")
@roles_required(*ADMIN)
def remove(entry_id):
    with saving() as saved:
        entry = allowed_hosts.remove(current_user, entry_id)
    return _after(saved, _("%(address)s removed: connections to it are refused again.", address=entry.address)
                  if saved else "")
