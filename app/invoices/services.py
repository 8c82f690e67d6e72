"""Every change to invoices goes through these functions.

Create or edit an invoice (unique number per vendor, exact fund distribution, charges pro rata or
as lines, VAT with the vendor/VAT check, accrual over fiscal periods, the over-expenditure check),
then move it through the workflow: review rules → approval rules → approval (expend the funds,
release the POL encumbrance) → ERP or payment → closed; and back to review when needed.

Functions take an explicit ``actor``, flush, write history, and raise :mod:`app.errors`
exceptions with messages meant for people. Callers commit.
"""
from __future__ import annotations

import contextvars
import re
import secrets
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import case, false, func, insert, select, true, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..auth.models import Role, utcnow
from ..auth.permissions import has_any_role, in_scope, library_scope
from ..database import is_postgres
from ..errors import Duplicate, Forbidden, InvalidInput, NotFound, RuleViolation
from ..extensions import db
from ..formatting import history_text as _text
from ..funds import services as fs
from ..funds.distribution import Share, distribute, parse_money, parse_percent, visible_fund_ids
from ..funds.models import Fund, FundTransaction
from ..ledger import TransactionKind
from ..ledger.invoicing import AccrualError, Period, VatCheck, accrual_split, pro_rata, vat_check, vat_of
from ..ledger.money import quantize, split
from ..limits import MAX_TEXT_LENGTH, check_length
from ..orders import services as orders
from ..orders.models import POLine
from ..org.models import Library
from ..org.services import parse_id
from ..vendors import services as vs
from ..vendors.models import Vendor, VendorAccount
from . import settings
from .models import (BUILT_IN_CHARGES, CHANNELS, PAYMENT_METHODS, ApprovalRule, ChargeType, Invoice,
                     TRANSITIONS, InvoiceCharge, InvoiceEvent, InvoiceLine, InvoiceLineFund, ReviewRule,
                     refuse_unless)

OPERATORS = frozenset({Role.ADMIN, Role.INVOICE_OPERATOR, Role.INVOICE_OPERATOR_EXTENDED, Role.INVOICE_MANAGER})
DELETERS = frozenset({Role.ADMIN, Role.INVOICE_OPERATOR_EXTENDED})
APPROVERS = frozenset({Role.ADMIN, Role.INVOICE_MANAGER})
LINE_SOURCE, POL_SOURCE = "invoice_line", "po_line"


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


# -- scope -------------------------------------------------------------------------------------

def visible_invoices_clause(user):
    scope = library_scope(user)
    if scope is None:
        return true()
    return Invoice.owner_library_id.in_(scope) if scope else false()


def can_edit(user, owner_library_id: int | None) -> bool:
    return has_any_role(user, OPERATORS) and in_scope(library_scope(user, OPERATORS), owner_library_id)


def _require(actor, roles, owner_library_id: int | None, what: str) -> None:
    if not has_any_role(actor, roles):
        raise Forbidden(f"You may not {what}.")
    if not in_scope(library_scope(actor, roles), owner_library_id):
        raise Forbidden(f"You may only {what} for your own library.", "owner_library")


def get_invoice(user, ref) -> Invoice:
    invoice_id = parse_id(ref)
    invoice = db.session.scalar(select(Invoice).where(Invoice.id == invoice_id, visible_invoices_clause(user))) \
        if invoice_id else None
    if invoice is None:
        raise NotFound("No such invoice.")
    return invoice


def _lock(invoice: Invoice) -> None:
    """PostgreSQL: lock the invoice's row and reload it. What ``refresh(invoice,
    with_for_update=...)`` does (expire the invoice with its lines, their fund shares and its charges;
    load it locked), but the lines and charges that were loaded come back in a few queries, not
    one SELECT per object (4,000 statements for a 1,000-line invoice)."""
    if is_postgres(db.session):
        unloaded = sa_inspect(invoice).unloaded
        reload = [selectinload(Invoice.lines).selectinload(InvoiceLine.distribution)] if "lines" not in unloaded \
            else []
        reload += [selectinload(Invoice.charges)] if "charges" not in unloaded else []
        # Held during the reload so it refreshes these line objects rather than building new ones.
        held = [] if "lines" in unloaded else list(invoice.lines)
        db.session.expire(invoice)
        db.session.execute(select(Invoice).where(Invoice.id == invoice.id).with_for_update(of=Invoice)
                           .options(*reload).execution_options(populate_existing=True)).scalar_one()
        held.clear()


# -- history -----------------------------------------------------------------------------------

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


def _event_values(number: str, vendor_code: str, actor, action: str, field_name: str = "", old=None, new=None,
                  note: str = "", line: int | None = None) -> dict:
    return dict(invoice_number=number, vendor_code=vendor_code, line_position=line,
                actor_id=actor.id if actor else None, action=action, field=field_name,
                old_value=_text(old), new_value=_text(new), note=note or "")


def log(invoice: Invoice, actor, action: str, field_name: str = "", old=None, new=None, note: str = "",
        line: int | None = None) -> InvoiceEvent | None:
    values = _event_values(invoice.number, invoice.vendor.code, actor, action, field_name, old, new, note, line)
    deferred = _deferred_history.get()
    if deferred is not None and invoice.id is not None:
        deferred.rows.append(dict(values, invoice_id=invoice.id, at=utcnow()))
        return None
    event = InvoiceEvent(invoice=invoice, **values)
    db.session.add(event)
    return event


def _transition(invoice: Invoice, actor, action: str, note: str = "") -> None:
    old, new = invoice.move_to(action)
    log(invoice, actor, action, "status", _label(old), _label(new), note)


def _label(status: str) -> str:
    from .models import STATUSES
    return STATUSES[status]


# -- fields ------------------------------------------------------------------------------------

@dataclass
class LineFields:
    unit_price: object = "0"
    quantity: object = 1
    line_type: str = "regular"
    po_line: POLine | None = None
    total: object = None                 # None: quantity × unit price
    fully_invoiced: bool = True
    price_note: str = ""
    subscription_from: date | None = None
    subscription_to: date | None = None
    reporting_code: str = ""
    vat_code: str = ""
    vat_percent: object = None
    vat_amount: object = None
    distribution_method: str = "percent"
    distribution: list[Share] = field(default_factory=list)
    note: str = ""


@dataclass
class InvoiceFields:
    number: str = ""
    vendor: Vendor | None = None
    invoice_date: date | None = None
    total_amount: object = "0"
    currency: str = ""
    vendor_account: VendorAccount | None = None
    due_date: date | None = None
    owner_library: Library | None = None
    payment_method: str = "bank_transfer"
    reference_number: str = ""
    notes: str = ""
    prepaid: bool = False
    export_prepaid: bool = False
    internal_copy: bool = False
    explicit_ratio: object = None
    pro_rata: bool | None = None
    charges: dict = field(default_factory=dict)       # charge type code -> amount (pro rata)
    vat_level: str = "none"                             # none | invoice | line
    vat_inclusive: bool = False
    vat_code: str = ""
    vat_percent: object = None
    vat_amount: object = None
    vat_separate_line: bool = False
    lines: list[LineFields] = field(default_factory=list)


def charge_types() -> dict[str, str]:
    """Built-in charge types and the library's own active ones (code -> name)."""
    own = db.session.scalars(select(ChargeType).where(ChargeType.active).order_by(ChargeType.code)).all()
    return {**BUILT_IN_CHARGES, **{c.code: c.name for c in own}}


