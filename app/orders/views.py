"""PO line and purchase order pages: the line list, the line form, a line with its tabs and
actions, the cancel confirmation, vendor and reference changes, and the purchase orders.

HTMX fragments are the same URLs asked with HX-Request: the list table (#pol-table), a line page
without the layout (#pol-page, also what every action on a line answers with), the line form
(#pol-form; the vendor select picks its #currency-field out of it again), the PO list (#po-table)
and the record search of the form (#record-results).
Line answers also swap the layout's message areas out of band: their own message into #status,
and an empty #flashes, since what was flashed there belongs to an earlier request.
Viewing is for every role within its library scope (the services' lookups give 404 outside it);
acting needs a purchasing role whose scope covers the line's owner.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import format_decimal, gettext as _, ngettext
from flask_login import current_user
from sqlalchemy import case, distinct, func, select, type_coerce
from sqlalchemy.orm import selectinload

from .. import clock, list_columns
from ..auth.models import User
from ..auth.permissions import ALL_ROLES, library_scope, roles_required
from ..errors import DomainError, InvalidInput
from ..exports import Column, Columns, export_response, joined, related, rows_of
from ..database import writing_again
from ..extensions import db, htmx
from ..forms_util import attach_error, chosen
from ..funds import services as funds
from ..funds.forms import distribution_shares, mark_other_period_funds
from ..funds.models import Fund
from ..funds.scope import visible_funds_clause
from ..htmx import is_htmx, redirect_to, render
from ..inventory import services as inventory
from ..inventory.models import BibRecord
from ..invoices.models import Invoice
from ..invoices.services import invoice_actions
from ..ledger.money import format_plain
from ..org.models import Library
from ..ids import parse_id
from ..listing import list_links
from ..saving import saving
from ..text import T
from ..types import Money
from ..vendors.models import Vendor, VendorAccount
from ..vendors.services import get_vendor, vendor_select_choices
from . import package_run
from . import services as orders
from .forms import (FUND_ROWS, ActionNoteForm, ActivateForm, CancelForm, PackageForm, PatternForm, POLineForm,
                    ReceiveForm, VendorChangeForm)
from .models import (ACQUISITION_METHODS, MATERIAL_FORMS, ORDER_TYPES, PACKAGING, PACKAGING_LABELS, POL_STATUSES,
                     METHOD_WORDS, POLine, POLineFund, PurchaseOrder, history_note, history_word)

bp = Blueprint("orders", __name__)
VIEW = ALL_ROLES
VENDOR_TAB_LIMIT = 50
ORDER = orders.PURCHASING
TABS = ("summary", "funds", "inventory", "history")
PER_PAGE = 25
LIST_SORTS = ("number", "title", "status", "price", "expected")
BARE = "orders/_bare.html"
INSTITUTION = T("Institution")   # the owner of a line or order no library owns


def _layout() -> str:
    """What a line page extends: only #pol-page for HTMX, the whole layout otherwise (a history
    restore after the back button also asks with HX-Request, and needs the whole page)."""
    return BARE if is_htmx() else "base.html"


def _htmx_refusal(exc: DomainError, pol: POLine, tab: str = "summary"):
    """A refused HTMX action: the message goes to the page's alert area (#problems); out of band,
    the line is shown as it is now (the page may be stale: someone else acted on it meanwhile) and
    the flashed messages of an earlier request are cleared, as after a success."""
    body = (render_template("_problem.html", message=exc.message)
            + render_template("orders/show.html", **_detail_context(pol, tab), oob=True))
    resp = make_response(body, exc.status)
    resp.headers["HX-Retarget"] = "#problems"
    resp.headers["HX-Reswap"] = "innerHTML"
    resp.vary.add("HX-Request")
    return resp


@bp.app_template_global()
def has_endpoint(name: str) -> bool:
    """Whether a route exists (pages link to routes other slices add only once they are there)."""
    return name in current_app.view_functions


@bp.app_template_global()
def can_order_for(owner_library_id) -> bool:
    return current_user.is_authenticated and orders.can_order(current_user, owner_library_id)


@bp.app_template_global()
def pol_history_word(value: str, stored_value: bool = False):
    """A PO line history's stored action, field or value (a status label), in the reader's language."""
    return history_word(value, stored_value=stored_value)


@bp.app_template_global()
def pol_history_note(note: str):
    """A PO line history's note: in the reader's language when the services wrote it, else as typed."""
    return history_note(note)


@bp.app_template_global()
def pol_method_word(pol: POLine):
    """The line's acquisition method in the middle of a sentence ("a gift order")."""
    return METHOD_WORDS[pol.acquisition_method]


@bp.app_template_filter("plain_percent")
def plain_percent(value) -> str:
    """12.50 -> "12.5", 100.00 -> "100" (never an exponent)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@bp.app_template_global()
def line_actions(pol: POLine) -> frozenset[str]:
    """The actions the page offers on ``pol``: allowed by its status and the user's role and scope."""
    if not orders.can_order(current_user, pol.owner_library_id):
        return frozenset()
    acts = {a for a in ("edit", "approve", "defer", "resume", "renew", "close", "reopen", "cancel", "replace_vendor",
                        "change_vendor", "change_reference", "relink") if pol.may(a)}
    if pol.status == "ready" and pol.packaging == "manual":
        acts.add("package")
    if pol.status == "ready" or pol.status in PACKAGING:
        acts.add("send")
    if pol.may("receive"):
        if not pol.is_electronic:
            acts.add("receive")
        elif pol.activation_date is None:
            acts.add("activate")
    return frozenset(acts)


@bp.app_template_global()
def open_pos(pol: POLine) -> list[PurchaseOrder]:
    """Open POs a Ready line may be packaged into by hand."""
    return orders.open_pos_for(current_user, pol) if pol.status == "ready" else []


def _pol(number) -> POLine:
    return orders.get_po_line(current_user, number)


