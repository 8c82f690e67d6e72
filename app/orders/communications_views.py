"""The communications tab of a PO line (claims and general messages to the vendor) and the claims list.

The tab is ``/orders/lines/<number>/communications`` (asked with HX-Request: the line page without
the layout, #pol-page). Its forms (start, respond, retry) post to their own URLs, which answer an
HTMX request with the fragment they swap (#communications). Writing needs a purchasing role whose
scope covers the line's owner; reading and downloading an attachment follow the line's visibility
(404 outside it).
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import func, select
from wtforms import SelectField, StringField, TextAreaField

from .. import clock, list_columns
from ..auth.permissions import ALL_ROLES, roles_required
from ..exports import Column, Columns, export_response, related, rows_of
from ..extensions import db, htmx
from ..htmx import render
from ..inventory.forms import suffix_ids
from ..limits import free_text
from ..org.models import Library
from ..saving import saving
from ..text import T
from ..vendors.models import Vendor
from . import communications
from . import services as orders
from .models import POL_STATUSES, Communication, POLine

bp = Blueprint("communications", __name__)
VIEW = ALL_ROLES
WRITE = orders.PURCHASING
BARE = "orders/_bare.html"
FRAGMENT = "orders/_communications.html"
PAGE = "orders/communications.html"
INSTITUTION = T("Institution")


class StartForm(FlaskForm):
    kind = SelectField(_l("Type"), choices=list(communications.KINDS.items()))
    to_address = StringField(_l("To (vendor e-mail)"))
    subject = StringField(_l("Subject"))
    body = TextAreaField(_l("Message"), validators=[free_text()], render_kw={"rows": 14})
    attachment = FileField(_l("Attachment"), description=_l("Optional: a PDF of an earlier e-mail, a proforma "
                                                            "invoice, a photo of a damaged item… (at most 10 MB)."))
    internal_note = TextAreaField(_l("Internal note"), validators=[free_text()], render_kw={"rows": 2},
                                  description=_l("Kept here for colleagues; not sent to the vendor."))


class ResponseForm(FlaskForm):
    body = TextAreaField(_l("Vendor's response"), validators=[free_text()], render_kw={"rows": 5},
                         description=_l("Paste the text of the vendor's e-mail, or attach it below."))
    attachment = FileField(_l("Attachment"), description=_l("e.g. the e-mail saved as PDF (at most 10 MB)."))


# -- helpers -----------------------------------------------------------------------------------

def _pol(number) -> POLine:
    return orders.get_po_line(current_user, number)


def _pol_to_write(number) -> POLine:
    """A line the user may write about: 404 when out of sight, 403 when seen but not theirs."""
    pol = _pol(number)
    if not communications.can_write(current_user, pol):
        abort(403)
    return pol


def _start_form(pol: POLine) -> StartForm:
    kind = "claim" if pol.po is not None and pol.po.sent_at is not None else "general"
    return StartForm(formdata=None, data=dict(kind=kind, to_address=communications.default_recipient(pol),
                                              subject=communications.default_subject(pol),
                                              body=communications.default_body(pol)))


def _response_form(comm: Communication, submitted: bool = False) -> ResponseForm:
    """The response form of one thread (unique field ids), bound to the request when ``submitted``."""
    return suffix_ids(ResponseForm() if submitted else ResponseForm(formdata=None), f"C{comm.id}")


def _upload(storage) -> tuple[str, bytes] | None:
    """The uploaded file's name and bytes; reading stops just past the size limit (the service
    refuses it then)."""
    if storage is None or not getattr(storage, "filename", ""):
        return None
    return storage.filename, storage.stream.read(communications.max_attachment_bytes() + 1)


def _page(pol: POLine, *, status: int = 200, start_form: StartForm | None = None,
          response_forms: dict | None = None, notice: str = "", problem: str = "", open_start: bool = False,
          fragment: bool = True):
    """The tab: for HTMX the #communications fragment (what the forms swap), or with ``fragment=False``
    (the tab itself) the line page without the layout; the whole page otherwise."""
    can_write = communications.can_write(current_user, pol)
    threads = communications.threads(pol)
    forms = {c.id: _response_form(c) for c in threads} if can_write else {}
    forms.update(response_forms or {})
    ctx = dict(pol=pol, active_tab="communications", threads=threads, can_write=can_write,
               start_form=(start_form or _start_form(pol)) if can_write else None, response_forms=forms,
               notice=notice, problem=problem, open_start=open_start or (start_form is not None) or not threads)
    if htmx and fragment:
        return render(PAGE, FRAGMENT, status=status, **ctx)
    return render(PAGE, status=status, pol_layout=BARE if htmx else "base.html", **ctx)


def _after_post(pol: POLine, notice: str = "", problem: str = ""):
    """HTMX: the fragment with the outcome; without JavaScript: back to the tab (post/redirect/get)."""
    if htmx:
        return _page(pol, notice=notice, problem=problem)
    if notice:
        flash(notice, "ok")
    if problem:
        flash(problem, "error")
    return redirect(url_for("communications.thread", number=pol.number))


def _delivery_problem(message) -> str:
    return _("The message was saved but not sent: %(error)s Use “Retry sending” once the mail server works again.",
             error=message.delivery_error)


# -- the communications tab --------------------------------------------------------------------

@bp.get("/orders/lines/<number>/communications")
@roles_required(*VIEW)
def thread(number):
    return _page(_pol(number), open_start=bool(request.args.get("start")), fragment=False)


@bp.post("/orders/lines/<number>/communications")
@roles_required(*WRITE)
def start(number):
    pol = _pol_to_write(number)
    form = StartForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            comm = communications.start_communication(
                current_user, pol, form.kind.data, form.subject.data, form.body.data, form.to_address.data,
                attachment=_upload(form.attachment.data), internal_note=form.internal_note.data)
        if not saved:
            return _page(_pol(number), status=422, start_form=form)
        message = comm.messages[0]
        if message.delivery_error:
            return _after_post(pol, problem=_delivery_problem(message))
        return _after_post(pol, notice=_("%(kind)s “%(subject)s” sent to %(address)s.",
                                         kind=communications.KINDS[comm.kind], subject=comm.subject,
                                         address=message.to_address))
    return _page(pol, status=422, start_form=form)


@bp.post("/orders/lines/<number>/communications/<int:communication_id>/responses")
@roles_required(*WRITE)
def respond(number, communication_id):
    pol = _pol_to_write(number)
    comm = communications.get_communication(pol, communication_id)
    form = _response_form(comm, submitted=True)
    if form.validate_on_submit():
        with saving(form) as saved:
            communications.add_response(current_user, comm, form.body.data, attachment=_upload(form.attachment.data))
        if not saved:
            return _page(_pol(number), status=422, response_forms={communication_id: form})
        return _after_post(pol, notice=_("Response added to “%(subject)s”.", subject=comm.subject))
    return _page(pol, status=422, response_forms={communication_id: form})


@bp.post("/orders/lines/<number>/communications/messages/<int:message_id>/retry")
@roles_required(*WRITE)
def retry(number, message_id):
    pol = _pol_to_write(number)
    message = communications.get_message(pol, message_id)
    delivered = communications.retry(current_user, message)
    db.session.commit()
    if delivered:
        return _after_post(pol, notice=_("Sent to %(address)s.", address=message.to_address))
    return _after_post(pol, problem=_delivery_problem(message))


@bp.get("/orders/communications/messages/<int:message_id>/attachment")
@roles_required(*VIEW)
def attachment(message_id):
    message = communications.get_visible_message(current_user, message_id)
    resp = send_file(communications.attachment_path(message), mimetype="application/octet-stream", as_attachment=True,
                     download_name=message.attachment_name or "attachment", max_age=0)
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


# -- the claims list ---------------------------------------------------------------------------

def _claims_url(page: int | None = None) -> str:
    params = {"page": page} if page and page > 1 else {}
    return url_for("communications.claims") + ("?" + urlencode(params) if params else "")


def _of_claims(value):
    """``value`` over the claims started on the list's line, as a scalar subquery."""
    return (select(value).where(Communication.po_line_id == POLine.id, Communication.kind == "claim")
            .correlate(POLine).scalar_subquery())