def _clean_header(f: InvoiceFields) -> dict:
    if f.vendor is None:
        raise InvalidInput("Choose the vendor.", "vendor")
    number = (f.number or "").strip()
    if not number or len(number) > 50:
        raise InvalidInput("The invoice number is required (at most 50 characters).", "number")
    if f.invoice_date is None:
        raise InvalidInput("The invoice date is required.", "invoice_date")
    if f.due_date is not None and f.due_date < f.invoice_date:
        raise InvalidInput("The due date cannot be before the invoice date.", "due_date")
    if f.vendor_account is not None and f.vendor_account.vendor_id != f.vendor.id:
        raise InvalidInput(f"Account {f.vendor_account.code} belongs to another vendor.", "vendor_account")
    currency = fs.check_currency((f.currency or f.vendor.currency or "").strip().upper())
    if f.payment_method not in PAYMENT_METHODS:
        raise InvalidInput("Choose the payment method: " + ", ".join(PAYMENT_METHODS.values()) + ".", "payment_method")
    ratio = None
    if f.explicit_ratio not in (None, ""):
        ratio = vs.parse_rate(f.explicit_ratio, "explicit_ratio")
    if f.vat_level not in ("none", "invoice", "line"):
        raise InvalidInput("VAT is on the invoice, on its lines, or none.", "vat_level")
    for name, limit in (("reference_number", 100), ("vat_code", 20)):
        if len(getattr(f, name) or "") > limit:
            raise InvalidInput(f"The {name.replace('_', ' ')} is longer than {limit} characters.", name)
    check_length(f.notes, "notes")
    return {
        "number": number, "vendor_id": f.vendor.id, "vendor_account_id": f.vendor_account.id if f.vendor_account
        else None, "invoice_date": f.invoice_date, "due_date": f.due_date, "currency": currency,
        "total_amount": parse_money(f.total_amount, currency, "total_amount", "invoice total"),
        "owner_library_id": f.owner_library.id if f.owner_library else None, "payment_method": f.payment_method,
        "reference_number": (f.reference_number or "").strip(), "notes": (f.notes or "").strip(),
        "prepaid": bool(f.prepaid), "export_prepaid": bool(f.export_prepaid), "internal_copy": bool(f.internal_copy),
        "explicit_ratio": ratio, "pro_rata": f.pro_rata, "vat_level": f.vat_level,
        "vat_inclusive": bool(f.vat_inclusive), "vat_code": (f.vat_code or "").strip(),
        "vat_separate_line": bool(f.vat_separate_line),
    }


def _check_unique(vendor: Vendor, number: str, invoice_id: int | None = None) -> None:
    """The same number for the same vendor is refused, naming the invoice that has it."""
    # lower() on both sides in SQL: exactly the comparison of the unique index uq_invoice_vendor_number_nocase.
    q = select(Invoice).where(Invoice.vendor_id == vendor.id, db.func.lower(Invoice.number) == db.func.lower(number))
    if invoice_id is not None:
        q = q.where(Invoice.id != invoice_id)
    existing = db.session.scalar(q)
    if existing is not None:
        raise Duplicate(f"Vendor {vendor.code} already has invoice {existing.number} (dated "
                        f"{existing.invoice_date.isoformat()}, {existing.status_label}); an invoice number is "
                        "unique per vendor.", "number")


@dataclass
class _Line:
    values: dict
    shares: list[tuple[Fund, Decimal | None, Decimal]]


def _clean_line(actor, f: LineFields, n: int, currency: str, owner_library_id: int | None, vendor: Vendor,
                types: dict, visible_funds: set[int] | None = None, visible_pols: set[int] | None = None) -> _Line:
    """``visible_funds`` / ``visible_pols``: the ids the actor may see (looked up per line when None)."""
    where = f"line {n}"
    if f.line_type != "regular" and f.line_type not in types and f.line_type != "vat":
        raise InvalidInput(f"{where.capitalize()}: unknown line type {f.line_type!r}.", "lines")
    text = str(f.quantity if f.quantity is not None else "").strip()
    if not text.lstrip("-").isdigit() or not text.isascii() or int(text) == 0 or abs(int(text)) > 100000:
        raise InvalidInput(f"{where.capitalize()}: the quantity is a whole number (not zero).", "lines")
    quantity = int(text)
    unit_price = parse_money(f.unit_price, currency, "lines", f"unit price on {where}")
    # A computed total goes through the same range check as a typed one (quantity × price can pass it).
    total = parse_money(quantize(unit_price * quantity, currency) if f.total in (None, "") else f.total, currency,
                        "lines", f"total on {where}")
    if f.subscription_from and f.subscription_to and f.subscription_from >= f.subscription_to:
        raise InvalidInput(f"{where.capitalize()}: the subscription must end after it starts.", "lines")
    if len(f.note or "") > MAX_TEXT_LENGTH:
        raise InvalidInput(f"{where.capitalize()}: the note is longer than {MAX_TEXT_LENGTH:,} characters.", "lines")
    if f.po_line is not None:
        if visible_pols is None:
            orders.get_po_line(actor, f.po_line.id)  # visible, else NotFound
        elif f.po_line.id not in visible_pols:
            raise NotFound("No such PO line.")
    vat_percent = None if f.vat_percent in (None, "") else parse_percent(f.vat_percent, "lines", f"VAT % on {where}")
    vat_amount = Decimal(0) if f.vat_amount in (None, "") else \
        parse_money(f.vat_amount, currency, "lines", f"VAT amount on {where}")
    try:
        shares = distribute(actor, f.distribution or [], f.distribution_method, total, currency, owner_library_id,
                            field="lines", what=f"the total of {where}", visible=visible_funds)
    except InvalidInput as exc:
        if where in exc.message.lower():
            raise
        raise InvalidInput(f"{where.capitalize()}: {exc.message}", "lines") from None
    return _Line({"line_type": f.line_type, "po_line_id": f.po_line.id if f.po_line else None,
                  "quantity": quantity, "unit_price": unit_price, "total": total,
                  "fully_invoiced": bool(f.fully_invoiced), "price_note": (f.price_note or "").strip()[:300],
                  "subscription_from": f.subscription_from, "subscription_to": f.subscription_to,
                  "reporting_code": (f.reporting_code or "").strip()[:40], "vat_code": (f.vat_code or "").strip()[:20],
                  "vat_percent": vat_percent, "vat_amount": vat_amount,
                  "distribution_method": f.distribution_method, "note": (f.note or "").strip()}, shares)


# -- VAT ---------------------------------------------------------------------------------------

class ConfirmationNeeded(RuleViolation):
    """Saving needs the user's answer to the vendor/VAT check (code ``confirmation_required``)."""
    code = "confirmation_required"
    status = 409

    def __init__(self, check: VatCheck, message: str):
        super().__init__(message, "vat")
        self.check = check


VAT_QUESTIONS = {
    VatCheck.CONFIRM_VAT_THOUGH_NOT_LIABLE: "{vendor} is not liable for VAT, yet the invoice reports VAT. Save it "
                                            "with the VAT included?",
    VatCheck.CONFIRM_NO_VAT_THOUGH_LIABLE: "{vendor} is liable for VAT, yet the invoice reports none. Save it "
                                           "without VAT?",
    VatCheck.CONFIRM_NO_VAT_GOVERNMENTAL: "{vendor} is liable for VAT and pays it to {gov}, yet the invoice "
                                          "reports none. Add {gov}'s VAT of {pct} % (and raise a separate invoice "
                                          "to {gov} for it), or save without VAT?",
}
CONFIRMATION_LABELS = {
    "confirm_no_vat_though_liable": "saved without VAT although the vendor is liable",
    "confirm_vat_though_not_liable": "saved with VAT although the vendor is not liable",
    "confirm_no_vat_governmental:add_vat": "the governmental vendor's VAT was added and invoiced to it",
    "confirm_no_vat_governmental:no_vat": "saved without VAT although the vendor is liable",
}
# The answers a confirmation accepts: "yes" for the plain questions; for the governmental one
# "add_vat" (add the configured VAT and raise the governmental invoice) or "no_vat".
ANSWERS = {VatCheck.CONFIRM_VAT_THOUGH_NOT_LIABLE: {"yes"}, VatCheck.CONFIRM_NO_VAT_THOUGH_LIABLE: {"yes"},
           VatCheck.CONFIRM_NO_VAT_GOVERNMENTAL: {"add_vat", "no_vat"}}


def _vat_reported(header: dict, lines: list[_Line], vat_percent, vat_amount) -> bool:
    if header["vat_level"] == "invoice":
        return bool(vat_percent) or bool(vat_amount)
    if header["vat_level"] == "line":
        return any(ln.values["vat_percent"] or ln.values["vat_amount"] for ln in lines)
    return False


