"""What each dashboard row shows, worked out once in Python so the row template only prints it.

The dashboard can show thousands of rows; formatting, URLs and permission checks per row are
the cost of that page, so they are computed here with per-request caches. Every text field of a
RowView is already HTML-escaped (Markup), so the row macro prints it without escaping again.

The balance columns are the user's choice (``DASHBOARD_TABLE``, "Manage column display"); the
ledger/fund column is always there. *Percent spent* counts what is committed as well as what is
paid: (expended + encumbered) / allocated, to one decimal, blank when nothing is allocated;
*percent expended* (paid only) is a column to add. The export (:func:`export_rows`) is the whole
tree the user may see, one row per ledger and fund, with its level and parent.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flask import url_for
from markupsafe import Markup, escape
from sqlalchemy import func, select

from .. import list_columns
from ..auth.permissions import can_manage_money
from ..exports import Column, Columns
from ..extensions import db
from ..formatting import money
from ..ledger import Balance
from ..org.models import Library
from ..text import T
from .models import PERIOD_STATE_WORDS, Fund, FundTransaction, FundType
from .tree import Node, visible_rows

MARKER = 987654321  # stands for the id while URL templates are built
TENTH = Decimal("0.1")
KIND_LABELS = {"ledger": T("Ledger"), "summary": T("Summary fund"), "allocated": T("Allocated fund")}

DASHBOARD_COLUMNS = Columns([
    Column("fund", T("Ledger / fund"), fixed=True),
    Column("kind", T("Type"), shown=False),
    Column("fund_type", T("Fund type"), shown=False),
    Column("library", T("Library"), shown=False),
    Column("status", T("Status"), shown=False),
    Column("currency", T("Currency"), shown=False),
    Column("allocated", T("Allocated"), "money", currency="currency"),
    Column("transfers", T("Net transfers (in allocated)"), "money", currency="currency", shown=False),
    Column("encumbered", T("Encumbered"), "money", currency="currency"),
    Column("expended", T("Expended"), "money", currency="currency"),
    Column("available", T("Available"), "money", currency="currency"),
    # The sign is an argument: a sentence without arguments is not %-formatted, and a bare "% s" would be
    # read as a placeholder by the catalogue's checks.
    Column("spent_pct", T("%(sign)s spent", sign="%"), "number"),
    Column("expended_pct", T("%(sign)s expended", sign="%"), "number", shown=False),
    Column("bar", T("Spent bar")),
])
DASHBOARD_TABLE = list_columns.register("fund_dashboard", T("Fund dashboard"), DASHBOARD_COLUMNS)
# The export writes the tree column as these four, and has no bar.
EXPORT_TREE = (Column("level", T("Level"), "number"), Column("parent", T("Parent")), Column("code", T("Code")),
               Column("name", T("Name")))
PAGE_ONLY = ("fund", "bar")


def percent_of(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part`` as a percent of ``whole``, to one decimal (half up); None when ``whole`` is not positive."""
    if not whole > 0:
        return None
    return (part * 100 / whole).quantize(TENTH, rounding=ROUND_HALF_UP)


def spent_percent(b: Balance) -> Decimal | None:
    """(expended + encumbered) / allocated, as the dashboard's "% spent" shows it."""
    return percent_of(b.expended + b.encumbered, b.allocated)


def expended_percent(b: Balance) -> Decimal | None:
    return percent_of(b.expended, b.allocated)


def percent_text(p: Decimal | None) -> str:
    return "" if p is None else f"{p}%"


