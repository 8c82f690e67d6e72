"""Making letters to vendors: a PO's order, a cancellation, a payment notice, stored as a
:class:`~.models.VendorMessage` with a snapshot of its data (:mod:`.snapshot`) in the transaction
of the change that causes it. Rendering and delivery are :mod:`.delivery`'s, later, in the
background. Imports no orders or invoices *services* (they call this module).

Nothing is silent: a vendor that orders by phone gets a message "recorded" (nothing to send), a
letter switched off is noted in the lines' history, and a channel that cannot work (no e-mail
address, no EDI set-up) gives a *failed* message whose ``last_error`` says what to set where, so
"send again" works once it is set.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from .. import clock
from ..clock import utcnow
from ..extensions import db
from ..integrations.edi import orders as edi
from ..integrations.edi.models import VendorEdiSetting
from ..letters import KINDS
from ..letters.data import OrderLetter, OrderLine, PaidInvoice, Party, PaymentNotice
from ..text import T
from ..orders.models import POLine, POLineEvent, PurchaseOrder
from ..org.models import Institution, Library
from ..vendors.models import CONTACT_ROLES, Vendor, VendorAccount
from . import snapshot, templates
from .models import VendorMessage
from .snapshot import EdiLine, EdiParts

KICK = "outgoing_kick"   # db.session.info flag: start delivery after this transaction commits
ROLES = {"po": "order", "po_cancellation": "order", "claim": "claim", "payment_notice": "payment"}
DEFAULT_QUALIFIER = "14"  # EAN/GLN, the usual id of book trade EDI


def mark_for_delivery() -> None:
    """Ask for a delivery run once the current transaction commits (see :mod:`.delivery`)."""
    db.session.info[KICK] = True


# -- who and how -----------------------------------------------------------------------------------

def channel_for(vendor: Vendor, account: VendorAccount | None = None) -> str:
    """The order channel: the account's when it sets one, else the vendor's."""
    if account is not None and account.order_channel:
        return account.order_channel
    return vendor.order_channel or "none"


def recipient_for(vendor: Vendor, role: str) -> str:
    """The e-mail of the vendor's first contact with ``role`` (order, claim, payment) and an address;
    else of its first contact with an address; "" when it has none."""
    with_email = [c for c in vendor.contacts if (c.email or "").strip()]
    for contact in with_email:
        if role in contact.role_list:
            return contact.email.strip()
    return with_email[0].email.strip() if with_email else ""


def edi_setting(vendor: Vendor) -> VendorEdiSetting | None:
    return db.session.scalar(select(VendorEdiSetting).where(VendorEdiSetting.vendor_id == vendor.id))


def orders_folder(setting: VendorEdiSetting) -> str:
    """Where ORDERS files go on the vendor's connection ("" orders folder: "orders" inside the folder)."""
    if setting.orders_folder:
        return setting.orders_folder
    base = (setting.folder or "").rstrip("/")
    return f"{base}/orders" if base else "orders"


@dataclass(frozen=True)
class Route:
    """Where a message goes: its channel, address and, when it cannot go, what to fix."""
    channel: str
    to_address: str = ""
    problem: str = ""


def route(kind: str, vendor: Vendor, account: VendorAccount | None = None) -> Route:
    """The channel and address of a letter of ``kind`` to ``vendor`` as they are set now."""
    channel = channel_for(vendor, account)
    if kind == "payment_notice" and channel != "none":
        channel = "print" if channel == "print" else "email"   # a remittance notice is never EDI
    who = f"{vendor.name} ({vendor.code})"
    if channel == "email":
        role = ROLES[kind]
        address = recipient_for(vendor, role)
        if not address:
            return Route(channel, "", T("%(vendor)s has no contact with an e-mail address: add one (with the role "
                                        "“%(role)s”) on the vendor's Contacts, then send again.", vendor=who,
                                        role=_role_label(role)))
        return Route(channel, address)
    if channel == "edi":
        problems = []
        setting = edi_setting(vendor)
        institution = Institution.current()
        if setting is None:
            problems.append(T("%(vendor)s has no EDI set-up: choose its connection and folder under Invoices → "
                              "EDI → Vendor EDI settings.", vendor=who))
        if not vendor.edi_vendor_id.strip():
            problems.append(T("%(vendor)s has no EDI id: enter it (and its qualifier) on the vendor's page.",
                              vendor=who))
        if institution is None or not institution.edi_id.strip():
            problems.append(T("The institution has no EDI id: enter it in the institution's settings "
                              "(Administration)."))
        address = f"{setting.connection.name}: {orders_folder(setting)}" if setting is not None else ""
        if problems:
            joined = problems[-1]
            for problem in reversed(problems[:-1]):
                joined = T("%(first)s %(rest)s", first=problem, rest=joined)
            return Route(channel, address, T("%(problems)s Then send again.", problems=joined))
        return Route(channel, address)
    return Route(channel)


