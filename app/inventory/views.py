"""Inventory pages: repository search, a record with its holdings and items, and their forms.

Each HTMX fragment is the same URL asked with HX-Request: the search results (#search-results),
the holdings of a record (#holdings, with the add-holding form open or not) and one holding
(#holding-<id>, with its add-item, receive or bind form open or not). Binding work orders have
a list (#work-orders, with the scan form for bound items coming back) and a page each
(#work-order-<id>).
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.permissions import ALL_ROLES, roles_required
from ..htmx import changed, render
from ..saving import saving
from . import services as inventory
from .forms import (BindForm, HoldingForm, ItemForm, ReceiveForm, RecordForm, ScanBoundItemForm,
                    WorkOrderDoneForm, suffix_ids)

bp = Blueprint("inventory", __name__)
VIEW = ALL_ROLES
EDIT = inventory.EDITORS


@bp.app_template_global()
def can_edit_inventory_library(library_id) -> bool:
    return inventory.can_edit_library(current_user, library_id)


# -- search ------------------------------------------------------------------------------------

def search_url(q: str, page: int | None = None) -> str:
    params = {k: v for k, v in (("q", q), ("page", page if page and page > 1 else None)) if v}
    return url_for("inventory.search") + ("?" + urlencode(params) if params else "")


@bp.get("/inventory/")
@roles_required(*VIEW)
def search():
    q = (request.args.get("q") or "").strip()
    page = inventory.search_records(q, request.args.get("page", 1, type=int))
    return render("inventory/search.html", "inventory/_results.html", q=q, page=page,
                  page_url=lambda n: search_url(q, n), can_edit=inventory.can_edit_records(current_user))


# -- records -----------------------------------------------------------------------------------

def _record_fields(form: RecordForm) -> inventory.RecordFields:
    return inventory.RecordFields(title=form.title.data, author=form.author.data, isbn=form.isbn.data,
                                  issn=form.issn.data, publisher=form.publisher.data,
                                  publication_date=form.publication_date.data)


@bp.route("/inventory/records/new", methods=["GET", "POST"])
@bp.route("/inventory/records/<int:record_id>/edit", methods=["GET", "POST"])
@roles_required(*EDIT)
def edit_record(record_id=None):
    record = inventory.get_record(record_id) if record_id else None
    form = RecordForm(obj=record)
    if form.validate_on_submit():
        with saving(form) as saved:
            if record:
                inventory.update_record(current_user, record, _record_fields(form))
            else:
                record = inventory.create_record(current_user, _record_fields(form))
        if saved:
            flash(_("Record “%(title)s” saved.", title=record.title), "ok")
            return redirect(url_for("inventory.show_record", record_id=record.id))
        record = inventory.get_record(record_id) if record_id else None
    return render("inventory/record_form.html", status=_form_status(), form=form, record=record)


def _holding_form(record) -> HoldingForm:
    form = HoldingForm()
    libraries = inventory.editable_libraries(current_user)
    form.library.choices = [("", _("Choose a library…"))] * (len(libraries) != 1) + [
        (str(lib.id), f"{lib.code} — {lib.name}") for lib in libraries]
    return suffix_ids(form, f"R{record.id}")


def _record_page(record, holding_form=None, status=200):
    ctx = dict(record=record, holdings=inventory.visible_holdings(current_user, record), holding_form=holding_form,
               can_edit=inventory.can_edit_records(current_user))
    return render("inventory/record.html", "inventory/_holdings.html", status=status, **ctx)


@bp.get("/inventory/records/<int:record_id>")
@roles_required(*VIEW)
def show_record(record_id):
    return _record_page(inventory.get_record(record_id))   # for HTMX the holdings (the add form's Cancel)


@bp.route("/inventory/records/<int:record_id>/holdings/new", methods=["GET", "POST"])
@roles_required(*EDIT)
def add_holding(record_id):
    record = inventory.get_record(record_id)
    form = _holding_form(record)
    if form.validate_on_submit():
        with saving(form) as saved:
            holding = inventory.add_holding(current_user, record, inventory.get_library(form.library.data),
                                            form.location_code.data, form.location_name.data, form.call_number.data)
        if saved:
            return changed(_("Holding %(location)s added.", location=holding.location_label),
                           url_for("inventory.show_record", record_id=record_id),
                           lambda: _record_page(inventory.get_record(record_id)))
        record = inventory.get_record(record_id)
    return _record_page(record, form, _form_status())


# -- holdings and items ------------------------------------------------------------------------

def _holding_page(holding, item_form=None, receive_item=None, receive_form=None, bind_form=None,
                  bound_work_order=None, status=200):
    return render("inventory/holding.html", "inventory/_holding.html", status=status, holding=holding,
                  item_form=item_form, receive_item=receive_item, receive_form=receive_form, bind_form=bind_form,
                  bindable=inventory.bindable_items(holding) if bind_form else [], bound_work_order=bound_work_order)


def _editable(holding):
    """``holding`` when the user may change its library's inventory; 403 otherwise."""
    if not inventory.can_edit_library(current_user, holding.library_id):
        abort(403)
    return holding


