"""What would make the expanded dashboard fast: candidate app changes, measured without editing the app.

    python -m bench.experiments [--runs 15] [--warmup 2]

Each variant is applied from the outside to its own app instance (a template filter replaced,
templates overridden through a loader placed in front of the app's, an ORM option added to Fund
queries, ``build_tree`` swapped for a bench version) and cumulates on the previous one. The
variants are measured interleaved (round-robin), so load from other processes hits them alike.
For each, the median and min server time of ``GET /funds/?period=BENCH2026&expand=all`` and of
``GET /funds/?period=BENCH2026`` as ``bench-admin`` and ``bench-manager`` are printed, and the
page is checked to be the same as the baseline's (byte for byte apart from the time-stamped CSRF
token, or equal up to whitespace for template rewrites). The app files are not touched; see
README.md for the corresponding source changes.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from decimal import Decimal
from functools import lru_cache

from jinja2 import ChoiceLoader, DictLoader

from bench.bench_dashboard import getter, login, spread
from bench.generate import ADMIN, DEFAULT_OUT, MANAGER, PERIOD_CODE, bench_config, ensure

URL = f"/funds/?period={PERIOD_CODE}&expand=all"
URL_FIRST = f"/funds/?period={PERIOD_CODE}"


# -- 1. money filter: same output as Babel's "#,##0.00" in locale "en", without Babel per call --

@lru_cache(maxsize=None)
def _money_spec(currency: str) -> str:
    from app.ledger import minor_unit
    return f",.{minor_unit(currency)}f"


def fast_money(amount, currency: str = "EUR") -> str:
    from app.ledger import quantize
    if amount is None:
        return ""
    return format(quantize(Decimal(amount), currency), _money_spec(currency))


# -- 3 and 4: rewrites of the app's own current templates (so they follow edits to them) ---------

_URL_EXPR = re.compile(r"\{\{ (url_for\([^{}]*?\)) \}\}")
_ROW_INCLUDE = '{% include "funds/_row.html" %}'


def hoist_urls(row_src: str) -> tuple[str, int]:
    """Variant 3: a ``url_for(...)`` written twice on one line (href and hx-get) is computed once,
    in a ``{% set %}`` at the start of that line. Returns the template and how many were hoisted."""
    out, n = [], 0
    for line in row_src.split("\n"):
        exprs = _URL_EXPR.findall(line)
        sets = []
        for expr in dict.fromkeys(exprs):
            if exprs.count(expr) > 1:
                n += 1
                line = line.replace("{{ " + expr + " }}", "{{ _u%d }}" % n)
                sets.append("{%% set _u%d = %s %%}" % (n, expr))
        if sets:
            indent = len(line) - len(line.lstrip())
            line = line[:indent] + "".join(sets) + line[indent:]
        out.append(line)
    return "\n".join(out), n


def as_macro(row_src: str, ledger_rows_src: str) -> dict[str, str] | None:
    """Variant 4: _row.html as a macro imported once per ledger, called per row (no include per row)."""
    if _ROW_INCLUDE not in ledger_rows_src:
        return None
    lines = row_src.split("\n")
    imports = [line for line in lines if line.startswith(("{% from ", "{% import "))]
    body = "\n".join(line for line in lines if line not in imports)
    macro_file = "\n".join(imports) + "\n{% macro row(node, oob=False) %}" + body + "{% endmacro %}\n"
    ledger_rows = ('{% import "funds/_row_macro.html" as _r with context %}'
                   + ledger_rows_src.replace(_ROW_INCLUDE, "{{ _r.row(node) }}"))
    return {"funds/_row_macro.html": macro_file, "funds/_ledger_rows.html": ledger_rows}


# -- 5. per-row values computed in Python once, a lean row macro (no macro calls inside a row) --

class RowView:
    """What one dashboard row shows, computed in Python (what the app could build next to Node)."""
    __slots__ = ("key", "row_class", "toggle_href", "is_open", "ledger_id", "is_ledger", "inactive",
                 "show_url", "alloc_url", "transfer_url", "edit_url", "add_fund_url", "cells", "bar")


class Bar:
    __slots__ = ("over", "pct", "w_exp", "w_enc")


def _spent_bar(b) -> Bar | None:
    # the arithmetic of the spent_bar macro in _macros/money.html, operation for operation
    alloc = b.allocated if b.allocated > 0 else 0
    total = max(alloc, b.encumbered + b.expended)
    if not total > 0:
        return None
    bar = Bar()
    bar.w_exp = round(b.expended / total * 100, 1) if b.expended > 0 else 0
    bar.w_enc = round(b.encumbered / total * 100, 1) if b.encumbered > 0 else 0
    bar.over = b.available < 0
    bar.pct = int(round(b.spent_fraction() * 100, 0))
    return bar


def _fund_urls(fund_id: int):
    """(show, allocate, transfer) URLs of a fund; variant 7 builds them from per-request prefixes."""
    from flask import current_app, g, url_for
    v = current_app.config.get("BENCH_VARIANT")
    if v is None or not v.url_prefixes:
        return (url_for("funds.show", fund_id=fund_id), url_for("funds.allocate", fund_id=fund_id),
                url_for("funds.transfer", fund_id=fund_id))
    p = g.get("bench_url_parts")
    if p is None:  # "/funds/0", "/funds/0/allocate", ... split around the id, checked once per request
        marker = 9876543210
        p = g.bench_url_parts = [url_for(ep, fund_id=marker).split(str(marker))
                                 for ep in ("funds.show", "funds.allocate", "funds.transfer")]
        assert all(len(parts) == 2 for parts in p)
    i = str(fund_id)
    return p[0][0] + i + p[0][1], p[1][0] + i + p[1][1], p[2][0] + i + p[2][1]


def row_view(node, cur, period, open_keys, expand_all) -> RowView:
    from flask import g, url_for
    from flask_login import current_user
    from app.auth.permissions import can_manage_money
    from app.funds.views import dashboard_url
    obj, v = node.obj, RowView()
    v.is_ledger = is_ledger = node.is_ledger
    v.key = key = node.key
    v.inactive = not is_ledger and obj.status != "active"
    v.row_class = ("ledger" if is_ledger else obj.kind) + (" inactive" if v.inactive else "")
    v.ledger_id = obj.id if is_ledger else obj.ledger_id
    if node.children:
        v.is_open = expand_all or key in open_keys
        v.toggle_href = dashboard_url(period, open_keys, expand_all, key)
    else:
        v.is_open, v.toggle_href = False, None
    memo = g.setdefault("bench_can_manage", {})
    owner = obj.owner_library_id
    if owner not in memo:
        memo[owner] = can_manage_money(current_user, owner)
    can = memo[owner]
    v.show_url = v.alloc_url = v.transfer_url = v.edit_url = v.add_fund_url = None
    if is_ledger:
        if can:
            v.edit_url = url_for("funds.edit_ledger", ledger_id=obj.id)
            v.add_fund_url = url_for("funds.edit_fund", period=period.code, ledger=obj.id)
    else:
        show, alloc, transfer = _fund_urls(obj.id)
        v.show_url = show
        if obj.kind == "allocated" and can:
            v.alloc_url, v.transfer_url = alloc, transfer
    b = node.balance
    spec = _money_spec(cur)
    v.cells = [("num " + cls + (" negative" if amount < 0 else ""), format(amount, spec))
               for cls, amount in (("", b.allocated), ("", b.encumbered), ("", b.expended),
                                   ("available", b.available))]
    v.bar = _spent_bar(b)
    return v


ROW_LEAN = """{% macro row(node, cur, oob=False, slot=False) %}{% set v = row_view(node, cur, period, open_keys, expand_all) %}{% set obj = node.obj %}
<tr id="row-{{ v.key }}" class="depth-{{ node.depth }} {{ v.row_class }}{% if oob %} updated{% endif %}"{% if oob %} hx-swap-oob="true"{% endif %}>
  <th scope="row" class="name">
    {% if v.toggle_href %}
      <a class="toggle" href="{{ v.toggle_href }}" hx-get="{{ v.toggle_href }}" hx-target="#ledger-{{ v.ledger_id }}" hx-swap="outerHTML" hx-push-url="true" aria-expanded="{{ 'true' if v.is_open else 'false' }}" aria-label="{{ 'Collapse' if v.is_open else 'Expand' }} {{ obj.code }}">{{ '\u25be' if v.is_open else '\u25b8' }}</a>
    {% else %}<span class="toggle-spacer"></span>{% endif %}
    {% if v.is_ledger %}
      <span class="code">{{ obj.code }}</span> {{ obj.name }} <span class="tag">ledger \u00b7 {{ obj.owner_label }} \u00b7 {{ cur }}</span>
    {% else %}
      <a href="{{ v.show_url }}"><span class="code">{{ obj.code }}</span> {{ obj.name }}</a>
      {% if obj.kind == 'summary' %}<span class="tag">summary</span>{% endif %}
      {% if v.inactive %}<span class="tag">inactive</span>{% endif %}
    {% endif %}
  </th>
  {% for cls, text in v.cells %}<td class="{{ cls }}">{{ text }}</td>{% endfor %}
  <td class="spent">{% set bar = v.bar %}{% if bar %}