def _pol_to_change(number) -> POLine:
    """A line the user may act on: 404 when out of sight, 403 when seen but not theirs to order."""
    pol = _pol(number)
    if not orders.can_order(current_user, pol.owner_library_id):
        abort(403)
    return pol


# -- the PO line list --------------------------------------------------------------------------

def _visible_libraries() -> list[Library]:
    scope = library_scope(current_user)
    q = select(Library).order_by(Library.code)
    if scope is not None:
        q = q.where(Library.id.in_(scope or [-1]))
    return db.session.scalars(q).all()


def _line_filter(args) -> orders.LineFilter:
    return orders.LineFilter.from_args(
        args, (*POL_STATUSES, "open", "renewal"),
        sort=args.get("sort") if (args.get("sort") or "").lstrip("-") in LIST_SORTS else "-number",
        method=args.get("method") if args.get("method") in (*ACQUISITION_METHODS, "unpaid") else "")


def _line_filter_params(f: orders.LineFilter) -> dict:
    return {"q": f.q, "status": f.status, "vendor": f.vendor_id, "fund": f.fund_id, "library": f.library_id,
            "method": f.method, "sort": f.sort if f.sort != "-number" else ""}


@bp.get("/orders/lines/")
@roles_required(*VIEW)
def index():
    args = request.args
    f = _line_filter(args)
    columns = list_columns.shown(current_user, LINE_TABLE)
    query = orders.po_lines_query(current_user, f)
    if any(c.key == "funds" for c in columns):
        query = query.options(selectinload(POLine.distribution).joinedload(POLineFund.fund))
    page = db.paginate(query, page=args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False)

    list_url, export_url = list_links("orders.index", "orders.export_lines", _line_filter_params(f))

    ctx = dict(page=page, f=f, list_url=list_url, export_url=export_url, statuses=POL_STATUSES,
               methods=ACQUISITION_METHODS, table=LINE_TABLE, columns=columns, column_choices=list_columns.choices(current_user, LINE_TABLE),
               vendors=db.session.scalars(select(Vendor).order_by(Vendor.code)).all(),
               funds=db.session.scalars(select(Fund).where(visible_funds_clause(current_user),
                                                           Fund.kind == "allocated").order_by(Fund.code)).all(),
               libraries=_visible_libraries(), can_order_any=orders.can_order(current_user, anywhere=True))
    return render("orders/index.html", "orders/_table.html", **ctx)


def _fund_codes(line_ids: list) -> dict:
    """``{line id: "FUND-A, FUND-B"}``, each line's funds in distribution order."""
    return joined(db.session.execute(select(POLineFund.po_line_id, Fund.code).join(Fund, Fund.id == POLineFund.fund_id)
                                     .where(POLineFund.po_line_id.in_(line_ids)).order_by(POLineFund.id)))


LINE_COLUMNS = Columns([
    Column("number", T("PO line"), sort="number", fixed=True),
    Column("title", T("Title"), sort="title"),
    Column("author", T("Author")),
    Column("isbn", T("ISBN"), shown=False),
    Column("vendor", T("Vendor"), sql=related(Vendor, POLine.vendor_id), cell=lambda p: p.vendor.code),
    Column("status", T("Status"), sort="status", value=lambda r: POL_STATUSES.get(r.status, r.status)),
    Column("order_type", T("Order type"), value=lambda r: ORDER_TYPES.get(r.order_type, r.order_type),
           cell=lambda p: p.order_type_label, shown=False),
    Column("acquisition_method", T("Acquisition method"),
           value=lambda r: ACQUISITION_METHODS.get(r.acquisition_method, r.acquisition_method),
           cell=lambda p: p.acquisition_method_label, shown=False),
    Column("material_form", T("Material"), value=lambda r: MATERIAL_FORMS.get(r.material_form, r.material_form),
           cell=lambda p: p.material_form_label, shown=False),
    Column("owner", T("Owner"), sql=related(Library, POLine.owner_library_id),
           value=lambda r: r.owner or INSTITUTION,
           cell=lambda p: p.owner_library.code if p.owner_library else INSTITUTION),
    Column("funds", T("Funds"), sql=POLine.id, lookup=_fund_codes, shown=False),
    Column("currency", T("Currency"), shown=False),
    Column("list_price", T("List price"), "money", currency="currency", shown=False),
    Column("quantity", T("Quantity"), "number", shown=False),
    Column("net_price", T("Net price"), "money", currency="currency", sort="price"),
    Column("vendor_reference", T("Vendor reference"), shown=False),
    Column("reporting_code", T("Reporting code"), shown=False),
    Column("expected_receipt_date", T("Expected receipt"), "date", sort="expected"),
    Column("created_at", T("Created (UTC)"), "datetime", shown=False),
])
LINE_TABLE = list_columns.register("po_lines", T("PO lines"), LINE_COLUMNS)


@bp.get("/orders/lines/export.csv", defaults={"fmt": "csv"})
@bp.get("/orders/lines/export.xlsx", defaults={"fmt": "xlsx"})
@roles_required(*VIEW)
def export_lines(fmt):
    """Every PO line of the list's filter and sort the user may see, in the columns they show, as a file."""
    query = orders.po_lines_query(current_user, _line_filter(request.args))
    columns = list_columns.exported(current_user, LINE_TABLE)
    return export_response(rows_of(query, columns), columns, fmt, "po-lines", sheet=T("PO lines"))


# -- create / edit -----------------------------------------------------------------------------

