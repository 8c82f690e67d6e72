"""Fiscal-year rollover benchmark: 2,000 funds and 50,000 open PO lines rolled from BENCH2026 to
NEXT, ledgers and PO lines together: the preview, then the commit, each timed, with the peak memory.

    python -m bench.bench_rollover [--funds 2000] [--lines 50000] [--db bench/data/rollover.db] [--force]

Targets (issue 14): preview and commit each ≤ 60 s, peak memory ≤ 300 MB. The database is built
once (testkit/rollover.py, in a child process so its memory does not count) and copied before each
run, so the commit always starts from the same state. Peak memory: the process's maximum resident
set size (resource.getrusage), which includes the interpreter and the app (printed before the runs).
"""
from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench import common

DEFAULT_OUT = common.ROOT / "bench" / "data" / "rollover.db"


def build(path: Path, funds: int, lines: int) -> None:
    from flask_migrate import upgrade

    from app.extensions import db
    from testkit import rollover as big
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    app = common.make_app(tmp)
    with app.app_context():
        upgrade()
        admin, period, _libs = common.bench_institution(2)
        db.session.commit()
        big.build(admin, period, funds=funds, lines=lines, target="NEXT")
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()
    tmp.replace(path)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--funds", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--db", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only:
        build(args.db, args.funds, args.lines)
        return
    common.ensure_db(args.db, "po_line", args.lines, lambda: subprocess.run(
        [sys.executable, "-m", "bench.bench_rollover", "--build-only", "--funds", str(args.funds), "--lines",
         str(args.lines), "--db", str(args.db)], check=True, cwd=common.ROOT), "PO lines", args.force)
    work = args.db.with_name("rollover-run.db")
    shutil.copyfile(args.db, work)
    for suffix in ("-wal", "-shm"):
        Path(str(work) + suffix).unlink(missing_ok=True)

    from decimal import Decimal

    from sqlalchemy import select

    from app.auth.models import User
    from app.extensions import db
    from app.funds import rollover as ro
    from app.funds import services as fs
    from app.ledger.rollover import EncumbranceRule, FundRule, LedgerRules, LineRules

    fund_rules = LedgerRules(FundRule("adjust", Decimal("3"), "available"))
    line_rules = LineRules(EncumbranceRule("remaining"), EncumbranceRule("remaining", Decimal("5")))
    app = common.make_app(work)
    with app.app_context():
        admin = db.session.scalars(select(User).filter_by(username="bench-admin")).one()
        print(f"{args.funds:,} funds, {args.lines:,} open PO lines on SQLite; resident before the runs "
              f"{rss_mb():.0f} MB")
        started = time.perf_counter()
        preview = ro.preview(admin, "BENCH2026", "NEXT", fund_rules, line_rules)
        db.session.rollback()
        t_preview = time.perf_counter() - started
        print(f"preview: {t_preview:6.1f} s   peak RSS {rss_mb():.0f} MB   "
              f"({len(preview.funds):,} funds, {len(preview.lines):,} distribution rows, "
              f"{len(preview.reported_lines):,} not moved)")
        db.session.expire_all()
        started = time.perf_counter()
        report = ro.commit(admin, "BENCH2026", "NEXT", fund_rules, line_rules)
        db.session.commit()
        t_commit = time.perf_counter() - started
        print(f"commit:  {t_commit:6.1f} s   peak RSS {rss_mb():.0f} MB")
        same = preview.figures() == report.figures()
        clean = fs.check_ledger() == []
        print(f"preview = commit: {'yes' if same else 'NO'}; ledger check clean: {'yes' if clean else 'NO'}")
        ok = t_preview <= 60 and t_commit <= 60 and rss_mb() <= 300 and same and clean
        print("targets (≤ 60 s each, ≤ 300 MB):", "met" if ok else "NOT met")
        db.engine.dispose()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
