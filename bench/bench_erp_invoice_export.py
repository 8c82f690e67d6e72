"""The "Export invoices for payment" job against a real OpenSSH server on loopback.

    python -m bench.bench_erp_invoice_export [--invoices 10000] [--lines 5] [--split] [--keep]

Builds a fresh SQLite database in a temporary folder (migrations, the test world: libraries LIBA and
LIBB, fiscal period FY2026, ledgers and funds), a vendor with a payment address, and ``--invoices``
Ready-to-be-Paid invoices of ``--lines`` regular lines each (owners alternate between LIBA, LIBB and
the institution; each line charged to the owner's fund). The invoices are bulk-inserted with the
models' tables, not posted through approval: the export reads invoices, lines, fund shares and
funds, not the postings, so its files are the same as for approved invoices.

Then starts an sshd (``testkit.servers.SshServer``), makes an SFTP connection and a profile on
it, and times one run of the job (batching, XSD check, upload of one file per invoice, or per
owner with ``--split``, and the status change of every invoice). Finally it uploads the very same
files with raw paramiko (``putfo`` to ``<name>.part`` with ``confirm=True``, then
``posix_rename``) into another folder. Job and raw upload alternate for ``--rounds`` rounds (the
invoices are put back to Ready to be Paid in between); the ratio is that of the median rates
(target >= 0.5), with the worst and best round beside it.
"""
from __future__ import annotations

import argparse
import io
import shutil
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bench import common

TARGET_RATIO = 0.5


def insert_invoices(world, count: int, lines: int) -> None:
    """``count`` Ready-to-be-Paid invoices of ``lines`` lines, bulk-inserted in chunks."""
    from sqlalchemy import insert

    from app.extensions import db
    from app.invoices.models import Invoice, InvoiceLine, InvoiceLineFund
    from app.vendors import services as vendors
    from app.vendors.models import VendorAddress

    admin = world.user("admin")
    vendor = vendors.create_vendor(admin, "BENCHV", vendors.VendorFields(name="Bench books", currency="EUR",
                                                              financial_sys_code="ERP-42"))
    db.session.add(VendorAddress(vendor_id=vendor.id, line1="PO Box 1", city="Town", postal_code="12345",
                                 state="NJ", types="payment,order", preferred=True))
    db.session.commit()
    owners = [(world.lib_a.id, world.fund_a.id), (world.lib_b.id, world.fund_b.id), (None, world.shared.id)]
    creator, approver = world.users["invoicer"], world.users["invmanager"]
    now = datetime(2026, 3, 15, 12, 0)
    line_id = 0
    for start in range(0, count, 1000):
        invoices, rows, shares = [], [], []
        for n in range(start, min(count, start + 1000)):
            owner, fund = owners[n % 3]
            prices = [Decimal(10 + (n + k) % 90) + Decimal((n * 7 + k) % 100) / 100 for k in range(lines)]
            invoices.append(dict(id=n + 1, number=f"B-{n + 1:06d}", vendor_id=vendor.id,
                                 invoice_date=date(2026, 1, 1) + timedelta(days=n % 300), currency="EUR",
                                 total_amount=sum(prices), owner_library_id=owner, status="ready_to_be_paid",
                                 erp_identifier=str(10**15 + 7 * 10**14 + n), created_at=now,
                                 created_by_id=creator, approved_at=now, approved_by_id=approver,
                                 review_problems=[]))
            for k, price in enumerate(prices, start=1):
                line_id += 1
                rows.append(dict(id=line_id, invoice_id=n + 1, position=k, line_type="regular", quantity=1,
                                 unit_price=price, total=price, reporting_code=f"RC{k}"))
                shares.append(dict(line_id=line_id, fund_id=fund, percent=Decimal("100"), amount=price))
        db.session.execute(insert(Invoice), invoices)
        db.session.execute(insert(InvoiceLine), rows)
        db.session.execute(insert(InvoiceLineFund), shares)
        db.session.commit()


def timed_steps() -> dict[str, float]:
    """Wrap the job's main steps to add up how long each took (filled in while the job runs). The
    upload runs in a thread of its own, overlapping them."""
    from jobs import export_invoices as ie
    totals: dict[str, float] = {}
    for label, name in (("loading invoices", "_load"), ("file data", "invoice_data"),
                        ("writing + XSD", "render"), ("recording sent files", "record_sent")):
        real = getattr(ie, name)
        totals[label] = 0.0

        def wrapped(*a, _real=real, _label=label, **kw):
            t = time.perf_counter()
            try:
                return _real(*a, **kw)
            finally:
                totals[_label] += time.perf_counter() - t
        setattr(ie, name, wrapped)
    from app.integrations.upload_worker import UploadProcess
    real_result = UploadProcess.result
    totals["waiting for the upload process"] = 0.0

    def result(self, block):
        t = time.perf_counter()
        try:
            return real_result(self, block)
        finally:
            totals["waiting for the upload process"] += time.perf_counter() - t
    UploadProcess.result = result
    return totals


def reset_export(out: Path) -> None:
    """Back to before the run: every invoice Ready to be Paid again, no batch, no file on the server."""
    from sqlalchemy import delete, update

    from app.extensions import db
    from app.integrations.models import ExportBatch, ExportBatchInvoice
    from app.invoices.models import Invoice, InvoiceEvent
    db.session.execute(update(Invoice).values(status="ready_to_be_paid", exported_at=None))
    db.session.execute(delete(InvoiceEvent).where(InvoiceEvent.action == "exported"))
    db.session.execute(delete(ExportBatchInvoice))
    db.session.execute(delete(ExportBatch))
    db.session.commit()
    for p in out.iterdir():
        p.unlink()


