"""Every change to purchase orders and PO lines goes through these functions.

A line is created In Review, approved (its funds encumbered in fund currency), packaged into a
PO per vendor (automatically or by hand) and sent; then received or activated, and finally
closed (complete) or cancelled (nothing will come). Status changes go through the transition
table in :mod:`app.orders.models`; every change is written to the line's history.

Ordering needs an administrator or a purchasing operator; a library-scoped one sees and acts
only on lines owned by their libraries. Functions take an explicit ``actor``, flush, and raise
:mod:`app.errors` exceptions with messages meant for people. Callers commit.
"""
from __future__ import annotations

import calendar
import hashlib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, case, false, func, or_, select, true

from .. import clock
from ..auth.models import Role
from ..auth.permissions import has_any_role, in_scope, library_scope
from ..clock import utcnow
from ..database import is_postgres
from ..errors import Forbidden, InvalidInput, NotFound, RuleViolation
from ..extensions import db
from ..formatting import history_text as _text
from ..funds import services as funds
from ..funds.distribution import Share, distribute, parse_money, parse_percent
from ..funds.models import Fund, FundTransaction
from ..inventory import services as inventory
from ..inventory.models import BibRecord, Holding, Item
from ..ledger import TransactionKind
from ..ledger.money import quantize
from ..listing import ListFilter, by_language
from ..org.models import Library
from ..outgoing import queue as letters
from ..ids import parse_id
from ..text import T, Text, english
from ..vendors import services as vendors
from ..vendors.models import Vendor, VendorAccount
from .models import (ACQUISITION_METHODS, MATERIAL_FORM_WORDS, MATERIAL_FORMS, METHOD_WORDS, OPEN_STATUSES,
                     ORDER_TYPE_WORDS, ORDER_TYPES, PACKAGING, POL_STATUSES, RENEWAL, UNPAID_METHODS, OutboxEvent,
                     POLine, POLineEvent, POLineFund, PublicationPattern,
                     PurchaseOrder, refuse_unless)
from . import prediction

PURCHASING = frozenset({Role.ADMIN, Role.PURCHASING_OPERATOR})
SOURCE = "po_line"


# -- scope -------------------------------------------------------------------------------------

def _scope_clause(column, user):
    scope = library_scope(user)
    if scope is None:
        return true()
    return column.in_(scope) if scope else false()


def visible_po_lines_clause(user):
    """Lines the user may see: any role, within its library scope (institution lines need an
    institution-wide role)."""
    return _scope_clause(POLine.owner_library_id, user)


def visible_pos_clause(user):
    return _scope_clause(PurchaseOrder.owner_library_id, user)


def can_order(user, owner_library_id: int | None = None, *, anywhere: bool = False) -> bool:
    if not has_any_role(user, PURCHASING):
        return False
    return anywhere or in_scope(library_scope(user, PURCHASING), owner_library_id)


def _require_orderer(actor, owner_library_id: int | None) -> None:
    if not has_any_role(actor, PURCHASING):
        raise Forbidden(T("Only administrators and purchasing operators may change orders."))
    if not in_scope(library_scope(actor, PURCHASING), owner_library_id):
        raise Forbidden(T("You may only order for your own library."), "owner_library")


def _guard(actor, pol: POLine, action: str) -> None:
    """Check the actor may order for the line, lock the line (PostgreSQL: FOR UPDATE, so two
    clicks on Approve never encumber twice; SQLite's BEGIN IMMEDIATE already serialises) and
    check the transition table allows ``action`` in the line's status as it now is."""
    _require_orderer(actor, pol.owner_library_id)
    if is_postgres(db.session):
        db.session.refresh(pol, with_for_update={"of": POLine})
    refuse_unless(action, pol)


def ordering_libraries(user) -> list[Library] | None:
    """Libraries ``user`` may order for; None: the institution and every library."""
    scope = library_scope(user, PURCHASING)
    if scope is None:
        return None
    return db.session.scalars(select(Library).where(Library.id.in_(scope)).order_by(Library.code)).all()


# -- lookups -----------------------------------------------------------------------------------

def _by_number_or_id(model, visible, prefix: str, ref, what: str):
    """A row by its number (``POL-000012``, any case) or its id, only when visible."""
    q = select(model).where(visible)
    text = str(ref or "").strip()
    if text.upper().startswith(prefix):
        q = q.where(model.number == text.upper())
    else:
        row_id = parse_id(text) if text else None
        if not row_id:
            raise NotFound(what)
        q = q.where(model.id == row_id)
    row = db.session.scalar(q)
    if row is None:
        raise NotFound(what)
    return row


def get_po_line(user, ref) -> POLine:
    """A line by number (``POL-000012``) or id, only when ``user`` may see it."""
    return _by_number_or_id(POLine, visible_po_lines_clause(user), "POL-", ref, T("No such PO line."))


def get_po(user, ref) -> PurchaseOrder:
    return _by_number_or_id(PurchaseOrder, visible_pos_clause(user), "PO-", ref, T("No such purchase order."))


def _temporary_number() -> str:
    return "TMP-" + uuid.uuid4().hex[:16]


def _number(obj, prefix: str) -> None:
    """Give a new row its number from its id (flushes first; rows are made with a temporary one)."""
    db.session.flush()
    obj.number = f"{prefix}-{obj.id:06d}"


# -- history -----------------------------------------------------------------------------------

def log(pol: POLine, actor, action: str, field_name: str = "", old=None, new=None, note: str = "") -> POLineEvent:
    event = POLineEvent(po_line=pol, actor_id=actor.id if actor else None, action=action, field=field_name,
                        old_value=_text(old), new_value=_text(new), note=english(note) or "")
    db.session.add(event)
    return event


def _transition(pol: POLine, actor, action: str, note: str = "") -> None:
    old, new = pol.move_to(action)
    if old != new:
        log(pol, actor, action, "status", POL_STATUSES[old], POL_STATUSES[new], note)
    else:
        log(pol, actor, action, note=note)


# -- fields ------------------------------------------------------------------------------------

@dataclass
class POLineFields(inventory.RecordFields):
    """A line's brief description (the fields of a bibliographic record) and its order's fields."""
    title: str = ""  # optional here, like every field of the line; _clean asks for it
    vendor: Vendor | None = None
    currency: str = ""
    list_price: object = "0"
    quantity: object = 1
    discount: object = "0"
    order_type: str = "one_time"
    material_form: str = "physical"
    acquisition_method: str = "purchase"
    packaging: str = "auto"
    owner_library: Library | None = None
    vendor_account: VendorAccount | None = None
    bib_record: BibRecord | None = None
    distribution_method: str = "percent"
    distribution: list[Share] = field(default_factory=list)
    reporting_code: str = ""
    vendor_reference: str = ""
    note: str = ""
    expected_receipt_date: date | None = None
    renewal_date: date | None = None
    renewal_period_months: object = 12
    manual_renewal: bool = False
    # Inventory created with the line: where the material will be kept.
    location_code: str = ""
    inventory_library: Library | None = None


_LIMITS = {"title": 500, "author": 300, "isbn": 40, "issn": 20, "publisher": 300, "publication_date": 40,
           "reporting_code": 40, "vendor_reference": 100}
