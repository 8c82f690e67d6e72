"""Invoice forms: create (manual or from a PO), edit, lines and distribution, the VAT confirmation dialog.

One form page serves ``/invoices/new`` (``?po=PO-000012`` pre-fills it from a purchase order) and
``/invoices/<id>/edit``. Its buttons: "Save" (create/update, stays In Review), "Save and
continue" (then the review and approval rules), "Recalculate" (the funds charged, computed in a
savepoint that is rolled back), "Add line". HTMX fragments: the whole editor (#invoice-editor,
answered to a refused save), one more line (#invoice-lines gets it appended), the preview
(#charges-preview), the VAT question (#dialog, status 409) and, when the invoice date changes,
every line's fund pickers for the open period covering it (out of band, by id; what was chosen
stays chosen, with its warning when of another period). Without JavaScript the same buttons
re-render the whole page.
"""
from __future__ import annotations

from datetime import date
import re
from decimal import Decimal, InvalidOperation

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.routing import BuildError

from .. import clock
from ..auth.permissions import roles_required
from ..errors import DomainError, InvalidInput, NotFound
from ..database import writing_again
from ..extensions import db
from ..forms_util import attach_error, chosen
from ..funds import services as funds
from ..funds.distribution import distribute
from ..funds.forms import distribution_shares, mark_other_period_funds
from ..funds.models import Fund
from ..htmx import is_htmx, redirect_to, render
from ..ledger.money import format_plain, quantize, split
from ..org.models import Library
from ..orders import services as orders
from ..orders.models import PurchaseOrder
from ..saving import saving
from ..text import T
from ..vendors.models import Vendor, VendorAccount
from ..vendors.services import vendor_select_choices
from . import services as invoices
from . import settings
from .charges import charges_of
from .forms import FUND_ROWS, LINE_PREFIX, LINE_ROWS, InvoiceForm
from .models import Invoice

bp = Blueprint("invoice_forms", __name__)
EDIT = invoices.OPERATORS
EDITABLE = ("in_review", "in_approval")
PAGE, EDITOR = "invoices/form.html", "invoices/_form.html"
LINE_KEY = re.compile(rf"^{LINE_PREFIX}-([0-9]{{1,6}})-(.+)$")   # ASCII, bounded: int() of it is safe
LINE_NUMBER = re.compile(r"\b[Ll]ine (\d+)\b")
LINE_TEXT_FIELDS = ("unit_price", "total", "po_line")   # all empty: the line is ignored
MAX_LINES = 2000
PRO_RATA = {"": None, "on": True, "off": False}
# Percents carry two decimals, like a two-decimal currency: split() in that unit makes them add to 100.
PERCENT_UNIT = "EUR"


# -- helpers for the templates -----------------------------------------------------------------

def _plain(value: Decimal | None) -> str:
    """12.50 -> "12.5", 100.00 -> "100" (never an exponent)."""
    if value is None:
        return ""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _owner_choices() -> list[tuple[str, str]]:
    """The institution and the libraries the user may invoice for."""
    choices = [("", _("Institution (all libraries)"))] if invoices.can_edit(current_user, None) else []
    for lib in db.session.scalars(select(Library).order_by(Library.code)):
        if invoices.can_edit(current_user, lib.id):
            choices.append((str(lib.id), f"{lib.code} — {lib.name}"))
    return choices


def _choices(form: InvoiceForm, invoice: Invoice | None, extra_funds=()) -> dict:
    """Fill the selects; returns what the line rows need (line types and fund choices)."""
    vendor_choices, account_choices = vendor_select_choices(
        invoice.vendor if invoice is not None else None, invoice.vendor_account_id if invoice is not None else None)
    # the empty choices in the reader's language (the others are codes and names)
    form.vendor.choices = [("", _("Choose a vendor…"))] + [c for c in vendor_choices if c[0]]
    form.vendor_account.choices = [("", _("None"))] + [c for c in account_choices if c[0]]
    form.owner_library.choices = _owner_choices()
    default = _("on") if settings.get("invoice_use_pro_rata") else _("off")
    form.pro_rata.choices = [("", _("Setting default (%(default)s)", default=default)), ("on", _("On")),
                             ("off", _("Off"))]
    types = invoices.charge_types()
    line_types = [("regular", _("Regular"))] + [(code, name) for code, name in types.items()]
    day = _document_day(form)   # funds of the open period covering the invoice date
    usable = funds.chargeable_funds(current_user, day)
    fund_choices = [("", "—")] + [(str(f.id), f"{f.code} — {f.name} ({f.currency}, {f.fiscal_period.code})")
                                  for f in usable]
    known = {c[0] for c in fund_choices}
    for fund in extra_funds:
        if str(fund.id) not in known:
            fund_choices.append((str(fund.id), fund.label))
            known.add(str(fund.id))
    form.vat_fund.choices = [("", _("The lines' funds"))] + fund_choices[1:]
    if form.vat_fund.data and str(form.vat_fund.data) not in known:
        try:
            fund = funds.get_fund(current_user, form.vat_fund.data)
            form.vat_fund.choices.append((str(fund.id), fund.label))
        except NotFound:
            pass
    for entry in form.lines:
        _line_choices(entry.form, line_types, fund_choices)
        _keep_chosen(entry.form, known)
        mark_other_period_funds(entry.form.fund_rows(), day)
    return {"line_types": line_types, "fund_choices": fund_choices, "charge_types": types}


