"""Letters to vendors on screen: the administrator's letter templates (a list with each kind's
active switch; an editing page per kind with a live preview on demo data, a PDF preview, reset and
"send a test to me"), and the messages of a PO and of a PO line (their Communications), with their
PDF and EDI files and "send again".

HTMX fragments are the same URLs asked with HX-Request: the preview (#letter-preview) and the
messages list (#vendor-messages), which "send again" answers with. Templates are for institution
administrators; messages follow their PO's library scope (404 outside it), and sending again needs a
purchasing role over the PO's library (403).
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, make_response, redirect, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, TextAreaField

from ..auth.models import Role
from ..auth.permissions import ALL_ROLES, is_institution_admin, roles_required
from ..errors import DomainError, NotFound
from ..extensions import db, htmx
from ..htmx import render
from ..i18n import LANGUAGES, current_language
from ..invoices.models import Invoice
from ..invoices.services import invoice_actions
from ..letters import KINDS, PARTS
from ..letters import pdf as letter_pdf
from ..letters.data import demo_context
from ..letters.render import LetterTemplateError, default_source
from ..orders import services as orders
from ..orders.models import PurchaseOrder
from ..saving import saving
from . import delivery, files, runs, services
from . import templates as letters
from .models import PROBLEM_STATUSES, VendorMessage

bp = Blueprint("outgoing", __name__)
VIEW = ALL_ROLES
SEND = orders.PURCHASING
MESSAGES = "outgoing/_messages.html"
PART_LABELS = {"subject": _l("Subject"), "body": _l("E-mail body (HTML)"), "pdf": _l("PDF layout (HTML)")}


class TemplateForm(FlaskForm):
    # No length validator here: the application's limit on free text (app.limits) holds every field.
    subject = TextAreaField(PART_LABELS["subject"], render_kw={"rows": 2, "spellcheck": "false"})
    body = TextAreaField(PART_LABELS["body"], render_kw={"rows": 14, "spellcheck": "false"})
    pdf = TextAreaField(PART_LABELS["pdf"], render_kw={"rows": 20, "spellcheck": "false"})
    active = BooleanField(_l("Active (letters of this kind are made and sent)"))


# -- template globals: the orders' pages show the messages without importing this module ---------

@bp.app_template_global()
def vendor_messages_for_line(pol) -> list[VendorMessage]:
    return services.messages_for_line(current_user, pol)


@bp.app_template_global()
def vendor_messages_for_po(po) -> list[VendorMessage]:
    return services.messages_for_po(current_user, po)


@bp.app_template_global()
def pos_with_message_problems(pos) -> set[int]:
    """Ids among ``pos`` with a failed or interrupted message the user may see (the PO list badge)."""
    ids = [po.id for po in pos]
    if not ids:
        return set()
    return set(db.session.scalars(select(VendorMessage.po_id).where(
        VendorMessage.po_id.in_(ids), VendorMessage.status.in_(PROBLEM_STATUSES),
        services.visible_clause(current_user))).all())


@bp.app_template_global()
def vendor_message_reason(message: VendorMessage):
    """Why ``message`` was made, in the reader's language (see :func:`.services.reason_text`)."""
    return services.reason_text(message.reason)


@bp.app_template_global()
def can_send_message(message: VendorMessage) -> bool:
    return services.can_send(current_user, message)


@bp.app_template_global()
def letters_on_monitor() -> dict:
    """Monitor Jobs' card: letters waiting by status, and those that failed or were interrupted."""
    return {"waiting": runs.waiting(), "problems": services.problems(current_user),
            "interval": int(current_app.config.get("OUTGOING_INTERVAL_SECONDS") or 60)}


@bp.post("/outgoing/send-now")
@roles_required(Role.ADMIN)
def send_now():
    """Monitor Jobs' "Send waiting letters now": a delivery run in the background (awaited by the
    request when background runs are off, ``OUTGOING_KICK`` False, as in the tests)."""
    if not is_institution_admin(current_user):
        abort(403)
    if not FlaskForm().validate():
        abort(400)
    db.session.commit()   # end this request's transaction: on SQLite it would hold the lock the run needs
    thread = runs.in_background(current_app._get_current_object(), trigger="manual")
    if current_app.config.get("OUTGOING_KICK", True):
        flash(_("Sending the letters that wait; the run appears below when it has sent or tried any."), "ok")
    else:
        thread.join(timeout=120)
        flash(_("The letters that waited were sent or tried: see the run below."), "ok")
    return redirect(url_for("integrations.monitor"))


# -- letter templates (administrators) ---------------------------------------------------------

def _admin_only() -> None:
    if not is_institution_admin(current_user):
        abort(403)


