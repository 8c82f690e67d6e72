"""What would make the expanded dashboard fast: candidate app changes, measured without editing the app.

    python -m bench.experiments [--runs 15] [--warmup 2]

Each variant is applied to a running app from the outside (a template filter replaced, templates
overridden through a loader placed in front of the app's, an ORM option added to Fund queries) and
cumulates on the previous one. For each, the median server time of
``GET /funds/?period=BENCH2026&expand=all`` as ``bench-admin`` is printed, and the page is
checked to be the same as the baseline's (byte for byte apart from the time-stamped CSRF token, or equal up to
whitespace for template rewrites). The app files are not touched; see README.md for the corresponding source changes.
"""
from __future__ import annotations

import argparse
import re
import time
from decimal import Decimal
from functools import lru_cache

from jinja2 import ChoiceLoader, DictLoader

from bench.bench_dashboard import getter, login, median_ms, spread
from bench.generate import ADMIN, DEFAULT_OUT, MANAGER, PERIOD_CODE, bench_config, ensure

URL = f"/funds/?period={PERIOD_CODE}&expand=all"


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


# -- 3. _row.html computing each URL once (the original builds the allocate/transfer URLs twice)

ROW_ONCE = """{% from "_macros/money.html" import cell, spent_bar %}
{% set obj = node.obj %}
{% set cur = obj.currency %}
{% set is_ledger = node.is_ledger %}{% set key = node.key %}{% set b = node.balance %}
<tr id="row-{{ key }}" class="depth-{{ node.depth }} {{ 'ledger' if is_ledger else obj.kind }}{% if not is_ledger and obj.status != 'active' %} inactive{% endif %}"{% if oob %} hx-swap-oob="true"{% endif %}>
  <th scope="row" class="name">
    {% if node.children %}
      {% set is_open = expand_all or key in open_keys %}
      {% set href = dashboard_url(period, open_keys, expand_all, key) %}
      <a class="toggle" href="{{ href }}" hx-get="{{ href }}" hx-target="#ledger-{{ obj.id if is_ledger else obj.ledger_id }}" hx-swap="outerHTML" hx-push-url="true" aria-expanded="{{ 'true' if is_open else 'false' }}" aria-label="{{ 'Collapse' if is_open else 'Expand' }} {{ obj.code }}">{{ '▾' if is_open else '▸' }}</a>
    {% else %}<span class="toggle-spacer"></span>{% endif %}
    {% if is_ledger %}
      <span class="code">{{ obj.code }}</span> {{ obj.name }} <span class="tag">ledger · {{ obj.owner_label }} · {{ cur }}</span>
    {% else %}
      <a href="{{ url_for('funds.show', fund_id=obj.id) }}"><span class="code">{{ obj.code }}</span> {{ obj.name }}</a>
      {% if obj.kind == 'summary' %}<span class="tag">summary</span>{% endif %}
      {% if obj.status != 'active' %}<span class="tag">inactive</span>{% endif %}
    {% endif %}
  </th>
  {{ cell(b.allocated, cur) }}{{ cell(b.encumbered, cur) }}{{ cell(b.expended, cur) }}{{ cell(b.available, cur, 'available') }}
  <td class="spent">{{ spent_bar(b) }}</td>
  <td class="row-actions">
    {% if not is_ledger and obj.kind == 'allocated' and can_manage_money(current_user, obj.owner_library_id) %}
      {% set u_alloc = url_for('funds.allocate', fund_id=obj.id) %}{% set u_tr = url_for('funds.transfer', fund_id=obj.id) %}
      <a href="{{ u_alloc }}" hx-get="{{ u_alloc }}" hx-target="#row-{{ key }}" hx-swap="afterend">Allocate</a>
      <a href="{{ u_tr }}" hx-get="{{ u_tr }}" hx-target="#row-{{ key }}" hx-swap="afterend">Transfer</a>
    {% elif is_ledger and can_manage_money(current_user, obj.owner_library_id) %}
      <a href="{{ url_for('funds.edit_ledger', ledger_id=obj.id) }}">Edit</a>
      <a href="{{ url_for('funds.edit_fund', period=period.code, ledger=obj.id) }}">Add fund</a>
    {% endif %}
  </td>
</tr>
"""