def _role_label(role: str) -> str:
    return CONTACT_ROLES.get(role, role)


# -- snapshots -------------------------------------------------------------------------------------

def _address_lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


def _institution() -> Institution:
    institution = Institution.current()
    if institution is None:   # a database without its institution cannot order; keep letters possible
        return Institution(name="", currency="", address="", billing_address="", email="", edi_id="",
                           edi_id_qualifier="")
    return institution


def _vendor_address(vendor: Vendor) -> tuple[str, ...]:
    addresses = list(vendor.addresses)
    chosen = (next((a for a in addresses if "order" in a.type_list), None)
              or next((a for a in addresses if a.preferred), None)
              or (addresses[0] if addresses else None))
    if chosen is None:
        return ()
    last = " ".join(p for p in (chosen.postal_code, chosen.city) if p)
    parts = (chosen.line1, chosen.line2, last, chosen.state, chosen.country)
    return tuple(p for p in parts if p)


def _order_line(pol: POLine) -> OrderLine:
    return OrderLine(number=pol.number, title=pol.title, quantity=pol.quantity,
                     list_price=Decimal(pol.list_price), net_price=Decimal(pol.net_price), author=pol.author,
                     isbn=pol.isbn, issn=pol.issn, discount=Decimal(pol.discount or 0),
                     reference=pol.vendor_reference, note=pol.note, expected_receipt=pol.expected_receipt_date)


def order_letter(*, vendor: Vendor, account: VendorAccount | None, po_number: str, lines: list[POLine],
                 owner_library: Library | None, ordered_on: date | None = None, reason: str = "",
                 note: str = "") -> OrderLetter:
    """The letter of an order (or of a cancellation or claim of ``lines``) as things are now."""
    institution = _institution()
    me = Party(institution.name, _address_lines(institution.address), institution.email)
    delivery = me
    if owner_library is not None and owner_library.address.strip():
        delivery = Party(f"{institution.name}, {owner_library.name}" if institution.name else owner_library.name,
                         _address_lines(owner_library.address))
    billing = Party(institution.name, _address_lines(institution.billing_address) or me.lines)
    currency = lines[0].currency if lines else vendor.currency
    return OrderLetter(
        po_number=po_number, letter_date=clock.today(), currency=currency, institution=me,
        vendor=Party(vendor.name, _vendor_address(vendor), recipient_for(vendor, "order")),
        lines=tuple(_order_line(p) for p in lines), delivery=delivery, billing=billing,
        vendor_code=vendor.code, account_code=account.code if account else "",
        account_description=account.description if account else "", ordered_on=ordered_on, reason=reason,
        note=note, language=templates.letter_language(vendor))


def edi_parts(*, vendor: Vendor, account: VendorAccount | None, lines: list[POLine],
              function: str = edi.ORDER) -> EdiParts:
    """What an ORDERS file of ``lines`` needs besides the letter (ids empty when not set: the message
    then fails, see :func:`route`)."""
    institution = _institution()
    setting = edi_setting(vendor)
    return EdiParts(
        buyer=edi.Party(institution.edi_id.strip(), institution.edi_id_qualifier.strip() or DEFAULT_QUALIFIER,
                        institution.name),
        supplier=edi.Party(vendor.edi_vendor_id.strip(), vendor.edi_id_qualifier.strip() or DEFAULT_QUALIFIER,
                           vendor.name),
        lines=tuple(EdiLine(p.number, tuple(d.fund.code for d in p.distribution),
                            p.owner_library.code if p.owner_library else "") for p in lines),
        account=account.code if account else "", syntax=setting.syntax if setting else "UNOC", function=function)


