"""Fiscal-year rollover benchmark: 2,000 funds and 50,000 open PO lines rolled from BENCH2026 to
NEXT, ledgers and PO lines together: the preview, the commit and its undo, each timed, with its
peak memory, on SQLite and (``--postgres``) on PostgreSQL.

    python -m bench.bench_rollover [--funds 2000] [--lines 50000] [--db bench/data/rollover.db] [--force]
                                   [--postgres]

Targets (issue 14): preview and commit each ≤ 60 s, peak memory ≤ 300 MB (the undo is held to the
same memory). The SQLite database is built once (testkit/rollover.py, in a child process so its
memory does not count) and copied before each run, so the commit always starts from the same
state; ``--postgres`` starts a throwaway cluster (testkit/postgres.py) and builds the same world in
it. Each step runs in a fresh child process, so each peak is its own: the process's maximum
resident set size (resource.getrusage), which includes the interpreter and the loaded app (printed
as "app" — what the step itself needs is the difference). The preview and the commit print a digest
of their report's figures; the two must match, and the ledger check must be clean after each step.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench import common

DEFAULT_OUT = common.ROOT / "bench" / "data" / "rollover.db"
STEPS = ("preview", "commit", "undo")
SECONDS, MEGABYTES = 60, 300


def _app(url: str):
    return common.make_app(Path("unused.db"), SQLALCHEMY_DATABASE_URI=url)


def build(url: str, funds: int, lines: int, postgres: bool) -> None:
    from flask_migrate import upgrade

    from app.extensions import db
    from testkit import rollover as big
    app = _app(url)
    with app.app_context():
        if postgres:
            db.session.execute(db.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
        admin, period, _libs = common.bench_institution(2)
        db.session.commit()
        big.build(admin, period, funds=funds, lines=lines, target="NEXT")
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()


def build_sqlite(path: Path, funds: int, lines: int) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    build(f"sqlite:///{tmp.resolve()}", funds, lines, postgres=False)
    tmp.replace(path)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_step(url: str, step: str) -> dict:
    """One step in this (fresh) process; what it measured."""
    from decimal import Decimal

    from sqlalchemy import func, select

    from app.auth.models import User
    from app.extensions import db
    from app.funds import rollover as ro
    from app.funds import services as fs
    from app.funds.models import FiscalPeriod, Fund, Rollover
    from app.ledger.rollover import EncumbranceRule, FundRule, LedgerRules, LineRules

    fund_rules = LedgerRules(FundRule("adjust", Decimal("3"), "available"))
    line_rules = LineRules(EncumbranceRule("remaining"), EncumbranceRule("remaining", Decimal("5")))
    app = _app(url)
    with app.app_context():
        admin = db.session.scalars(select(User).filter_by(username="bench-admin")).one()
        base = rss_mb()
        started = time.perf_counter()
        if step == "preview":
            report = ro.preview(admin, "BENCH2026", "NEXT", fund_rules, line_rules)
            db.session.rollback()
        elif step == "commit":
            report = ro.commit(admin, "BENCH2026", "NEXT", fund_rules, line_rules)
            db.session.commit()
        else:
            rollover = db.session.scalars(select(Rollover).where(Rollover.status == "committed")).one()
            report = ro.undo(admin, rollover)
            db.session.commit()
        seconds, peak = time.perf_counter() - started, rss_mb()
        digest = hashlib.sha256(repr((report.source, report.target, report.funds)).encode())
        for row in report.lines:
            digest.update(repr(row).encode())
        result = {"step": step, "seconds": seconds, "peak": peak, "base": base, "digest": digest.hexdigest(),
                  "funds": len(report.funds), "lines": len(report.lines), "not_moved": len(report.reported_lines),
                  "clean": fs.check_ledger() == []}
        if step == "undo":   # what it made is out of use: no fund of NEXT active or holding money
            next_funds = select(Fund).join(FiscalPeriod, FiscalPeriod.id == Fund.fiscal_period_id) \
                .where(FiscalPeriod.code == "NEXT").subquery()
            result["in_use"] = db.session.scalar(select(func.count()).select_from(next_funds).where(
                (next_funds.c.status == "active") | (next_funds.c.allocated != 0) | (next_funds.c.encumbered != 0)))
        db.engine.dispose()
    return result


def child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.bench_rollover", *args], check=True, cwd=common.ROOT,
                         stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_all(database: str, url: str) -> list[dict]:
    results = []
    for step in STEPS:
        r = child(["--step", step, "--url", url])
        r["database"] = database
        print(f"  {database} {step}: {r['seconds']:.1f} s, peak {r['peak']:.0f} MB (app {r['base']:.0f} MB); "
              f"{r['funds']:,} funds, {r['lines']:,} distribution rows, {r['not_moved']:,} not moved; "
              f"ledger check {'clean' if r['clean'] else 'NOT CLEAN'}"
              + (f"; target funds still in use: {r['in_use']}" if step == "undo" else ""), flush=True)
        results.append(r)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--funds", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--db", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--postgres", action="store_true", help="also run on a throwaway PostgreSQL cluster")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(run_step(args.url, args.step)))
        return
    if args.build_only:
        if args.url:
            build(args.url, args.funds, args.lines, postgres=True)
        else:
            build_sqlite(args.db.resolve(), args.funds, args.lines)
        return
    sizes = ["--funds", str(args.funds), "--lines", str(args.lines)]
    db_path = args.db.resolve()
    common.ensure_db(db_path, "po_line", args.lines, lambda: subprocess.run(
        [sys.executable, "-m", "bench.bench_rollover", "--build-only", *sizes, "--db", str(db_path)],
        check=True, cwd=common.ROOT), "PO lines", args.force)
    work = db_path.with_name("rollover-run.db")
    shutil.copyfile(db_path, work)
    for suffix in ("-wal", "-shm"):
        Path(str(work) + suffix).unlink(missing_ok=True)
    print(f"{args.funds:,} funds, {args.lines:,} open PO lines; each step in a fresh process", flush=True)
    results = run_all("SQLite", f"sqlite:///{work}")
    if args.postgres:
        from testkit.postgres import create_database, postgres_cluster
        with postgres_cluster() as server:
            url = create_database(server, "rollover")
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "bench.bench_rollover", "--build-only", *sizes, "--url", url],
                           check=True, cwd=common.ROOT, stdout=subprocess.DEVNULL)
            print(f"  built the PostgreSQL database in {time.perf_counter() - started:.1f} s", flush=True)
            results += run_all("PostgreSQL", url)

    print()
    print(f"{'database':<11} {'step':<8} {'seconds':>8} {'peak MB':>8} {'app MB':>7}")
    for r in results:
        print(f"{r['database']:<11} {r['step']:<8} {r['seconds']:>8.1f} {r['peak']:>8.0f} {r['base']:>7.0f}")
    ok = True
    for database in dict.fromkeys(r["database"] for r in results):
        by = {r["step"]: r for r in results if r["database"] == database}
        same = by["preview"]["digest"] == by["commit"]["digest"]
        fast = all(by[s]["seconds"] <= SECONDS for s in ("preview", "commit"))
        small = all(r["peak"] <= MEGABYTES for r in by.values())
        clean = all(r["clean"] for r in by.values()) and by["undo"]["in_use"] == 0
        print(f"{database}: preview = commit {'yes' if same else 'NO'}; ledger clean and undo left nothing in use: "
              f"{'yes' if clean else 'NO'}; preview and commit ≤ {SECONDS} s: {'yes' if fast else 'NO'}; "
              f"every step ≤ {MEGABYTES} MB: {'yes' if small else 'NO'}")
        ok = ok and same and fast and small and clean
    print("targets:", "met" if ok else "NOT met")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