<svg class="bar{% if bar.over %} over{% endif %}" viewBox="0 0 100 10" preserveAspectRatio="none" role="img"
     aria-label="{{ bar.pct }}% spent or committed{% if bar.over %}, over the allocation{% endif %}">
  <rect class="bar-bg" x="0" y="0" width="100" height="10"></rect>
  <rect class="bar-exp" x="0" y="0" width="{{ bar.w_exp }}" height="10"></rect>
  <rect class="bar-enc" x="{{ bar.w_exp }}" y="0" width="{{ bar.w_enc }}" height="10"></rect>
</svg>
{% else %}<span class="muted">\u2014</span>{% endif %}</td>
  <td class="row-actions">
    {% if v.alloc_url %}
      <a href="{{ v.alloc_url }}" hx-get="{{ v.alloc_url }}" hx-target="#move-F{{ obj.id }}" hx-swap="outerHTML">Allocate</a>
      <a href="{{ v.transfer_url }}" hx-get="{{ v.transfer_url }}" hx-target="#move-F{{ obj.id }}" hx-swap="outerHTML">Transfer</a>
    {% elif v.edit_url %}
      <a href="{{ v.edit_url }}">Edit</a>
      <a href="{{ v.add_fund_url }}">Add fund</a>
    {% endif %}
  </td>