def _choices(form: POLineForm, pol: POLine | None) -> POLineForm:
    form.vendor.choices, form.vendor_account.choices = vendor_select_choices(
        pol.vendor if pol is not None else None, pol.vendor_account_id if pol is not None else None)
    libraries = orders.ordering_libraries(current_user)
    if libraries is None:
        libraries = db.session.scalars(select(Library).order_by(Library.code)).all()
        form.owner_library.choices = [("", _("Institution (all libraries)"))]
    else:
        form.owner_library.choices = []
    form.owner_library.choices += [(str(lib.id), f"{lib.code} — {lib.name}") for lib in libraries]
    form.inventory_library.choices = [("", _("The owner library"))] + [(str(lib.id), f"{lib.code} — {lib.name}")
                                                                     for lib in libraries]
    usable = funds.chargeable_funds(current_user, clock.today())   # a PO line is ordered today
    fund_choices = [("", "—")] + [(str(fd.id), f"{fd.code} — {fd.name} ({fd.currency}, {fd.fiscal_period.code})")
                                  for fd in usable]
    if pol is not None:
        known = {c[0] for c in fund_choices}
        fund_choices += [(str(d.fund_id), d.fund.label) for d in pol.distribution if str(d.fund_id) not in known]
    for fund_field, _share in form.fund_rows():
        fund_field.choices = fund_choices
    return form


def mark_funds(form: POLineForm) -> POLineForm:
    """Warn next to each fund not of the open period covering today (call once the form holds its data)."""
    mark_other_period_funds(form.fund_rows(), clock.today())
    return form


def _fill_from(form: POLineForm, pol: POLine) -> None:
    """The form shows the line as it is (GET of the edit page)."""
    for name in ("order_type", "material_form", "acquisition_method", "packaging", "title", "author", "isbn", "issn", "publisher",
                 "publication_date", "currency", "reporting_code", "vendor_reference", "note",
                 "expected_receipt_date", "renewal_date", "manual_renewal", "distribution_method"):
        form[name].data = getattr(pol, name)
    form.vendor.data = str(pol.vendor_id)
    form.vendor_account.data = str(pol.vendor_account_id or "")
    form.owner_library.data = str(pol.owner_library_id or "")
    form.bib_record.data = str(pol.bib_record_id or "")
    form.list_price.data = format_plain(pol.list_price, pol.currency)
    form.discount.data = plain_percent(pol.discount) if pol.discount else "0"
    form.quantity.data = str(pol.quantity)
    form.renewal_period_months.data = str(pol.renewal_period_months)
    for (fund_field, share_field), d in zip(form.fund_rows(), pol.distribution):
        fund_field.data = str(d.fund_id)
        share_field.data = (plain_percent(d.percent) if pol.distribution_method == "percent"
                            else format_plain(d.amount, pol.currency))


def _line_fields(form: POLineForm) -> orders.POLineFields:
    record = None
    if (form.bib_record.data or "").strip():
        record = chosen(BibRecord, form.bib_record.data.strip(), "bib_record", T("bibliographic record"))
    description = {name: (form[name].data or "").strip() for name in
                   ("title", "author", "isbn", "issn", "publisher", "publication_date")}
    if record is not None and not description["title"]:
        # A picked record with no description typed: the line describes the record.
        description = {name: getattr(record, name) or "" for name in description}
    usable = {str(f.id): f for f in funds.chargeable_funds(current_user, clock.today())}
    # a fund of a period that is not open: the services refuse it, unless the line had it already
    shares = distribution_shares(form.fund_rows(), usable, "distribution")
    return orders.POLineFields(
        vendor=chosen(Vendor, form.vendor.data, "vendor", T("vendor")),
        vendor_account=chosen(VendorAccount, form.vendor_account.data, "vendor_account", T("vendor account")),
        order_type=form.order_type.data, material_form=form.material_form.data, packaging=form.packaging.data,
        acquisition_method=form.acquisition_method.data,
        owner_library=chosen(Library, form.owner_library.data, "owner_library", T("library")),
        inventory_library=chosen(Library, form.inventory_library.data, "inventory_library", T("library")),
        location_code=form.location_code.data or "", bib_record=record, currency=form.currency.data or "",
        list_price=(form.list_price.data or "").strip(), discount=(form.discount.data or "0").strip() or "0",
        quantity=(form.quantity.data or "").strip(), distribution_method=form.distribution_method.data,
        distribution=shares, reporting_code=form.reporting_code.data or "",
        vendor_reference=form.vendor_reference.data or "", note=form.note.data or "",
        expected_receipt_date=form.expected_receipt_date.data, renewal_date=form.renewal_date.data,
        renewal_period_months=(form.renewal_period_months.data or "12").strip(),
        manual_renewal=form.manual_renewal.data, **description)


def _attach(form: POLineForm, exc: DomainError) -> None:
    if exc.field == "distribution":
        form.distribution_errors.append(exc.message)
    elif exc.field == "record":
        form.bib_record.errors = list(form.bib_record.errors) + [exc.message]
    else:
        attach_error(form, exc)


def _line_form(pol: POLine | None):
    form = _choices(POLineForm(), pol)
    form.distribution_errors = []
    if pol is not None and request.method == "GET":
        _fill_from(form, pol)
    if request.method == "GET" and "vendor" in request.args:
        # The vendor select asks again when it changes (HTMX picks #currency-field and
        # #vendor-account-field out of the answer).
        form.vendor.data = request.args.get("vendor", "")
        form.currency.data = request.args.get("currency", form.currency.data)
        form.vendor_account.data = request.args.get("vendor_account", form.vendor_account.data)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            warnings = [f.description for f, _share in mark_funds(form).fund_rows() if f.description]
            with saving(form, attach=_attach) as saved:
                fields = _line_fields(form)
                if pol is None:
                    pol = orders.create_po_line(current_user, fields)
                    message, approved = (_("%(number)s created.", number=pol.number),
                                         _("%(number)s created and approved.", number=pol.number))
                else:
                    orders.update_po_line(current_user, pol, fields)
                    message, approved = (_("%(number)s saved.", number=pol.number),
                                         _("%(number)s saved and approved.", number=pol.number))
            if saved:
                number = pol.number
                if request.form.get("then") == "approve":
                    _approve_after_save(number, message, approved)
                else:
                    flash(message, "ok")
                for warning in warnings:   # a fund chosen on purpose outside the open period of today
                    flash(warning, "warning")
                return redirect_to(url_for("orders.show", number=number))
            if pol is not None:
                pol = _pol(pol.id)
        status = 422
    record = None
    if parse_id((form.bib_record.data or "").strip()):
        record = db.session.get(BibRecord, parse_id(form.bib_record.data.strip()))
    mark_funds(form)
    _accounts_of_chosen_vendor(form, keep_chosen=request.method == "POST")
    return render("orders/form.html", "orders/_form.html", status=status, form=form, pol=pol, record=record,
                  fund_rows=FUND_ROWS, vendor=_chosen_vendor(form))


