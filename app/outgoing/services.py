"""Reading and re-sending letters to vendors, with the orders' rules: anyone who may see a PO
sees its messages (library scope); administrators and purchasing operators of the owner library
may send one again. Messages are made by :mod:`.queue` (called by the orders and invoices
services in the transaction of the change) and delivered by :mod:`.delivery`. Callers commit.
"""
from __future__ import annotations


from datetime import datetime

from sqlalchemy import select

from ..clock import utcnow
from ..errors import Forbidden, NotFound, RuleViolation
from ..extensions import db
from ..ids import parse_id
from ..orders.models import POLine, PurchaseOrder
from ..orders.services import _scope_clause, can_order, log
from ..text import StoredSentences, T
from .models import OPEN_STATUSES, PROBLEM_STATUSES, VendorMessage, message_line
from .queue import mark_for_delivery, reroute


def visible_clause(user):
    return _scope_clause(VendorMessage.owner_library_id, user)


def messages_for_po(user, po: PurchaseOrder) -> list[VendorMessage]:
    """Messages about ``po`` (the caller got it through get_po), newest first."""
    return db.session.scalars(select(VendorMessage).where(VendorMessage.po_id == po.id, visible_clause(user))
                              .order_by(VendorMessage.id.desc())).all()


def messages_for_line(user, pol: POLine) -> list[VendorMessage]:
    """Messages that name ``pol`` (its orders, cancellations, claims), newest first."""
    in_line = select(message_line.c.message_id).where(message_line.c.po_line_id == pol.id)
    return db.session.scalars(select(VendorMessage).where(VendorMessage.id.in_(in_line), visible_clause(user))
                              .order_by(VendorMessage.id.desc())).all()


def get_message(user, ref) -> VendorMessage:
    """A message by id, only when ``user`` may see it (else NotFound, like a PO out of scope)."""
    message_id = parse_id(ref)
    message = None if message_id is None else db.session.scalar(
        select(VendorMessage).where(VendorMessage.id == message_id, visible_clause(user)))
    if message is None:
        raise NotFound(T("No such message to a vendor."))
    return message


# Why a message was made, as the code that made it stored it (in English: a stored value), and how
# it is shown in the reader's language. A reason a person typed (a cancellation's) is shown as typed.
REASONS = StoredSentences(
    fixed=(T("sent"), T("packaged automatically"), T("notification"), T("change vendor")),
    patterns=((r"sent again \(message (?P<id>\d+)\)", T("sent again (message %(id)s)")),
              (r"change vendor: replaces (?P<number>.+)", T("change vendor: replaces %(number)s")),
              (r"replace vendor: was (?P<code>.+)", T("replace vendor: was %(code)s")),
              (r"voucher (?P<number>.+)", T("voucher %(number)s"))))


def reason_text(reason: str):
    """A message's stored ``reason`` to show, in the reader's language when the application wrote it."""
    return REASONS.shown(reason)


def can_send(user, message: VendorMessage) -> bool:
    return can_order(user, message.owner_library_id)


def problems(user, limit: int = 50) -> list[VendorMessage]:
    """Failed and interrupted messages ``user`` may see, oldest first (Monitor Jobs, the PO pages)."""
    return db.session.scalars(select(VendorMessage).where(VendorMessage.status.in_(PROBLEM_STATUSES),
                                                          visible_clause(user))
                              .order_by(VendorMessage.id).limit(limit)).all()


def resend(actor, message: VendorMessage) -> VendorMessage:
    """Send a message again: a new message with the same letter through the vendor's channel and
    address as they are now (so a fixed address or EDI set-up is used; the original keeps its record).
    One still waiting for delivery is not doubled; one that still cannot go says what to set."""
    if not can_send(actor, message):
        raise Forbidden(T("Only administrators and purchasing operators of the order's library may send "
                          "letters to the vendor."))
    if message.status in OPEN_STATUSES:
        raise RuleViolation(T("This letter (%(letter)s %(number)s) is still waiting to be sent (%(status)s); it will "
                              "not be sent twice.", letter=message.kind_label, number=message.po_number,
                              status=message.status_label), "message")
    # The vendor's channel and address as they are now: sending again is how a fixed address is used.
    way, payload = reroute(message)
    if way.channel == "none":
        raise RuleViolation(T("This vendor orders by phone or on its site: nothing is sent to it."), "message")
    if way.problem:
        raise RuleViolation(way.problem, "message")
    copy = VendorMessage(kind=message.kind, channel=way.channel, status="queued", vendor_id=message.vendor_id,
                         vendor_account_id=message.vendor_account_id, po_id=message.po_id,
                         po_number=message.po_number, owner_library_id=message.owner_library_id,
                         reason=f"sent again (message {message.id})", to_address=way.to_address,
                         payload=payload, resend_of_id=message.id, created_by_id=actor.id,
                         next_attempt_at=utcnow())
    copy.lines = list(message.lines)
    db.session.add(copy)
    db.session.flush()
    for pol in copy.lines:
        log(pol, actor, "letter_resend", "", "", "", f"{message.kind_label} {message.po_number} sent again "
            f"by {copy.channel_label.lower()}" + (f" to {copy.to_address}" if copy.to_address else ""))
    mark_for_delivery()
    db.session.flush()
    return copy


def due(now: datetime | None = None, limit: int = 100) -> list[int]:
    """Ids of queued messages whose next attempt is due, oldest first (for the delivery job)."""
    now = now or utcnow()
    return db.session.scalars(select(VendorMessage.id).where(VendorMessage.status == "queued",
                                                             VendorMessage.next_attempt_at <= now)
                              .order_by(VendorMessage.next_attempt_at, VendorMessage.id).limit(limit)).all()

