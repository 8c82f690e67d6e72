"""Fund dashboard, fund pages, allocate and transfer, fiscal period / ledger / fund forms."""
from __future__ import annotations

import re
from datetime import date
from dataclasses import replace
from types import SimpleNamespace
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import clock, list_columns
from ..auth.models import Role, User
from ..auth.permissions import (ALL_ROLES, MONEY_MANAGERS, can_change_institution_data, can_manage_money,
                                institution_roles_required, is_institution_admin, roles_required)
from ..errors import DomainError, InvalidInput
from ..exports import Column, Columns, export_response, related, rows_of
from ..extensions import db, htmx
from ..forms_util import edit_form
from ..htmx import changed, is_htmx, redirect_to, render
from ..ledger.rollover import REASONS
from ..org.models import Library
from ..ids import parse_id
from ..integrations.models import JobRun
from ..saving import saving
from ..text import T
from . import closing, rollover, rollover_report, rollover_rules, runs
from . import services as funds
from ..formatting import money
from .chart import spending_chart
from .forms import AllocateForm, FiscalPeriodForm, FundForm, LedgerForm, RolloverForm, TransferForm
from .models import PERIOD_STATE_WORDS, FiscalPeriod, Fund, FundTransaction, Ledger, Rollover
from .rows import DASHBOARD_TABLE, RowBuilder, export_columns, export_rows, spent_bar
from .tree import build_tree

bp = Blueprint("funds", __name__)
VIEW = ALL_ROLES
MANAGE = MONEY_MANAGERS


# -- dashboard ---------------------------------------------------------------------------------

def _open_keys(args) -> set[str]:
    return {k for k in (args.get("open") or "").split(",") if k[:1] in ("L", "F") and k[1:].isdigit()}


def _dashboard_state():
    """Period and open nodes: from the query string, or (for HTMX posts) from the page's URL."""
    args = request.args
    if request.method != "GET" and htmx and htmx.current_url:
        args = {k: v[0] for k, v in parse_qs(urlsplit(htmx.current_url).query).items()}
    return args.get("period"), _open_keys(args), args.get("expand") == "all"


def dashboard_url(period: FiscalPeriod, open_keys: set[str], expand_all=False, toggle: str | None = None) -> str:
    keys = set(open_keys)
    if toggle:
        keys ^= {toggle}
    params = {"period": period.code}
    if keys:
        params["open"] = ",".join(sorted(keys))
    if expand_all:
        params["expand"] = "all"
    return url_for("funds.dashboard") + "?" + urlencode(params)


def _period_or_current(code) -> FiscalPeriod | None:
    return funds.get_fiscal_period(code) if code else funds.current_fiscal_period()


def _builder(period: FiscalPeriod, open_keys: set[str], expand_all: bool, roots) -> RowBuilder:
    return RowBuilder(current_user, period, open_keys, expand_all, dashboard_url,
                      list_columns.shown(current_user, DASHBOARD_TABLE), roots)


def _dashboard_context(period: FiscalPeriod, open_keys: set[str], expand_all: bool) -> dict:
    roots = build_tree(current_user, period)
    builder = _builder(period, open_keys, expand_all, roots)
    return dict(period=period, periods=funds.fiscal_periods(), roots=roots, open_keys=open_keys,
                expand_all=expand_all, dashboard_url=dashboard_url, builder=builder, table=DASHBOARD_TABLE,
                column_choices=list_columns.choices(current_user, DASHBOARD_TABLE),
                export_count=sum(1 for root in roots for _node in root.walk()),
                export_url=lambda fmt: url_for("funds.export_dashboard", fmt=fmt, period=period.code))


@bp.get("/funds/")
@roles_required(*VIEW)
def dashboard():
    code, open_keys, expand_all = _dashboard_state()
    period = _period_or_current(code)
    if period is None:
        return render("funds/no_periods.html")
    return render("funds/dashboard.html", **_dashboard_context(period, open_keys, expand_all))


@bp.get("/funds/ledgers/<int:ledger_id>/rows")
@roles_required(*VIEW)
def ledger_rows(ledger_id):
    """One ledger's rows of the dashboard (#ledger-<id>), asked by the toggles inside it with the
    dashboard's query; without HTMX, the dashboard itself."""
    code, open_keys, expand_all = _dashboard_state()
    period = _period_or_current(code)
    if period is None:
        return render("funds/no_periods.html")
    ctx = _dashboard_context(period, open_keys, expand_all)
    root = next((r for r in ctx["roots"] if r.obj.id == ledger_id), None)
    if root is None:
        abort(404)
    return render("funds/dashboard.html", "funds/_ledger_rows.html", root=root, **ctx)


