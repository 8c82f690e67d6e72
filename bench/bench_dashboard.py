"""Server time of the fund dashboard on the bench database, against the raw SQL aggregate.

    python -m bench.bench_dashboard [--runs 30] [--warmup 3] [--db bench/data/bench.db]
                                    [--profile] [--no-breakdown]

Measures (medians over ``--runs`` requests, after ``--warmup`` unmeasured ones):

(a) ``GET /funds/?period=BENCH2026``             the dashboard as first opened (ledger rows only)
(b) ``GET /funds/?period=BENCH2026&expand=all``  every fund row rendered
(c) the raw aggregate: one ``SELECT fund_id, SUM(CASE ...) ... FROM fund_transaction GROUP BY
    fund_id`` over all transactions, executed and fetched through the app's engine
(d) (a) and (b) for ``bench-manager``, a fund manager of one library, with the aggregate
    restricted to the funds that manager can see

"Server time" is the wall time of one Flask test-client request: routing, login/session loading,
the queries, the tree roll-up and template rendering (no network, no browser).
Targets from the issue: (b) median <= 150 ms, and (b) / (c) <= 3.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import statistics
import time
from contextlib import contextmanager
from pathlib import Path

from bench.generate import ADMIN, DEFAULT_OUT, MANAGER, MANAGER_LIBRARY, PASSWORD, PERIOD_CODE, bench_config, ensure

TARGET_MS, TARGET_RATIO = 150.0, 3.0

AGGREGATE_SQL = """
SELECT fund_id,
       SUM(CASE WHEN kind IN ('allocation', 'transfer') THEN amount ELSE 0 END) AS allocated,
       SUM(CASE WHEN kind = 'encumbrance' THEN amount
                WHEN kind = 'disencumbrance' THEN -amount ELSE 0 END) AS encumbered,
       SUM(CASE WHEN kind = 'expenditure' THEN amount ELSE 0 END) AS expended
FROM fund_transaction
{where}
GROUP BY fund_id
"""
# The funds a library-scoped user sees (app.funds.scope.visible_funds_clause, written out).
SCOPED_WHERE = """
WHERE fund_id IN (
    SELECT id FROM fund
    WHERE owner_library_id = :lib
       OR (owner_library_id IS NULL AND (available_to_all
           OR id IN (SELECT fund_id FROM fund_availability WHERE library_id = :lib))))
"""


def median_ms(fn, runs: int, warmup: int) -> tuple[float, list[float]]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), times


def spread(times: list[float]) -> str:
    q = statistics.quantiles(times, n=10, method="inclusive")
    return f"min {min(times):.1f} / p10 {q[0]:.1f} / p90 {q[-1]:.1f} / max {max(times):.1f}"


def login(app, username: str):
    client = app.test_client()
    resp = client.post("/login", data={"username": username, "password": PASSWORD})
    assert resp.status_code == 302, f"login as {username} answered {resp.status_code}"
    return client


def getter(client, url: str, expect_rows: tuple[int, int] | None = None):
    """A function that GETs ``url`` and checks the answer."""
    def get():
        resp = client.get(url)
        assert resp.status_code == 200, f"{url} answered {resp.status_code}"
        return resp
    resp = get()
    body = resp.get_data(as_text=True)
    ledgers, funds = len(re.findall(r'id="row-L\d+"', body)), len(re.findall(r'id="row-F\d+"', body))
    if expect_rows is not None:
        assert (ledgers, funds) == expect_rows, f"{url}: {ledgers} ledger / {funds} fund rows, expected {expect_rows}"
    get.info = f"{ledgers} ledger + {funds} fund rows, {len(resp.data) / 1024:.0f} KiB"
    return get


def aggregate(app, where: str = "", **params):
    from sqlalchemy import text
    from app.extensions import db
    sql = text(AGGREGATE_SQL.format(where=where))

    def run():
        with app.app_context():
            with db.engine.connect() as conn:
                return conn.execute(sql, params).all()
    return run


@contextmanager
def breakdown_probe(app):
    """Time the dashboard's parts: SQL statements, build_tree(), render() (templates)."""
    from sqlalchemy import event
    from app.extensions import db
    import app.funds.views as views
    stats = {"sql_n": 0, "sql_ms": 0.0, "tree_ms": 0.0, "render_ms": 0.0}
    with app.app_context():
        engine = db.engine

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("bench_t", []).append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        stats["sql_n"] += 1
        stats["sql_ms"] += (time.perf_counter() - conn.info["bench_t"].pop()) * 1000

    orig_tree, orig_render = views.build_tree, views.render

    def timed(fn, key):
        def wrapper(*a, **kw):
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                stats[key] += (time.perf_counter() - t) * 1000
        return wrapper

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    views.build_tree, views.render = timed(orig_tree, "tree_ms"), timed(orig_render, "render_ms")
    try:
        yield stats
    finally:
        views.build_tree, views.render = orig_tree, orig_render
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def breakdown(app, get, runs: int = 10) -> str:
    with breakdown_probe(app) as stats:
        t = time.perf_counter()
        for _ in range(runs):
            get()
        total = (time.perf_counter() - t) * 1000 / runs
    s = {k: v / runs for k, v in stats.items()}
    # SQL run while rendering (lazy loads) is counted in both sql and render; the tree's own SQL in both too.
    return (f"per request {total:.1f} ms: build_tree {s['tree_ms']:.1f} ms, render (templates) {s['render_ms']:.1f} ms, "
            f"other (routing, session, user) {total - s['tree_ms'] - s['render_ms']:.1f} ms; "
            f"SQL: {s['sql_n']:.0f} statements, {s['sql_ms']:.1f} ms (included in the above)")