_LABELS = {"title": T("title"), "author": T("author"), "isbn": T("ISBN"), "issn": T("ISSN"),
           "publisher": T("publisher"), "publication_date": T("publication date"),
           "reporting_code": T("reporting code"), "vendor_reference": T("vendor reference number")}


# A fiscal period's status in the middle of a sentence ("…, which is closed").
_PERIOD_WORDS = {"active": T("active"), "inactive": T("inactive"), "closed": T("closed")}
_ISSUE_LABELS = {"enumeration": T("enumeration"), "chronology": T("chronology")}


def _choice(value, choices: dict, name: str, label: str) -> str:
    if value not in choices:
        raise InvalidInput(T("Choose the %(label)s: %(choices)s.", label=label,
                             choices=" or ".join(f"'{k}'" for k in choices)), name)
    return value


def _int(value, name: str, label: str, low: int, high: int) -> int:
    text = str(value if value is not None else "").strip()
    if not text.isascii() or not text.isdigit() or not (low <= int(text) <= high):
        raise InvalidInput(T("The %(label)s must be a whole number from %(low)s to %(high)s.", label=label, low=low,
                             high=high), name)
    return int(text)


def net_price(list_price: Decimal, quantity: int, discount: Decimal, currency: str) -> Decimal:
    """List price × quantity less the discount percent, rounded once to the currency."""
    return quantize(list_price * quantity * (100 - discount) / 100, currency)


@dataclass
class _Clean:
    values: dict
    shares: list[tuple[Fund, Decimal | None, Decimal]]   # fund, percent, amount (line currency)


def _clean(actor, f: POLineFields) -> _Clean:
    if f.vendor is None:
        raise InvalidInput(T("Choose the vendor."), "vendor")
    if f.vendor.status != "active":
        raise RuleViolation(T("Vendor %(code)s is inactive; choose an active vendor.", code=f.vendor.code), "vendor")
    if f.vendor_account is not None and f.vendor_account.vendor_id != f.vendor.id:
        raise InvalidInput(T("Account %(code)s belongs to another vendor.", code=f.vendor_account.code),
                           "vendor_account")
    v = {name: (getattr(f, name) or "").strip() for name in _LIMITS}
    if not v["title"]:
        raise InvalidInput(T("The title is required (it is the line's bibliographic reference)."), "title")
    for name, limit in _LIMITS.items():
        if len(v[name]) > limit:
            raise InvalidInput(T("The %(label)s is longer than %(limit)s characters.", label=_LABELS[name],
                                 limit=limit), name)
    v["order_type"] = _choice(f.order_type, ORDER_TYPES, "order_type", T("order type"))
    v["material_form"] = _choice(f.material_form, MATERIAL_FORMS, "material_form", T("material form"))
    v["packaging"] = _choice(f.packaging, {"auto": 1, "manual": 1}, "packaging", T("packaging"))
    v["acquisition_method"] = _choice(f.acquisition_method or "purchase", ACQUISITION_METHODS, "acquisition_method",
                                      T("acquisition method"))
    unpaid = v["acquisition_method"] in UNPAID_METHODS
    v["distribution_method"] = _choice(f.distribution_method, {"percent": 1, "amount": 1},
                                       "distribution_method", T("distribution method"))
    currency = funds.check_currency((f.currency or f.vendor.currency or "").strip().upper(), "currency")
    v["currency"] = currency
    price_text = str(f.list_price if f.list_price is not None else "").strip()
    if not price_text:
        if not unpaid:
            raise InvalidInput(T("Enter the list price (a gift, exchange, depository or technical order needs none)."),
                               "list_price")
        price_text = "0"
    v["list_price"] = parse_money(price_text, currency, "list_price", T("list price"))
    if v["list_price"] < 0:
        raise InvalidInput(T("The list price must not be negative."), "list_price")
    v["quantity"] = _int(f.quantity, "quantity", T("quantity"), 1, 10000)
    v["discount"] = parse_percent(f.discount, "discount", T("discount"))
    v["net_price"] = net_price(v["list_price"], v["quantity"], v["discount"], currency)
    v["note"] = (f.note or "").strip()
    v["expected_receipt_date"] = f.expected_receipt_date
    v["vendor_id"], v["vendor_account_id"] = f.vendor.id, f.vendor_account.id if f.vendor_account else None
    v["owner_library_id"] = f.owner_library.id if f.owner_library else None
    if v["order_type"] == "continuous":
        v["renewal_period_months"] = _int(f.renewal_period_months, "renewal_period_months",
                                          T("renewal period (months)"), 1, 120)
        v["renewal_date"] = f.renewal_date
        v["manual_renewal"] = bool(f.manual_renewal)
        if f.renewal_date is None:
            raise InvalidInput(T("A continuous order needs its renewal date."), "renewal_date")
    else:
        v["renewal_date"], v["manual_renewal"] = None, False
    if unpaid:
        if f.distribution:
            raise InvalidInput(T("A %(method)s order is not paid for, so it takes no fund: clear the fund rows, "
                                 "or choose Purchase as the acquisition method.",
                                 method=METHOD_WORDS[v["acquisition_method"]]), "distribution")
        return _Clean(v, [])
    return _Clean(v, _shares(actor, f, v))


def refuse_closed_periods(f: POLineFields, kept=()) -> None:
    """A fund of a fiscal period that is not open (closed, or inactive) is refused, unless the line
    had it already (ids in ``kept``): new orders are charged to open periods."""
    for share in f.distribution or []:
        fund = share.fund
        if fund is not None and not fund.fiscal_period.is_open and fund.id not in set(kept):
            raise RuleViolation(T("Fund %(fund)s belongs to fiscal period %(period)s, which is %(status)s: choose a "
                                  "fund of an open period.", fund=fund.code, period=fund.fiscal_period.code,
                                  status=_PERIOD_WORDS.get(fund.fiscal_period.status, fund.fiscal_period.status)),
                                "distribution")


def _shares(actor, f: POLineFields, v: dict) -> list[tuple[Fund, Decimal | None, Decimal]]:
    """Check the distribution and work out each fund's share of the net price exactly."""
    return distribute(actor, f.distribution or [], v["distribution_method"], v["net_price"], v["currency"],
                      v["owner_library_id"])


_TRACKED = ("title", "author", "isbn", "issn", "publisher", "publication_date", "order_type", "material_form",
            "acquisition_method", "packaging", "currency", "list_price", "quantity", "discount", "net_price", "distribution_method",
            "reporting_code", "vendor_reference", "note", "expected_receipt_date", "renewal_date",
            "renewal_period_months", "manual_renewal", "vendor_id", "vendor_account_id", "owner_library_id")


def _apply(pol: POLine, actor, clean: _Clean, record_changes: bool) -> None:
    for name in _TRACKED:
        if name not in clean.values:
            continue
        new = clean.values[name]
        old = getattr(pol, name)
        if record_changes and _text(old) != _text(new):
            log(pol, actor, "edit", name, old, new)
        setattr(pol, name, new)
    old_dist = _distribution_text(pol)
    pol.distribution.clear()
    db.session.flush()
    for fund, percent, amount in clean.shares:
        pol.distribution.append(POLineFund(fund=fund, fund_id=fund.id, percent=percent, amount=amount))
    new_dist = _distribution_text(pol)
    if record_changes and old_dist != new_dist:
        log(pol, actor, "edit", "distribution", old_dist, new_dist)


