"""Invoicing administration: settings, review rules, approval rules, charge types.

Institution administrators only (a library-scoped administrator gets 403, as on the other
administration pages). Every change goes through :mod:`app.invoices.settings` or
:mod:`app.invoices.rules`; an HTMX request gets the changed section back, a plain form post is
redirected to the page with a message (or the page again with the error).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Length, Optional

from ..auth.models import Role
from ..auth.permissions import is_institution_admin, roles_required
from ..errors import DomainError, InvalidInput
from ..extensions import db
from ..funds.models import Fund
from ..htmx import changed, is_htmx, render
from ..org.models import Library
from ..saving import saving
from ..text import T
from ..vendors.models import Vendor
from . import rules
from . import settings as invoice_settings
from .models import BUILT_IN_CHARGES, CHANNELS, ApprovalRule, ChargeType, ReviewRule

bp = Blueprint("invoice_admin", __name__, url_prefix="/admin/invoicing")
ADMIN = (Role.ADMIN,)


@bp.before_request
def _institution_admins_only():
    if current_user.is_authenticated and not is_institution_admin(current_user):
        abort(403)


def _flag(value: str | None) -> bool:
    """A switch's submitted value: "true"/"on"/"1" or "false"/"off"/"0"."""
    text = (value or "").strip().lower()
    if text in ("true", "on", "1", "yes"):
        return True
    if text in ("false", "off", "0", "no"):
        return False
    raise InvalidInput(T("A switch is on or off."), "value")


def _answer(page: str, fragment: str, redirect_to: str, message: str, **ctx):
    """After a change: the fragment for HTMX, else back to the page with the message."""
    return changed(message, redirect_to, lambda: render(page, fragment, message=message, clear_flashes=True, **ctx))


def _refused(exc: DomainError, page: str, fragment: str, **ctx):
    """The section again with the refusal's message and status."""
    return render(page, fragment, status=exc.status, error=exc.message, clear_flashes=is_htmx(), **ctx)


# -- settings ----------------------------------------------------------------------------------

def _settings_ctx() -> dict:
    return {"values": invoice_settings.all_settings(), "labels": invoice_settings.LABELS}


@bp.get("")
@roles_required(*ADMIN)
def settings():
    return render("invoices/admin/settings.html", "invoices/admin/_settings.html", **_settings_ctx())


@bp.post("/settings")
@roles_required(*ADMIN)
def update_setting():
    key = request.form.get("key", "")
    with saving() as saved:
        if key not in invoice_settings.DEFAULTS:
            raise InvalidInput(T("Unknown setting."), "key")
        invoice_settings.update(current_user, {key: _flag(request.form.get("value"))})
    if not saved:
        return _refused(saved.error, "invoices/admin/settings.html", "invoices/admin/_settings.html",
                        **_settings_ctx())
    label = str(invoice_settings.LABELS[key]).split(':')[0].split('：')[0]
    message = (_("%(setting)s: now on.", setting=label) if invoice_settings.get(key)
               else _("%(setting)s: now off.", setting=label))
    return _answer("invoices/admin/settings.html", "invoices/admin/_settings.html", url_for(".settings"),
                   message, **_settings_ctx())


# -- review rules ------------------------------------------------------------------------------

def _review_ctx() -> dict:
    return {"rules": rules.review_rules(), "kinds": ReviewRule.KINDS}


@bp.get("/review-rules")
@roles_required(*ADMIN)
def review_rules():
    return render("invoices/admin/review_rules.html", "invoices/admin/_review_rules.html", **_review_ctx())


@bp.post("/review-rules/<int:review_rule_id>")
@roles_required(*ADMIN)
def update_review_rule(review_rule_id):
    rule = db.get_or_404(ReviewRule, review_rule_id)
    threshold = request.form.get("threshold_percent")
    with saving() as saved:
        active = _flag(request.form["active"]) if "active" in request.form else None
        if threshold is not None and not threshold.strip():
            raise InvalidInput(T("Give the threshold percent, e.g. 10."), "threshold_percent")
        rules.update_review_rule(current_user, rule, active=active, threshold_percent=threshold)
    if not saved:
        return _refused(saved.error, "invoices/admin/review_rules.html", "invoices/admin/_review_rules.html",
                        **_review_ctx())
    what = ReviewRule.KINDS.get(rule.kind, rule.kind)
    if threshold is not None:
        message = _("Threshold set to %(percent)s %%.", percent=rule.threshold_percent)
    elif rule.active:
        message = _("“%(check)s”: on.", check=what)
    else:
        message = _("“%(check)s”: off.", check=what)
    return _answer("invoices/admin/review_rules.html", "invoices/admin/_review_rules.html",
                   url_for(".review_rules"), message, **_review_ctx())


