"""Throughput of the ERP job *Export PO lines (POL)* with 50,000 closed or cancelled PO lines.

    python -m bench.bench_erp_po_lines [--lines 50000] [--batches 1000,50000] [--sftp] [--no-local] [--db ...]
                                      [--force]

Builds (once; reused while the line count and schema match) a SQLite database with 10 libraries,
100 vendors, one fiscal period with a fund per library, ``--lines`` PO lines on POs of five lines
each, all closed (85%) or cancelled (15%), each with one fund distribution row (encumbered at
approval) and the history event of its closing. Then, for each batch size, on a fresh copy of the
database: runs the job until no line is left (a local-folder connection; with ``--sftp`` also an
OpenSSH server on 127.0.0.1 started for the purpose) and prints runs, total time, lines/s and the
slowest run, the CPU time of the process that ran the job (the sshd is not counted) and its peak
resident memory (VmHWM). Each local-folder batch size runs in a fresh subprocess, so its peak is its
own (target for one run of 50,000 lines: <= 200 MB); the S/FTP ones run in this process, after one
another (a later line includes earlier peaks). Each line must be exported exactly once (checked).
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bench import common

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "bench" / "data" / "erp_pol.db"
PASSWORD = common.PASSWORD
TARGET_MB = 200   # peak resident memory of one run of 50,000 lines



def make_app(path: Path):
    return common.make_app(path)


def build(path: Path, lines: int, seed: int = 2026) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from app.extensions import db
    from app.funds import services as fs
    from app.orders.models import POLine, POLineEvent, POLineFund, PurchaseOrder
    from app.vendors import services as vs

    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    app = make_app(tmp)
    rng = random.Random(seed)
    with app.app_context():
        upgrade()
        admin, period, libs = common.bench_institution(10)
        funds = []
        for lib in libs:
            ledger = fs.create_ledger(admin, lib.code, lib.name, period, "EUR", owner=lib)
            funds.append(fs.create_fund(admin, ledger, f"{lib.code}-BKS",
                                        fs.FundFields(name=f"{lib.code} books", external_id=f"EXT-{lib.code}")))
        vendors = [vs.create_vendor(admin, f"V{n:03d}", vs.VendorFields(name=f"Vendor {n}", currency="EUR"))
                   for n in range(1, 101)]
        db.session.commit()
        start = datetime(2026, 1, 5)
        pos, rows, shares, events = [], [], [], []
        po_id = 0
        for n in range(1, lines + 1):
            if (n - 1) % 5 == 0:
                po_id += 1
                lib_i, vendor = rng.randrange(10), vendors[rng.randrange(100)]
                sent = start + timedelta(minutes=po_id * 7)
                pos.append({"id": po_id, "number": f"PO-{po_id:06d}", "vendor_id": vendor.id,
                            "owner_library_id": libs[lib_i].id, "status": "closed", "packaging": "auto",
                            "created_at": sent, "sent_at": sent, "closed_at": sent + timedelta(days=90),
                            "note": ""})
            cancelled = rng.random() < 0.15
            price = Decimal(rng.randrange(500, 30000)) / 100
            closed_at = start + timedelta(days=30, minutes=n * 5)
            rows.append({
                "id": n, "number": f"POL-{n:06d}", "po_id": po_id, "status": "cancelled" if cancelled else "closed",
                "order_type": "one_time", "material_form": "physical", "packaging": "auto",
                "owner_library_id": libs[lib_i].id, "vendor_id": vendor.id,
                "title": f"Title {rng.randrange(10**6)} of the bench collection", "author": f"Author {n % 997}",
                "isbn": "", "issn": "", "publisher": "", "publication_date": "", "currency": "EUR",
                "list_price": price, "discount": Decimal(0), "quantity": 1, "net_price": price,
                "distribution_method": "percent", "reporting_code": "", "vendor_reference": f"VR{n}", "note": "",
                "renewal_period_months": 12, "renewal_reminder_days": 30, "manual_renewal": False,
                "fully_invoiced": not cancelled, "paid": not cancelled,
                "cancel_reason": "vendor cannot supply" if cancelled else "",
                "created_at": sent, "updated_at": closed_at, "approved_at": sent, "sent_at": sent,
                "closed_at": closed_at,
            })
            shares.append({"po_line_id": n, "fund_id": funds[lib_i].id, "percent": Decimal(100), "amount": price,
                           "encumbered_amount": price, "encumbered_currency": "EUR"})
            events.append({"po_line_id": n, "at": closed_at, "action": "cancel" if cancelled else "close",
                           "field": "status", "old_value": "Sent", "new_value": "Cancelled" if cancelled else "Closed",
                           "note": "vendor cannot supply" if cancelled else "received, invoiced and paid"})
        db.session.execute(insert(PurchaseOrder.__table__), pos)
        for i in range(0, lines, 5000):
            db.session.execute(insert(POLine.__table__), rows[i:i + 5000])
            db.session.execute(insert(POLineFund.__table__), shares[i:i + 5000])
            db.session.execute(insert(POLineEvent.__table__), events[i:i + 5000])
        db.session.commit()
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()
    os.replace(tmp, path)


def ensure(path: Path, lines: int, force: bool) -> None:
    common.ensure_db(path, "po_line", lines, lambda: build(path, lines), "closed and cancelled PO lines", force)


def _connection_fields(kind: str, folder: Path, sshd=None):
    from app.integrations import services as integrations
    if kind == "local":
        return integrations.ConnectionFields(code="BENCH", name="Bench folder", kind="local", root_path=str(folder))
    name = folder.name
    return integrations.ConnectionFields(code="BENCH", name="Bench SFTP", kind="sftp", host="127.0.0.1", port=sshd.port,
                                username=sshd.user, private_key=sshd.client_key, host_key=sshd.host_key,
                                base_dir=name)


def scenario(db_file: Path, lines: int, batch: int, kind: str, sshd=None) -> None:
    import jobs.export_po_lines
    from sqlalchemy import func, select

    from app.auth.models import User
    from app.extensions import db
    from app.integrations import services as integrations
    from app.integrations.models import JobRun, POLineExport

    work = Path(tempfile.mkdtemp(prefix="bench-erp-pol-"))
    try:
        copy = work / "db.sqlite"
        shutil.copy(db_file, copy)
        out_root = (sshd.root / work.name) if kind == "sftp" else work / "files"
        (out_root / "export_po_lines/out").mkdir(parents=True, exist_ok=True)
        app = make_app(copy)
        with app.app_context():
            admin = db.session.scalar(select(User).filter_by(username="bench-admin"))
            conn = integrations.create_connection(admin, _connection_fields(kind, work / "files" if kind == "local" else work,
                                                                    sshd))
            prof = integrations.create_profile(admin, integrations.ProfileFields(code="BENCH", name="Bench", connection_id=conn.id,
                                                               financial_system="SAP"))
            fields = {job: integrations.SectionFields(path=f"{job}/out", file_type="csv" if job == "load_allocations" else "",
                                             batch_size=batch)
                      for job in ("import_payments", "export_invoices", "load_allocations", "export_orders",
                                  "export_po_lines")}
            fields["import_payments"].path, fields["load_allocations"].path = "payments/in", "allocations/in"
            integrations.update_sections(admin, prof, fields)
            db.session.commit()
        before_mb = common.peak_rss_mb()
        times, runs = [], 0
        t0, cpu0 = time.perf_counter(), time.process_time()
        while True:
            t = time.perf_counter()
            run_id = jobs.export_po_lines.run(app, "BENCH")
            times.append(time.perf_counter() - t)
            runs += 1
            with app.app_context():
                run = db.session.get(JobRun, run_id)
                if run.status != "completed":
                    raise SystemExit(f"run {run_id} {run.status}: {run.message}")
                if run.records == 0:
                    times.pop()
                    runs -= 1
                    break
        total, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        with app.app_context():
            exported = db.session.scalar(select(func.count(POLineExport.id)))
            distinct = db.session.scalar(select(func.count(func.distinct(POLineExport.po_line_id))))
        files = sorted((out_root / "export_po_lines/out").iterdir())
        size = sum(f.stat().st_size for f in files)
        assert exported == distinct == lines, (exported, distinct, lines)
        busy = sum(times)
        print(f"{kind:5} batch {batch:>6,}: {runs:3} runs, {len(files):3} files ({size / 1e6:.1f} MB), "
              f"{busy:6.1f} s in runs ({total:.1f} s wall), {lines / busy:7.0f} lines/s, "
              f"slowest run {max(times):.2f} s, median run {sorted(times)[len(times) // 2]:.2f} s; "
              f"CPU of this process {cpu:.1f} s ({lines / cpu:.0f} lines per CPU-second), "
              f"peak resident memory {common.peak_rss_mb():.0f} MB ({before_mb:.0f} MB before the first run)"
              + (f" (target <= {TARGET_MB} MB for one run: {'meets' if common.peak_rss_mb() <= TARGET_MB else 'MISSES'})"
                 if runs == 1 else ""))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if kind == "sftp" and sshd is not None:
            shutil.rmtree(sshd.root / work.name, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--batches", default="1000,50000")
    parser.add_argument("--sftp", action="store_true", help="also upload to an OpenSSH server on 127.0.0.1")
    parser.add_argument("--no-local", action="store_true", help="skip the local-folder runs")
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--child", type=int, metavar="BATCH", help=argparse.SUPPRESS)   # one local scenario
    args = parser.parse_args()
    if args.child:
        scenario(args.db, args.lines, args.child, "local")
        return
    ensure(args.db, args.lines, args.force)
    batches = [int(b) for b in args.batches.split(",")]
    for batch in ([] if args.no_local else batches):
        # A fresh process per batch size: its peak memory is its own, not an earlier run's.
        subprocess.run([sys.executable, "-m", "bench.bench_erp_po_lines", "--child", str(batch),
                        "--lines", str(args.lines), "--db", str(args.db.resolve())], check=True, cwd=ROOT)
    if args.sftp:
        from testkit.servers import SshServer
        base = Path(tempfile.mkdtemp(prefix="bench-sshd-"))
        server = SshServer(base)
        server.start()
        try:
            for batch in batches:
                scenario(args.db, args.lines, batch, "sftp", server)
        finally:
            server.stop()
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