@bp.get("/funds/export.csv", defaults={"fmt": "csv"})
@bp.get("/funds/export.xlsx", defaults={"fmt": "xlsx"})
@roles_required(*VIEW)
def export_dashboard(fmt):
    """The whole tree of the period the user may see (every ledger and fund, open or not), one row
    each, in the columns they show on the dashboard."""
    period = _period_or_current(request.args.get("period"))
    if period is None:
        abort(404)
    roots = build_tree(current_user, period)
    columns = export_columns(list_columns.exported(current_user, DASHBOARD_TABLE))
    return export_response(export_rows(roots, period, columns), headed(columns), fmt, f"funds-{period.code}",
                           sheet=_("Funds %(period)s", period=period.code))


@bp.get("/funds/search")
@roles_required(*VIEW)
def search():
    q = (request.args.get("q") or "").strip()
    found = []
    if q:
        found = db.session.scalars(funds.search_funds(current_user, q)).all()
    return render("funds/search.html", q=q, funds=found)


# -- one fund ----------------------------------------------------------------------------------

def _parse_day(value):
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(T("\"%(value)s\" is not a date (YYYY-MM-DD).", value=value)) from None


SORTS = {"date": (FundTransaction.transaction_date, FundTransaction.id),
         "-date": (FundTransaction.transaction_date.desc(), FundTransaction.id.desc()),
         "amount": (FundTransaction.amount, FundTransaction.id),
         "-amount": (FundTransaction.amount.desc(), FundTransaction.id.desc())}


KINDS = ("allocation", "transfer", "encumbrance", "disencumbrance", "expenditure")
KIND_LABELS = {"allocation": T("allocation"), "transfer": T("transfer"), "encumbrance": T("encumbrance"),
               "disencumbrance": T("disencumbrance"), "expenditure": T("expenditure")}
TRANSACTION_COLUMNS = Columns([
    Column("transaction_date", T("Date"), "date", sort="date", fixed=True),
    Column("kind", T("Type")),
    Column("currency", T("Currency"), shown=False),
    Column("amount", T("Amount"), "money", currency="currency", sort="amount"),
    Column("reference", T("Reference")),
    Column("note", T("Note")),
    Column("counterpart", T("Other fund"), sql=related(Fund, FundTransaction.counterpart_fund_id),
           cell=lambda t: t.counterpart_fund.code if t.counterpart_fund else ""),
    Column("actor", T("By"), sql=related(User, FundTransaction.actor_id, "username"), value=lambda r: r.actor or "system",
           cell=lambda t: t.actor.username if t.actor else T("system")),
    Column("fund", T("Fund"), sql=related(Fund, FundTransaction.fund_id), cell=lambda t: t.fund.code, shown=False),
    Column("source_type", T("Source"), shown=False),
    Column("source_id", T("Source id"), "number", shown=False),
    Column("created_at", T("Recorded (UTC)"), "datetime", shown=False),
])
TRANSACTION_TABLE = list_columns.register("fund_transactions", T("Fund transactions"), TRANSACTION_COLUMNS)


def _transactions(fund: Fund, args):
    """The fund's transactions of the list's filters, in its sort, and the sort."""
    filters = dict(kind=args.get("kind") or None, since=_parse_day(args.get("since")),
                   until=_parse_day(args.get("until")), text=(args.get("q") or "").strip() or None)
    sort = args.get("sort") if args.get("sort") in SORTS else "-date"
    return funds.transactions_query(fund, **filters).order_by(*SORTS[sort]), sort


@bp.get("/funds/<int:fund_id>")
@roles_required(*VIEW)
def show(fund_id):
    fund = funds.get_fund(current_user, fund_id)
    args = request.args
    q, sort = _transactions(fund, args)
    page = db.paginate(q, page=args.get("page", 1, type=int), per_page=25, error_out=False)

    def page_url(n=None, **change):
        params = {k: v for k, v in args.items() if v}
        if "sort" in change:   # a new sort starts at the first page
            params.pop("page", None)
        params.update({k: v for k, v in change.items()})
        if n:
            params["page"] = n
        params = {k: v for k, v in params.items() if v not in (None, "")}
        return url_for("funds.show", fund_id=fund.id, **params)

    def export_url(fmt):
        params = {k: v for k, v in args.items() if v and k in ("kind", "since", "until", "q", "sort")}
        return url_for("funds.export_transactions", fund_id=fund.id, fmt=fmt, **params)

    ctx = dict(fund=fund, page=page, filters=args, sort=sort, f={"sort": sort}, page_url=page_url,
               export_url=export_url, kinds=KIND_LABELS, table=TRANSACTION_TABLE,
               columns=list_columns.shown(current_user, TRANSACTION_TABLE),
               column_choices=list_columns.choices(current_user, TRANSACTION_TABLE),
               can_manage=can_manage_money(current_user, fund.owner_library_id))
    if is_htmx():   # the transactions' filters, sort links and pager (#transactions)
        return render("funds/show.html", "funds/_transactions.html", **ctx)
    children = []
    if fund.is_summary:
        children = [n for n in _subtree(fund)]
    return render("funds/show.html", chart=spending_chart(fund), children=children, **ctx)


