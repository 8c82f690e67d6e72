"""Rendering and delivering stored letters to vendors (:class:`~.models.VendorMessage`).

:func:`deliver` takes one queued message through one attempt, in short transactions of its own and
never with a transaction open while it waits on a server:

1. claim it: ``queued`` → ``sending`` (attempts + 1), committed before anything leaves (PostgreSQL:
   ``FOR UPDATE SKIP LOCKED``; SQLite: a conditional UPDATE that must change one row), so two
   runs never send one message;
2. render what is not rendered yet (:func:`render`: subject, HTML body, the PDF, the EDI ORDERS
   file built, read back and checked), stored and committed, so a retry sends the same files;
3. send it through its channel: e-mail (HTML with a plain-text alternative, the PDF attached),
   EDI (upload under a temporary name then rename; a file already there byte for byte counts as
   sent), print (``to_print``), none (``recorded``);
4. record the outcome: ``sent``; or back to ``queued`` with the error and the next attempt after
   ``OUTGOING_RETRY_SECONDS`` × 2^(attempts-1) (at most an hour), ``failed`` after
   ``OUTGOING_MAX_ATTEMPTS`` or when retrying cannot help (a template error, an EDI file that does
   not check, a mail server's permanent refusal).

A message left in ``sending`` by a process that stopped may have reached the vendor: it becomes
``interrupted`` and is never retried on its own (a person checks and uses "send again").
"""
from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import getaddresses
from typing import Callable

from flask import current_app
from sqlalchemy import select, update

from .. import mail
from ..clock import utcnow
from ..database import is_postgres
from ..errors import RuleViolation
from ..extensions import db
from ..integrations.edi import orders as edi
from ..integrations.edi.models import VendorEdiSetting
from ..integrations.paths import UnsafePath, clean_folder, join
from ..integrations.transport import TransferError, from_settings, transport_settings
from ..letters import KINDS
from ..letters.data import order_context, payment_context
from ..letters.pdf import render_pdf
from ..letters.render import Letter, LetterTemplateError, render_letter
from ..text import T, Text
from . import files, snapshot, templates
from .models import VendorMessage

NOTICE = "notice"   # a notification e-mail to a user (app.notifications): subject and body made when queued
from .queue import orders_folder
from .services import due

log = logging.getLogger(__name__)

EDI_FUNCTIONS = {"po": edi.ORDER, "po_cancellation": edi.CANCELLATION}
PDF_CHANNELS = frozenset({"email", "print"})      # a stored PDF is made for these (others: on demand)
STALE_AFTER = timedelta(minutes=10)   # an attempt takes seconds: one "sending" this long has lost its process
MAX_BACKOFF_SECONDS = 3600
FINAL = {"email": "sent", "edi": "sent", "print": "to_print", "none": "recorded"}
PDF_NAMES = {"po": "order", "po_cancellation": "cancellation", "claim": "claim", "payment_notice": "payment-notice"}
INTERRUPTED = ("The attempt started {when} UTC did not finish: the process sending it stopped. It may have reached "
               "the vendor, so it is not sent again on its own; check with the vendor and use \"send again\" if "
               "it did not arrive.")


class RenderFailed(Exception):
    """The letter cannot be made from its data (retrying cannot help)."""


