"""Every change to bibliographic records, holdings and items goes through these functions.

Bibliographic records are shared by the whole institution; holdings (and so their items) belong
to one library. Reading follows the library scope of any role (an out-of-scope holding or item
is simply not found); changing needs an administrator or a purchasing operator, and a
library-scoped one may only add or change holdings and items of their own libraries.

Functions take an explicit ``actor``, flush, and raise :mod:`app.errors` exceptions with messages
meant for people. Callers commit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, or_, select, true

from .. import clock
from ..listing import by_language
from ..auth.models import Role
from ..auth.permissions import has_any_role, in_scope, library_scope
from ..errors import Duplicate, Forbidden, InvalidInput, NotFound, RuleViolation
from ..extensions import db
from ..org import services as org
from ..org.models import Library
from ..ids import parse_id
from ..text import T
from .models import BibRecord, Holding, Item, normalize_standard_number

EDITORS = frozenset({Role.ADMIN, Role.PURCHASING_OPERATOR})
PER_PAGE = 20
_ISBN = re.compile(r"^([0-9]{9}[0-9X]|[0-9]{13})$")
_ISSN = re.compile(r"^[0-9]{7}[0-9X]$")


# -- scope -------------------------------------------------------------------------------------

def visible_holdings_clause(user):
    scope = library_scope(user)
    if scope is None:
        return true()
    return Holding.library_id.in_(scope) if scope else Holding.id.is_(None)


def can_edit_records(user) -> bool:
    return has_any_role(user, EDITORS)


def can_edit_library(user, library_id: int | None) -> bool:
    """Whether ``user`` may add or change holdings and items of ``library_id``."""
    return has_any_role(user, EDITORS) and in_scope(library_scope(user, EDITORS), library_id)


def editable_libraries(user) -> list[Library]:
    if not has_any_role(user, EDITORS):
        return []
    scope = library_scope(user, EDITORS)
    q = select(Library).order_by(Library.code)
    if scope is not None:
        q = q.where(Library.id.in_(scope))
    return db.session.scalars(q).all()


def _require_editor(actor) -> None:
    if not can_edit_records(actor):
        raise Forbidden(T("Only administrators and purchasing operators may change the inventory."))


def _require_library(actor, library_id: int, field: str | None = None) -> None:
    if not can_edit_library(actor, library_id):
        raise Forbidden(T("You may only change holdings and items of your own library."), field)


# -- lookups -----------------------------------------------------------------------------------

def get_record(record_id) -> BibRecord:
    record_id = parse_id(record_id)
    record = db.session.get(BibRecord, record_id) if record_id else None
    if record is None:
        raise NotFound(T("No such bibliographic record."))
    return record


def _one(ref, query, missing):
    """The object ``query(id)`` selects for the id in ``ref``; NotFound(``missing``) when there is none
    the user may see."""
    object_id = parse_id(ref)
    found = db.session.scalar(query(object_id)) if object_id else None
    if found is None:
        raise NotFound(missing)
    return found


def get_holding(user, holding_id) -> Holding:
    return _one(holding_id, lambda i: select(Holding).where(Holding.id == i, visible_holdings_clause(user)),
                T("No such holding."))


def get_item(user, item_id) -> Item:
    return _one(item_id, lambda i: select(Item).join(Holding).where(Item.id == i, visible_holdings_clause(user)),
                T("No such item."))


def visible_holdings(user, record: BibRecord) -> list[Holding]:
    """The record's holdings in ``user``'s scope, by library code then location."""
    return db.session.scalars(
        select(Holding).join(Library).where(Holding.bib_record_id == record.id, visible_holdings_clause(user))
        .order_by(Library.code, Holding.location_code, Holding.id)).all()


def get_library(ref, field: str = "library") -> Library:
    """The library a holding belongs to (required)."""
    library = org.get_library(ref, field)
    if library is None:
        raise InvalidInput(T("Choose a library."), field)
    return library


# -- records -----------------------------------------------------------------------------------

@dataclass
class RecordFields:
    title: str
    author: str = ""
    isbn: str = ""
    issn: str = ""
    publisher: str = ""
    publication_date: str = ""


_LIMITS = {"title": 500, "author": 300, "isbn": 40, "issn": 20, "publisher": 300, "publication_date": 40}
# The fields (and the new item's) as a sentence names them.
_FIELD_NAMES = {"title": T("The title"), "author": T("The author"), "isbn": T("The ISBN"), "issn": T("The ISSN"),
                "publisher": T("The publisher"), "publication_date": T("The publication date"),
                "enumeration": T("The enumeration"), "chronology": T("The chronology"),
                "description": T("The description")}


def _too_long(name: str, limit: int) -> InvalidInput:
    return InvalidInput(T("%(field)s is longer than %(max)s characters.", field=_FIELD_NAMES[name], max=limit), name)


def _clean(fields: RecordFields) -> dict:
    values = {name: " ".join((getattr(fields, name) or "").split()) for name in _LIMITS}
    if not values["title"]:
        raise InvalidInput(T("A title is required."), "title")
    for name, limit in _LIMITS.items():
        if len(values[name]) > limit:
            raise _too_long(name, limit)
    isbn_key, issn_key = normalize_standard_number(values["isbn"]), normalize_standard_number(values["issn"])
    if isbn_key and not _ISBN.match(isbn_key):
        raise InvalidInput(T("An ISBN has 10 or 13 digits (the last of an ISBN-10 may be X), e.g. %(example)s.",
                             example="978-0-19-852663-6"), "isbn")
    if issn_key and not _ISSN.match(issn_key):
        raise InvalidInput(T("An ISSN has 8 digits (the last may be X), e.g. %(example)s.", example="0317-8471"),
                           "issn")
    values.update(isbn_key=isbn_key, issn_key=issn_key)
    return values


def create_record(actor, fields: RecordFields) -> BibRecord:
    _require_editor(actor)
    record = BibRecord(**_clean(fields))
    db.session.add(record)
    db.session.flush()
    return record


def update_record(actor, record: BibRecord, fields: RecordFields) -> BibRecord:
    _require_editor(actor)
    for name, value in _clean(fields).items():
        setattr(record, name, value)
    db.session.flush()
    return record


def _like_words(column, words):
    return and_(*(column.ilike("%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",
                               escape="\\") for w in words))


def search_records(q: str | None, page: int = 1, per_page: int = PER_PAGE):
    """Records matching ``q``, by title, a page of them (a Flask-SQLAlchemy Pagination).

    A record matches when every word of ``q`` is in its title (case-insensitive), or every word is
    in its author, or ``q`` is its ISBN or ISSN (hyphens and spaces ignored, x = X). An empty
    ``q`` lists every record."""
    query = select(BibRecord)
    words = (q or "").split()
    if words:
        key = normalize_standard_number(q)
        query = query.where(or_(_like_words(BibRecord.title, words), _like_words(BibRecord.author, words),
                                BibRecord.isbn_key == key, BibRecord.issn_key == key))
    query = query.order_by(by_language(BibRecord.title), BibRecord.id)
    return db.paginate(query, page=max(page or 1, 1), per_page=per_page, error_out=False)


# -- holdings and items ------------------------------------------------------------------------

def add_holding(actor, record: BibRecord, library: Library, location_code: str, location_name: str = "",
                call_number: str = "") -> Holding:
    _require_library(actor, library.id, "library")
    location_code = (location_code or "").strip()
    if not location_code or len(location_code) > 40:
        raise InvalidInput(T("A location code of 1–40 characters is required."), "location_code")
    location_name, call_number = (location_name or "").strip(), (call_number or "").strip()
    if len(location_name) > 200:
        raise InvalidInput(T("%(field)s is longer than %(max)s characters.", field=T("The location name"), max=200),
                           "location_name")
    if len(call_number) > 100:
        raise InvalidInput(T("%(field)s is longer than %(max)s characters.", field=T("The call number"), max=100),
                           "call_number")
    holding = Holding(bib_record=record, library=library, location_code=location_code,
                      location_name=location_name, call_number=call_number)
    db.session.add(holding)
    db.session.flush()
    return holding


def add_item(actor, holding: Holding, barcode: str | None = None, enumeration: str = "", chronology: str = "",
             description: str = "") -> Item:
    """A new item of ``holding``, not in place until it is received."""
    _require_library(actor, holding.library_id)
    barcode = (barcode or "").strip() or None
    values = {"enumeration": (enumeration or "").strip(), "chronology": (chronology or "").strip(),
              "description": (description or "").strip()}
    for name, limit in (("enumeration", 100), ("chronology", 100), ("description", 500)):
        if len(values[name]) > limit:
            raise _too_long(name, limit)
    if barcode is not None:
        if len(barcode) > 60 or any(c.isspace() for c in barcode):
            raise InvalidInput(T("A barcode is 1–60 characters without spaces."), "barcode")
        if db.session.scalar(select(Item.id).where(Item.barcode == barcode)):
            raise Duplicate(T("Barcode %(barcode)s is already used by another item.", barcode=barcode), "barcode")
    item = Item(holding=holding, barcode=barcode, status="not_in_place", **values)
    db.session.add(item)
    db.session.flush()
    return item


def receive_item(actor, item: Item, day: date | None = None) -> Item:
    """Mark an ordered item as arrived: in place, received on ``day`` (default today)."""
    _require_library(actor, item.holding.library_id)
    if item.received_date is not None or item.status != "not_in_place":
        if item.received_date:
            raise RuleViolation(T("This item was already received on %(day)s.", day=item.received_date.isoformat()),
                                "received_date")
        raise RuleViolation(T("This item was already received."), "received_date")
    item.status, item.received_date = "in_place", day or clock.today()
    db.session.flush()
    return item


def move_holdings(actor, holdings: list[Holding], target: BibRecord) -> list[Holding]:
    """Move ``holdings``, with all their items, to the bibliographic record ``target``.

    Groundwork for relinking an order line: the orders slice calls this when a PO line is relinked
    to another bibliographic record (it checks the order line's status itself, then moves the
    line's holdings here and updates the line's bibliographic reference). Refuses an empty list,
    a holding already on ``target`` (moving a record onto itself), and holdings outside the actor's
    library scope."""
    if not holdings:
        raise InvalidInput(T("Choose the holdings to move."), "holdings")
    for holding in holdings:
        _require_library(actor, holding.library_id)
        if holding.bib_record_id == target.id:
            raise RuleViolation(T("The holdings are already on this record; choose another record."), "target")
    for holding in holdings:
        holding.bib_record = target
    db.session.flush()
    return holdings


# -- binding -----------------------------------------------------------------------------------
# Received items of one holding are bound into one new item through a work order: the bound items
# are deleted at once (the work order keeps what they were), and the new item stays in the work
# order, not in place, until the bindery returns it and the order is marked done.

from ..clock import utcnow  # noqa: E402  (kept with the section it serves)
from .models import WorkOrder, WorkOrderItem  # noqa: E402


# An item's status in the middle of a sentence ("Item A9 is not in place …").
_STATUS_IN_SENTENCE = {"not_in_place": T("not in place (ordered, not received)"), "in_place": T("in place"),
                       "in_work_order": T("in a work order"), "withdrawn": T("withdrawn")}


def _item_label(item: Item) -> str:
    if item.barcode:
        return item.barcode
    if item.enumeration:
        return T("%(enumeration)s (item %(id)s)", enumeration=item.enumeration, id=item.id)
    return T("item %(id)s", id=item.id)


def get_items(user, item_ids) -> list[Item]:
    """The items with ``item_ids`` in ``user``'s scope, in the order given; any other id is not found."""
    items = []
    for item_id in item_ids:
        item = get_item(user, item_id)
        if item not in items:
            items.append(item)
    return items