def _keep_chosen(line_form, known: set[str]) -> None:
    """A fund chosen on a row that the choices (of the invoice date's period) do not hold stays
    chosen, added to that row's choices: picked on purpose, or before the invoice date changed
    (the row then says which period it is of)."""
    for fund_field, _share in line_form.fund_rows():
        value = fund_field.data
        if value and str(value) not in known:
            try:
                fund = funds.get_fund(current_user, value)
            except NotFound:
                continue
            fund_field.choices = list(fund_field.choices) + [(str(fund.id), fund.label)]


def _document_day(form: InvoiceForm) -> date:
    """The day whose open fiscal period the form's funds come from: the invoice date, else today."""
    day = form.invoice_date.data
    return day if isinstance(day, date) else clock.today()


def _line_choices(line_form, line_types, fund_choices) -> None:
    line_form.line_type.choices = line_types
    for fund_field, _share in line_form.fund_rows():
        fund_field.choices = fund_choices


# -- reading the form --------------------------------------------------------------------------

def _compacted(formdata: MultiDict) -> MultiDict:
    """The posted form without its empty lines, the others renumbered 0, 1, 2… so that "line 2"
    in a service's message is the second line on the page."""
    plain, by_line = MultiDict(), {}
    for key in formdata.keys():
        match = LINE_KEY.match(key)
        if match:
            by_line.setdefault(int(match.group(1)), {})[match.group(2)] = formdata.getlist(key)
        else:
            plain.setlist(key, formdata.getlist(key))
    kept = [values for _number, values in sorted(by_line.items())
            if any((v or "").strip() for name in LINE_TEXT_FIELDS for v in values.get(name, []))]
    for n, values in enumerate(kept):
        for name, value_list in values.items():
            plain.setlist(f"{LINE_PREFIX}-{n}-{name}", value_list)
    return plain


def _charge_values(types: dict) -> dict[str, str]:
    return {code: (request.form.get(f"charge-{code}") or "").strip() for code in types}