def _vat_decision(vendor: Vendor, header: dict, lines: list[_Line], vat_percent, vat_amount,
                  confirm: str | None) -> tuple[VatCheck, bool]:
    """Run the vendor/VAT check; returns (the row, whether the governmental VAT is to be added)."""
    gov = vendor.governmental_vendor
    check = vat_check(gov is not None, vendor.liable_for_vat, _vat_reported(header, lines, vat_percent, vat_amount))
    if check is VatCheck.ADD_GOVERNMENTAL_VAT:
        return check, True
    if check.needs_confirmation:
        if confirm not in ANSWERS[check]:
            question = VAT_QUESTIONS[check].format(vendor=vendor.code, gov=gov.code if gov else "",
                                                   pct=format(gov.vat_percent or 0, "f") if gov else "")
            raise ConfirmationNeeded(check, question)
        return check, confirm == "add_vat"
    return check, False


# -- create and edit ---------------------------------------------------------------------------

def create_invoice(actor, f: InvoiceFields, channel: str = "manual", confirm: str | None = None) -> Invoice:
    """A new invoice In Review (then :func:`process_invoice` runs the review and approval rules)."""
    _require(actor, OPERATORS, f.owner_library.id if f.owner_library else None, "create invoices")
    if channel not in CHANNELS:
        raise InvalidInput("Unknown creation channel.", "channel")
    header = _clean_header(f)
    _check_unique(f.vendor, header["number"])
    invoice = Invoice(created_by_id=actor.id, channel=channel, status="in_review", vendor=f.vendor, **header)
    db.session.add(invoice)
    _fill(actor, invoice, f, header, confirm, record=False)
    invoice.erp_identifier = _new_erp_identifier()
    db.session.flush()
    log(invoice, actor, "create", "status", "", invoice.status_label, CHANNELS[channel])
    _raise_governmental_invoice(actor, invoice)
    db.session.flush()
    return invoice


def _new_erp_identifier() -> str:
    while True:
        candidate = str(secrets.randbelow(9 * 10**15) + 10**15)
        if not db.session.scalar(select(Invoice.id).where(Invoice.erp_identifier == candidate)):
            return candidate


def update_invoice(actor, invoice: Invoice, f: InvoiceFields, confirm: str | None = None) -> Invoice:
    """Edit an invoice In Review (its lines are replaced); every change goes to the history."""
    _require(actor, OPERATORS, invoice.owner_library_id, "edit invoices")
    _lock(invoice)
    if invoice.status not in ("in_review", "in_approval"):
        raise RuleViolation(f"Invoice {invoice.number} is {invoice.status_label}; send it back to review to edit it.",
                            "status")
    new_owner = f.owner_library.id if f.owner_library else None
    if new_owner != invoice.owner_library_id:
        _require(actor, OPERATORS, new_owner, "edit invoices")
    header = _clean_header(f)
    if f.vendor.id != invoice.vendor_id or header["number"] != invoice.number:
        _check_unique(f.vendor, header["number"], invoice.id)
    for name, value in header.items():
        old = getattr(invoice, name)
        if _text(old) != _text(value):
            log(invoice, actor, "edit", name, old, value)
            setattr(invoice, name, value)
    invoice.vendor = f.vendor
    _fill(actor, invoice, f, header, confirm, record=True)
    if invoice.status == "in_approval":
        _transition(invoice, actor, "reject", "edited: reviewed again")
    db.session.flush()
    return invoice


def change_owner(actor, invoice: Invoice, owner: Library | None) -> Invoice:
    """Any invoice may change its owner later (the institution or one library)."""
    _require(actor, OPERATORS, invoice.owner_library_id, "change the owner of invoices")
    new = owner.id if owner else None
    _require(actor, OPERATORS, new, "change the owner of invoices")
    if new != invoice.owner_library_id:
        log(invoice, actor, "edit", "owner", invoice.owner_library.code if invoice.owner_library else "Institution",
            owner.code if owner else "Institution")
        invoice.owner_library_id, invoice.owner_library = new, owner
    db.session.flush()
    return invoice


def _fill(actor, invoice: Invoice, f: InvoiceFields, header: dict, confirm: str | None, record: bool) -> None:
    currency, owner = header["currency"], header["owner_library_id"]
    types = charge_types()
    # Visibility of every fund and PO line in two queries, not one per line (1,000-line invoices).
    visible_funds = visible_fund_ids(actor, (s.fund for lf in f.lines for s in lf.distribution or []))
    visible_pols = _visible_po_line_ids(actor, (lf.po_line for lf in f.lines))
    lines = [_clean_line(actor, lf, n, currency, owner, f.vendor, types, visible_funds, visible_pols)
             for n, lf in enumerate(f.lines, 1)]
    vat_percent = None if f.vat_percent in (None, "") else parse_percent(f.vat_percent, "vat_percent", "VAT percent")
    vat_amount = Decimal(0) if f.vat_amount in (None, "") else parse_money(f.vat_amount, currency, "vat_amount",
                                                                          "VAT amount")
    check, add_governmental = _vat_decision(f.vendor, header, lines, vat_percent, vat_amount, confirm)
    if add_governmental and header["vat_level"] == "none":
        header["vat_level"] = "invoice"
    if add_governmental and not vat_percent and not vat_amount:
        vat_percent = f.vendor.governmental_vendor.vat_percent or Decimal(0)
    if header["vat_level"] == "invoice" and vat_percent and not vat_amount:
        base = sum((ln.values["total"] for ln in lines if ln.values["line_type"] != "vat"), Decimal(0))
        vat_amount = vat_of(base, vat_percent, currency, header["vat_inclusive"])
    for ln in lines:
        if header["vat_level"] == "line" and ln.values["vat_percent"] and not ln.values["vat_amount"]:
            ln.values["vat_amount"] = vat_of(ln.values["total"], ln.values["vat_percent"], currency,
                                             header["vat_inclusive"])
    pro_rata_on = settings.get("invoice_use_pro_rata") if f.pro_rata is None else bool(f.pro_rata)
    charges = {}
    for code, value in (f.charges or {}).items():
        if code not in types:
            raise InvalidInput(f"Unknown charge type {code!r}; the types are {', '.join(types)}.", "charges")
        amount = parse_money(value, currency, "charges", f"{types[code].lower()} charge")
        if amount:
            charges[code] = amount
    if charges and not pro_rata_on:
        raise InvalidInput("Without pro rata, enter each additional charge as an invoice line of its type with its "
                           "own fund.", "charges")
    if charges and not any(ln.values["line_type"] == "regular" for ln in lines):
        raise InvalidInput("Charges are spread over the regular lines; add at least one.", "charges")
    values = {"vat_level": header["vat_level"], "vat_percent": vat_percent, "vat_amount": vat_amount,
              "vat_confirmed": (check.value + (f":{confirm}" if confirm in ("add_vat", "no_vat") else ""))
              if check.needs_confirmation else "",
              "pro_rata": f.pro_rata}
    for name, value in values.items():
        if record and _text(getattr(invoice, name)) != _text(value):
            log(invoice, actor, "edit", name, getattr(invoice, name), value)
        setattr(invoice, name, value)
    _replace_lines(actor, invoice, lines, record)
    _replace_charges(actor, invoice, charges, record)
    if header["vat_level"] == "invoice" and invoice.vat_separate_line and invoice.vat_amount and \
            not invoice.vat_inclusive:
        _add_vat_line(invoice)
    invoice._governmental_vat = add_governmental  # read by create_invoice
    check_expenditure(invoice)


def _visible_po_line_ids(actor, pols) -> set[int]:
    ids = {pol.id for pol in pols if pol is not None and pol.id is not None}
    if not ids:
        return set()
    return set(db.session.scalars(select(POLine.id).where(POLine.id.in_(ids),
                                                          orders.visible_po_lines_clause(actor))))


def _line_snapshot(line: InvoiceLine) -> str:
    funds = "; ".join(f"{d.fund.code} {format(d.amount, 'f')}" for d in line.distribution)
    return (f"{line.line_type} {line.quantity} × {format(line.unit_price, 'f')} = {format(line.total, 'f')}"
            + (f" POL {line.po_line.number}" if line.po_line else "") + (f" [{funds}]" if funds else ""))