@bp.get("/funds/<int:fund_id>/transactions/export.csv", defaults={"fmt": "csv"})
@bp.get("/funds/<int:fund_id>/transactions/export.xlsx", defaults={"fmt": "xlsx"})
@roles_required(*VIEW)
def export_transactions(fund_id, fmt):
    """Every transaction of the fund (404 outside the user's sight) of the list's filters and sort,
    in the columns the user shows, as a file."""
    fund = funds.get_fund(current_user, fund_id)
    query, _sort = _transactions(fund, request.args)
    columns = list_columns.exported(current_user, TRANSACTION_TABLE)
    return export_response(rows_of(query, columns), headed(columns), fmt, "fund-" + re.sub(r"[^A-Za-z0-9_-]", "_", fund.code) + "-transactions",
                           sheet=_("%(code)s transactions", code=fund.code))


def headed(columns) -> list[Column]:
    """The columns with their headers in the reader's language: a spreadsheet's header row is read by
    a person (the headers are :class:`~app.text.Text`, whose own value is English)."""
    return [replace(c, header=str(c.header)) for c in columns]


def _subtree(fund: Fund):
    for root in build_tree(current_user, fund.fiscal_period):
        for node in root.walk():
            if not node.is_ledger and node.obj.id == fund.id:
                return node.children
    return []


def _path_to(node, fund_id):
    if not node.is_ledger and node.obj.id == fund_id:
        return [node]
    for child in node.children:
        sub = _path_to(child, fund_id)
        if sub:
            return [node] + sub
    return []


def _money_moved_response(message: str, fund: Fund, *others: Fund):
    """HTMX answer to a successful allocation/transfer: the form row goes away, and the rows of
    every fund involved and of their ancestors are swapped in place (out of band)."""
    period = fund.fiscal_period
    _, open_keys, expand_all = _dashboard_state()
    roots = build_tree(current_user, period)
    nodes = {}  # the funds, their visible ancestors and their ledgers
    for f in (fund, *others):
        for root in roots:
            for node in _path_to(root, f.id):
                nodes[node.key] = node
    builder = _builder(period, open_keys | set(nodes), expand_all, roots)
    return render("funds/dashboard.html", "funds/_moved.html", nodes=list(nodes.values()), fund=fund,
                  builder=builder, message=message, roots=roots)


def _money_form(fund_id, form_cls, action: str):
    fund = funds.get_fund(current_user, fund_id)
    if not can_manage_money(current_user, fund.owner_library_id):
        abort(403)
    form = form_cls()
    for field in form:  # ids unique per fund: two funds' forms may be open on one page
        if field.name != "csrf_token":
            field.id = field.label.field_id = f"{field.name}-F{fund.id}"
    if isinstance(form, TransferForm):
        targets = db.session.scalars(
            funds.visible_funds(current_user).where(Fund.fiscal_period_id == fund.fiscal_period_id,
                                                    Fund.kind == "allocated", Fund.status == "active",
                                                    Fund.id != fund.id)
            .order_by(Fund.code)).all()
        form.target.choices = [("", _("Choose a fund…"))] + [
            (str(f.id), f"{f.code} — {f.name} ({f.ledger.currency})") for f in targets
            if can_manage_money(current_user, f.owner_library_id)]
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            with saving(form, once=True) as saved:
                if isinstance(form, TransferForm):
                    target = funds.get_fund(current_user, form.target.data)
                    rows = funds.transfer(current_user, fund, target, form.amount.data, form.reference.data,
                                          form.note.data)
                    moved = (fund, target)
                    message = _("Transferred %(amount)s %(currency)s from %(source)s to %(target)s.",
                                amount=money(rows[1].amount, fund.currency), currency=fund.currency,
                                source=fund.code, target=target.code)
                else:
                    row = funds.allocate(current_user, fund, form.amount.data, form.reference.data, form.note.data)
                    moved = (fund,)
                    figures = dict(amount=money(abs(row.amount), fund.currency), currency=fund.currency,
                                   code=fund.code)
                    message = (_("Allocated %(amount)s %(currency)s to %(code)s.", **figures) if row.amount > 0
                               else _("Took back %(amount)s %(currency)s from %(code)s.", **figures))
            if saved:
                return changed(message, url_for("funds.show", fund_id=fund.id),
                               lambda: _money_moved_response(message, *moved))
            fund = funds.get_fund(current_user, fund_id)
        status = 422
    # A fund of a period that does not cover today (next year's budget, a closed year): chosen on
    # purpose, but said so.
    span = len(list_columns.shown(current_user, DASHBOARD_TABLE)) + 1   # the row's columns: chosen + actions
    return render("funds/money_form.html", "funds/_money_form.html", status=status, form=form, fund=fund,
                  action=action, span=span, period_warning=funds.other_period_warning(fund, clock.today()))


