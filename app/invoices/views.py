"""Invoice pages: list, task lists, invoice detail with tabs, workflow actions, global search.

HTMX fragments are the same URLs asked with HX-Request: the list table (#invoice-table), a task
list (#invoice-tasks), an invoice page without the layout (#invoice-page, also what every action
on an invoice answers with). Viewing is for every role within its library scope (out-of-scope ids
are 404); each action needs the role its service asks for, and the service checks the scope.
A refused action changes nothing and comes back as the same fragment with the reason.
"""
from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from .. import clock, list_columns
from ..auth.permissions import ALL_ROLES, has_any_role, library_scope, roles_required
from ..errors import DomainError, InvalidInput, RuleViolation
from ..exports import Column, Columns, export_response, related, rows_of
from ..extensions import db
from ..forms_util import chosen
from ..funds.models import Fund, FundTransaction
from ..funds.scope import visible_funds_clause
from ..htmx import is_htmx, redirect_to, render
from ..ledger.money import format_plain
from ..listing import Page, list_links
from ..orders import services as orders
from ..orders.models import PurchaseOrder
from ..org.models import Library
from ..saving import saving
from ..text import T
from ..vendors.models import Vendor
from ..vendors.services import get_vendor
from . import history
from . import services as invoices
from .charges import charges_of, postings_of
from .line_views import line_type_name
from .models import CHANNELS, PAYMENT_METHODS, STATUSES, Invoice

bp = Blueprint("invoices", __name__)


@bp.app_template_global()
def vat_confirmation_label(value: str) -> str:
    """What a stored VAT confirmation means, in words."""
    return invoices.CONFIRMATION_LABELS.get(value, value.replace("_", " "))


@bp.app_template_global()
def invoice_alert(invoice: Invoice):
    """The invoice's alert (stored in English) in the reader's language; the reason as typed."""
    return invoices.alert_text(invoice.alert)


POSTING_KINDS = {"allocation": T("allocation"), "transfer": T("transfer"), "encumbrance": T("encumbrance"),
                 "disencumbrance": T("disencumbrance"), "expenditure": T("expenditure")}
POSTING_KINDS_CAPITAL = {"allocation": T("Allocation"), "transfer": T("Transfer"), "encumbrance": T("Encumbrance"),
                         "disencumbrance": T("Disencumbrance"), "expenditure": T("Expenditure")}
VENDOR_STATUSES = {"active": T("active"), "inactive": T("inactive")}


@bp.app_template_global()
def invoice_posting_kind(kind: str, capital: bool = False):
    """A fund transaction's kind in words (the invoice's Funds tab, the search page)."""
    found = (POSTING_KINDS_CAPITAL if capital else POSTING_KINDS).get(kind)
    return found if found is not None else (kind.capitalize() if capital else kind)


@bp.app_template_global()
def vendor_status_label(status: str):
    return VENDOR_STATUSES.get(status, status)


@bp.app_template_global()
def lower_label(label) -> str:
    """A label in lower case, in the reader's language (``|lower`` would lower the English)."""
    return str(label).lower()


@bp.app_template_global()
def line_type_label(line_type: str):
    """An invoice line's type in words: regular, the VAT adjustment, or its charge type's name."""
    return line_type_name(line_type, invoices.charge_types())


@bp.app_template_global()
def invoice_text(value: str):
    """A note the workflow wrote (in English) on a fund transaction, a line or a VAT invoice, in the
    reader's language; what a person typed stays as it is."""
    return history.shown_word(value)


@bp.app_template_global()
def history_shown(event) -> dict:
    """A history row's action, field, values and note as the history tab shows them: the words the
    workflow stored (in English) translated, what a person typed as it is."""
    note = history.shown_word(event.note)
    if event.action == "review" and event.field == "problems" and note == event.note and event.note:
        # the review's findings, one sentence each (app.invoices.rules writes them in English)
        note = " ".join(str(invoices.finding_text(sentence)) for sentence in _SENTENCE_END.split(event.note))
    return {"action": history.shown_action(event.action), "field": history.shown_field(event.field),
            "old": history.shown_word(event.old_value), "new": history.shown_word(event.new_value), "note": note}


