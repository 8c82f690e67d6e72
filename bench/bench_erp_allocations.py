"""Time of the ERP job *Funds allocation loader* on one file of 10,000 rows, per file format.

    python -m bench.bench_erp_allocations [--rows 10000] [--funds 500] [--formats csv,xlsx,xls] [--sftp]

Builds a fresh SQLite database in a temporary folder (one library, a fiscal period mapped to the
ERP's number 23, a ledger with ``--funds`` allocated funds, half of them with an external ID), then
for each format writes one allocation file of ``--rows`` rows (positive and negative amounts,
several rows per fund, funds named by external ID or by code) into a local-folder connection,
runs the job and prints the seconds (target: <= 5 s per format). With ``--sftp`` the same is done
over a real OpenSSH server on 127.0.0.1 (started for the run). Checks that every fund's allocation
changed by exactly the sum of its rows and that the file was renamed ``.handled``.
"""
from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from bench import common

PASSWORD = common.PASSWORD
PERIOD_NUMBER = 23


def make_app(path: Path):
    from cryptography.fernet import Fernet

    from app import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench",
                       "ERP_IMPORT_MIN_AGE_SECONDS": 0,   # the file was written just now, on purpose
                       "CONNECTION_SECRET_KEY": Fernet.generate_key().decode(),
                       "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 8, "parallelism": 1}})


def build(app, funds: int) -> int:
    """The database; returns the admin's id."""
    from flask_migrate import upgrade

    from app.extensions import db
    from app.funds import services as fs
    from app.integrations import services as integrations

    with app.app_context():
        upgrade()
        admin, period, [lib] = common.bench_institution(1)
        integrations.set_fiscal_period_mapping(admin, period, PERIOD_NUMBER)
        ledger = fs.create_ledger(admin, "INST", "Institution", period, "EUR")
        for n in range(funds):
            fund = fs.create_fund(admin, ledger, f"F{n:04d}", fs.FundFields(
                name=f"Fund {n}", external_id=f"1000|{n:04d}" if n % 2 == 0 else ""))
            fs.allocate(admin, fund, Decimal("100000.00"), reference="INIT")
        db.session.commit()
        return admin.id


def rows_for(count: int, funds: int, seed: int) -> tuple[list[list], dict[str, Decimal]]:
    """The rows and, per fund code, the sum of its amounts."""
    rng = random.Random(seed)
    rows, sums = [], defaultdict(Decimal)
    for i in range(count):
        n = rng.randrange(funds)
        cents = rng.randrange(1, 500_000) * (-1 if rng.random() < 0.2 else 1)
        amount = Decimal(cents) / 100
        ref = f"1000|{n:04d}" if n % 2 == 0 else f"F{n:04d}"
        rows.append([ref, PERIOD_NUMBER, f"{amount:.2f}", f"PS{seed}-{i:06d}", f"Journal line {i} | bench"])
        sums[f"F{n:04d}"] += amount
    return rows, sums


def write(file_type: str, rows: list[list]) -> bytes:
    from testkit.allocation_files import allocation_file
    if file_type != "csv":   # amounts as numbers, the way a spreadsheet holds them
        rows = [[r[0], r[1], float(r[2]), r[3], r[4]] for r in rows]
    return allocation_file(file_type, rows)