def profile(get, runs: int = 5, top: int = 30) -> str:
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(runs):
        get()
    prof.disable()
    out = io.StringIO()
    st = pstats.Stats(prof, stream=out)
    st.strip_dirs()
    out.write(f"== cProfile of {runs} requests, by own time ==\n")
    st.sort_stats("tottime").print_stats(top)
    out.write("== by cumulative time ==\n")
    st.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--funds", type=int, default=2000, help="size when the database must be generated")
    ap.add_argument("--transactions", type=int, default=500_000, help="size when the database must be generated")
    ap.add_argument("--profile", action="store_true", help="also print a cProfile of the expanded dashboard")
    ap.add_argument("--no-breakdown", action="store_true", help="skip the per-part timing of (b)")
    args = ap.parse_args(argv)
    t_start = time.perf_counter()

    db_path = ensure(args.db, args.funds, args.transactions)
    import logging
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from app import create_app
    from app.extensions import db
    from app.org.models import Library
    app = create_app(bench_config(db_path))
    with app.app_context():
        from app.funds.models import Fund, Ledger
        n_funds, n_ledgers = db.session.query(Fund).count(), db.session.query(Ledger).count()
        lib_id = db.session.query(Library.id).filter_by(code=MANAGER_LIBRARY).scalar()
        db.session.remove()
    runs, warm = args.runs, args.warmup
    base = f"/funds/?period={PERIOD_CODE}"
    results = {}

    def measure(key, label, fn):
        med, times = median_ms(fn, runs, warm)
        results[key] = med
        info = getattr(fn, "info", "")
        print(f"  {label:44} median {med:7.1f} ms   ({spread(times)}){'   ' + info if info else ''}", flush=True)
        return med

    print(f"\nDashboard benchmark: {db_path} — {n_ledgers} ledgers, {n_funds} funds; "
          f"{runs} measured runs after {warm} warm-up runs each; load average {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} CPUs (other processes inflate medians; min is the least disturbed figure)\n",
          flush=True)

    admin = login(app, ADMIN)
    print(f"{ADMIN} (administrator, whole institution)")
    measure("a", "(a) dashboard as first opened", getter(admin, base, (n_ledgers, 0)))
    get_b = getter(admin, base + "&expand=all", (n_ledgers, n_funds))
    measure("b", "(b) dashboard expand=all", get_b)
    measure("c", "(c) raw SQL aggregate (all transactions)", aggregate(app))

    manager = login(app, MANAGER)
    print(f"\n{MANAGER} (fund manager of {MANAGER_LIBRARY})")
    measure("da", "(d.a) dashboard as first opened", getter(manager, base))
    get_db = getter(manager, base + "&expand=all")
    measure("db", "(d.b) dashboard expand=all", get_db)
    measure("dc", "(d.c) raw SQL aggregate (funds in scope)", aggregate(app, SCOPED_WHERE, lib=lib_id))

    a, b, c = results["a"], results["b"], results["c"]
    da, dbb, dc = results["da"], results["db"], results["dc"]
    print("\nSummary")
    print(f"  dashboard(first open) median {a:.1f} ms; raw aggregate median {c:.1f} ms; ratio {a / c:.2f}")
    print(f"  dashboard(expand=all) median {b:.1f} ms; raw aggregate median {c:.1f} ms; ratio {b / c:.2f}")
    print(f"  fund manager: dashboard(first open) median {da:.1f} ms, ratio {da / dc:.2f}; "
          f"dashboard(expand=all) median {dbb:.1f} ms, ratio {dbb / dc:.2f} "
          f"(to the scoped aggregate, median {dc:.1f} ms)")
    ok_ms, ok_ratio = b <= TARGET_MS, b / c <= TARGET_RATIO
    print(f"  target: full dashboard median <= {TARGET_MS:.0f} ms: {'PASS' if ok_ms else 'FAIL'} ({b:.1f} ms); "
          f"ratio to the raw aggregate <= {TARGET_RATIO:.0f}: {'PASS' if ok_ratio else 'FAIL'} ({b / c:.2f})")

    if not args.no_breakdown:
        print("\nWhere (b) spends its time (instrumented runs, not the figures above)")
        print(f"  admin:   {breakdown(app, get_b)}")
        print(f"  manager: {breakdown(app, get_db)}")
    if args.profile:
        print()
        print(profile(get_b))
    print(f"\nTotal bench time {time.perf_counter() - t_start:.1f} s; load average now {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