def order_payload(kind: str, *, vendor: Vendor, account: VendorAccount | None, po_number: str,
                  lines: list[POLine], owner_library: Library | None, ordered_on: date | None, reason: str = "",
                  note: str = "", channel: str | None = None) -> dict:
    letter = order_letter(vendor=vendor, account=account, po_number=po_number, lines=lines,
                          owner_library=owner_library, ordered_on=ordered_on, reason=reason, note=note)
    parts = None
    if (channel or channel_for(vendor, account)) == "edi":
        parts = edi_parts(vendor=vendor, account=account, lines=lines,
                          function=edi.CANCELLATION if kind == "po_cancellation" else edi.ORDER)
    return snapshot.dump_order(letter, parts)


# -- making messages -------------------------------------------------------------------------------

def _log(lines: list[POLine], actor, action: str, note: str) -> None:
    for pol in lines:
        db.session.add(POLineEvent(po_line=pol, actor_id=actor.id if actor else None, action=action, field="",
                                   old_value="", new_value="", note=note))


def _outcome(message: VendorMessage) -> str:
    what = f"{KINDS[message.kind]} {message.po_number}".strip()
    if message.status == "recorded":
        return f"{what} recorded: the vendor orders by phone or on its site (order channel None), nothing is sent"
    if message.status == "failed":
        return f"{what} NOT sent: {message.last_error}"
    if message.channel == "email":
        return f"{what} queued by e-mail to {message.to_address}"
    if message.channel == "edi":
        return f"{what} queued by EDI to {message.to_address}"
    return f"{what} queued for printing"


def _make(actor, kind: str, *, vendor: Vendor, account: VendorAccount | None, po: PurchaseOrder | None,
          po_number: str, lines: list[POLine], owner_library_id: int | None, payload: dict | None,
          reason: str, way: Route) -> VendorMessage:
    status, error = ("recorded", "") if way.channel == "none" else (
        ("failed", way.problem) if way.problem else ("queued", ""))
    message = VendorMessage(kind=kind, channel=way.channel, status=status, vendor=vendor, vendor_id=vendor.id,
                            vendor_account_id=account.id if account else None, po_id=po.id if po else None,
                            po_number=po_number, owner_library_id=owner_library_id, reason=reason[:300],
                            to_address=way.to_address[:300], payload=payload or {}, last_error=error,
                            created_by_id=actor.id if actor else None, next_attempt_at=utcnow())
    message.lines = list(lines)
    db.session.add(message)
    if status == "queued":
        mark_for_delivery()
    db.session.flush()
    return message


def _switched_off(kind: str, lines: list[POLine], actor, po_number: str) -> bool:
    if templates.is_active(kind):
        return False
    _log(lines, actor, "letter", f"{KINDS[kind]} {po_number} not made: the letter is switched off "
                                 "(Administration → Letters)")
    return True


def queue_po(actor, po: PurchaseOrder, lines: list[POLine] | None = None, reason: str = "", *,
             vendor: Vendor | None = None) -> VendorMessage | None:
    """The PO letter of ``po`` (its ``lines``, default all its lines not cancelled) to its vendor
    (``vendor``: to another one, as *replace vendor* orders a line of the PO from its new vendor)."""
    lines = list(lines) if lines is not None else [p for p in po.lines if p.status != "cancelled"]
    if _switched_off("po", lines, actor, po.number):
        return None
    vendor = vendor or po.vendor
    account = next((p.vendor_account for p in lines if p.vendor_account is not None), None)
    way = route("po", vendor, account)
    ordered_on = po.sent_at.date() if po.sent_at else clock.today()
    payload = order_payload("po", vendor=vendor, account=account, po_number=po.number, lines=lines,
                            owner_library=po.owner_library, ordered_on=ordered_on, note=po.note,
                            channel=way.channel)
    message = _make(actor, "po", vendor=vendor, account=account, po=po, po_number=po.number, lines=lines,
                    owner_library_id=po.owner_library_id, payload=payload, reason=reason, way=way)
    _log(lines, actor, "letter", _outcome(message))
    return message