def _replace_lines(actor, invoice: Invoice, lines: list[_Line], record: bool) -> None:
    # Rows are deleted and inserted with bulk statements and read back with their funds in a few
    # queries: object by object, the ORM took seconds on a 1,000-line invoice.
    existing = [] if invoice.id is None else _lines_with_funds(invoice.id)
    before = {ln.position: _line_snapshot(ln) for ln in existing}
    db.session.flush()   # a new invoice gets its id
    if existing:
        line_ids = select(InvoiceLine.id).where(InvoiceLine.invoice_id == invoice.id).scalar_subquery()
        db.session.execute(InvoiceLineFund.__table__.delete().where(InvoiceLineFund.line_id.in_(line_ids)))
        db.session.execute(InvoiceLine.__table__.delete().where(InvoiceLine.invoice_id == invoice.id))
        for line in existing:
            db.session.expunge(line)   # with its distribution: those rows are gone
    new_lines = []
    if lines:
        db.session.execute(insert(InvoiceLine.__table__), [{"invoice_id": invoice.id, "position": position,
                                                            **ln.values} for position, ln in enumerate(lines, 1)])
        line_id = dict(db.session.execute(select(InvoiceLine.position, InvoiceLine.id)
                                          .where(InvoiceLine.invoice_id == invoice.id)).all())
        rows = [{"line_id": line_id[position], "fund_id": fund.id, "percent": percent, "amount": amount}
                for position, ln in enumerate(lines, 1) for fund, percent, amount in ln.shares]
        if rows:
            db.session.execute(insert(InvoiceLineFund.__table__), rows)
        new_lines = _lines_with_funds(invoice.id)
        # Until the next commit the objects hold the values exactly as given (a Decimal 12.3 stays
        # 12.3, not the 12.30 read back), as objects built from them would.
        for line, ln in zip(new_lines, lines):
            for key, value in ln.values.items():
                set_committed_value(line, key, value)
            given = {fund.id: (percent, amount) for fund, percent, amount in ln.shares}
            for share in line.distribution:
                set_committed_value(share, "percent", given[share.fund_id][0])
                set_committed_value(share, "amount", given[share.fund_id][1])
    set_committed_value(invoice, "lines", new_lines)
    if record:
        after = {ln.position: _line_snapshot(ln) for ln in new_lines}
        _log_line_changes(invoice, actor, [(position, before.get(position), after.get(position))
                                           for position in sorted(set(before) | set(after))
                                           if before.get(position) != after.get(position)])


def _lines_with_funds(invoice_id: int) -> list[InvoiceLine]:
    """An invoice's lines with their distribution, funds and PO lines, in four queries. Loaded afresh
    (populate_existing): after a rolled-back savepoint (the file preview's trials) SQLite hands the
    same line ids out again, and the session may still hold the rolled-back lines under them."""
    return db.session.scalars(
        select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id).order_by(InvoiceLine.position)
        .options(selectinload(InvoiceLine.distribution).selectinload(InvoiceLineFund.fund),
                 selectinload(InvoiceLine.po_line))
        .execution_options(populate_existing=True)).all()


def _log_line_changes(invoice: Invoice, actor, changes: list[tuple[int, str | None, str | None]]) -> None:
    """What :func:`log` records for each changed line (position, old, new), in one statement."""
    if not changes:
        return
    db.session.execute(insert(InvoiceEvent.__table__), [
        {"invoice_id": invoice.id, "invoice_number": invoice.number, "vendor_code": invoice.vendor.code,
         "line_position": position, "actor_id": actor.id if actor else None, "action": "edit", "field": "line",
         "old_value": _text(old), "new_value": _text(new), "note": ""} for position, old, new in changes])
    db.session.expire(invoice, ["history"])   # reloads with these events when read


def _replace_charges(actor, invoice: Invoice, charges: dict, record: bool) -> None:
    before = {c.charge_type: c.amount for c in invoice.charges}
    if record and before != charges:
        log(invoice, actor, "edit", "charges", _charges_text(before), _charges_text(charges))
    invoice.charges.clear()
    db.session.flush()
    for code, amount in charges.items():
        invoice.charges.append(InvoiceCharge(charge_type=code, amount=amount))


def _charges_text(charges: dict) -> str:
    return ", ".join(f"{code} {format(amount, 'f')}" for code, amount in sorted(charges.items()))


def _add_vat_line(invoice: Invoice) -> None:
    """Invoice VAT as a separate adjustment line, its funds in proportion to the regular lines'."""
    weights = defaultdict(Decimal)
    for line in invoice.lines:
        if line.line_type == "regular":
            for d in line.distribution:
                weights[d.fund] += abs(d.amount)
    if not weights:
        raise InvalidInput("A separate VAT line needs regular lines with funds to take its funds from.", "vat")
    funds = sorted(weights, key=lambda fund: fund.id)
    amounts = pro_rata(invoice.vat_amount, [weights[fund] for fund in funds], invoice.currency)
    line = InvoiceLine(position=len(invoice.lines) + 1, line_type="vat", quantity=1, unit_price=invoice.vat_amount,
                       total=invoice.vat_amount, fully_invoiced=False, distribution_method="amount",
                       price_note="VAT adjustment line")
    invoice.lines.append(line)
    for fund, amount in zip(funds, amounts):
        if amount:
            line.distribution.append(InvoiceLineFund(fund=fund, fund_id=fund.id, amount=amount))
    db.session.flush()


def _raise_governmental_invoice(actor, invoice: Invoice) -> Invoice | None:
    """With a governmental vendor and VAT added, a separate invoice for the VAT goes to the
    governmental vendor, charged to the same funds as the VAT."""
    if not getattr(invoice, "_governmental_vat", False) or not invoice.vat_amount:
        return None
    gov = invoice.vendor.governmental_vendor
    parts = _vat_parts(invoice)
    number = f"{invoice.number}-VAT"
    _check_unique(gov, number)
    vat_invoice = Invoice(number=number, vendor=gov, vendor_id=gov.id, invoice_date=invoice.invoice_date,
                          due_date=invoice.due_date, currency=invoice.currency, total_amount=invoice.vat_amount,
                          owner_library_id=invoice.owner_library_id, payment_method=invoice.payment_method,
                          notes=f"VAT of invoice {invoice.number} of {invoice.vendor.code}", channel=invoice.channel,
                          status="in_review", created_by_id=actor.id, governmental_for=invoice,
                          explicit_ratio=invoice.explicit_ratio, pro_rata=False,
                          erp_identifier=_new_erp_identifier())
    db.session.add(vat_invoice)
    line = InvoiceLine(position=1, line_type="regular", quantity=1, unit_price=invoice.vat_amount,
                       total=invoice.vat_amount, fully_invoiced=False, distribution_method="amount",
                       price_note=f"VAT {format(invoice.vat_percent or 0, 'f')} % of {invoice.number}")
    vat_invoice.lines.append(line)
    for fund, amount in parts:
        if amount:
            line.distribution.append(InvoiceLineFund(fund=fund, fund_id=fund.id, amount=amount))
    db.session.flush()
    log(vat_invoice, actor, "create", "status", "", vat_invoice.status_label, f"VAT of invoice {invoice.number}")
    log(invoice, actor, "governmental_invoice", "", "", number, f"raised to {gov.code}")
    return vat_invoice


def _vat_parts(invoice: Invoice) -> list[tuple[Fund, Decimal]]:
    weights = defaultdict(Decimal)
    for line in invoice.lines:
        if line.line_type == "regular":
            for d in line.distribution:
                weights[d.fund] += abs(d.amount)
    if not weights:
        raise InvalidInput("The VAT needs regular lines with funds to be charged to.", "vat")
    funds = sorted(weights, key=lambda fund: fund.id)
    return list(zip(funds, pro_rata(invoice.vat_amount, [weights[fund] for fund in funds], invoice.currency)))


