"""What the two order jobs of a finance profile send, and what waits for them: *Export orders
(PO)* and *Export PO lines (POL)* (their bodies: ``jobs/export_orders.py``,
``jobs/export_po_lines.py``). The pages and the scheduler read the queues from here.

Export orders: every ``po_sent`` / ``po_deleted`` outbox event recorded since the profile was
created is queued once (an :class:`OrderExport` row), then each queued event becomes its own file
``PO_<po number>_<event id>.xml`` (``po_data``; a deleted PO is written as a ``deleted_po``). A
failed upload leaves the row pending for the next run; a PO whose file cannot be made (e.g. lines
in two currencies, PO deleted before it went out) is marked *failed* until an administrator
reruns it.

Export PO lines: closed and cancelled lines not yet sent, oldest first, at most the section's
batch size per run, in one file ``POL_<run id>.xml`` (``po_line_data``); the lines are recorded as
exported only after the upload is confirmed.

Every file is checked against its XSD before anything is uploaded.
"""
from __future__ import annotations

import io
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Iterable, Iterator

from lxml import etree
from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import selectinload

from ..clock import utcnow
from ..extensions import db
from ..funds.models import Fund, FundTransaction
from ..invoices.models import InvoiceLine
from ..ledger.money import to_cents
from ..orders.models import OutboxEvent, POLine, POLineEvent, POLineFund, PurchaseOrder
from ..org.models import Institution
from ..text import T
from .formats import orders as fmt
from .formats import xml
from .models import IntegrationProfile, OrderExport, POLineExport
from .runs import JobRefused
from .services import require_admin

ORDER_EVENT_KINDS = ("po_sent", "po_deleted")
FINISHED_STATUSES = ("closed", "cancelled")
DEFAULT_BATCH = 1000
CHUNK = 1000   # ids per IN (...) list


# -- shared helpers -----------------------------------------------------------------------------

def _owner(library, institution: list | None = None) -> tuple[str, str]:
    """(name, code) of the owning library, or of the institution (``institution``: a one-item
    cache a caller passes to look the institution up once)."""
    if library is not None:
        return library.name, library.code
    if institution is None:
        institution = []
    if not institution:
        institution.append(Institution.current())
    inst = institution[0]
    return (inst.name, inst.code) if inst else ("", "")


def _vendor(vendor) -> fmt.VendorInfo:
    return fmt.VendorInfo(vendor.code, vendor.name, vendor.financial_sys_code or "")


def _fund_info(pol: POLine, share: POLineFund | None, fund: Fund, balances: tuple | None = None) -> fmt.FundInfo:
    """``share`` None: a fund the line's invoices were paid from though not in its distribution."""
    amount = share.amount if share is not None else Decimal("0.00")
    local = None
    if share is not None and share.encumbered_amount is not None and share.encumbered_currency:
        local = fmt.Amount(share.encumbered_currency, share.encumbered_amount)
    percent = share.percent if share is not None and pol.distribution_method == "percent" else None
    encumbered = expended = None
    if balances is not None:
        encumbered = local or fmt.Amount(fund.currency, Decimal("0.00"))
        expended = fmt.Amount(fund.currency, balances[0])
    return fmt.FundInfo(amount=fmt.Amount(pol.currency, amount), local_amount=local, percent=percent,
                        code=fund.code, name=fund.name, fiscal_period=fund.fiscal_period.code,
                        external_id=fund.external_id or "", ledger_code=fund.ledger.code,
                        ledger_name=fund.ledger.name, encumbered=encumbered, expended=expended)


def checked_file(data, xsd: str, file_name: str):
    """``data`` (bytes, or a binary file read from its start) parsed back safely and valid against
    ``xsd``, or the run stops before any upload; returns ``data``. Validated while streaming
    (elements are dropped once read), so a 50,000-line file is never held as a second tree."""
    source = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    source.seek(0)
    head = source.read(4096)
    source.seek(0)
    if b"<!DOCTYPE" in head:
        raise JobRefused(T("%(name)s declares a DTD; nothing was uploaded.", name=file_name))
    try:
        for _, element in etree.iterparse(source, events=("end",), schema=xml.schema(xsd),
                                          resolve_entities=False, no_network=True, load_dtd=False,
                                          huge_tree=False, remove_comments=True, remove_pis=True):
            element.clear(keep_tail=False)
            while element.getprevious() is not None:
                del element.getparent()[0]
    except etree.XMLSyntaxError as exc:   # not well-formed, or not valid: both are our bug
        raise JobRefused(T("%(name)s does not match %(xsd)s: %(error)s. Nothing was uploaded.", name=file_name, xsd=xsd,
                           error=str(exc))) from None
    finally:
        source.seek(0)
    return data