def _accounts_of_chosen_vendor(form: POLineForm, keep_chosen: bool) -> None:
    """Offer only the chosen vendor's accounts. A posted account of another vendor stays listed (and
    chosen) next to the service's refusal; after a vendor change it is dropped."""
    vendor_id = parse_id(form.vendor.data or "")
    ids = set()
    if vendor_id:
        ids = {str(i) for i in db.session.scalars(select(VendorAccount.id).where(VendorAccount.vendor_id == vendor_id))}
    chosen_id = form.vendor_account.data or ""
    form.vendor_account.choices = [(value, label) for value, label in form.vendor_account.choices
                                   if value == "" or value in ids or (keep_chosen and value == chosen_id)]
    if chosen_id not in {value for value, _label in form.vendor_account.choices}:
        form.vendor_account.data = ""


def _chosen_vendor(form: POLineForm) -> Vendor | None:
    """The vendor picked on the form, whose currency the line takes when none is entered."""
    vendor_id = parse_id(form.vendor.data or "")
    return db.session.get(Vendor, vendor_id) if vendor_id else None


def _approve_after_save(number: str, message: str, approved_message: str) -> None:
    """The line is saved either way; a refused approval is reported and leaves it In Review."""
    writing_again()   # the save was committed: the approval is a second write
    with saving() as approved:
        orders.approve_po_line(current_user, _pol(number))
    if approved:
        flash(approved_message, "ok")
    else:
        flash(message, "ok")
        flash(_("Not approved: %(reason)s", reason=approved.message), "error")


@bp.route("/orders/lines/new", methods=["GET", "POST"])
@roles_required(*ORDER)
def new():
    if not orders.can_order(current_user, anywhere=True):
        abort(403)
    return _line_form(None)


@bp.route("/orders/lines/<number>/edit", methods=["GET", "POST"])
@roles_required(*ORDER)
def edit(number):
    pol = _pol_to_change(number)
    if not pol.may("edit"):
        return _refused(pol, "edit")
    return _line_form(pol)


def _refused(pol: POLine, action: str):
    """An action the line's status refuses. Asked for its form (GET): go to the line's page,
    which says why. Posted: nothing is done; the answer is a 422 with the reason."""
    try:
        orders.refuse_unless(action, pol)
    except DomainError as exc:
        if request.method == "POST":
            return _htmx_refusal(exc, pol) if htmx else _detail(pol, "summary", exc.status, problem=exc.message)
        flash(exc.message, "error")
    return redirect_to(url_for("orders.show", number=pol.number))


# -- record search for the form ----------------------------------------------------------------

@bp.get("/orders/records")
@roles_required(*ORDER)
def records():
    """Repository search of the line form: the results (#record-results), or with ``pick`` the
    record-ID field filled with that record (#bib-record-field)."""
    q = (request.args.get("q") or "").strip()[:200]
    picked = parse_id(request.args.get("pick") or "")
    record = inventory.get_record(picked) if picked else None
    if record is not None and htmx:
        return render("orders/_bib_field.html", value=str(record.id), record=record, errors=[])
    page = inventory.search_records(q, request.args.get("page", 1, type=int)) if q else None

    def page_url(n):
        return url_for("orders.records", q=q, page=n)

    return render("orders/records.html", "orders/_record_results.html", q=q, page=page, page_url=page_url,
                  record=record)


# -- one line ----------------------------------------------------------------------------------

def _line_forms(pol: POLine) -> dict:
    receive_form = ReceiveForm(formdata=None)
    _receive_choices(receive_form, pol)
    if pol.is_one_time:   # the copies ordered usually come together; issues come one by one
        receive_form.items.data = [c[0] for c in receive_form.items.choices]
    return dict(receive_form=receive_form, activate_form=ActivateForm(formdata=None),
                next_form=ReceiveForm(formdata=None, prefix="next"), pattern_form=_pattern_form(pol, formdata=None),
                next_issue=orders.next_predicted(pol))


def _item_label(item) -> str:
    words = [item.barcode or item.description, item.enumeration, f"({item.chronology})" if item.chronology else ""]
    text = " ".join(w for w in words if w)
    if item.is_predicted and item.expected_date:
        text = _("%(item)s, expected %(day)s", item=text, day=item.expected_date.isoformat())
    return text or _("Item %(id)s", id=item.id)


def _receive_choices(form: ReceiveForm, pol: POLine) -> None:
    form.items.choices = [(str(i.id), _item_label(i)) for i in pol.items if not i.is_received]


def _pattern_form(pol: POLine, formdata=None) -> PatternForm:
    """The pattern form, showing the line's pattern when it has one (``formdata=None``: ignore the request)."""
    p = pol.pattern
    if p is None:
        return PatternForm(formdata=formdata)
    return PatternForm(formdata=formdata, frequency=p.frequency, first_date=p.first_date, chronology=p.chronology,
                       first_volume=str(p.first_volume or ""), first_issue=str(p.first_issue),
                       issues_per_volume=str(p.issues_per_volume or ""), predict_ahead=str(p.predict_ahead))


def _package_choices(form: PackageForm, pol: POLine) -> None:
    pos = orders.open_pos_for(current_user, pol) if pol.status == "ready" else []
    form.po.choices = [("", _("A new purchase order"))] + [
        (str(po.id), ngettext("%(po)s (%(num)d line)", "%(po)s (%(num)d lines)", len(po.lines), po=po.number))
        for po in pos]


def _funds_rows(pol: POLine) -> list[dict]:
    outstanding = orders.outstanding_encumbrance(pol)
    return [dict(share=d, fund=d.fund, outstanding=outstanding.get(d.fund_id)) for d in pol.distribution]