def _template_kind(letter: str) -> str:
    """The letter kind of the URL, for an institution administrator (else 403; an unknown kind 404)."""
    _admin_only()
    if letter not in KINDS:
        abort(404)
    return letter


def _language() -> str:
    """The language of the letter template being edited (``?language=``; default: the language of
    the page, so each administrator starts on the letters in their own language)."""
    chosen = request.args.get("language")
    return chosen if chosen in LANGUAGES else letters.language_of(current_language())


def _parts(form: TemplateForm) -> dict[str, str]:
    return {part: getattr(form, part).data or "" for part in PARTS}


def template_fields(kind: str, language: str = "en") -> list[str]:
    """The names a template of ``kind`` can use, as they are written in it (``po.number``; a list's
    items as ``lines[].title``, used inside ``{% for line in lines %}``)."""
    names = []

    def walk(prefix, value):
        if isinstance(value, dict):
            for key in value:
                walk(f"{prefix}.{key}" if prefix else key, value[key])
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            walk(prefix + "[]", value[0])
        else:
            names.append(prefix)
    walk("", demo_context(kind, language))
    return names


def _editor(kind: str, form: TemplateForm | None = None, status: int = 200, errors=None, notice: str = "",
            problem: str = ""):
    language = _language()
    row = letters.saved(kind, language)
    if form is None:
        data = {part: (getattr(row, part, None) if row else None) or default_source(kind, part, language)
                for part in PARTS}
        form = TemplateForm(formdata=None, data=dict(data, active=letters.is_active(kind)))
    errors = letters.check(kind, _parts(form), language) if errors is None else errors
    for part, exc in errors.items():
        getattr(form, part).errors = [str(exc)]
    preview = None if errors else letters.preview(kind, _parts(form), language)
    return render("outgoing/template_form.html", status=status, kind=kind, label=KINDS[kind], form=form,
                  errors=errors, preview=preview, fields=template_fields(kind, language), row=row,
                  changed=letters.is_changed(row), language=language, notice=notice, problem=problem,
                  user_email=current_user.email or "")


def _posted(kind: str):
    """The template form posted for ``kind``, and the editor's 422 answer naming each part's problem
    (None when every part renders)."""
    form = TemplateForm()
    if not form.validate_on_submit():
        return form, _editor(kind, form, 422)
    errors = letters.check(kind, _parts(form), _language())
    return form, (_editor(kind, form, 422, errors) if errors else None)


@bp.get("/admin/letters")
@roles_required(Role.ADMIN)
def templates():
    _admin_only()
    return render("outgoing/templates.html", kinds=letters.all_kinds())


@bp.post("/admin/letters/<letter>/active")
@roles_required(Role.ADMIN)
def set_active(letter):
    kind = _template_kind(letter)
    if not FlaskForm().validate():
        abort(400)
    active = request.form.get("active") == "1"
    with saving():
        letters.set_active(current_user, kind, active)
    flash(_("%(letter)s: active.", letter=KINDS[kind]) if active else _("%(letter)s: not made.", letter=KINDS[kind]),
          "ok")
    if htmx:
        return render("outgoing/templates.html", "outgoing/_templates_table.html", kinds=letters.all_kinds())
    return redirect(url_for("outgoing.templates"))