# -- approval rules ----------------------------------------------------------------------------

class ApprovalRuleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Length(max=100)])
    min_total = StringField(_l("Invoice total from"), validators=[Optional()],
                            description=_l("Compared with the invoice total as printed; empty: no lower limit."))
    max_total = StringField(_l("Invoice total up to"), validators=[Optional()],
                            description=_l("Empty: no upper limit."))
    vendor = SelectField(_l("Vendor"), coerce=str)
    fund = SelectField(_l("Fund (any line charged to it)"), coerce=str)
    owner_library = SelectField(_l("Owner"), coerce=str)
    channel = SelectField(_l("Creation channel"), coerce=str)
    decision = SelectField(_l("Decision"), choices=[("manual", _l("Manual approval by an invoice manager")),
                                                    ("automatic", _l("Automatic approval"))])
    approver_not_creator = BooleanField(_l("The approver must not be the invoice's creator (manual approval)"))


def _rule_form(rule: ApprovalRule | None = None) -> ApprovalRuleForm:
    form = ApprovalRuleForm()
    form.vendor.choices = [("", _("Any vendor"))] + [
        (str(v.id), f"{v.code} — {v.name}") for v in db.session.scalars(select(Vendor).order_by(Vendor.code))]
    funds = db.session.scalars(select(Fund).where(Fund.kind == "allocated").order_by(Fund.code)).all()
    form.fund.choices = [("", _("Any fund"))] + [(str(f.id), f"{f.code} ({f.fiscal_period.code}) — {f.name}")
                                              for f in funds]
    form.owner_library.choices = [("", _("Any owner"))] + [
        (str(lib.id), f"{lib.code} — {lib.name}") for lib in db.session.scalars(select(Library).order_by(Library.code))]
    form.channel.choices = [("", _("Any channel"))] + list(CHANNELS.items())
    if rule is not None and request.method == "GET":
        form.name.data = rule.name
        form.min_total.data = "" if rule.min_total is None else format(rule.min_total, "f")
        form.max_total.data = "" if rule.max_total is None else format(rule.max_total, "f")
        form.vendor.data = str(rule.vendor_id or "")
        form.fund.data = str(rule.fund_id or "")
        form.owner_library.data = str(rule.owner_library_id or "")
        form.channel.data = rule.channel or ""
        form.decision.data = "automatic" if rule.automatic else "manual"
        form.approver_not_creator.data = rule.approver_not_creator
    return form


def _pick(model, value: str, field: str):
    if not value:
        return None
    found = db.session.get(model, int(value)) if value.isdigit() else None
    if found is None:
        raise InvalidInput(T("That choice no longer exists; reload the page."), field)
    return found


def _rule_fields(form: ApprovalRuleForm) -> rules.ApprovalRuleFields:
    return rules.ApprovalRuleFields(
        name=form.name.data or "", min_total=(form.min_total.data or "").strip() or None,
        max_total=(form.max_total.data or "").strip() or None, vendor=_pick(Vendor, form.vendor.data, "vendor"),
        fund=_pick(Fund, form.fund.data, "fund"),
        owner_library=_pick(Library, form.owner_library.data, "owner_library"),
        channel=form.channel.data or None, automatic=form.decision.data == "automatic",
        approver_not_creator=bool(form.approver_not_creator.data))


def _approval_ctx() -> dict:
    return {"rules": rules.approval_rules(), "channels": CHANNELS}


@bp.get("/approval-rules")
@roles_required(*ADMIN)
def approval_rules():
    return render("invoices/admin/approval_rules.html", "invoices/admin/_approval_rules.html", **_approval_ctx())


