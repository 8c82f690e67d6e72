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
from ..text import StoredSentences, T, english
from .models import CHANNELS, STATUSES, Invoice, InvoiceEvent, InvoiceLine

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
    """The columns of one history row, for a bulk INSERT (in English: see :func:`_english`)."""
    return dict(invoice_number=number, vendor_code=vendor_code, line_position=line,
                actor_id=actor.id if actor else None, action=action, field=field_name,
                old_value=history_text(old), new_value=history_text(new),
                note=english(note) or "")


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


# -- shown in the reader's language ------------------------------------------------------------
# The rows keep English words (the action and field codes, status labels, yes/no, the notes the
# workflow writes); the history tab shows them translated by these tables, and anything else
# (what a person typed, names, amounts) as it is.

ACTIONS = {
    "create": T("create"), "edit": T("edit"), "review": T("review"), "review_failed": T("review failed"),
    "to_approval": T("to approval"), "approve": T("approve"), "reject": T("reject"), "skip_erp": T("skip erp"),
    "exported": T("exported"), "exported_and_closed": T("exported and closed"), "paid": T("paid"),
    "erp_rejected": T("erp rejected"), "send_back_to_review": T("send back to review"),
    "governmental_invoice": T("governmental invoice"), "late_expenditure": T("late expenditure"),
    "payment_notice": T("payment notice"), "delete": T("delete"), "add_note": T("add note"),
    "edit_note": T("edit note"), "delete_note": T("delete note"), "attach": T("attach"),
    "delete_attachment": T("delete attachment"),
}
FIELDS = {
    "status": T("status"), "problems": T("problems"), "fiscal_period": T("fiscal period"), "note": T("note"),
    "attachment": T("attachment"), "line": T("line"), "charges": T("charges"), "owner": T("owner"),
    "number": T("number"), "vendor_id": T("vendor id"), "vendor_account_id": T("vendor account id"),
    "invoice_date": T("invoice date"), "due_date": T("due date"), "currency": T("currency"),
    "total_amount": T("total amount"), "owner_library_id": T("owner library id"),
    "payment_method": T("payment method"), "reference_number": T("reference number"), "notes": T("notes"),
    "prepaid": T("prepaid"), "export_prepaid": T("export prepaid"), "internal_copy": T("internal copy"),
    "explicit_ratio": T("explicit ratio"), "pro_rata": T("pro rata"), "vat_level": T("vat level"),
    "vat_inclusive": T("vat inclusive"), "vat_code": T("vat code"), "vat_separate_line": T("vat separate line"),
    "vat_percent": T("vat percent"), "vat_amount": T("vat amount"), "vat_fund": T("vat fund"),
    "vat_confirmed": T("vat confirmed"), "price_note": T("price note"), "reporting_code": T("reporting code"),
}
WORDS = StoredSentences(
    fixed=(*STATUSES.values(), *CHANNELS.values(),
           T("yes"), T("no"), T("Institution"),
           T("not processed"), T("exported to the ERP"), T("not exported to the ERP"),
           T("not exported; payment is not handled here"), T("approved"), T("edited: reviewed again"),
           T("no rule: manual approval"), T("deleted"), T("VAT adjustment line")),
    patterns=(
        (r"(?P<num>\d+) problem\(s\)", T("%(num)s problem(s)")),
        (r"approved automatically by rule “(?P<rule>.*)”", T("approved automatically by rule “%(rule)s”")),
        (r"rule “(?P<rule>.*)”", T("rule “%(rule)s”")),
        (r"it expends on closed fiscal period (?P<periods>.+): an administrator approves it with a reason",
         T("it expends on closed fiscal period %(periods)s: an administrator approves it with a reason")),
        (r"paid: voucher (?P<voucher>.*) on (?P<date>\S+)", T("paid: voucher %(voucher)s on %(date)s")),
        (r"raised to (?P<vendor>.+)", T("raised to %(vendor)s")),
        (r"(?P<size>[\d,]+) bytes", T("%(size)s bytes")),
        (r"note of (?P<date>\d{4}-\d{2}-\d{2})", T("note of %(date)s")),
        # what the workflow writes on the fund transactions and lines it makes (app.invoices.services)
        (r"Invoice for (?P<po>[^ ]+)", T("Invoice for %(po)s")),
        (r"Invoice (?P<number>.+) back to review", T("Invoice %(number)s back to review")),
        (r"Invoice (?P<number>.+) of (?P<vendor>[^ ]+)", T("Invoice %(number)s of %(vendor)s")),
        (r"VAT (?P<percent>[\d.]+) % of (?P<number>.+)", T("VAT %(percent)s %% of %(number)s")),
        (r"VAT of invoice (?P<number>.+) of (?P<vendor>[^ ]+)", T("VAT of invoice %(number)s of %(vendor)s")),
        (r"VAT of invoice (?P<number>.+)", T("VAT of invoice %(number)s")),
    ))


def shown_word(value: str):
    """A stored value or note as the history tab shows it: a word the workflow wrote, translated;
    anything else as it is."""
    return WORDS.shown(value)


def shown_action(action: str):
    return ACTIONS.get(action) or (action or "").replace("_", " ")


def shown_field(field_name: str):
    return FIELDS.get(field_name) or (field_name or "").replace("_", " ")