def run_one(app, admin_id: int, connection_fields, root: Path, code: str, file_type: str, rows: int, funds: int,
            seed: int) -> float:
    import jobs.load_allocations
    from sqlalchemy import select

    from app.integrations.formats.allocations import parse_allocation_file

    from app.extensions import db
    from app.funds.models import Fund
    from app.integrations import services as integrations
    from app.integrations.models import JobRun

    with app.app_context():
        from app.auth.models import User
        admin = db.session.get(User, admin_id)
        conn = integrations.create_connection(admin, connection_fields)
        prof = integrations.create_profile(admin, integrations.ProfileFields(code=code, name=code, connection_id=conn.id,
                                                           financial_system="PeopleSoft"))
        fields = {job: integrations.SectionFields(path=f"{job}/x", file_type=file_type if job == "load_allocations" else "")
                  for job in ("import_payments", "export_invoices", "load_allocations", "export_orders",
                              "export_po_lines")}
        fields["load_allocations"].path = "alloc/in"
        integrations.update_sections(admin, prof, fields)
        before = dict(db.session.execute(select(Fund.code, Fund.allocated)).all())
        db.session.commit()
    data_rows, sums = rows_for(rows, funds, seed)
    data = write(file_type, data_rows)
    folder = root / "alloc/in"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"alloc.{file_type}").write_bytes(data)

    t, cpu = time.perf_counter(), time.process_time()
    run_id = jobs.load_allocations.run(app, code, actor_id=admin_id)
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu

    with app.app_context():
        run = db.session.get(JobRun, run_id)
        if run.status != "completed" or run.records != rows or run.records_failed:
            errors = [e.message for e in run.events if e.level == "error"][:5]
            raise SystemExit(f"run {run_id} {run.status}: {run.message} {errors}")
        after = dict(db.session.execute(select(Fund.code, Fund.allocated)).all())
    for fund_code, total in sums.items():
        assert after[fund_code] - before[fund_code] == total, (fund_code, after[fund_code], before[fund_code], total)
    assert (folder / f"alloc.{file_type}.handled").exists()
    print(f"{code:14} {file_type:5} {rows:,} rows ({len(data) / 1e6:.2f} MB): {seconds:.2f} s "
          f"(CPU of this process {cpu:.2f} s; the rest is waiting, e.g. for a busy machine), "
          f"{rows / seconds:,.0f} rows/s; target <= 5 s")
    parse_t, parse_cpu = _time(lambda: parse_allocation_file(data, file_type))
    print(f"{'':14} {'':5} of which parsing the file alone: {parse_t:.2f} s (CPU {parse_cpu:.2f} s)")
    return seconds


def _time(fn) -> tuple[float, float]:
    t, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--funds", type=int, default=500)
    parser.add_argument("--formats", default="csv,xlsx,xls")
    parser.add_argument("--sftp", action="store_true", help="also over a real sshd on 127.0.0.1")
    parser.add_argument("--profile", action="store_true", help="cProfile the first local run")
    parser.add_argument("--callers", default="", help="with --profile: print the callers of these functions")
    parser.add_argument("--sort", default="cumulative", help="cProfile order (cumulative, tottime)")
    args = parser.parse_args()

    from app.integrations import services as integrations

    work = Path(tempfile.mkdtemp(prefix="bench-erp-alloc-"))
    sshd = None
    try:
        app = make_app(work / "db.sqlite")
        t = time.perf_counter()
        admin_id = build(app, args.funds)
        print(f"built the database ({args.funds} funds) in {time.perf_counter() - t:.1f} s")
        seed = 1
        for file_type in args.formats.split(","):
            root = work / f"local-{file_type}"
            root.mkdir()
            fields = integrations.ConnectionFields(code=f"L-{file_type}", name="Bench folder", kind="local",
                                          root_path=str(root))
            if args.profile and seed == 1:
                import cProfile
                import pstats
                prof = cProfile.Profile()
                prof.enable()
            run_one(app, admin_id, fields, root, f"LOCAL-{file_type}", file_type, args.rows, args.funds, seed)
            if args.profile and seed == 1:
                prof.disable()
                stats = pstats.Stats(prof).sort_stats(args.sort)
                stats.print_stats(40)
                if args.callers:
                    stats.print_callers(args.callers)
            seed += 1
        if args.sftp:
            from testkit.servers import SshServer
            sshd = SshServer(work / "sshd")
            sshd.start()
            for file_type in args.formats.split(","):
                name, root = sshd.folder()
                fields = integrations.ConnectionFields(code=f"S-{file_type}", name="Bench SFTP", kind="sftp",
                                              host="127.0.0.1", port=sshd.port, username=sshd.user,
                                              private_key=sshd.client_key, host_key=sshd.host_key, base_dir=name)
                run_one(app, admin_id, fields, root, f"SFTP-{file_type}", file_type, args.rows, args.funds, seed)
                seed += 1
    finally:
        if sshd is not None:
            sshd.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