def _detail_context(pol: POLine, tab: str = "summary", **ctx) -> dict:
    ctx = {**_line_forms(pol), **ctx}
    if tab == "funds":
        ctx["fund_rows"] = _funds_rows(pol)
    return dict(pol=pol, active_tab=tab, pol_layout=_layout(), **ctx)


def _detail(pol: POLine, tab: str = "summary", status: int = 200, **ctx):
    return render("orders/show.html", status=status, **_detail_context(pol, tab, **ctx))


@bp.get("/orders/lines/<number>")
@roles_required(*VIEW)
def show(number):
    pol = _pol(number)
    if pol.number != number:
        return redirect(url_for("orders.show", number=pol.number, **request.args))
    tab = request.args.get("tab") if request.args.get("tab") in TABS else "summary"
    return _detail(pol, tab)


def _act(number: str, change, tab: str = "summary"):
    """Run one action on a line and answer with the line (HTMX) or a redirect to it. A refusal
    changes nothing: HTMX gets the message in #problems (and the line as it is now), a plain form
    the page with the message."""
    pol = _pol_to_change(number)
    with saving() as saved:
        message = change(pol)
    if not saved:
        if htmx:
            return _htmx_refusal(saved.error, _pol(number), tab)
        return _detail(_pol(number), tab, saved.status, problem=saved.message)
    return _done(pol.id, tab, message)


def _to_line(pol: POLine, message: str):
    """After a committed change made on its own page (a form): the line's page, with the message."""
    flash(message, "ok")
    return redirect_to(url_for("orders.show", number=pol.number))


def _done(pol_id: int, tab: str, message: str):
    """After a committed change: the line again (HTMX) or a redirect to it, with the message."""
    pol = _pol(pol_id)
    if htmx:
        return _detail(pol, tab, message=message)
    flash(message, "ok")
    return redirect(url_for("orders.show", number=pol.number, tab=tab if tab != "summary" else None))


def _action_note() -> str:
    """The optional note typed in the action bar; the services keep it in the line's history."""
    form = ActionNoteForm()
    if not form.validate_on_submit():
        field, errors = next(iter(form.errors.items()))
        raise InvalidInput(errors[0], field)
    return (form.note.data or "").strip()


def _simple_action(name: str, service, message):
    def view(number):
        def change(pol):
            note = _action_note()
            service(current_user, pol, note=note)
            done = message(pol)
            return _("%(message)s The note is kept in its history.", message=done) if note else done
        return _act(number, change)
    view.__name__ = name
    bp.add_url_rule(f"/orders/lines/<number>/{name}", name, roles_required(*ORDER)(view), methods=["POST"])


_simple_action("approve", orders.approve_po_line,
               lambda pol: _("%(number)s approved: its funds are encumbered.", number=pol.number))
_simple_action("defer", orders.defer_po_line, lambda pol: _("%(number)s deferred.", number=pol.number))
_simple_action("resume", orders.resume_po_line, lambda pol: _("%(number)s is In Review again.", number=pol.number))
_simple_action("close", orders.close_po_line,
               lambda pol: _("%(number)s closed; what it still encumbered is released.", number=pol.number))
_simple_action("reopen", orders.reopen_po_line,
               lambda pol: _("%(number)s reopened: edit it and approve it again.", number=pol.number))
_simple_action("renew", orders.renew_po_line,
               lambda pol: _("%(number)s renewed until %(day)s.", number=pol.number, day=pol.renewal_date))


@bp.post("/orders/lines/<number>/send")
@roles_required(*ORDER)
def send(number):
    def change(pol):
        po = orders.send_po_line(current_user, pol)
        return _("%(number)s sent to %(vendor)s with %(po)s.", number=pol.number, vendor=po.vendor.code, po=po.number)
    return _act(number, change)


@bp.post("/orders/lines/<number>/package")
@roles_required(*ORDER)
def package(number):
    def change(pol):
        form = PackageForm()
        _package_choices(form, pol)
        if not form.validate_on_submit():
            raise InvalidInput(_("Choose an open purchase order of the line's vendor, or a new one."), "po")
        po = orders.get_po(current_user, form.po.data) if form.po.data else None
        po = orders.package_po_line(current_user, pol, po)
        return _("%(number)s packaged into %(po)s; send the order when it is complete.", number=pol.number,
                 po=po.number)
    return _act(number, change)


@bp.post("/orders/lines/<number>/receive")
@roles_required(*ORDER)
def receive(number):
    pol = _pol_to_change(number)
    form = ReceiveForm()
    _receive_choices(form, pol)
    if form.validate_on_submit():
        ticked = set(form.items.data or [])
        items = [i for i in pol.items if str(i.id) in ticked]
        with saving(form) as saved:
            if pol.is_one_time and not items:
                raise InvalidInput(_("Tick the items that arrived."), "items")
            received = orders.receive_po_line(current_user, pol, items, form.received_date.data,
                                              form.enumeration.data or "", form.chronology.data or "")
        if saved:
            return _done(pol.id, "inventory", _("%(count)s item(s) of %(number)s received on %(day)s.",
                                                count=len(received), number=pol.number,
                                                day=form.received_date.data.isoformat()))
        pol = _pol(pol.id)
        _receive_choices(form, pol)
    return _detail(pol, "inventory", 422, receive_form=form)


@bp.post("/orders/lines/<number>/receive-next")
@roles_required(*ORDER)
def receive_next(number):
    """Receive the next issue of a continuous order (its next predicted item, else a new one)."""
    pol = _pol_to_change(number)
    form = ReceiveForm(prefix="next")
    form.items.choices = []
    if form.validate_on_submit():
        with saving(form) as saved:
            item = orders.receive_next_issue(current_user, pol, form.received_date.data, form.enumeration.data or "",
                                             form.chronology.data or "")
            label = " ".join(w for w in (item.enumeration, f"({item.chronology})" if item.chronology else "") if w)
        if saved:
            return _done(pol.id, "inventory", _("Issue %(issue)s of %(number)s received on %(day)s.",
                                                issue=label or item.id, number=pol.number,
                                                day=form.received_date.data.isoformat()))
        pol = _pol(pol.id)
    return _detail(pol, "inventory", 422, next_form=form)