@bp.get("/funds/<int:fund_id>/form-closed")
@roles_required(*VIEW)
def cancel_form(fund_id):
    """Closing the inline money form: nothing for HTMX to show; the fund page otherwise."""
    fund = funds.get_fund(current_user, fund_id)
    if htmx:
        return render("funds/_move_slot.html", fund_id=fund.id)
    return redirect(url_for("funds.show", fund_id=fund.id))


@bp.app_template_global()
def spent_bar_of(balance, currency: str = ""):
    return spent_bar(balance, currency)


@bp.route("/funds/<int:fund_id>/allocate", methods=["GET", "POST"])
@roles_required(*MANAGE)
def allocate(fund_id):
    return _money_form(fund_id, AllocateForm, "allocate")


@bp.route("/funds/<int:fund_id>/transfer", methods=["GET", "POST"])
@roles_required(*MANAGE)
def transfer(fund_id):
    return _money_form(fund_id, TransferForm, "transfer")


# -- fiscal periods ---------------------------------------------------------------------------

@bp.app_template_global()
def can_edit_fiscal_periods() -> bool:
    """Fiscal periods are the institution's: the money managers' role held for the whole institution."""
    return current_user.is_authenticated and can_change_institution_data(current_user, MANAGE)


@bp.app_template_global()
def can_close_fiscal_periods() -> bool:
    """Closing and reopening a fiscal period: an administrator for the whole institution."""
    return current_user.is_authenticated and is_institution_admin(current_user)


@bp.get("/fiscal-periods/")
@roles_required(*VIEW)
def fiscal_periods():
    return render("funds/fiscal_periods.html", periods=funds.fiscal_periods())


def _period_status_change(period_id: int, change) -> object:
    """Close or reopen (``change(period)`` calls the service and answers the message), then the
    list of periods with the message, or with the refusal and its status; a close that needs
    confirming (documents still open) with the question and the note kept."""
    period = db.get_or_404(FiscalPeriod, period_id)
    with saving() as saved:
        message = change(period)
    if saved:
        flash(message, "ok")
        return redirect(url_for("funds.fiscal_periods"))
    if isinstance(saved.error, closing.CloseNeedsConfirmation):
        return render("funds/fiscal_periods.html", status=200, periods=funds.fiscal_periods(),
                      confirm_close=period, confirm_message=saved.message, note=request.form.get("note") or "")
    return render("funds/fiscal_periods.html", status=saved.status, periods=funds.fiscal_periods(),
                  problem=saved.message, problem_period=period.id)


@bp.post("/fiscal-periods/<int:period_id>/close")
@institution_roles_required(Role.ADMIN)
def close_fiscal_period(period_id):
    """Close a period; with PO lines or invoices still open on it, asked first (confirm=1 closes)."""
    def change(period):
        closing.close_period(current_user, period, request.form.get("note") or "",
                             confirmed=request.form.get("confirm") == "1")
        return _("Fiscal period %(code)s closed: it takes no new encumbrances, allocations or transfers; "
                 "a late invoice expends on it only when an administrator approves it with a reason.", code=period.code)
    return _period_status_change(period_id, change)


@bp.post("/fiscal-periods/<int:period_id>/reopen")
@institution_roles_required(Role.ADMIN)
def reopen_fiscal_period(period_id):
    def change(period):
        funds.reopen_fiscal_period(current_user, period, request.form.get("reason") or "")
        return _("Fiscal period %(code)s reopened: it is active again.", code=period.code)
    return _period_status_change(period_id, change)