# -- what an invoice charges -------------------------------------------------------------------

@dataclass
class Charge:
    """One posting an approved invoice makes: a line's part charged to one fund."""
    line: InvoiceLine
    fund: Fund                 # the fund charged (with accrual: the same code in that period)
    amount: Decimal            # invoice currency
    fund_amount: Decimal       # fund currency
    rate_text: str             # "1 USD = 2.5 KZT" when converted, else ""


def line_gross(invoice: Invoice) -> dict[int, Decimal]:
    """Each line's amount to charge, in invoice currency: its total, plus exclusive VAT, plus
    its pro-rata share of the charges and of invoice VAT expended from the lines' funds."""
    currency = invoice.currency
    gross = {line.position: line.total for line in invoice.lines}
    if not invoice.vat_inclusive:
        for line in invoice.lines:
            if invoice.vat_level == "line" and line.vat_amount:
                gross[line.position] += line.vat_amount
    regular = [line for line in invoice.lines if line.line_type == "regular"]
    spread = [c.amount for c in invoice.charges]
    if (invoice.vat_level == "invoice" and invoice.vat_amount and not invoice.vat_inclusive
            and not invoice.vat_separate_line and invoice.governmental_for_id is None
            and not _has_governmental_invoice(invoice)):
        spread.append(invoice.vat_amount)
    for amount in spread:
        for line, part in zip(regular, pro_rata(amount, [line.total for line in regular], currency)):
            gross[line.position] += part
    return gross


def _has_governmental_invoice(invoice: Invoice) -> bool:
    if invoice.id is None:
        return False
    return db.session.scalar(select(Invoice.id).where(Invoice.governmental_for_id == invoice.id).limit(1)) is not None


def rate_text(invoice: Invoice, to_currency: str) -> str:
    """The rate a fund in ``to_currency`` is charged at, shown as "1 USD = 2.5 KZT"."""
    if to_currency == invoice.currency:
        return ""
    if invoice.explicit_ratio is not None:
        ratio = invoice.explicit_ratio
    else:
        ratio = vs.rate_on(invoice.currency, invoice.invoice_date) / vs.rate_on(to_currency, invoice.invoice_date)
    return f"1 {invoice.currency} = {format(ratio.quantize(Decimal('0.00000001')).normalize(), 'f')} {to_currency}"


def _period_fund(fund: Fund, period_key) -> Fund:
    if period_key == fund.fiscal_period_id:
        return fund
    target = db.session.scalar(select(Fund).where(Fund.code == fund.code, Fund.fiscal_period_id == period_key))
    if target is None:
        from ..funds.models import FiscalPeriod
        period = db.session.get(FiscalPeriod, period_key)
        raise RuleViolation(f"Accrual needs fund {fund.code} in fiscal period {period.code}, and there is none. "
                            "Create it (same code) or change the subscription dates.", "lines")
    return target


def _accrual_periods() -> list[Period]:
    from ..funds.models import FiscalPeriod
    return [Period(p.id, p.start_date, p.end_date)
            for p in db.session.scalars(select(FiscalPeriod).where(FiscalPeriod.status == "active"))]


def _split(total: Decimal, weights: list, currency: str) -> list[Decimal]:
    """:func:`app.ledger.money.split`, short-cut for one positive weight (most lines have one
    fund): the whole total, rounded, and never "-0.00", exactly what split returns."""
    if len(weights) == 1 and isinstance(weights[0], (Decimal, int)) and weights[0] > 0:
        whole = quantize(total, currency)
        return [abs(whole) if whole == 0 else whole]
    return split(total, weights, currency)


def charges_of(invoice: Invoice) -> list[Charge]:
    """Every fund posting approval would make, exact: per line, the gross amount split over its
    funds (in proportion to their shares), spread over fiscal periods with accrual, converted to
    each fund's currency once per currency and split again, so no cent is made or lost."""
    gross = line_gross(invoice)
    accrual = settings.get("accrual_accounting")
    periods = _accrual_periods() if accrual else []
    result: list[Charge] = []
    for line in invoice.lines:
        if not line.distribution:
            continue
        amount = gross[line.position]
        parts = _split(amount, [abs(d.amount) or 0 for d in line.distribution], invoice.currency) \
            if any(d.amount for d in line.distribution) else \
            _split(amount, [1] * len(line.distribution), invoice.currency)
        pieces: list[tuple[Fund, Decimal]] = []
        for d, part in zip(line.distribution, parts):
            if accrual and line.subscription_from and line.subscription_to:
                try:
                    spread = accrual_split(part, invoice.currency, line.subscription_from, line.subscription_to,
                                           periods)
                except AccrualError as exc:
                    raise RuleViolation(f"Line {line.position}: {exc}", "lines") from None
                pieces += [(_period_fund(d.fund, s.period.key), s.amount) for s in spread if s.amount]
            elif part:
                pieces.append((d.fund, part))
        by_currency: dict[str, list[tuple[Fund, Decimal]]] = defaultdict(list)
        for fund, part in pieces:
            by_currency[fund.currency].append((fund, part))
        for currency, group in by_currency.items():
            subtotal = sum(p for _, p in group)
            converted = vs.convert(subtotal, invoice.currency, currency, invoice.invoice_date,
                                   explicit_ratio=invoice.explicit_ratio)
            fund_parts = _split(converted, [abs(p) for _, p in group], currency) if subtotal else \
                [quantize(Decimal(0), currency)] * len(group)
            rate = rate_text(invoice, currency)
            for (fund, part), fund_part in zip(group, fund_parts):
                result.append(Charge(line, fund, part, fund_part, rate))
    return result


def _postings(invoice: Invoice) -> list[fs.Posting]:
    """Releases of the lines' PO line encumbrance first (so it counts back in), then expenditures."""
    charges = charges_of(invoice)
    releases: list[fs.Posting] = []
    expended_on: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for c in charges:
        if c.line.po_line_id:
            expended_on[(c.line.po_line_id, c.fund.id)] += c.fund_amount
    fully_invoiced: dict[int, bool] = {}   # PO line id -> any of its lines fully invoices it
    for line in invoice.lines:
        if line.po_line_id is not None:
            fully_invoiced[line.po_line_id] = fully_invoiced.get(line.po_line_id, False) or line.fully_invoiced
    outstanding_by_pol = _outstanding_encumbrances(fully_invoiced)
    for pol_id, fully in fully_invoiced.items():   # in the order of the lines
        for fund_id, outstanding in sorted(outstanding_by_pol.get(pol_id, {}).items()):
            if outstanding <= 0:
                continue
            release = outstanding if fully else min(outstanding, max(expended_on.get((pol_id, fund_id), 0), 0))
            if release:
                releases.append(fs.Posting(db.session.get(Fund, fund_id), TransactionKind.DISENCUMBRANCE, release,
                                           source_type=POL_SOURCE, source_id=pol_id))
    expenditures = [fs.Posting(c.fund, TransactionKind.EXPENDITURE, c.fund_amount, source_type=LINE_SOURCE,
                               source_id=c.line.id) for c in charges if c.fund_amount]
    return releases + expenditures


def _outstanding_encumbrances(pol_ids) -> dict[int, dict[int, Decimal]]:
    """:func:`app.orders.services.outstanding_encumbrance` of many PO lines in one query:
    PO line id -> {fund id: what it still holds encumbered}."""
    ids = sorted(set(pol_ids))
    result: dict[int, dict[int, Decimal]] = defaultdict(dict)
    if not ids:
        return result
    t = FundTransaction
    amount = func.sum(case((t.kind == "encumbrance", t.amount), else_=-t.amount))
    rows = db.session.execute(
        select(t.source_id, t.fund_id, amount).where(t.source_type == orders.SOURCE, t.source_id.in_(ids),
                                                     t.kind.in_(("encumbrance", "disencumbrance")))
        .group_by(t.source_id, t.fund_id)).all()
    for pol_id, fund_id, total in rows:
        if total:
            result[pol_id][fund_id] = Decimal(total)
    return result