class AttemptFailed(Exception):
    """This attempt did not deliver; ``permanent``: no later attempt would either."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.message, self.permanent = message, permanent


@dataclass(frozen=True)
class Outcome:
    """What became of one message: ``status`` is its new status (``queued``: it will be retried)."""
    message_id: int
    status: str
    kind: str = ""
    po_number: str = ""
    vendor: str = ""
    reason: str = ""
    attempts: int = 0
    next_attempt_at: datetime | None = None

    @property
    def label(self) -> Text:
        """"Purchase order PO-000001 to Demo Books"."""
        what = KINDS.get(self.kind, T("Letter"))
        if self.po_number:
            return T("%(letter)s %(number)s to %(vendor)s", letter=what, number=self.po_number, vendor=self.vendor)
        return T("%(letter)s to %(vendor)s", letter=what, vendor=self.vendor)


@dataclass
class Summary:
    sent: int = 0
    printed: int = 0
    recorded: int = 0
    retrying: int = 0
    failed: int = 0
    interrupted: int = 0
    problems: list[Outcome] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        counter = {"sent": "sent", "to_print": "printed", "recorded": "recorded", "queued": "retrying",
                   "failed": "failed", "interrupted": "interrupted"}[outcome.status]
        setattr(self, counter, getattr(self, counter) + 1)
        if outcome.status in ("queued", "failed", "interrupted"):
            self.problems.append(outcome)

    @property
    def handled(self) -> int:
        return self.sent + self.printed + self.recorded + self.retrying + self.failed + self.interrupted

    def text(self) -> Text:
        """"1 sent, 1 failed" (the counts that are not 0), "nothing to send"."""
        parts = [part for n, part in (
            (self.sent, T("%(n)s sent", n=f"{self.sent:,}")),
            (self.printed, T("%(n)s ready to print", n=f"{self.printed:,}")),
            (self.recorded, T("%(n)s recorded", n=f"{self.recorded:,}")),
            (self.retrying, T("%(n)s to retry", n=f"{self.retrying:,}")),
            (self.failed, T("%(n)s failed", n=f"{self.failed:,}")),
            (self.interrupted, T("%(n)s interrupted", n=f"{self.interrupted:,}"))) if n]
        if not parts:
            return T("nothing to send")
        text = parts[-1]
        for part in reversed(parts[:-1]):
            text = T("%(first)s, %(rest)s", first=part, rest=text)
        return text

    def __str__(self) -> str:
        return str(self.text())


# -- rendering ----------------------------------------------------------------------------------

@dataclass
class _Work:
    """A message's data for one attempt, read in a short transaction (no ORM object is touched
    while a server is waited on)."""
    id: int
    kind: str
    channel: str
    payload: dict
    to_address: str
    po_number: str
    vendor: str
    attempts: int
    subject: str
    body_html: str
    pdf_file: str | None
    edi_file: str | None
    edi_name: str | None
    sources: dict
    remote: dict | None = None       # EDI: transport settings and folder
    remote_error: str = ""           # EDI: why there is no place to upload to
    language: str = "en"             # the letter's language: as stored when it was made, else the vendor's

    @classmethod
    def of(cls, m: VendorMessage, sources: dict | None = None) -> "_Work":
        language = message_language(m)
        return cls(id=m.id, kind=m.kind, channel=m.channel, payload=m.payload or {}, to_address=m.to_address or "",
                   po_number=m.po_number or "", vendor=m.vendor.name if m.vendor else "", attempts=m.attempts or 0,
                   subject=m.subject or "", body_html=m.body_html or "", pdf_file=m.pdf_file, edi_file=m.edi_file,
                   edi_name=m.edi_name, language=language,
                   sources=(templates.sources(m.kind, language) if m.kind in KINDS else {}) if sources is None
                   else sources)


def message_language(message: VendorMessage) -> str:
    """The language a message's letter is written in: the one stored with its data when it was made
    (the vendor's then), else (a message made before letters had a language) the vendor's now."""
    letter = (message.payload or {}).get("letter")
    stored = letter.get("language") if isinstance(letter, dict) else None
    return templates.language_of(stored) if stored else templates.letter_language(message.vendor)


def _letter(work: _Work) -> Letter:
    try:
        if work.payload.get("type") == "payment":
            context = payment_context(snapshot.load_payment(work.payload), work.language)
        else:
            context = order_context(snapshot.load_order(work.payload)[0], work.language)
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise RenderFailed(f"The letter's stored data cannot be read ({type(exc).__name__}: {exc}); "
                           "it cannot be sent.") from None
    try:
        return render_letter(work.kind, context, work.sources, work.language)
    except LetterTemplateError as exc:
        problem = getattr(exc.text, "english", exc.message)   # stored in last_error: English, as logs are
        raise RenderFailed(f"{problem} Correct the {KINDS[work.kind].lower()} template, then send the letter "
                           "again.") from None


def _edi_file(work: _Work, prepared_at: datetime) -> tuple[bytes, str]:
    """The checked ORDERS interchange of the message, and its name on the vendor's server."""
    if work.kind not in EDI_FUNCTIONS:
        raise RenderFailed(f"A {KINDS[work.kind].lower()} cannot be sent by EDI (only orders and cancellations "
                           "can): send it by e-mail.")
    try:
        letter, parts = snapshot.load_order(work.payload)
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise RenderFailed(f"The letter's stored data cannot be read ({type(exc).__name__}: {exc}).") from None
    if parts is None:
        raise RenderFailed("The letter was stored without its EDI data (the vendor's EDI settings were missing "
                           "then): complete them and send the order again.")
    parts = dataclasses.replace(parts, function=EDI_FUNCTIONS[work.kind])
    order = snapshot.edi_order(letter, parts, control_reference=f"M{work.id}", prepared_at=prepared_at)
    try:
        built = edi.build_orders(order)
        edi.check_orders(built.data, order)   # nothing is uploaded that does not read back as the order
    except (edi.OrdersError, edi.OrdersCheckError) as exc:
        raise RenderFailed(str(exc)) from None
    return built.data, edi.file_name(order)


def _render(work: _Work, now: datetime | None = None) -> dict:
    """The parts of ``work`` not rendered yet, made (files stored) and set on ``work``; returns the
    changed columns. Raises :class:`RenderFailed`."""
    changed: dict = {}
    need_pdf = work.kind != NOTICE and work.channel in PDF_CHANNELS and not work.pdf_file
    if not work.subject or need_pdf:
        letter = _letter(work)
        if not work.subject:
            changed.update(subject=letter.subject[:300], body_html=letter.body_html)
        if need_pdf:
            try:
                pdf = render_pdf(letter.pdf_html)
            except Exception as exc:  # noqa: BLE001 (WeasyPrint on an administrator's layout)
                log.exception("PDF of message %s", work.id)
                raise RenderFailed(f"The PDF could not be made ({type(exc).__name__}: {exc}).") from None
            changed["pdf_file"] = files.store(pdf)
    if work.channel == "edi" and not work.edi_file:
        data, name = _edi_file(work, now or utcnow())
        changed.update(edi_file=files.store(data), edi_name=name)
    for key, value in changed.items():
        setattr(work, key, value)
    return changed


def render(message: VendorMessage) -> None:
    """Render what ``message`` lacks (subject and body; the PDF for e-mail and print; the EDI file
    for EDI) onto it; the caller commits. Raises :class:`RenderFailed` with the reason."""
    for key, value in _render(_Work.of(message)).items():
        setattr(message, key, value)


def pdf_bytes(message: VendorMessage) -> bytes:
    """The message's PDF: the one stored when it was sent, or (a message without one: queued,
    recorded, sent by EDI) made now from its data."""
    if message.pdf_file:
        return files.read(message.pdf_file)
    try:
        return render_pdf(_letter(_Work.of(message)).pdf_html)
    except RenderFailed as exc:
        raise RuleViolation(str(exc), "message") from None


# -- sending ------------------------------------------------------------------------------------

def _recipient(address: str) -> str:
    address = address.strip()
    if not address:
        raise AttemptFailed("There is no e-mail address to send it to: give the vendor a contact for orders "
                            "with an e-mail address, then send the letter again.", permanent=True)
    parsed = getaddresses([address])
    if (any(c in address for c in "\r\n\0") or len(parsed) != 1 or "@" not in parsed[0][1]
            or any(c.isspace() for c in parsed[0][1])):
        raise AttemptFailed(f"{address[:100]!r} is not an e-mail address: correct the vendor's contact, then "
                            "send the letter again.", permanent=True)
    return address


def _attachment_name(work: _Work) -> str:
    stem = "-".join(p for p in (PDF_NAMES[work.kind], work.po_number) if p)
    return re.sub(r"[^A-Za-z0-9._-]", "_", stem)[:100] + ".pdf"


def _send_email(work: _Work) -> str:
    to = _recipient(work.to_address)
    attachments = ()
    if work.kind != NOTICE:   # a notice to a user has no PDF
        try:
            attachments = (mail.Attachment(_attachment_name(work), files.read(work.pdf_file)),)
        except Exception as exc:  # noqa: BLE001 (NotFound: the stored file went missing)
            raise AttemptFailed(f"The letter's PDF is missing from the server ({exc}).", permanent=True) from None
    try:
        msg = mail.build_message(to, work.subject, mail.html_to_text(work.body_html), attachments,
                                 html=work.body_html)
    except (ValueError, TypeError) as exc:
        raise AttemptFailed(f"The e-mail cannot be written ({exc}).", permanent=True) from None
    try:
        mail.send(msg)
    except mail.DeliveryFailed as exc:
        raise AttemptFailed(exc.message, permanent=exc.permanent) from None
    return ""


def _remote(vendor_id: int) -> tuple[dict | None, str]:
    """(transport settings with the orders folder, or None with the reason) of a vendor."""
    setting = db.session.scalar(select(VendorEdiSetting).where(VendorEdiSetting.vendor_id == vendor_id))
    if setting is None:
        return None, "The vendor has no EDI settings (a connection and a folder): add them on the vendor's page."
    try:
        folder = clean_folder(orders_folder(setting), "orders folder")
        settings = transport_settings(setting.connection)
    except (UnsafePath, TransferError) as exc:
        return None, f"The vendor's EDI settings cannot be used: {exc}"
    return dict(settings, folder=folder, where=f"{setting.connection.name} ({setting.connection.address})"), ""


def _send_edi(work: _Work) -> str:
    if work.remote is None:
        raise AttemptFailed(work.remote_error)
    try:
        data = files.read(work.edi_file)
    except Exception as exc:  # noqa: BLE001 (NotFound)
        raise AttemptFailed(f"The letter's EDI file is missing from the server ({exc}).", permanent=True) from None
    folder, name = work.remote["folder"], work.edi_name
    try:
        transport = from_settings(work.remote)
        try:
            transport.ensure_folder(folder)
            if transport.holds(folder, name, data):
                return f"{name} was already on the server (an earlier attempt had uploaded it): not uploaded again."
            transport.publish(folder, name, data)
        finally:
            try:
                transport.close()
            except Exception:  # noqa: BLE001 (closing a dropped connection must not hide the outcome)
                pass
    except TransferError as exc:
        raise AttemptFailed(str(exc)) from None
    return ""


SENDERS: dict[str, Callable[[_Work], str]] = {"email": _send_email, "edi": _send_edi,
                                              "print": lambda work: "", "none": lambda work: ""}


# -- one message --------------------------------------------------------------------------------

def _claim(message_id: int, now: datetime) -> bool:
    """queued → sending, attempts + 1, committed; False when another run has it (or it is not queued)."""
    values = dict(status="sending", attempts=VendorMessage.attempts + 1, updated_at=now)
    if is_postgres(db.session):
        found = db.session.scalar(select(VendorMessage.id).where(VendorMessage.id == message_id,
                                                                 VendorMessage.status == "queued")
                                  .with_for_update(skip_locked=True))
        claimed = found is not None
        if claimed:
            db.session.execute(update(VendorMessage).where(VendorMessage.id == message_id).values(**values)
                               .execution_options(synchronize_session=False))
    else:
        result = db.session.execute(update(VendorMessage).where(VendorMessage.id == message_id,
                                                                VendorMessage.status == "queued").values(**values)
                                    .execution_options(synchronize_session=False))
        claimed = result.rowcount == 1
    db.session.commit()
    return claimed


def _backoff(attempts: int) -> timedelta:
    base = float(current_app.config.get("OUTGOING_RETRY_SECONDS", 60))
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


def _record(work: _Work, status: str, reason: str = "", next_at: datetime | None = None) -> Outcome:
    """Write the outcome of the attempt (only over our own ``sending``; a message marked
    interrupted meanwhile keeps that status unless it did reach the vendor)."""
    now = utcnow()
    values: dict = dict(status=status, last_error=reason[:4000], updated_at=now)
    allowed = ["sending"]
    if status in FINAL.values():
        allowed.append("interrupted")   # it did arrive after all
        if status == "sent":
            values["sent_at"] = now
        if work.channel == "edi" and work.remote:
            values["to_address"] = f"{work.remote['where']}: {join(work.remote['folder'], work.edi_name or '')}"[:300]
    if next_at is not None:
        values["next_attempt_at"] = next_at
    result = db.session.execute(update(VendorMessage).where(VendorMessage.id == work.id,
                                                            VendorMessage.status.in_(allowed)).values(**values)
                                .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        status = "interrupted"
        db.session.execute(update(VendorMessage).where(VendorMessage.id == work.id)
                           .values(last_error=reason[:4000]).execution_options(synchronize_session=False))
    db.session.commit()
    return Outcome(work.id, status, work.kind, work.po_number, work.vendor, reason, work.attempts, next_at)


def deliver(message_id: int) -> Outcome | None:
    """One attempt at message ``message_id`` (see the module's docstring); None when it is not
    queued (sent already, or another run is sending it). Commits; raises nothing a message causes."""
    if not _claim(message_id, utcnow()):
        return None
    try:
        message = db.session.get(VendorMessage, message_id, populate_existing=True)
        work = _Work.of(message)
        if work.channel == "edi":
            work.remote, work.remote_error = _remote(message.vendor_id)
        db.session.commit()   # nothing stays open while the letter is rendered and sent
    except Exception as exc:  # noqa: BLE001 (the message must not stay "sending")
        db.session.rollback()
        log.exception("message %s could not be read", message_id)
        return _unexpected(message_id, exc)
    try:
        changed = _render(work)
    except RenderFailed as exc:
        return _record(work, "failed", str(exc))
    except Exception as exc:  # noqa: BLE001
        log.exception("message %s could not be rendered", message_id)
        return _record(work, "failed", f"The letter could not be made (unexpected {type(exc).__name__}: {exc}).")
    if changed:
        db.session.execute(update(VendorMessage).where(VendorMessage.id == work.id).values(**changed)
                           .execution_options(synchronize_session=False))
        db.session.commit()
    try:
        note = SENDERS[work.channel](work)
    except AttemptFailed as exc:
        return _failed(work, exc.message, exc.permanent)
    except Exception as exc:  # noqa: BLE001 (a bug must not leave it "sending"; it may be retried)
        log.exception("message %s: unexpected error while sending", message_id)
        return _failed(work, f"Unexpected error while sending: {type(exc).__name__}: {exc}", False)
    return _record(work, FINAL[work.channel], note)


def _failed(work: _Work, reason: str, permanent: bool) -> Outcome:
    most = int(current_app.config.get("OUTGOING_MAX_ATTEMPTS", 8))
    if permanent:
        return _record(work, "failed", reason)
    if work.attempts >= most:
        return _record(work, "failed", f"{reason} Gave up after {work.attempts} attempts; send it again once "
                                       "the cause is fixed.")
    next_at = utcnow() + _backoff(work.attempts)
    return _record(work, "queued", reason, next_at)


def _unexpected(message_id: int, exc: Exception) -> Outcome:
    reason = f"Unexpected error: {type(exc).__name__}: {exc}"
    db.session.execute(update(VendorMessage).where(VendorMessage.id == message_id, VendorMessage.status == "sending")
                       .values(status="failed", last_error=reason[:4000], updated_at=utcnow())
                       .execution_options(synchronize_session=False))
    db.session.commit()
    return Outcome(message_id, "failed", reason=reason)


# -- every due message ---------------------------------------------------------------------------

def interrupt_stale(older_than: timedelta = STALE_AFTER, now: datetime | None = None) -> list[Outcome]:
    """Mark ``interrupted`` every message in ``sending`` unchanged for ``older_than`` (its process
    is gone); the caller commits."""
    cutoff = (now or utcnow()) - older_than
    found = db.session.scalars(select(VendorMessage).where(VendorMessage.status == "sending",
                                                           VendorMessage.updated_at <= cutoff)
                               .order_by(VendorMessage.id)).all()
    outcomes = []
    for m in found:
        reason = INTERRUPTED.format(when=m.updated_at.isoformat(sep=" ", timespec="seconds"))
        result = db.session.execute(update(VendorMessage).where(VendorMessage.id == m.id,
                                                                VendorMessage.status == "sending")
                                    .values(status="interrupted", last_error=reason, updated_at=utcnow())
                                    .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            outcomes.append(Outcome(m.id, "interrupted", m.kind, m.po_number, m.vendor.name if m.vendor else "",
                                    reason, m.attempts))
    return outcomes


def deliver_due(now: datetime | None = None, limit: int | None = None,
                progress: Callable[[Outcome, int, int], None] | None = None) -> Summary:
    """Deliver every due message (messages queued meanwhile too, each tried at most once here);
    ``limit``: at most that many. ``progress(outcome, done, total so far)`` after each message."""
    summary = Summary()
    for outcome in interrupt_stale(now=now):
        summary.add(outcome)
        if progress:
            progress(outcome, 0, 0)
    db.session.commit()
    tried: set[int] = set()
    while limit is None or len(tried) < limit:
        room = 100 if limit is None else min(100, limit - len(tried))
        batch = [i for i in due(now or utcnow(), room + len(tried)) if i not in tried][:room]
        db.session.commit()
        if not batch:
            break
        for position, message_id in enumerate(batch):
            tried.add(message_id)
            outcome = deliver(message_id)
            if outcome is None:
                continue
            summary.add(outcome)
            if progress:
                progress(outcome, len(tried), len(tried) + len(batch) - position - 1)
    return summary
