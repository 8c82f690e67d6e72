"""Bibliographic records (shared by the institution), holdings (owned by a library) and items."""
from __future__ import annotations

import re

from ..clock import utcnow
from ..extensions import db
from ..text import T

ITEM_STATUSES = {
    "not_in_place": T("Not in place (ordered, not received)"),
    "in_place": T("In place"),
    "in_work_order": T("In a work order"),
    "withdrawn": T("Withdrawn"),
}

_NOT_IDENTIFIER = re.compile(r"[\s\-\u2010-\u2015]")


def normalize_standard_number(value: str | None) -> str:
    """An ISBN or ISSN as compared in searches: no hyphens or spaces, an upper-case X."""
    return _NOT_IDENTIFIER.sub("", value or "").upper()


class BibRecord(db.Model):
    __tablename__ = "bib_record"

    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(500), nullable=False)
    author = db.Column(db.String(300), nullable=False, default="")
    isbn = db.Column(db.String(40), nullable=False, default="")
    issn = db.Column(db.String(20), nullable=False, default="")
    # isbn/issn as typed are shown; these normalised copies are what searches compare.
    isbn_key = db.Column(db.String(40), nullable=False, default="", index=True)
    issn_key = db.Column(db.String(20), nullable=False, default="", index=True)
    publisher = db.Column(db.String(300), nullable=False, default="")
    publication_date = db.Column(db.String(40), nullable=False, default="")  # as printed: "2019", "c2019"
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    holdings = db.relationship("Holding", back_populates="bib_record", order_by="Holding.id")

    def __str__(self):
        return self.title


class Holding(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    bib_record_id = db.Column(db.Integer, db.ForeignKey("bib_record.id"), nullable=False, index=True)
    library_id = db.Column(db.Integer, db.ForeignKey("library.id"), nullable=False, index=True)
    location_code = db.Column(db.String(40), nullable=False)
    location_name = db.Column(db.String(200), nullable=False, default="")
    call_number = db.Column(db.String(100), nullable=False, default="")
    po_line_id = db.Column(db.Integer, db.ForeignKey("po_line.id"), index=True)  # the order that created it
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    bib_record = db.relationship("BibRecord", back_populates="holdings")
    library = db.relationship("Library", lazy="joined")
    items = db.relationship("Item", back_populates="holding", order_by="Item.id", cascade="all, delete-orphan")

    @property
    def location_label(self) -> str:
        return f"{self.location_name} ({self.location_code})" if self.location_name else self.location_code


class Item(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    holding_id = db.Column(db.Integer, db.ForeignKey("holding.id"), nullable=False, index=True)
    barcode = db.Column(db.String(60), unique=True)  # NULL until one is given
    enumeration = db.Column(db.String(100), nullable=False, default="")
    chronology = db.Column(db.String(100), nullable=False, default="")
    description = db.Column(db.String(500), nullable=False, default="")
    status = db.Column(db.String(20), nullable=False, default="not_in_place")
    received_date = db.Column(db.Date)
    po_line_id = db.Column(db.Integer, db.ForeignKey("po_line.id"), index=True)  # the order that created it
    # An issue predicted by its order's publication pattern (kept true once it is received).
    predicted = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    expected_date = db.Column(db.Date)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    holding = db.relationship("Holding", back_populates="items")

    __table_args__ = (
        db.CheckConstraint("status IN ('not_in_place','in_place','in_work_order','withdrawn')",
                           name="status_known"),
    )

    @property
    def status_label(self) -> str:
        return ITEM_STATUSES.get(self.status, self.status)

    @property
    def is_received(self) -> bool:
        return self.received_date is not None

    @property
    def is_predicted(self) -> bool:
        """Predicted and still to come."""
        return self.predicted and self.received_date is None


# -- binding work orders -----------------------------------------------------------------------

WORK_ORDER_STATUSES = {"open": T("Open"), "done": T("Done")}
WORK_ORDER_KINDS = {"binding": T("Binding")}


class WorkOrder(db.Model):
    """Received items of one holding sent to be bound into one new item.

    The bound items are deleted when the order is opened (what they were is kept in
    :class:`WorkOrderItem`); the new item is in a work order, not in place, until the order is done."""
    __tablename__ = "work_order"

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(20), nullable=False, default="binding")
    holding_id = db.Column(db.Integer, db.ForeignKey("holding.id"), nullable=False, index=True)
    status = db.Column(db.String(10), nullable=False, default="open", index=True)
    # The bound item; NULL only if it was deleted later (bound again into a bigger volume, say).
    new_item_id = db.Column(db.Integer, db.ForeignKey("item.id", ondelete="SET NULL"), index=True)
    note = db.Column(db.Text, nullable=False, default="")
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    done_at = db.Column(db.DateTime)
    done_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))

    holding = db.relationship("Holding")
    new_item = db.relationship("Item", backref=db.backref("work_orders", order_by="WorkOrder.id"))
    created_by = db.relationship("User", foreign_keys=[created_by_id])
    done_by = db.relationship("User", foreign_keys=[done_by_id])
    bound_items = db.relationship("WorkOrderItem", back_populates="work_order", order_by="WorkOrderItem.id",
                                  cascade="all, delete-orphan")

    __table_args__ = (
        db.CheckConstraint("status IN ('open','done')", name="status_known"),
        db.CheckConstraint("kind IN ('binding')", name="kind_known"),
        db.CheckConstraint("status = 'open' OR done_at IS NOT NULL", name="done_has_date"),
    )

    @property
    def number(self) -> str:
        return f"WO-{self.id}"

    @property
    def status_label(self) -> str:
        return WORK_ORDER_STATUSES.get(self.status, self.status)

    @property
    def kind_label(self) -> str:
        return WORK_ORDER_KINDS.get(self.kind, self.kind)

    @property
    def bound_summary(self) -> str:
        """The bound items as people know them: barcodes, else enumeration, else the former id."""
        return ", ".join(str(b.label) for b in self.bound_items)


class WorkOrderItem(db.Model):
    """What one bound item was, kept after the item itself is deleted."""
    __tablename__ = "work_order_item"

    id = db.Column(db.Integer, primary_key=True)
    work_order_id = db.Column(db.Integer, db.ForeignKey("work_order.id"), nullable=False, index=True)
    former_item_id = db.Column(db.Integer, nullable=False)  # no foreign key: the item is deleted
    barcode = db.Column(db.String(60))
    enumeration = db.Column(db.String(100), nullable=False, default="")
    chronology = db.Column(db.String(100), nullable=False, default="")
    description = db.Column(db.String(500), nullable=False, default="")
    received_date = db.Column(db.Date)
    po_line_id = db.Column(db.Integer, db.ForeignKey("po_line.id"), index=True)  # the order that created it

    work_order = db.relationship("WorkOrder", back_populates="bound_items")
    po_line = db.relationship("POLine")

    @property
    def label(self) -> str:
        return self.barcode or self.enumeration or T("item %(id)s", id=self.former_item_id)
