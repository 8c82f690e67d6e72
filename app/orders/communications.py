"""Communications with the vendor about a PO line: claims and general messages sent by e-mail,
and the vendor's responses recorded on the same thread.

A message that could not be delivered is kept with its ``delivery_error`` and can be sent again
with :func:`retry`. Attachments are stored under the attachments folder (``ATTACHMENT_FOLDER``,
default ``<instance>/attachments``) with random file names; the uploaded name is kept in the
database only for display and download. Writing needs the right to order for the line's owner;
reading follows the line's visibility. Every action is written to the line's history. Callers commit.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from .. import mail, storage
from ..clock import utcnow
from ..errors import Forbidden, InvalidInput, NotFound, RuleViolation
from ..extensions import db
from ..ledger.money import format_plain
from ..letters.data import Party, order_context
from ..letters.pdf import render_pdf
from ..letters.render import LetterTemplateError, render_letter
from ..org.models import Institution
from ..outgoing import queue as letters
from ..outgoing import templates
from ..text import T
from .models import Communication, CommunicationMessage, POLine
from .services import can_order, log, visible_po_lines_clause

KINDS = Communication.KINDS
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_SUBJECT = 300
MAX_BODY = 100_000
MAX_NOTE = 5_000
MAX_ATTACHMENT_NAME = 200
_EMAIL = re.compile(r"[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+\.[^@\s<>,;:\"()\[\]\\]+")
_UNSAFE_NAME_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')


# -- defaults for a new message ----------------------------------------------------------------

def _claim_letter(pol: POLine):
    """The claim letter of ``pol`` (the administrator's template, else the built-in one), signed by
    the line's library."""
    sent = pol.sent_at or (pol.po.sent_at if pol.po is not None else None)
    letter = letters.order_letter(vendor=pol.vendor, account=pol.vendor_account,
                                  po_number=pol.po.number if pol.po is not None else "", lines=[pol],
                                  owner_library=pol.owner_library, ordered_on=sent.date() if sent else None)
    if pol.owner_library is not None:
        institution = Institution.current()
        name = ", ".join(n for n in (institution.name if institution else "", pol.owner_library.name) if n)
        letter = replace(letter, institution=Party(name, letter.institution.lines, letter.institution.email))
    context = order_context(letter)
    try:
        return render_letter("claim", context, templates.sources("claim", letter.language or "en"))
    except LetterTemplateError:   # a saved template that fails on this line: the built-in one still claims
        return render_letter("claim", context)


def default_subject(pol: POLine) -> str:
    return _claim_letter(pol).subject[:MAX_SUBJECT]


def _ordered_on(pol: POLine):
    sent = pol.sent_at or (pol.po.sent_at if pol.po is not None else None)
    return sent.date().isoformat() if sent else "not sent yet"


def order_details(pol: POLine) -> list[tuple[str, str]]:
    return [("Order line", pol.number), ("Purchase order", pol.po.number if pol.po else "—"),
            ("Title", pol.title), ("Author", pol.author or "—"), ("ISBN", pol.isbn or "—"),
            ("Vendor reference", pol.vendor_reference or "—"), ("Quantity", str(pol.quantity)),
            ("Net price", f"{format_plain(pol.net_price, pol.currency)} {pol.currency}"),
            ("Ordered on", _ordered_on(pol)),
            ("Expected receipt", pol.expected_receipt_date.isoformat() if pol.expected_receipt_date else "—")]


def default_body(pol: POLine) -> str:
    """The claim letter's body as plain text (the person sending it may still edit it)."""
    return mail.html_to_text(_claim_letter(pol).body_html)


def default_recipient(pol: POLine) -> str:
    """The e-mail address of the vendor's claims contact, else of its first contact that has one."""
    return letters.recipient_for(pol.vendor, "claim")


# -- reading -----------------------------------------------------------------------------------

def threads(pol: POLine) -> list[Communication]:
    """The line's communications, newest first (the caller got ``pol`` through get_po_line)."""
    return db.session.scalars(select(Communication).where(Communication.po_line_id == pol.id)
                              .order_by(Communication.id.desc())).all()


def get_communication(pol: POLine, communication_id) -> Communication:
    comm = db.session.get(Communication, communication_id) if isinstance(communication_id, int) else None
    if comm is None or comm.po_line_id != pol.id:
        raise NotFound(T("No such communication on this PO line."))
    return comm


def get_message(pol: POLine, message_id) -> CommunicationMessage:
    message = db.session.get(CommunicationMessage, message_id) if isinstance(message_id, int) else None
    if message is None or message.communication.po_line_id != pol.id:
        raise NotFound(T("No such message on this PO line."))
    return message


def get_visible_message(user, message_id) -> CommunicationMessage:
    """A message by id, only when ``user`` may see its PO line (else NotFound, like the line)."""
    message = db.session.scalar(
        select(CommunicationMessage).join(Communication).join(POLine, POLine.id == Communication.po_line_id)
        .where(CommunicationMessage.id == message_id, visible_po_lines_clause(user)))
    if message is None:
        raise NotFound(T("No such message."))
    return message


def claim_counts(pol_ids: list[int]) -> dict[int, tuple[int, object]]:
    """Per line: how many claims were started and when the last one was (the claims list)."""
    if not pol_ids:
        return {}
    rows = db.session.execute(
        select(Communication.po_line_id, func.count(Communication.id), func.max(Communication.created_at))
        .where(Communication.po_line_id.in_(pol_ids), Communication.kind == "claim")
        .group_by(Communication.po_line_id)).all()
    return {pol_id: (count, last) for pol_id, count, last in rows}


def can_write(user, pol: POLine) -> bool:
    return can_order(user, pol.owner_library_id)


def _require_writer(actor, pol: POLine) -> None:
    if not can_write(actor, pol):
        raise Forbidden(T("Only administrators and purchasing operators of the line's library may write to "
                          "the vendor."))


# -- checks ------------------------------------------------------------------------------------

def _one_line(value, name: str, label: str, limit: int, required: bool = True) -> str:
    text = " ".join(str(value or "").split())  # no line breaks in a header
    if required and not text:
        raise InvalidInput(T("The %(label)s is required.", label=label), name)
    if len(text) > limit:
        raise InvalidInput(T("The %(label)s is longer than %(limit)s characters.", label=label, limit=limit), name)
    return text


def _text(value, name: str, label: str, limit: int) -> str:
    text = str(value or "").replace("\r\n", "\n").strip()
    if len(text) > limit:
        raise InvalidInput(T("The %(label)s is longer than %(limit)s characters.", label=label, limit=f"{limit:,}"),
                           name)
    return text


def check_address(value) -> str:
    address = str(value or "").strip()
    if not address:
        raise InvalidInput(T("Enter the vendor's e-mail address (the vendor has no contact with one)."), "to_address")
    if len(address) > 300 or not _EMAIL.fullmatch(address):
        raise InvalidInput(T("“%(address)s” is not an e-mail address such as orders@vendor.example.",
                             address=address[:80]), "to_address")
    return address


def safe_attachment_name(name) -> str:
    """A display name that is only a file name: no folders, no control or shell-special characters,
    at most 200 characters keeping the extension."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = re.split(r"[/\\]", text)[-1]
    text = " ".join(_UNSAFE_NAME_CHARS.sub("_", text).split()).strip(". ")
    if not text:
        return "attachment"
    if len(text) > MAX_ATTACHMENT_NAME:
        stem, dot, ext = text.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            text = stem[:MAX_ATTACHMENT_NAME - len(ext) - 1].rstrip(". ") + "." + ext
        else:
            text = text[:MAX_ATTACHMENT_NAME].rstrip(". ")
    return text


def max_attachment_bytes() -> int:
    return int(current_app.config.get("ATTACHMENT_MAX_BYTES") or MAX_ATTACHMENT_BYTES)


def _check_attachment(attachment) -> tuple[str, bytes] | None:
    if attachment is None:
        return None
    name, content = attachment
    if not content:
        raise InvalidInput(T("The attached file is empty; choose another file."), "attachment")
    limit = max_attachment_bytes()
    if len(content) > limit:
        raise InvalidInput(T("The attached file is larger than %(size)s MB.", size=limit // (1024 * 1024)),
                           "attachment")
    return safe_attachment_name(name), bytes(content)


# -- attachments -------------------------------------------------------------------------------

def attachments_folder() -> Path:
    configured = current_app.config.get("ATTACHMENT_FOLDER")
    return Path(configured) if configured else Path(current_app.instance_path) / "attachments"


def _store(content: bytes) -> str:
    return storage.store(attachments_folder(), content)


def attachment_path(message: CommunicationMessage) -> Path:
    """The stored file of ``message``; NotFound when it has none or the file is missing."""
    return storage.stored(attachments_folder(), message.attachment_path, T("This message has no attachment."),
                          T("The attached file is missing from the server."))


def _attach(message: CommunicationMessage, attachment: tuple[str, bytes] | None) -> None:
    if attachment is not None:
        message.attachment_name, message.attachment_path = attachment[0], _store(attachment[1])


# -- sending -----------------------------------------------------------------------------------

def _deliver(message: CommunicationMessage) -> bool:
    comm = message.communication
    attachments = ()
    if message.attachment_path:
        attachments = (mail.Attachment(message.attachment_name or "attachment",
                                       attachment_path(message).read_bytes()),)
    try:
        mail.send_mail(message.to_address, comm.subject, message.body, attachments)
    except mail.DeliveryFailed as exc:
        message.delivery_error = exc.message
        return False
    message.sent_at, message.delivery_error = utcnow(), ""
    return True


def _outcome(message: CommunicationMessage) -> str:
    if message.sent_at:
        return f"sent to {message.to_address}"
    if message.delivery_error:
        return f"not delivered to {message.to_address}: {message.delivery_error}"
    return f"recorded, not sent (to {message.to_address})"


def start_communication(actor, pol: POLine, kind: str, subject: str, body: str, to_address: str,
                        attachment: tuple[str, bytes] | None = None, internal_note: str = "",
                        send: bool = True) -> Communication:
    """A new thread with its first message to the vendor, e-mailed when ``send``. A failed delivery
    keeps the message with its error (see :func:`retry`) rather than raising. A claim without an
    attachment of its own carries the claim letter's PDF (unless that letter is switched off)."""
    _require_writer(actor, pol)
    if kind not in KINDS:
        raise InvalidInput(T("Choose the type: %(claim)s or %(general)s.", claim=KINDS["claim"],
                             general=KINDS["general"]), "kind")
    if kind == "claim" and (pol.po is None or pol.po.sent_at is None):
        raise RuleViolation(T("%(number)s was not sent to the vendor yet: there is nothing to claim. Start a general "
                              "communication instead.", number=pol.number), "kind")
    subject = _one_line(subject, "subject", T("subject"), MAX_SUBJECT)
    body = _text(body, "body", T("message"), MAX_BODY)
    if not body:
        raise InvalidInput(T("Write the message to the vendor."), "body")
    to_address = check_address(to_address)
    note = _text(internal_note, "internal_note", T("internal note"), MAX_NOTE)
    if kind == "claim" and attachment is None and templates.is_active("claim"):
        attachment = (f"claim-{pol.number}.pdf", render_pdf(_claim_letter(pol).pdf_html))   # the claim letter
    attachment = _check_attachment(attachment)

    comm = Communication(po_line=pol, po_line_id=pol.id, kind=kind, subject=subject, internal_note=note,
                         created_by_id=actor.id)
    message = CommunicationMessage(communication=comm, direction="out", to_address=to_address, body=body,
                                   recorded_by_id=actor.id)
    _attach(message, attachment)
    db.session.add_all([comm, message])
    db.session.flush()
    if send:
        _deliver(message)
    log(pol, actor, "claim" if kind == "claim" else "communication", "", "", "",
        f"“{subject}” {_outcome(message)}" + (f" with {message.attachment_name}" if attachment else ""))
    db.session.flush()
    return comm


def add_response(actor, comm: Communication, body: str, attachment: tuple[str, bytes] | None = None
                 ) -> CommunicationMessage:
    """Record the vendor's answer (pasted text, a saved e-mail as a file, or both) on the thread."""
    pol = comm.po_line
    _require_writer(actor, pol)
    body = _text(body, "body", T("response"), MAX_BODY)
    attachment = _check_attachment(attachment)
    if not body and attachment is None:
        raise InvalidInput(T("Paste the vendor's answer or attach it as a file."), "body")
    message = CommunicationMessage(communication=comm, direction="in", body=body, recorded_by_id=actor.id)
    _attach(message, attachment)
    db.session.add(message)
    log(pol, actor, "vendor_response", "", "", "", f"on “{comm.subject}”"
        + (f" with {message.attachment_name}" if attachment else ""))
    db.session.flush()
    return message


def retry(actor, message: CommunicationMessage) -> bool:
    """Send again a message the mail server did not take; True when it was delivered this time."""
    comm = message.communication
    _require_writer(actor, comm.po_line)
    if message.direction != "out":
        raise RuleViolation(T("A vendor's response is not sent anywhere."), "message")
    if message.sent_at is not None:
        raise RuleViolation(T("This message was already sent on %(when)s UTC.",
                              when=f"{message.sent_at:%Y-%m-%d %H:%M}"), "message")
    delivered = _deliver(message)
    log(comm.po_line, actor, "resend", "", "", "", f"“{comm.subject}” {_outcome(message)}")
    db.session.flush()
    return delivered