def _distribution_text(pol: POLine) -> str:
    return "; ".join(f"{d.fund.code} {format(d.percent, 'f') + ' % = ' if d.percent is not None else ''}"
                     f"{format(d.amount, 'f')} {pol.currency}" for d in pol.distribution)


# -- create and edit ---------------------------------------------------------------------------

def create_po_line(actor, f: POLineFields) -> POLine:
    """A new line In Review, with its bibliographic record (a brief one made from the
    description when none is chosen) and its inventory: a holding, and for a one-time physical
    order one item per copy, not in place until received."""
    _require_orderer(actor, f.owner_library.id if f.owner_library else None)
    refuse_closed_periods(f)
    clean = _clean(actor, f)
    pol = POLine(number=_temporary_number(), created_by_id=actor.id, status="in_review")
    db.session.add(pol)
    _apply(pol, actor, clean, record_changes=False)
    record = f.bib_record
    if record is None:
        record = inventory.create_record(actor, inventory.RecordFields(
            title=clean.values["title"], author=clean.values["author"], isbn=clean.values["isbn"],
            issn=clean.values["issn"], publisher=clean.values["publisher"],
            publication_date=clean.values["publication_date"]))
    pol.bib_record = record
    _number(pol, "POL")
    _create_inventory(actor, pol, f)
    log(pol, actor, "create", "status", "", POL_STATUSES["in_review"])
    db.session.flush()
    return pol


def _create_inventory(actor, pol: POLine, f: POLineFields) -> None:
    library = f.inventory_library or f.owner_library
    if library is None:
        raise InvalidInput(T("Choose the library that will receive the material."), "inventory_library")
    if pol.owner_library_id is not None and library.id != pol.owner_library_id:
        raise InvalidInput(T("A library's order is received by that library."), "inventory_library")
    location = (f.location_code or "").strip() or ("ONLINE" if pol.is_electronic else "ACQ")
    holding = inventory.add_holding(actor, pol.bib_record, library, location,
                              "Electronic access" if pol.is_electronic else "On order")
    holding.po_line_id = pol.id
    if pol.material_form == "physical" and pol.is_one_time:
        for n in range(pol.quantity):
            item = inventory.add_item(actor, holding, description=f"Copy {n + 1}" if pol.quantity > 1 else "")
            item.po_line_id = pol.id
    db.session.flush()


def update_po_line(actor, pol: POLine, f: POLineFields) -> POLine:
    """Edit a line In Review or Deferred (a reopened line is In Review again)."""
    _guard(actor, pol, "edit")
    if (f.owner_library.id if f.owner_library else None) != pol.owner_library_id:
        _require_orderer(actor, f.owner_library.id if f.owner_library else None)
        if pol.holdings:
            raise RuleViolation(T("The line already has inventory in its library; it cannot change owner."),
                                "owner_library")
    if f.order_type != pol.order_type or f.material_form != pol.material_form:
        if pol.po_id is not None or pol.approved_at is not None:
            raise RuleViolation(T("An order that was approved keeps its order type and material form."),
                                "order_type")
    refuse_closed_periods(f, [d.fund_id for d in pol.distribution])
    clean = _clean(actor, f)
    _apply(pol, actor, clean, record_changes=True)
    if pol.pattern is not None and (pol.is_one_time or pol.is_electronic):
        _drop_pattern(actor, pol)
    _match_items(actor, pol)
    db.session.flush()
    return pol


def _match_items(actor, pol: POLine) -> None:
    """Keep one item per copy of a one-time physical order when the quantity changes."""
    if not (pol.material_form == "physical" and pol.is_one_time and pol.holdings):
        return
    items = list(pol.items)
    if len(items) < pol.quantity:
        for n in range(len(items), pol.quantity):
            item = inventory.add_item(actor, pol.holdings[0], description=f"Copy {n + 1}")
            item.po_line_id = pol.id
    elif len(items) > pol.quantity:
        surplus = len(items) - pol.quantity
        removable = [i for i in reversed(items) if not i.is_received][:surplus]
        if len(removable) < surplus:
            raise RuleViolation(T("%(count)s copies were already received; the quantity cannot be lower.",
                                  count=len(items) - len(removable)), "quantity")
        for item in removable:
            db.session.delete(item)
    db.session.flush()
    db.session.expire(pol, ["items"])


def defer_po_line(actor, pol: POLine, note: str = "") -> POLine:
    _guard(actor, pol, "defer")
    _transition(pol, actor, "defer", note)
    db.session.flush()
    return pol


def resume_po_line(actor, pol: POLine, note: str = "") -> POLine:
    _guard(actor, pol, "resume")
    _transition(pol, actor, "resume", note)
    db.session.flush()
    return pol


# -- money -------------------------------------------------------------------------------------

def encumbrance_in_fund_currency(pol: POLine, share_amount: Decimal, fund: Fund, day: date) -> Decimal:
    """A share of the line converted to the fund's currency through the currency repository."""
    return vendors.convert(share_amount, pol.currency, fund.currency, day)


def outstanding_encumbrance(pol: POLine) -> dict[int, Decimal]:
    """What the line still holds encumbered, per fund id (its own encumbrances less releases)."""
    t = FundTransaction
    amount = func.sum(case((t.kind == "encumbrance", t.amount), else_=-t.amount))
    rows = db.session.execute(
        select(t.fund_id, amount).where(t.source_type == SOURCE, t.source_id == pol.id,
                                        t.kind.in_(("encumbrance", "disencumbrance")))
        .group_by(t.fund_id)).all()
    return {fund_id: Decimal(total) for fund_id, total in rows if total}


def _release(actor, pol: POLine, note: str, day: date | None = None) -> list[FundTransaction]:
    postings = []
    for fund_id, amount in sorted(outstanding_encumbrance(pol).items()):
        if amount > 0:
            postings.append(funds.Posting(db.session.get(Fund, fund_id), TransactionKind.DISENCUMBRANCE, amount))
    return funds.post_transactions(actor, postings, reference=pol.number, note=note, on=day,
                                source_type=SOURCE, source_id=pol.id)


def approve_po_line(actor, pol: POLine, on: date | None = None, note: str = "") -> POLine:
    """Approve a line: encumber each fund of its distribution in the fund's currency (refused,
    naming the fund and the shortfall, when a fund's over-encumbrance rule would break). A line
    that is not paid for (a gift, say) encumbers nothing."""
    _guard(actor, pol, "approve")
    if pol.is_unpaid:
        _transition(pol, actor, "approve", note or f"{pol.acquisition_method_label.english}: nothing to encumber")
        pol.approved_at = utcnow()
        if pol.po is not None and pol.po.status == "sent":
            _transition(pol, actor, "resend", f"back on {pol.po.number}, which was already sent")
        db.session.flush()
        return pol
    if not pol.distribution:
        raise RuleViolation(T("%(number)s has no fund distribution; add the funds that pay for it.",
                              number=pol.number), "distribution")
    day = on or clock.today()
    postings = []
    for share in pol.distribution:
        amount = encumbrance_in_fund_currency(pol, share.amount, share.fund, day)
        share.encumbered_amount, share.encumbered_currency = amount, share.fund.currency
        if amount:
            postings.append(funds.Posting(share.fund, TransactionKind.ENCUMBRANCE, amount))
    funds.post_transactions(actor, postings, reference=pol.number, note=note or "PO line approved", on=day,
                         source_type=SOURCE, source_id=pol.id)
    _transition(pol, actor, "approve", note)
    pol.approved_at = utcnow()
    if pol.po is not None and pol.po.status == "sent":
        _transition(pol, actor, "resend", f"back on {pol.po.number}, which was already sent")
    db.session.flush()
    return pol