@bp.post("/orders/lines/<number>/pattern")
@roles_required(*ORDER)
def pattern(number):
    """Save a continuous order's publication pattern: its next issues are predicted again. A
    refused pattern comes back as the pattern card (#pattern-card) with its messages."""
    pol = _pol_to_change(number)
    form = _pattern_form(pol, formdata=request.form)
    if form.validate_on_submit():
        with saving(form) as saved:
            orders.save_pattern(current_user, pol, orders.PatternFields(
                frequency=form.frequency.data, first_date=form.first_date.data, first_volume=form.first_volume.data,
                first_issue=form.first_issue.data, issues_per_volume=form.issues_per_volume.data,
                chronology=form.chronology.data, predict_ahead=form.predict_ahead.data))
        if saved:
            resp = _done(pol.id, "inventory", _("Publication pattern of %(number)s saved; its next %(count)s issues "
                                                "are predicted.", number=pol.number,
                                                count=pol.pattern.predict_ahead))
            if htmx:
                resp.headers["HX-Retarget"], resp.headers["HX-Reswap"] = "#pol-page", "outerHTML"
            return resp
        pol = _pol(pol.id)
    if htmx:
        resp = make_response(render_template("orders/_pattern.html", pol=pol, pattern_form=form), 422)
        resp.vary.add("HX-Request")
        return resp
    return _detail(pol, "inventory", 422, pattern_form=form)


@bp.post("/orders/lines/<number>/activate")
@roles_required(*ORDER)
def activate(number):
    pol = _pol_to_change(number)
    form = ActivateForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            orders.activate_po_line(current_user, pol, form.activation_date.data)
        if saved:
            return _done(pol.id, "inventory", _("%(number)s activated on %(day)s.", number=pol.number,
                                                day=form.activation_date.data.isoformat()))
        pol = _pol(pol.id)
    return _detail(pol, "inventory", 422, activate_form=form)


# -- cancel ------------------------------------------------------------------------------------

@bp.route("/orders/lines/<number>/cancel", methods=["GET", "POST"])
@roles_required(*ORDER)
def cancel(number):
    """GET: what cancelling would delete and release, with the reason to give; POST: cancel."""
    pol = _pol_to_change(number)
    if not pol.may("cancel"):
        return _refused(pol, "cancel")
    form = CancelForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            with saving(form) as saved:
                done = orders.cancel_po_line(current_user, pol, form.reason.data)
            if saved:
                return _to_line(pol, _cancelled_message(pol.number, done))
            pol = _pol(pol.id)
        status = 422
    return render("orders/cancel.html", status=status, pol=pol, active_tab="cancel", form=form,
                  preview=orders.cancel_preview(pol), pol_layout=_layout())


def _cancelled_message(number: str, done) -> str:
    parts = [_("%(number)s cancelled.", number=number)]
    if done.items or done.holdings:
        parts.append(_("%(items)s item(s) and %(holdings)s holding(s) deleted.", items=len(done.items),
                       holdings=len(done.holdings)))
    if done.release:
        parts.append(_("Released: %(amounts)s.", amounts=", ".join(
            _("%(amount)s %(currency)s on %(fund)s", amount=format_plain(amount, fund.currency),
              currency=fund.currency, fund=fund.code) for fund, amount in done.release)))
    return " ".join(parts)


# -- vendor changes ----------------------------------------------------------------------------

VENDOR_ACTIONS = {
    "replace_vendor": (T("Replace the vendor"), T("Only the vendor of the line changes; nothing is sent to anyone.")),
    "change_vendor": (T("Order from another vendor"), T("The line moves into a new purchase order for the new vendor, "
                      "which is sent at once. Its old order is deleted when no line is left on it.")),
}


def _vendor_change(number: str, action: str):
    pol = _pol_to_change(number)
    if not pol.may(action):
        return _refused(pol, action)
    form = VendorChangeForm()
    vendors = db.session.scalars(select(Vendor).where(Vendor.status == "active", Vendor.id != pol.vendor_id)
                                 .order_by(Vendor.code)).all()
    form.vendor.choices = [("", _("Choose a vendor…"))] + [(str(v.id), f"{v.code} — {v.name} ({v.currency})")
                                                         for v in vendors]
    form.vendor_account.choices = [("", _("None"))] + [(str(a.id), f"{v.code} / {a.code}") for v in vendors
                                                     for a in v.accounts if a.status == "active"]
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            with saving(form) as saved:
                vendor = chosen(Vendor, form.vendor.data, "vendor", T("vendor"))
                account = chosen(VendorAccount, form.vendor_account.data, "vendor_account", T("vendor account"))
                old = pol.vendor.code
                if action == "replace_vendor":
                    orders.replace_vendor(current_user, pol, vendor, account)
                    message = _("%(number)s: vendor %(old)s replaced by %(new)s.", number=pol.number, old=old,
                                new=vendor.code)
                else:
                    po = orders.change_vendor(current_user, pol, vendor, account)
                    message = _("%(number)s now ordered from %(vendor)s with %(po)s, which was sent.",
                                number=pol.number, vendor=vendor.code, po=po.number)
            if saved:
                return _to_line(pol, message)
            pol = _pol(pol.id)
        status = 422
    title, explanation = VENDOR_ACTIONS[action]
    return render("orders/vendor_change.html", status=status, pol=pol, active_tab=action, form=form, action=action,
                  heading=title, explanation=explanation, pol_layout=_layout())


@bp.route("/orders/lines/<number>/replace-vendor", methods=["GET", "POST"])
@roles_required(*ORDER)
def replace_vendor(number):
    return _vendor_change(number, "replace_vendor")


@bp.route("/orders/lines/<number>/change-vendor", methods=["GET", "POST"])
@roles_required(*ORDER)
def change_vendor(number):
    return _vendor_change(number, "change_vendor")


