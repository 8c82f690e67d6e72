"""Generate (or reuse) the benchmark database: a large, realistic fund tree with many transactions.

    python -m bench.generate [--funds 2000] [--transactions 500000] [--out bench/data/bench.db]
                             [--seed 2026] [--force]

What it builds (deterministic for a given seed):

* 10 libraries (LIB01..LIB10) and one fiscal period BENCH2026 (2026-01-01..2026-12-31);
* 11 ledgers: INST (institution, available to all) and LIB01..LIB10 (each owned by its library);
* ``--funds`` funds spread over the ledgers (the institution ledger holds about a quarter) as a
  tree of summary funds with allocated children, two or three levels deep, plus a few allocated
  funds directly under a ledger; about 10% of the institution's allocated funds are restricted to
  one to three libraries, and about 1.5% of the funds are inactive;
* ``--transactions`` fund transactions over the allocated funds: one allocation per fund at the
  start of the year (a quarter get a mid-year top-up), then order lifecycles (encumbrance, later
  disencumbrance + expenditure, sometimes a cancellation), direct expenditures and the odd refund,
  and a few transfer pairs; activity per fund is skewed (log-normal), ids follow the dates;
* cached balances on every fund row equal to the sums of its transactions (checked with
  ``app.funds.services.check_ledger()`` before the file is published);
* users ``bench-admin`` (administrator, institution) and ``bench-manager`` (fund manager of LIB01),
  both with password ``PASSWORD`` below.

The database is written to ``<out>.tmp`` and renamed when complete, so a file at ``--out`` is
always whole. It is reused when its generator version, Alembic revision and row counts match.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import sqlite3
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "bench" / "data" / "bench.db"
PERIOD_CODE = "BENCH2026"
PERIOD_START, PERIOD_END = date(2026, 1, 1), date(2026, 12, 31)
ADMIN, MANAGER = "bench-admin", "bench-manager"
MANAGER_LIBRARY = "LIB01"
PASSWORD = "bench-password-2026"
N_LIBRARIES = 10
GENERATOR_VERSION = 3  # stored in PRAGMA user_version; bump when the data's shape changes
FAST_HASH = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}

SUBJECTS = ["Art History", "Biology", "Chemistry", "Classics", "Computer Science", "Economics", "Education",
            "Engineering", "English", "Geography", "Geology", "History", "Law", "Linguistics", "Mathematics",
            "Medicine", "Music", "Nursing", "Philosophy", "Physics", "Political Science", "Psychology",
            "Religion", "Sociology", "Statistics", "Theatre", "Veterinary Science", "Architecture",
            "Anthropology", "Archaeology", "Astronomy", "Business", "Film Studies", "Pharmacy"]
FORMATS = ["Monographs", "Serials", "E-books", "E-journals", "Databases", "Standing orders", "Media",
           "Special collections", "Course reserves", "Approval plan", "Firm orders", "Replacements"]
DIVISIONS = ["Humanities", "Sciences", "Social Sciences", "Health Sciences", "Professional Schools",
             "Special Collections", "General", "Reference", "Interlibrary", "Digital Resources"]
FUND_TYPES = [("GEN", "General"), ("ENDOW", "Endowment"), ("GIFT", "Gift"), ("GRANT", "Grant")]


def bench_config(db_path: Path) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(db_path).resolve()}", "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False, "TESTING": True, "PASSWORD_HASH_PARAMS": FAST_HASH}


def alembic_heads() -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    return set(ScriptDirectory.from_config(cfg).get_heads())


def is_complete(path: Path, funds: int, transactions: int) -> tuple[bool, str]:
    """Whether ``path`` holds a finished bench database of the requested size and current schema."""
    if not path.exists():
        return False, "missing"
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if con.execute("PRAGMA user_version").fetchone()[0] != GENERATOR_VERSION:
                return False, "generator version differs"
            revs = {r[0] for r in con.execute("SELECT version_num FROM alembic_version")}
            if revs != alembic_heads():
                return False, f"schema revision {sorted(revs)} is not the current head {sorted(alembic_heads())}"
            n_funds = con.execute("SELECT count(*) FROM fund").fetchone()[0]
            n_tx = con.execute("SELECT count(*) FROM fund_transaction").fetchone()[0]
            if (n_funds, n_tx) != (funds, transactions):
                return False, f"has {n_funds} funds / {n_tx} transactions"
            if not con.execute("SELECT 1 FROM fiscal_period WHERE code = ?", (PERIOD_CODE,)).fetchone():
                return False, "no bench fiscal period"
            users = {r[0] for r in con.execute("SELECT username FROM user")}
            if not {ADMIN, MANAGER} <= users:
                return False, "bench users missing"
        finally:
            con.close()
    except sqlite3.Error as exc:
        return False, f"unreadable ({exc})"
    return True, "complete"


# -- the fund tree ----------------------------------------------------------------------------

def _split_exact(total: int, weights: list[float]) -> list[int]:
    """Integers proportional to ``weights`` adding up to ``total`` (largest remainder)."""
    w_sum = sum(weights)
    exact = [total * w / w_sum for w in weights]
    parts = [math.floor(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def plan_ledger_funds(rng: random.Random, ledger_code: str, quota: int) -> list[dict]:
    """Funds of one ledger, parents before children: dicts with code, name, kind, parent (index)."""
    funds: list[dict] = []
    remaining, top = quota, 0

    def add(code, name, kind, parent):
        funds.append(dict(code=code, name=name, kind=kind, parent=parent))
        return len(funds) - 1

    direct = 0
    while remaining > 0:
        if remaining < 4 or rng.random() < 0.06:  # an allocated fund straight under the ledger
            direct += 1
            add(f"{ledger_code}-X{direct:02d}", f"{rng.choice(SUBJECTS)} {rng.choice(FORMATS)}", "allocated", None)
            remaining -= 1
            continue
        top += 1
        division = DIVISIONS[(top - 1) % len(DIVISIONS)] + ("" if top <= len(DIVISIONS) else f" {top}")
        t = add(f"{ledger_code}-{top:02d}", division, "summary", None)
        remaining -= 1
        if remaining >= 6 and rng.random() < 0.45:  # three levels: division -> subject -> formats
            for s in range(rng.randint(2, 4)):
                if remaining < 2:
                    break
                subject = rng.choice(SUBJECTS)
                sub = add(f"{ledger_code}-{top:02d}-{chr(65 + s)}", subject, "summary", t)
                remaining -= 1
                for k in range(min(rng.randint(3, 10), remaining)):
                    add(f"{ledger_code}-{top:02d}-{chr(65 + s)}{k + 1:02d}", f"{subject} {FORMATS[k % len(FORMATS)]}",
                        "allocated", sub)
                    remaining -= 1
        else:  # two levels: division -> subject funds
            for k in range(min(rng.randint(4, 14), remaining)):
                add(f"{ledger_code}-{top:02d}-{k + 1:02d}", f"{rng.choice(SUBJECTS)} {rng.choice(FORMATS)}",
                    "allocated", t)
                remaining -= 1
    return funds


# -- transactions -----------------------------------------------------------------------------

def _order_amount(rng: random.Random) -> int:
    """An order line in cents: median about 120.00, long tail."""
    return max(100, int(rng.lognormvariate(math.log(12000), 1.0)))


def simulate_spending(rng: random.Random, n_rows: int, po_counter: list[int]) -> list[tuple[str, int, str]]:
    """``n_rows`` (kind, amount_cents, reference) rows of orders, invoices, cancellations and refunds."""
    rows: list[tuple[str, int, str]] = []
    open_orders: list[tuple[int, str]] = []
    expended = 0
    while len(rows) < n_rows:
        left = n_rows - len(rows)
        r = rng.random()
        if open_orders and r < 0.42 and left >= 2:  # invoice an order: release it, spend about as much
            i = rng.randrange(len(open_orders))
            open_orders[i], open_orders[-1] = open_orders[-1], open_orders[i]
            amount, ref = open_orders.pop()
            invoiced = max(1, int(amount * rng.uniform(0.92, 1.06)))
            rows.append(("disencumbrance", amount, ref))
            rows.append(("expenditure", invoiced, ref.replace("PO-", "INV-")))
            expended += invoiced
        elif open_orders and r < 0.47:  # cancel an order
            i = rng.randrange(len(open_orders))
            open_orders[i], open_orders[-1] = open_orders[-1], open_orders[i]
            amount, ref = open_orders.pop()
            rows.append(("disencumbrance", amount, ref))
        elif r < 0.55:  # direct expenditure without an order, rarely a refund
            po_counter[0] += 1
            amount = _order_amount(rng)
            if expended > amount * 2 and rng.random() < 0.08:
                amount = -amount
            rows.append(("expenditure", amount, f"INV-{po_counter[0]:07d}"))
            expended += amount
        else:  # a new order line
            po_counter[0] += 1
            amount = _order_amount(rng)
            ref = f"PO-{po_counter[0]:07d}"
            rows.append(("encumbrance", amount, ref))
            open_orders.append((amount, ref))
    return rows


# -- generation -------------------------------------------------------------------------------

def generate(out: Path, n_funds: int = 2000, n_transactions: int = 500_000, seed: int = 2026,
             quiet: bool = False) -> dict:
    t0 = time.perf_counter()
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    for p in (tmp, Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
        p.unlink(missing_ok=True)
    rng = random.Random(seed)

    # 1. schema and the small objects, through the app.
    from flask_migrate import upgrade
    from app import create_app
    from app.auth.models import Role
    from app.auth.services import create_user
    from app.extensions import db
    from app.funds.models import FiscalPeriod, FundType, Ledger
    from app.org.models import Library
    from app.setup import ensure_institution

    app = create_app(bench_config(tmp))
    with app.app_context():
        upgrade()
        inst = ensure_institution()
        currency = inst.currency
        libraries = [Library(code=f"LIB{i:02d}", name=f"{DIVISIONS[i - 1]} Library") for i in range(1, N_LIBRARIES + 1)]
        db.session.add_all(libraries)
        period = FiscalPeriod(code=PERIOD_CODE, name="Benchmark year 2026", start_date=PERIOD_START,
                              end_date=PERIOD_END, status="active")
        db.session.add(period)
        fund_types = [FundType(code=c, name=n) for c, n in FUND_TYPES]
        db.session.add_all(fund_types)
        ledgers = [Ledger(code="INST", name="Institution acquisitions", fiscal_period=period, currency=currency,
                          owner=None, available_to_all=True)]
        ledgers += [Ledger(code=lib.code, name=f"{lib.name} acquisitions", fiscal_period=period, currency=currency,
                           owner=lib, available_to_all=False) for lib in libraries]
        db.session.add_all(ledgers)
        db.session.flush()
        admin = create_user(None, ADMIN, PASSWORD, full_name="Bench administrator", roles=[(Role.ADMIN, None)])
        manager_lib = next(lib for lib in libraries if lib.code == MANAGER_LIBRARY)
        create_user(None, MANAGER, PASSWORD, full_name="Bench fund manager",
                    roles=[(Role.FUND_MANAGER, manager_lib)])
        db.session.commit()
        ids = dict(period=period.id, admin=admin.id, libraries=[lib.id for lib in libraries],
                   fund_types=[ft.id for ft in fund_types],
                   ledgers=[(lg.id, lg.code, lg.owner_library_id) for lg in ledgers])
        db.session.remove()
        db.engine.dispose()
    t_schema = time.perf_counter()

    # 2. the fund tree.
    quotas = _split_exact(n_funds, [2.5] + [rng.uniform(0.6, 1.4) for _ in range(N_LIBRARIES)])
    fund_rows, availability, allocated_ids = [], [], []
    ledger_alloc: dict[int, list[int]] = {}
    next_id = 1
    for (ledger_id, ledger_code, owner_id), quota in zip(ids["ledgers"], quotas):
        planned = plan_ledger_funds(rng, ledger_code, quota)
        base = next_id
        for f in planned:
            fid = next_id
            next_id += 1
            parent_id = base + f["parent"] if f["parent"] is not None else None
            status = "inactive" if rng.random() < 0.015 else "active"
            overenc = rng.random() < 0.2
            overexp = rng.random() < 0.1
            to_all = True
            if owner_id is not None:
                to_all = False
            elif f["kind"] == "allocated" and rng.random() < 0.10:
                to_all = False
                for lib in rng.sample(ids["libraries"], rng.randint(1, 3)):
                    availability.append((fid, lib))
            fund_rows.append(dict(
                id=fid, code=f["code"], name=f["name"], fiscal_period_id=ids["period"], ledger_id=ledger_id,
                parent_id=parent_id, kind=f["kind"], external_id="", fund_type_id=rng.choice(ids["fund_types"]),
                status=status, notes="", overencumbrance_allowed=int(overenc),
                overencumbrance_limit_percent=rng.choice([500, 1000, 1500]) if overenc else 0,
                overexpenditure_allowed=int(overexp),
                overexpenditure_limit=rng.choice([50000, 100000, 250000]) if overexp else 0,
                owner_library_id=owner_id, available_to_all=int(to_all), allocated=0, encumbered=0, expended=0))
            if f["kind"] == "allocated":
                allocated_ids.append(fid)
                ledger_alloc.setdefault(ledger_id, []).append(fid)
    by_id = {f["id"]: f for f in fund_rows}

    # 3. the transactions: (date ordinal, seq, fund_id, kind, cents, reference, transfer_id, counterpart)
    n_alloc = len(allocated_ids)
    topped_up = {fid for fid in allocated_ids if rng.random() < 0.25}
    n_pairs = min(500, n_transactions // 1000)
    spending_total = n_transactions - n_alloc - len(topped_up) - 2 * n_pairs
    if spending_total < 0:
        sys.exit(f"--transactions {n_transactions} is too small for {n_alloc} allocated funds")
    weights = [rng.lognormvariate(0, 0.9) * (0.2 if by_id[fid]["status"] == "inactive" else 1.0)
               for fid in allocated_ids]
    per_fund = _split_exact(spending_total, weights)

    d_first, d_last = (PERIOD_START + timedelta(days=4)).toordinal(), (PERIOD_END - timedelta(days=11)).toordinal()
    d_alloc = (PERIOD_START + timedelta(days=1)).toordinal()
    tx: list[tuple] = []
    seq = 0
    po_counter = [0]
    balances = {fid: [0, 0, 0] for fid in allocated_ids}
    for fid, count in zip(allocated_ids, per_fund):
        spending = simulate_spending(rng, count, po_counter)
        days = sorted(rng.randint(d_first, d_last) for _ in range(count))
        bal = balances[fid]
        for (kind, cents, ref), day in zip(spending, days):
            if kind == "encumbrance":
                bal[1] += cents
            elif kind == "disencumbrance":
                bal[1] -= cents
            else:
                bal[2] += cents
        committed = bal[1] + bal[2]
        if committed <= 0:
            total_alloc = rng.randint(10, 200) * 10000
        elif rng.random() < 0.04:  # over-committed fund
            total_alloc = max(10000, int(committed * rng.uniform(0.85, 0.99)) // 10000 * 10000)
        else:
            total_alloc = (int(committed * rng.uniform(1.02, 1.5)) // 10000 + 1) * 10000
        main = total_alloc
        if fid in topped_up:
            top_up = max(10000, total_alloc * rng.randint(10, 20) // 100 // 10000 * 10000)
            main = max(10000, total_alloc - top_up)
            seq += 1
            tx.append((rng.randint(date(2026, 4, 1).toordinal(), date(2026, 9, 30).toordinal()), seq, fid,
                       "allocation", top_up, "ALLOC-2026-TOPUP", None, None))
            bal[0] += top_up
        seq += 1
        tx.append((d_alloc, seq, fid, "allocation", main, "ALLOC-2026", None, None))
        bal[0] += main
        for (kind, cents, ref), day in zip(spending, days):
            seq += 1
            tx.append((day, seq, fid, kind, cents, ref, None, None))

    candidates = [fids for fids in ledger_alloc.values() if len(fids) >= 2]
    cand_weights = [len(fids) for fids in candidates]
    for n in range(n_pairs):
        fids = rng.choices(candidates, cand_weights)[0]
        src, dst = rng.sample(fids, 2)
        cents = rng.randint(5, 200) * 1000
        day = rng.randint(d_first, d_last)
        tid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        ref = f"TRF-{n + 1:04d}"
        seq += 1
        tx.append((day, seq, src, "transfer", -cents, ref, tid, dst))
        seq += 1
        tx.append((day, seq, dst, "transfer", cents, ref, tid, src))
        balances[src][0] -= cents
        balances[dst][0] += cents
    tx.sort(key=lambda r: (r[0], r[1]))
    assert len(tx) == n_transactions, (len(tx), n_transactions)
    for fid, (a, e, x) in balances.items():
        by_id[fid].update(allocated=a, encumbered=e, expended=x)
    t_plan = time.perf_counter()

    # 4. bulk load with sqlite3 (money as integer cents, as app.types.Fixed stores it on SQLite).
    con = sqlite3.connect(tmp, isolation_level=None)
    con.execute("PRAGMA journal_mode=DELETE")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("BEGIN")
    cols = list(fund_rows[0])
    con.executemany(f"INSERT INTO fund ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                    [tuple(f[c] for c in cols) for f in fund_rows])
    con.executemany("INSERT INTO fund_availability (fund_id, library_id) VALUES (?, ?)", availability)
    day_text = {}
    clock = [f"{8 + i % 10:02d}:{(i * 7) % 60:02d}:{(i * 13) % 60:02d}.000000" for i in range(97)]
    admin_id = ids["admin"]

    def tx_rows():
        for i, (day, s, fid, kind, cents, ref, tid, counterpart) in enumerate(tx, start=1):
            d = day_text.get(day)
            if d is None:
                d = day_text[day] = date.fromordinal(day).isoformat()
            yield (i, fid, kind, cents, currency, d, ref, "", admin_id, f"{d} {clock[s % 97]}", tid, counterpart,
                   None, None)

    con.executemany(
        "INSERT INTO fund_transaction (id, fund_id, kind, amount, currency, transaction_date, reference, note, "
        "actor_id, created_at, transfer_id, counterpart_fund_id, source_type, source_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", tx_rows())
    con.execute("COMMIT")
    con.close()
    t_load = time.perf_counter()

    # 5. check through the app that cached balances equal the transactions.
    app = create_app(bench_config(tmp))
    with app.app_context():
        from app.funds.services import check_ledger, recomputed_balances
        diffs = check_ledger()
        assert not diffs, "cached balances differ from transactions:\n" + "\n".join(map(str, diffs[:20]))
        rebuilt = recomputed_balances()
        assert len(rebuilt) == n_alloc, (len(rebuilt), n_alloc)
        db.session.remove()
        db.engine.dispose()
    t_check = time.perf_counter()

    # 6. publish.
    con = sqlite3.connect(tmp, isolation_level=None)
    con.execute("PRAGMA journal_mode=DELETE")  # fold any WAL back into the file before renaming
    con.execute(f"PRAGMA user_version={GENERATOR_VERSION}")
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("library", "fiscal_period", "ledger", "fund", "fund_availability", "fund_transaction", "user")}
    counts["summary funds"] = con.execute("SELECT count(*) FROM fund WHERE kind='summary'").fetchone()[0]
    counts["allocated funds"] = con.execute("SELECT count(*) FROM fund WHERE kind='allocated'").fetchone()[0]
    counts["max depth"] = con.execute(
        "WITH RECURSIVE t(id, d) AS (SELECT id, 1 FROM fund WHERE parent_id IS NULL "
        "UNION ALL SELECT f.id, t.d + 1 FROM fund f JOIN t ON f.parent_id = t.id) SELECT max(d) FROM t").fetchone()[0]
    counts["by kind"] = dict(con.execute("SELECT kind, count(*) FROM fund_transaction GROUP BY kind ORDER BY kind"))
    con.close()
    for suffix in ("-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
        Path(str(out) + suffix).unlink(missing_ok=True)
    os.replace(tmp, out)
    t_end = time.perf_counter()

    say(f"Generated {out} (seed {seed}) in {t_end - t0:.1f} s "
        f"(schema+users {t_schema - t0:.1f} s, plan {t_plan - t_schema:.1f} s, bulk load {t_load - t_plan:.1f} s, "
        f"check_ledger {t_check - t_load:.1f} s)")
    for k, v in counts.items():
        say(f"  {k:18} {v}")
    say(f"  check_ledger(): 0 differences; users {ADMIN} / {MANAGER} ({MANAGER_LIBRARY}), password {PASSWORD!r}")
    return counts


def ensure(out: Path = DEFAULT_OUT, n_funds: int = 2000, n_transactions: int = 500_000, seed: int = 2026,
           force: bool = False) -> Path:
    """Reuse ``out`` when it is complete, else generate it."""
    out = Path(out).resolve()
    ok, why = is_complete(out, n_funds, n_transactions)
    if ok and not force:
        print(f"Reusing {out} ({n_funds} funds, {n_transactions} transactions)", flush=True)
        return out
    print(f"Generating {out}: {'--force' if ok else why}", flush=True)
    generate(out, n_funds, n_transactions, seed)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--funds", type=int, default=2000)
    ap.add_argument("--transactions", type=int, default=500_000)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--force", action="store_true", help="regenerate even if a complete database exists")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    ensure(args.out, args.funds, args.transactions, args.seed, args.force)
    print(f"Done in {time.perf_counter() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    main()
