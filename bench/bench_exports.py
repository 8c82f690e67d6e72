"""Time and peak memory of the list exports: every PO line (50,000) to CSV and XLSX, and 30,000
invoice lines to XLSX.

    python -m bench.bench_exports [--lines 50000] [--db bench/data/pol.db]
                                  [--invoices 14000] [--invoice-db bench/data/invoice-lines.db] [--force]

Uses bench/bench_pol_list.py's database and bench/bench_invoice_list.py's (built once; 14,000
invoices of 1–4 lines make about 30,000 lines). Each export is one Flask test-client request as an
institution-wide user who shows *every* column of the list (the widest file), the body read whole;
the row count is checked. PO lines: peak memory is tracemalloc's peak of Python allocations during a
second, untimed request. Invoice lines: the export runs alone in a fresh process, whose peak
resident memory (``ru_maxrss``: Python, SQLite's cache, openpyxl, everything) is the figure.

Targets from the issue: 50,000 PO lines to CSV <= 5 s; 30,000 invoice lines to XLSX <= 10 s with
peak memory <= 200 MB.
"""
from __future__ import annotations

import argparse
import io
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

from bench import bench_invoice_list as inv
from bench import bench_pol_list as pol
from bench import common

TARGET_CSV_S = 5.0
TARGET_LINES_XLSX_S, TARGET_LINES_MB = 10.0, 200.0


def show_every_column(app, username: str, list_name: str) -> None:
    from app import list_columns
    from app.auth.models import User
    from app.extensions import db
    with app.app_context():
        table = list_columns.TABLES[list_name]
        user = db.session.scalar(db.select(User).filter_by(username=username))
        list_columns.save(user, table, [c.key for c in table.columns.all])
        db.session.commit()



def invoice_lines_child(path: Path) -> None:
    """In this fresh process: export every invoice line to XLSX once; print seconds, rows, MB, peak RSS."""
    from openpyxl import load_workbook
    app = inv.make_app(path)
    show_every_column(app, "bench-invoicer", "invoice_lines")
    client = app.test_client()
    resp = client.post("/login", data={"username": "bench-invoicer", "password": common.PASSWORD})
    assert resp.status_code == 302, resp.status_code
    client.get("/invoices/lines/export.xlsx?q=nothing-matches", buffered=True)
    before_mb = common.peak_rss_mb()
    t = time.perf_counter()
    resp = client.get("/invoices/lines/export.xlsx", buffered=True)
    seconds = time.perf_counter() - t
    assert resp.status_code == 200, resp.status_code
    peak_mb = common.peak_rss_mb()
    size = len(resp.data)
    rows = sum(1 for _ in load_workbook(io.BytesIO(resp.data), read_only=True).active.iter_rows(values_only=True)) - 1
    print(f"{seconds} {rows} {size} {peak_mb} {before_mb}")


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
    parser.add_argument("--invoices", type=int, default=14_000)
    parser.add_argument("--invoice-db", type=Path, default=inv.DEFAULT_OUT.with_name("invoice-lines.db"))
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        invoice_lines_child(args.child.resolve())
        return
    pol.ensure(args.db, args.lines, args.force)

    app = pol.make_app(args.db)
    show_every_column(app, "bench-buyer", "po_lines")
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

    inv.ensure(args.invoice_db, args.invoices, args.force)
    out = subprocess.run([sys.executable, "-m", "bench.bench_exports", "--child", str(args.invoice_db.resolve())],
                         check=True, capture_output=True, text=True).stdout.split()
    seconds, rows, size, peak_mb, before_mb = float(out[0]), int(out[1]), int(out[2]), float(out[3]), float(out[4])
    verdict = "meets" if seconds <= TARGET_LINES_XLSX_S and peak_mb <= TARGET_LINES_MB else "MISSES"
    print(f"XLSX: {rows} invoice lines (every column) in {seconds:.2f} s, {size / 1e6:.1f} MB, peak resident memory "
          f"of the process {peak_mb:.0f} MB ({before_mb:.0f} MB before the export) (target <= {TARGET_LINES_XLSX_S:.0f} s and <= {TARGET_LINES_MB:.0f} MB: "
          f"{verdict})")


if __name__ == "__main__":
    main()
