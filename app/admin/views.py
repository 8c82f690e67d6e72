"""Administrator pages: the index of every administration page, users with roles and scopes, libraries (with their delivery addresses), fund
types, and the institution's details printed on letters to vendors."""
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..auth import services as auth
from ..auth.models import Role, User
from ..auth.permissions import is_institution_admin, roles_required
from ..errors import DomainError
from ..extensions import db
from ..forms_util import edit_form
from ..funds import services as funds
from ..htmx import render
from ..integrations.daily import TIME_LABELS, set_times
from ..org.models import Institution, Library
from ..org.services import create_library, set_library_address, update_institution
from ..saving import saving
from .forms import FundTypeForm, InstitutionForm, LibraryAddressForm, LibraryForm, RoleForm, UserForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _institution_admins_only():
    # Administration is institution-wide: a library-scoped administrator may not manage users.
    if current_user.is_authenticated and not is_institution_admin(current_user):
        abort(403)


@bp.get("")
@roles_required(Role.ADMIN)
def index():
    """The administration index: every administration page, grouped (a page not installed is left out)."""
    return render("admin/index.html")


def _role_form() -> RoleForm:
    form = RoleForm(prefix="r")
    form.library.choices = [("", _("Institution (all libraries)"))] + [
        (str(lib.id), f"{lib.code} — {lib.name}") for lib in db.session.scalars(select(Library).order_by(Library.code))]
    return form


@bp.get("/users")
@roles_required(Role.ADMIN)
def users():
    rows = db.session.scalars(select(User).order_by(User.username)).all()
    return render("admin/users.html", users=rows)


@bp.route("/users/new", methods=["GET", "POST"])
@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_user(user_id=None):
    """A new user (a password is required) or an existing one: name, e-mail, password, active."""
    user, form = edit_form(UserForm, User, user_id, "username")
    if form.validate_on_submit():
        with saving(form) as saved:
            if user is None:
                if not form.password.data:
                    raise DomainError(_("Give the new user a password."), "password")
                user = auth.create_user(current_user, form.username.data, form.password.data,
                                        full_name=form.full_name.data or "", email=form.email.data or "")
            else:
                auth.set_details(current_user, user, form.full_name.data or "", form.email.data or "")
                if form.password.data:
                    auth.set_password(current_user, user, form.password.data)
                if bool(form.active.data) != user.active:
                    auth.set_active(current_user, user, bool(form.active.data))
        if saved:
            flash(_("User %(username)s saved.", username=user.username), "ok")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    status = 422 if request.method == "POST" else 200
    return render("admin/user_form.html", status=status, form=form, user=user, role_form=_role_form())


@bp.post("/users/<int:user_id>/roles")
@roles_required(Role.ADMIN)
def add_role(user_id):
    user = db.get_or_404(User, user_id)
    form = _role_form()
    if form.validate_on_submit():
        with saving(form):
            library = db.session.get(Library, int(form.library.data)) if form.library.data else None
            auth.add_role(current_user, user, Role(form.role.data), library)
    return render("admin/user_form.html", "admin/_roles.html", status=200 if not form.errors and not form.form_errors
                  else 422, user=db.session.get(User, user_id), role_form=form, form=UserForm(obj=user))


@bp.post("/users/<int:user_id>/roles/<int:assignment_id>/delete")
@roles_required(Role.ADMIN)
def remove_role(user_id, assignment_id):
    user = db.get_or_404(User, user_id)
    auth.remove_role(current_user, user, assignment_id)
    db.session.commit()
    return render("admin/user_form.html", "admin/_roles.html", user=user, role_form=_role_form(), form=UserForm(obj=user))


@bp.route("/libraries", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def libraries():
    form = LibraryForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            library = create_library(current_user, form.code.data, form.name.data)
        if saved:
            flash(_("Library %(code)s added.", code=library.code), "ok")
            return redirect(url_for("admin.libraries"))
    return _libraries_page(form, status=422 if form.errors or form.form_errors else 200)


def _libraries_page(form: LibraryForm, status: int = 200, address_forms: dict | None = None):
    rows = db.session.scalars(select(Library).order_by(Library.code)).all()
    forms = {lib.id: LibraryAddressForm(formdata=None, prefix=f"l{lib.id}", data={"address": lib.address})
             for lib in rows}
    forms.update(address_forms or {})
    return render("admin/libraries.html", status=status, form=form, libraries=rows, address_forms=forms)


@bp.post("/libraries/<int:library_id>/address")
@roles_required(Role.ADMIN)
def library_address(library_id):
    library = db.get_or_404(Library, library_id)
    form = LibraryAddressForm(prefix=f"l{library.id}")
    if form.validate_on_submit():
        with saving(form) as saved:
            set_library_address(current_user, library, form.address.data)
        if saved:
            flash(_("Delivery address of %(code)s saved.", code=library.code), "ok")
            return redirect(url_for("admin.libraries"))
    return _libraries_page(LibraryForm(formdata=None), 422, {library.id: form})


@bp.route("/institution", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def institution():
    """The institution's addresses, e-mail and EDI id (its name comes from the set-up and is shown only),
    and when its daily jobs run (renewals, packaging, the digest of notifications)."""
    inst = Institution.current() or abort(404)
    form = InstitutionForm(obj=inst) if request.method == "GET" else InstitutionForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            update_institution(current_user, inst, address=form.address.data, billing_address=form.billing_address.data,
                               email=form.email.data, edi_id=form.edi_id.data,
                               edi_id_qualifier=form.edi_id_qualifier.data)
            set_times(current_user, inst, {name: getattr(form, name).data or "" for name in TIME_LABELS
                                                    if name in request.form})
        if saved:
            flash(_("Institution details saved."), "ok")
            return redirect(url_for("admin.institution"))
    return render("admin/institution.html", status=422 if request.method == "POST" else 200, form=form,
                  institution=inst)


@bp.route("/fund-types", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def fund_types():
    form = FundTypeForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            fund_type = funds.create_fund_type(current_user, form.code.data, form.name.data)
        if saved:
            flash(_("Fund type %(code)s added.", code=fund_type.code), "ok")
            return redirect(url_for("admin.fund_types"))
    return render("admin/fund_types.html", status=422 if form.errors else 200, form=form, types=funds.fund_types())
