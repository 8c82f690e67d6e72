"""Which columns a list shows, for each user ("Manage column display").

A list registers its :class:`Table`: a name, a title and the :class:`app.exports.Columns` it can
show, in their default order, each saying whether it is shown until the user chooses and whether it
may be hidden at all. A user's choice (which columns, in which order) is one row per user and list;
without one the list shows its defaults. The page shows the chosen columns and its export writes
the same ones (with each money column's currency beside it, shown or not).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from . import clock
from .exports import Column, Columns
from .extensions import db
from .text import Text

MAX_KEYS = 1000


class ListColumns(db.Model):
    """The columns ``user`` chose for the list ``list_name``, in order, comma-separated."""
    __tablename__ = "list_columns"

    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    list_name = db.Column(db.String(40), primary_key=True)
    keys = db.Column(db.String(MAX_KEYS), nullable=False)
    updated_at = db.Column(db.DateTime, nullable=False, default=clock.utcnow)


@dataclass(frozen=True)
class Table:
    """A list whose columns a user may choose."""
    name: str
    title: str
    columns: Columns

    @property
    def default_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns.all if c.shown or c.fixed)

    def valid_keys(self, keys: Iterable[str]) -> tuple[str, ...]:
        """``keys`` kept to the known ones, each once, with every fixed column in (where the
        defaults have it, when left out)."""
        out = [c.key for c in self.columns.pick(keys)]
        for i, column in enumerate(self.columns.all):
            if column.fixed and column.key not in out:
                out.insert(min(i, len(out)), column.key)
        return tuple(out)


TABLES: dict[str, Table] = {}


def register(name: str, title: str, columns: Columns) -> Table:
    """The list ``name`` (at most 40 characters), known to the column chooser from now on."""
    if len(name) > 40:
        raise ValueError(f"List name {name!r} is longer than 40 characters.")
    # The title a person reads: a Text, translated when shown (see Column.header in app.exports).
    table = TABLES[name] = Table(name, title if isinstance(title, Text) else Text(title), columns)
    return table


def chosen_keys(user, table: Table) -> tuple[str, ...]:
    row = db.session.get(ListColumns, (user.id, table.name))
    if row is None:
        return table.default_keys
    return table.valid_keys(row.keys.split(",")) or table.default_keys


def shown(user, table: Table) -> tuple[Column, ...]:
    """The columns the list's page shows to ``user``, in their order."""
    return table.columns.pick(chosen_keys(user, table))


def exported(user, table: Table) -> tuple[Column, ...]:
    """The columns the list's export writes for ``user``: those shown, each money column's
    currency column added before it when it is not shown."""
    return table.columns.chosen(chosen_keys(user, table))


def choices(user, table: Table) -> list[tuple[Column, bool]]:
    """Every column with whether it is shown: the shown ones in their order, then the hidden ones
    in the default order (what the column chooser lists)."""
    keys = chosen_keys(user, table)
    return ([(c, True) for c in table.columns.pick(keys)]
            + [(c, False) for c in table.columns.all if c.key not in keys])


def save(user, table: Table, keys: Iterable[str]) -> tuple[str, ...]:
    """Remember ``keys`` as the columns ``user`` shows on ``table``; the defaults forget the choice.
    Flushes (the caller commits)."""
    keys = table.valid_keys(keys)
    row = db.session.get(ListColumns, (user.id, table.name))
    if keys == table.default_keys or not keys:
        if row is not None:
            db.session.delete(row)
        db.session.flush()
        return table.default_keys
    if row is None:
        row = ListColumns(user_id=user.id, list_name=table.name, keys="")
        db.session.add(row)
    row.keys, row.updated_at = ",".join(keys), clock.utcnow()
    db.session.flush()
    return keys


def moved(order: list[str], key: str, step: int) -> list[str]:
    """``order`` with ``key`` moved ``step`` places (-1 up, 1 down), kept within the list."""
    if key not in order:
        return order
    i = order.index(key)
    j = min(max(i + step, 0), len(order) - 1)
    order = list(order)
    order.insert(j, order.pop(i))
    return order