def check_expenditure(invoice: Invoice) -> None:
    """Refuse an invoice that would take a fund past what it permits, naming the fund and the
    shortfall (the invoice's own PO line encumbrance counted back in)."""
    fs.check_postings(_postings(invoice))


# -- workflow ----------------------------------------------------------------------------------

def review_problems(invoice: Invoice) -> list[str]:
    """The active review rules that the invoice fails, as sentences."""
    rules = {r.kind: r for r in db.session.scalars(select(ReviewRule).where(ReviewRule.active))}
    problems = []
    currency = invoice.currency
    if "total_mismatch" in rules:
        lines_total = sum((ln.total for ln in invoice.lines), Decimal(0))
        lines_total += sum((ln.vat_amount for ln in invoice.lines if invoice.vat_level == "line"
                            and not invoice.vat_inclusive), Decimal(0))
        # VAT raised as a separate invoice to the governmental vendor is not part of this total.
        if invoice.vat_level == "invoice" and not invoice.vat_inclusive and not invoice.vat_separate_line \
                and not _has_governmental_invoice(invoice):
            lines_total += invoice.vat_amount
        lines_total += sum((c.amount for c in invoice.charges), Decimal(0))
        if lines_total != invoice.total_amount:
            problems.append(f"The invoice total {format(invoice.total_amount, 'f')} {currency} differs from its "
                            f"lines and charges, {format(lines_total, 'f')} {currency}.")
    for line in invoice.lines:
        if "line_without_funds" in rules and not line.distribution:
            problems.append(f"Line {line.position} has no fund.")
        pol = line.po_line
        if pol is not None and "pol_vendor_differs" in rules and pol.vendor_id != invoice.vendor_id:
            problems.append(f"Line {line.position}: {pol.number} is ordered from {pol.vendor.code}, not from "
                            f"{invoice.vendor.code}.")
        rule = rules.get("price_differs")
        if pol is not None and rule is not None and pol.net_price and pol.currency == currency:
            threshold = rule.threshold_percent or Decimal(0)
            difference = abs(line.total - pol.net_price) / pol.net_price * 100
            if difference > threshold:
                problems.append(f"Line {line.position}: {format(line.total, 'f')} {currency} differs from the "
                                f"price of {pol.number}, {format(pol.net_price, 'f')} {currency}, by "
                                f"{difference.quantize(Decimal('0.1'))} % (more than {format(threshold, 'f')} %).")
    if "no_exchange_rate" in rules and invoice.explicit_ratio is None:
        try:
            vs.rate_on(currency, invoice.invoice_date)
        except vs.MissingRate:
            problems.append(f"No exchange rate for {currency} on or before {invoice.invoice_date.isoformat()}.")
    if "possible_duplicate" in rules and db.session.scalar(_duplicates(invoice).limit(1)) is not None:
        problems.append(POSSIBLE_DUPLICATE)
    return problems


# The duplicate may belong to a library the reader may not see, so what is stored (the invoice's
# problems, its history) names no invoice; review_problems_for() words it for each reader.
POSSIBLE_DUPLICATE = "Possible duplicate: another invoice of the vendor has the same total and date."
_DUPLICATE_SENTENCE = re.compile(r"Possible duplicate(?: of invoice .+)?: (?:same vendor, total and date|another "
                                 r"invoice of the vendor has the same total and date)\.", re.S)


def _duplicates(invoice: Invoice):
    """Other invoices of the vendor with the same total and date, in every library."""
    vendor_id = invoice.vendor_id if invoice.vendor_id is not None else getattr(invoice.vendor, "id", None)
    return select(Invoice.id, Invoice.number).where(
        Invoice.vendor_id == vendor_id, Invoice.id != invoice.id, Invoice.total_amount == invoice.total_amount,
        Invoice.invoice_date == invoice.invoice_date).order_by(Invoice.id)


@dataclass(frozen=True)
class ReviewProblem:
    """One review problem as a reader may see it; ``invoice_id``: the possible duplicate to link to."""
    text: str
    invoice_id: int | None = None

    def __str__(self) -> str:
        return self.text


def review_problems_for(viewer, invoice: Invoice, problems: list[str] | None = None) -> list[ReviewProblem]:
    """``problems`` (by default the invoice's stored ones) as ``viewer`` may read them: a possible
    duplicate is named only when the viewer may see it; otherwise it "exists in another library"."""
    out = []
    for text in invoice.review_problems if problems is None else problems:
        if _DUPLICATE_SENTENCE.fullmatch(text or ""):
            text, invoice_id = _duplicate_for(viewer, invoice)
            out.append(ReviewProblem(text, invoice_id))
        else:
            out.append(ReviewProblem(text))
    return out


def _duplicate_for(viewer, invoice: Invoice) -> tuple[str, int | None]:
    query = _duplicates(invoice)
    seen = db.session.execute(query.where(visible_invoices_clause(viewer)).limit(1)).first()
    if seen is not None:
        return f"Possible duplicate of invoice {seen.number}: same vendor, total and date.", seen.id
    if db.session.execute(query.limit(1)).first() is not None:
        return "A possible duplicate exists in another library: an invoice of the vendor with the same total " \
               "and date.", None
    return POSSIBLE_DUPLICATE, None  # gone since the check ran


def matching_approval_rule(invoice: Invoice) -> ApprovalRule | None:
    funds = {d.fund_id for ln in invoice.lines for d in ln.distribution}
    for rule in db.session.scalars(select(ApprovalRule).order_by(ApprovalRule.position)):
        if rule.min_total is not None and invoice.total_amount < rule.min_total:
            continue
        if rule.max_total is not None and invoice.total_amount > rule.max_total:
            continue
        if rule.vendor_id is not None and rule.vendor_id != invoice.vendor_id:
            continue
        if rule.fund_id is not None and rule.fund_id not in funds:
            continue
        if rule.owner_library_id is not None and rule.owner_library_id != invoice.owner_library_id:
            continue
        if rule.channel and rule.channel != invoice.channel:
            continue
        return rule
    return None


def process_invoice(actor, invoice: Invoice) -> Invoice:
    """Save and continue: run the review rules (any problem keeps it In Review with the reasons),
    then the approval rules (automatic approval, or In Approval for an invoice manager)."""
    _require(actor, OPERATORS, invoice.owner_library_id, "process invoices")
    _lock(invoice)
    refuse_unless("to_approval", invoice)
    problems = review_problems(invoice)
    invoice.review_problems = problems
    if problems:
        log(invoice, actor, "review", "problems", "", f"{len(problems)} problem(s)", " ".join(problems))
        db.session.flush()
        return invoice
    invoice.alert = ""
    rule = matching_approval_rule(invoice)
    if rule is not None and rule.automatic:
        _approve(actor, invoice, f"approved automatically by rule “{rule.name}”")
    else:
        _transition(invoice, actor, "to_approval", f"rule “{rule.name}”" if rule else "no rule: manual approval")
    db.session.flush()
    return invoice


def approve_invoice(actor, invoice: Invoice, note: str = "") -> Invoice:
    """An invoice manager approves: the funds are expended and the PO lines' encumbrance released."""
    _require(actor, APPROVERS, invoice.owner_library_id, "approve invoices")
    _lock(invoice)
    refuse_unless("approve", invoice)
    if invoice.status == "in_review":
        raise RuleViolation(f"Invoice {invoice.number} is In Review: save and continue it first.", "status")
    rule = matching_approval_rule(invoice)
    if rule is not None and rule.approver_not_creator and invoice.created_by_id == actor.id:
        raise Forbidden(f"Rule “{rule.name}” needs an approver other than the invoice's creator.")
    _approve(actor, invoice, note or "approved")
    db.session.flush()
    return invoice


def _approve(actor, invoice: Invoice, note: str) -> None:
    postings = _postings(invoice)
    rows = fs.post_transactions(actor, postings, reference=invoice.number[:100],
                                note=f"Invoice {invoice.number} of {invoice.vendor.code}", on=invoice.invoice_date)
    _remember(invoice, rows)
    _transition(invoice, actor, "approve", note)
    invoice.approved_at, invoice.approved_by_id = _now(), actor.id
    for line in invoice.lines:
        if line.po_line is not None and line.fully_invoiced:
            orders.record_invoicing(actor, line.po_line, fully_invoiced=True)
    if invoice.skips_erp or settings.get("invoice_skip_erp"):
        if settings.get("handle_invoice_payment"):
            _transition(invoice, actor, "skip_erp", "not exported to the ERP")
        else:
            _close(actor, invoice, "not exported; payment is not handled here")