def _fields(form: InvoiceForm, types: dict) -> invoices.InvoiceFields:
    usable = {str(f.id): f for f in funds.chargeable_funds(current_user, _document_day(form))}
    lines = []
    for n, entry in enumerate(form.lines, start=1):
        lf = entry.form
        pol = None
        pol_number = (lf.po_line.data or "").strip()
        if pol_number:
            try:
                pol = orders.get_po_line(current_user, pol_number)
            except NotFound:
                raise InvalidInput(T("Line %(n)s: there is no PO line %(pol)s (or it is not yours to see).", n=n,
                                     pol=pol_number), "lines") from None
        shares = distribution_shares(lf.fund_rows(), usable, "lines",
                                     f"Line {n}: choose the fund of distribution row {{row}}.")
        lines.append(invoices.LineFields(
            unit_price=(lf.unit_price.data or "").strip(), quantity=(lf.quantity.data or "").strip(),
            line_type=lf.line_type.data or "regular", po_line=pol, total=(lf.total.data or "").strip() or None,
            fully_invoiced=lf.fully_invoiced.data, price_note=lf.price_note.data or "",
            subscription_from=lf.subscription_from.data, subscription_to=lf.subscription_to.data,
            reporting_code=lf.reporting_code.data or "", vat_code=lf.vat_code.data or "",
            vat_percent=(lf.vat_percent.data or "").strip() or None, vat_amount=(lf.vat_amount.data or "").strip()
            or None, distribution_method=lf.distribution_method.data, distribution=shares))
    return invoices.InvoiceFields(
        number=form.number.data or "", vendor=chosen(Vendor, form.vendor.data, "vendor", T("vendor")),
        invoice_date=form.invoice_date.data, total_amount=(form.total_amount.data or "").strip(),
        currency=(form.currency.data or "").strip(),
        vendor_account=chosen(VendorAccount, form.vendor_account.data, "vendor_account", T("vendor account")),
        due_date=form.due_date.data, owner_library=chosen(Library, form.owner_library.data, "owner_library", T("library")),
        payment_method=form.payment_method.data, reference_number=form.reference_number.data or "",
        notes=form.notes.data or "", prepaid=form.prepaid.data, export_prepaid=form.export_prepaid.data,
        internal_copy=form.internal_copy.data, explicit_ratio=(form.explicit_ratio.data or "").strip() or None,
        pro_rata=PRO_RATA.get(form.pro_rata.data), charges={c: v for c, v in _charge_values(types).items() if v},
        vat_level=form.vat_level.data, vat_inclusive=form.vat_inclusive.data, vat_code=form.vat_code.data or "",
        vat_percent=(form.vat_percent.data or "").strip() or None,
        vat_amount=(form.vat_amount.data or "").strip() or None, vat_separate_line=form.vat_separate_line.data,
        vat_fund=chosen(Fund, form.vat_fund.data, "vat_fund", T("fund")), lines=lines)


# -- errors on the form ------------------------------------------------------------------------

def _new_errors(form: InvoiceForm) -> InvoiceForm:
    form.line_errors, form.lines_errors, form.charge_errors, form.vat_errors = {}, [], [], []
    return form


def _locate_line(fields: invoices.InvoiceFields | None, exc: DomainError) -> int | None:
    """The line a distribution message (which does not say) belongs to: check each line's
    distribution alone and find the one refused with the same message."""
    if fields is None or fields.vendor is None:
        return None
    currency = (fields.currency or fields.vendor.currency or "EUR").strip().upper()
    owner_id = fields.owner_library.id if fields.owner_library else None
    for n, lf in enumerate(fields.lines, start=1):
        try:
            total = Decimal(str(lf.total)) if lf.total else Decimal(str(lf.unit_price)) * int(lf.quantity)
        except (InvalidOperation, ValueError):
            total = Decimal(0)
        try:
            distribute(current_user, lf.distribution, lf.distribution_method, quantize(total, currency), currency,
                       owner_id, field="lines", what=T("the total of line %(n)s", n=n))
        except DomainError as other:
            if other.message == exc.message:
                return n
        except (ValueError, ArithmeticError):
            continue
    return None


def _attach(form: InvoiceForm, exc: DomainError, fields: invoices.InvoiceFields | None = None) -> None:
    if exc.field in ("lines", "distribution"):
        found = LINE_NUMBER.search(exc.text)   # the English sentence (exc.message may be translated)
        number = int(found.group(1)) if found else _locate_line(fields, exc)
        message = exc.message if found or number is None else _("Line %(n)s: %(message)s", n=number,
                                                                 message=exc.message)
        if number is not None:
            form.line_errors.setdefault(number, []).append(message)
        form.lines_errors.append(message)
    elif exc.field == "charges":
        form.charge_errors.append(exc.message)
    elif exc.field == "vat":
        form.vat_errors.append(exc.message)
    else:
        before = len(form.form_errors)
        attach_error(form, exc)
        if len(form.form_errors) == before:
            form.form_errors.append(_("The invoice was not saved: see the messages below."))


# -- pre-filling -------------------------------------------------------------------------------