@bp.route("/approval-rules/new", methods=["GET", "POST"])
@bp.route("/approval-rules/<int:approval_rule_id>", methods=["GET", "POST"])
@roles_required(*ADMIN)
def edit_approval_rule(approval_rule_id=None):
    rule = db.get_or_404(ApprovalRule, approval_rule_id) if approval_rule_id else None
    form = _rule_form(rule)
    if form.validate_on_submit():
        with saving(form) as saved:
            fields = _rule_fields(form)
            if rule is None:
                rule = rules.create_approval_rule(current_user, fields)
            else:
                rules.update_approval_rule(current_user, rule, fields)
        if saved:
            flash(_("Approval rule “%(name)s” saved (number %(position)s in the order).", name=rule.name,
                    position=rule.position), "ok")
            return redirect(url_for(".approval_rules"))
        rule = db.session.get(ApprovalRule, approval_rule_id) if approval_rule_id else None
    status = 422 if request.method == "POST" else 200
    return render("invoices/admin/approval_rule_form.html", status=status, form=form, rule=rule)


@bp.post("/approval-rules/<int:approval_rule_id>/move")
@roles_required(*ADMIN)
def move_approval_rule(approval_rule_id):
    rule = db.get_or_404(ApprovalRule, approval_rule_id)
    with saving() as saved:
        rules.move_approval_rule(current_user, rule, request.form.get("direction", ""))
    if not saved:
        return _refused(saved.error, "invoices/admin/approval_rules.html", "invoices/admin/_approval_rules.html",
                        **_approval_ctx())
    return _answer("invoices/admin/approval_rules.html", "invoices/admin/_approval_rules.html",
                   url_for(".approval_rules"),
                   _("“%(name)s” is now number %(position)s.", name=rule.name, position=rule.position),
                   **_approval_ctx())


@bp.post("/approval-rules/<int:approval_rule_id>/delete")
@roles_required(*ADMIN)
def delete_approval_rule(approval_rule_id):
    rule = db.get_or_404(ApprovalRule, approval_rule_id)
    name = rule.name
    rules.delete_approval_rule(current_user, rule)
    db.session.commit()
    return _answer("invoices/admin/approval_rules.html", "invoices/admin/_approval_rules.html",
                   url_for(".approval_rules"), _("Approval rule “%(name)s” deleted.", name=name), **_approval_ctx())


# -- charge types ------------------------------------------------------------------------------

class ChargeTypeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[Length(max=20)], description=_l("Letters, digits, - or _."))
    name = StringField(_l("Name"), validators=[Length(max=100)])


def _charge_ctx(form: ChargeTypeForm | None = None) -> dict:
    return {"built_in": BUILT_IN_CHARGES, "own": rules.own_charge_types(),
            "form": form or ChargeTypeForm(formdata=None), "limit": rules.MAX_OWN_CHARGE_TYPES}


@bp.route("/charge-types", methods=["GET", "POST"])
@roles_required(*ADMIN)
def charge_types():
    page, fragment = "invoices/admin/charge_types.html", "invoices/admin/_charge_types.html"
    if request.method == "GET":
        return render(page, fragment, **_charge_ctx())
    form = ChargeTypeForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            charge_type = rules.create_charge_type(current_user, form.code.data, form.name.data)
        if not saved:
            return render(page, fragment, status=saved.status, clear_flashes=is_htmx(), **_charge_ctx(form))
        return _answer(page, fragment, url_for(".charge_types"),
                       _("Charge type %(code)s (“%(name)s”) added.", code=charge_type.code, name=charge_type.name),
                       **_charge_ctx())
    return render(page, fragment, status=400, **_charge_ctx(form))


@bp.post("/charge-types/<int:charge_type_id>/active")
@roles_required(*ADMIN)
def set_charge_type_active(charge_type_id):
    page, fragment = "invoices/admin/charge_types.html", "invoices/admin/_charge_types.html"
    charge_type = db.get_or_404(ChargeType, charge_type_id)
    with saving() as saved:
        rules.set_charge_type_active(current_user, charge_type, _flag(request.form.get("active")))
    if not saved:
        return _refused(saved.error, page, fragment, **_charge_ctx())
    message = (_("Charge type %(code)s active again.", code=charge_type.code) if charge_type.active
               else _("Charge type %(code)s deactivated: it is no longer offered on invoices.", code=charge_type.code))
    return _answer(page, fragment, url_for(".charge_types"), message, **_charge_ctx())
