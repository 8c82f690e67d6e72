"""Server time of the PO line list with 50,000 lines, filtered by vendor and status (first page).

    python -m bench.bench_pol_list [--lines 50000] [--runs 30] [--warmup 3] [--db bench/data/pol.db] [--force]

Builds (once; reused while the line count and schema match) a SQLite database with 10 libraries,
200 vendors, one fiscal period with a fund per library and ``--lines`` PO lines spread over the
vendors, statuses, libraries and dates (each with one fund distribution row), then measures the
median wall time of one Flask test-client request (routing, session, queries, rendering; no
network, no browser) of:

(a) ``GET /orders/lines/?vendor=<id>&status=sent``  as an institution-wide purchasing operator
(b) the same for a purchasing operator scoped to one library
(c) the same with the HTMX header (only the table fragment)

Target from the issue: (a) median <= 100 ms.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bench import common

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "bench" / "data" / "pol.db"
PASSWORD = common.PASSWORD
TARGET_MS = 100.0
STATUS_WEIGHTS = {"in_review": 4, "deferred": 1, "ready": 1, "auto_packaging": 1, "manual_packaging": 1, "sent": 30,
                  "waiting_for_invoice": 12, "waiting_for_renewal": 2, "waiting_for_manual_renewal": 1,
                  "closed": 40, "cancelled": 7}


def make_app(path: Path):
    return common.make_app(path)


def build(path: Path, lines: int, seed: int = 2026) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from app.auth.models import Role
    from app.auth.services import create_user
    from app.extensions import db
    from app.funds import services as fs
    from app.orders.models import POLine, POLineFund
    from app.vendors import services as vs

    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    app = make_app(tmp)
    rng = random.Random(seed)
    with app.app_context():
        upgrade()
        admin, period, libs = common.bench_institution(10)
        create_user(None, "bench-buyer", PASSWORD, roles=[(Role.PURCHASING_OPERATOR, None)])
        create_user(None, "bench-buyer-lib01", PASSWORD, roles=[(Role.PURCHASING_OPERATOR, libs[0])])
        funds = []
        for lib in libs:
            ledger = fs.create_ledger(admin, lib.code, lib.name, period, "EUR", owner=lib)
            funds.append(fs.create_fund(admin, ledger, f"{lib.code}-BKS", fs.FundFields(name=f"{lib.code} books")))
        vendors = [vs.create_vendor(admin, f"V{n:03d}", vs.VendorFields(name=f"Vendor {n}", currency="EUR"))
                   for n in range(1, 201)]
        db.session.commit()
        statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
        start = datetime(2024, 1, 1)
        rows, shares = [], []
        for n in range(1, lines + 1):
            lib_i = rng.randrange(10)
            price = Decimal(rng.randrange(500, 30000)) / 100
            created = start + timedelta(minutes=n * 30)
            rows.append({
                "id": n, "number": f"POL-{n:06d}", "status": rng.choices(statuses, weights)[0],
                "order_type": "continuous" if rng.random() < 0.2 else "one_time",
                "material_form": "electronic" if rng.random() < 0.25 else "physical", "packaging": "auto",
                "owner_library_id": libs[lib_i].id, "vendor_id": vendors[int(rng.paretovariate(1.2)) % 200].id,
                "title": f"Title {rng.randrange(10**6)} of the bench collection", "author": f"Author {n % 997}",
                "isbn": "", "issn": "", "publisher": "", "publication_date": "", "currency": "EUR",
                "list_price": price, "discount": Decimal(0), "quantity": 1, "net_price": price,
                "distribution_method": "percent", "reporting_code": "", "vendor_reference": f"VR{n}", "note": "",
                "expected_receipt_date": (created + timedelta(days=60)).date(), "renewal_period_months": 12,
                "renewal_reminder_days": 30, "manual_renewal": False, "fully_invoiced": False, "paid": False,
                "cancel_reason": "", "created_at": created, "updated_at": created,
            })
            shares.append({"po_line_id": n, "fund_id": funds[lib_i].id, "percent": Decimal(100), "amount": price})
        for i in range(0, lines, 5000):
            db.session.execute(insert(POLine.__table__), rows[i:i + 5000])
            db.session.execute(insert(POLineFund.__table__), shares[i:i + 5000])
        db.session.commit()
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()
    os.replace(tmp, path)


def ensure(path: Path, lines: int, force: bool) -> None:
    common.ensure_db(path, "po_line", lines, lambda: build(path, lines), "PO lines", force)


def median_ms(fn, runs: int, warmup: int) -> tuple[float, list[float]]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--db", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    ensure(args.db, args.lines, args.force)

    from sqlalchemy import func, select
    from app.extensions import db
    from app.orders.models import POLine

    app = make_app(args.db)
    with app.app_context():
        vendor_id, count = db.session.execute(
            select(POLine.vendor_id, func.count()).where(POLine.status == "sent")
            .group_by(POLine.vendor_id).order_by(func.count().desc()).limit(1)).one()
        total = db.session.scalar(select(func.count()).select_from(POLine))
    url = f"/orders/lines/?vendor={vendor_id}&status=sent"
    print(f"{total} PO lines; the busiest vendor has {count} Sent lines. URL: {url}")
    results = {}
    for label, user, headers in (("(a) institution buyer", "bench-buyer", {}),
                                 ("(b) buyer of LIB01", "bench-buyer-lib01", {}),
                                 ("(c) HTMX fragment", "bench-buyer", {"HX-Request": "true", "HX-Target": "pol-table"})):
        client = app.test_client()
        resp = client.post("/login", data={"username": user, "password": PASSWORD})
        assert resp.status_code == 302, f"login as {user}: {resp.status_code}"

        def get(client=client, headers=headers):
            resp = client.get(url, headers=headers)
            assert resp.status_code == 200, resp.status_code
            return resp
        rows = get().get_data(as_text=True).count('class="code" href="/orders/lines/POL-')
        med, times = median_ms(get, args.runs, args.warmup)
        results[label] = med
        print(f"{label}: median {med:.1f} ms (min {min(times):.1f}, max {max(times):.1f}); "
              f"{rows} rows on the page")
    verdict = "meets" if results["(a) institution buyer"] <= TARGET_MS else "MISSES"
    print(f"target: (a) median <= {TARGET_MS:.0f} ms -> {verdict}")


if __name__ == "__main__":
    main()