def bar_label(b: Balance, currency: str, texts: tuple[str, str, str, str] | None = None, pct=False) -> str:
    """The bar's figures in words (its hover title and its accessible name). ``texts``: the
    allocated, encumbered, expended and available amounts already formatted; ``pct``: the percent
    spent already worked out."""
    alloc, enc, exp, avail = texts or tuple(money(v, currency) for v in
                                            (b.allocated, b.encumbered, b.expended, b.available))
    if currency:
        alloc, enc, exp, avail = (f"{v} {currency}" for v in (alloc, enc, exp, avail))
    pct = spent_percent(b) if pct is False else pct
    figures = dict(expended=exp, encumbered=enc, allocated=alloc, available=avail)
    if b.available < 0:
        label = (T("%(pct)s%% spent: expended %(expended)s, encumbered %(encumbered)s of %(allocated)s allocated; "
                   "available %(available)s, over the allocation", pct=pct, **figures) if pct is not None else
                 T("Nothing allocated: expended %(expended)s, encumbered %(encumbered)s of %(allocated)s allocated; "
                   "available %(available)s, over the allocation", **figures))
    else:
        label = (T("%(pct)s%% spent: expended %(expended)s, encumbered %(encumbered)s of %(allocated)s allocated; "
                   "available %(available)s", pct=pct, **figures) if pct is not None else
                 T("Nothing allocated: expended %(expended)s, encumbered %(encumbered)s of %(allocated)s allocated; "
                   "available %(available)s", **figures))
    return str(label)


@dataclass(slots=True)
class Bar:
    """The spent bar: widths (percent of the larger of allocation and commitments)."""
    expended: Decimal
    encumbered: Decimal
    over: bool
    label: str

    @property
    def svg(self) -> Markup:
        """The bar as inline SVG (classes only: the CSP allows no inline styles), its figures as
        the hover title and the accessible name."""
        label = escape(self.label)
        return Markup(
            f'<svg class="bar{" over" if self.over else ""}" viewBox="0 0 100 10" preserveAspectRatio="none" '
            f'role="img" aria-label="{label}"><title>{label}</title>'
            f'<rect class="bar-bg" x="0" y="0" width="100" height="10"></rect>'
            f'<rect class="bar-exp" x="0" y="0" width="{self.expended}" height="10"></rect>'
            f'<rect class="bar-enc" x="{self.expended}" y="0" width="{self.encumbered}" height="10"></rect></svg>')


def spent_bar(b: Balance, currency: str = "", texts=None, pct=False) -> Bar | None:
    total = max(b.allocated if b.allocated > 0 else Decimal(0), b.encumbered + b.expended)
    if not total > 0:
        return None
    width = lambda part: round(part / total * 100, 1) if part > 0 else Decimal(0)  # noqa: E731
    return Bar(width(b.expended), width(b.encumbered), b.available < 0, bar_label(b, currency, texts, pct))


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
    cells: Markup        # the <td>s of the chosen columns, in order
    actions: list        # (label, href, hx target or None)
    slot: bool           # an empty row where this fund's allocate/transfer form opens


@dataclass(slots=True)
class Total:
    """The grand total of the ledgers shown in one currency."""
    currency: str
    ledgers: int
    balance: Balance


def totals(roots: list[Node]) -> list[Total]:
    """The ledgers' balances added up per currency (never across currencies), in order of first appearance."""
    out: dict[str, Total] = {}
    for root in roots:
        t = out.setdefault(root.obj.currency, Total(root.obj.currency, 0, Balance()))
        t.ledgers += 1
        t.balance = t.balance + root.balance
    return list(out.values())


def _lookups(columns, period, roots) -> dict:
    """What the chosen columns need beyond the tree, one query each: fund types, library codes,
    net transfers (rolled up like the balances, keyed by node key)."""
    keys = {c.key for c in columns}
    found: dict = {}
    if "fund_type" in keys:
        found["fund_type"] = dict(db.session.execute(
            select(Fund.id, FundType.code).join(FundType, FundType.id == Fund.fund_type_id)
            .where(Fund.fiscal_period_id == period.id)).all())
    if "library" in keys:
        found["library"] = dict(db.session.execute(select(Library.id, Library.code)).all())
    if "transfers" in keys:
        own = dict(db.session.execute(
            select(FundTransaction.fund_id, func.sum(FundTransaction.amount))
            .join(Fund, Fund.id == FundTransaction.fund_id)
            .where(Fund.fiscal_period_id == period.id, FundTransaction.kind == "transfer")
            .group_by(FundTransaction.fund_id)).all())
        rolled: dict = {}

        def settle(node: Node) -> Decimal:
            total = Decimal(0) if node.is_ledger or node.obj.kind != "allocated" else Decimal(own.get(node.obj.id) or 0)
            for child in node.children:
                total += settle(child)
            rolled[node.key] = total
            return total
        for root in roots:
            settle(root)
        found["transfers"] = rolled
    return found


