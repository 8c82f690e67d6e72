"""The ERP's fiscal period numbers: the administrator gives each of our fiscal periods the number
the ERP uses for it (FISCAL_PERIOD_ID in allocation files).

Institution administrators only (a library-scoped administrator gets 403). One form holds every
period; it is saved as a whole or not at all, and a refusal is shown next to its field. Works as a
plain form post; with HTMX the form section is swapped in place.
"""
from __future__ import annotations

from flask import Blueprint, abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.models import Role
from ..auth.permissions import is_institution_admin, roles_required
from ..extensions import db
from ..funds import services as funds
from ..htmx import changed, is_htmx, render
from ..saving import saving
from . import services as integrations

bp = Blueprint("erp_periods", __name__, url_prefix="/admin/erp/fiscal-periods")
PAGE, FRAGMENT = "integrations/fiscal_periods.html", "integrations/fiscal_periods_form.html"


@bp.before_request
def _institution_admins_only():
    if current_user.is_authenticated and not is_institution_admin(current_user):
        abort(403)


def _field(period) -> str:
    return f"erp_id-{period.id}"


def _current_values() -> dict[int, str]:
    return {m.fiscal_period_id: str(m.erp_id) for m in integrations.fiscal_period_mappings()}


def _page(values: dict[int, str], errors: dict[int, str] | None = None, message: str | None = None,
          error: str | None = None, status: int = 200):
    return render(PAGE, FRAGMENT, status=status, periods=funds.fiscal_periods(), values=values,
                  errors=errors or {}, message=message, error=error, field_name=_field,
                  clear_flashes=is_htmx())


@bp.get("")
@roles_required(Role.ADMIN)
def index():
    return _page(_current_values())


def _parse(text: str) -> tuple[int | None, str | None]:
    text = (text or "").strip()
    if not text:
        return None, None
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        return None, _("The ERP's number is a whole number from 0 to 999999 (or empty for none).")
    return int(text), None


@bp.post("")
@roles_required(Role.ADMIN)
def save():
    periods = funds.fiscal_periods()
    current_text = _current_values()
    # A period whose field was not sent keeps its number; an empty field removes it.
    submitted = {p.id: (request.form[_field(p)] if _field(p) in request.form else current_text.get(p.id, "")).strip()
                 for p in periods}
    errors: dict[int, str] = {}
    wanted: dict[int, int | None] = {}
    for p in periods:
        number, problem = _parse(submitted[p.id])
        if problem:
            errors[p.id] = problem
        else:
            wanted[p.id] = number
    errors.update(integrations.fiscal_period_number_clashes(periods, wanted))
    if not errors:
        with saving(commit=False) as saved:   # committed below, when no number was refused
            errors.update(integrations.renumber_fiscal_periods(current_user, periods, wanted))
        if not saved:
            return _page(submitted, error=saved.message, status=saved.status)
    if errors:
        db.session.rollback()
        return _page(submitted, errors, error=_("Nothing was saved: correct the numbers marked below."), status=422)
    db.session.commit()
    message = _("The ERP's fiscal period numbers are saved.")
    return changed(message, url_for("erp_periods.index"), lambda: _page(_current_values(), message=message))