def _in_holding(holding_id: int, form_class, prefix: str):
    """A holding the user may change (403 otherwise) and a form that opens inside it (ids made
    unique on the page with ``prefix``)."""
    holding = _editable(inventory.get_holding(current_user, holding_id))
    return holding, suffix_ids(form_class(), f"{prefix}{holding.id}")


def _form_status() -> int:
    """A form shown again after a POST was refused or invalid: 422; asked for (GET): 200."""
    return 422 if request.method == "POST" else 200


@bp.get("/inventory/holdings/<int:holding_id>")
@roles_required(*VIEW)
def show_holding(holding_id):
    return _holding_page(inventory.get_holding(current_user, holding_id))


@bp.route("/inventory/holdings/<int:holding_id>/items/new", methods=["GET", "POST"])
@roles_required(*EDIT)
def add_item(holding_id):
    holding, form = _in_holding(holding_id, ItemForm, "H")
    if form.validate_on_submit():
        with saving(form) as saved:
            item = inventory.add_item(current_user, holding, form.barcode.data, form.enumeration.data,
                                      form.chronology.data, form.description.data)
        if saved:
            return changed(_("Item %(item)s added.", item=item.barcode or item.id),
                           url_for("inventory.show_record", record_id=holding.bib_record_id),
                           lambda: _holding_page(inventory.get_holding(current_user, holding_id)))
        holding = inventory.get_holding(current_user, holding_id)
    return _holding_page(holding, item_form=form, status=_form_status())


@bp.get("/inventory/items/<int:item_id>")
@roles_required(*VIEW)
def show_item(item_id):
    return render("inventory/item.html", item=inventory.get_item(current_user, item_id))


@bp.route("/inventory/items/<int:item_id>/receive", methods=["GET", "POST"])
@roles_required(*EDIT)
def receive_item(item_id):
    item = inventory.get_item(current_user, item_id)
    _editable(item.holding)
    form = suffix_ids(ReceiveForm(), f"I{item.id}")
    if form.validate_on_submit():
        with saving(form) as saved:
            inventory.receive_item(current_user, item, form.received_date.data)
        if saved:
            return changed(_("Item %(item)s received.", item=item.barcode or item.id),
                           url_for("inventory.show_record", record_id=item.holding.bib_record_id),
                           lambda: _holding_page(inventory.get_holding(current_user, item.holding_id)))
        item = inventory.get_item(current_user, item_id)
    return _holding_page(item.holding, receive_item=item, receive_form=form, status=_form_status())


# -- binding work orders -----------------------------------------------------------------------