</tr>
{% if slot and v.alloc_url %}<tr id="move-F{{ obj.id }}" class="move-slot" hidden></tr>{% endif %}
{% endmacro %}"""
LEDGER_ROWS_LEAN = """{# One ledger's rows: a <tbody> swapped as a whole when a node inside it opens or closes. #}
{% import "funds/_row_lean.html" as r with context %}{% set cur = root.obj.currency %}
<tbody id="ledger-{{ root.obj.id }}">
{% for node in visible_rows_of(root, open_keys, expand_all) %}
  {{ r.row(node, cur, slot=True) }}
{% endfor %}
</tbody>
"""


# -- 8. the row's HTML built in Python (one format string per row kind, Markup-escaped) --------

def row_html(node, cur, period, open_keys, expand_all, oob=False, slot=False):
    from markupsafe import Markup, escape
    v, obj = row_view(node, cur, period, open_keys, expand_all), node.obj
    code, name = escape(obj.code), escape(obj.name)
    updated, oob_attr = (" updated", ' hx-swap-oob="true"') if oob else ("", "")
    out = [f'<tr id="row-{v.key}" class="depth-{node.depth} {v.row_class}{updated}"{oob_attr}>'
           '<th scope="row" class="name">']
    if v.toggle_href:
        href = escape(v.toggle_href)
        word, arrow, expanded = ("Collapse", "\u25be", "true") if v.is_open else ("Expand", "\u25b8", "false")
        out.append(f'<a class="toggle" href="{href}" hx-get="{href}" hx-target="#ledger-{v.ledger_id}" '
                   f'hx-swap="outerHTML" hx-push-url="true" aria-expanded="{expanded}" '
                   f'aria-label="{word} {code}">{arrow}</a>')
    else:
        out.append('<span class="toggle-spacer"></span>')
    if v.is_ledger:
        out.append(f' <span class="code">{code}</span> {name} <span class="tag">ledger \u00b7 '
                   f'{escape(obj.owner_label)} \u00b7 {escape(cur)}</span>')
    else:
        out.append(f' <a href="{escape(v.show_url)}"><span class="code">{code}</span> {name}</a>')
        if obj.kind == "summary":
            out.append(' <span class="tag">summary</span>')
        if v.inactive:
            out.append(' <span class="tag">inactive</span>')
    out.append("</th>")
    out.extend(f'<td class="{cls}">{text}</td>' for cls, text in v.cells)
    bar = v.bar
    if bar:
        over, over_label = (" over", ", over the allocation") if bar.over else ("", "")
        out.append(f'<td class="spent"><svg class="bar{over}" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" '
                   f'aria-label="{bar.pct}% spent or committed{over_label}">'
                   '<rect class="bar-bg" x="0" y="0" width="100" height="10"></rect>'
                   f'<rect class="bar-exp" x="0" y="0" width="{bar.w_exp}" height="10"></rect>'
                   f'<rect class="bar-enc" x="{bar.w_exp}" y="0" width="{bar.w_enc}" height="10"></rect></svg></td>')
    else:
        out.append('<td class="spent"><span class="muted">\u2014</span></td>')
    out.append('<td class="row-actions">')
    if v.alloc_url:
        a, t = escape(v.alloc_url), escape(v.transfer_url)
        out.append(f'<a href="{a}" hx-get="{a}" hx-target="#move-F{obj.id}" hx-swap="outerHTML">Allocate</a> '
                   f'<a href="{t}" hx-get="{t}" hx-target="#move-F{obj.id}" hx-swap="outerHTML">Transfer</a>')
    elif v.edit_url:
        out.append(f'<a href="{escape(v.edit_url)}">Edit</a> <a href="{escape(v.add_fund_url)}">Add fund</a>')
    out.append("</td></tr>")
    if slot and v.alloc_url:
        out.append(f'<tr id="move-F{obj.id}" class="move-slot" hidden></tr>')
    return Markup("".join(out))


LEDGER_ROWS_PY = """{# One ledger's rows: a <tbody> swapped as a whole when a node inside it opens or closes. #}
{% set cur = root.obj.currency %}
<tbody id="ledger-{{ root.obj.id }}">
{% for node in visible_rows_of(root, open_keys, expand_all) %}
  {{ row_html(node, cur, period, open_keys, expand_all, slot=True) }}
{% endfor %}
</tbody>
"""


# -- 6. the tree from one column query (no ORM Fund objects, no selectin of Fund.libraries) ------

class FundRow:
    """The columns of a fund the dashboard shows (stands in for the ORM object)."""
    __slots__ = ("id", "code", "name", "kind", "status", "parent_id", "ledger_id", "owner_library_id",
                 "balance")


def build_tree_columns(user, fiscal_period):
    from sqlalchemy import select
    from app.auth.permissions import visible_funds_clause, visible_ledgers_clause
    from app.extensions import db
    from app.funds.models import Fund, Ledger
    from app.funds.tree import Node
    from app.ledger import Balance
    ledgers = db.session.scalars(
        select(Ledger).where(Ledger.fiscal_period_id == fiscal_period.id, visible_ledgers_clause(user))
        .order_by(Ledger.code)).all()
    funds = []
    for row in db.session.execute(
            select(Fund.id, Fund.code, Fund.name, Fund.kind, Fund.status, Fund.parent_id, Fund.ledger_id,
                   Fund.owner_library_id, Fund.allocated, Fund.encumbered, Fund.expended)
            .where(Fund.fiscal_period_id == fiscal_period.id, visible_funds_clause(user)).order_by(Fund.code)):
        f = FundRow()
        f.id, f.code, f.name, f.kind, f.status, f.parent_id, f.ledger_id, f.owner_library_id = row[:8]
        f.balance = Balance(row[8], row[9], row[10]) if f.kind == "allocated" else None
        funds.append(f)
    roots = {ledger.id: Node(ledger, 0) for ledger in ledgers}
    nodes = {f.id: Node(f, 0) for f in funds}
    all_parents = None
    for f in funds:
        parent_id = f.parent_id
        if parent_id is not None and parent_id not in nodes:  # a hidden ancestor: climb past it
            if all_parents is None:
                all_parents = dict(db.session.execute(
                    select(Fund.id, Fund.parent_id).where(Fund.fiscal_period_id == fiscal_period.id)).all())
            while parent_id is not None and parent_id not in nodes:
                parent_id = all_parents.get(parent_id)
        if parent_id is not None:
            nodes[parent_id].children.append(nodes[f.id])
        elif f.ledger_id in roots:
            roots[f.ledger_id].children.append(nodes[f.id])

    zero = Balance()

    def settle(node, depth):
        node.depth = depth
        total = node.obj.balance if isinstance(node.obj, FundRow) and node.obj.balance is not None else zero
        for child in node.children:
            total = total + settle(child, depth + 1)
        node.balance = total
        return total

    result = list(roots.values())
    for root in result:
        settle(root, 0)
    return result


_CSRF = re.compile(rb'[\w-]+\.[\w-]+\.[\w-]{20,}')  # signed, time-stamped CSRF token: differs per request


def _normal(body: bytes) -> bytes:
    return _CSRF.sub(b"CSRF", body)


def _collapse(body: bytes) -> str:
    return re.sub(r"\s+", " ", body.decode()).replace("> <", "><").strip()


class Variant:
    def __init__(self, name, filters=None, templates=None, no_fund_libraries=False, tree=None, url_prefixes=False):
        self.name, self.filters, self.templates = name, filters or {}, templates or {}
        self.no_fund_libraries, self.tree, self.url_prefixes = no_fund_libraries, tree, url_prefixes


def _variant() -> Variant | None:
    from flask import current_app
    return current_app.config.get("BENCH_VARIANT")


def install_hooks():
    """Process-wide hooks that act according to the variant of the app serving the request."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session, lazyload
    import app.funds.tree as tree_module
    import app.funds.views as views
    from app.funds.models import Fund
    original = tree_module.build_tree

    def build_tree(user, fiscal_period):
        v = _variant()
        return (v.tree if v and v.tree else original)(user, fiscal_period)
    views.build_tree = build_tree

    @event.listens_for(Session, "do_orm_execute")
    def _no_fund_libraries(state):
        v = _variant()
        if v and v.no_fund_libraries and state.is_select and any(
                d.get("type") is Fund for d in state.statement.column_descriptions):
            state.statement = state.statement.options(lazyload(Fund.libraries))


def make_app(db_path, variant: Variant):
    """One app per variant (own Jinja environment), so the variants can be measured interleaved."""
    from app import create_app
    app = create_app({**bench_config(db_path), "BENCH_VARIANT": variant})
    env = app.jinja_env
    env.globals["row_view"], env.globals["row_html"] = row_view, row_html
    env.filters.update(variant.filters)
    if variant.templates:
        env.loader = ChoiceLoader([DictLoader(variant.templates), env.loader])
    return app


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default=DEFAULT_OUT)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    db_path = ensure(args.db)
    import logging
    logging.getLogger("alembic").setLevel(logging.WARNING)

    from app import create_app
    probe = create_app(bench_config(db_path))
    env = probe.jinja_env
    row_src = env.loader.get_source(env, "funds/_row.html")[0]
    ledger_rows_src = env.loader.get_source(env, "funds/_ledger_rows.html")[0]
    row_once_src, hoisted = hoist_urls(row_src)
    row_once = {"funds/_row.html": row_once_src}
    row_macro = as_macro(row_once_src, ledger_rows_src)
    fast = {"money": fast_money}
    lean = {"funds/_row_lean.html": ROW_LEAN, "funds/_ledger_rows.html": LEDGER_ROWS_LEAN}
    variants = [
        Variant("0 baseline (app as is)"),
        Variant("1 + money filter without Babel per call", fast),
        Variant("2 + no selectin load of Fund.libraries", fast, no_fund_libraries=True),
        Variant(f"3 + each URL built once per row ({hoisted} hoisted)", fast, row_once, no_fund_libraries=True),
        Variant("4 + row macro instead of include per row", fast, row_macro, no_fund_libraries=True)
        if row_macro else None,
        Variant("5 + row values computed in Python, lean macro", fast, lean, no_fund_libraries=True),
        Variant("6 + tree from a column query (no ORM Fund)", fast, lean, tree=build_tree_columns),
        Variant("7 + fund URLs from per-request prefixes", fast, lean, tree=build_tree_columns, url_prefixes=True),
        Variant("8 + row HTML built in Python, not Jinja", fast, {"funds/_ledger_rows.html": LEDGER_ROWS_PY},
                tree=build_tree_columns, url_prefixes=True),
    ]
    variants = [v for v in variants if v is not None]
    install_hooks()
    print(f"\nload average {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
    print(f"Dashboard: {args.runs} runs after {args.warmup} warm-up runs, the variants "
          "interleaved round-robin (so load from other processes hits them alike); variants cumulate\n")
    apps = [make_app(db_path, v) for v in variants]
    for username, url in ((ADMIN, URL), (ADMIN, URL_FIRST), (MANAGER, URL), (MANAGER, URL_FIRST)):
        gets, checks, baseline = [], [], None
        for app in apps:
            client = login(app, username)
            gets.append(getter(client, url))
            body = _normal(client.get(url).data)
            if baseline is None:
                baseline, same = body, "baseline"
            elif body == baseline:
                same = "output identical"
            elif _collapse(body) == _collapse(baseline):
                same = "output equal up to whitespace"
            else:
                same = "OUTPUT DIFFERS (the app's templates changed since this variant was written?)"
            checks.append(same)
        times = [[] for _ in variants]
        for i in range(args.warmup + args.runs):
            for k, get in enumerate(gets):
                t = time.perf_counter()
                get()
                if i >= args.warmup:
                    times[k].append((time.perf_counter() - t) * 1000)
        print(f"{username} {url}:")
        for v, ts, same in zip(variants, times, checks):
            print(f"  {v.name:47} median {statistics.median(ts):7.1f} ms  ({spread(ts)})  {same}", flush=True)
    print(f"\nload average {os.getloadavg()[0]:.2f}; total {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