def _fill_from_invoice(form: InvoiceForm, invoice: Invoice) -> dict[str, str]:
    """The form shows the invoice as it is (GET of the edit page); returns the charge values."""
    currency = invoice.currency
    for name in ("number", "invoice_date", "due_date", "payment_method", "reference_number", "notes", "prepaid",
                 "export_prepaid", "internal_copy", "vat_level", "vat_inclusive", "vat_code", "vat_separate_line"):
        form[name].data = getattr(invoice, name)
    form.vendor.data = str(invoice.vendor_id)
    form.vendor_account.data = str(invoice.vendor_account_id or "")
    form.owner_library.data = str(invoice.owner_library_id or "")
    form.currency.data = invoice.currency
    form.total_amount.data = format_plain(invoice.total_amount, currency)
    form.explicit_ratio.data = _plain(invoice.explicit_ratio)
    form.pro_rata.data = {None: "", True: "on", False: "off"}[invoice.pro_rata]
    form.vat_percent.data = _plain(invoice.vat_percent)
    form.vat_amount.data = format_plain(invoice.vat_amount, currency) if invoice.vat_amount else ""
    form.vat_fund.data = str(invoice.vat_fund_id or "")
    for line in invoice.lines:
        if line.line_type == "vat":   # the separate VAT line: the service adds it again on saving
            continue
        lf = form.lines.append_entry().form
        for name in ("line_type", "quantity", "fully_invoiced", "price_note", "subscription_from", "subscription_to",
                     "reporting_code", "vat_code", "distribution_method"):
            lf[name].data = getattr(line, name)
        lf.quantity.data = str(line.quantity)
        lf.po_line.data = line.po_line.number if line.po_line else ""
        lf.unit_price.data = format_plain(line.unit_price, currency)
        # A total that is just quantity × price stays empty, so changing the price changes it.
        lf.total.data = "" if line.total == line.unit_price * line.quantity else format_plain(line.total, currency)
        lf.vat_percent.data = _plain(line.vat_percent)
        lf.vat_amount.data = format_plain(line.vat_amount, currency) if line.vat_amount else ""
        for (fund_field, share_field), d in zip(lf.fund_rows(), line.distribution):
            fund_field.data = str(d.fund_id)
            share_field.data = _plain(d.percent) if line.distribution_method == "percent" \
                else format_plain(d.amount, currency)
    return {c.charge_type: format_plain(c.amount, currency) for c in invoice.charges}


def _percents(distribution, net_price: Decimal) -> list[Decimal]:
    """A PO line's distribution as percents adding up to exactly 100."""
    if all(d.percent is not None for d in distribution):
        return [d.percent for d in distribution]
    weights = [abs(d.amount) for d in distribution] if net_price and any(d.amount for d in distribution) \
        else [1] * len(distribution)
    return split(Decimal(100), weights, PERCENT_UNIT)


def _fill_from_po(form: InvoiceForm, po: PurchaseOrder) -> None:
    """Vendor, currency and owner of the PO, one line per open PO line (all editable before saving)."""
    open_lines = [pol for pol in po.lines if pol.is_open and not pol.is_unpaid]   # a gift is never invoiced
    form.vendor.data = str(po.vendor_id)
    form.owner_library.data = str(po.owner_library_id or "")
    form.currency.data = open_lines[0].currency if open_lines else po.vendor.currency
    form.notes.data = _("Invoice for %(po)s", po=po.number)
    for pol in open_lines:
        lf = form.lines.append_entry().form
        lf.po_line.data = pol.number
        lf.quantity.data = str(pol.quantity)
        unit = quantize(pol.net_price / pol.quantity, pol.currency)
        lf.unit_price.data = format_plain(unit, pol.currency)
        lf.total.data = "" if unit * pol.quantity == pol.net_price else format_plain(pol.net_price, pol.currency)
        lf.reporting_code.data = pol.reporting_code
        lf.distribution_method.data = "percent"
        if pol.distribution:
            for (fund_field, share_field), d, pct in zip(lf.fund_rows(), pol.distribution,
                                                         _percents(pol.distribution, pol.net_price)):
                fund_field.data = str(d.fund_id)
                share_field.data = _plain(pct)
    form.total_amount.data = format_plain(sum((pol.net_price for pol in open_lines), Decimal(0)),
                                          form.currency.data) if open_lines else ""


# -- the page ----------------------------------------------------------------------------------

def _detail_url(invoice_id: int) -> str:
    if "invoices.show" in current_app.view_functions:
        try:
            return url_for("invoices.show", invoice_id=invoice_id)
        except BuildError:
            pass
    return url_for("invoice_forms.edit", invoice_id=invoice_id)


def _save(invoice: Invoice | None, fields: invoices.InvoiceFields, confirm: str | None, channel: str) -> Invoice:
    if invoice is None:
        return invoices.create_invoice(current_user, fields, channel=channel, confirm=confirm)
    return invoices.update_invoice(current_user, invoice, fields, confirm=confirm)


