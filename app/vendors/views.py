"""Vendor pages (list, vendor with tabs, forms, accounts/addresses/contacts) and the currency rates page.

Vendors and rates are the institution's: a library-scoped buyer sees the vendor form with the shared
fields disabled and may save the notes (a posted shared field is checked by the service: 403 when it
would change); creating vendors, accounts, addresses and rates is for the institution-wide role.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from flask import Blueprint, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import case, func, literal, select
from werkzeug.datastructures import MultiDict

from .. import list_columns
from ..auth.permissions import ALL_ROLES, has_any_role, institution_roles_required, roles_required
from ..errors import Forbidden, InvalidInput
from ..exports import Column, Columns, export_response, related, rows_of
from ..extensions import db
from ..htmx import changed, is_htmx, redirect_to, render
from ..i18n import LANGUAGES
from ..listing import list_links
from ..saving import saving
from ..text import T
from . import services as vendors
from .forms import (AccountChannelForm, AccountForm, AddressForm, ContactForm, ContactRolesForm, RateForm,
                    RateUploadForm, VendorForm)
from .models import ADDRESS_TYPE_LABELS, CONTACT_ROLES, ORDER_CHANNELS, VENDOR_STATUSES, Vendor, VendorAccount

bp = Blueprint("vendors", __name__)
VIEW = ALL_ROLES
EDIT = vendors.VENDOR_EDITORS
RATES = vendors.RATE_EDITORS
TABS = ("details", "accounts", "orders", "invoices")
TAB_LABELS = {"details": T("Details"), "accounts": T("Accounts"), "orders": T("Orders"), "invoices": T("Invoices")}
SORTS = vendors.VENDOR_SORTS


@bp.app_template_global()
def can_edit_vendors() -> bool:
    return current_user.is_authenticated and has_any_role(current_user, EDIT)


@bp.app_template_global()
def can_change_shared_vendor_data() -> bool:
    return current_user.is_authenticated and vendors.may_change_shared_vendor_data(current_user)


@bp.app_template_global()
def can_add_rates() -> bool:
    return current_user.is_authenticated and vendors.may_add_rates(current_user)


# -- list --------------------------------------------------------------------------------------

def _yes_no(value) -> str:
    return T("yes") if value else T("no")


_IS_ONE = "is one"   # the export's SQL value for a governmental vendor itself


def _governmental(v: Vendor) -> str:
    if v.is_governmental:
        return T("is one (%(vat)s%%)", vat=v.vat_percent) if v.vat_percent is not None else T("is one")
    return v.governmental_vendor.code if v.governmental_vendor else "—"


def _language_name(code: str | None) -> str:
    """The vendor's language of letters by its own name; none: the institution's default."""
    return LANGUAGES.get(code, code) if code else T("The institution's default")


VENDOR_COLUMNS = Columns([
    Column("code", T("Code"), sort="code", fixed=True),
    Column("name", T("Name"), sort="name"),
    Column("status", T("Status"), value=lambda r: VENDOR_STATUSES.get(r.status, r.status),
           cell=lambda v: VENDOR_STATUSES.get(v.status, v.status)),
    Column("currency", T("Currency")),
    Column("liable_for_vat", T("Liable for VAT"), value=lambda r: _yes_no(r.liable_for_vat),
           cell=lambda v: _yes_no(v.liable_for_vat)),
    # A governmental vendor collects the VAT itself ("is one"); other vendors may name theirs.
    Column("governmental", T("Governmental vendor"),
           sql=case((Vendor.is_governmental, literal(_IS_ONE)), else_=related(Vendor, Vendor.governmental_vendor_id)),
           value=lambda r: T("is one") if r.governmental == _IS_ONE else r.governmental,
           cell=_governmental),
    Column("vat_percent", T("VAT %"), "number", shown=False),
    Column("order_channel", T("Order channel"), value=lambda r: ORDER_CHANNELS.get(r.order_channel, r.order_channel),
           cell=lambda v: ORDER_CHANNELS.get(v.order_channel, v.order_channel), shown=False),
    Column("language", T("Language of letters"), value=lambda r: _language_name(r.language),
           cell=lambda v: _language_name(v.language), shown=False),
    Column("edi_enabled", T("EDI"), value=lambda r: _yes_no(r.edi_enabled), cell=lambda v: _yes_no(v.edi_enabled),
           shown=False),
    Column("edi_vendor_id", T("EDI vendor id"), shown=False),
    Column("financial_sys_code", T("Financial system code"), shown=False),
    Column("additional_code", T("Additional code"), shown=False),
    Column("national_tax_id", T("National tax id"), shown=False),
    Column("accounts", T("Accounts"), "number",
           sql=select(func.count(VendorAccount.id)).where(VendorAccount.vendor_id == Vendor.id)
           .correlate(Vendor).scalar_subquery(), shown=False),
    Column("notes", T("Notes"), shown=False),
    Column("created_at", T("Created (UTC)"), "datetime", shown=False),
])
VENDOR_TABLE = list_columns.register("vendors", T("Vendors"), VENDOR_COLUMNS)


def _list_args(args) -> tuple[str, str, str]:
    q = (args.get("q") or "").strip()
    status = args.get("status") if args.get("status") in ("active", "inactive") else ""
    sort = args.get("sort") if args.get("sort") in SORTS else "code"
    return q, status, sort


_vendors_query = vendors.vendors_query


@bp.get("/vendors/")
@roles_required(*VIEW)
def index():
    args = request.args
    q, status, sort = _list_args(args)
    columns = list_columns.shown(current_user, VENDOR_TABLE)
    page = db.paginate(_vendors_query(q, status, sort), page=args.get("page", 1, type=int), per_page=25,
                       error_out=False)
    accounts = {}
    if any(c.key == "accounts" for c in columns) and page.items:
        accounts = dict(db.session.execute(
            select(VendorAccount.vendor_id, func.count(VendorAccount.id))
            .where(VendorAccount.vendor_id.in_([v.id for v in page.items])).group_by(VendorAccount.vendor_id)).all())

    list_url, export_url = list_links("vendors.index", "vendors.export",
                                      {"q": q, "status": status, "sort": sort if sort != "code" else ""})

    ctx = dict(page=page, q=q, status_filter=status, sort=sort, f={"sort": sort}, list_url=list_url,
               export_url=export_url, table=VENDOR_TABLE, columns=columns, accounts=accounts,
               column_choices=list_columns.choices(current_user, VENDOR_TABLE))
    return render("vendors/index.html", "vendors/_list.html", **ctx)


@bp.get("/vendors/export.csv", defaults={"fmt": "csv"})
@bp.get("/vendors/export.xlsx", defaults={"fmt": "xlsx"})
@roles_required(*VIEW)
def export(fmt):
    """Every vendor of the list's filter and sort (vendors are the institution's: every user sees
    them all), in the columns the user shows, as a file."""
    columns = list_columns.exported(current_user, VENDOR_TABLE)
    return export_response(rows_of(_vendors_query(*_list_args(request.args)), columns), columns, fmt, "vendors",
                           sheet=_("Vendors"))


# -- create / edit -----------------------------------------------------------------------------

def _vendor_fields(form: VendorForm) -> vendors.VendorFields:
    raw = (form.vat_percent.data or "").strip()
    vat = None
    if raw:
        try:
            vat = Decimal(raw)
        except InvalidOperation:
            raise InvalidInput(T("\"%(value)s\" is not a number.", value=raw), "vat_percent") from None
    return vendors.VendorFields(
        name=form.name.data, status=form.status.data, currency=form.currency.data,
        financial_sys_code=form.financial_sys_code.data, additional_code=form.additional_code.data,
        national_tax_id=form.national_tax_id.data, liable_for_vat=form.liable_for_vat.data,
        is_governmental=form.is_governmental.data, vat_percent=vat,
        governmental_vendor=form.governmental_vendor.data or None, notes=form.notes.data,
        edi_enabled=form.edi_enabled.data, edi_vendor_id=form.edi_vendor_id.data,
        edi_id_qualifier=form.edi_id_qualifier.data, edi_folder=form.edi_folder.data,
        order_channel=form.order_channel.data or "none", language=form.language.data or None)


def _kept_formdata(vendor: Vendor) -> MultiDict:
    """The vendor's shared fields as they are, with what was posted on top: the fields a
    library-scoped buyer's browser does not send (disabled) keep their values; any that was sent is
    checked by the service."""
    current = vendors.VendorFields.of(vendor)
    data = MultiDict()
    for name in vendors.SHARED_VENDOR_FIELDS:
        value = getattr(current, name)
        if isinstance(value, bool):
            if value:
                data[name] = "y"
        elif name == "vat_percent":
            data[name] = f"{value:f}" if value is not None else ""
        else:
            data[name] = value or ""
    for key in request.form:
        data.setlist(key, request.form.getlist(key))
    return data


def _vendor_form(vendor: Vendor | None):
    shared = vendors.may_change_shared_vendor_data(current_user)
    if vendor is not None and not shared and request.method == "POST":
        form = VendorForm(formdata=_kept_formdata(vendor), obj=vendor)
    else:
        form = VendorForm(obj=vendor) if vendor else VendorForm()
    if not shared:
        for name in vendors.SHARED_VENDOR_FIELDS:
            getattr(form, name).render_kw = {**(getattr(form, name).render_kw or {}), "disabled": True}
    if vendor is not None and request.method == "GET":
        form.governmental_vendor.data = vendor.governmental_vendor.code if vendor.governmental_vendor else ""
        form.vat_percent.data = f"{vendor.vat_percent:f}" if vendor.vat_percent is not None else ""
    form.governmental_vendor.choices = [("", _("None"))] + [
        (v.code, _("%(code)s — %(name)s (%(vat)s%% VAT)", code=v.code, name=v.name, vat=f"{v.vat_percent:f}"))
        for v in vendors.governmental_vendors()
        if vendor is None or v.id != vendor.id]
    if vendor is not None:
        form.code.data = vendor.code  # the code never changes
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            # A shared field posted by a library-scoped buyer (Forbidden): 403, nothing saved.
            with saving(form, reraise=(Forbidden,)) as saved:
                data = _vendor_fields(form)
                if vendor is None:
                    vendor = vendors.create_vendor(current_user, form.code.data, data)
                    message = _("Vendor %(code)s created.", code=vendor.code)
                else:
                    vendors.update_vendor(current_user, vendor, data)
                    message = _("Vendor %(code)s saved.", code=vendor.code)
            if saved:
                flash(message, "ok")
                return redirect_to(url_for("vendors.show", vendor_id=vendor.id))
            if vendor is not None:
                vendor = vendors.get_vendor(vendor.id)
        status = 422
    return render("vendors/form.html", "vendors/_form.html", status=status, form=form, vendor=vendor,
                  shared_editable=shared)


@bp.route("/vendors/new", methods=["GET", "POST"])
@institution_roles_required(*EDIT)
def new():
    return _vendor_form(None)


@bp.route("/vendors/<int:vendor_id>/edit", methods=["GET", "POST"])
@roles_required(*EDIT)
def edit(vendor_id):
    return _vendor_form(vendors.get_vendor(vendor_id))


# -- one vendor with its tabs ------------------------------------------------------------------

def _tab_panel(vendor: Vendor, tab: str, status: int = 200, **forms):
    """The vendor page with one tab open. The Orders and Invoices tabs load the orders' and the
    invoices' own fragments by URL (orders.vendor_orders, invoices.vendor_invoices)."""
    forms.setdefault("account_form", AccountForm(formdata=None))
    forms.setdefault("address_form", AddressForm(formdata=None))
    forms.setdefault("contact_form", ContactForm(formdata=None))
    return render("vendors/show.html", "vendors/_tab.html", status=status, vendor=vendor, tab=tab, tabs=TABS,
                  tab_labels=TAB_LABELS, order_channels=vendors.ORDER_CHANNELS,
                  order_channels_in_sentence=vendors.ORDER_CHANNELS_IN_SENTENCE, contact_roles=CONTACT_ROLES,
                  address_types=ADDRESS_TYPE_LABELS, vendor_statuses=VENDOR_STATUSES,
                  language_name=_language_name(vendor.language), nav_oob=is_htmx(), **forms)