def queue_cancellation(actor, *, vendor: Vendor, account: VendorAccount | None, po: PurchaseOrder | None,
                       po_number: str, lines: list[POLine], reason: str,
                       payload: dict | None = None, ordered_on: date | None = None) -> VendorMessage | None:
    """A cancellation of ``lines`` of order ``po_number`` to ``vendor`` (``po`` may be gone already:
    then pass the snapshot made before, :func:`cancellation_payload`)."""
    lines = list(lines)
    if _switched_off("po_cancellation", lines, actor, po_number):
        return None
    way = route("po_cancellation", vendor, account)
    if payload is None:
        payload = cancellation_payload(vendor=vendor, account=account, po_number=po_number, lines=lines,
                                       owner_library=po.owner_library if po is not None else
                                       (lines[0].owner_library if lines else None),
                                       ordered_on=ordered_on or (po.sent_at.date() if po and po.sent_at else None),
                                       reason=reason)
    owner = po.owner_library_id if po is not None else (lines[0].owner_library_id if lines else None)
    message = _make(actor, "po_cancellation", vendor=vendor, account=account, po=po, po_number=po_number,
                    lines=lines, owner_library_id=owner, payload=payload, reason=reason, way=way)
    _log(lines, actor, "letter", _outcome(message))
    return message


def cancellation_payload(*, vendor: Vendor, account: VendorAccount | None, po_number: str, lines: list[POLine],
                         owner_library: Library | None, ordered_on: date | None, reason: str) -> dict:
    """The snapshot of a cancellation, made while the lines still name the old vendor and PO."""
    return order_payload("po_cancellation", vendor=vendor, account=account, po_number=po_number, lines=lines,
                         owner_library=owner_library, ordered_on=ordered_on, reason=reason)


def queue_payment_notice(actor, vendor: Vendor, invoices: list, voucher_number: str,
                         payment_date: date) -> VendorMessage | None:
    """A remittance notice of ``invoices`` (paid under ``voucher_number`` on ``payment_date``) to the
    vendor's payment contact, when the payment notice is switched on and the vendor gets letters."""
    if not invoices or not templates.is_active("payment_notice"):
        return None
    account = invoices[0].vendor_account if len({i.vendor_account_id for i in invoices}) == 1 else None
    way = route("payment_notice", vendor, account)
    if way.channel == "none":
        return None
    institution = _institution()
    currency = invoices[0].payment_currency or invoices[0].currency
    notice = PaymentNotice(
        institution=Party(institution.name, _address_lines(institution.address), institution.email),
        vendor=Party(vendor.name, _vendor_address(vendor), recipient_for(vendor, "payment")),
        letter_date=clock.today(), currency=currency, payment_date=payment_date, voucher_number=voucher_number,
        invoices=tuple(PaidInvoice(i.number, Decimal(i.payment_amount if i.payment_amount is not None
                                                     else i.total_amount), i.invoice_date) for i in invoices),
        language=templates.letter_language(vendor))
    owners = {i.owner_library_id for i in invoices}
    return _make(actor, "payment_notice", vendor=vendor, account=account, po=None, po_number="", lines=[],
                 owner_library_id=owners.pop() if len(owners) == 1 else None,
                 payload=snapshot.dump_payment(notice), reason=f"voucher {voucher_number}", way=way)


def outcome(message: VendorMessage) -> str:
    """What happened to a new message, as a history note ("… queued by e-mail to …")."""
    return _outcome(message)


def reroute(message: VendorMessage) -> tuple[Route, dict]:
    """The channel and address a message would take now (for "send again"), and its payload with the
    EDI part made again from today's settings when it now goes by EDI (the letter stays as it was)."""
    vendor, account = message.vendor, message.vendor_account
    way = route(message.kind, vendor, account)
    payload = message.payload
    if message.kind != "payment_notice" and payload.get("type") == "order":
        payload = {k: v for k, v in payload.items() if k != "edi"}
        if way.channel == "edi":
            function = edi.CANCELLATION if message.kind == "po_cancellation" else edi.ORDER
            parts = edi_parts(vendor=vendor, account=account, lines=list(message.lines), function=function)
            payload = dict(payload, edi=snapshot.dump_order(snapshot.load_order(payload)[0], parts)["edi"])
    return way, payload


# -- notices to users (app.notifications) ------------------------------------------------------------

def queue_notice(user, subject: str, body_html: str, to_address: str | None = None) -> VendorMessage | None:
    """An e-mail to ``user`` (a notification or a digest), rendered already: stored in the outbox and
    delivered like the letters (retries, never twice). None when the user has no e-mail address."""
    address = (to_address if to_address is not None else user.email or "").strip()
    if not address:
        return None
    message = VendorMessage(kind="notice", channel="email", status="queued", user_id=user.id, to_address=address,
                            subject=" ".join(subject.split())[:300], body_html=body_html,
                            payload={"type": "notice"}, reason="notification", next_attempt_at=utcnow())
    db.session.add(message)
    db.session.flush()
    mark_for_delivery()
    return message
