"""Inventory test data: records, a holding per library, items."""
from __future__ import annotations

from dataclasses import dataclass

from app.auth.models import Role
from app.auth.services import create_user
from app.extensions import db
from app.inventory import services as inv
from app.inventory.models import BibRecord, Holding, Item
from tests.helpers import PASSWORD


@dataclass
class Inventory:
    record: BibRecord
    holding: Holding      # in LIBA
    item: Item            # of holding, not received
    holding_b: Holding    # in LIBB
    item_b: Item


def record(actor, title, **kw) -> BibRecord:
    return inv.create_record(actor, inv.RecordFields(title=title, **kw))


def make_inventory(world) -> Inventory:
    admin = world.user("admin")
    rec = record(admin, "The Hobbit", author="Tolkien, J. R. R.", isbn="978-0-261-10221-7",
                 publisher="HarperCollins", publication_date="c1997")
    holding = inv.add_holding(admin, rec, world.lib_a, "MAIN", "Main stacks", "823.912 TOL")
    item = inv.add_item(admin, holding, "A0001", enumeration="v.1")
    holding_b = inv.add_holding(admin, rec, world.lib_b, "BRANCH", "Branch library")
    item_b = inv.add_item(admin, holding_b, "B0001")
    db.session.commit()
    return Inventory(rec, holding, item, holding_b, item_b)


def make_buyer_a(world):
    """A purchasing operator scoped to library A (the world has only an institution-wide one)."""
    user = create_user(None, "buyer-a", PASSWORD, full_name="Buyer A",
                       roles=[(Role.PURCHASING_OPERATOR, world.lib_a)])
    db.session.commit()
    return user
