"""Binding test data: received items of one holding, ready to be bound."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.extensions import db
from app.inventory import services as inv
from app.inventory.models import Holding, Item, WorkOrder
from tests.inventory.helpers import record


@dataclass
class Bindable:
    holding: Holding      # in library A (or the library asked for)
    items: list[Item]     # received, in place


def make_bindable(world, prefix="A", count=3, library=None) -> Bindable:
    """A journal holding with ``count`` received issues (barcodes <prefix>1.., enumerations no.1..)."""
    admin = world.user("admin")
    rec = record(admin, f"Journal of Binding {prefix}", issn="0317-8471")
    holding = inv.add_holding(admin, rec, library or world.lib_a, "PER", "Periodicals")
    items = [inv.add_item(admin, holding, f"{prefix}{n}", enumeration=f"no.{n}", chronology="2025")
             for n in range(1, count + 1)]
    for item in items:
        inv.receive_item(admin, item, date(2025, 3, n_day(item)))
    db.session.commit()
    return Bindable(holding, items)


def n_day(item) -> int:
    return int(item.enumeration.removeprefix("no.") or 1)


def bind(actor, bindable: Bindable, **kw) -> WorkOrder:
    return inv.bind_items(actor, bindable.holding, bindable.items, **kw)