@bp.get("/vendors/<int:vendor_id>")
@roles_required(*VIEW)
def show(vendor_id):
    vendor = vendors.get_vendor(vendor_id)
    tab = request.args.get("tab") if request.args.get("tab") in TABS else "details"
    return _tab_panel(vendor, tab)


def _child_change(vendor_id, tab: str, form_name: str, form, change):
    """Run one add/remove on a vendor's child rows; answer with the tab panel (422 with errors)."""
    vendor = vendors.get_vendor(vendor_id)
    if form is None or form.validate_on_submit():
        with saving(form) as saved:
            message = change(vendor)
        if saved:
            return changed(message, url_for("vendors.show", vendor_id=vendor_id, tab=tab),
                           lambda: _tab_panel(vendors.get_vendor(vendor_id), tab, message=message))
        vendor = vendors.get_vendor(vendor_id)
        if form is None:
            return _tab_panel(vendor, tab, 422, message=saved.message)
    return _tab_panel(vendor, tab, 422, **{form_name: form})


@bp.post("/vendors/<int:vendor_id>/accounts")
@institution_roles_required(*EDIT)
def add_account(vendor_id):
    form = AccountForm()

    def change(vendor):
        a = vendors.add_account(current_user, vendor, form.code.data, form.description.data,
                                form.financial_sys_code.data, form.status.data, form.order_channel.data or None)
        return _("Account %(code)s added.", code=a.code)
    return _child_change(vendor_id, "accounts", "account_form", form, change)