# -- packaging and sending ---------------------------------------------------------------------

def create_po(actor, vendor: Vendor, owner_library: Library | None, packaging: str = "manual") -> PurchaseOrder:
    _require_orderer(actor, owner_library.id if owner_library else None)
    po = PurchaseOrder(number=_temporary_number(), vendor=vendor, owner_library=owner_library, owner_library_id=owner_library.id
                       if owner_library else None, packaging=packaging, created_by_id=actor.id)
    db.session.add(po)
    _number(po, "PO")
    db.session.flush()
    return po


def open_pos_for(user, pol: POLine) -> list[PurchaseOrder]:
    """Open (not yet sent) POs a ready line may be packaged into by hand."""
    return db.session.scalars(select(PurchaseOrder).where(
        PurchaseOrder.status == "open", PurchaseOrder.vendor_id == pol.vendor_id,
        PurchaseOrder.owner_library_id.is_(None) if pol.owner_library_id is None
        else PurchaseOrder.owner_library_id == pol.owner_library_id,
        visible_pos_clause(user)).order_by(PurchaseOrder.id)).all()


def package_po_line(actor, pol: POLine, po: PurchaseOrder | None = None) -> PurchaseOrder:
    """Manual packaging: put a Ready line into an open PO of its vendor and owner (a new one
    when ``po`` is None). The PO is sent later with :func:`send_po`."""
    _guard(actor, pol, "package_manual")
    if po is None:
        po = create_po(actor, pol.vendor, pol.owner_library)
    elif po.status != "open" or po.vendor_id != pol.vendor_id or po.owner_library_id != pol.owner_library_id:
        raise RuleViolation(T("%(po)s is not an open order of %(vendor)s for the same owner.", po=po.number,
                              vendor=pol.vendor.code), "po")
    pol.po = po
    _transition(pol, actor, "package_manual", f"into {po.number}")
    db.session.flush()
    return po


def ready_for_packaging(actor) -> list[POLine]:
    """Ready lines marked for automatic packaging that ``actor`` may order, oldest first."""
    q = select(POLine).where(POLine.status == "ready", POLine.packaging == "auto", POLine.po_id.is_(None),
                             visible_po_lines_clause(actor)).order_by(POLine.id)
    return [p for p in db.session.scalars(q) if can_order(actor, p.owner_library_id)]


def ready_for_packaging_count(actor) -> int:
    """How many lines :func:`ready_for_packaging` gives, counted by the database."""
    scope = library_scope(actor, PURCHASING)
    mine = true() if scope is None else (POLine.owner_library_id.in_(scope) if scope else false())
    return db.session.scalar(select(func.count()).select_from(POLine).where(
        POLine.status == "ready", POLine.packaging == "auto", POLine.po_id.is_(None), mine))


def packaging_groups(actor, lines: list[POLine]) -> list[list[POLine]]:
    """``lines`` by vendor and owner (one PO each), each checked for automatic packaging."""
    groups: dict[tuple, list[POLine]] = defaultdict(list)
    for pol in lines:
        _guard(actor, pol, "package_auto")
        groups[(pol.vendor_id, pol.owner_library_id)].append(pol)
    return list(groups.values())


def package_ready_lines(actor, lines: list[POLine] | None = None) -> list[PurchaseOrder]:
    """Automatic packaging: Ready lines marked for automatic packaging (all the actor may order,
    or ``lines``) go into one new PO per vendor and owner, and each PO is sent."""
    if lines is None:
        lines = ready_for_packaging(actor)
    pos = []
    for group in packaging_groups(actor, lines):
        po = create_po(actor, group[0].vendor, group[0].owner_library, packaging="auto")
        for pol in group:
            pol.po = po
            _transition(pol, actor, "package_auto", f"into {po.number}")
        db.session.flush()
        send_po(actor, po)
        pos.append(po)
    return pos


def pos_query(user, status: str = "", vendor_id: int | None = None):
    """The purchase orders ``user`` may see, of ``status`` (any when empty) and vendor, newest first."""
    query = select(PurchaseOrder).where(visible_pos_clause(user))
    if status:
        query = query.where(PurchaseOrder.status == status)
    if vendor_id:
        query = query.where(PurchaseOrder.vendor_id == vendor_id)
    return query.order_by(PurchaseOrder.id.desc())


def ready_query(user):
    """What "Package and send" would take: the lines of :func:`ready_for_packaging_count`, in id order."""
    scope = library_scope(user, PURCHASING)
    query = select(POLine).where(POLine.status == "ready", POLine.packaging == "auto", POLine.po_id.is_(None))
    if scope is not None:
        query = query.where(POLine.owner_library_id.in_(scope or [-1]))
    return query.order_by(POLine.id)


def ready_fingerprint(user) -> str:
    """Names the set of ready lines a preview showed: a confirmation of another set is refused."""
    ids = db.session.scalars(ready_query(user).with_only_columns(POLine.id)).all()
    return hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:20]


@dataclass
class PackagePreview:
    """The orders "Package and send" would make: one group per vendor and owner (``vendor``,
    ``library``, ``lines`` and ``totals`` per currency), the totals per currency, how many lines."""
    groups: list[dict]
    totals: dict[str, Decimal]
    line_count: int


def package_preview(user) -> PackagePreview:
    """What "Package and send" would make for ``user`` (the lines of :func:`ready_query`)."""
    ready = ready_query(user).subquery()
    group_rows = db.session.execute(
        select(ready.c.vendor_id, ready.c.owner_library_id, ready.c.currency, func.count(), func.sum(ready.c.net_price))
        .group_by(ready.c.vendor_id, ready.c.owner_library_id, ready.c.currency)).all()
    vendors_by_id = {v.id: v for v in db.session.scalars(select(Vendor).where(
        Vendor.id.in_([r[0] for r in group_rows] or [-1])))}
    libraries = {lib.id: lib for lib in db.session.scalars(select(Library))}
    groups, totals = {}, {}
    for vendor_id, library_id, currency, count, total in group_rows:
        group = groups.setdefault((vendor_id, library_id), {
            "vendor": vendors_by_id[vendor_id], "library": libraries.get(library_id), "lines": 0, "totals": {}})
        group["lines"] += count
        group["totals"][currency] = group["totals"].get(currency, 0) + (total or 0)
        totals[currency] = totals.get(currency, 0) + (total or 0)
    ordered = sorted(groups.values(), key=lambda g: (g["vendor"].code, g["library"].code if g["library"] else ""))
    return PackagePreview(ordered, dict(sorted(totals.items())), sum(g["lines"] for g in ordered))


