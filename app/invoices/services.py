"""Every change to invoices goes through these functions.

Create or edit an invoice (unique number per vendor, exact fund distribution, charges pro rata or
as lines, VAT with the vendor/VAT check, the over-expenditure check), then move it through the
workflow: review rules → approval rules → approval (expend the funds, release the POL
encumbrance) → ERP or payment → closed; and back to review when needed. Who may do which of
these: :func:`invoice_actions`.

What an invoice charges to its funds is worked out in :mod:`.charges`, the review and approval
rules and charge types live in :mod:`.rules`, the history rows are written by :mod:`.history`.
Functions take an explicit ``actor``, flush, write history, and raise :mod:`app.errors`
exceptions with messages meant for people. Callers commit.
"""
from __future__ import annotations

import re
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, false, func, insert, or_, select, true, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import contains_eager, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from .. import clock
from ..auth.models import Role
from ..auth.permissions import has_any_role, in_scope, library_scope
from ..clock import utcnow
from ..database import is_postgres
from ..errors import DomainError, Duplicate, Forbidden, InvalidInput, NotFound, RuleViolation
from ..extensions import db
from ..formatting import history_text
from ..funds import services as funds
from ..funds.distribution import Share, distribute, fund_usable, parse_money, parse_percent, visible_fund_ids
from ..funds.models import Fund
from ..ledger.invoicing import VatCheck, pro_rata, vat_check, vat_of
from ..ledger.money import quantize
from ..limits import MAX_TEXT_LENGTH, check_length
from ..listing import ListFilter, by_language, contains
from ..notifications import triggers as tell
from ..orders import services as orders
from ..orders.models import POLine
from ..org.models import Library
from ..org.services import get_one
from ..outgoing import queue as letters
from ..text import StoredSentences, T, Tn
from ..vendors import services as vendors
from ..vendors.models import Vendor, VendorAccount
from . import charges, history, rules, settings
from .models import (CHANNELS, PAYMENT_METHODS, STATUSES, TRANSITIONS, Invoice, InvoiceCharge, InvoiceEvent,
                     InvoiceLine, InvoiceLineFund, listed, refuse_unless)
from .rules import charge_types

OPERATORS = frozenset({Role.ADMIN, Role.INVOICE_OPERATOR, Role.INVOICE_OPERATOR_EXTENDED, Role.INVOICE_MANAGER})
DELETERS = frozenset({Role.ADMIN, Role.INVOICE_OPERATOR_EXTENDED})
APPROVERS = frozenset({Role.ADMIN, Role.INVOICE_MANAGER})


# -- scope -------------------------------------------------------------------------------------

def visible_invoices_clause(user):
    scope = library_scope(user)
    if scope is None:
        return true()
    return Invoice.owner_library_id.in_(scope) if scope else false()


def _may(user, roles, owner_library_id: int | None) -> bool:
    return has_any_role(user, roles) and in_scope(library_scope(user, roles), owner_library_id)


def can_edit(user, owner_library_id: int | None) -> bool:
    return _may(user, OPERATORS, owner_library_id)


EDITABLE = ("in_review", "in_approval")   # what update_invoice and delete_invoice accept
# The task lists (the pages' and the API's): kind -> (the status it lists, its heading).
TASKS = {"review": ("in_review", T("In Review")), "approval": ("in_approval", T("In Approval")),
         "payment": ("waiting_for_payment", T("Waiting for Payment"))}
# action -> (the roles that may take it, the statuses that allow it). "create": an invoice not
# saved yet (no status), for the library that would own it.
ACTIONS = {
    "create": (OPERATORS, (None,)),
    "edit": (OPERATORS, EDITABLE),
    "process": (OPERATORS, tuple(TRANSITIONS["to_approval"])),
    "approve": (APPROVERS, ("in_approval",)),
    "reject": (APPROVERS, tuple(TRANSITIONS["reject"])),
    "mark_in_erp": (APPROVERS, tuple(TRANSITIONS["exported"])),
    "pay": (OPERATORS, tuple(TRANSITIONS["paid"])),
    "erp_rejected": (APPROVERS, tuple(TRANSITIONS["erp_rejected"])),
    "send_back": (OPERATORS, tuple(TRANSITIONS["send_back_to_review"])),
    "change_owner": (OPERATORS, tuple(STATUSES)),
    "edit_line_notes": (OPERATORS, ("ready_to_be_paid", "waiting_for_payment", "closed")),
    "delete": (DELETERS, EDITABLE),
}


def invoice_actions(user, invoice: Invoice) -> frozenset[str]:
    """The actions of :data:`ACTIONS` ``user`` may take on ``invoice`` now: allowed by its status
    and the user's roles and library scope (the services check the same again, with the rules).
    ``user`` None: what the status alone allows (the API's ``allowed_actions``)."""
    return frozenset(action for action, (roles, statuses) in ACTIONS.items() if invoice.status in statuses
                     and (user is None or _may(user, roles, invoice.owner_library_id)))


def _require(actor, roles, owner_library_id: int | None, what: str) -> None:
    if not has_any_role(actor, roles):
        raise Forbidden(T("You may not %(what)s.", what=what))
    if not in_scope(library_scope(actor, roles), owner_library_id):
        raise Forbidden(T("You may only %(what)s for your own library.", what=what), "owner_library")


def get_invoice(user, ref) -> Invoice:
    return get_one(ref, lambda i: select(Invoice).where(Invoice.id == i, visible_invoices_clause(user)), "invoice")


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
    vat_fund: Fund | None = None      # the separate VAT line's (or governmental invoice's) fund; None: the lines'
    lines: list[LineFields] = field(default_factory=list)


