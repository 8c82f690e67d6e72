"""Who is told what: the notifications the domains make when something waits for someone (an
invoice routed for approval, returned, rejected by the ERP; an EDI message not matched) and the
daily :func:`reminders` of claims and renewals due. Each goes through :func:`.services.notify` in
the caller's transaction.

Scope: a user is told about an object only when one of the roles that act on it is held for the
whole institution or for the object's library (:func:`holders`); an object of the institution (no
library) is told only to institution-wide holders. Nobody is told what they just did themselves.
"""
from __future__ import annotations

from datetime import date
from urllib.parse import quote

from sqlalchemy import or_, select

from .. import clock
from ..auth.models import Role, RoleAssignment, User
from ..extensions import db
from ..orders import services as orders
from ..orders.models import RENEWAL, POLine
from ..text import T
from ..vendors.models import Vendor
from .models import Notification, english
from .services import notify


def holders(roles, library_id: int | None) -> list[User]:
    """Active users holding one of ``roles`` for the whole institution or for ``library_id``
    (None: the institution's own object, so institution-wide holders only), by id."""
    names = sorted(Role(r).value for r in roles)
    where = RoleAssignment.library_id.is_(None)
    if library_id is not None:
        where = or_(where, RoleAssignment.library_id == library_id)
    ids = select(RoleAssignment.user_id).where(RoleAssignment.role.in_(names), where)
    return db.session.scalars(select(User).where(User.active, User.id.in_(ids)).order_by(User.id)).all()


def _others(users, actor) -> list[User]:
    actor_id = getattr(actor, "id", None)
    return [u for u in users if u is not None and u.id != actor_id]


# -- invoices ------------------------------------------------------------------------------------

def _invoice_text(invoice) -> str:
    return f"{invoice.vendor.name} ({invoice.vendor.code}), {format(invoice.total_amount, 'f')} {invoice.currency}"


def approval_waiting(actor, invoice, approvers, why: str = "") -> list[Notification]:
    """``invoice`` went In Approval: ``approvers`` (those who may approve it) are told."""
    body = [_invoice_text(invoice) + ".", why] if why else _invoice_text(invoice) + "."
    return notify("approval_waiting", _others(approvers, actor),
                  T("Invoice %(number)s of %(vendor)s waits for your approval", number=invoice.number,
                    vendor=invoice.vendor.code), body=body,
                  url=f"/invoices/{invoice.id}", obj=invoice, library_id=invoice.owner_library_id)


def invoice_returned(actor, invoice, sent_by, verb: str, reason: str) -> list[Notification]:
    """``invoice`` was rejected or sent back to review (``verb``): its creator and ``sent_by`` (who
    sent it for approval) are told."""
    args = dict(number=invoice.number, vendor=invoice.vendor.code)
    if actor is not None:
        title = {"rejected": T("Invoice %(number)s of %(vendor)s was rejected by %(actor)s", actor=str(actor), **args),
                 "sent back to review": T("Invoice %(number)s of %(vendor)s was sent back to review by %(actor)s",
                                          actor=str(actor), **args)}.get(english(verb)) \
            or T("Invoice %(number)s of %(vendor)s was %(verb)s by %(actor)s", verb=verb, actor=str(actor), **args)
    else:
        title = {"rejected": T("Invoice %(number)s of %(vendor)s was rejected", **args),
                 "sent back to review": T("Invoice %(number)s of %(vendor)s was sent back to review", **args)
                 }.get(english(verb)) or T("Invoice %(number)s of %(vendor)s was %(verb)s", verb=verb, **args)
    return notify("invoice_returned", _others([invoice.created_by, sent_by], actor), title,
                  body=[_invoice_text(invoice) + ".", T("Reason: %(reason)s", reason=reason)],
                  url=f"/invoices/{invoice.id}",
                  obj=invoice, library_id=invoice.owner_library_id)


def erp_rejected(actor, invoice, reason: str, managers_roles) -> list[Notification]:
    """The ERP rejected ``invoice`` (back In Review): its creator and the invoice managers in scope."""
    users = [invoice.created_by, *holders(managers_roles, invoice.owner_library_id)]
    return notify("erp_rejected", _others(users, actor),
                  T("The ERP rejected invoice %(number)s of %(vendor)s", number=invoice.number,
                    vendor=invoice.vendor.code),
                  body=[T("%(invoice)s. It is back In Review.", invoice=_invoice_text(invoice)),
                        T("The ERP's reason: %(reason)s", reason=reason)],
                  url=f"/invoices/{invoice.id}", obj=invoice, library_id=invoice.owner_library_id)