def bindable_items(holding: Holding) -> list[Item]:
    """The items of ``holding`` that may be bound: received and in place."""
    return [item for item in holding.items if item.received_date is not None and item.status == "in_place"]


def _check_new_item(holding: Holding, items: list[Item], barcode: str | None, enumeration: str, chronology: str,
                    description: str) -> None:
    """Refuse the new item's fields before anything is deleted (add_item checks them again after)."""
    for name, value, limit in (("enumeration", enumeration, 100), ("chronology", chronology, 100),
                               ("description", description, 500)):
        if len(value) > limit:
            raise _too_long(name, limit)
    if barcode is not None:
        if len(barcode) > 60 or any(c.isspace() for c in barcode):
            raise InvalidInput(T("A barcode is 1–60 characters without spaces."), "barcode")
        # A bound item's barcode may go to the new item: those items are deleted first.
        owner = db.session.scalar(select(Item).where(Item.barcode == barcode))
        if owner is not None and owner not in items:
            raise Duplicate(T("Barcode %(barcode)s is already used by another item.", barcode=barcode), "barcode")


def bind_items(actor, holding: Holding, items: list[Item], barcode: str | None = None, enumeration: str = "",
               chronology: str = "", description: str = "", note: str = "") -> WorkOrder:
    """Bind ``items`` (at least two received items in place, all of ``holding``) into one new item.

    Opens a binding work order: the items are deleted, the order keeps their barcodes,
    enumerations and order lines, and the new item (no order line of its own) is in the work
    order, not in place, until :func:`complete_work_order`."""
    _require_library(actor, holding.library_id)
    chosen: list[Item] = []
    for item in items:
        if item not in chosen:
            chosen.append(item)
    if len(chosen) < 2:
        raise InvalidInput(T("Choose at least two items to bind together."), "items")
    for item in chosen:
        if item.holding_id != holding.id:
            raise RuleViolation(T("Item %(item)s belongs to another holding: only items of one holding can be bound "
                                  "together.", item=_item_label(item)), "items")
        if item.received_date is None or item.status != "in_place":
            raise RuleViolation(T("Item %(item)s is %(status)s: only received items that are in place can be bound.",
                                  item=_item_label(item), status=_STATUS_IN_SENTENCE.get(item.status, item.status)),
                                "items")
    barcode = (barcode or "").strip() or None
    enumeration, chronology = (enumeration or "").strip(), (chronology or "").strip()
    description, note = (description or "").strip(), (note or "").strip()
    _check_new_item(holding, chosen, barcode, enumeration, chronology, description)

    bound = [WorkOrderItem(former_item_id=item.id, barcode=item.barcode, enumeration=item.enumeration,
                           chronology=item.chronology, description=item.description,
                           received_date=item.received_date, po_line_id=item.po_line_id) for item in chosen]
    for item in chosen:
        holding.items.remove(item)  # delete-orphan: the item row goes
    db.session.flush()
    new_item = add_item(actor, holding, barcode, enumeration, chronology, description)
    new_item.status = "in_work_order"
    work_order = WorkOrder(kind="binding", holding=holding, new_item=new_item, status="open", note=note,
                           created_by_id=actor.id, bound_items=bound)
    db.session.add(work_order)
    db.session.flush()
    return work_order