@bp.route("/fiscal-periods/new", methods=["GET", "POST"])
@bp.route("/fiscal-periods/<int:period_id>/edit", methods=["GET", "POST"])
@institution_roles_required(*MANAGE)
def edit_fiscal_period(period_id=None):
    period, form = edit_form(FiscalPeriodForm, FiscalPeriod, period_id, "code")
    if period is not None and period.status == "closed":   # reopened on the list, not here
        form.status.choices = [("closed", _("Closed"))]
    if form.validate_on_submit():
        with saving(form) as saved:
            if period:
                funds.update_fiscal_period(current_user, period, form.name.data, form.start_date.data,
                                           form.end_date.data, form.status.data)
            else:
                period = funds.create_fiscal_period(current_user, form.code.data, form.name.data,
                                                    form.start_date.data, form.end_date.data, form.status.data)
        if saved:
            flash(_("Fiscal period %(code)s saved.", code=period.code), "ok")
            return redirect(url_for("funds.fiscal_periods"))
    status = 422 if request.method == "POST" else 200
    return render("funds/fiscal_period_form.html", status=status, form=form, period=period)


# -- ledgers -----------------------------------------------------------------------------------

def _library_choices():
    return [(str(lib.id), f"{lib.code} — {lib.name}") for lib in
            db.session.scalars(select(Library).order_by(Library.code))]


def _owner_choices():
    """The owners the user may give a ledger: the institution only with the institution-wide role."""
    owners = [("", _("Institution"))] + _library_choices()
    return [(value, label) for value, label in owners
            if can_manage_money(current_user, parse_id(value) if value else None)]


def _libraries(ids) -> list[Library]:
    found = (db.session.get(Library, lid) for lid in map(parse_id, ids or []) if lid)
    return [lib for lib in found if lib is not None]


@bp.get("/ledgers/")
@roles_required(*VIEW)
def ledgers():
    code = request.args.get("period")
    period = _period_or_current(code)
    rows = []
    if period:
        rows = build_tree(current_user, period)
    return render("funds/ledgers.html", period=period, periods=funds.fiscal_periods(), roots=rows)