def raw_upload(sshd, folder: Path, files: list[tuple[str, bytes]]) -> float:
    """Seconds to upload ``files`` with plain paramiko (temporary name, confirm, rename)."""
    import paramiko

    from app.integrations.transport import load_private_key, parse_host_key
    client = paramiko.SSHClient()
    key = parse_host_key(sshd.host_key)
    client.get_host_keys().add(f"[127.0.0.1]:{sshd.port}", key.get_name(), key)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    t = time.perf_counter()
    client.connect("127.0.0.1", port=sshd.port, username=sshd.user, pkey=load_private_key(sshd.client_key),
                   look_for_keys=False, allow_agent=False)
    sftp = client.open_sftp()
    where = f"{folder.parent.name}/{folder.name}"
    for name, data in files:
        sftp.putfo(io.BytesIO(data), f"{where}/{name}.part", file_size=len(data), confirm=True)
        sftp.posix_rename(f"{where}/{name}.part", f"{where}/{name}")
    sftp.close()
    client.close()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=10000)
    parser.add_argument("--lines", type=int, default=5)
    parser.add_argument("--split", action="store_true", help="one file per owner instead of one per invoice")
    parser.add_argument("--rounds", type=int, default=3, help="job and raw upload, alternately, this many times")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, files)")
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import select

    from app.extensions import db
    from app.integrations.models import ExportBatch, JobRun
    from app.invoices.models import Invoice
    from app.setup import ensure_institution
    from jobs import export_invoices as job
    from testkit.erp import erp_profile, sftp_connection
    from testkit.servers import SshServer
    from testkit.world import build_world

    work = Path(tempfile.mkdtemp(prefix="bench-erp-export-"))
    sshd = SshServer(work / "sshd")
    sshd.start()
    try:
        app = common.make_app(work / "bench.db")
        with app.app_context():
            upgrade()
            ensure_institution()
            world = build_world()
            db.session.commit()
            t = time.perf_counter()
            insert_invoices(world, args.invoices, args.lines)
            print(f"inserted {args.invoices:,} invoices x {args.lines} lines in {time.perf_counter() - t:.1f} s")
            admin = world.user("admin")
            conn, path = sftp_connection(admin, sshd)
            erp_profile(admin, conn, folder_root=path, export_invoices={"split_by_owner": args.split})
            db.session.commit()
        out = path / "invoices" / "out"

        steps = timed_steps()
        rounds = []
        for n in range(1, args.rounds + 1):
            if n > 1:
                with app.app_context():
                    reset_export(out)
            for name in steps:
                steps[name] = 0.0
            t = time.perf_counter()
            run_id = job.run(app, "ERP")
            job_s = time.perf_counter() - t
            with app.app_context():
                run = db.session.get(JobRun, run_id)
                status, files, records, message = run.status, run.files, run.records, run.message
                left = db.session.scalar(select(db.func.count()).select_from(Invoice)
                                         .where(Invoice.status == "ready_to_be_paid"))
                batches = [(b.file_name, b.content) for b in db.session.scalars(
                    select(ExportBatch).where(ExportBatch.status == "sent").order_by(ExportBatch.id))]
            on_disk = sorted(p.name for p in out.iterdir())
            assert status == "completed", message
            assert records == args.invoices and left == 0 and len(on_disk) == files == len(batches), \
                (records, left, len(on_disk), files)
            size = sum(len(c) for _, c in batches)
            print(f"round {n} job: {status}, {files:,} files ({size / 1e6:.1f} MB), {records:,} invoices in "
                  f"{job_s:.2f} s -> {records / job_s:,.0f} invoices/s, {files / job_s:,.0f} files/s")
            print("  main thread: " + ", ".join(f"{name} {sec:.2f} s" for name, sec in steps.items()))
            raw_dir = path / f"raw{n}"
            raw_dir.mkdir()
            raw_s = raw_upload(sshd, raw_dir, batches)
            assert sorted(p.name for p in raw_dir.iterdir()) == sorted(name for name, _ in batches)
            shutil.rmtree(raw_dir)
            print(f"round {n} raw paramiko putfo+posix_rename: {len(batches):,} files in {raw_s:.2f} s -> "
                  f"{len(batches) / raw_s:,.0f} files/s; ratio {raw_s / job_s:.2f}")
            rounds.append((job_s, raw_s))

        # The job and the raw upload alternate, so both see the machine's slow and fast spells.
        job_med, raw_med = statistics.median(j for j, _ in rounds), statistics.median(r for _, r in rounds)
        ratio = raw_med / job_med   # = (files / job time) / (files / raw time)
        print(f"median of {len(rounds)} rounds: job {job_med:.2f} s ({files / job_med:,.0f} files/s), raw "
              f"{raw_med:.2f} s ({files / raw_med:,.0f} files/s); worst round ratio "
              f"{min(r / j for j, r in rounds):.2f}, best {max(r / j for j, r in rounds):.2f}")
        print(f"ratio job/raw (files/s, medians): {ratio:.2f} (target >= {TARGET_RATIO}) "
              f"{'OK' if ratio >= TARGET_RATIO else 'BELOW TARGET'}")
    finally:
        sshd.stop()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