def _remember(invoice: Invoice, rows: list[FundTransaction]) -> None:
    from .models import InvoicePosting
    for row in rows:
        db.session.add(InvoicePosting(invoice_id=invoice.id, transaction=row))


def postings_of(invoice: Invoice) -> list[FundTransaction]:
    from .models import InvoicePosting
    return db.session.scalars(select(FundTransaction).join(InvoicePosting, InvoicePosting.transaction_id ==
                                                           FundTransaction.id)
                              .where(InvoicePosting.invoice_id == invoice.id).order_by(FundTransaction.id)).all()


def reject_invoice(actor, invoice: Invoice, reason: str) -> Invoice:
    _require(actor, APPROVERS, invoice.owner_library_id, "reject invoices")
    _lock(invoice)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Give the reason for rejecting (the reviewer sees it).", "reason")
    _transition(invoice, actor, "reject", reason)
    invoice.alert = f"Rejected: {reason}"
    db.session.flush()
    return invoice


def mark_exported(actor, invoice: Invoice, *, flush: bool = True) -> Invoice:
    """Called once the ERP upload is confirmed: waiting for payment, or closed when payment is
    not handled here. ``flush=False``: the caller flushes (the export marks many at once)."""
    _lock(invoice)
    invoice.exported_at = _now()
    if settings.get("handle_invoice_payment"):
        _transition(invoice, actor, "exported", "exported to the ERP")
    else:
        refuse_unless("exported_and_closed", invoice)
        _close(actor, invoice, "exported to the ERP")
    if flush:
        db.session.flush()
    return invoice


@dataclass(frozen=True)
class Exported:
    """An invoice moved on by :func:`mark_many_exported`."""
    number: str
    vendor_code: str
    status: str


def mark_many_exported(actor, invoice_ids: list[int]) -> dict[int, Exported]:
    """:func:`mark_exported` for the invoices of many confirmed export files at once; the caller
    commits (invoices loaded in the session keep their old status until then). An invoice no longer Ready to be Paid (changed while its file was on its way) is left
    as it is and missing from the answer. Waiting for Payment is one UPDATE and one history INSERT
    for all; closing (``handle_invoice_payment`` off) also records the PO lines' invoicing, so
    those go one by one through :func:`mark_exported`."""
    if not invoice_ids:
        return {}
    ready = Invoice.status == "ready_to_be_paid"
    if not settings.get("handle_invoice_payment"):
        done = {}
        for invoice in db.session.scalars(select(Invoice).where(Invoice.id.in_(invoice_ids), ready)
                                          .order_by(Invoice.id)).all():
            mark_exported(actor, invoice, flush=False)
            done[invoice.id] = Exported(invoice.number, invoice.vendor.code, invoice.status)
        db.session.flush()
        return done
    query = (select(Invoice.id, Invoice.number, Vendor.code).join(Vendor, Vendor.id == Invoice.vendor_id)
             .where(Invoice.id.in_(invoice_ids), ready).order_by(Invoice.id))
    if is_postgres(db.session):
        query = query.with_for_update(of=Invoice)
    rows = db.session.execute(query).all()
    if not rows:
        return {}
    old, new = "ready_to_be_paid", TRANSITIONS["exported"]["ready_to_be_paid"]
    now = _now()
    db.session.execute(update(Invoice).where(Invoice.id.in_([r.id for r in rows]), ready)
                       .values(status=new, exported_at=now).execution_options(synchronize_session=False))
    db.session.execute(insert(InvoiceEvent), [
        dict(_event_values(r.number, r.code, actor, "exported", "status", _label(old), _label(new),
                           "exported to the ERP"), invoice_id=r.id, at=now) for r in rows])
    return {r.id: Exported(r.number, r.code, new) for r in rows}


def record_payment(actor, invoice: Invoice, voucher_number: str, payment_date: date, amount,
                   currency: str | None = None, *, flush: bool = True) -> Invoice:
    """The payment (by hand or from the ERP's confirmation) closes the invoice and its POLs that
    are received and fully invoiced. ``flush=False``: the caller flushes (a bulk import flushes
    once per chunk of records)."""
    _require(actor, APPROVERS | OPERATORS, invoice.owner_library_id, "record payments")
    _lock(invoice)
    refuse_unless("paid", invoice)
    voucher_number = (voucher_number or "").strip()
    if not voucher_number or len(voucher_number) > 50:
        raise InvalidInput("The voucher number is required (at most 50 characters).", "voucher_number")
    if payment_date is None:
        raise InvalidInput("The payment date is required.", "payment_date")
    currency = fs.check_currency(currency or invoice.currency)
    invoice.voucher_number, invoice.payment_date = voucher_number, payment_date
    invoice.payment_amount, invoice.payment_currency = parse_money(amount, currency, "amount", "amount paid"), currency
    _close(actor, invoice, f"paid: voucher {voucher_number} on {payment_date.isoformat()}")
    if flush:
        db.session.flush()
    return invoice


def _close(actor, invoice: Invoice, note: str) -> None:
    action = "paid" if invoice.status in ("ready_to_be_paid", "waiting_for_payment") and invoice.voucher_number \
        else ("exported_and_closed" if invoice.status == "ready_to_be_paid" else "paid")
    _transition(invoice, actor, action, note)
    invoice.closed_at = _now()
    for line in invoice.lines:
        if line.po_line is not None:
            orders.record_invoicing(actor, line.po_line, fully_invoiced=line.fully_invoiced or None, paid=True)


def send_back_to_review(actor, invoice: Invoice, reason: str, *, erp: bool = False) -> Invoice:
    """Back to review from Ready to be Paid, Waiting for Payment or Closed: the invoice's
    postings are reversed by new entries (expenditure back, PO line encumbrance restored), so
    approving again posts afresh. ``erp``: the ERP rejected it; the reason becomes its alert."""
    if not erp:
        _require(actor, APPROVERS | OPERATORS, invoice.owner_library_id, "send invoices back to review")
    _lock(invoice)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Give the reason (the reviewer sees it).", "reason")
    refuse_unless("erp_rejected" if erp else "send_back_to_review", invoice)
    reversals = []
    for row in postings_of(invoice):
        if row.kind == "expenditure":
            reversals.append(fs.Posting(row.fund, TransactionKind.EXPENDITURE, -row.amount,
                                        source_type=row.source_type, source_id=row.source_id))
        elif row.kind == "disencumbrance":
            reversals.append(fs.Posting(row.fund, TransactionKind.ENCUMBRANCE, row.amount,
                                        source_type=row.source_type, source_id=row.source_id))
        elif row.kind == "encumbrance":
            reversals.append(fs.Posting(row.fund, TransactionKind.DISENCUMBRANCE, row.amount,
                                        source_type=row.source_type, source_id=row.source_id))
    # Restored encumbrances go last: an over-encumbrance check must not block giving money back.
    reversals.sort(key=lambda p: p.kind is TransactionKind.ENCUMBRANCE)
    rows = fs.post_transactions(actor, [p for p in reversals if p.amount],
                                reference=invoice.number[:100], note=f"Invoice {invoice.number} back to review",
                                on=date.today())
    _remember(invoice, rows)
    _transition(invoice, actor, "erp_rejected" if erp else "send_back_to_review", reason)
    invoice.alert = f"ERP rejected it: {reason}" if erp else f"Sent back to review: {reason}"
    invoice.approved_at = invoice.approved_by_id = invoice.closed_at = None
    db.session.flush()
    return invoice