def _overdue(expected) -> int:
    return (clock.today() - expected).days


CLAIM_COLUMNS = Columns([
    Column("number", T("PO line"), fixed=True),
    Column("title", T("Title")),
    Column("vendor", T("Vendor"), sql=related(Vendor, POLine.vendor_id), cell=lambda p: p.vendor.code),
    Column("vendor_name", T("Vendor name"), sql=related(Vendor, POLine.vendor_id, "name"),
           cell=lambda p: p.vendor.name, shown=False),
    Column("owner", T("Owner"), sql=related(Library, POLine.owner_library_id), value=lambda r: r.owner or INSTITUTION,
           cell=lambda p: p.owner_library.code if p.owner_library else INSTITUTION),
    Column("status", T("Status"), value=lambda r: POL_STATUSES.get(r.status, r.status),
           cell=lambda p: POL_STATUSES.get(p.status, p.status), shown=False),
    Column("vendor_reference", T("Vendor reference"), shown=False),
    Column("currency", T("Currency"), shown=False),
    Column("net_price", T("Net price"), "money", currency="currency", shown=False),
    Column("sent_at", T("Sent (UTC)"), "datetime", shown=False),
    Column("expected_receipt_date", T("Expected"), "date"),
    Column("days_overdue", T("Days overdue"), "number", sql=POLine.expected_receipt_date,
           value=lambda r: _overdue(r.days_overdue), cell=lambda p: _overdue(p.expected_receipt_date)),
    Column("claims", T("Claims"), "number", sql=_of_claims(func.count(Communication.id))),
    Column("last_claim", T("Last claim (UTC)"), "datetime", sql=_of_claims(func.max(Communication.created_at))),
])
CLAIM_TABLE = list_columns.register("claims", T("Claims"), CLAIM_COLUMNS)


@bp.get("/orders/claims")
@roles_required(*VIEW)
def claims():
    today = clock.today()
    page = db.paginate(orders.claims_query(current_user, today), page=max(request.args.get("page", 1, type=int), 1),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render("orders/claims.html", "orders/_claims_table.html", page=page, page_url=_claims_url, today=today,
                  last_claims=communications.claim_counts([p.id for p in page.items]), table=CLAIM_TABLE,
                  columns=list_columns.shown(current_user, CLAIM_TABLE),
                  column_choices=list_columns.choices(current_user, CLAIM_TABLE),
                  export_url=lambda fmt: url_for("communications.export_claims", fmt=fmt))


@bp.get("/orders/claims/export.csv", defaults={"fmt": "csv"})
@bp.get("/orders/claims/export.xlsx", defaults={"fmt": "xlsx"})
@roles_required(*VIEW)
def export_claims(fmt):
    """Every overdue line of the claims list the user may see, oldest first, in the columns they show."""
    columns = list_columns.exported(current_user, CLAIM_TABLE)
    return export_response(rows_of(orders.claims_query(current_user, clock.today()), columns), columns, fmt,
                           "claims", sheet=T("Claims"))