def safe_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text or "")[:80] or "unknown"


def chunks(ids: list[int], size: int = CHUNK) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


# -- export orders (PO) -------------------------------------------------------------------------

def _unqueued_events(profile: IntegrationProfile):
    """Order events of this profile's time (since it was created) not queued by any profile."""
    return (select(OutboxEvent.id)
            .where(OutboxEvent.kind.in_(ORDER_EVENT_KINDS), OutboxEvent.occurred_at >= profile.created_at,
                   ~exists().where(OrderExport.outbox_event_id == OutboxEvent.id)))


def queue_orders(profile: IntegrationProfile) -> int:
    ids = db.session.scalars(_unqueued_events(profile).order_by(OutboxEvent.id)).all()
    for event_id in ids:
        db.session.add(OrderExport(outbox_event_id=event_id, profile_id=profile.id, status="pending"))
    db.session.flush()
    return len(ids)


def event_number(event: OutboxEvent) -> str:
    return str((event.payload or {}).get("number") or f"order event {event.id}")


def order_of(event: OutboxEvent) -> fmt.Order | fmt.DeletedOrder:
    """The file content of one order event (raises :class:`fmt.FormatError` on a data problem)."""
    payload = event.payload or {}
    if event.kind == "po_deleted":
        return fmt.DeletedOrder(event_number(event), event.occurred_at.date(), str(payload.get("reason") or ""))
    po = db.session.get(PurchaseOrder, event.object_id, options=[
        selectinload(PurchaseOrder.lines).selectinload(POLine.distribution)])
    if po is None:
        raise fmt.FormatError(T("%(number)s was deleted before it was exported; there is nothing to send (the "
                                "deletion is exported on its own).", number=event_number(event)))
    wanted = set(payload.get("lines") or ())
    lines = [p for p in po.lines if not wanted or p.number in wanted]
    if not lines:
        raise fmt.FormatError(T("%(number)s: none of the lines sent with it is on the order any more.", number=po.number))
    owner, owner_code = _owner(po.owner_library)
    return fmt.Order(
        number=po.number, owner=owner, owner_code=owner_code, sent_date=event.occurred_at.date(),
        vendor=_vendor(po.vendor),
        lines=[fmt.OrderLine(number=p.number, title=p.title, status=p.status, order_type=p.order_type,
                             quantity=p.quantity, list_price=p.list_price, discount=p.discount,
                             price=fmt.Amount(p.currency, p.net_price),
                             funds=[_fund_info(p, s, s.fund) for s in p.distribution],
                             reporting_code=p.reporting_code, vendor_reference=p.vendor_reference)
               for p in lines])


def rerun_failed_orders(actor, profile: IntegrationProfile) -> int:
    """Put this profile's failed order exports back in the queue (the next run tries them again)."""
    require_admin(actor)
    result = db.session.execute(
        update(OrderExport).where(OrderExport.profile_id == profile.id, OrderExport.status == "failed")
        .values(status="pending", last_error="", updated_at=utcnow()).execution_options(synchronize_session=False))
    db.session.flush()
    return result.rowcount or 0


def pending_orders(profile: IntegrationProfile) -> int:
    """Order events this profile has still to send: queued and pending, or not queued yet."""
    queued = db.session.scalar(select(func.count(OrderExport.id)).where(
        OrderExport.profile_id == profile.id, OrderExport.status == "pending"))
    waiting = db.session.scalar(select(func.count()).select_from(_unqueued_events(profile).subquery()))
    return (queued or 0) + (waiting or 0)


@dataclass(frozen=True)
class FailedOrder:
    export_id: int
    event_id: int
    po_number: str
    kind: str               # po_sent | po_deleted
    attempts: int
    last_error: str
    updated_at: datetime


def failed_orders(profile: IntegrationProfile) -> list[FailedOrder]:
    rows = db.session.execute(
        select(OrderExport, OutboxEvent).join(OutboxEvent, OutboxEvent.id == OrderExport.outbox_event_id)
        .where(OrderExport.profile_id == profile.id, OrderExport.status == "failed")
        .order_by(OrderExport.outbox_event_id)).all()
    return [FailedOrder(r.id, e.id, event_number(e), e.kind, r.attempts, r.last_error, r.updated_at)
            for r, e in rows]