def complete_work_order(actor, work_order: WorkOrder, day: date | None = None) -> WorkOrder:
    """The bound item is back: the work order is done, the item in place, received on ``day`` (default today)."""
    _require_library(actor, work_order.holding.library_id)
    if work_order.status != "open":
        raise RuleViolation(T("Work order %(number)s was already done on %(day)s.", number=work_order.number,
                              day=f"{work_order.done_at:%Y-%m-%d}"), "status")
    item = work_order.new_item
    if item is None:
        raise RuleViolation(T("The bound item of work order %(number)s was deleted.", number=work_order.number),
                            "status")
    work_order.status, work_order.done_at, work_order.done_by_id = "done", utcnow(), actor.id
    item.status, item.received_date = "in_place", day or clock.today()
    db.session.flush()
    return work_order


def _visible_work_orders(user):
    return select(WorkOrder).join(Holding, WorkOrder.holding_id == Holding.id).where(visible_holdings_clause(user))


def get_work_order(user, work_order_id) -> WorkOrder:
    work_order_id = parse_id(work_order_id)
    work_order = db.session.scalar(_visible_work_orders(user).where(WorkOrder.id == work_order_id)) \
        if work_order_id else None
    if work_order is None:
        raise NotFound(T("No such work order."))
    return work_order


