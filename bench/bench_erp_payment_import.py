"""Time and memory of the ERP job *Import payment confirmation* on one file of 10,000 records.

    python -m bench.bench_erp_payment_import [--records 10000] [--rejected 2] [--runs 1] [--db ...] [--force]

Builds (once; reused while the record count and schema match) a SQLite database with one library,
a fiscal period and fund, 50 vendors and ``--records`` invoices Waiting for Payment (bulk inserted,
one line each, each with its 16-digit ERP identifier). Then, on a fresh copy of the database per
run, writes one confirmation file (default namespace; 80% matched by unique identifier, 20% by
invoice number + vendor code; ``--rejected`` percent REJECTED, the rest PAID) into a local-folder
connection, runs the job, and prints the seconds (wall and CPU), the growth of the process's
maximum resident set and, with ``--tracemalloc``, the peak of Python allocations of a further run.
Targets: <= 10 s and <= 300 MB. Checks that every invoice left Waiting for Payment as the file said.
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bench import common

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "bench" / "data" / "erp_payments.db"
PASSWORD = common.PASSWORD
NS = "http://com/exlibris/repository/acq/xmlbeans"


def make_app(path: Path):
    return common.make_app(path, ERP_IMPORT_MIN_AGE_SECONDS=0)   # the file is written just before the run


def build(path: Path, records: int, seed: int = 2026) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from app.extensions import db
    from app.funds import services as funds
    from app.invoices.models import Invoice, InvoiceLine
    from app.vendors import services as vs

    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    app = make_app(tmp)
    rng = random.Random(seed)
    with app.app_context():
        upgrade()
        admin, period, [lib] = common.bench_institution(1)
        ledger = funds.create_ledger(admin, lib.code, lib.name, period, "EUR", owner=lib)
        funds.create_fund(admin, ledger, "LIB01-BKS", funds.FundFields(name="Books"))
        vendors = [vs.create_vendor(admin, f"V{n:03d}", vs.VendorFields(name=f"Vendor {n}", currency="EUR"))
                   for n in range(1, 51)]
        db.session.commit()
        invoices, lines, uids = [], [], set()
        start = datetime(2026, 2, 1)
        for n in range(1, records + 1):
            uid = str(rng.randrange(10**15, 10**16))
            while uid in uids:
                uid = str(rng.randrange(10**15, 10**16))
            uids.add(uid)
            total = Decimal(rng.randrange(500, 30000)) / 100
            at = start + timedelta(minutes=n)
            invoices.append({"id": n, "number": f"INV-{n:06d}", "vendor_id": vendors[n % 50].id,
                             "invoice_date": at.date(), "currency": "EUR", "total_amount": total,
                             "owner_library_id": lib.id, "status": "waiting_for_payment", "erp_identifier": uid,
                             "created_at": at, "created_by_id": admin.id, "approved_at": at,
                             "approved_by_id": admin.id, "exported_at": at + timedelta(days=1),
                             "review_problems": []})
            lines.append({"invoice_id": n, "position": 1, "unit_price": total, "total": total})
        for i in range(0, records, 5000):
            db.session.execute(insert(Invoice.__table__), invoices[i:i + 5000])
            db.session.execute(insert(InvoiceLine.__table__), lines[i:i + 5000])
        db.session.commit()
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()
    os.replace(tmp, path)


def ensure(path: Path, records: int, force: bool) -> None:
    common.ensure_db(path, "invoice", records, lambda: build(path, records), "invoices Waiting for Payment", force)


def confirmation(rows, rejected_percent: float, seed: int = 7) -> tuple[bytes, int]:
    """The file for ``rows`` (number, vendor code, uid, total); returns (bytes, REJECTED count)."""
    rng = random.Random(seed)
    out = ['<?xml version="1.0" encoding="UTF-8"?>', f'<payment_confirmation_data xmlns="{NS}">', "<invoice_list>"]
    rejected = 0
    for n, (number, vendor, uid, total) in enumerate(rows):
        by_uid = rng.random() < 0.8
        key = (f"<unique_identifier>{uid}</unique_identifier>" if by_uid else
               f"<invoice_number>{number}</invoice_number><vendor_code>{vendor}</vendor_code>"
               "<unique_identifier/>")
        if rng.random() * 100 < rejected_percent:
            rejected += 1
            out.append(f"<invoice>{key}<payment_status>REJECTED</payment_status>"
                       f"<payment_note>Account closed ({n})</payment_note></invoice>")
        else:
            out.append(f"<invoice>{key}<invoice_date>20260201</invoice_date><payment_status>PAID</payment_status>"
                       f"<payment_voucher_date>20260415</payment_voucher_date>"
                       f"<payment_voucher_number>VCH{n:07d}</payment_voucher_number><voucher_amount>"
                       f"<currency>EUR</currency><sum>{total}</sum></voucher_amount></invoice>")
    out += ["</invoice_list>", "</payment_confirmation_data>", ""]
    return "\n".join(out).encode(), rejected


def scenario(db_file: Path, records: int, rejected_percent: float, trace: bool = False) -> dict:
    import jobs.import_payments
    from sqlalchemy import func, select

    from app.auth.models import User
    from app.extensions import db
    from app.integrations import services as integrations
    from app.integrations.models import JobRun
    from app.invoices.models import Invoice
    from app.vendors.models import Vendor

    work = Path(tempfile.mkdtemp(prefix="bench-erp-pay-"))
    try:
        copy = work / "db.sqlite"
        shutil.copy(db_file, copy)
        app = make_app(copy)
        files = work / "files"
        (files / "payments/in").mkdir(parents=True)
        with app.app_context():
            admin = db.session.scalar(select(User).filter_by(username="bench-admin"))
            conn = integrations.create_connection(admin, integrations.ConnectionFields(code="BENCH", name="Bench folder", kind="local",
                                                                     root_path=str(files)))
            prof = integrations.create_profile(admin, integrations.ProfileFields(code="BENCH", name="Bench", connection_id=conn.id,
                                                               financial_system="SAP"))
            fields = {job: integrations.SectionFields(path=f"{job}/x", file_type="csv" if job == "load_allocations" else "")
                      for job in ("import_payments", "export_invoices", "load_allocations", "export_orders",
                                  "export_po_lines")}
            fields["import_payments"].path = "payments/in"
            integrations.update_sections(admin, prof, fields)
            rows = db.session.execute(select(Invoice.number, Vendor.code, Invoice.erp_identifier, Invoice.total_amount)
                                      .join(Vendor, Invoice.vendor_id == Vendor.id).order_by(Invoice.id)).all()
            admin_id = admin.id
            db.session.commit()
        data, rejected = confirmation(rows, rejected_percent)
        (files / "payments/in/pay.xml").write_bytes(data)

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if trace:
            tracemalloc.start()
        t, cpu = time.perf_counter(), time.process_time()
        run_id = jobs.import_payments.run(app, "BENCH", actor_id=admin_id)
        seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
        peak = tracemalloc.get_traced_memory()[1] if trace else 0
        tracemalloc.stop()
        rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before   # KiB on Linux

        with app.app_context():
            run = db.session.get(JobRun, run_id)
            if run.status != "completed" or run.records != records or run.records_failed:
                raise SystemExit(f"run {run_id} {run.status}: {run.message}")
            counts = dict(db.session.execute(select(Invoice.status, func.count()).group_by(Invoice.status)).all())
        assert counts == {k: v for k, v in {"closed": records - rejected, "in_review": rejected}.items() if v}, counts
        assert (files / "payments/in/pay.xml.handled").exists()
        print(f"{records:,} records ({len(data) / 1e6:.1f} MB file, {rejected} rejected): {seconds:.2f} s "
              f"(CPU {cpu:.2f} s), {records / seconds:,.0f} records/s; max RSS grew {rss_growth / 1024:.0f} MB"
              + (f"; peak Python allocations {peak / 2**20:.0f} MB (tracemalloc on: slower)" if trace else ""))
        return {"seconds": seconds, "cpu": cpu, "peak_mb": peak / 2**20, "rss_growth_mb": rss_growth / 1024}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--rejected", type=float, default=2.0, help="percent of REJECTED records")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--tracemalloc", action="store_true", help="add a run that traces Python allocations")
    args = parser.parse_args()
    ensure(args.db, args.records, args.force)
    for _ in range(args.runs):
        scenario(args.db, args.records, args.rejected)
    if args.tracemalloc:
        scenario(args.db, args.records, args.rejected, trace=True)
    print("targets: <= 10 s and <= 300 MB")


if __name__ == "__main__":
    main()