# -- bibliographic reference -------------------------------------------------------------------

REFERENCE_ACTIONS = {
    "change_reference": (T("Change the bibliographic reference"),
                         T("The line's title, author and identifiers are taken from the record you pick. The line "
                           "and its inventory stay linked to the record they have now.")),
    "relink": (T("Relink to another record"),
               T("The line, its holdings and their items move to the record you pick; the line's description "
                 "follows the record.")),
}


def _reference_change(number: str, action: str):
    pol = _pol_to_change(number)
    if not pol.may(action):
        return _refused(pol, action)
    status, problem = 200, None
    if request.method == "POST":
        with saving() as saved:
            record_id = parse_id((request.form.get("record_id") or "").strip())
            if not record_id:
                raise InvalidInput(_("Pick a record from the search results."), "record")
            record = inventory.get_record(record_id)
            if action == "relink":
                orders.relink_po_line(current_user, pol, record)
                message = _("%(number)s relinked to “%(title)s”.", number=pol.number, title=record.title)
            else:
                orders.change_reference(current_user, pol, record)
                message = _("%(number)s now describes “%(title)s”.", number=pol.number, title=record.title)
        if saved:
            return _to_line(pol, message)
        pol = _pol(pol.id)
        status, problem = saved.status, saved.message
    q = (request.values.get("q") or "").strip()[:200]
    page = inventory.search_records(q or pol.title, request.args.get("page", 1, type=int))

    def page_url(n):
        return url_for(f"orders.{action}", number=pol.number, q=q or None, page=n)

    title, explanation = REFERENCE_ACTIONS[action]
    return render("orders/reference.html", status=status, pol=pol, active_tab=action, action=action, q=q,
                  page=page, page_url=page_url, heading=title, explanation=explanation, problem=problem,
                  pol_layout=_layout())


@bp.route("/orders/lines/<number>/change-reference", methods=["GET", "POST"])
@roles_required(*ORDER)
def change_reference(number):
    return _reference_change(number, "change_reference")


@bp.route("/orders/lines/<number>/relink", methods=["GET", "POST"])
@roles_required(*ORDER)
def relink(number):
    return _reference_change(number, "relink")


# -- purchase orders ---------------------------------------------------------------------------

def _po_sums_sql(*columns):
    """A scalar subquery over the lines of the list's purchase order."""
    return select(*columns).where(POLine.po_id == PurchaseOrder.id).correlate(PurchaseOrder).scalar_subquery()


def _single(value):
    """``value`` when a PO's lines are all in one currency, else NULL (their sum means nothing)."""
    return case((func.count(distinct(POLine.currency)) == 1, value))


def _po_sums(po_ids: list) -> dict:
    """``{po id: (lines, net total or None, currency or "")}`` for a page of purchase orders, in one query."""
    if not po_ids:
        return {}
    rows = db.session.execute(
        select(POLine.po_id, func.count(POLine.id), _single(func.sum(POLine.net_price)),
               _single(func.min(POLine.currency))).where(POLine.po_id.in_(po_ids)).group_by(POLine.po_id))
    return {po_id: (n, total, currency or "") for po_id, n, total, currency in rows}


def _usernames(user_ids: set) -> dict:
    return dict(db.session.execute(select(User.id, User.username).where(User.id.in_(user_ids))).all()) if user_ids else {}


PO_COLUMNS = Columns([
    Column("number", T("Number"), fixed=True),
    Column("vendor", T("Vendor"), sql=related(Vendor, PurchaseOrder.vendor_id), cell=lambda po: po.vendor.code),
    Column("vendor_name", T("Vendor name"), sql=related(Vendor, PurchaseOrder.vendor_id, "name"),
           cell=lambda po: po.vendor.name, shown=False),
    Column("owner", T("Owner"), sql=related(Library, PurchaseOrder.owner_library_id),
           value=lambda r: r.owner or INSTITUTION,
           cell=lambda po: po.owner_library.code if po.owner_library else INSTITUTION),
    Column("status", T("Status"), value=lambda r: PurchaseOrder.STATUSES.get(r.status, r.status)),
    Column("packaging", T("Packaging"), value=lambda r: PACKAGING_LABELS.get(r.packaging, r.packaging),
           cell=lambda po: PACKAGING_LABELS.get(po.packaging, po.packaging)),
    Column("lines", T("Lines"), "number", sql=_po_sums_sql(func.count(POLine.id))),
    Column("currency", T("Currency"), sql=_po_sums_sql(_single(func.min(POLine.currency))), shown=False),
    Column("total", T("Net total"), "money", currency="currency",
           sql=type_coerce(_po_sums_sql(_single(func.sum(POLine.net_price))), Money()), shown=False),
    Column("created_at", T("Created"), "datetime"),
    Column("sent_at", T("Sent"), "datetime"),
    Column("closed_at", T("Closed"), "datetime", shown=False),
    Column("created_by", T("Created by"), sql=related(User, PurchaseOrder.created_by_id, "username"), shown=False),
    Column("sent_by", T("Sent by"), sql=related(User, PurchaseOrder.sent_by_id, "username"), shown=False),
    Column("note", T("Note"), shown=False),
])
PO_TABLE = list_columns.register("purchase_orders", T("Purchase orders"), PO_COLUMNS)


def _po_status(args) -> str:
    return args.get("status") if args.get("status") in PurchaseOrder.STATUSES else ""


def _pos_query(status: str):
    """The purchase orders the user may see, of ``status`` (any when empty), newest first."""
    return orders.pos_query(current_user, status)