@bp.route("/ledgers/new", methods=["GET", "POST"])
@bp.route("/ledgers/<int:ledger_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGE)
def edit_ledger(ledger_id=None):
    ledger = funds.get_ledger(current_user, ledger_id) if ledger_id else None
    if ledger and not can_manage_money(current_user, ledger.owner_library_id):
        abort(403)  # visible (an institution ledger shared with the library) but not theirs to change
    form = LedgerForm()
    form.fiscal_period.choices = [(str(p.id), f"{p.code} — {p.name}") for p in funds.fiscal_periods()]
    form.owner.choices = _owner_choices()
    if request.method == "POST" and request.form.get("owner", "") not in {v for v, _label in form.owner.choices}:
        abort(403)  # an owner the form did not offer: the institution or another library
    form.libraries.choices = _library_choices()
    if request.method == "GET" and ledger:
        form.code.data, form.name.data, form.currency.data = ledger.code, ledger.name, ledger.currency
        form.fiscal_period.data = str(ledger.fiscal_period_id)
        form.owner.data = str(ledger.owner_library_id or "")
        form.available_to_all.data = ledger.available_to_all
        form.libraries.data = [str(lib.id) for lib in ledger.libraries]
        form.notes.data = ledger.notes
    elif request.method == "GET":
        current = funds.current_fiscal_period()
        form.fiscal_period.data = request.args.get("period_id") or (str(current.id) if current else None)
    if ledger:
        for f in (form.code, form.fiscal_period, form.currency):
            f.render_kw = {**(f.render_kw or {}), "disabled": True}
    if form.validate_on_submit():
        with saving(form) as saved:
            owner = db.session.get(Library, int(form.owner.data)) if form.owner.data else None
            libs = _libraries(form.libraries.data)
            if ledger:
                funds.update_ledger(current_user, ledger, form.name.data, owner, form.available_to_all.data, libs,
                                    form.notes.data)
            else:
                period = funds.get_fiscal_period(form.fiscal_period.data)
                ledger = funds.create_ledger(current_user, form.code.data, form.name.data, period,
                                             form.currency.data, owner, form.available_to_all.data, libs,
                                             form.notes.data)
        if saved:
            flash(_("Ledger %(code)s saved.", code=ledger.code), "ok")
            return redirect(url_for("funds.ledgers", period=ledger.fiscal_period.code))
    status = 422 if request.method == "POST" else 200
    return render("funds/ledger_form.html", status=status, form=form, ledger=ledger)


# -- fund create/edit --------------------------------------------------------------------------

def _fund_fields(form: FundForm) -> funds.FundFields:
    def dec(field, what):
        try:
            value = Decimal((field.data or "0").strip())
            if not value.is_finite():
                raise InvalidOperation
            return value
        except InvalidOperation:
            raise InvalidInput(what, field.name) from None
    parent = funds.get_fund(current_user, form.parent.data) if form.parent.data else None
    return funds.FundFields(
        name=form.name.data, kind=form.kind.data, parent=parent, external_id=form.external_id.data,
        fund_type=funds.get_fund_type(form.fund_type.data), status=form.status.data, notes=form.notes.data,
        overencumbrance_allowed=form.overencumbrance_allowed.data,
        overencumbrance_limit_percent=dec(form.overencumbrance_limit_percent,
                                          T("The over-encumbrance limit must be a number.")),
        overexpenditure_allowed=form.overexpenditure_allowed.data,
        overexpenditure_limit=dec(form.overexpenditure_limit, T("The over-expenditure limit must be a number.")),
        available_to_all=form.available_to_all.data, libraries=_libraries(form.libraries.data))


@bp.route("/funds/new", methods=["GET", "POST"])
@bp.route("/funds/<int:fund_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGE)
def edit_fund(fund_id=None):
    fund = funds.get_fund(current_user, fund_id) if fund_id else None
    if fund and not can_manage_money(current_user, fund.owner_library_id):
        abort(403)
    form = FundForm()
    period = fund.fiscal_period if fund else _period_or_current(request.args.get("period"))
    if period is None:
        flash(_("Create a fiscal period first."), "error")
        return redirect(url_for("funds.fiscal_periods"))
    ledgers = db.session.scalars(select(Ledger).where(Ledger.fiscal_period_id == period.id,
                                                      funds.visible_ledgers_clause(current_user))
                                 .order_by(Ledger.code)).all()
    form.ledger.choices = [(str(lg.id), f"{lg.code} — {lg.name} ({lg.currency})") for lg in ledgers
                           if can_manage_money(current_user, lg.owner_library_id)]
    summaries = db.session.scalars(funds.visible_funds(current_user).where(
        Fund.fiscal_period_id == period.id, Fund.kind == "summary").order_by(Fund.code)).all()
    form.parent.choices = [("", _("— directly under the ledger —"))] + [
        (str(f.id), _("%(code)s — %(name)s (ledger %(ledger)s)", code=f.code, name=f.name, ledger=f.ledger.code))
        for f in summaries if not fund or f.id != fund.id]
    form.fund_type.choices = [("", "—")] + [(t.code, f"{t.code} — {t.name}") for t in funds.fund_types()]
    form.libraries.choices = _library_choices()
    if request.method == "GET":
        if fund:
            for name in ("code", "name", "kind", "external_id", "status", "notes", "overencumbrance_allowed",
                         "overexpenditure_allowed", "available_to_all"):
                getattr(form, name).data = getattr(fund, name)
            form.ledger.data = str(fund.ledger_id)
            form.parent.data = str(fund.parent_id or "")
            form.fund_type.data = fund.fund_type.code if fund.fund_type else ""
            form.overencumbrance_limit_percent.data = str(fund.overencumbrance_limit_percent)
            form.overexpenditure_limit.data = str(fund.overexpenditure_limit)
            form.libraries.data = [str(lib.id) for lib in fund.libraries]
        else:
            form.ledger.data = request.args.get("ledger")
            form.parent.data = request.args.get("parent", "")
    if fund:
        form.code.render_kw = {"readonly": True}
    if form.validate_on_submit():
        with saving(form) as saved:
            ledger = funds.get_ledger(current_user, int(form.ledger.data)) if form.ledger.data else None
            if ledger is None:
                raise InvalidInput(T("Choose a ledger."), "ledger")
            fields = _fund_fields(form)
            if fund:
                funds.update_fund(current_user, fund, fields, ledger=ledger)
            else:
                fund = funds.create_fund(current_user, ledger, form.code.data, fields)
        if saved:
            flash(_("Fund %(code)s saved.", code=fund.code), "ok")
            return redirect(url_for("funds.show", fund_id=fund.id))
    status = 422 if request.method == "POST" else 200
    return render("funds/fund_form.html", status=status, form=form, fund=fund, period=period)


# -- fiscal period closure (the rollover) -------------------------------------------------------

def _rollover_form() -> RolloverForm:
    form = RolloverForm()
    periods = funds.fiscal_periods()
    choices = [("", _("Choose…"))] + [(p.code, f"{p.code} — {p.name} ({p.start_date:%Y-%m-%d} – {p.end_date:%Y-%m-%d})")
                                   for p in periods]
    form.source.choices = form.target.choices = choices
    if request.method == "GET" and periods:
        ordered = sorted(periods, key=lambda p: p.start_date)
        current = funds.current_fiscal_period()
        if current is not None and not form.source.data:
            later = [p for p in ordered if p.start_date > current.end_date]
            form.source.data = current.code
            form.target.data = later[0].code if later else ""
    url = url_for("funds.rollover_rules_table")   # the rules table follows the source period
    form.source.render_kw = {"hx-post": url, "hx-trigger": "change", "hx-target": "#rollover-rules",
                             "hx-swap": "outerHTML"}
    for name in RULE_FIELDS:   # and says what the default rule is
        form[name].render_kw = {"hx-post": url + "?part=gets", "hx-trigger": "change", "hx-swap": "none"}
    return form


@bp.app_template_global()
def rollover_reason(key: str) -> str:
    return REASONS.get(key, key)


ORDER_TYPE_WORDS = {"one_time": T("one-time"), "continuous": T("continuous")}
# The words of a rollover's stored rules (app.ledger.rollover: allocation, carry and encumbrance modes).
RULE_WORDS = {"same": T("same"), "adjust": T("adjust"), "none": T("none"), "cash": T("cash"),
              "available": T("available"), "remaining": T("remaining"), "initial": T("initial")}


@bp.app_template_global()
def rollover_order_type(key: str) -> str:
    return ORDER_TYPE_WORDS.get(key, (key or "").replace("_", "-"))


@bp.app_template_global()
def fund_status_label(key: str) -> str:
    return PERIOD_STATE_WORDS.get(key, key)


@bp.app_template_global()
def rollover_word(key: str) -> str:
    return RULE_WORDS.get(key, key)


RULE_FIELDS = ("allocation", "percent", "carry")


def _rules_table(form, fields=None, problem_field: str | None = None, add: bool = False,
                 remove: int | None = None) -> rollover_rules.RulesTable | None:
    """The rules per ledger and fund as the form shows them: the source period's ledgers and the
    fund overrides typed so far (one more with ``add``, row ``remove`` taken out); None until a
    source period is chosen."""
    code = form.source.data
    if not code:
        return None
    try:
        choices = rollover_rules.source_choices(code)
    except DomainError:
        return None
    fields = dict((fields if fields is not None else request.form).items())
    for name in RULE_FIELDS:   # the default rule: as the form holds it (its defaults on a GET)
        fields[name] = getattr(form, name).data or ""
    return rollover_rules.rules_table(fields, choices, problem_field=problem_field, add=add, remove=remove)


def _rollover_page(form, status=200, problem="", problem_field=None, run=None, started=True):
    ctx = _run_context(run) if run is not None else {"run": None, "report": None}
    return render("funds/rollover.html", "funds/_rollover_report.html", status=status, form=form, problem=problem,
                  rollovers=rollover.rollovers(), started=started, running=runs.running(),
                  rules=_rules_table(form, problem_field=problem_field), **ctx)


@bp.post("/fiscal-periods/closure/rules")
@institution_roles_required(Role.ADMIN)
def rollover_rules_table():
    """The rules per ledger and fund of the closure form (#rollover-rules), asked again when the
    source period changes or a fund override is added or removed; with ``?part=gets`` (a field of
    the rules changed) only what each row gets, out of band. The whole page without HTMX (the
    buttons' formaction)."""
    form = _rollover_form()
    remove = request.form.get("remove_fund", type=int)
    rules = _rules_table(form, add=bool(request.form.get("add_fund")), remove=remove)
    fragment = "funds/_rollover_rules_gets.html" if request.args.get("part") == "gets" else "funds/_rollover_rules.html"
    return render("funds/rollover.html", fragment, form=form, report=None, run=None, problem="", started=True,
                  running=runs.running(), rollovers=rollover.rollovers(), rules=rules)


@bp.route("/fiscal-periods/closure", methods=["GET", "POST"])
@institution_roles_required(Role.ADMIN)
def rollovers():
    """Fiscal period closure: choose the periods and rules, Preview or Commit, and the past rollovers.
    Preview and Commit start a run (app.funds.runs, on Monitor Jobs) and answer at once (HTMX: the
    form with the run's progress, which polls itself; else the run's page)."""
    form = _rollover_form()
    if request.method == "GET":
        return _rollover_page(form)
    if not form.validate_on_submit():
        return _rollover_page(form, status=422)
    committing = request.form.get("action") == "commit"
    with saving(form, commit=False) as saved:
        fund_rules, line_rules = rollover.rules_from(form.allocation.data, form.percent.data, form.carry.data,
                                                     form.one_time.data, form.continuous.data, form.increase.data)
        fund_rules = rollover_rules.rules_for_period(request.form, form.source.data)
        source, target = rollover.check_periods(current_user, form.source.data, form.target.data)
    if not saved:
        return _rollover_page(form, status=saved.status, problem=saved.message, problem_field=saved.error.field)
    task = runs.Task("commit" if committing else "preview", source.code, target.code, fund_rules, line_rules)
    return _start_run(task, form)


def _start_run(task, form=None):
    actor = current_user._get_current_object()
    run, started = runs.start(actor, task)
    if started:
        run_id, actor_id = run.id, actor.id
        db.session.commit()   # no transaction of this request stays open around the run
        runs.in_background(current_app._get_current_object(), run_id, task, actor_id)
        db.session.expire_all()   # what the run wrote, when it ran here (tests)
    if is_htmx() and form is not None:
        return _rollover_page(form, run=run, started=started)
    return redirect(url_for("funds.rollover_run", rollover_run_id=run.id), 303)


LINES_SHOWN = 1000   # PO line rows a report shows in the page (the reported ones first); the files hold them all


def _shown(report):
    """``report`` as the page shows it: at most ``LINES_SHOWN`` PO line rows (tens of thousands would
    make a page of many MB), with the totals of all of them and ``more``: how many are left out."""
    if len(report.lines) <= LINES_SHOWN:
        return report
    reported = [i for i, ln in enumerate(report.lines) if not ln.moved][:LINES_SHOWN]
    moved = [i for i, ln in enumerate(report.lines) if ln.moved][:LINES_SHOWN - len(reported)]
    keep = sorted(reported + moved)
    return SimpleNamespace(source=report.source, target=report.target, status=report.status,
                           rollover_id=report.rollover_id, funds=report.funds, totals=report.totals,
                           lines=[report.lines[i] for i in keep], more=len(report.lines) - len(keep))


def _run_context(run) -> dict:
    """What the run's fragment shows: its progress, or once ended its outcome (and a preview's report)."""
    stored_id = runs.rollover_id_of(run)
    stored = db.session.get(Rollover, stored_id) if stored_id else None
    report = _shown(rollover.report_of(stored)) if stored is not None and stored.status == "preview" else None
    return {"run": run, "ended": run.status != "running", "stored": stored, "report": report}


@bp.get("/fiscal-periods/closure/runs/<int:rollover_run_id>")
@institution_roles_required(Role.ADMIN)
def rollover_run(rollover_run_id):
    """A rollover's run: its progress while it goes (the fragment polls itself every second), then a
    preview's report, or (a commit, an undo) the stored rollover's page."""
    run = db.get_or_404(JobRun, rollover_run_id)
    if run.job not in runs.JOBS:
        abort(404)
    ctx = _run_context(run)
    if ctx["stored"] is not None and ctx["stored"].status != "preview" and run.status == "completed":
        flash(str(run.shown_message), "ok")
        return redirect_to(url_for("funds.show_rollover", rollover_id=ctx["stored"].id))
    return render("funds/rollover_run.html", "funds/_rollover_run.html", started=True, **ctx)


@bp.get("/fiscal-periods/closure/<int:rollover_id>")
@institution_roles_required(Role.ADMIN)
def show_rollover(rollover_id):
    stored = db.get_or_404(Rollover, rollover_id)
    return render("funds/rollover_show.html", rollover=stored, report=_shown(rollover.report_of(stored)),
                  run=runs.run_of_rollover(stored.id))




@bp.get("/fiscal-periods/closure/<int:rollover_id>/report.<any(csv, xlsx):file_type>")
@institution_roles_required(Role.ADMIN)
def rollover_report_file(rollover_id, file_type):
    """The stored report of a rollover as a CSV file or an .xlsx workbook (app.funds.rollover_report)."""
    stored = db.get_or_404(Rollover, rollover_id)
    body, mimetype, name = rollover_report.download(rollover.report_of(stored), stored.id, file_type)
    resp = Response(body, mimetype=mimetype)
    resp.headers.set("Content-Disposition", "attachment", filename=name)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/fiscal-periods/closure/<int:rollover_id>/undo")
@institution_roles_required(Role.ADMIN)
def undo_rollover(rollover_id):
    """Undo a committed rollover: a run (job rollover_undo), followed on its page."""
    stored = db.get_or_404(Rollover, rollover_id)
    with saving(commit=False) as saved:
        rollover.check_undoable(current_user, stored)
    if saved:
        return _start_run(runs.Task("undo", stored.source_period.code, stored.target_period.code,
                                    rollover_id=stored.id))
    stored = db.session.get(Rollover, rollover_id)
    return render("funds/rollover_show.html", status=saved.status, rollover=stored,
                  report=_shown(rollover.report_of(stored)), problem=saved.message,
                  run=runs.run_of_rollover(stored.id))