def _text_value(key: str, node: Node | None, currency: str, found: dict):
    """A text column's value for ``node`` (None: a total row)."""
    if key == "currency":
        return currency
    if node is None:
        return ""
    obj = node.obj
    if key == "kind":
        return str(KIND_LABELS["ledger" if node.is_ledger else obj.kind])
    if key == "status":
        return str(PERIOD_STATE_WORDS.get(obj.status, obj.status))
    if key == "library":
        owner = obj.owner_library_id
        return found.get("library", {}).get(owner, "") if owner is not None else str(T("Institution"))
    if key == "fund_type":
        return "" if node.is_ledger else found.get("fund_type", {}).get(obj.id, "")
    return ""


class RowBuilder:
    def __init__(self, user, period, open_keys: set[str], expand_all: bool, dashboard_url,
                 columns=None, roots=()):
        self.user, self.period, self.open_keys, self.expand_all = user, period, open_keys, expand_all
        self.dashboard_url = dashboard_url
        self.columns = tuple(c for c in (columns or DASHBOARD_TABLE.columns.pick(DASHBOARD_TABLE.default_keys))
                             if c.key != "fund")
        self.found = _lookups(self.columns, period, roots)
        self._manage: dict = {}
        self._urls = {ep: [str(escape(part)) for part in url_for(ep, fund_id=MARKER).split(str(MARKER))]
                      for ep in ("funds.show", "funds.allocate", "funds.transfer")}
        self._rows_url = [str(escape(part)) for part in
                          url_for("funds.ledger_rows", ledger_id=MARKER).split(str(MARKER))]
        # The words of the rows, in the reader's language, once per page (not per row).
        self._words = {key: escape(str(text)) for key, text in (
            ("edit", T("Edit")), ("add_fund", T("Add fund")), ("allocate", T("Allocate")),
            ("transfer", T("Transfer")), ("summary", T("summary")), ("inactive", T("inactive")))}

    @property
    def span(self) -> int:
        """Columns of a row: the tree column, the chosen ones, the actions."""
        return len(self.columns) + 2

    def _url(self, endpoint: str, fund_id: int) -> Markup:
        head, tail = self._urls[endpoint]
        return Markup(f"{head}{fund_id}{tail}")

    def _can_manage(self, owner) -> bool:
        if owner not in self._manage:
            self._manage[owner] = can_manage_money(self.user, owner)
        return self._manage[owner]

    def rows(self, root: Node) -> list[RowView]:
        return [self.view(node) for node in visible_rows([root], self.open_keys, self.expand_all)]

    def cells(self, b: Balance, currency: str, node: Node | None = None, transfers: Decimal | None = None) -> Markup:
        """The <td>s of the chosen columns for a balance (of ``node``, or of a total row)."""
        texts = {"allocated": money(b.allocated, currency), "encumbered": money(b.encumbered, currency),
                 "expended": money(b.expended, currency), "available": money(b.available, currency)}
        out = []
        pct = spent_percent(b)
        for c in self.columns:
            key = c.key
            if key in texts:
                value = getattr(b, key)
                css = "num money available" if key == "available" else "num money"
                out.append(f'<td class="{css}{" negative" if value < 0 else ""}">{texts[key]}</td>')
            elif key == "spent_pct":
                out.append(f'<td class="num pct">{percent_text(pct)}</td>')
            elif key == "expended_pct":
                out.append(f'<td class="num pct">{percent_text(expended_percent(b))}</td>')
            elif key == "bar":
                bar = spent_bar(b, currency, (texts["allocated"], texts["encumbered"], texts["expended"],
                                              texts["available"]), pct)
                out.append(f'<td class="spent">{bar.svg if bar else Markup(_NO_BAR)}</td>')
            elif key == "transfers":
                value = transfers or Decimal(0)
                out.append(f'<td class="num money{" negative" if value < 0 else ""}">{money(value, currency)}</td>')
            else:
                out.append(f"<td>{escape(_text_value(key, node, currency, self.found))}</td>")
        return Markup("".join(out))

    def total_rows(self, roots: list[Node]) -> list[tuple[Total, Markup]]:
        """The grand total per currency and its cells."""
        transfers = self.found.get("transfers", {})
        return [(t, self.cells(t.balance, t.currency, None,
                               sum((transfers.get(r.key, 0) for r in roots if r.obj.currency == t.currency), Decimal(0))))
                for t in totals(roots)]

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
        if is_ledger:
            tags = [escape(str(T("ledger · %(owner)s · %(currency)s", owner=obj.owner_label, currency=currency)))]
            words = self._words
            actions = [(words["edit"], escape(url_for("funds.edit_ledger", ledger_id=obj.id)), None),
                       (words["add_fund"], escape(url_for("funds.edit_fund", period=self.period.code, ledger=obj.id)),
                        None)] \
                if can else []
            show_url, slot, css = None, False, "ledger"
        else:
            tags = ([self._words["summary"]] if obj.kind == "summary" else []) + \
                ([self._words["inactive"]] if obj.status != "active" else [])
            slot = obj.kind == "allocated" and can
            target = f"#move-F{obj.id}"
            actions = [(self._words["allocate"], self._url("funds.allocate", obj.id), target),
                       (self._words["transfer"], self._url("funds.transfer", obj.id), target)] if slot else []
            show_url = self._url("funds.show", obj.id)
            css = obj.kind + (" inactive" if obj.status != "active" else "")
        return RowView(obj.id, node.key, node.depth, css, is_ledger, escape(obj.code), escape(obj.name), tags,
                       ledger_id, show_url, toggle, rows, bool(is_open), self.cells(b, currency, node, self.found.get("transfers", {}).get(node.key)), actions, slot)


