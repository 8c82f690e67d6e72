"""Server time of each report page (``GET /reports/?report=<name>``) on the bench database.

    python -m bench.bench_reports [--runs 15] [--warmup 2] [--db bench/data/bench.db]

Median of ``--runs`` test-client requests after ``--warmup`` unmeasured ones, for ``bench-admin``
(the whole institution: 2,000 funds, 500,000 transactions) and ``bench-manager`` (one library).
Target from issue 17: each report page <= 300 ms. The bench data have no PO lines nor invoices:
the vendor report puts every posting under "No vendor", the invoice reports are empty.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from bench.bench_dashboard import login, median_ms, spread
from bench.generate import ADMIN, DEFAULT_OUT, MANAGER, PERIOD_CODE, bench_config, ensure

TARGET_MS = 300.0
REPORTS = ("months", "vendors", "fund-types", "ages", "invoices", "waiting")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args(argv)
    db_path = ensure(args.db, 2000, 500_000)
    import logging
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from app import create_app
    app = create_app(bench_config(db_path))
    print(f"\nReports benchmark: {db_path}; {args.runs} runs after {args.warmup} warm-up; load average "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs\n", flush=True)
    worst = 0.0
    for user in (ADMIN, MANAGER):
        client = login(app, user)
        print(user)
        for name in REPORTS:
            url = f"/reports/?report={name}&period={PERIOD_CODE}"

            def get(url=url):
                resp = client.get(url)
                assert resp.status_code == 200, f"{url} answered {resp.status_code}"
            med, times = median_ms(get, args.runs, args.warmup)
            worst = max(worst, med)
            print(f"  {name:12} median {med:7.1f} ms   ({spread(times)})", flush=True)
        for fmt in ("csv", "xlsx"):
            t = time.perf_counter()
            resp = client.get(f"/reports/months.{fmt}?period={PERIOD_CODE}")
            assert resp.status_code == 200
            print(f"  months.{fmt:4}  one download {(time.perf_counter() - t) * 1000:.1f} ms, {len(resp.data)} bytes")
    print(f"\nSummary: slowest report page median {worst:.1f} ms; target <= {TARGET_MS:.0f} ms: "
          f"{'PASS' if worst <= TARGET_MS else 'FAIL'}; load average now {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