def send_po(actor, po: PurchaseOrder) -> PurchaseOrder:
    """Send an open PO to its vendor: its lines become Sent, and a ``po_sent`` event records it
    for the ERP order export."""
    _require_orderer(actor, po.owner_library_id)
    if is_postgres(db.session):
        db.session.refresh(po, with_for_update={"of": PurchaseOrder})
    if po.status != "open":
        raise RuleViolation(T("%(po)s is %(status)s; only an order being packaged can be sent.", po=po.number,
                              status=po.status_label), "po")
    lines = [p for p in po.lines if p.status in PACKAGING]
    if not lines:
        raise RuleViolation(T("%(po)s has no lines to send.", po=po.number), "po")
    now = utcnow()
    for pol in lines:
        _transition(pol, actor, "send", f"with {po.number}")
        pol.sent_at = now
    po.status, po.sent_at, po.sent_by_id = "sent", now, actor.id
    record_event(actor, "po_sent", po, {"number": po.number, "vendor": po.vendor.code,
                                        "lines": [p.number for p in lines]})
    db.session.flush()
    letters.queue_po(actor, po, lines, "packaged automatically" if po.packaging == "auto" else "sent")
    return po


def record_event(actor, kind: str, obj, payload: dict) -> OutboxEvent:
    event = OutboxEvent(kind=kind, object_type=obj.__tablename__, object_id=obj.id,
                        actor_id=actor.id if actor else None, payload=payload)
    db.session.add(event)
    return event


def send_po_line(actor, pol: POLine) -> PurchaseOrder:
    """The one-button path: a Ready line is packaged (by its packaging setting) and sent; a line
    already in a PO being packaged sends that PO."""
    _require_orderer(actor, pol.owner_library_id)
    if pol.status == "ready":
        if pol.packaging == "auto":
            return package_ready_lines(actor, [pol])[0]
        package_po_line(actor, pol)
    elif pol.status not in PACKAGING:
        refuse_unless("send", pol)
    return send_po(actor, pol.po)


# -- receiving ---------------------------------------------------------------------------------

def receive_po_line(actor, pol: POLine, items: list[Item] | None = None, day: date | None = None,
                    enumeration: str = "", chronology: str = "") -> list[Item]:
    """Receive physical material: the chosen items (default: every one not yet received) are
    in place from ``day``. A continuous order receives a new issue each time (its item is made
    here). A one-time line with everything received waits for its invoice."""
    _guard(actor, pol, "receive")
    if pol.is_electronic:
        raise RuleViolation(T("%(number)s is electronic: activate it instead of receiving it.", number=pol.number),
                            "items")
    day = day or clock.today()
    if day > clock.today():
        raise InvalidInput(T("The received date cannot be in the future."), "received_date")
    pending = [i for i in pol.items if not i.is_received]
    if items is None:
        items = pending if pol.is_one_time else []
    if not pol.is_one_time and not items:
        items = [_next_issue(actor, pol, enumeration, chronology)]
    if not items:
        raise RuleViolation(T("Everything ordered on %(number)s was already received.", number=pol.number), "items")
    for item in items:
        if item.po_line_id != pol.id:
            raise InvalidInput(T("Item %(item)s does not belong to %(number)s.", item=item.barcode or item.id,
                                 number=pol.number), "items")
        inventory.receive_item(actor, item, day)
    log(pol, actor, "receive", "items received", "", f"{len(items)} on {day.isoformat()}")
    db.session.expire(pol, ["items"])
    if pol.pattern is not None:
        _predict(actor, pol)
    if pol.is_one_time and all(i.is_received for i in pol.items):
        _transition(pol, actor, "complete_receipt", "all copies received")
        close_if_complete(actor, pol)
    db.session.flush()
    return items


def receive_next_issue(actor, pol: POLine, day: date | None = None, enumeration: str = "",
                       chronology: str = "") -> Item:
    """Receive the next issue of a continuous order: its first predicted item (enumeration and
    chronology as predicted unless others are given), else a new item; the pattern then predicts
    one more, so the ones after it stay predicted."""
    if pol.is_one_time:
        raise RuleViolation(T("%(number)s is a one-time order: tick the copies that arrived instead.",
                              number=pol.number), "items")
    return receive_po_line(actor, pol, [], day, enumeration, chronology)[0]


def _next_issue(actor, pol: POLine, enumeration: str, chronology: str) -> Item:
    """The item the next issue of a continuous line is received on."""
    item = next_predicted(pol)
    if item is not None:
        for name, value in (("enumeration", enumeration), ("chronology", chronology)):
            value = (value or "").strip()
            if value and value != getattr(item, name):
                if len(value) > 100:
                    raise InvalidInput(T("The %(label)s is longer than %(limit)s characters.",
                                         label=_ISSUE_LABELS[name], limit=100), name)
                log(pol, actor, "receive", name, getattr(item, name), value)
                setattr(item, name, value)
        return item
    if not pol.holdings:
        raise RuleViolation(T("%(number)s has no holdings to receive into.", number=pol.number), "items")
    item = inventory.add_item(actor, pol.holdings[0], enumeration=enumeration, chronology=chronology)
    item.po_line_id = pol.id
    return item


def activate_po_line(actor, pol: POLine, day: date | None = None) -> POLine:
    """Activate an electronic resource; a one-time line then waits for its invoice."""
    _guard(actor, pol, "receive")
    if not pol.is_electronic:
        raise RuleViolation(T("%(number)s is physical: receive its items instead.", number=pol.number),
                            "activation_date")
    if pol.activation_date is not None:
        raise RuleViolation(T("%(number)s was already activated on %(day)s.", number=pol.number,
                              day=pol.activation_date.isoformat()), "activation_date")
    day = day or clock.today()
    if day > clock.today():
        raise InvalidInput(T("The activation date cannot be in the future."), "activation_date")
    pol.activation_date = day
    log(pol, actor, "activate", "activation_date", None, day)
    if pol.is_one_time:
        _transition(pol, actor, "complete_receipt", "activated")
        close_if_complete(actor, pol)
    db.session.flush()
    return pol


def is_received(pol: POLine) -> bool:
    if pol.is_electronic:
        return pol.activation_date is not None
    return bool(pol.items) and all(i.is_received for i in pol.items)


def refuse_invoicing(pol: POLine, where: str = "") -> None:
    """Called by the invoices domain before an invoice line charges ``pol``: a line that is not
    paid for cannot be invoiced."""
    if pol.is_unpaid:
        why = T("%(number)s is a %(method)s order, which is not paid for, so it cannot be invoiced. Remove it from "
                "the invoice, or reopen the PO line and change its acquisition method to Purchase.", number=pol.number,
                method=METHOD_WORDS[pol.acquisition_method])
        if where:
            why = T("%(where)s: %(message)s", where=where if isinstance(where, Text) else where.capitalize(),
                    message=why)
        raise RuleViolation(why, "lines")