_SENTENCE_END = re.compile(r"(?<=\.) (?=[A-Z])")


@bp.app_template_global()
def review_problems_of(invoice: Invoice) -> list:
    """The invoice's review problems as the current user may read them (a possible duplicate in a
    library they may not see is not named)."""
    return invoices.review_problems_for(current_user, invoice)
VIEW = ALL_ROLES
OPERATE = invoices.OPERATORS
APPROVE = invoices.APPROVERS
DELETE = invoices.DELETERS
PER_PAGE = 25
VENDOR_TAB_LIMIT = 50
FIND_LIMIT = 10
TABS = ("summary", "lines", "funds", "history")
BARE = "orders/_bare.html"
TASKS = invoices.TASKS   # task list -> (status it lists, heading)
SORTS, DEFAULT_SORT = invoices.INVOICE_SORTS, invoices.DEFAULT_INVOICE_SORT


# -- who may do what ---------------------------------------------------------------------------

@bp.app_template_global()
def late_approval(invoice: Invoice) -> dict | None:
    """When approving ``invoice`` would expend on a closed fiscal period: the periods' codes and
    whether the user may do it (an administrator, giving a reason); None otherwise."""
    periods = invoices.late_periods(invoice)
    if not periods:
        return None
    return {"codes": ", ".join(fp.code for fp in periods), "allowed": invoices.may_approve_late(current_user, invoice)}


@bp.app_template_global()
def invoice_actions(invoice: Invoice) -> frozenset[str]:
    """The actions the invoice page offers the user (:func:`app.invoices.services.invoice_actions`)."""
    return invoices.invoice_actions(current_user, invoice)


def _owner_choices() -> list[tuple[str, str]]:
    """Owners the user may give an invoice: the institution and every library, or their own libraries."""
    scope = library_scope(current_user, OPERATE)
    query = select(Library).order_by(Library.code)
    if scope is not None:
        query = query.where(Library.id.in_(scope or [-1]))
    choices = [("", _("Institution"))] if scope is None else []
    return choices + [(str(lib.id), f"{lib.code} — {lib.name}") for lib in db.session.scalars(query)]


# -- paging ------------------------------------------------------------------------------------