# -- 4. the row as a macro imported once per ledger, instead of an {% include %} per row -------

ROW_MACRO = ("{% macro row(node, oob=False) %}" +
             ROW_ONCE.replace('{% from "_macros/money.html" import cell, spent_bar %}\n', "") +
             "{% endmacro %}")
LEDGER_ROWS_MACRO = """{# One ledger's rows: a <tbody> swapped as a whole when a node inside it opens or closes. #}
{% from "_macros/money.html" import cell, spent_bar %}{% import "funds/_row_macro.html" as r with context %}
<tbody id="ledger-{{ root.obj.id }}">
{% for node in visible_rows_of(root, open_keys, expand_all) %}
  {{ r.row(node) }}
{% endfor %}
</tbody>
"""
ROW_MACRO_FILE = '{% from "_macros/money.html" import cell, spent_bar %}\n' + ROW_MACRO


_CSRF = re.compile(rb'[\w-]+\.[\w-]+\.[\w-]{20,}')  # signed, time-stamped CSRF token: differs per request


def _normal(body: bytes) -> bytes:
    return _CSRF.sub(b"CSRF", body)


def _collapse(body: bytes) -> str:
    return re.sub(r"\s+", " ", body.decode()).replace("> <", "><").strip()


class Variant:
    def __init__(self, name, filters=None, templates=None, no_fund_libraries=False):
        self.name, self.filters, self.templates = name, filters or {}, templates or {}
        self.no_fund_libraries = no_fund_libraries


def apply(app, base_loader, base_filters, variant: Variant, listeners: list):
    from sqlalchemy import event
    from sqlalchemy.orm import Session, lazyload
    from app.funds.models import Fund
    env = app.jinja_env
    env.filters.update(base_filters)
    env.filters.update(variant.filters)
    env.loader = ChoiceLoader([DictLoader(variant.templates), base_loader]) if variant.templates else base_loader
    env.cache.clear()
    for target, name, fn in listeners:
        event.remove(target, name, fn)
    listeners.clear()
    if variant.no_fund_libraries:
        def add_option(state):
            if state.is_select and any(d.get("type") is Fund for d in state.statement.column_descriptions):
                state.statement = state.statement.options(lazyload(Fund.libraries))
        event.listen(Session, "do_orm_execute", add_option)
        listeners.append((Session, "do_orm_execute", add_option))


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
    app = create_app(bench_config(db_path))
    base_loader, base_filters = app.jinja_env.loader, dict(app.jinja_env.filters)
    users = {"admin": login(app, ADMIN), "manager": login(app, MANAGER)}

    row_once = {"funds/_row.html": ROW_ONCE}
    row_macro = {"funds/_row_macro.html": ROW_MACRO_FILE, "funds/_ledger_rows.html": LEDGER_ROWS_MACRO}
    fast = {"money": fast_money}
    variants = [
        Variant("0 baseline (app as is)"),
        Variant("1 + money filter without Babel per call", fast),
        Variant("2 + no selectin load of Fund.libraries", fast, no_fund_libraries=True),
        Variant("3 + each URL built once per row", fast, row_once, no_fund_libraries=True),
        Variant("4 + row macro instead of include per row", fast, row_macro, no_fund_libraries=True),
    ]
    listeners: list = []
    baseline: dict[str, bytes] = {}
    print(f"\nExpanded dashboard ({URL}), median of {args.runs} runs after {args.warmup} warm-up runs; "
          "variants cumulate\n")
    for who, client in users.items():
        print(f"{who}:")
        for v in variants:
            apply(app, base_loader, base_filters, v, listeners)
            get = getter(client, URL)
            body = _normal(client.get(URL).data)
            if v.name.startswith("0"):
                baseline[who] = body
                same = "baseline"
            elif body == baseline[who]:
                same = "output identical"
            elif _collapse(body) == _collapse(baseline[who]):
                same = "output equal up to whitespace"
            else:
                same = "OUTPUT DIFFERS"
            med, times = median_ms(get, args.runs, args.warmup)
            print(f"  {v.name:44} median {med:7.1f} ms  ({spread(times)})  {same}", flush=True)
        apply(app, base_loader, base_filters, variants[0], listeners)
    print(f"\nTotal {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