def record_invoicing(actor, pol: POLine, *, fully_invoiced: bool | None = None, paid: bool | None = None,
                     sent: bool | None = None) -> POLine:
    """Called by the invoices domain: note the line's invoicing state (``sent``: its invoice went
    to the ERP) and close a one-time line that is now received, fully invoiced and paid or sent."""
    for name, value in (("fully_invoiced", fully_invoiced), ("paid", paid), ("invoice_sent", sent)):
        if value is not None and getattr(pol, name) != value:
            log(pol, actor, "invoice", name, getattr(pol, name), value)
            setattr(pol, name, value)
    close_if_complete(actor, pol)
    db.session.flush()
    return pol


def close_if_complete(actor, pol: POLine) -> bool:
    """A one-time line closes by itself once it is received and fully invoiced, and its invoice
    is paid or sent to the ERP; one that is not paid for (a gift, say) once it is received."""
    if pol.is_one_time and pol.is_unpaid and pol.status == "waiting_for_invoice" and is_received(pol):
        _close(actor, pol, f"received ({pol.acquisition_method_label.english.lower()}: no invoice expected)")
        return True
    if (pol.is_one_time and pol.status == "waiting_for_invoice" and pol.fully_invoiced
            and (pol.paid or pol.invoice_sent) and is_received(pol)):
        _close(actor, pol, "received, invoiced and paid" if pol.paid else "received, invoiced and sent to the ERP")
        return True
    return False


# -- publication patterns and predicted issues --------------------------------------------------

def next_predicted(pol: POLine) -> Item | None:
    """The first predicted issue still to come."""
    pending = [i for i in pol.items if i.is_predicted]
    return min(pending, key=lambda i: (i.expected_date is None, i.expected_date or date.min, i.id), default=None)


@dataclass
class PatternFields:
    frequency: str = "monthly"
    first_date: date | None = None
    first_volume: object = ""          # empty: numbered without volumes
    first_issue: object = 1
    issues_per_volume: object = ""
    chronology: str = "month"
    predict_ahead: object = 3


def _optional_int(value, name: str, label: str, low: int, high: int) -> int | None:
    text = str(value if value is not None else "").strip()
    return _int(text, name, label, low, high) if text else None


def save_pattern(actor, pol: POLine, f: PatternFields) -> PublicationPattern:
    """Give a continuous physical line its publication pattern (or change it). Issues still
    predicted are predicted again from the pattern's first issue, which is the next one expected;
    received issues stay as they are."""
    _require_orderer(actor, pol.owner_library_id)
    if pol.is_one_time or pol.is_electronic:
        raise RuleViolation(T("%(number)s is %(order_type)s and %(material_form)s: only a continuous physical order "
                              "has issues to predict.", number=pol.number, order_type=ORDER_TYPE_WORDS[pol.order_type],
                              material_form=MATERIAL_FORM_WORDS[pol.material_form]), "frequency")
    if not pol.is_open:
        raise RuleViolation(T("%(number)s is %(status)s: reopen it before predicting its issues.", number=pol.number,
                              status=pol.status_label), "frequency")
    if not pol.holdings:
        raise RuleViolation(T("%(number)s has no holdings for its issues.", number=pol.number), "frequency")
    ipv = _optional_int(f.issues_per_volume, "issues_per_volume", T("issues per volume"), 1, 1000)
    volume = _optional_int(f.first_volume, "first_volume", T("first volume"), 1, 100000)
    values = dict(frequency=f.frequency, first_date=f.first_date, first_volume=volume,
                  first_issue=_int(f.first_issue, "first_issue", T("first issue number"), 1, 100000),
                  issues_per_volume=ipv if volume is not None else None, chronology=f.chronology or "month")
    problem = prediction.problems(prediction.Pattern(**values))
    if problem:
        raise InvalidInput(problem[0][1], problem[0][0])
    values["predict_ahead"] = _int(f.predict_ahead, "predict_ahead", T("number of issues predicted ahead"), 1, 24)
    pattern = pol.pattern
    if pattern is None:
        pattern = PublicationPattern(po_line=pol)
        db.session.add(pattern)
        log(pol, actor, "pattern", "publication pattern", "", _pattern_text(values))
    else:
        old = _pattern_text({k: getattr(pattern, k) for k in values})
        if old != _pattern_text(values):
            log(pol, actor, "pattern", "publication pattern", old, _pattern_text(values))
    for name, value in values.items():
        setattr(pattern, name, value)
    pattern.next_sequence, pattern.updated_by_id = 0, actor.id
    dropped = [i for i in pol.items if i.is_predicted]
    for item in dropped:
        db.session.delete(item)
    db.session.flush()
    db.session.expire(pol, ["items"])
    _predict(actor, pol)
    return pattern


def _drop_pattern(actor, pol: POLine) -> None:
    """A line that is no longer a continuous physical order loses its pattern and the issues still predicted."""
    for item in [i for i in pol.items if i.is_predicted]:
        db.session.delete(item)
    log(pol, actor, "pattern", "publication pattern", "set", "removed (no longer a continuous physical order)")
    db.session.delete(pol.pattern)
    db.session.flush()
    db.session.expire(pol, ["items", "pattern"])


def _pattern_text(v: dict) -> str:
    p = prediction.Pattern(v["frequency"], v["first_date"], v["first_issue"], v["first_volume"],
                           v["issues_per_volume"], v["chronology"])
    first = prediction.issue(p, 0)
    when = f" from {first.expected.isoformat()}" if first.expected else ""
    return f"{prediction.FREQUENCIES[p.frequency][0].english.lower()}{when}, first {first.enumeration}, "            f"{v.get('predict_ahead', 3)} ahead"


def _predict(actor, pol: POLine) -> list[Item]:
    """Predict issues until ``predict_ahead`` of them are still to come (an open line only)."""
    pattern = pol.pattern
    if pattern is None or not pol.is_open or not pol.holdings:
        return []
    missing = pattern.predict_ahead - sum(1 for i in pol.items if i.is_predicted)
    if missing <= 0:
        return []
    made = []
    for issue in prediction.predict(pattern.as_pattern(), pattern.next_sequence, missing):
        item = inventory.add_item(actor, pol.holdings[0], enumeration=issue.enumeration, chronology=issue.chronology)
        item.po_line_id, item.predicted, item.expected_date = pol.id, True, issue.expected
        made.append(item)
    pattern.next_sequence += missing
    db.session.flush()
    db.session.expire(pol, ["items"])
    return made


# -- renewals ----------------------------------------------------------------------------------

def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def renewal_candidates():
    """A select of the continuous lines the renewal run looks at, oldest first."""
    return select(POLine).where(POLine.order_type == "continuous", POLine.status.in_(["sent", "waiting_for_renewal"]),
                                POLine.renewal_date.isnot(None)).order_by(POLine.id)


def process_renewal(actor, pol: POLine, today: date) -> list[str]:
    """One line of the renewal run: what happened to it (``waiting``, ``waiting_manual``, ``renewed``)."""
    done = []
    if pol.status == "sent" and (pol.renewal_date - today).days <= pol.renewal_reminder_days:
        action = "await_manual_renewal" if pol.manual_renewal else "await_renewal"
        _transition(pol, actor, action, f"renewal date {pol.renewal_date.isoformat()}")
        done.append("waiting_manual" if pol.manual_renewal else "waiting")
    if pol.status == "waiting_for_renewal" and pol.renewal_date <= today:
        _renew(actor, pol, "renewed automatically")
        done.append("renewed")
    return done