@bp.post("/vendors/<int:vendor_id>/accounts/<int:account_id>/channel")
@institution_roles_required(*EDIT)
def account_channel(vendor_id, account_id):
    form = AccountChannelForm(prefix=f"a{account_id}")

    def change(vendor):
        a = vendors.set_account_channel(current_user, vendor, account_id, form.order_channel.data or None)
        return _("Order channel of account %(code)s saved.", code=a.code)
    return _child_change(vendor_id, "accounts", "row_form", form, change)


@bp.post("/vendors/<int:vendor_id>/accounts/<int:account_id>/remove")
@institution_roles_required(*EDIT)
def remove_account(vendor_id, account_id):
    def change(vendor):
        vendors.remove_account(current_user, vendor, account_id)
        return _("Account removed.")
    return _child_change(vendor_id, "accounts", None, None, change)


@bp.post("/vendors/<int:vendor_id>/addresses")
@institution_roles_required(*EDIT)
def add_address(vendor_id):
    form = AddressForm()

    def change(vendor):
        vendors.add_address(current_user, vendor, vendors.AddressFields(
            line1=form.line1.data, line2=form.line2.data, city=form.city.data, state=form.state.data,
            postal_code=form.postal_code.data, country=form.country.data, types=form.types.data or [],
            preferred=form.preferred.data))
        return _("Address added.")
    return _child_change(vendor_id, "details", "address_form", form, change)


