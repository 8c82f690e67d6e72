"""Export sent POs to the ERP: every ``po_sent`` / ``po_deleted`` outbox event recorded since the
profile was created is queued once (an ``OrderExport`` row), then each queued event becomes its own
file ``PO_<po number>_<event id>.xml`` (``po_data``; a deleted PO is written as a ``deleted_po``),
checked against its XSD before anything is uploaded. A failed upload leaves the row pending for
the next run; a PO whose file cannot be made (e.g. lines in two currencies, PO deleted before it
went out) is marked *failed* until an administrator reruns it (the queue:
:mod:`app.integrations.order_export`)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.integrations.formats import orders as fmt
from app.integrations.models import OrderExport
from app.integrations.order_export import checked_file, event_number, order_of, queue_orders, safe_part
from app.integrations.runs import JobContext, execute
from app.integrations.transport import TransferError
from app.orders.models import OutboxEvent
from app.text import T


@dataclass
class _File:
    export_id: int
    number: str
    name: str
    data: bytes


def _english(exc: Exception) -> str:
    """What is stored of ``exc`` (``last_error``): its words in English, as stored data is."""
    return getattr(getattr(exc, "text", None), "english", None) or str(exc)


def export_orders(ctx: JobContext) -> None:
    profile, log = ctx.profile, ctx.log
    queued = queue_orders(profile)
    if queued:
        log.info(T("%(count)s new order event(s) queued for export.", count=queued))
    log.commit()
    rows = db.session.execute(
        select(OrderExport, OutboxEvent).join(OutboxEvent, OutboxEvent.id == OrderExport.outbox_event_id)
        .where(OrderExport.profile_id == profile.id, OrderExport.status == "pending")
        .order_by(OrderExport.outbox_event_id)).all()
    if not rows:
        log.info(T("No order to export."))
        return
    files: list[_File] = []
    for row, event in rows:
        number = event_number(event)
        try:
            order = order_of(event)
            number = order.number
            data = fmt.build_po_data([order])
        except fmt.FormatError as exc:
            row.status, row.attempts, row.last_error = "failed", row.attempts + 1, _english(exc)
            log.error(exc.text, record=number)
            log.count(records=1, failed=1)
            log.commit()
            continue
        name = f"PO_{safe_part(number)}_{event.id}.xml"
        files.append(_File(row.id, number, name, checked_file(data, fmt.PO_XSD, name)))
    if not files:
        return
    log.progress(0, len(files))
    done: set[int] = set()
    try:
        with ctx.transport() as transport:
            for n, f in enumerate(files, 1):
                transport.publish(ctx.folder, f.name, f.data)
                row = db.session.get(OrderExport, f.export_id)
                row.status, row.file_name, row.last_error = "sent", f.name, ""
                row.attempts += 1
                log.info(T("%(number)s exported.", number=f.number), file=f.name, record=f.number)
                log.count(files=1, records=1)
                log.progress(n)
                log.commit()
                done.add(f.export_id)
    except TransferError as exc:
        log.rollback()
        left = [f for f in files if f.export_id not in done]
        for f in left:
            row = db.session.get(OrderExport, f.export_id)
            row.attempts += 1
            row.last_error = _english(exc)
        log.commit()
        raise TransferError(T("%(error)s %(count)s order file(s) not sent; the next run sends them.", error=exc.text,
                              count=len(left))) from None


def run(app, profile_code: str, **kw) -> int | None:
    """:func:`export_orders` as a run of the profile (:func:`app.integrations.runs.execute`)."""
    return execute(app, "export_orders", profile_code, export_orders, **kw)