@bp.route("/admin/letters/<letter>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit(letter):
    kind = _template_kind(letter)
    if request.method == "GET":
        return _editor(kind)
    form, refused = _posted(kind)
    if refused is not None:
        return refused
    language = _language()
    with saving(form) as saved:
        letters.save(current_user, kind, _parts(form), form.active.data, language)
    if not saved:
        return _editor(kind, form, 422)
    flash(_("%(letter)s template saved.", letter=KINDS[kind]), "ok")
    return redirect(url_for("outgoing.edit", letter=kind, language=language))


@bp.post("/admin/letters/<letter>/preview")
@roles_required(Role.ADMIN)
def preview(letter):
    """The live preview of the text being typed (#letter-preview): nothing is saved."""
    kind = _template_kind(letter)
    form = TemplateForm()
    if not form.validate():
        abort(400)
    language = _language()
    errors = letters.check(kind, _parts(form), language)
    letter = None if errors else letters.preview(kind, _parts(form), language)
    return render("outgoing/_preview.html", kind=kind, preview=letter, errors=errors, oob=True)


@bp.post("/admin/letters/<letter>/preview.pdf")
@roles_required(Role.ADMIN)
def preview_pdf(letter):
    kind = _template_kind(letter)
    form = TemplateForm()
    if not form.validate():
        abort(400)
    try:
        letter = letters.preview(kind, _parts(form), _language())
    except LetterTemplateError as exc:
        return _editor(kind, form, 422, problem=_("No PDF: %(problem)s", problem=exc.message))
    return _pdf_response(letter_pdf.render_pdf(letter.pdf_html), f"{kind}-preview.pdf", inline=True)


@bp.post("/admin/letters/<letter>/reset")
@roles_required(Role.ADMIN)
def reset(letter):
    kind = _template_kind(letter)
    if not FlaskForm().validate():
        abort(400)
    language = _language()
    with saving():
        letters.reset(current_user, kind, language)
    flash(_("%(letter)s template back to the built-in one.", letter=KINDS[kind]), "ok")
    return redirect(url_for("outgoing.edit", letter=kind, language=language))


@bp.post("/admin/letters/<letter>/test")
@roles_required(Role.ADMIN)
def send_test(letter):
    """E-mail the demo letter of the text on the page (saved or not) to the administrator."""
    kind = _template_kind(letter)
    form, refused = _posted(kind)
    if refused is not None:
        return refused
    try:
        to = letters.send_test(current_user, kind, _parts(form), _language())
    except DomainError as exc:
        return _editor(kind, form, 422, problem=exc.message)
    return _editor(kind, form, notice=_("Test sent to %(address)s.", address=to))


# -- messages of a PO and of a PO line ---------------------------------------------------------

def _pdf_response(content: bytes, name: str, inline: bool = False):
    resp = make_response(content)
    resp.mimetype = "application/pdf"
    resp.headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{name}"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def _messages(*, po: PurchaseOrder | None = None, pol=None, status: int = 200, notice: str = "", problem: str = ""):
    """The messages of ``po`` (its Communications tab: the PO page with the tab open, or for HTMX the
    #vendor-messages fragment) or of the line ``pol`` (the fragment only: the line's own tab holds it)."""
    messages = services.messages_for_po(current_user, po) if po is not None else \
        services.messages_for_line(current_user, pol)
    ctx = dict(po=po, pol=pol, messages=messages, notice=notice, problem=problem)
    if po is None:
        return render(MESSAGES, status=status, **ctx)
    may_invoice = "create" in invoice_actions(current_user, Invoice(owner_library_id=po.owner_library_id))
    return render("outgoing/po_messages.html", MESSAGES, status=status, can_act=orders.can_order(
        current_user, po.owner_library_id), can_invoice=may_invoice, po_tab="communications", **ctx)


@bp.get("/orders/pos/<po_number>/communications")
@roles_required(*VIEW)
def po_messages(po_number):
    return _messages(po=orders.get_po(current_user, po_number))


@bp.get("/outgoing/messages/<int:vendor_message_id>/pdf")
@roles_required(*VIEW)
def message_pdf(vendor_message_id):
    message = services.get_message(current_user, vendor_message_id)
    if message.kind not in KINDS:
        raise NotFound(_("This message has no PDF."))
    name = f"{message.kind}-{message.po_number or message.id}-{message.id}.pdf"
    return _pdf_response(delivery.pdf_bytes(message), name)


@bp.get("/outgoing/messages/<int:vendor_message_id>/edi")
@roles_required(*VIEW)
def message_edi(vendor_message_id):
    message = services.get_message(current_user, vendor_message_id)
    if not message.edi_file:
        raise NotFound(_("This message has no EDI file (yet)."))
    resp = make_response(files.read(message.edi_file))
    resp.mimetype = "application/edifact"
    resp.headers["Content-Disposition"] = f'attachment; filename="{message.edi_name or f"orders-{message.id}.edi"}"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.post("/outgoing/messages/<int:vendor_message_id>/resend")
@roles_required(*SEND)
def resend(vendor_message_id):
    """Send a message again; answers with the messages of the PO (or of ``?line=<number>``)."""
    message = services.get_message(current_user, vendor_message_id)
    if not services.can_send(current_user, message):
        abort(403)
    if not FlaskForm().validate():
        abort(400)
    line_number = request.args.get("line")
    pol = orders.get_po_line(current_user, line_number) if line_number else None
    po = None if pol is not None else message.po
    with saving() as saved:
        copy = services.resend(current_user, message)
    notice = _("%(letter)s %(number)s queued to be sent again.", letter=copy.kind_label,
               number=copy.po_number) if saved else ""
    problem = "" if saved else saved.message
    if request.args.get("from") == "monitor" and is_institution_admin(current_user):
        back = url_for("integrations.monitor")
    elif pol is not None:
        back = url_for("communications.thread", number=pol.number)
    elif po is not None:
        back = url_for("outgoing.po_messages", po_number=po.number)
    else:
        back = url_for("orders.pos")
    if not htmx or (pol is None and po is None) or request.args.get("from") == "monitor":
        flash(notice or problem, "ok" if saved else "error")
        return redirect(back)
    return _messages(po=po, pol=pol, status=200 if saved else saved.status, notice=notice, problem=problem)