def _preview(invoice: Invoice | None, fields: invoices.InvoiceFields, confirm: str | None, channel: str) -> dict:
    """What saving would charge each fund, computed by saving in a savepoint that is rolled back."""
    result = {"rows": [], "error": None, "note": None}
    savepoint = db.session.begin_nested()
    try:
        try:
            saved = _save(invoice, fields, confirm, channel)
        except invoices.ConfirmationNeeded as exc:
            # Preview as if the VAT stays as entered; saving asks the question.
            savepoint.rollback()
            savepoint = db.session.begin_nested()
            result["note"] = _("Saving will ask: %(question)s", question=exc.message)
            saved = _save(invoice, fields, "no_vat" if "no_vat" in invoices.ANSWERS[exc.check] else "yes", channel)
        for charge in charges_of(saved):
            result["rows"].append({
                "line": charge.line.position, "line_type": charge.line.line_type, "fund": charge.fund.code,
                "fund_name": charge.fund.name, "period": charge.fund.fiscal_period.code, "amount": charge.amount,
                "currency": saved.currency, "fund_amount": charge.fund_amount, "fund_currency": charge.fund.currency,
                "rate": charge.rate_text})
    except DomainError as exc:
        result["error"] = exc.message
    finally:
        if savepoint.is_active:
            savepoint.rollback()
    db.session.expire_all()
    return result


def _dialog_response(ctx: dict, question: str, check):
    answers = sorted(invoices.ANSWERS[check])
    dialog = {"question": question, "governmental": "add_vat" in answers, "then": _then()}
    ctx["dialog"] = dialog
    # HTMX gets the whole editor (the form as posted, now valid, with the question): messages of an
    # earlier refusal under fields since filled in must not stay on the page behind the dialog.
    return _refused(ctx["form"], ctx, status=409)


def _then() -> str:
    """Which save button was pressed; the dialog's answer buttons carry it as ``confirm_then``."""
    then = request.form.get("then") or request.form.get("confirm_then") or "save"
    return then if then in ("save", "continue") else "save"


def _after_save(invoice_id: int, created: bool, then: str) -> str:
    if then == "continue":
        writing_again()   # the save was committed: processing is a second write
    invoice = invoices.get_invoice(current_user, invoice_id)
    message = _("Invoice %(number)s created.", number=invoice.number) if created \
        else _("Invoice %(number)s saved.", number=invoice.number)
    if then == "continue":
        with saving() as processed:
            invoices.process_invoice(current_user, invoice)
        if not processed:
            flash(message, "ok")
            flash(_("Not processed: %(reason)s", reason=processed.message), "error")
            return _detail_url(invoice_id)
        message = _("Invoice %(number)s created: it is %(status)s.", number=invoice.number,
                    status=invoice.status_label) if created else \
            _("Invoice %(number)s saved: it is %(status)s.", number=invoice.number, status=invoice.status_label)
    flash(message, "ok")
    for problem in invoices.review_problems_for(current_user, invoice):
        flash(_("Review: %(problem)s", problem=problem.text), "error")
    return _detail_url(invoice_id)