@bp.route("/inventory/holdings/<int:holding_id>/bind", methods=["GET", "POST"])
@roles_required(*EDIT)
def bind_items(holding_id):
    holding, form = _in_holding(holding_id, BindForm, "B")
    if form.validate_on_submit():
        items = inventory.get_items(current_user, form.items.data or [])  # an id out of scope is a 404
        with saving(form) as saved:
            work_order = inventory.bind_items(current_user, holding, items, form.barcode.data, form.enumeration.data,
                                              form.chronology.data, form.description.data, form.note.data)
        if saved:
            return changed(_("Work order %(number)s opened: %(bound)s bound into item %(item)s.",
                             number=work_order.number, bound=work_order.bound_summary,
                             item=work_order.new_item.barcode or work_order.new_item.id),
                           url_for("inventory.show_work_order", work_order_id=work_order.id),
                           lambda: _holding_page(inventory.get_holding(current_user, holding_id),
                                                 bound_work_order=work_order))
        holding = inventory.get_holding(current_user, holding_id)
    return _holding_page(holding, bind_form=form, status=_form_status())


def _work_orders_page(scan_form=None, done_form=None, done_notice=None, status=200):
    return render("inventory/work_orders.html", "inventory/_work_orders.html", status=status,
                  open_orders=inventory.open_work_orders(current_user),
                  done_orders=inventory.done_work_orders(current_user),
                  scan_form=scan_form or ScanBoundItemForm(formdata=None), done_form=done_form,
                  done_notice=done_notice, can_edit=inventory.can_edit_records(current_user))


def _work_order_page(work_order, done_form=None, status=200):
    return render("inventory/work_order.html", "inventory/_work_order.html", status=status, work_order=work_order,
                  done_form=done_form or suffix_ids(WorkOrderDoneForm(formdata=None), f"W{work_order.id}"))


@bp.get("/inventory/work-orders")
@roles_required(*VIEW)
def work_orders():
    return _work_orders_page()


@bp.get("/inventory/work-orders/<int:work_order_id>")
@roles_required(*VIEW)
def show_work_order(work_order_id):
    return _work_order_page(inventory.get_work_order(current_user, work_order_id))


@bp.post("/inventory/work-orders/<int:work_order_id>/done")
@roles_required(*EDIT)
def complete_work_order(work_order_id):
    """Mark a work order done from its page, or from the list (hidden field back=list)."""
    work_order = inventory.get_work_order(current_user, work_order_id)
    _editable(work_order.holding)
    from_list = request.form.get("back") == "list"
    form = suffix_ids(WorkOrderDoneForm(), f"W{work_order.id}")
    if form.validate_on_submit():
        with saving(form) as saved:
            inventory.complete_work_order(current_user, work_order, form.received_date.data)
        work_order = inventory.get_work_order(current_user, work_order_id)
        if saved:
            message = _("Work order %(number)s done: item %(item)s is in place.", number=work_order.number,
                        item=work_order.new_item.barcode or work_order.new_item.id)
            if from_list:
                return changed(message, url_for("inventory.work_orders"),
                               lambda: _work_orders_page(done_notice=work_order))
            return changed(message, url_for("inventory.show_work_order", work_order_id=work_order_id),
                           lambda: _work_order_page(work_order))
    if from_list:
        return _work_orders_page(done_form=form, status=422)
    return _work_order_page(work_order, done_form=form, status=422)


@bp.post("/inventory/work-orders/scan")
@roles_required(*EDIT)
def scan_work_order():
    """A bound item back from the bindery: its barcode, scanned or typed, marks its work order done."""
    form = ScanBoundItemForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            work_order = inventory.find_work_order_by_barcode(current_user, form.barcode.data)
            inventory.complete_work_order(current_user, work_order, form.received_date.data)
        if saved:
            work_order = inventory.get_work_order(current_user, work_order.id)
            return changed(_("Work order %(number)s done: item %(item)s is in place.", number=work_order.number,
                             item=form.barcode.data.strip()),
                           url_for("inventory.work_orders"), lambda: _work_orders_page(done_notice=work_order))
    return _work_orders_page(scan_form=form, status=422)