def _page(conditions: list, order_by, page: int, *, join_vendor: bool = False, per_page: int = PER_PAGE) -> Page:
    """Count the matches once, pick the page's ids with a narrow sorted query, then load those
    invoices (sorting whole rows with their joined vendor and library is what makes a big list slow)."""
    total = db.session.scalar(select(func.count(Invoice.id)).where(*conditions))
    page = min(max(page, 1), max(1, -(-total // per_page)))
    if not total:
        return Page([], total, page, per_page)
    ids_query = select(Invoice.id).where(*conditions)
    if join_vendor:
        ids_query = ids_query.join(Vendor, Vendor.id == Invoice.vendor_id)
    ids = db.session.scalars(ids_query.order_by(*order_by).limit(per_page).offset((page - 1) * per_page)).all()
    rows = {inv.id: inv for inv in db.session.scalars(select(Invoice).where(Invoice.id.in_(ids)))}
    return Page([rows[i] for i in ids], total, page, per_page)


# -- the invoice list --------------------------------------------------------------------------

InvoiceFilter = invoices.InvoiceFilter
invoice_conditions = invoices.invoice_conditions


def _days(value) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) <= 4 else None


def _filter_from(args) -> InvoiceFilter:
    sort = args.get("sort") or ""
    return InvoiceFilter.from_args(args, STATUSES,
                                   channel=args.get("channel") if args.get("channel") in CHANNELS else "",
                                   sort=sort if sort in SORTS else DEFAULT_SORT,
                                   approvable=args.get("approvable") == "1", erp_rejected=args.get("erp_rejected") == "1",
                                   waiting_days=_days(args.get("waiting_days")))


def _filter_params(f: InvoiceFilter) -> dict:
    """The query string of the list of ``f`` (the default sort left out)."""
    return {"q": f.q, "status": f.status, "vendor": f.vendor_id, "fund": f.fund_id, "library": f.library_id,
            "channel": f.channel, "sort": f.sort if f.sort != DEFAULT_SORT else "", **f.narrowing_params}


def _visible_libraries() -> list[Library]:
    scope = library_scope(current_user)
    query = select(Library).order_by(Library.code)
    if scope is not None:
        query = query.where(Library.id.in_(scope or [-1]))
    return db.session.scalars(query).all()


def _task_counts() -> dict[str, int]:
    rows = db.session.execute(select(Invoice.status, func.count(Invoice.id))
                              .where(Invoice.status.in_([s for s, _heading in TASKS.values()]),
                                     invoices.visible_invoices_clause(current_user)).group_by(Invoice.status)).all()
    counts = dict(rows)
    return {kind: counts.get(status, 0) for kind, (status, _heading) in TASKS.items()}


@bp.get("/invoices/by-vendor/<int:vendor_id>")
@roles_required(*VIEW)
def vendor_invoices(vendor_id):
    """The Invoices tab of a vendor's page (which loads this fragment): the vendor's invoices the user
    may see, the latest ``VENDOR_TAB_LIMIT``."""
    vendor = get_vendor(vendor_id)
    rows = db.session.scalars(select(Invoice).where(Invoice.vendor_id == vendor.id,
                                                    invoices.visible_invoices_clause(current_user))
                              .order_by(Invoice.invoice_date.desc(), Invoice.id.desc()).limit(VENDOR_TAB_LIMIT)).all()
    return render_template("invoices/_vendor_invoices.html", vendor=vendor, vendor_invoices=rows,
                           invoices_limit=VENDOR_TAB_LIMIT)


@bp.get("/invoices/")
@roles_required(*VIEW)
def index():
    f = _filter_from(request.args)
    page = _page(invoice_conditions(current_user, f), SORTS[f.sort], request.args.get("page", 1, type=int),
                 join_vendor=f.sort.lstrip("-") == "vendor")

    list_url, export_url = list_links("invoices.index", "invoices.export", _filter_params(f))

    columns = dict(table=INVOICE_TABLE, columns=list_columns.shown(current_user, INVOICE_TABLE))
    if is_htmx():
        return render("invoices/index.html", "invoices/_table.html", page=page, f=f, list_url=list_url,
                      export_url=export_url, channels=CHANNELS, **columns)
    funds = db.session.scalars(select(Fund).where(visible_funds_clause(current_user), Fund.kind == "allocated")
                               .order_by(Fund.code, Fund.id)).all()
    return render("invoices/index.html", page=page, f=f, list_url=list_url, export_url=export_url, statuses=STATUSES,
                  channels=CHANNELS,
                  vendors=db.session.scalars(select(Vendor).order_by(Vendor.code)).all(), funds=funds,
                  libraries=_visible_libraries(), tasks=TASKS,
                  task_counts=_task_counts() if has_any_role(current_user, OPERATE) else None,
                  can_create=has_any_role(current_user, OPERATE),
                  column_choices=list_columns.choices(current_user, INVOICE_TABLE), **columns)


INSTITUTION = T("Institution")
INVOICE_COLUMNS = Columns([
    Column("number", T("Invoice"), sort="number", fixed=True),
    Column("reference_number", T("Reference"), shown=False),
    Column("invoice_date", T("Invoice date"), "date", sort="date"),
    Column("vendor", T("Vendor"), sql=related(Vendor, Invoice.vendor_id), sort="vendor", cell=lambda i: i.vendor.code),
    Column("vendor_name", T("Vendor name"), sql=related(Vendor, Invoice.vendor_id, "name"),
           cell=lambda i: i.vendor.name),
    Column("status", T("Status"), value=lambda r: STATUSES.get(r.status, r.status), sort="status"),
    Column("currency", T("Currency"), shown=False),
    Column("total_amount", T("Total"), "money", currency="currency", sort="total"),
    Column("owner", T("Owner"), sql=related(Library, Invoice.owner_library_id), value=lambda r: r.owner or INSTITUTION,
           cell=lambda i: i.owner_library.code if i.owner_library else INSTITUTION),
    Column("channel", T("Channel"), value=lambda r: CHANNELS.get(r.channel, r.channel),
           cell=lambda i: CHANNELS.get(i.channel, i.channel)),
    Column("due_date", T("Due"), "date"),
    Column("payment_date", T("Paid on"), "date", shown=False),
    Column("voucher_number", T("Voucher"), shown=False),
    Column("created_at", T("Created (UTC)"), "datetime", shown=False),
])
INVOICE_TABLE = list_columns.register("invoices", T("Invoices"), INVOICE_COLUMNS)


@bp.get("/invoices/export.csv", defaults={"fmt": "csv"})
@bp.get("/invoices/export.xlsx", defaults={"fmt": "xlsx"})
@roles_required(*VIEW)
def export(fmt):
    """Every invoice of the list's filter and sort the user may see, in the columns they show, as a file."""
    f = _filter_from(request.args)
    query = select(Invoice).where(*invoice_conditions(current_user, f))
    if f.sort.lstrip("-") == "vendor":
        query = query.join(Vendor, Vendor.id == Invoice.vendor_id)
    columns = list_columns.exported(current_user, INVOICE_TABLE)
    return export_response(rows_of(query.order_by(*SORTS[f.sort]), columns), columns, fmt, "invoices",
                           sheet=_("Invoices"))


# -- task lists --------------------------------------------------------------------------------

def _tasks(kind: str, status: int = 200, **ctx):
    invoice_status, heading = TASKS[kind]
    page = _page([invoices.visible_invoices_clause(current_user), Invoice.status == invoice_status],
                 (Invoice.invoice_date, Invoice.id), request.args.get("page", 1, type=int))

    def page_url(n):
        return url_for("invoices.tasks", kind=kind, page=n if n > 1 else None)

    return render("invoices/tasks.html", "invoices/_tasks.html", status=status, kind=kind, heading=heading,
                  page=page, page_url=page_url, tasks=TASKS, task_counts=_task_counts(), today=clock.today(),
                  plain_amount=format_plain, **ctx)


@bp.get("/invoices/tasks/<kind>")
@roles_required(*OPERATE)
def tasks(kind):
    if kind not in TASKS:
        return render("error.html", status=404, code=404,
                      message=_("No such task list: the task lists are %(lists)s.", lists=", ".join(TASKS)))
    return _tasks(kind)


# -- one invoice -------------------------------------------------------------------------------

def _invoice(invoice_id) -> Invoice:
    return invoices.get_invoice(current_user, invoice_id)


def _funds_context(invoice: Invoice) -> dict:
    """The funds tab: what approval charges (or charged) each fund, and the postings made."""
    try:
        charges, charges_problem = charges_of(invoice), None
    except DomainError as exc:
        charges, charges_problem = [], exc.message
    return dict(charges=charges, charges_problem=charges_problem, postings=postings_of(invoice))


def _detail(invoice: Invoice, tab: str = "summary", status: int = 200, **ctx):
    if tab == "funds":
        ctx.update(_funds_context(invoice))
    return render("invoices/show.html", status=status, invoice=invoice, active_tab=tab,
                  invoice_layout=BARE if is_htmx() else "base.html", owner_choices=_owner_choices(),
                  payment_methods=PAYMENT_METHODS, channels=CHANNELS, charge_names=invoices.charge_types(),
                  plain_amount=format_plain, today=clock.today(), **ctx)


@bp.get("/invoices/<int:invoice_id>")
@roles_required(*VIEW)
def show(invoice_id):
    tab = request.args.get("tab") if request.args.get("tab") in TABS else "summary"
    return _detail(_invoice(invoice_id), tab)


def _act(invoice_id: int, change, once: bool = False):
    """Run one action on an invoice: ``change(invoice)`` calls one service and returns the message.

    The answer is the invoice page (or the task list named by the form's ``back``), the fragment
    for HTMX; without JavaScript a redirect with the message flashed. A refusal rolls back and
    answers with the same page and the reason, with the refusal's status. A money action
    (``once``) spends the form's one-time token with the change: a second post of that form is
    answered "already done" (409) and changes nothing."""
    back = request.form.get("back") if request.form.get("back") in TASKS else None
    tab = request.form.get("tab") if request.form.get("tab") in TABS else "summary"
    invoice = _invoice(invoice_id)
    with saving(once=once) as saved:   # "already done" goes to the problem area (HTMX) or the error page
        message = change(invoice)
    if not saved:
        if back:
            return _tasks(back, saved.status, problem=saved.message)
        return _detail(_invoice(invoice_id), tab, saved.status, problem=saved.message)
    if back:
        if is_htmx():
            return _tasks(back, message=message)
        flash(message, "ok")
        return redirect(url_for("invoices.tasks", kind=back))
    if is_htmx():
        return _detail(_invoice(invoice_id), tab, message=message)
    flash(message, "ok")
    return redirect(url_for("invoices.show", invoice_id=invoice_id, tab=tab if tab != "summary" else None))


def _reason() -> str:
    return (request.form.get("reason") or "").strip()[:1000]


@bp.post("/invoices/<int:invoice_id>/process")
@roles_required(*OPERATE)
def process(invoice_id):
    """Save and continue. Failing review rules is an outcome, not a refusal: the findings are
    kept (they are what the reviewer fixes) and the invoice stays In Review."""
    def change(invoice):
        invoices.process_invoice(current_user, invoice)
        if invoice.status == "in_review":
            return _("Invoice %(number)s stays In Review: %(n)s problem(s) to fix (listed on the page).",
                     number=invoice.number, n=len(invoice.review_problems))
        if invoice.status == "in_approval":
            return _("Invoice %(number)s passed the review rules; it waits for approval.", number=invoice.number)
        return _("Invoice %(number)s passed the review rules and was approved automatically: it is %(status)s.",
                 number=invoice.number, status=invoice.status_label)
    return _act(invoice_id, change, once=True)


def _reason_action(name: str, path: str, roles, service, message, once: bool = False) -> None:
    """Register an action whose only input is the typed reason: ``service(actor, invoice, reason)``,
    then ``message(invoice)`` on the page."""
    def view(invoice_id):
        def change(invoice):
            service(current_user, invoice, _reason())
            return message(invoice)
        return _act(invoice_id, change, once=once)
    view.__name__ = name
    bp.add_url_rule(f"/invoices/<int:invoice_id>/{path}", name, roles_required(*roles)(view), methods=["POST"])


@bp.post("/invoices/<int:invoice_id>/approve")
@roles_required(*APPROVE)
def approve(invoice_id):
    """Approve; a late invoice (expending on a closed fiscal period) also needs the
    administrator's reason (``late_reason``, asked only then)."""
    def change(invoice):
        invoices.approve_invoice(current_user, invoice, _reason(),
                                 (request.form.get("late_reason") or "").strip()[:1000])
        return _("Invoice %(number)s approved: its funds are expended (%(status)s).", number=invoice.number,
                 status=invoice.status_label)
    return _act(invoice_id, change, once=True)
_reason_action("reject", "reject", APPROVE, invoices.reject_invoice,
               lambda invoice: _("Invoice %(number)s rejected: it is In Review again.", number=invoice.number))
_reason_action("send_back", "send-back", OPERATE, invoices.send_back_to_review,
               lambda invoice: _("Invoice %(number)s is In Review again; what it expended was given back to its funds.",
                                 number=invoice.number), once=True)


def _parse_date(value: str, field: str, what) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(T("The %(what)s is a date (YYYY-MM-DD), not “%(value)s”.", what=what, value=value[:20]),
                           field) from None


@bp.post("/invoices/<int:invoice_id>/payment")
@roles_required(*OPERATE)
def pay(invoice_id):
    def change(invoice):
        paid_on = _parse_date(request.form.get("payment_date"), "payment_date", T("payment date"))
        amount = (request.form.get("amount") or "").strip()
        if not amount:
            raise InvalidInput(T("Enter the amount paid."), "amount")
        invoices.record_payment(current_user, invoice, request.form.get("voucher_number") or "", paid_on, amount)
        return _("Payment of invoice %(number)s recorded (voucher %(voucher)s): it is %(status)s.",
                 number=invoice.number, voucher=invoice.voucher_number, status=invoice.status_label)
    return _act(invoice_id, change, once=True)


@bp.post("/invoices/<int:invoice_id>/owner")
@roles_required(*OPERATE)
def change_owner(invoice_id):
    def change(invoice):
        owner = chosen(Library, request.form.get("owner") or "", "owner", "library")
        invoices.change_owner(current_user, invoice, owner)
        if owner is None:
            return _("Invoice %(number)s now belongs to the institution.", number=invoice.number)
        return _("Invoice %(number)s now belongs to %(owner)s.", number=invoice.number, owner=owner.code)
    return _act(invoice_id, change)


@bp.post("/invoices/<int:invoice_id>/lines/<int:line_position>/notes")
@roles_required(*OPERATE)
def edit_line_notes(invoice_id, line_position):
    """The price note, reporting code and note of a line of an approved, exported or closed invoice."""
    def change(invoice):
        invoices.edit_line_notes(current_user, invoice, line_position,
                                 {name: request.form.get(name, "") for name in invoices.LINE_NOTE_FIELDS})
        return _("Line %(n)s of invoice %(number)s saved (its history keeps the change).", n=line_position,
                 number=invoice.number)
    return _act(invoice_id, change)


@bp.post("/invoices/<int:invoice_id>/delete")
@roles_required(*DELETE)
def delete(invoice_id):
    """Delete an invoice (the confirmation box ticked): it goes, its history keeps a record."""
    invoice = _invoice(invoice_id)
    number, vendor = invoice.number, invoice.vendor.code
    with saving() as saved:
        if request.form.get("confirm") != "yes":
            raise RuleViolation(T("Tick the box to confirm the deletion."), "confirm")
        invoices.delete_invoice(current_user, invoice, _reason())
    if not saved:
        return _detail(_invoice(invoice_id), "summary", saved.status, problem=saved.message)
    flash(_("Invoice %(number)s of %(vendor)s deleted; its history keeps a record.", number=number, vendor=vendor),
          "ok")
    return redirect_to(url_for("invoices.index"))


# -- search on every page ----------------------------------------------------------------------

@bp.get("/find")
@roles_required(*VIEW)
def find():
    """Invoices, PO lines, purchase orders, vendors, funds and fund transactions (by reference)
    matching ``q``: the first ten of each, counted, with a link to the full list where there is one."""
    from ..funds import services as funds

    q = (request.args.get("q") or "").strip()[:200]
    sections = {}
    if q:
        f = InvoiceFilter(q=q)
        invoice_page = _page(invoice_conditions(current_user, f), SORTS[DEFAULT_SORT], 1, per_page=FIND_LIMIT)
        sections["invoices"] = (invoice_page.items, invoice_page.total)
        pol_query = orders.po_lines_query(current_user, orders.LineFilter(q=q))
        sections["po_lines"] = (db.session.scalars(pol_query.limit(FIND_LIMIT)).all(), _count(pol_query))
        like = f"%{q}%"
        vendor_query = select(Vendor).where(or_(Vendor.code.ilike(like), Vendor.name.ilike(like))) \
            .order_by(Vendor.code)
        sections["vendors"] = (db.session.scalars(vendor_query.limit(FIND_LIMIT)).all(), _count(vendor_query))
        fund_query = funds.visible_funds(current_user).where(
            Fund.code.ilike(like) | Fund.name.ilike(like) | Fund.external_id.ilike(like)) \
            .order_by(Fund.fiscal_period_id.desc(), Fund.code)
        sections["funds"] = (db.session.scalars(fund_query.limit(FIND_LIMIT)).all(), _count(fund_query))
        po_query = select(PurchaseOrder).where(orders.visible_pos_clause(current_user),
                                               PurchaseOrder.number.ilike(like)).order_by(PurchaseOrder.id.desc())
        sections["pos"] = (db.session.scalars(po_query.limit(FIND_LIMIT)).all(), _count(po_query))
        # A transaction's reference names what caused it (an invoice, a PO line, a transfer…).
        transaction_query = select(FundTransaction).where(
            FundTransaction.fund_id.in_(select(Fund.id).where(visible_funds_clause(current_user))),
            FundTransaction.reference.ilike(like)).order_by(FundTransaction.id.desc())
        sections["transactions"] = (db.session.scalars(transaction_query.limit(FIND_LIMIT)).all(),
                                    _count(transaction_query))
    return render("invoices/find.html", q=q, sections=sections, limit=FIND_LIMIT)


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