@bp.get("/orders/pos/")
@roles_required(*VIEW)
def pos():
    status = _po_status(request.args)
    page = db.paginate(_pos_query(status), page=request.args.get("page", 1, type=int),
                       per_page=PER_PAGE, error_out=False)

    list_url, export_url = list_links("orders.pos", "orders.export_pos", {"status": status})

    ready = db.session.scalar(select(db.func.count()).select_from(POLine).where(
        POLine.status == "ready", POLine.packaging == "auto", POLine.po_id.is_(None),
        orders.visible_po_lines_clause(current_user)))
    return render("orders/pos.html", "orders/_po_table.html", page=page, status_filter=status, list_url=list_url,
                  export_url=export_url, statuses=PurchaseOrder.STATUSES, ready_count=ready,
                  table=PO_TABLE, columns=list_columns.shown(current_user, PO_TABLE),
                  column_choices=list_columns.choices(current_user, PO_TABLE), f={"sort": ""},
                  sums=_po_sums([po.id for po in page.items]),
                  usernames=_usernames({i for po in page.items for i in (po.created_by_id, po.sent_by_id) if i}),
                  can_order_any=orders.can_order(current_user, anywhere=True))


@bp.get("/orders/pos/export.csv", defaults={"fmt": "csv"})
@bp.get("/orders/pos/export.xlsx", defaults={"fmt": "xlsx"})
@roles_required(*VIEW)
def export_pos(fmt):
    """Every purchase order of the list's filter the user may see, in the columns they show, as a file."""
    columns = list_columns.exported(current_user, PO_TABLE)
    return export_response(rows_of(_pos_query(_po_status(request.args)), columns), columns, fmt,
                           "purchase-orders", sheet=T("Purchase orders"))


@bp.get("/orders/by-vendor/<int:vendor_id>")
@roles_required(*VIEW)
def vendor_orders(vendor_id):
    """The Orders tab of a vendor's page (which loads this fragment): the vendor's purchase orders
    and PO lines the user may see, the latest ``VENDOR_TAB_LIMIT`` of each."""
    vendor = get_vendor(vendor_id)
    pos = db.session.scalars(select(PurchaseOrder).where(
        PurchaseOrder.vendor_id == vendor.id, orders.visible_pos_clause(current_user))
        .order_by(PurchaseOrder.id.desc()).limit(VENDOR_TAB_LIMIT)).all()
    lines = db.session.scalars(orders.po_lines_query(current_user, orders.LineFilter(vendor_id=vendor.id))
                               .limit(VENDOR_TAB_LIMIT)).all()
    return render_template("orders/_vendor_orders.html", vendor=vendor, vendor_pos=pos, vendor_lines=lines,
                           orders_limit=VENDOR_TAB_LIMIT)


PREVIEW_LINES = 100   # lines listed one by one on the packaging preview (all are counted and summed)


def _package_preview(status: int = 200, problem: str | None = None):
    """The orders "Package and send" would make: one per vendor and owner, with its lines and totals."""
    preview = orders.package_preview(current_user)
    lines = db.session.scalars(orders.ready_query(current_user).limit(PREVIEW_LINES)).all()
    return render("orders/package.html", status=status, groups=preview.groups, totals=preview.totals,
                  lines=lines, line_count=preview.line_count, fingerprint=orders.ready_fingerprint(current_user),
                  problem=problem, in_background=not package_run.in_request(preview.line_count), limit=PREVIEW_LINES)


@bp.get("/orders/pos/package")
@roles_required(*ORDER)
def package_preview():
    """What "Package and send ready lines" would send (lines, vendors, totals per currency), to confirm."""
    if not orders.can_order(current_user, anywhere=True):
        abort(403)
    return _package_preview()


@bp.post("/orders/pos/package")
@roles_required(*ORDER)
def package_ready():
    """Package and send the ready lines the preview showed (``ready`` names that set): when they
    changed since, nothing is sent and the preview shows them again."""
    if not orders.can_order(current_user, anywhere=True):
        abort(403)
    if request.form.get("ready") != orders.ready_fingerprint(current_user):
        return _package_preview(409, _("The ready lines changed since you looked (or you did not confirm): check "
                                       "them again, then confirm."))
    waiting = orders.ready_for_packaging_count(current_user)
    if not package_run.in_request(waiting):
        run_id, started = package_run.launch(current_user)
        flash(_("Packaging %(count)s ready lines in the background: the orders appear in this list as they are "
                "sent (run #%(run)s), and their letters follow.", count=format_decimal(waiting), run=run_id)
              if started else
              _("Ready lines are being packaged already (run #%(run)s): the orders appear in this list as they "
                "are sent.", run=run_id), "ok")
        return redirect_to(url_for("orders.pos"))
    with saving() as saved:
        sent = orders.package_ready_lines(current_user)
    if not saved:
        if htmx:
            raise saved.error
        flash(saved.message, "error")
        return redirect(url_for("orders.pos"))
    if sent:
        flash(_("%(count)s purchase order(s) packaged and sent: %(numbers)s.", count=len(sent),
                numbers=", ".join(po.number for po in sent)), "ok")
    else:
        flash(_("No ready lines wait for automatic packaging."), "ok")
    return redirect_to(url_for("orders.pos"))


@bp.get("/orders/pos/<po_number>")
@roles_required(*VIEW)
def show_po(po_number):
    return _po_page(orders.get_po(current_user, po_number))


def _po_page(po: PurchaseOrder, status: int = 200, problem: str | None = None):
    may_invoice = "create" in invoice_actions(current_user, Invoice(owner_library_id=po.owner_library_id))
    return render("orders/po.html", status=status, po=po, can_act=orders.can_order(current_user, po.owner_library_id),
                  can_invoice=may_invoice, packaging=PACKAGING, problem=problem)


@bp.post("/orders/pos/<po_number>/send")
@roles_required(*ORDER)
def send_po(po_number):
    po = orders.get_po(current_user, po_number)
    if not orders.can_order(current_user, po.owner_library_id):
        abort(403)
    with saving() as saved:
        orders.send_po(current_user, po)
    if not saved:
        if htmx:
            raise saved.error
        return _po_page(orders.get_po(current_user, po_number), saved.status, problem=saved.message)
    flash(_("%(po)s sent to %(vendor)s.", po=po.number, vendor=po.vendor.code), "ok")
    return redirect_to(url_for("orders.show_po", po_number=po.number))

