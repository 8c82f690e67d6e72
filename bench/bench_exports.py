"""Time and peak memory of the list exports: every PO line (50,000) to CSV, and to XLSX.

    python -m bench.bench_exports [--lines 50000] [--db bench/data/pol.db] [--force]

Uses bench/bench_pol_list.py's database (built once). Each export is one Flask test-client request
(``GET /orders/lines/export.csv`` / ``.xlsx`` as an institution-wide purchasing operator), the body
read whole; peak memory is tracemalloc's peak of Python allocations during a second, untimed request (the
SQLite page cache and openpyxl's temporary file on disk are not counted). The row count is checked.

Target from the issue: 50,000 PO lines to CSV <= 5 s.
"""
from __future__ import annotations

import argparse
import io
import time
import tracemalloc
from pathlib import Path

from bench import bench_pol_list as pol
from bench import common

TARGET_CSV_S = 5.0


def measure(client, url: str):
    """The body, the seconds of one request, and the peak MB of a second one under tracemalloc
    (which slows Python down, so it is not timed)."""
    t = time.perf_counter()
    resp = client.get(url, buffered=True)
    seconds = time.perf_counter() - t
    assert resp.status_code == 200, resp.status_code
    data = resp.data
    del resp
    tracemalloc.start()
    client.get(url, buffered=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return data, seconds, peak / (1024 * 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--db", type=Path, default=pol.DEFAULT_OUT)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    pol.ensure(args.db, args.lines, args.force)

    app = pol.make_app(args.db)
    client = app.test_client()
    resp = client.post("/login", data={"username": "bench-buyer", "password": common.PASSWORD})
    assert resp.status_code == 302, resp.status_code
    client.get("/orders/lines/export.csv?q=nothing-matches")    # warm up: imports, templates, connection

    data, seconds, peak = measure(client, "/orders/lines/export.csv")
    rows = data.count(b"\n") - 1
    assert rows == args.lines, f"{rows} rows in the CSV, {args.lines} lines in the database"
    verdict = "meets" if seconds <= TARGET_CSV_S else "MISSES"
    print(f"CSV : {rows} PO lines in {seconds:.2f} s, {len(data) / 1e6:.1f} MB, peak Python memory {peak:.0f} MB "
          f"(target <= {TARGET_CSV_S:.0f} s: {verdict})")

    from openpyxl import load_workbook
    data, seconds, peak = measure(client, "/orders/lines/export.xlsx")
    # A write-only sheet records no dimensions, so max_row is unknown: count the rows.
    rows = sum(1 for _ in load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True)) - 1
    assert rows == args.lines, f"{rows} rows in the workbook, {args.lines} lines in the database"
    print(f"XLSX: {rows} PO lines in {seconds:.2f} s, {len(data) / 1e6:.1f} MB, peak Python memory {peak:.0f} MB")


if __name__ == "__main__":
    main()
