"""Preview (and load) a 5,000-line Excel invoice file.

    python -m bench.bench_excel_preview [--lines 5000] [--per-invoice 10] [--runs 3] [--load]

Builds a throwaway SQLite database (the test world: libraries LIBA/LIBB, funds A-BKS, B-BKS,
SHARED, generously allocated; the default review rules; 1,000 PO lines of library A from vendor
BENCHV), then an .xlsx of ``--lines`` rows: invoices of ``--per-invoice`` lines each, a third of
the lines linked to a PO line, the others split over one or two funds, one invoice in fifty with
a problem (an unknown fund). One run is :func:`app.invoices.file_loading.check_file` on the file's
bytes, as the invoice operator: read, bulk look-ups, every invoice tried in a rolled-back savepoint.

Prints seconds per run, the tracemalloc peak of the Python heap and the process's peak RSS growth
during the run (VmHWM, reset before each run through /proc/self/clear_refs). Target from the issue:
≤ 10 s and ≤ 200 MB peak memory.
"""
from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
import tracemalloc
from datetime import date
from decimal import Decimal
from pathlib import Path


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def build(app, pol_count: int):
    from flask_migrate import upgrade

    from app.extensions import db
    from app.funds import services as fs
    from app.invoices import rules
    from app.orders import services as orders
    from app.setup import ensure_institution
    from app.vendors import services as vendors
    from testkit.world import build_world

    upgrade()
    ensure_institution()
    world = build_world()
    admin = world.user("admin")
    for fund in (world.fund_a, world.fund_b, world.shared):
        fs.allocate(admin, fund, Decimal("100000000.00"))
    rules.ensure_default_rules()
    vendor = vendors.create_vendor(admin, "BENCHV", vendors.VendorFields(name="Bench books", currency="EUR"))
    buyer = world.user("buyer")
    pols = []
    for n in range(pol_count):
        pols.append(orders.create_po_line(buyer, orders.POLineFields(
            vendor=vendor, title=f"Book {n}", currency="EUR", list_price=f"{10 + n % 90}.00", quantity=1,
            owner_library=world.lib_a, inventory_library=world.lib_a, distribution_method="percent",
            distribution=[orders.Share(world.fund_a, "100")])).number)
        if n % 200 == 199:
            db.session.commit()
    db.session.commit()
    return world, vendor.id, pols


def workbook(lines: int, per_invoice: int, pols: list[str]) -> bytes:
    from openpyxl import Workbook
    from app.invoices.file_loading import COLUMNS
    keys = ["number", "invoice_date", "total_amount", "owner_library", "po_line", "quantity", "unit_price", "funds",
            "reporting_code"]
    label = {c.key: c.label for c in COLUMNS}
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Invoices")
    ws.append([label[k] for k in keys])
    n = 0
    invoice = 0
    while n < lines:
        invoice += 1
        count = min(per_invoice, lines - n)
        prices = [Decimal(10 + (n + i) % 90) + Decimal((n + i) % 100) / 100 for i in range(count)]
        total = sum(prices)
        for i, price in enumerate(prices):
            k = n + i
            pol = pols[k % len(pols)] if k % 3 == 0 else None
            funds = "A-BKS" if k % 2 else "A-BKS 70; SHARED 30"
            if invoice % 50 == 0 and i == 0:
                funds = "NOSUCHFUND"
            ws.append([f"BENCH-{invoice:05d}", date(2026, 3, 1 + invoice % 28), float(total) if i == 0 else None,
                       "LIBA" if i == 0 else None, pol, 1, float(price), funds, f"RC{k % 7}"])
        n += count
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--per-invoice", type=int, default=10)
    parser.add_argument("--pols", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--load", action="store_true", help="also time loading the file (once)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one preview (by cumulative time)")
    parser.add_argument("--sort", default="cumulative", help="profile order: cumulative or tottime")
    parser.add_argument("--no-tracemalloc", action="store_true",
                        help="no tracemalloc run (by default the last run is traced, and slower for it)")
    args = parser.parse_args()

    from app import create_app
    from app.extensions import db
    from app.invoices import file_loading as fl
    from app.invoices.models import Invoice
    from app.vendors.models import Vendor

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db", "WTF_CSRF_ENABLED": False,
                          "SECRET_KEY": "bench", "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 8,
                                                                          "parallelism": 1}})
        with app.app_context():
            started = time.perf_counter()
            world, vendor_id, pols = build(app, args.pols)
            data = workbook(args.lines, args.per_invoice, pols)
            print(f"built: {args.pols} PO lines, file of {args.lines} lines "
                  f"({-(-args.lines // args.per_invoice)} invoices), {len(data) / 1024:.0f} KB, "
                  f"in {time.perf_counter() - started:.1f} s")
            operator = world.user("invoicer")
            vendor = db.session.get(Vendor, vendor_id)
            times, cpus, heap_peaks, rss_growths = [], [], [], []
            for run in range(args.runs):
                base = _rss_kb("VmRSS")
                can_reset = _reset_peak_rss()
                traced = not args.no_tracemalloc and run == args.runs - 1
                if traced:   # the last run only: tracemalloc slows Python down
                    tracemalloc.start()
                t0, cpu0 = time.perf_counter(), time.process_time()
                check = fl.check_file(operator, vendor, data, "bench.xlsx")
                elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
                _, heap_peak = tracemalloc.get_traced_memory() if tracemalloc.is_tracing() else (0, 0)
                tracemalloc.stop()
                peak_rss = _rss_kb("VmHWM")
                db.session.rollback()
                if not traced or args.runs == 1:
                    times.append(elapsed)
                heap_peaks.append(heap_peak / 1024 / 1024)
                rss_growths.append((peak_rss - base) / 1024 if can_reset else float("nan"))
                if not traced or args.runs == 1:
                    cpus.append(cpu)
                print(f"run {run + 1}{' (traced)' if traced else ''}: {elapsed:.2f} s ({cpu:.2f} s CPU), "
                      f"tracemalloc peak {heap_peaks[-1]:.1f} MB, peak RSS "
                      f"{peak_rss / 1024:.0f} MB (+{rss_growths[-1]:.0f} MB over the {base / 1024:.0f} MB before), "
                      f"{len(check.valid)} valid / {len(check.invalid)} with problems, "
                      f"{db.session.scalar(db.select(db.func.count()).select_from(Invoice))} invoices in the DB")
            print(f"preview of {args.lines} lines: median {statistics.median(times):.2f} s, "
                  f"{statistics.median(cpus):.2f} s CPU (target ≤ 10 s); "
                  f"max tracemalloc peak {max(heap_peaks):.1f} MB, max RSS growth {max(rss_growths):.0f} MB, "
                  f"peak RSS of the process {_rss_kb('VmHWM') / 1024:.0f} MB (target ≤ 200 MB)")
            if args.profile:
                import cProfile
                import pstats
                profiler = cProfile.Profile()
                profiler.enable()
                fl.check_file(operator, vendor, data, "bench.xlsx")
                profiler.disable()
                db.session.rollback()
                pstats.Stats(profiler).sort_stats(args.sort).print_stats(40)
            if args.load:
                t0 = time.perf_counter()
                check = fl.load_file(operator, vendor, data, "bench.xlsx")
                db.session.commit()
                print(f"load: {time.perf_counter() - t0:.2f} s, {len(check.valid)} invoices created, "
                      f"{len(check.invalid)} skipped")


if __name__ == "__main__":
    main()