def delete_invoice(actor, invoice: Invoice, reason: str = "") -> None:
    """Only invoice operators extended and administrators, only before any money was expended;
    the history keeps a record."""
    _require(actor, DELETERS, invoice.owner_library_id, "delete invoices")
    _lock(invoice)
    if invoice.status not in ("in_review", "in_approval") or postings_of(invoice):
        raise RuleViolation(f"Invoice {invoice.number} has expended money ({invoice.status_label}); it cannot be "
                            "deleted. Send it back to review first.", "status")
    log(invoice, actor, "delete", "", invoice.status_label, "", reason or "deleted")
    db.session.flush()
    db.session.delete(invoice)
    db.session.flush()


# -- defaults ----------------------------------------------------------------------------------

def ensure_default_rules() -> None:
    """Ship the example review rules (all active; a price may differ from the order by 10 %)."""
    existing = set(db.session.scalars(select(ReviewRule.kind)))
    for kind in ReviewRule.KINDS:
        if kind not in existing:
            db.session.add(ReviewRule(kind=kind, active=True,
                                      threshold_percent=Decimal("10.00") if kind == "price_differs" else None))
    db.session.flush()


# -- added for administration --
# Review rules, approval rules and the library's own charge types: institution administrators
# only. Approval rules keep positions 1..n without gaps, so "first match wins" reads top to bottom.

MAX_OWN_CHARGE_TYPES = 5
RESERVED_LINE_TYPES = frozenset({"regular", "vat"})


def _require_institution_admin(actor, what: str) -> None:
    from ..auth.permissions import is_institution_admin
    if not is_institution_admin(actor):
        raise Forbidden(f"Only an administrator of the whole institution may {what}.")


def update_review_rule(actor, rule: ReviewRule, *, active: bool | None = None,
                       threshold_percent=None) -> ReviewRule:
    """Switch a review rule on or off, and (price rule only) set its threshold percent."""
    _require_institution_admin(actor, "change the review rules")
    if active is not None:
        rule.active = bool(active)
    if threshold_percent is not None:
        if rule.kind != "price_differs":
            raise InvalidInput("Only the price rule has a threshold.", "threshold_percent")
        rule.threshold_percent = parse_percent(threshold_percent, "threshold_percent", "threshold percent")
    db.session.flush()
    return rule


def review_rules() -> list[ReviewRule]:
    order = {kind: n for n, kind in enumerate(ReviewRule.KINDS)}
    return sorted(db.session.scalars(select(ReviewRule)), key=lambda r: order.get(r.kind, len(order)))


@dataclass
class ApprovalRuleFields:
    name: str = ""
    min_total: object = None          # compared with the invoice total as printed (its own currency)
    max_total: object = None
    vendor: Vendor | None = None
    fund: Fund | None = None
    owner_library: Library | None = None
    channel: str | None = None
    automatic: bool = False
    approver_not_creator: bool = False


def approval_rules() -> list[ApprovalRule]:
    return db.session.scalars(select(ApprovalRule).order_by(ApprovalRule.position)).all()


def _rule_amount(value, name: str, label: str) -> Decimal | None:
    if value in (None, ""):
        return None
    return parse_money(value, vs.institution_currency(), name, label)


def _apply_rule_fields(rule: ApprovalRule, f: ApprovalRuleFields) -> None:
    name = (f.name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("Give the rule a name (at most 100 characters).", "name")
    min_total = _rule_amount(f.min_total, "min_total", "minimum total")
    max_total = _rule_amount(f.max_total, "max_total", "maximum total")
    if min_total is not None and max_total is not None and min_total > max_total:
        raise InvalidInput("The minimum total is above the maximum total: no invoice could match.", "max_total")
    if f.channel not in (None, "") and f.channel not in CHANNELS:
        raise InvalidInput("Choose a creation channel: " + ", ".join(CHANNELS.values()) + ".", "channel")
    if f.fund is not None and f.fund.kind != "allocated":
        raise InvalidInput(f"{f.fund.code} is a summary fund; invoices are charged to allocated funds.", "fund")
    if f.approver_not_creator and f.automatic:
        raise InvalidInput("An automatic approval has no approver: choose manual approval to require an approver "
                           "other than the creator.", "approver_not_creator")
    rule.name, rule.min_total, rule.max_total = name, min_total, max_total
    rule.vendor_id = f.vendor.id if f.vendor else None
    rule.fund_id = f.fund.id if f.fund else None
    rule.owner_library_id = f.owner_library.id if f.owner_library else None
    rule.channel = f.channel or None
    rule.automatic, rule.approver_not_creator = bool(f.automatic), bool(f.approver_not_creator)


def create_approval_rule(actor, f: ApprovalRuleFields) -> ApprovalRule:
    """A new rule at the end of the list (the last to be tried)."""
    _require_institution_admin(actor, "change the approval rules")
    last = db.session.scalar(select(db.func.max(ApprovalRule.position))) or 0
    rule = ApprovalRule(position=last + 1)
    _apply_rule_fields(rule, f)
    db.session.add(rule)
    db.session.flush()
    return rule


def update_approval_rule(actor, rule: ApprovalRule, f: ApprovalRuleFields) -> ApprovalRule:
    _require_institution_admin(actor, "change the approval rules")
    _apply_rule_fields(rule, f)
    db.session.flush()
    return rule


def _renumber(rules: list[ApprovalRule]) -> None:
    # Positions are unique: park them out of the way first, then write 1..n.
    for n, rule in enumerate(rules, 1):
        rule.position = -n
    db.session.flush()
    for n, rule in enumerate(rules, 1):
        rule.position = n
    db.session.flush()


def delete_approval_rule(actor, rule: ApprovalRule) -> None:
    _require_institution_admin(actor, "change the approval rules")
    db.session.delete(rule)
    db.session.flush()
    _renumber(approval_rules())


def move_approval_rule(actor, rule: ApprovalRule, direction: str) -> ApprovalRule:
    """One place up (tried earlier) or down; at either end nothing moves."""
    _require_institution_admin(actor, "change the approval rules")
    if direction not in ("up", "down"):
        raise InvalidInput("Move a rule up or down.", "direction")
    rules = list(approval_rules())
    index = rules.index(rule)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(rules):
        rules[index], rules[other] = rules[other], rules[index]
        _renumber(rules)
    return rule


def own_charge_types() -> list[ChargeType]:
    return db.session.scalars(select(ChargeType).order_by(ChargeType.active.desc(), ChargeType.code)).all()


def _check_charge_type_room() -> None:
    active = db.session.scalar(select(db.func.count()).select_from(ChargeType).where(ChargeType.active))
    if active >= MAX_OWN_CHARGE_TYPES:
        raise RuleViolation(f"The library already has {MAX_OWN_CHARGE_TYPES} charge types of its own, the most "
                            "allowed; deactivate one first.", "code")


def create_charge_type(actor, code: str, name: str) -> ChargeType:
    """One of the library's own charge types (at most five active), beside the built-in four."""
    _require_institution_admin(actor, "change the charge types")
    code, name = (code or "").strip().lower(), (name or "").strip()
    if not code or len(code) > 20 or not all(c.isascii() and (c.isalnum() or c in "_-") for c in code):
        raise InvalidInput("The code is 1–20 letters, digits, - or _ (no spaces).", "code")
    if code in BUILT_IN_CHARGES or code in RESERVED_LINE_TYPES:
        raise InvalidInput(f"{code} is a built-in type; choose another code.", "code")
    if not name or len(name) > 100:
        raise InvalidInput("Give the charge type a name (at most 100 characters).", "name")
    existing = db.session.scalar(select(ChargeType).where(ChargeType.code == code))
    if existing is not None:
        state = "" if existing.active else " (inactive: activate it instead)"
        raise Duplicate(f"There is already a charge type {code}, “{existing.name}”{state}.", "code")
    _check_charge_type_room()
    charge_type = ChargeType(code=code, name=name, active=True)
    db.session.add(charge_type)
    db.session.flush()
    return charge_type


def set_charge_type_active(actor, charge_type: ChargeType, active: bool) -> ChargeType:
    """Deactivated types are no longer offered; invoices that used them keep them."""
    _require_institution_admin(actor, "change the charge types")
    if active and not charge_type.active:
        _check_charge_type_room()
    charge_type.active = bool(active)
    db.session.flush()
    return charge_type
