"""The ledger -> summary -> allocated tree of one fiscal period, with rolled-up balances.

Two queries (visible ledgers, visible funds) and one pass in Python. Funds the user may not see
are left out, and their visible descendants hang under the nearest visible ancestor, so roll-ups
only ever add up what the user is allowed to see.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import lazyload

from ..auth.permissions import visible_funds_clause, visible_ledgers_clause
from ..extensions import db
from ..ledger import Balance
from .models import FiscalPeriod, Fund, Ledger


@dataclass
class Node:
    obj: Fund | Ledger
    depth: int
    balance: Balance = field(default_factory=Balance)
    children: list["Node"] = field(default_factory=list)

    @property
    def is_ledger(self) -> bool:
        return isinstance(self.obj, Ledger)

    @property
    def key(self) -> str:
        return ("L" if self.is_ledger else "F") + str(self.obj.id)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


def build_tree(user, fiscal_period: FiscalPeriod) -> list[Node]:
    ledgers = db.session.scalars(
        select(Ledger).where(Ledger.fiscal_period_id == fiscal_period.id, visible_ledgers_clause(user))
        .order_by(Ledger.code)).all()
    funds = db.session.scalars(
        select(Fund).where(Fund.fiscal_period_id == fiscal_period.id, visible_funds_clause(user))
        .options(lazyload(Fund.ledger), lazyload(Fund.fiscal_period), lazyload(Fund.fund_type))
        .order_by(Fund.code)).all()
    roots = {ledger.id: Node(ledger, 0) for ledger in ledgers}
    by_id = {f.id: f for f in funds}
    nodes = {f.id: Node(f, 0) for f in funds}
    all_parents = dict(db.session.execute(
        select(Fund.id, Fund.parent_id).where(Fund.fiscal_period_id == fiscal_period.id)).all()) \
        if len(funds) else {}
    for f in funds:
        parent_id = f.parent_id
        while parent_id is not None and parent_id not in by_id:
            parent_id = all_parents.get(parent_id)
        if parent_id is not None:
            nodes[parent_id].children.append(nodes[f.id])
        elif f.ledger_id in roots:
            roots[f.ledger_id].children.append(nodes[f.id])

    def settle(node: Node, depth: int) -> Balance:
        node.depth = depth
        if isinstance(node.obj, Fund) and node.obj.kind == "allocated":
            total = node.obj.balance
        else:
            total = Balance()
        for child in node.children:
            total = total + settle(child, depth + 1)
        node.balance = total
        return total

    result = list(roots.values())
    for root in result:
        settle(root, 0)
    return result


def visible_rows(roots: list[Node], open_keys: set[str], expand_all: bool = False):
    """Rows to display: each root, and the children of every open node."""
    for root in roots:
        yield from _rows(root, open_keys, expand_all)


def _rows(node: Node, open_keys: set[str], expand_all: bool):
    yield node
    if expand_all or node.key in open_keys:
        for child in node.children:
            yield from _rows(child, open_keys, expand_all)