_NO_BAR = '<span class="muted">—</span>'


# -- the export --------------------------------------------------------------------------------

@dataclass(slots=True)
class ExportRow:
    level: int
    parent: str
    code: str
    name: str
    kind: str
    fund_type: str
    library: str
    status: str
    currency: str
    allocated: Decimal
    transfers: Decimal
    encumbered: Decimal
    expended: Decimal
    available: Decimal
    spent_pct: Decimal | None
    expended_pct: Decimal | None


def export_columns(chosen) -> tuple[Column, ...]:
    """The export's columns for the chosen ones: the tree column as level, parent, code and name."""
    return EXPORT_TREE + tuple(c for c in chosen if c.key not in PAGE_ONLY)


def export_rows(roots: list[Node], period, columns) -> list[ExportRow]:
    """Every ledger and fund of the tree (all of it, open or not), parents before their children."""
    found = _lookups(columns, period, roots)
    out: list[ExportRow] = []

    def add(node: Node, parent: str):
        b, currency = node.balance, node.obj.currency
        out.append(ExportRow(
            node.depth, parent, node.obj.code, node.obj.name,
            *(_text_value(k, node, currency, found) for k in ("kind", "fund_type", "library", "status")),
            currency, b.allocated, found.get("transfers", {}).get(node.key, Decimal(0)), b.encumbered,
            b.expended, b.available, spent_percent(b), expended_percent(b)))
        for child in node.children:
            add(child, node.obj.code)
    for root in roots:
        add(root, "")
    return out