def _invoice_form(invoice: Invoice | None, po: PurchaseOrder | None = None):
    posted = request.method == "POST"
    refresh_funds = posted and "refresh_funds" in request.form
    if posted:
        # "Add line" keeps the empty lines, as does a change of the invoice date (its answer swaps the
        # fund pickers by their ids); everything else drops them (see _compacted).
        keep = "add_line" in request.form or refresh_funds
        formdata = request.form if keep else _compacted(request.form)
        form = _new_errors(InvoiceForm(formdata=formdata))
    else:
        form = _new_errors(InvoiceForm(formdata=None))
    url = request.full_path.rstrip("?")   # this form's own URL, asked again when the invoice date changes
    form.invoice_date.render_kw = {**form.invoice_date.render_kw, "hx-post": url, "hx-trigger": "change",
                                   "hx-swap": "none", "hx-vals": '{"refresh_funds": "1"}'}
    charge_values: dict[str, str] = {}
    if not posted:
        if invoice is not None:
            charge_values = _fill_from_invoice(form, invoice)
        elif po is not None:
            _fill_from_po(form, po)
        while len(form.lines) < (1 if (invoice or po) else LINE_ROWS):
            form.lines.append_entry()
    extra_funds = [d.fund for ln in invoice.lines for d in ln.distribution] if invoice is not None else []
    ctx = _choices(form, invoice, extra_funds)
    if posted:
        charge_values = _charge_values(ctx["charge_types"])
    channel = "po" if po is not None else "manual"
    ctx.update(form=form, invoice=invoice, po=po, charge_values=charge_values, channel=channel, preview=None,
               dialog=None, fund_rows=FUND_ROWS)
    if not posted:
        return render(PAGE, EDITOR, **ctx)
    if refresh_funds and is_htmx():
        # the invoice date changed: every line's fund pickers for its period, out of band (the
        # rest of the form, being typed in, stays as it is); what was chosen stays chosen
        return render(PAGE, "invoices/_fund_pickers.html", **ctx)

    if "add_line" in request.form or refresh_funds:
        form.lines.append_entry()
        _choices(form, invoice, extra_funds)
        return render(PAGE, EDITOR, **ctx)
    if not form.validate():
        form.form_errors.append(_("The invoice was not saved: see the messages below."))
        return _refused(form, ctx)
    recalculate = "recalculate" in request.form   # a preview: checked, never committed
    fields = None
    with saving(commit=not recalculate) as saved:
        fields = _fields(form, ctx["charge_types"])
        if recalculate:
            ctx["preview"] = _preview(invoice, fields, request.form.get("confirm") or None, channel)
        else:
            stored = _save(invoice, fields, request.form.get("confirm") or None, channel)
    if not saved:
        ctx["invoice"] = invoices.get_invoice(current_user, invoice.id) if invoice is not None else None
        if isinstance(saved.error, invoices.ConfirmationNeeded):
            return _dialog_response(ctx, saved.message, saved.error.check)
        _attach(form, saved.error, fields)
        return _refused(form, ctx)
    if recalculate:
        if invoice is not None:
            ctx["invoice"] = invoices.get_invoice(current_user, invoice.id)
        if is_htmx():
            return render("invoices/_lines_preview.html", preview=ctx["preview"])
        return render(PAGE, **ctx)
    url = _after_save(stored.id, invoice is None, _then())
    for entry in form.lines:   # funds chosen on purpose outside the open period of the invoice date
        for fund_field, _share in entry.form.fund_rows():
            if fund_field.description:
                flash(fund_field.description, "warning")
    return redirect_to(url)


def _refused(form: InvoiceForm, ctx: dict, status: int = 422):
    while not form.lines:
        form.lines.append_entry()
        _line_choices(form.lines[-1].form, ctx["line_types"], ctx["fund_choices"])
    return render(PAGE, EDITOR, status=status, **ctx)


@bp.route("/invoices/new", methods=["GET", "POST"])
@roles_required(*EDIT)
def new():
    """A new invoice; ``?po=PO-000012`` pre-fills it from that purchase order."""
    if not _owner_choices():
        abort(403)
    ref = (request.args.get("po") or "").strip()
    po = orders.get_po(current_user, ref) if ref else None
    return _invoice_form(None, po)


@bp.route("/invoices/<int:invoice_id>/edit", methods=["GET", "POST"])
@roles_required(*EDIT)
def edit(invoice_id):
    invoice = invoices.get_invoice(current_user, invoice_id)
    if not invoices.can_edit(current_user, invoice.owner_library_id):
        abort(403)
    if request.method == "GET" and invoice.status not in EDITABLE:
        locked = _("Invoice %(number)s is %(status)s: it can be edited only In Review or In Approval. Send it back to "
                   "review first.", number=invoice.number, status=invoice.status_label)
        return render(PAGE, invoice=invoice, form=None, locked=locked, detail_url=_detail_url(invoice.id))
    return _invoice_form(invoice)


@bp.get("/invoices/new/line")
@roles_required(*EDIT)
def line_row():
    """One more empty line for the form ("Add line" with HTMX); ``line_count`` is how many the
    form has. Without HTMX there is nothing to show alone: go to the new invoice form."""
    if not is_htmx():
        return redirect(url_for("invoice_forms.new"))
    index = max(0, min(request.args.get("line_count", 0, type=int), MAX_LINES - 1))
    form = InvoiceForm(formdata=None)
    form.lines.last_index = index - 1   # the new entry is named lines-<index>-…
    form.lines.append_entry()
    try:   # its funds: of the period covering the form's invoice date
        form.invoice_date.data = date.fromisoformat(request.args.get("invoice_date") or "")
    except ValueError:
        pass
    _choices(form, None)
    return render("invoices/_lines_row.html", line=form.lines[-1].form, number=index + 1, line_count=index + 1,
                  line_errors={}, fund_rows=FUND_ROWS)