def process_renewals(actor, today: date | None = None) -> dict[str, int]:
    """The daily renewal run: a continuous Sent line whose renewal date is near (within its
    reminder days) waits for renewal (automatic) or manual renewal; an automatic one whose
    renewal date has come is renewed."""
    today = today or clock.today()
    counts = {"waiting": 0, "waiting_manual": 0, "renewed": 0}
    for pol in db.session.scalars(renewal_candidates()):
        for what in process_renewal(actor, pol, today):
            counts[what] += 1
    db.session.flush()
    return counts


def _renew(actor, pol: POLine, note: str) -> None:
    old = pol.renewal_date
    _transition(pol, actor, "renew", note)
    pol.renewal_date = _add_months(old, pol.renewal_period_months)
    log(pol, actor, "renew", "renewal_date", old, pol.renewal_date)


def renew_po_line(actor, pol: POLine, note: str = "") -> POLine:
    _guard(actor, pol, "renew")
    _renew(actor, pol, note or "renewed")
    db.session.flush()
    return pol


# -- close, cancel, reopen ---------------------------------------------------------------------

def _close(actor, pol: POLine, note: str) -> None:
    _release(actor, pol, f"PO line closed: {note}" if note else "PO line closed")
    _transition(pol, actor, "close", note)
    pol.closed_at = utcnow()
    _finish_po(pol.po)


def close_po_line(actor, pol: POLine, note: str = "") -> POLine:
    """Close a complete line: release what is still encumbered; holdings and items stay."""
    _guard(actor, pol, "close")
    _close(actor, pol, note or "closed by hand")
    db.session.flush()
    return pol


def _finish_po(po: PurchaseOrder | None) -> None:
    """A PO closes with its last open line (cancelled when every line was cancelled)."""
    if po is None or po.status in ("closed", "cancelled"):
        return
    db.session.flush()
    if any(p.is_open for p in po.lines):
        return
    po.status = "cancelled" if all(p.status == "cancelled" for p in po.lines) else "closed"
    po.closed_at = utcnow()


@dataclass
class CancelPreview:
    only_line: bool
    items: list[Item]           # items that would be deleted
    holdings: list[Holding]     # holdings that would be deleted
    kept_items: list[Item]      # received/activated items that stay
    release: list[tuple[Fund, Decimal]]

    @property
    def deletes_anything(self) -> bool:
        return bool(self.items or self.holdings)


def cancel_preview(pol: POLine) -> CancelPreview:
    """What cancelling would do. Inventory is deleted only when the line is alone on its PO (or
    on none): its items not yet received, and holdings left without items unless an electronic
    line was activated."""
    only = pol.po is None or all(p.id == pol.id for p in pol.po.lines)
    release = [(db.session.get(Fund, fid), amount) for fid, amount in sorted(outstanding_encumbrance(pol).items())
               if amount > 0]
    kept = [i for i in pol.items if i.is_received]
    if not only or (pol.is_electronic and pol.activation_date is not None):
        return CancelPreview(only, [], [], kept, release)
    items = [i for i in pol.items if not i.is_received]
    doomed = {i.id for i in items}
    holdings = [h for h in pol.holdings if all(i.id in doomed for i in h.items)]
    return CancelPreview(only, items, holdings, kept, release)


def cancel_po_line(actor, pol: POLine, reason: str) -> CancelPreview:
    """Cancel a line (nothing will be received or paid): release its encumbrance and delete the
    inventory :func:`cancel_preview` lists."""
    _guard(actor, pol, "cancel")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(T("Give the reason for cancelling (it is kept in the line's history)."), "reason")
    if len(reason) > 1000:
        raise InvalidInput(T("The reason is longer than %(limit)s characters.", limit=1000), "reason")
    preview = cancel_preview(pol)
    cancellation = _cancellation_of(pol, reason) if _was_sent(pol) else None
    _release(actor, pol, f"PO line cancelled: {reason}")
    for item in preview.items:
        log(pol, actor, "cancel", "item deleted", item.barcode or f"item {item.id}", "")
        db.session.delete(item)
    db.session.flush()
    for holding in preview.holdings:
        log(pol, actor, "cancel", "holding deleted", f"{holding.library.code} {holding.location_code}", "")
        db.session.expire(holding, ["items"])  # its items are gone already; do not cascade to them again
        db.session.delete(holding)
    pol.cancel_reason = reason
    _transition(pol, actor, "cancel", reason)
    pol.closed_at = utcnow()
    db.session.flush()
    db.session.expire(pol, ["items", "holdings"])
    _finish_po(pol.po)
    db.session.flush()
    if cancellation is not None:
        letters.queue_cancellation(actor, vendor=pol.vendor, account=pol.vendor_account, po=pol.po,
                                   po_number=pol.po.number, lines=[pol], reason=reason, payload=cancellation)
    return preview


def reopen_po_line(actor, pol: POLine, note: str = "") -> POLine:
    """Reopen a closed line: back In Review to be edited and approved (and encumbered) again."""
    _guard(actor, pol, "reopen")
    _transition(pol, actor, "reopen", note)
    pol.closed_at = None
    if pol.po is not None and pol.po.status == "closed":
        pol.po.status, pol.po.closed_at = ("sent" if pol.po.sent_at else "open"), None
    db.session.flush()
    return pol


# -- vendors -----------------------------------------------------------------------------------

def _check_new_vendor(pol: POLine, vendor: Vendor, account: VendorAccount | None) -> None:
    if vendor is None:
        raise InvalidInput(T("Choose the new vendor."), "vendor")
    if vendor.id == pol.vendor_id:
        raise InvalidInput(T("%(number)s is already ordered from %(vendor)s.", number=pol.number, vendor=vendor.code),
                           "vendor")
    if vendor.status != "active":
        raise RuleViolation(T("Vendor %(code)s is inactive.", code=vendor.code), "vendor")
    if account is not None and account.vendor_id != vendor.id:
        raise InvalidInput(T("Account %(code)s belongs to another vendor.", code=account.code), "vendor_account")


def _was_sent(pol: POLine) -> bool:
    """The vendor was sent this line: its PO went out with it."""
    return pol.po is not None and pol.po.sent_at is not None and pol.sent_at is not None


def _cancellation_of(pol: POLine, reason: str) -> dict:
    """The cancellation letter of ``pol`` as ordered now (before its vendor or PO changes)."""
    po = pol.po
    return letters.cancellation_payload(vendor=pol.vendor, account=pol.vendor_account, po_number=po.number,
                                        lines=[pol], owner_library=po.owner_library,
                                        ordered_on=po.sent_at.date() if po.sent_at else None, reason=reason)