@bp.post("/vendors/<int:vendor_id>/addresses/<int:address_id>/remove")
@institution_roles_required(*EDIT)
def remove_address(vendor_id, address_id):
    def change(vendor):
        vendors.remove_address(current_user, vendor, address_id)
        return _("Address removed.")
    return _child_change(vendor_id, "details", None, None, change)


@bp.post("/vendors/<int:vendor_id>/contacts")
@roles_required(*EDIT)
def add_contact(vendor_id):
    form = ContactForm()

    def change(vendor):
        c = vendors.add_contact(current_user, vendor, form.name.data, form.email.data, form.phone.data, form.note.data,
                                roles=form.roles.data or [])
        return _("Contact %(name)s added.", name=c.name)
    return _child_change(vendor_id, "details", "contact_form", form, change)


@bp.post("/vendors/<int:vendor_id>/contacts/<int:contact_id>/roles")
@roles_required(*EDIT)
def contact_roles(vendor_id, contact_id):
    form = ContactRolesForm(prefix=f"c{contact_id}")

    def change(vendor):
        c = vendors.set_contact_roles(current_user, vendor, contact_id, form.roles.data or [])
        return _("What %(name)s receives saved.", name=c.name)
    return _child_change(vendor_id, "details", "row_form", form, change)


@bp.post("/vendors/<int:vendor_id>/contacts/<int:contact_id>/remove")
@roles_required(*EDIT)
def remove_contact(vendor_id, contact_id):
    def change(vendor):
        vendors.remove_contact(current_user, vendor, contact_id)
        return _("Contact removed.")
    return _child_change(vendor_id, "details", None, None, change)


# -- currency rates ----------------------------------------------------------------------------

def _rates_page(status: int = 200, fragment: str = "vendors/_rates.html", **extra):
    currency = (request.args.get("currency") or "").strip().upper()[:3]
    page = db.paginate(vendors.rates_query(currency or None), page=request.args.get("page", 1, type=int),
                       per_page=50, error_out=False)

    def rates_url(n=None):
        params = {"currency": currency, "page": n}
        return url_for("vendors.rates") + "?" + urlencode({k: v for k, v in params.items() if v})

    extra.setdefault("rate_form", RateForm(formdata=None))
    extra.setdefault("upload_form", RateUploadForm(formdata=None))
    return render("vendors/rates.html", fragment, status=status, page=page, currency=currency,
                  rates_url=rates_url, institution_currency=vendors.institution_currency(), **extra)


@bp.get("/currency-rates/")
@roles_required(*VIEW)
def rates():
    return _rates_page()


@bp.post("/currency-rates/")
@institution_roles_required(*RATES)
def add_rate():
    form = RateForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            row = vendors.add_rate(current_user, form.currency.data, form.rate.data, form.date.data)
        if saved:
            message = _("Rate for %(currency)s on %(day)s added.", currency=row.currency, day=row.day.isoformat())
            return changed(message, url_for("vendors.rates"),
                           lambda: _rates_page(fragment="vendors/_rates_body.html", message=message))
    return _rates_page(422, "vendors/_rates_body.html", rate_form=form)


@bp.post("/currency-rates/upload")
@institution_roles_required(*RATES)
def upload_rates():
    form = RateUploadForm()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        report = vendors.LoadReport(errors=[vendors.RowError(0, T("Choose a CSV file to upload."))])
    else:
        report = vendors.load_rates_csv(current_user, upload.read(vendors.MAX_CSV_BYTES + 1))
    if report.ok:
        db.session.commit()
    else:
        db.session.rollback()
    return _rates_page(200 if report.ok else 422, "vendors/_rates_body.html", upload_form=form, report=report)