# -- EDI ------------------------------------------------------------------------------------------

EDI_ROLES = frozenset({Role.INVOICE_OPERATOR, Role.INVOICE_OPERATOR_EXTENDED, Role.INVOICE_MANAGER})


def edi_unmatched(actor, message) -> list[Notification]:
    """An EDI message failed (not matched, not turned into an invoice): the invoice operators and
    managers who may work the EDI inbox are told. The inbox is the institution's (a message
    belongs to no library before it is matched), so these are the institution-wide ones."""
    vendor = db.session.get(Vendor, message.vendor_id) if message.vendor_id else None
    number = message.invoice_number
    if vendor is not None:
        title = T("EDI message of %(vendor)s (invoice %(number)s) could not be matched", vendor=vendor.code,
                  number=number) if number else \
            T("EDI message of %(vendor)s could not be matched", vendor=vendor.code)
    else:
        title = T("EDI message (invoice %(number)s) could not be matched", number=number) if number else \
            T("EDI message could not be matched")
    where = T("%(file)s, message %(index)s.", file=message.file_name, index=message.message_index) \
        if message.message_index else T("%(file)s, message file.", file=message.file_name)
    return notify("edi_unmatched", _others(holders(EDI_ROLES, None), actor), title,
                  body=[where, message.reason],
                  url=f"/invoices/edi/{message.id}", obj=message, library_id=None)


# -- claims and renewals due (daily) -------------------------------------------------------------

REMINDED = frozenset({Role.PURCHASING_OPERATOR})


def _reminded(kind: str) -> set[tuple[int, str]]:
    """(PO line id, title) of every reminder of ``kind`` made so far, in one query."""
    rows = db.session.execute(select(Notification.object_id, Notification.title).where(
        Notification.kind == kind, Notification.object_type == "po_line").distinct())
    return {(pol_id, title) for pol_id, title in rows}


def _claim(pol) -> tuple:
    due = pol.expected_receipt_date.isoformat()
    return (T("Claim due: %(number)s of %(vendor)s, expected %(date)s", number=pol.number, vendor=pol.vendor.code,
              date=due),
            [pol.title, T("Expected by %(date)s and not yet received: claim it from the vendor.", date=due)])


def _renewal(pol) -> tuple:
    on = pol.renewal_date.isoformat()
    what = T("Renews on %(date)s. It waits for you to renew it.", date=on) \
        if pol.status == "waiting_for_manual_renewal" else \
        T("Renews on %(date)s. It renews automatically then, unless it is cancelled or closed first.", date=on)
    return (T("Renewal due: %(number)s of %(vendor)s on %(date)s", number=pol.number, vendor=pol.vendor.code, date=on),
            [pol.title, what])


def reminders(today: date | None = None) -> dict[str, int]:
    """Remind the purchasing operators in each PO line's scope of its claim due (past its expected
    receipt date, material still to come) and of its renewal due (waiting for renewal). Once per
    line and occasion: the title names the due date, and a line already reminded of under the same
    title is not reminded again, so a second run the same day (or any later day) tells nobody
    twice, while a new expected or renewal date is a new occasion. Returns how many lines were
    reminded of, per kind. The caller commits."""
    today = today or clock.today()
    counts = {"claim_due": 0, "renewal_due": 0}
    claims = db.session.scalars(orders.claims_query(None, today)).all()
    renewals = db.session.scalars(select(POLine).where(POLine.status.in_(sorted(RENEWAL)),
                                                       POLine.renewal_date.isnot(None))
                                  .order_by(POLine.renewal_date, POLine.id)).all()
    told: dict[int | None, list[User]] = {}   # library -> its purchasing operators (one query per library)
    for kind, lines, words in (("claim_due", claims, _claim), ("renewal_due", renewals, _renewal)):
        done = _reminded(kind)
        for pol in lines:
            title, body = words(pol)
            if (pol.id, " ".join(english(title).split())[:300]) in done:   # the English, as notify() keeps it
                continue
            if pol.owner_library_id not in told:
                told[pol.owner_library_id] = holders(REMINDED, pol.owner_library_id)
            if notify(kind, told[pol.owner_library_id], title, body=body,
                      url=f"/orders/lines/{quote(pol.number, safe='')}", obj=pol, library_id=pol.owner_library_id):
                counts[kind] += 1
    return counts
