"""The ledger -> summary -> allocated tree of one fiscal period, with rolled-up balances.

Two queries (visible ledgers, the visible funds' columns) and one pass in Python. Funds the user
may not see are left out, and their visible descendants hang under the nearest visible ancestor,
so roll-ups only ever add up what the user is allowed to see.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from .scope import visible_funds_clause, visible_ledgers_clause
from ..extensions import db
from ..ledger import Balance
from .models import FiscalPeriod, Fund, Ledger

ZERO = Balance()


@dataclass(slots=True)
class FundRow:
    """The columns of a fund the tree needs (a light stand-in for the ORM object)."""
    id: int
    code: str
    name: str
    kind: str
    status: str
    parent_id: int | None
    ledger_id: int
    owner_library_id: int | None
    balance: Balance
    currency: str

    @property
    def label(self) -> str:
        return f"{self.code} ({self.name})"


@dataclass
class Node:
    obj: FundRow | Ledger
    depth: int
    balance: Balance = ZERO
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
    roots = {ledger.id: Node(ledger, 0) for ledger in ledgers}
    for node in _fund_nodes(user, fiscal_period, {ledger.id: ledger.currency for ledger in ledgers}):
        if node.obj.ledger_id in roots:
            roots[node.obj.ledger_id].children.append(node)
    result = list(roots.values())
    for root in result:
        _settle(root, 0)
    return result


def rolled_up(user, fiscal_period: FiscalPeriod) -> dict[int, Balance]:
    """Every visible fund's balance as the tree shows it (a summary fund: the sum over the visible
    funds below it), whether or not the user can see its ledger."""
    tops = _fund_nodes(user, fiscal_period, {})
    for top in tops:
        _settle(top, 0)
    return {node.obj.id: node.balance for top in tops for node in top.walk()}


def _fund_nodes(user, fiscal_period: FiscalPeriod, currency: dict[int, str]) -> list[Node]:
    """The visible funds of the period, each under its nearest visible ancestor; returns those
    without one (in code order), which hang under their ledger."""
    rows = db.session.execute(
        select(Fund.id, Fund.code, Fund.name, Fund.kind, Fund.status, Fund.parent_id, Fund.ledger_id,
               Fund.owner_library_id, Fund.allocated, Fund.encumbered, Fund.expended)
        .where(Fund.fiscal_period_id == fiscal_period.id, visible_funds_clause(user)).order_by(Fund.code))
    nodes: dict[int, Node] = {}
    for fid, code, name, kind, status, parent_id, ledger_id, owner, alloc, enc, exp in rows:
        balance = Balance(alloc, enc, exp) if kind == "allocated" else ZERO
        nodes[fid] = Node(FundRow(fid, code, name, kind, status, parent_id, ledger_id, owner, balance,
                                  currency.get(ledger_id, "")), 0)
    tops = []
    all_parents = None
    for node in nodes.values():
        parent_id = node.obj.parent_id
        if parent_id is not None and parent_id not in nodes:  # a hidden ancestor: climb past it
            if all_parents is None:
                all_parents = dict(db.session.execute(
                    select(Fund.id, Fund.parent_id).where(Fund.fiscal_period_id == fiscal_period.id)).all())
            while parent_id is not None and parent_id not in nodes:
                parent_id = all_parents.get(parent_id)
        if parent_id is not None:
            nodes[parent_id].children.append(node)
        else:
            tops.append(node)
    return tops


def _settle(node: Node, depth: int) -> Balance:
    node.depth = depth
    total = ZERO if node.is_ledger else node.obj.balance
    for child in node.children:
        total = total + _settle(child, depth + 1)
    node.balance = total
    return total


def visible_rows(roots: list[Node], open_keys: set[str], expand_all: bool = False):
    """Rows to display: each root, and the children of every open node."""
    for root in roots:
        yield from _rows(root, open_keys, expand_all)


def _rows(node: Node, open_keys: set[str], expand_all: bool):
    yield node
    if expand_all or node.key in open_keys:
        for child in node.children:
            yield from _rows(child, open_keys, expand_all)