def find_work_order_by_barcode(user, barcode: str | None) -> WorkOrder:
    """The work order of the bound item with ``barcode`` (scanned when it comes back), in ``user``'s scope.

    An open order is preferred; a done one is returned so that completing it again is refused
    with its date."""
    barcode = (barcode or "").strip()
    if not barcode:
        raise InvalidInput(T("Scan or enter the barcode of the bound item."), "barcode")
    work_order = db.session.scalar(
        _visible_work_orders(user).join(Item, WorkOrder.new_item_id == Item.id).where(Item.barcode == barcode)
        .order_by((WorkOrder.status == "open").desc(), WorkOrder.id.desc()).limit(1))
    if work_order is None:
        raise NotFound(T("No work order is binding an item with barcode %(barcode)s.", barcode=barcode), "barcode")
    return work_order


def work_orders_query(user, status: str = ""):
    """A select of the work orders in ``user``'s scope: open ones oldest first (the longest at the
    bindery on top), done ones most recently done first; without ``status`` the newest first."""
    query = _visible_work_orders(user)
    if status == "open":
        return query.where(WorkOrder.status == "open").order_by(WorkOrder.created_at, WorkOrder.id)
    if status == "done":
        return query.where(WorkOrder.status == "done").order_by(WorkOrder.done_at.desc(), WorkOrder.id.desc())
    return query.order_by(WorkOrder.id.desc())


def open_work_orders(user) -> list[WorkOrder]:
    """Open work orders in ``user``'s scope, oldest first (the longest at the bindery on top)."""
    return db.session.scalars(work_orders_query(user, "open")).all()


def done_work_orders(user, limit: int = 20) -> list[WorkOrder]:
    """The most recently done work orders in ``user``'s scope."""
    return db.session.scalars(work_orders_query(user, "done").limit(limit)).all()
