"""Time `flask migrate aleph-budgets` on synthetic Aleph exports.

    python -m bench.bench_aleph_migration [--budgets 20000] [--transactions 200000] [--seed 2026]
                                          [--database-url postgresql+psycopg://...] [--keep DIR]

Writes a Z76 and a Z601 CSV (budgets spread over three fiscal years, about 2% without a year suffix,
1% with a non-numeric suffix, parent/child hierarchies, both limit units; transactions of every
type including transfer pairs), migrates them into a fresh SQLite database (or the empty
PostgreSQL database given) through the real command, and prints the seconds taken, the
reconciliation result and the `ledger check` result. The target: 20,000 budgets and 200,000
transactions in at most 60 s.
"""
from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.generate import bench_config

YEARS = (2022, 2023, 2024)
TYPES = ("ILC", "ALC", "CRY", "ENC", "ENC", "INV", "INV", "INV")


def write_exports(folder: Path, budgets: int, transactions: int, seed: int) -> tuple[Path, Path]:
    rnd = random.Random(seed)
    numbers = []
    z76 = folder / "z76.csv"
    with z76.open("w", encoding="utf-8") as out:
        out.write("Z76_BUDGET_NUMBER,Z76_NAME,Z76_VALID_DATE_FROM,Z76_VALID_DATE_TO,Z76_STATUS,Z76_BUDGET_TYPE,"
                  "Z76_BUDGET_PARENT,Z76_SW_ABSOLUTE_PERCENT,Z76_MAX_OVER_COMMITTED,Z76_MAX_OVER_EXPENDITURE,"
                  "Z76_EXTERNAL_BUDGET,Z76_NOTE_1\n")
        parents: dict[int, list[str]] = {y: [] for y in YEARS}
        for i in range(budgets):
            year = YEARS[i % len(YEARS)]
            roll = rnd.random()
            if roll < 0.02:
                number = f"NOYR{i:06d}"
            elif roll < 0.03:
                number = f"B{i:06d}-OLD"
            else:
                number = f"B{i:06d}-{year}"
            parent = ""
            if number.endswith(str(year)):
                if rnd.random() < 0.05:
                    parents[year].append(number)
                elif parents[year] and rnd.random() < 0.3:
                    parent = rnd.choice(parents[year])
            switch = "P" if rnd.random() < 0.3 else "A"
            over_c = f"{rnd.randint(0, 500)}.00" if rnd.random() < 0.5 else ""
            over_e = f"{rnd.randint(0, 20)}.00" if rnd.random() < 0.5 else ""
            numbers.append(number)
            out.write(f"{number},Budget {i},{year - 1}0701,{year}0630,{'AC' if year == YEARS[-1] else 'NA'},"
                      f"{rnd.choice(['ENDOW', 'GIFT', 'GRANT', ''])},{parent},{switch},{over_c},{over_e},"
                      f"SAP{i:07d},Note {i}\n")
    z601 = folder / "z601.csv"
    with z601.open("w", encoding="utf-8") as out:
        out.write("Z601_BUDGET_NUMBER,Z601_SEQUENCE,Z601_TYPE,Z601_CREDIT_DEBIT,Z601_LOCAL_SUM,Z601_OPEN_DATE,"
                  "Z601_CURRENCY,Z601_NOTE,Z601_USER_NAME\n")
        seq = 0
        by_suffix = {y: [n for n in numbers if n.endswith(f"-{y}")] for y in YEARS}
        while seq < transactions:
            seq += 1
            number = numbers[seq % len(numbers)] if seq <= len(numbers) else rnd.choice(numbers)
            kind = "ILC" if seq <= len(numbers) else rnd.choice(TYPES)
            year = int(number[-4:]) if number[-5] == "-" and number[-4:].isdigit() else YEARS[-1]
            day = f"{year - 1}{rnd.randint(7, 12):02d}{rnd.randint(1, 28):02d}"
            cents = rnd.randint(100, 500000) if kind == "ILC" else rnd.randint(1, 20000)
            if kind != "ILC" and rnd.random() < 0.01 and seq + 1 < transactions and by_suffix[year]:
                target = rnd.choice(by_suffix[year])
                if target != number:
                    out.write(f"{number},{seq:015d},TRN,D,{cents:014d},{day},USD,Transfered to {target},BENCH\n")
                    seq += 1
                    out.write(f"{target},{seq:015d},TRN,C,{cents:014d},{day},USD,Transfered from {number},BENCH\n")
                    continue
            cd = "C" if (kind in ("ILC", "ALC", "CRY") or rnd.random() < 0.03) else "D"
            out.write(f"{number},{seq:015d},{kind},{cd},{cents:014d},{day},USD,,BENCH\n")
    return z76, z601


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", type=int, default=20000)
    parser.add_argument("--transactions", type=int, default=200000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", default=None, help="an empty, migrated PostgreSQL database (optional)")
    parser.add_argument("--keep", default=None, help="write the CSVs and database here instead of a temp dir")
    args = parser.parse_args(argv)

    from flask_migrate import upgrade
    from app import create_app
    from app.extensions import db
    from app.setup import ensure_institution

    folder = Path(args.keep or tempfile.mkdtemp(prefix="aleph-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    z76, z601 = write_exports(folder, args.budgets, args.transactions, args.seed)
    print(f"generated {args.budgets} budgets, {args.transactions} transactions in "
          f"{time.perf_counter() - t0:.1f} s ({z76.stat().st_size + z601.stat().st_size:,} bytes)")
    config = bench_config(folder / "aleph.db")
    if args.database_url:
        config["SQLALCHEMY_DATABASE_URI"] = args.database_url
    else:
        (folder / "aleph.db").unlink(missing_ok=True)
    app = create_app(config)
    with app.app_context():
        upgrade()
        ensure_institution()
        db.session.commit()
    runner = app.test_cli_runner()
    results = {}
    for label, extra in (("dry run", ["--dry-run"]), ("migration", [])):
        start = time.perf_counter()
        result = runner.invoke(args=["migrate", "aleph-budgets", str(z76), str(z601), "--local-currency", "USD",
                                     *extra])
        results[label] = time.perf_counter() - start
        last = result.output.strip().splitlines()[-1] if result.output.strip() else ""
        print(f"{label}: {results[label]:.1f} s, exit code {result.exit_code}; {last}")
        if result.exit_code != 0 and result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
    with app.app_context():
        from app.funds.services import check_ledger
        start = time.perf_counter()
        diffs = check_ledger()
        print(f"ledger check: {len(diffs)} fund(s) differ from their transactions "
              f"({time.perf_counter() - start:.1f} s)")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    ok = results["migration"] <= 60
    print(f"migration of {args.budgets} budgets / {args.transactions} transactions: {results['migration']:.1f} s "
          f"({'within' if ok else 'OVER'} the 60 s target)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
