"""What each dashboard row shows, worked out once in Python so the row template only prints it.

The dashboard can show thousands of rows; formatting, URLs and permission checks per row are
the cost of that page, so they are computed here with per-request caches. Every text field of a
RowView is already HTML-escaped (Markup), so the row macro prints it without escaping again.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask import url_for
from markupsafe import Markup, escape

from ..auth.permissions import can_manage_money
from ..formatting import money
from ..ledger import Balance
from .tree import Node, visible_rows

MARKER = 987654321  # stands for the id while URL templates are built


@dataclass(slots=True)
class Bar:
    """The spent bar: widths (percent of the larger of allocation and commitments)."""
    expended: Decimal
    encumbered: Decimal
    over: bool
    label: str


def spent_bar(b: Balance) -> Bar | None:
    total = max(b.allocated if b.allocated > 0 else Decimal(0), b.encumbered + b.expended)
    if not total > 0:
        return None
    width = lambda part: round(part / total * 100, 1) if part > 0 else Decimal(0)  # noqa: E731
    over = b.available < 0
    label = f"{round(b.spent_fraction() * 100)}% spent or committed" + (", over the allocation" if over else "")
    return Bar(width(b.expended), width(b.encumbered), over, Markup(label))


@dataclass(slots=True)
class RowView:
    id: int
    key: str
    depth: int
    css: str
    is_ledger: bool
    code: str
    name: str
    tags: list
    ledger_id: int
    show_url: str | None
    toggle_href: str | None   # the dashboard with this node opened or closed (pushed to the history)
    rows_href: str | None     # the same for the ledger's rows alone (what the toggle asks for)
    is_open: bool
    cells: list          # (css class, text) for allocated, encumbered, expended, available
    bar: Bar | None
    actions: list        # (label, href, hx target or None)
    slot: bool           # an empty row where this fund's allocate/transfer form opens


class RowBuilder:
    def __init__(self, user, period, open_keys: set[str], expand_all: bool, dashboard_url):
        self.user, self.period, self.open_keys, self.expand_all = user, period, open_keys, expand_all
        self.dashboard_url = dashboard_url
        self._manage: dict = {}
        self._urls = {ep: [str(escape(part)) for part in url_for(ep, fund_id=MARKER).split(str(MARKER))]
                      for ep in ("funds.show", "funds.allocate", "funds.transfer")}
        self._rows_url = [str(escape(part)) for part in
                          url_for("funds.ledger_rows", ledger_id=MARKER).split(str(MARKER))]

    def _url(self, endpoint: str, fund_id: int) -> Markup:
        head, tail = self._urls[endpoint]
        return Markup(f"{head}{fund_id}{tail}")

    def _can_manage(self, owner) -> bool:
        if owner not in self._manage:
            self._manage[owner] = can_manage_money(self.user, owner)
        return self._manage[owner]

    def rows(self, root: Node) -> list[RowView]:
        return [self.view(node) for node in visible_rows([root], self.open_keys, self.expand_all)]

    def view(self, node: Node) -> RowView:
        obj, b, is_ledger = node.obj, node.balance, node.is_ledger
        currency = obj.currency
        can = self._can_manage(obj.owner_library_id)
        ledger_id = obj.id if is_ledger else obj.ledger_id
        toggle = rows = is_open = None
        if node.children:
            is_open = self.expand_all or node.key in self.open_keys
            toggle = escape(self.dashboard_url(self.period, self.open_keys, self.expand_all, node.key))
            head, tail = self._rows_url
            rows = Markup(f"{head}{ledger_id}{tail}?{toggle.partition('?')[2]}")
        cells = [("num negative" if v < 0 else "num", Markup(money(v, currency)))  # digits, separators, minus
                 for v in (b.allocated, b.encumbered, b.expended)]
        cells.append(("num available negative" if b.available < 0 else "num available",
                      Markup(money(b.available, currency))))
        if is_ledger:
            tags = [escape(f"ledger · {obj.owner_label} · {currency}")]
            actions = [("Edit", escape(url_for("funds.edit_ledger", ledger_id=obj.id)), None),
                       ("Add fund", escape(url_for("funds.edit_fund", period=self.period.code, ledger=obj.id)), None)] \
                if can else []
            show_url, slot, css = None, False, "ledger"
        else:
            tags = ([Markup("summary")] if obj.kind == "summary" else []) + \
                ([Markup("inactive")] if obj.status != "active" else [])
            slot = obj.kind == "allocated" and can
            target = f"#move-F{obj.id}"
            actions = [("Allocate", self._url("funds.allocate", obj.id), target),
                       ("Transfer", self._url("funds.transfer", obj.id), target)] if slot else []
            show_url = self._url("funds.show", obj.id)
            css = obj.kind + (" inactive" if obj.status != "active" else "")
        return RowView(obj.id, node.key, node.depth, css, is_ledger, escape(obj.code), escape(obj.name), tags,
                       ledger_id, show_url, toggle, rows, bool(is_open), cells, spent_bar(b), actions, slot)