# -- export PO lines (POL) ----------------------------------------------------------------------

def unexported_lines():
    return (select(POLine.id)
            .outerjoin(POLineExport, POLineExport.po_line_id == POLine.id)
            .where(POLine.status.in_(FINISHED_STATUSES), POLineExport.id.is_(None)))


def unexported_po_lines() -> int:
    return db.session.scalar(select(func.count()).select_from(unexported_lines().subquery())) or 0


def _expended(ids: list[int]) -> dict[int, dict[int, Decimal]]:
    """PO line id -> {fund id: expended on its invoice lines, fund currency}."""
    t = FundTransaction
    out: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for chunk in chunks(ids):
        q = (select(InvoiceLine.po_line_id, t.fund_id, func.sum(t.amount))
             .join(InvoiceLine, and_(t.source_type == "invoice_line", t.source_id == InvoiceLine.id))
             .where(t.kind == "expenditure", InvoiceLine.po_line_id.in_(chunk))
             .group_by(InvoiceLine.po_line_id, t.fund_id))
        for pol_id, fund_id, total in db.session.execute(q):
            out[pol_id][fund_id] = to_cents(Decimal(total))
    return out


def _close_notes(ids: list[int]) -> dict[int, str]:
    """PO line id -> the note of its last close."""
    e = POLineEvent
    out: dict[int, str] = {}
    for chunk in chunks(ids):
        last = (select(func.max(e.id)).where(e.po_line_id.in_(chunk), e.action == "close", e.field == "status")
                .group_by(e.po_line_id))
        rows = db.session.execute(select(e.po_line_id, e.note).where(e.id.in_(last)))
        out.update((pol_id, note) for pol_id, note in rows)
    return out


def finished_lines(ids: list[int]) -> list[fmt.FinishedLine]:
    """:func:`iter_finished_lines` as a list (small batches, tests)."""
    return list(iter_finished_lines(ids))


def iter_finished_lines(ids: list[int]) -> Iterator[fmt.FinishedLine]:
    """The file content of these closed or cancelled lines, in the order of ``ids``, yielded as
    they are read: a fixed number of queries per chunk of 1,000 lines (no query per line). Only
    one chunk of ORM rows is alive at a time (the session holds unchanged rows weakly), and a
    writer that consumes the lines as they come never holds more than a chunk."""
    institution: list = []
    funds: dict[int, Fund] = {}
    for chunk in chunks(ids):
        q = select(POLine).where(POLine.id.in_(chunk)).options(
            selectinload(POLine.distribution), selectinload(POLine.po))
        by_id = {p.id: p for p in db.session.scalars(q)}
        expended = _expended(chunk)
        notes = _close_notes(chunk)
        funds.update((s.fund_id, s.fund) for p in by_id.values() for s in p.distribution)
        missing = {fid for per_fund in expended.values() for fid in per_fund} - set(funds)
        if missing:
            funds.update((f.id, f) for f in db.session.scalars(select(Fund).where(Fund.id.in_(missing))))
        lines = [_finished_line(by_id[pol_id], expended.get(pol_id, {}), notes.get(pol_id, ""), funds, institution)
                 for pol_id in chunk]
        del by_id
        yield from lines


def _finished_line(p: POLine, spent: dict[int, Decimal], close_note: str, funds: dict[int, Fund],
                   institution: list) -> fmt.FinishedLine:
    own = [s.fund_id for s in p.distribution]
    infos = [_fund_info(p, s, s.fund, (spent.get(s.fund_id, Decimal("0.00")),)) for s in p.distribution]
    # Funds an invoice of the line was paid from though they are not in its distribution.
    infos += [_fund_info(p, None, funds[fid], (spent[fid],)) for fid in sorted(spent) if fid not in own]
    owner, owner_code = _owner(p.owner_library, institution)
    reason = p.cancel_reason if p.status == "cancelled" else close_note
    when = p.closed_at or p.updated_at
    return fmt.FinishedLine(
        number=p.number, po_number=p.po.number if p.po is not None else "", title=p.title, status=p.status,
        status_date=when.date(), reason=reason or "", owner=owner, owner_code=owner_code,
        vendor=_vendor(p.vendor), order_type=p.order_type, quantity=p.quantity,
        price=fmt.Amount(p.currency, p.net_price), funds=infos)
