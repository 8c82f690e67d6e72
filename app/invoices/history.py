"""An invoice's history: one row per change (field, old and new value, note), written as the
change is made, or collected and written in one INSERT by bulk jobs (:func:`deferred_history`).
"""
from __future__ import annotations

import contextvars
from contextlib import contextmanager

from sqlalchemy import insert

from ..clock import utcnow
from ..extensions import db
from ..formatting import history_text
from .models import STATUSES, Invoice, InvoiceEvent, InvoiceLine

_deferred_history: contextvars.ContextVar["_DeferredHistory | None"] = contextvars.ContextVar(
    "deferred_history", default=None)


class _DeferredHistory:
    def __init__(self):
        self.rows: list = []

    def write(self) -> None:
        """Insert the rows collected so far (before a commit inside the block)."""
        if self.rows:
            db.session.flush()
            db.session.execute(insert(InvoiceEvent), self.rows)
            self.rows = []


@contextmanager
def deferred_history():
    """Inside, history rows of invoices that already exist are collected and written in one INSERT
    on leaving, or by ``.write()`` (bulk jobs such as the ERP payment import and invoice export);
    on an exception the rows not yet written are dropped with the work they describe."""
    history = _DeferredHistory()
    token = _deferred_history.set(history)
    try:
        yield history
    finally:
        _deferred_history.reset(token)
    history.write()


def event_values(number: str, vendor_code: str, actor, action: str, field_name: str = "", old=None, new=None,
                 note: str = "", line: int | None = None) -> dict:
    """The columns of one history row, for a bulk INSERT."""
    return dict(invoice_number=number, vendor_code=vendor_code, line_position=line,
                actor_id=actor.id if actor else None, action=action, field=field_name,
                old_value=history_text(old), new_value=history_text(new), note=note or "")


def log(invoice: Invoice, actor, action: str, field_name: str = "", old=None, new=None, note: str = "",
        line: int | None = None) -> InvoiceEvent | None:
    values = event_values(invoice.number, invoice.vendor.code, actor, action, field_name, old, new, note, line)
    deferred = _deferred_history.get()
    if deferred is not None and invoice.id is not None:
        deferred.rows.append(dict(values, invoice_id=invoice.id, at=utcnow()))
        return None
    event = InvoiceEvent(invoice=invoice, **values)
    db.session.add(event)
    return event


def transition(invoice: Invoice, actor, action: str, note: str = "") -> None:
    """Move the invoice by ``action`` (refused unless its status allows it) and record the move."""
    old, new = invoice.move_to(action)
    log(invoice, actor, action, "status", STATUSES[old], STATUSES[new], note)


def line_snapshot(line: InvoiceLine) -> str:
    """A line as its history shows it: type, quantity × price = total, its PO line and funds."""
    funds = "; ".join(f"{d.fund.code} {format(d.amount, 'f')}" for d in line.distribution)
    return (f"{line.line_type} {line.quantity} × {format(line.unit_price, 'f')} = {format(line.total, 'f')}"
            + (f" POL {line.po_line.number}" if line.po_line else "") + (f" [{funds}]" if funds else ""))


def log_line_changes(invoice: Invoice, actor, changes: list[tuple[int, str | None, str | None]]) -> None:
    """What :func:`log` records for each changed line (position, old, new), in one statement."""
    if not changes:
        return
    db.session.execute(insert(InvoiceEvent.__table__), [
        dict(event_values(invoice.number, invoice.vendor.code, actor, "edit", "line", old, new, line=position),
             invoice_id=invoice.id) for position, old, new in changes])
    db.session.expire(invoice, ["history"])   # reloads with these events when read


def charges_text(charges: dict) -> str:
    """Charges (type code -> amount) as their history shows them."""
    return ", ".join(f"{code} {format(amount, 'f')}" for code, amount in sorted(charges.items()))