def _clean_header(f: InvoiceFields) -> dict:
    if f.vendor is None:
        raise InvalidInput(T("Choose the vendor."), "vendor")
    number = (f.number or "").strip()
    if not number or len(number) > 50:
        raise InvalidInput(T("The invoice number is required (at most 50 characters)."), "number")
    if f.invoice_date is None:
        raise InvalidInput(T("The invoice date is required."), "invoice_date")
    if f.due_date is not None and f.due_date < f.invoice_date:
        raise InvalidInput(T("The due date cannot be before the invoice date."), "due_date")
    if f.vendor_account is not None and f.vendor_account.vendor_id != f.vendor.id:
        raise InvalidInput(T("Account %(account)s belongs to another vendor.", account=f.vendor_account.code),
                           "vendor_account")
    currency = funds.check_currency((f.currency or f.vendor.currency or "").strip().upper())
    if f.payment_method not in PAYMENT_METHODS:
        raise InvalidInput(T("Choose the payment method: %(methods)s.", methods=listed(PAYMENT_METHODS.values())),
                           "payment_method")
    ratio = None
    if f.explicit_ratio not in (None, ""):
        ratio = vendors.parse_rate(f.explicit_ratio, "explicit_ratio")
    if f.vat_level not in ("none", "invoice", "line"):
        raise InvalidInput(T("VAT is on the invoice, on its lines, or none."), "vat_level")
    for name, label, limit in (("reference_number", T("reference number"), 100), ("vat_code", T("VAT code"), 20)):
        if len(getattr(f, name) or "") > limit:
            raise InvalidInput(T("The %(field)s is longer than %(limit)s characters.", field=label, limit=limit), name)
    check_length(f.notes, "notes")
    return {
        "number": number, "vendor_id": f.vendor.id, "vendor_account_id": f.vendor_account.id if f.vendor_account
        else None, "invoice_date": f.invoice_date, "due_date": f.due_date, "currency": currency,
        "total_amount": parse_money(f.total_amount, currency, "total_amount", T("invoice total")),
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
        raise Duplicate(T("Vendor %(vendor)s already has invoice %(number)s (dated %(date)s, %(status)s); an invoice "
                          "number is unique per vendor.", vendor=vendor.code, number=existing.number,
                          date=existing.invoice_date.isoformat(), status=existing.status_label), "number")


def check_number_free(vendor: Vendor, number: str) -> None:
    """:class:`Duplicate` when ``vendor`` already has an invoice ``number`` (any case)."""
    _check_unique(vendor, (number or "").strip())


@dataclass
class _Line:
    values: dict
    shares: list[tuple[Fund, Decimal | None, Decimal]]


def _clean_line(actor, f: LineFields, n: int, currency: str, owner_library_id: int | None, look: Lookups) -> _Line:
    where = T("line %(n)s", n=n)
    if f.line_type != "regular" and f.line_type not in look.types and f.line_type != "vat":
        raise InvalidInput(T("Line %(n)s: unknown line type %(type)s.", n=n, type=repr(f.line_type)), "lines")
    text = str(f.quantity if f.quantity is not None else "").strip()
    if not text.lstrip("-").isdigit() or not text.isascii() or int(text) == 0 or abs(int(text)) > 100000:
        raise InvalidInput(T("Line %(n)s: the quantity is a whole number (not zero).", n=n), "lines")
    quantity = int(text)
    unit_price = parse_money(f.unit_price, currency, "lines", T("unit price on line %(n)s", n=n))
    # A computed total goes through the same range check as a typed one (quantity × price can pass it).
    total = parse_money(quantize(unit_price * quantity, currency) if f.total in (None, "") else f.total, currency,
                        "lines", T("total on line %(n)s", n=n))
    if f.subscription_from and f.subscription_to and f.subscription_from >= f.subscription_to:
        raise InvalidInput(T("Line %(n)s: the subscription must end after it starts.", n=n), "lines")
    if len(f.note or "") > MAX_TEXT_LENGTH:
        raise InvalidInput(T("Line %(n)s: the note is longer than %(limit)s characters.", n=n,
                             limit=f"{MAX_TEXT_LENGTH:,}"), "lines")
    if f.po_line is not None and f.po_line.id not in look.visible_pols:
        raise NotFound(T("No such PO line."))
    if f.po_line is not None:
        orders.refuse_invoicing(f.po_line, T("Line %(n)s", n=n))   # the start of the sentence
    vat_percent = None if f.vat_percent in (None, "") else parse_percent(f.vat_percent, "lines",
                                                                         T("VAT %% on line %(n)s", n=n))
    vat_amount = Decimal(0) if f.vat_amount in (None, "") else \
        parse_money(f.vat_amount, currency, "lines", T("VAT amount on line %(n)s", n=n))
    try:
        shares = distribute(actor, f.distribution or [], f.distribution_method, total, currency, owner_library_id,
                            field="lines", what=T("the total of line %(n)s", n=n), visible=look.visible_funds)
    except InvalidInput as exc:
        if where.english in str.lower(exc.text):   # the English sentence already names the line
            raise
        raise InvalidInput(T("Line %(n)s: %(message)s", n=n, message=exc.text), "lines") from None
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


VAT_QUESTIONS = {   # the sentences (msgids) asked, with vendor, gov and pct (see _vat_decision)
    VatCheck.CONFIRM_VAT_THOUGH_NOT_LIABLE: T("%(vendor)s is not liable for VAT, yet the invoice reports VAT. Save it "
                                              "with the VAT included?").msgid,
    VatCheck.CONFIRM_NO_VAT_THOUGH_LIABLE: T("%(vendor)s is liable for VAT, yet the invoice reports none. Save it "
                                             "without VAT?").msgid,
    VatCheck.CONFIRM_NO_VAT_GOVERNMENTAL: T("%(vendor)s is liable for VAT and pays it to %(gov)s, yet the invoice "
                                            "reports none. Add %(gov)s's VAT of %(pct)s %% (and raise a separate "
                                            "invoice to %(gov)s for it), or save without VAT?").msgid,
}
CONFIRMATION_LABELS = {
    "confirm_no_vat_though_liable": T("saved without VAT although the vendor is liable"),
    "confirm_vat_though_not_liable": T("saved with VAT although the vendor is not liable"),
    "confirm_no_vat_governmental:add_vat": T("the governmental vendor's VAT was added and invoiced to it"),
    "confirm_no_vat_governmental:no_vat": T("saved without VAT although the vendor is liable"),
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
            question = T(VAT_QUESTIONS[check], vendor=vendor.code, gov=gov.code if gov else "",
                         pct=format(gov.vat_percent or 0, "f") if gov else "")
            raise ConfirmationNeeded(check, question)
        return check, confirm == "add_vat"
    return check, False


# -- create and edit ---------------------------------------------------------------------------

def create_invoice(actor, f: InvoiceFields, channel: str = "manual", confirm: str | None = None) -> Invoice:
    """A new invoice In Review (then :func:`process_invoice` runs the review and approval rules)."""
    _require(actor, OPERATORS, f.owner_library.id if f.owner_library else None, T("create invoices"))
    if channel not in CHANNELS:
        raise InvalidInput(T("Unknown creation channel."), "channel")
    header = _clean_header(f)
    _check_unique(f.vendor, header["number"])
    invoice = Invoice(created_by_id=actor.id, channel=channel, status="in_review", vendor=f.vendor, **header)
    db.session.add(invoice)
    governmental_vat = _fill(actor, invoice, f, header, confirm, record=False)
    invoice.erp_identifier = _new_erp_identifier()
    db.session.flush()
    history.log(invoice, actor, "create", "status", "", invoice.status_label, CHANNELS[channel])
    if governmental_vat and invoice.vat_amount:
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
    _require(actor, OPERATORS, invoice.owner_library_id, T("edit invoices"))
    _lock(invoice)
    if invoice.status not in EDITABLE:
        raise RuleViolation(T("Invoice %(number)s is %(status)s; send it back to review to edit it.",
                              number=invoice.number, status=invoice.status_label), "status")
    new_owner = f.owner_library.id if f.owner_library else None
    if new_owner != invoice.owner_library_id:
        _require(actor, OPERATORS, new_owner, T("edit invoices"))
    header = _clean_header(f)
    if f.vendor.id != invoice.vendor_id or header["number"] != invoice.number:
        _check_unique(f.vendor, header["number"], invoice.id)
    for name, value in header.items():
        old = getattr(invoice, name)
        if history_text(old) != history_text(value):
            history.log(invoice, actor, "edit", name, old, value)
            setattr(invoice, name, value)
    invoice.vendor = f.vendor
    _fill(actor, invoice, f, header, confirm, record=True)
    if invoice.status == "in_approval":
        history.transition(invoice, actor, "reject", "edited: reviewed again")
    db.session.flush()
    return invoice


def change_owner(actor, invoice: Invoice, owner: Library | None) -> Invoice:
    """Any invoice may change its owner later (the institution or one library)."""
    _require(actor, OPERATORS, invoice.owner_library_id, T("change the owner of invoices"))
    new = owner.id if owner else None
    _require(actor, OPERATORS, new, T("change the owner of invoices"))
    _lock(invoice)
    if new != invoice.owner_library_id:
        unusable = sorted({d.fund.code for line in invoice.lines for d in line.distribution
                           if not fund_usable(d.fund, new)}
                          | ({invoice.vat_fund.code} if invoice.vat_fund and not fund_usable(invoice.vat_fund, new)
                             else set()))
        if unusable:
            raise RuleViolation(T("Fund %(funds)s of invoice %(number)s is not available to %(owner)s: change the "
                                  "lines' funds first (or choose another owner).", funds=", ".join(unusable),
                                  number=invoice.number, owner=owner.code if owner else T("the whole institution")),
                                "owner")
        history.log(invoice, actor, "edit", "owner",
                    invoice.owner_library.code if invoice.owner_library else "Institution",
                    owner.code if owner else "Institution")
        invoice.owner_library_id, invoice.owner_library = new, owner
    db.session.flush()
    return invoice


# What stays editable on the lines of an invoice past approval (closed included): never money,
# funds or PO lines. Field -> (label, longest).
LINE_NOTE_FIELDS = {"price_note": (T("price note"), 300), "reporting_code": (T("reporting code"), 40),
                    "note": (T("note"), MAX_TEXT_LENGTH)}


def edit_line_notes(actor, invoice: Invoice, position: int, values: dict) -> InvoiceLine:
    """Change the price note, reporting code or note of one line of an invoice that is approved,
    exported or closed (the full edit needs it back in review); each change goes to the history.
    Any other field is refused: what was expended stays as it was."""
    _require(actor, OPERATORS, invoice.owner_library_id, T("edit invoice lines"))
    _lock(invoice)
    if invoice.status not in ACTIONS["edit_line_notes"][1]:
        raise RuleViolation(T("Invoice %(number)s is %(status)s: edit its lines with the invoice itself.",
                              number=invoice.number, status=invoice.status_label), "status")
    others = sorted(set(values) - set(LINE_NOTE_FIELDS))
    if others:
        raise RuleViolation(T("Invoice %(number)s is %(status)s: only the price note, reporting code and note of its "
                              "lines can change, not %(fields)s. Send it back to review to change more.",
                              number=invoice.number, status=invoice.status_label, fields=", ".join(others)), others[0])
    line = next((ln for ln in invoice.lines if ln.position == position), None)
    if line is None:
        raise NotFound(T("Invoice %(number)s has no line %(position)s.", number=invoice.number, position=position))
    cleaned = {}
    for name, value in values.items():
        label, longest = LINE_NOTE_FIELDS[name]
        value = (value or "").strip()
        if len(value) > longest:
            raise InvalidInput(T("Line %(n)s: the %(field)s is longer than %(limit)s characters.", n=position,
                                 field=label, limit=f"{longest:,}"), name)
        cleaned[name] = value
    for name, value in cleaned.items():
        if getattr(line, name) != value:
            history.log(invoice, actor, "edit", name, getattr(line, name), value, line=position)
            setattr(line, name, value)
    db.session.flush()
    return line


@dataclass
class Lookups:
    """What cleaning invoices needs from the database, fetched once for a batch (a file's invoices)."""
    types: dict                 # charge types: code -> name
    visible_funds: set[int]     # the funds and PO lines of the fields the actor may see
    visible_pols: set[int]
    taken: set[str] | None = None   # lower-cased numbers the vendor already has (None: asked per invoice)


def lookups(actor, fields: list[InvoiceFields], vendor: Vendor | None = None) -> Lookups:
    """The :class:`Lookups` of ``fields`` in a few queries, not one per line; with ``vendor``, also
    the numbers of theirs it already has."""
    types = charge_types()
    visible_funds = visible_fund_ids(actor, (s.fund for f in fields for lf in f.lines for s in lf.distribution or []))
    visible_pols = _visible_po_line_ids(actor, (lf.po_line for f in fields for lf in f.lines))
    taken = None
    if vendor is not None:
        numbers, taken = sorted({f.number.strip().lower() for f in fields}), set()
        for start in range(0, len(numbers), 500):
            taken.update(db.session.scalars(select(db.func.lower(Invoice.number)).where(
                Invoice.vendor_id == vendor.id, db.func.lower(Invoice.number).in_(numbers[start:start + 500]))))
    return Lookups(types, visible_funds, visible_pols, taken)


@dataclass
class _Body:
    """An invoice's lines, VAT and charges, cleaned."""
    lines: list[_Line]
    values: dict                # the invoice's VAT columns and pro_rata
    charges: dict               # charge type code -> amount
    governmental_vat: bool      # the governmental vendor's VAT is added: raise it a separate invoice


def _clean_body(actor, f: InvoiceFields, header: dict, confirm: str | None, look: Lookups) -> _Body:
    currency, owner = header["currency"], header["owner_library_id"]
    types = look.types
    lines = [_clean_line(actor, lf, n, currency, owner, look) for n, lf in enumerate(f.lines, 1)]
    vat_percent = None if f.vat_percent in (None, "") else parse_percent(f.vat_percent, "vat_percent",
                                                                         T("VAT percent"))
    vat_amount = Decimal(0) if f.vat_amount in (None, "") else parse_money(f.vat_amount, currency, "vat_amount",
                                                                          T("VAT amount"))
    check, add_governmental = _vat_decision(f.vendor, header, lines, vat_percent, vat_amount, confirm)
    vat_level = "invoice" if add_governmental and header["vat_level"] == "none" else header["vat_level"]
    if add_governmental and not vat_percent and not vat_amount:
        vat_percent = f.vendor.governmental_vendor.vat_percent or Decimal(0)
    if vat_level == "invoice" and vat_percent and not vat_amount:
        base = sum((ln.values["total"] for ln in lines if ln.values["line_type"] != "vat"), Decimal(0))
        vat_amount = vat_of(base, vat_percent, currency, header["vat_inclusive"])
    for ln in lines:
        if vat_level == "line" and ln.values["vat_percent"] and not ln.values["vat_amount"]:
            ln.values["vat_amount"] = vat_of(ln.values["total"], ln.values["vat_percent"], currency,
                                             header["vat_inclusive"])
    pro_rata_on = settings.get("invoice_use_pro_rata") if f.pro_rata is None else bool(f.pro_rata)
    amounts = {}
    for code, value in (f.charges or {}).items():
        if code not in types:
            raise InvalidInput(T("Unknown charge type %(code)s; the types are %(types)s.", code=repr(code),
                                 types=", ".join(types)), "charges")
        amount = parse_money(value, currency, "charges", T("%(charge)s charge", charge=types[code]))
        if amount:
            amounts[code] = amount
    if amounts and not pro_rata_on:
        raise InvalidInput(T("Without pro rata, enter each additional charge as an invoice line of its type with its "
                             "own fund."), "charges")
    if amounts and not any(ln.values["line_type"] == "regular" for ln in lines):
        raise InvalidInput(T("Charges are spread over the regular lines; add at least one."), "charges")
    vat_fund = _clean_vat_fund(actor, f, header, vat_level, add_governmental)
    values = {"vat_level": vat_level, "vat_percent": vat_percent, "vat_amount": vat_amount, "vat_fund": vat_fund,
              "vat_confirmed": (check.value + (f":{confirm}" if confirm in ("add_vat", "no_vat") else ""))
              if check.needs_confirmation else "",
              "pro_rata": f.pro_rata}
    return _Body(lines, values, amounts, add_governmental)


def _clean_vat_fund(actor, f: InvoiceFields, header: dict, vat_level: str, governmental: bool) -> Fund | None:
    """The fund chosen for the VAT (a "tax" fund), instead of the lines' funds: only for exclusive
    VAT on the whole invoice posted on its own line or raised to the governmental vendor."""
    if f.vat_fund is None:
        return None
    if vat_level != "invoice" or header["vat_inclusive"] or not (header["vat_separate_line"] or governmental):
        raise InvalidInput(T("A VAT fund takes exclusive VAT on the whole invoice, posted as a separate VAT line: "
                             "choose those, or leave the VAT fund empty to charge the lines' funds."), "vat_fund")
    distribute(actor, [Share(f.vat_fund, "100")], "percent", Decimal(0), header["currency"],
               header["owner_library_id"], field="vat_fund", what=T("the VAT"))
    return f.vat_fund


def _fill(actor, invoice: Invoice, f: InvoiceFields, header: dict, confirm: str | None, record: bool) -> bool:
    """Clean the lines, VAT and charges and write them; returns whether the governmental vendor's VAT
    was added (then create_invoice raises it a separate invoice)."""
    body = _clean_body(actor, f, header, confirm, lookups(actor, [f]))
    for name, value in body.values.items():
        if record and history_text(getattr(invoice, name)) != history_text(value):
            history.log(invoice, actor, "edit", name, getattr(invoice, name), value)
        setattr(invoice, name, value)
    _replace_lines(actor, invoice, body.lines, record)
    _replace_charges(actor, invoice, body.charges, record)
    if _has_vat_line(invoice):
        _vat_line(invoice)
        db.session.flush()
    charges.check_expenditure(invoice)
    return body.governmental_vat


def _has_vat_line(invoice: Invoice) -> bool:
    """Whether exclusive invoice VAT goes on a separate adjustment line."""
    return bool(invoice.vat_level == "invoice" and invoice.vat_separate_line and invoice.vat_amount
                and not invoice.vat_inclusive)


@dataclass
class Validated:
    """What :func:`validate_invoice` found: the invoice the fields make (never added to the session)."""
    invoice: Invoice
    governmental_vat: bool      # create_invoice would also raise an invoice to the governmental vendor


def validate_invoice(actor, f: InvoiceFields, channel: str = "manual", confirm: str | None = None,
                     look: Lookups | None = None) -> Validated:
    """The checks :func:`create_invoice` makes of the fields, writing nothing: raises what it would
    raise, up to the over-expenditure check (``charges.check_expenditure`` of the answer's invoice).
    ``look``: the :func:`lookups` of a batch of invoices (else fetched for this one)."""
    _require(actor, OPERATORS, f.owner_library.id if f.owner_library else None, T("create invoices"))
    if channel not in CHANNELS:
        raise InvalidInput(T("Unknown creation channel."), "channel")
    header = _clean_header(f)
    look = look or lookups(actor, [f])
    if look.taken is None:
        _check_unique(f.vendor, header["number"])
    elif header["number"].lower() in look.taken:
        _check_unique(f.vendor, header["number"])   # names the invoice that has it
        raise Duplicate(T("Vendor %(vendor)s already has invoice %(number)s.", vendor=f.vendor.code,
                          number=header["number"]), "number")
    body = _clean_body(actor, f, header, confirm, look)
    invoice = Invoice(channel=channel, status="in_review", vendor=f.vendor, owner_library=f.owner_library,
                      **{**header, **body.values})
    pols = {lf.po_line.id: lf.po_line for lf in f.lines if lf.po_line is not None}
    for n, ln in enumerate(body.lines, 1):
        line = InvoiceLine(position=n, **ln.values)
        line.po_line = pols.get(ln.values["po_line_id"])
        line.distribution = [InvoiceLineFund(fund=fund, fund_id=fund.id, percent=percent, amount=amount)
                             for fund, percent, amount in ln.shares]
        invoice.lines.append(line)
    invoice.charges = [InvoiceCharge(charge_type=code, amount=amount) for code, amount in body.charges.items()]
    if _has_vat_line(invoice):
        _vat_line(invoice)
    return Validated(invoice, body.governmental_vat)


def _visible_po_line_ids(actor, pols) -> set[int]:
    ids = {pol.id for pol in pols if pol is not None and pol.id is not None}
    if not ids:
        return set()
    return set(db.session.scalars(select(POLine.id).where(POLine.id.in_(ids),
                                                          orders.visible_po_lines_clause(actor))))


def _replace_lines(actor, invoice: Invoice, lines: list[_Line], record: bool) -> None:
    # Rows are deleted and inserted with bulk statements and read back with their funds in a few
    # queries: object by object, the ORM took seconds on a 1,000-line invoice.
    existing = [] if invoice.id is None else _lines_with_funds(invoice.id)
    before = {ln.position: history.line_snapshot(ln) for ln in existing}
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
        after = {ln.position: history.line_snapshot(ln) for ln in new_lines}
        history.log_line_changes(invoice, actor, [(position, before.get(position), after.get(position))
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


def _replace_charges(actor, invoice: Invoice, charges: dict, record: bool) -> None:
    before = {c.charge_type: c.amount for c in invoice.charges}
    if record and before != charges:
        history.log(invoice, actor, "edit", "charges", history.charges_text(before), history.charges_text(charges))
    invoice.charges.clear()
    db.session.flush()
    for code, amount in charges.items():
        invoice.charges.append(InvoiceCharge(charge_type=code, amount=amount))


def _vat_line(invoice: Invoice) -> None:
    """Invoice VAT as a separate adjustment line, its funds in proportion to the regular lines'."""
    parts = _vat_parts(invoice, T("A separate VAT line needs regular lines with funds to take its funds from."))
    invoice.lines.append(_amount_line(parts, invoice.vat_amount, position=len(invoice.lines) + 1, line_type="vat",
                                      price_note="VAT adjustment line"))


def _amount_line(parts: list[tuple[Fund, Decimal]], total: Decimal, **columns) -> InvoiceLine:
    """One line of ``total`` charged to the funds by amount (not fully invoicing any PO line)."""
    line = InvoiceLine(quantity=1, unit_price=total, total=total, fully_invoiced=False, distribution_method="amount",
                       **columns)
    line.distribution = [InvoiceLineFund(fund=fund, fund_id=fund.id, amount=amount) for fund, amount in parts if amount]
    return line


def _raise_governmental_invoice(actor, invoice: Invoice) -> Invoice:
    """With a governmental vendor and VAT added, a separate invoice for the VAT goes to the
    governmental vendor, charged to the same funds as the VAT."""
    gov = invoice.vendor.governmental_vendor
    parts = _vat_parts(invoice, T("The VAT needs regular lines with funds to be charged to."))
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
    vat_invoice.lines.append(_amount_line(parts, invoice.vat_amount, position=1, line_type="regular",
                                          price_note=f"VAT {format(invoice.vat_percent or 0, 'f')} % of "
                                                     f"{invoice.number}"))
    db.session.flush()
    history.log(vat_invoice, actor, "create", "status", "", vat_invoice.status_label,
                f"VAT of invoice {invoice.number}")
    history.log(invoice, actor, "governmental_invoice", "", "", number, f"raised to {gov.code}")
    return vat_invoice


def _vat_parts(invoice: Invoice, refusal: str) -> list[tuple[Fund, Decimal]]:
    """The invoice's VAT on its chosen VAT fund, else over the funds of its regular lines, in
    proportion to their amounts there."""
    if invoice.vat_fund is not None:
        return [(invoice.vat_fund, invoice.vat_amount)]
    weights = defaultdict(Decimal)
    for line in invoice.lines:
        if line.line_type == "regular":
            for d in line.distribution:
                weights[d.fund] += abs(d.amount)
    if not weights:
        raise InvalidInput(refusal, "vat")
    ordered = sorted(weights, key=lambda fund: fund.id)
    return list(zip(ordered, pro_rata(invoice.vat_amount, [weights[fund] for fund in ordered], invoice.currency)))


# -- workflow ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReviewProblem:
    """One review problem as a reader may see it; ``invoice_id``: the possible duplicate to link to."""
    text: str
    invoice_id: int | None = None

    def __str__(self) -> str:
        return str(self.text)   # a Text: in the reader's language


# The review rules' findings are stored in English (app.invoices.rules): each is shown in the reader's
# language by its pattern (a finding of another form is shown as it is).
FINDINGS = StoredSentences(patterns=(
    (r"The invoice total (?P<total>.+) differs from its lines and charges, (?P<lines>.+)\.",
     T("The invoice total %(total)s differs from its lines and charges, %(lines)s.")),
    (r"Line (?P<n>\d+) has no fund\.", T("Line %(n)s has no fund.")),
    (r"Line (?P<n>\d+): (?P<pol>\S+) is ordered from (?P<vendor>.+), not from (?P<invoice_vendor>.+)\.",
     T("Line %(n)s: %(pol)s is ordered from %(vendor)s, not from %(invoice_vendor)s.")),
    (r"Line (?P<n>\d+): (?P<total>.+?) differs from the price of (?P<pol>\S+), (?P<price>.+?), "
     r"by (?P<difference>\S+) % \(more than (?P<threshold>\S+) %\)\.",
     T("Line %(n)s: %(total)s differs from the price of %(pol)s, %(price)s, by %(difference)s %% (more than "
       "%(threshold)s %%).")),
    (r"No exchange rate for (?P<currency>\S+) on or before (?P<date>\S+)\.",
     T("No exchange rate for %(currency)s on or before %(date)s.")),
    (re.escape(rules.POSSIBLE_DUPLICATE),
     T("Possible duplicate: another invoice of the vendor has the same total and date.")),))


def finding_text(text: str):
    """A stored review finding as a :class:`~app.text.Text` (shown in the reader's language)."""
    return FINDINGS.shown(text)


def review_problems_for(viewer, invoice: Invoice, problems: list[str] | None = None) -> list[ReviewProblem]:
    """``problems`` (by default the invoice's stored ones) as ``viewer`` may read them: a possible
    duplicate is named only when the viewer may see it; otherwise it "exists in another library"."""
    out = []
    for text in invoice.review_problems if problems is None else problems:
        if rules.DUPLICATE_SENTENCE.fullmatch(text or ""):
            text, invoice_id = _duplicate_for(viewer, invoice)
            out.append(ReviewProblem(text, invoice_id))
        else:
            out.append(ReviewProblem(finding_text(text)))
    return out


def _duplicate_for(viewer, invoice: Invoice) -> tuple[str, int | None]:
    query = rules.duplicates_of(invoice)
    seen = db.session.execute(query.where(visible_invoices_clause(viewer)).limit(1)).first()
    if seen is not None:
        return T("Possible duplicate of invoice %(number)s: same vendor, total and date.", number=seen.number), seen.id
    if db.session.execute(query.limit(1)).first() is not None:
        return T("A possible duplicate exists in another library: an invoice of the vendor with the same total "
                 "and date."), None
    return finding_text(rules.POSSIBLE_DUPLICATE), None  # gone since the check ran


def process_invoice(actor, invoice: Invoice) -> Invoice:
    """Save and continue: run the review rules (any problem keeps it In Review with the reasons),
    then the approval rules (automatic approval, or In Approval for an invoice manager). The VAT
    invoice raised to the governmental vendor for it, still In Review, is processed once this one
    has passed its review (:func:`_process_governmental`)."""
    _run_rules(actor, invoice)
    _process_governmental(actor, invoice)
    return invoice


def _process_governmental(actor, invoice: Invoice) -> None:
    """The governmental VAT invoice follows its invoice into the workflow, like any invoice after
    its creation: review rules, then approval rules. When that fails (e.g. its fund cannot take the
    VAT), it stays In Review with the reason in its history, and its own invoice is not held back."""
    if invoice.status == "in_review":
        return
    vat_invoice = db.session.scalar(select(Invoice).where(Invoice.governmental_for_id == invoice.id,
                                                          Invoice.status == "in_review"))
    if vat_invoice is None or not in_scope(library_scope(actor, OPERATORS), vat_invoice.owner_library_id):
        return
    try:
        with db.session.begin_nested():
            _run_rules(actor, vat_invoice)
    except DomainError as exc:
        history.log(vat_invoice, actor, "review", "problems", "", "not processed", exc.text)
        db.session.flush()


def _run_rules(actor, invoice: Invoice) -> Invoice:
    _require(actor, OPERATORS, invoice.owner_library_id, T("process invoices"))
    _lock(invoice)
    refuse_unless("to_approval", invoice)
    problems = rules.review_problems(invoice)
    invoice.review_problems = problems
    if problems:
        history.log(invoice, actor, "review", "problems", "", f"{len(problems)} problem(s)", " ".join(problems))
        db.session.flush()
        return invoice
    invoice.alert = ""
    rule = rules.matching_approval_rule(invoice)
    late = charges.late_periods(invoice) if rule is not None and rule.automatic else []
    if late:
        why = f"It expends on closed fiscal period {_codes(late)}: an administrator approves it with a reason."
        history.transition(invoice, actor, "to_approval",
                           f"it expends on closed fiscal period {_codes(late)}: an administrator approves it "
                           "with a reason")
        tell.approval_waiting(actor, invoice, approvers_of(invoice, rule, late=True), why)
    elif rule is not None and rule.automatic:
        _approve(actor, invoice, f"approved automatically by rule “{rule.name}”")
    else:
        history.transition(invoice, actor, "to_approval",
                           f"rule “{rule.name}”" if rule else "no rule: manual approval")
        tell.approval_waiting(actor, invoice, approvers_of(invoice, rule),
                              f"Approval rule “{rule.name}”." if rule else "No approval rule matched: manual approval.")
    db.session.flush()
    return invoice


def approvers_of(invoice: Invoice, rule=None, *, late: bool = False) -> list:
    """The active users who may approve ``invoice`` under ``rule`` (its matching approval rule):
    the approvers (administrators, invoice managers) whose scope holds its library; only
    administrators when it expends on a closed fiscal period (``late``); never its creator when
    the rule asks for an approver other than the creator. What :func:`approve_invoice` checks."""
    users = tell.holders({Role.ADMIN} if late else APPROVERS, invoice.owner_library_id)
    if rule is not None and rule.approver_not_creator:
        users = [u for u in users if u.id != invoice.created_by_id]
    return users


def _sent_for_approval_by(invoice: Invoice):
    """Who last sent ``invoice`` for approval (None when nobody did)."""
    return db.session.scalar(select(InvoiceEvent).where(InvoiceEvent.invoice_id == invoice.id,
                                                        InvoiceEvent.action == "to_approval")
                             .order_by(InvoiceEvent.id.desc()).limit(1))


def approve_invoice(actor, invoice: Invoice, note: str = "", late_reason: str = "") -> Invoice:
    """An invoice manager approves: the funds are expended and the PO lines' encumbrance released.
    An invoice expending on a closed fiscal period (a late invoice) is approved only by an
    administrator giving ``late_reason``, which its history keeps."""
    _require(actor, APPROVERS, invoice.owner_library_id, T("approve invoices"))
    _lock(invoice)
    refuse_unless("approve", invoice)
    if invoice.status == "in_review":
        raise RuleViolation(T("Invoice %(number)s is In Review: save and continue it first.", number=invoice.number),
                            "status")
    rule = rules.matching_approval_rule(invoice)
    if _creator_refused(rule, invoice, actor):
        raise Forbidden(T("Rule “%(rule)s” needs an approver other than the invoice's creator.", rule=rule.name))
    _approve(actor, invoice, note or "approved", late_reason)
    db.session.flush()
    return invoice


def _creator_refused(rule, invoice: Invoice, user) -> bool:
    return rule is not None and rule.approver_not_creator and invoice.created_by_id == user.id


def may_approve(user, invoice: Invoice) -> bool:
    """Whether ``user`` may approve ``invoice`` now: its status, the user's roles and library scope
    (:func:`invoice_actions`), and its approval rule (one asking for an approver other than the
    creator). A late invoice may still need an administrator: :func:`may_approve_late`."""
    if "approve" not in invoice_actions(user, invoice) or invoice.status != "in_approval":
        return False
    return not _creator_refused(rules.matching_approval_rule(invoice), invoice, user)


def approvable_clause(user):
    """The invoices In Approval ``user`` may approve, as one SQL condition (:func:`may_approve` for
    each of them): in the approvers' scope, less those the user created whose rule needs another
    approver (only the user's own invoices are looked at one by one)."""
    if not has_any_role(user, APPROVERS):
        return false()
    scope = library_scope(user, APPROVERS)
    conditions = [Invoice.status == "in_approval", visible_invoices_clause(user)]
    if scope is not None:
        conditions.append(Invoice.owner_library_id.in_(scope) if scope else false())
    own = db.session.scalars(select(Invoice).where(*conditions, Invoice.created_by_id == user.id)).all()
    refused = [inv.id for inv in own if not may_approve(user, inv)]
    if refused:
        conditions.append(Invoice.id.notin_(refused))
    return and_(*conditions)


ERP_REJECTED = "ERP rejected it: "   # the alert of an invoice the ERP sent back (send_back_to_review)
# The alerts are stored in English: their prefix -> the sentence they are shown as.
_ALERTS = {"Rejected: ": T("Rejected: %(reason)s").msgid,
           "Sent back to review: ": T("Sent back to review: %(reason)s").msgid,
           ERP_REJECTED: T("ERP rejected it: %(reason)s").msgid}


def alert_text(alert: str):
    """An invoice's stored alert as a :class:`~app.text.Text` (the reason stays as typed)."""
    for prefix, msgid in _ALERTS.items():
        if (alert or "").startswith(prefix):
            return T(msgid, reason=alert[len(prefix):])
    return alert


def erp_rejected_clause():
    """Invoices the ERP rejected and nobody has saved and continued since (their alert stays until then)."""
    return and_(Invoice.status == "in_review", Invoice.alert.startswith(ERP_REJECTED, autoescape=True))


def waiting_since():
    """When an invoice began waiting for payment: its export, or its approval when it skipped the ERP."""
    return func.coalesce(Invoice.exported_at, Invoice.approved_at)


def waiting_longer_clause(days: int):
    """Invoices Waiting for Payment for more than ``days`` days."""
    return and_(Invoice.status == "waiting_for_payment", waiting_since() < utcnow() - timedelta(days=days))


def _codes(periods) -> str:
    return ", ".join(fp.code for fp in periods)


def late_periods(invoice: Invoice) -> list:
    """The closed fiscal periods approving ``invoice`` would expend on ([] when its charges cannot
    be worked out now: approving says why)."""
    if invoice.status != "in_approval":
        return []
    try:
        return charges.late_periods(invoice)
    except DomainError:
        return []


def may_approve_late(user, invoice: Invoice) -> bool:
    """Whether ``user`` may approve ``invoice`` when it expends on a closed fiscal period."""
    return _may(user, {Role.ADMIN}, invoice.owner_library_id)


def _approve(actor, invoice: Invoice, note: str, late_reason: str = "") -> None:
    postings = charges.approval_postings(invoice)
    late = charges.closed_periods(postings)
    late_reason = (late_reason or "").strip()
    if late:
        if not may_approve_late(actor, invoice):
            raise RuleViolation(T("Invoice %(number)s expends on closed fiscal period %(periods)s: an administrator "
                                  "must approve it with a reason.", number=invoice.number, periods=_codes(late)),
                                "late_reason")
        if not late_reason:
            raise InvalidInput(T("Fiscal period %(periods)s is closed: give the reason for expending invoice "
                                 "%(number)s on it (its history keeps it).", periods=_codes(late),
                                 number=invoice.number), "late_reason")
        check_length(late_reason, "late_reason")
    rows = funds.post_transactions(actor, postings, reference=invoice.number[:100],
                                   note=f"Invoice {invoice.number} of {invoice.vendor.code}", on=invoice.invoice_date,
                                   late_expenditure=bool(late))
    charges.remember(invoice, rows)
    if late:
        history.log(invoice, actor, "late_expenditure", "fiscal_period", "", _codes(late), late_reason)
    history.transition(invoice, actor, "approve", note)
    invoice.approved_at, invoice.approved_by_id = utcnow(), actor.id
    for line in invoice.lines:
        if line.po_line is not None and line.fully_invoiced:
            orders.record_invoicing(actor, line.po_line, fully_invoiced=True)
    if invoice.skips_erp or settings.get("invoice_skip_erp"):
        if settings.get("handle_invoice_payment"):
            history.transition(invoice, actor, "skip_erp", "not exported to the ERP")
        else:
            _close(actor, invoice, "not exported; payment is not handled here")


def reject_invoice(actor, invoice: Invoice, reason: str) -> Invoice:
    _require(actor, APPROVERS, invoice.owner_library_id, T("reject invoices"))
    _lock(invoice)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(T("Give the reason for rejecting (the reviewer sees it)."), "reason")
    history.transition(invoice, actor, "reject", reason)
    invoice.alert = f"Rejected: {reason}"
    db.session.flush()
    sent = _sent_for_approval_by(invoice)
    tell.invoice_returned(actor, invoice, sent.actor if sent else None, "rejected", reason)
    return invoice


def mark_exported(actor, invoice: Invoice, *, flush: bool = True) -> Invoice:
    """Called once the ERP upload is confirmed: waiting for payment, or closed when payment is
    not handled here. ``flush=False``: the caller flushes (the export marks many at once)."""
    _lock(invoice)
    invoice.exported_at = utcnow()
    if settings.get("handle_invoice_payment"):
        history.transition(invoice, actor, "exported", "exported to the ERP")
        _mark_po_lines_sent(actor, invoice.lines)
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
    commits (invoices loaded in the session keep their old status until then). An invoice no
    longer Ready to be Paid (changed while its file was on its way) is left as it is and missing
    from the answer. Waiting for Payment is one UPDATE and one history INSERT for all; closing
    (``handle_invoice_payment`` off) also records the PO lines' invoicing, so those go one by one
    through :func:`mark_exported`."""
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
    now = utcnow()
    db.session.execute(update(Invoice).where(Invoice.id.in_([r.id for r in rows]), ready)
                       .values(status=new, exported_at=now).execution_options(synchronize_session=False))
    db.session.execute(insert(InvoiceEvent), [
        dict(history.event_values(r.number, r.code, actor, "exported", "status", STATUSES[old], STATUSES[new],
                                  "exported to the ERP"), invoice_id=r.id, at=now) for r in rows])
    _mark_po_lines_sent(actor, db.session.scalars(
        select(InvoiceLine).join(POLine, POLine.id == InvoiceLine.po_line_id)
        .where(InvoiceLine.invoice_id.in_([r.id for r in rows]), InvoiceLine.fully_invoiced,
               POLine.invoice_sent == false(), POLine.status != "closed")
        .options(selectinload(InvoiceLine.po_line)).order_by(InvoiceLine.id)).all())
    return {r.id: Exported(r.number, r.code, new) for r in rows}


def _mark_po_lines_sent(actor, lines) -> None:
    """The invoice went to the ERP: each PO line it fully invoices notes it, and closes when it is
    also received (as a paid one would); once per PO line, in its history."""
    for line in lines:
        if line.po_line is not None and line.fully_invoiced and not line.po_line.invoice_sent:
            orders.record_invoicing(actor, line.po_line, fully_invoiced=True, sent=True)


def _unmark_po_lines_sent(actor, invoice: Invoice) -> None:
    """Back to review: the PO lines still open no longer count this invoice as sent."""
    for line in invoice.lines:
        pol = line.po_line
        if pol is not None and line.fully_invoiced and pol.invoice_sent and pol.status != "closed":
            orders.record_invoicing(actor, pol, sent=False)


def record_payment(actor, invoice: Invoice, voucher_number: str, payment_date: date, amount,
                   currency: str | None = None, *, flush: bool = True, notify: bool = True) -> Invoice:
    """The payment (by hand or from the ERP's confirmation) closes the invoice and its POLs that
    are received and fully invoiced, and (when the payment notice is switched on) queues the
    vendor's payment notice. ``flush=False``: the caller flushes (a bulk import flushes once per
    chunk of records). ``notify=False``: the caller sends the notices (the ERP import sends one per
    vendor and voucher, :func:`notify_payment`)."""
    _require(actor, APPROVERS | OPERATORS, invoice.owner_library_id, T("record payments"))
    _lock(invoice)
    refuse_unless("paid", invoice)
    voucher_number = (voucher_number or "").strip()
    if not voucher_number or len(voucher_number) > 50:
        raise InvalidInput(T("The voucher number is required (at most 50 characters)."), "voucher_number")
    if payment_date is None:
        raise InvalidInput(T("The payment date is required."), "payment_date")
    currency = funds.check_currency(currency or invoice.currency)
    invoice.voucher_number, invoice.payment_date = voucher_number, payment_date
    invoice.payment_amount = parse_money(amount, currency, "amount", T("amount paid"))
    invoice.payment_currency = currency
    _close(actor, invoice, f"paid: voucher {voucher_number} on {payment_date.isoformat()}")
    if flush:
        db.session.flush()
    if notify:
        notify_payment(actor, [invoice])
    return invoice


def notify_payment(actor, paid: list[Invoice]) -> list:
    """Queue the payment notices of invoices just paid: one per vendor and voucher (number and
    date), naming its invoices; nothing when the payment notice is switched off. Each is noted in
    its invoices' history."""
    groups: dict[tuple, list[Invoice]] = defaultdict(list)
    for invoice in paid:
        groups[(invoice.vendor_id, invoice.voucher_number, invoice.payment_date)].append(invoice)
    made = []
    for (_, voucher, day), group in groups.items():
        message = letters.queue_payment_notice(actor, group[0].vendor, group, voucher, day)
        if message is None:
            continue
        made.append(message)
        for invoice in group:
            history.log(invoice, actor, "payment_notice", note=letters.outcome(message))
    return made


def _close(actor, invoice: Invoice, note: str) -> None:
    action = "paid" if invoice.status in ("ready_to_be_paid", "waiting_for_payment") and invoice.voucher_number \
        else ("exported_and_closed" if invoice.status == "ready_to_be_paid" else "paid")
    history.transition(invoice, actor, action, note)
    invoice.closed_at = utcnow()
    for line in invoice.lines:
        if line.po_line is not None:
            orders.record_invoicing(actor, line.po_line, fully_invoiced=line.fully_invoiced or None, paid=True)


class RejectedOnClosedPeriod(RuleViolation):
    """The ERP rejected an invoice that expended on a closed fiscal period: not applied by itself."""

    def __init__(self, invoice: Invoice, periods: list[str]):
        names = ", ".join(periods)
        super().__init__(T("Invoice %(number)s expended on closed fiscal period %(periods)s: the ERP's rejection is "
                           "not applied to a closed year by itself, and the invoice stays %(status)s. To take it, "
                           "reopen %(periods)s (with a reason) and send the invoice back to review.",
                           number=invoice.number, periods=names, status=invoice.status_label), "status")
        self.periods = periods


def send_back_to_review(actor, invoice: Invoice, reason: str, *, erp: bool = False) -> Invoice:
    """Back to review from Ready to be Paid, Waiting for Payment or Closed: the invoice's
    postings are reversed by new entries (expenditure back, PO line encumbrance restored), so
    approving again posts afresh. ``erp``: the ERP rejected it; the reason becomes its alert.

    An ERP rejection of an invoice that expended on a *closed* fiscal period is refused
    (:class:`RejectedOnClosedPeriod`, nothing changed): a closed year's figures change only by a
    person's decision (reopening it with a reason), never by an import; the job reports it."""
    if not erp:
        _require(actor, APPROVERS | OPERATORS, invoice.owner_library_id, T("send invoices back to review"))
    _lock(invoice)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(T("Give the reason (the reviewer sees it)."), "reason")
    refuse_unless("erp_rejected" if erp else "send_back_to_review", invoice)
    reversals = charges.reversals(invoice)
    if erp:
        closed = sorted({p.fund.fiscal_period.code for p in reversals if p.fund.fiscal_period.status == "closed"})
        if closed:
            raise RejectedOnClosedPeriod(invoice, closed)
    rows = funds.post_transactions(actor, reversals, reference=invoice.number[:100],
                                   note=f"Invoice {invoice.number} back to review", on=clock.today())
    charges.remember(invoice, rows)
    history.transition(invoice, actor, "erp_rejected" if erp else "send_back_to_review", reason)
    _unmark_po_lines_sent(actor, invoice)
    invoice.alert = f"{ERP_REJECTED}{reason}" if erp else f"Sent back to review: {reason}"
    invoice.approved_at = invoice.approved_by_id = invoice.closed_at = None
    db.session.flush()
    if erp:
        tell.erp_rejected(actor, invoice, reason, {Role.INVOICE_MANAGER})
    else:
        sent = _sent_for_approval_by(invoice)
        tell.invoice_returned(actor, invoice, sent.actor if sent else None, "sent back to review", reason)
    return invoice


def delete_invoice(actor, invoice: Invoice, reason: str = "") -> None:
    """Only invoice operators extended and administrators, only before any money was expended;
    the history keeps a record."""
    _require(actor, DELETERS, invoice.owner_library_id, T("delete invoices"))
    _lock(invoice)
    if invoice.status not in EDITABLE or charges.postings_of(invoice):
        raise RuleViolation(T("Invoice %(number)s has expended money (%(status)s); it cannot be deleted. Send it back "
                              "to review first.", number=invoice.number, status=invoice.status_label), "status")
    history.log(invoice, actor, "delete", "", invoice.status_label, "", reason or "deleted")
    db.session.flush()
    db.session.delete(invoice)
    db.session.flush()


# -- the invoice line list ---------------------------------------------------------------------

# Status in workflow order, so sorting by status follows the workflow rather than the alphabet.
_STATUS_ORDER = case({s: n for n, s in enumerate(STATUSES)}, value=Invoice.status)


# -- the invoice list --------------------------------------------------------------------------

# sort -> order_by (status in workflow order; ties by id, so paging is stable)
INVOICE_SORTS = {
    "number": (Invoice.number, Invoice.id), "-number": (Invoice.number.desc(), Invoice.id.desc()),
    "date": (Invoice.invoice_date, Invoice.id), "-date": (Invoice.invoice_date.desc(), Invoice.id.desc()),
    "total": (Invoice.total_amount, Invoice.id), "-total": (Invoice.total_amount.desc(), Invoice.id.desc()),
    "status": (_STATUS_ORDER, Invoice.id), "-status": (_STATUS_ORDER.desc(), Invoice.id.desc()),
    "vendor": (Vendor.code, Invoice.id), "-vendor": (Vendor.code.desc(), Invoice.id.desc()),
}
DEFAULT_INVOICE_SORT = "-date"


@dataclass
class InvoiceFilter(ListFilter):
    channel: str = ""
    sort: str = DEFAULT_INVOICE_SORT
    # What "My work" links to: the invoices the user may approve, those the ERP rejected, those
    # Waiting for Payment for more than so many days.
    approvable: bool = False
    erp_rejected: bool = False
    waiting_days: int | None = None

    @property
    def any(self) -> bool:
        return bool(self.q or self.status or self.vendor_id or self.fund_id or self.library_id or self.channel
                    or self.narrowed)

    @property
    def narrowed(self) -> list[str]:
        """The filters the form has no field for, in words (the page names them, with a way out)."""
        words = []
        if self.approvable:
            words.append(T("In Approval, that you may approve"))
        if self.erp_rejected:
            words.append(T("rejected by the ERP"))
        if self.waiting_days is not None:
            words.append(Tn("Waiting for Payment for more than %(num)d day",
                            "Waiting for Payment for more than %(num)d days", self.waiting_days))
        return words

    @property
    def narrowing_params(self) -> dict:
        return {"approvable": 1 if self.approvable else "", "erp_rejected": 1 if self.erp_rejected else "",
                "waiting_days": self.waiting_days if self.waiting_days is not None else ""}


def _text_condition(word: str):
    """One search word: invoice number or reference, vendor code or name, or a line's POL number."""
    return or_(contains(Invoice.number, word), contains(Invoice.reference_number, word),
               Invoice.vendor_id.in_(select(Vendor.id).where(or_(contains(Vendor.code, word),
                                                                 contains(Vendor.name, word)))),
               Invoice.id.in_(select(InvoiceLine.invoice_id).select_from(POLine)
                              .join(InvoiceLine, InvoiceLine.po_line_id == POLine.id)
                              .where(contains(POLine.number, word))))


def invoice_conditions(user, f: InvoiceFilter) -> list:
    """What the invoice list's filter asks (the pages' list, search and export, and the API's list)."""
    conditions = [visible_invoices_clause(user)]
    for word in f.q.split()[:8]:
        conditions.append(_text_condition(word))
    if f.status:
        conditions.append(Invoice.status == f.status)
    if f.vendor_id:
        conditions.append(Invoice.vendor_id == f.vendor_id)
    if f.library_id:
        conditions.append(Invoice.owner_library_id == f.library_id)
    if f.channel:
        conditions.append(Invoice.channel == f.channel)
    if f.approvable:
        conditions.append(approvable_clause(user))
    if f.erp_rejected:
        conditions.append(erp_rejected_clause())
    if f.waiting_days is not None:
        conditions.append(waiting_longer_clause(f.waiting_days))
    if f.fund_id:
        conditions.append(Invoice.id.in_(select(InvoiceLine.invoice_id)
                                         .join(InvoiceLineFund, InvoiceLineFund.line_id == InvoiceLine.id)
                                         .where(InvoiceLineFund.fund_id == f.fund_id)))
    return conditions


_LINE_SORT_COLUMNS = {"number": (Invoice.number,), "date": (Invoice.invoice_date,), "vendor": (Vendor.code,),
                      "status": (_STATUS_ORDER,), "pol": (POLine.number,), "title": (by_language(POLine.title),),
                      "quantity": (InvoiceLine.quantity,), "price": (InvoiceLine.unit_price,),
                      "total": (InvoiceLine.total,)}
# sort -> order_by. Lines without a PO line come last either way (as on every database); ties: an
# invoice's lines together and in their order (unique, so paging is stable).
_TIES = (InvoiceLine.invoice_id, InvoiceLine.position)
_NULLABLE = {"pol", "title"}


def _line_order(key: str, descending: bool) -> tuple:
    columns = [c.desc() if descending else c.asc() for c in _LINE_SORT_COLUMNS[key]]
    if key in _NULLABLE:
        columns = [c.nulls_last() for c in columns]
    return (*columns, *_TIES)


LINE_SORTS = {("-" if descending else "") + key: _line_order(key, descending)
              for key in _LINE_SORT_COLUMNS for descending in (False, True)}
DEFAULT_LINE_SORT = "-date"


@dataclass
class InvoiceLineFilter(ListFilter):
    pol: str = ""                  # a PO line's number, exactly
    date_from: date | None = None  # the invoice date, both ends included
    date_to: date | None = None
    sort: str = DEFAULT_LINE_SORT

    @property
    def any(self) -> bool:
        return bool(self.q or self.status or self.vendor_id or self.fund_id or self.library_id or self.pol
                    or self.date_from or self.date_to)


def _line_conditions(user, f: InvoiceLineFilter) -> list:
    """What the line list's filter asks, on invoice lines joined to their invoice and (outer) PO line."""
    conditions = [visible_invoices_clause(user)]
    for word in f.q.split()[:8]:
        conditions.append(or_(contains(Invoice.number, word), contains(POLine.number, word),
                              contains(POLine.title, word), contains(InvoiceLine.price_note, word)))
    if f.status:
        conditions.append(Invoice.status == f.status)
    if f.vendor_id:
        conditions.append(Invoice.vendor_id == f.vendor_id)
    if f.library_id:
        conditions.append(Invoice.owner_library_id == f.library_id)
    if f.fund_id:
        conditions.append(InvoiceLine.id.in_(select(InvoiceLineFund.line_id).where(InvoiceLineFund.fund_id == f.fund_id)))
    if f.pol:
        conditions.append(func.lower(POLine.number) == f.pol.lower())
    if f.date_from:
        conditions.append(Invoice.invoice_date >= f.date_from)
    if f.date_to:
        conditions.append(Invoice.invoice_date <= f.date_to)
    return conditions


def invoice_lines_query(user, f: InvoiceLineFilter):
    """The lines of the invoices ``user`` may see that match ``f``, sorted as it asks (an unknown sort:
    the latest invoice date first). Each row is an :class:`InvoiceLine` whose invoice, vendor, owner and
    PO line come with it (one statement) and whose fund distribution is loaded for all the rows at
    once: a page or a streamed export (``yield_per``) costs a fixed number of queries, not one a row."""
    return (invoice_lines_select(user, f)
            .options(contains_eager(InvoiceLine.invoice).contains_eager(Invoice.vendor),
                     contains_eager(InvoiceLine.po_line),
                     # the funds' code and name, without what a fund loads with it (period, availability)
                     selectinload(InvoiceLine.distribution).joinedload(InvoiceLineFund.fund).lazyload("*")))


def invoice_lines_select(user, f: InvoiceLineFilter):
    """:func:`invoice_lines_query` without its loading options: the lines joined to their invoice,
    vendor and PO line, filtered and sorted (what an export selects its own values from)."""
    return (select(InvoiceLine).join(InvoiceLine.invoice).join(Invoice.vendor).outerjoin(InvoiceLine.po_line)
            .where(*_line_conditions(user, f))
            .order_by(*LINE_SORTS.get(f.sort, LINE_SORTS[DEFAULT_LINE_SORT])))


def count_invoice_lines(user, f: InvoiceLineFilter) -> int:
    """How many rows :func:`invoice_lines_query` gives."""
    return db.session.scalar(select(func.count(InvoiceLine.id)).select_from(InvoiceLine)
                             .join(InvoiceLine.invoice).outerjoin(InvoiceLine.po_line)
                             .where(*_line_conditions(user, f)))