def replace_vendor(actor, pol: POLine, vendor: Vendor, account: VendorAccount | None = None) -> POLine:
    """Change the line's vendor, keeping it on its PO. A line already sent is ordered from the new
    vendor and cancelled with the old one."""
    _guard(actor, pol, "replace_vendor")
    _check_new_vendor(pol, vendor, account)
    sent = _was_sent(pol)
    old_vendor, old_account = pol.vendor, pol.vendor_account
    reason = f"The order moves to another vendor ({vendor.name})."
    cancellation = _cancellation_of(pol, reason) if sent else None
    log(pol, actor, "replace_vendor", "vendor", pol.vendor.code, vendor.code)
    pol.vendor, pol.vendor_id, pol.vendor_account = vendor, vendor.id, account
    db.session.flush()
    if sent:
        letters.queue_po(actor, pol.po, [pol], f"replace vendor: was {old_vendor.code}", vendor=vendor)
        letters.queue_cancellation(actor, vendor=old_vendor, account=old_account, po=pol.po,
                                   po_number=pol.po.number, lines=[pol], reason=reason, payload=cancellation)
    return pol


def change_vendor(actor, pol: POLine, vendor: Vendor, account: VendorAccount | None = None) -> PurchaseOrder:
    """Order from another vendor: the line moves into a new PO for ``vendor``, which is sent;
    the old PO is deleted when it is left empty."""
    _guard(actor, pol, "change_vendor")
    _check_new_vendor(pol, vendor, account)
    old_po = pol.po
    old_vendor, old_account = pol.vendor, pol.vendor_account
    reason = f"The order moves to another vendor ({vendor.name})."
    old_number = old_po.number if old_po is not None else ""
    cancellation = _cancellation_of(pol, reason) if _was_sent(pol) else None   # before the old PO may go
    log(pol, actor, "change_vendor", "vendor", pol.vendor.code, vendor.code)
    pol.vendor, pol.vendor_id, pol.vendor_account = vendor, vendor.id, account
    po = create_po(actor, vendor, pol.owner_library)
    pol.po = po
    log(pol, actor, "change_vendor", "po", old_po.number if old_po else "", po.number)
    now = utcnow()
    po.status, po.sent_at, po.sent_by_id = "sent", now, actor.id
    record_event(actor, "po_sent", po, {"number": po.number, "vendor": vendor.code, "lines": [pol.number],
                                        "replaces": old_po.number if old_po else None})
    db.session.flush()
    if old_po is not None:
        db.session.expire(old_po, ["lines"])
        if not old_po.lines:
            record_event(actor, "po_deleted", old_po, {"number": old_po.number, "reason": f"{pol.number} moved "
                                                       f"to {po.number}"})
            db.session.delete(old_po)
            old_po = None
        else:
            _finish_po(old_po)
    db.session.flush()
    letters.queue_po(actor, po, [pol], f"change vendor: replaces {old_number}" if old_number else "change vendor")
    if cancellation is not None:
        letters.queue_cancellation(actor, vendor=old_vendor, account=old_account, po=old_po, po_number=old_number,
                                   lines=[pol], reason=reason, payload=cancellation)
    return po


# -- bibliographic reference -------------------------------------------------------------------

def _describe_from(pol: POLine, actor, record: BibRecord, action: str) -> None:
    for name in ("title", "author", "isbn", "issn", "publisher", "publication_date"):
        new = getattr(record, name) or ""
        if getattr(pol, name) != new:
            log(pol, actor, action, name, getattr(pol, name), new)
            setattr(pol, name, new)


def change_reference(actor, pol: POLine, record: BibRecord) -> POLine:
    """Refresh the line's brief description from ``record``; the line stays linked where it was."""
    _guard(actor, pol, "change_reference")
    _describe_from(pol, actor, record, "change_reference")
    db.session.flush()
    return pol


def relink_po_line(actor, pol: POLine, record: BibRecord) -> POLine:
    """Link the line, its holdings and their items to another record; the description follows."""
    _guard(actor, pol, "relink")
    if record.id == pol.bib_record_id:
        raise RuleViolation(T("%(number)s is already linked to this record; choose another one.", number=pol.number),
                            "record")
    holdings = list(pol.holdings)
    if holdings:
        inventory.move_holdings(actor, holdings, record)
    log(pol, actor, "relink", "bib_record", pol.bib_record_id, record.id,
        f"{len(holdings)} holdings moved" if holdings else "")
    pol.bib_record, pol.bib_record_id = record, record.id
    _describe_from(pol, actor, record, "relink")
    db.session.flush()
    return pol


# -- queries -----------------------------------------------------------------------------------

SORTS = {
    "number": (POLine.id,), "-number": (POLine.id.desc(),),
    "title": (by_language(POLine.title), POLine.id), "-title": (by_language(POLine.title, True), POLine.id.desc()),
    "created": (POLine.created_at, POLine.id), "-created": (POLine.created_at.desc(), POLine.id.desc()),
    "status": (POLine.status, POLine.id), "-status": (POLine.status.desc(), POLine.id.desc()),
    "price": (POLine.net_price, POLine.id), "-price": (POLine.net_price.desc(), POLine.id.desc()),
    "expected": (POLine.expected_receipt_date, POLine.id),
    "-expected": (POLine.expected_receipt_date.desc(), POLine.id.desc()),
}


@dataclass
class LineFilter(ListFilter):
    sort: str = "-number"
    method: str = ""    # an acquisition method, "unpaid" (any not paid for), or "" for any


def po_lines_query(user, f: LineFilter):
    """The POL list: visible lines matching the filter, sorted (unknown sorts fall back)."""
    query = select(POLine).where(visible_po_lines_clause(user))
    if f.q:
        words = f.q.split()
        for word in words[:8]:
            like = f"%{word}%"
            query = query.where(or_(POLine.title.ilike(like), POLine.number.ilike(like),
                                    POLine.isbn.ilike(like), POLine.author.ilike(like),
                                    POLine.vendor_reference.ilike(like)))
    if f.status == "open":
        query = query.where(POLine.status.in_(sorted(OPEN_STATUSES)))
    elif f.status == "renewal":
        query = query.where(POLine.status.in_(sorted(RENEWAL)))
    elif f.status in POL_STATUSES:
        query = query.where(POLine.status == f.status)
    if f.vendor_id:
        query = query.where(POLine.vendor_id == f.vendor_id)
    if f.method == "unpaid":
        query = query.where(POLine.acquisition_method.in_(sorted(UNPAID_METHODS)))
    elif f.method in ACQUISITION_METHODS:
        query = query.where(POLine.acquisition_method == f.method)
    if f.library_id:
        query = query.where(POLine.owner_library_id == f.library_id)
    if f.fund_id:
        query = query.where(POLine.id.in_(select(POLineFund.po_line_id).where(POLineFund.fund_id == f.fund_id)))
    return query.order_by(*SORTS.get(f.sort, SORTS["-number"]))


def claims_query(user, today: date | None = None):
    """Lines past their expected receipt date with material still to come (``user`` None: every
    library's, for the daily reminders)."""
    today = today or clock.today()
    pending_items = select(Item.id).where(Item.po_line_id == POLine.id, Item.received_date.is_(None)).exists()
    not_arrived = or_(and_(POLine.material_form == "electronic", POLine.activation_date.is_(None)),
                      and_(POLine.material_form == "physical", or_(pending_items, POLine.order_type == "continuous")))
    visible = visible_po_lines_clause(user) if user is not None else true()
    return (select(POLine).where(visible, POLine.expected_receipt_date < today,
                                 POLine.status.in_(["sent", *sorted(RENEWAL)]), not_arrived)
            .order_by(POLine.expected_receipt_date, POLine.id))

