"""Save and recalculate an invoice with 1,000 lines and pro-rata charges.

    python -m bench.bench_invoice_save [--runs 10] [--warmup 2] [--db bench/data/invoice_save.db] [--force]
                                       [--profile] [--postgres URL]

Builds (once; reused while the build version and schema match) a SQLite database with three
libraries, one active fiscal period, an institution ledger and one ledger per library (8 funds
each, generously allocated), a vendor, 300 approved (encumbered) PO lines of library LIB01, the
default review rules, one manual approval rule, and invoice ``BENCH-1000`` of LIB01: 1,000
regular lines (a third linked to a PO line at its price; each line's distribution over one or two
funds, by percent or by amount) with a shipment and a discount charge spread pro rata.

One measured run is what "save and continue" does on the server, as the invoice operator
``bench-invoicer``: load the invoice, ``update_invoice`` with the same 1,000 lines each changed by
a cent (the header total follows, so the review rules pass), ``charges_of``, ``process_invoice``
(review rules, then the approval rule: In Approval), and the final flush. The transaction is
rolled back after each run (not timed), so every run starts from the same invoice.

Target from the issue: median <= 1 s. ``--postgres URL`` runs the same on an (empty) PostgreSQL
database too, e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/bench`` (its tables are
dropped and rebuilt).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import statistics
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from bench import common

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "bench" / "data" / "invoice_save.db"
PASSWORD = common.PASSWORD
BUILD_VERSION = 1
TARGET_S = 1.0
LINES, POLS, FUNDS_PER_LEDGER = 1000, 300, 8
INVOICE_NUMBER, INVOICE_DATE = "BENCH-1000", date(2026, 3, 1)
CHARGES = {"shipment": Decimal("250.00"), "discount": Decimal("-75.50")}
OPERATOR = "bench-invoicer"


def make_app(uri: str):
    from app import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": uri, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "bench",
                       "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 8, "parallelism": 1}})


@dataclass
class LineSpec:
    price: Decimal
    quantity: int
    pol: int | None                        # index into the PO lines (by id), or None
    method: str                            # percent | amount
    shares: list[tuple[int, str]]          # (index into the usable funds, percent or share of the total)


def pol_prices(seed: int = 7) -> list[tuple[Decimal, list[int]]]:
    """Each PO line's unit price and its funds (indexes into the usable funds)."""
    rng = random.Random(seed)
    return [(Decimal(rng.randrange(800, 12000)) / 100, rng.sample(range(2 * FUNDS_PER_LEDGER), rng.choice((1, 2))))
            for _ in range(POLS)]


def line_specs(seed: int = 2026) -> list[LineSpec]:
    """The invoice's lines, the same on every call."""
    rng = random.Random(seed)
    pols = pol_prices()
    specs = []
    for n in range(LINES):
        pol = n // 3 if n % 3 == 0 and n // 3 < POLS else None
        if pol is not None:
            price, fund_idx = pols[pol]
        else:
            price, fund_idx = Decimal(rng.randrange(500, 20000)) / 100, rng.sample(range(2 * FUNDS_PER_LEDGER),
                                                                                rng.choice((1, 1, 2)))
        method = "amount" if len(fund_idx) == 2 and rng.random() < 0.3 else "percent"
        if len(fund_idx) == 1:
            shares = [(fund_idx[0], "100")]
        elif method == "percent":
            first = rng.choice(("50", "60", "75", "33.33"))
            shares = [(fund_idx[0], first), (fund_idx[1], str(Decimal(100) - Decimal(first)))]
        else:
            shares = [(fund_idx[0], "0.4"), (fund_idx[1], "0.6")]   # fractions of the total, made exact below
        specs.append(LineSpec(price, 1, pol, method, shares))
    return specs


def invoice_fields(specs: list[LineSpec], funds: list, pols: list, vendor, library, bump: Decimal):
    """InvoiceFields for the bench invoice with every unit price raised by ``bump``."""
    from app.funds.distribution import Share
    from app.invoices import services as invoices
    lines = []
    for spec in specs:
        price = spec.price + bump
        total = price * spec.quantity
        if spec.method == "amount":
            first = (total * Decimal(spec.shares[0][1])).quantize(Decimal("0.01"))
            shares = [Share(funds[spec.shares[0][0]], first), Share(funds[spec.shares[1][0]], total - first)]
        else:
            shares = [Share(funds[i], value) for i, value in spec.shares]
        lines.append(invoices.LineFields(unit_price=price, quantity=spec.quantity,
                                    po_line=pols[spec.pol] if spec.pol is not None else None,
                                    distribution_method=spec.method, distribution=shares,
                                    price_note="bench" if bump else ""))
    total = sum((ln.unit_price * ln.quantity for ln in lines), Decimal(0)) + sum(CHARGES.values())
    return invoices.InvoiceFields(number=INVOICE_NUMBER, vendor=vendor, invoice_date=INVOICE_DATE, total_amount=total,
                             currency="EUR", owner_library=library, charges=dict(CHARGES), pro_rata=True, lines=lines)


def usable_funds():
    """The funds LIB01's invoice may use: the institution ledger's, then LIB01's (by code)."""
    from sqlalchemy import select
    from app.extensions import db
    from app.funds.models import Fund
    return db.session.scalars(select(Fund).where(Fund.code.like("INST-%") | Fund.code.like("LIB01-%"))
                              .order_by(Fund.code)).all()


def build_data() -> None:
    """Everything but the schema, in the app context (the schema is already there)."""
    from sqlalchemy import select
    from app.auth.models import Role, User
    from app.auth.services import create_user
    from app.extensions import db
    from app.funds import services as fs
    from app.funds.distribution import Share
    from app.invoices import rules
    from app.invoices import services as invoices
    from app.invoices.models import ApprovalRule
    from app.orders import services as orders
    from app.orders.models import POLine
    from app.vendors import services as vendors

    admin, period, libs = common.bench_institution(3)
    create_user(None, OPERATOR, PASSWORD, roles=[(Role.INVOICE_OPERATOR, None)])
    buyer = create_user(None, "bench-buyer", PASSWORD, roles=[(Role.PURCHASING_OPERATOR, None)])
    for code, owner in (("INST", None), *((lib.code, lib) for lib in libs)):
        ledger = fs.create_ledger(admin, code, f"{code} ledger", period, "EUR", owner=owner)
        for n in range(1, FUNDS_PER_LEDGER + 1):
            fund = fs.create_fund(admin, ledger, f"{code}-F{n:02d}", fs.FundFields(name=f"{code} fund {n}"))
            fs.allocate(admin, fund, Decimal("5000000.00"))
    vendor = vendors.create_vendor(admin, "V001", vendors.VendorFields(name="Bench books", currency="EUR"))
    db.session.commit()
    funds = usable_funds()
    for n, (price, fund_idx) in enumerate(pol_prices(), 1):
        shares = [Share(funds[fund_idx[0]], "100")] if len(fund_idx) == 1 else \
            [Share(funds[fund_idx[0]], "50"), Share(funds[fund_idx[1]], "50")]
        pol = orders.create_po_line(buyer, orders.POLineFields(
            vendor=vendor, title=f"Bench title {n}", currency="EUR", list_price=price, quantity=1,
            owner_library=libs[0], inventory_library=libs[0], distribution=shares))
        orders.approve_po_line(buyer, pol, on=date(2026, 2, 1))
        if n % 50 == 0:
            db.session.commit()
    rules.ensure_default_rules()
    db.session.add(ApprovalRule(position=1, name="Every invoice: manual approval", automatic=False))
    db.session.commit()
    pols = db.session.scalars(select(POLine).order_by(POLine.id)).all()
    op = db.session.scalar(select(User).where(User.username == OPERATOR))
    invoices.create_invoice(op, invoice_fields(line_specs(), funds, pols, vendor, libs[0], Decimal(0)))
    db.session.commit()


def build_sqlite(path: Path) -> None:
    from flask_migrate import upgrade
    from app.extensions import db
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    app = make_app(f"sqlite:///{tmp}")
    with app.app_context():
        upgrade()
        build_data()
        db.session.execute(db.text("ANALYZE"))
        db.session.execute(db.text(f"PRAGMA user_version = {BUILD_VERSION}"))
        db.session.commit()
        db.engine.dispose()
    os.replace(tmp, path)


def ensure_sqlite(path: Path, force: bool) -> None:
    if path.exists() and not force:
        import sqlite3
        with sqlite3.connect(path) as conn:
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                lines = conn.execute("SELECT count(*) FROM invoice_line").fetchone()[0]
                head = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
            except sqlite3.Error:
                version, lines, head = -1, -1, None
        from alembic.script import ScriptDirectory
        if (version, lines, head) == (BUILD_VERSION, LINES,
                                      ScriptDirectory(str(ROOT / "migrations")).get_current_head()):
            return
    path.parent.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    build_sqlite(path)
    print(f"built {path} in {time.perf_counter() - t:.1f} s")


def build_postgres(app) -> None:
    from flask_migrate import upgrade
    from app.extensions import db
    with app.app_context():
        db.session.execute(db.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.session.commit()
        upgrade()
        build_data()
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()


class SaveRun:
    """One "save and continue" of the bench invoice; ``stats`` times its parts."""

    def __init__(self, app):
        from sqlalchemy import select
        from app.auth.models import User
        from app.extensions import db
        from app.invoices.models import Invoice
        self.app, self.n = app, 0
        self.specs = line_specs()
        with app.app_context():
            self.invoice_id = db.session.scalar(select(Invoice.id).where(Invoice.number == INVOICE_NUMBER))
            self.user_id = db.session.scalar(select(User.id).where(User.username == OPERATOR))
            db.session.remove()
        self.parts: dict[str, list[float]] = {"load": [], "update_invoice": [], "charges_of": [],
                                              "process_invoice": []}
        self.last = None

    def __call__(self) -> None:
        from sqlalchemy import select
        from app.auth.models import User
        from app.extensions import db
        from app.invoices import services as invoices
        from app.invoices.charges import charges_of
        from app.orders.models import POLine
        self.n += 1
        bump = Decimal("0.01") if self.n % 2 else Decimal("0.02")
        with self.app.app_context():
            try:
                t0 = time.perf_counter()
                actor = db.session.get(User, self.user_id)
                invoice = invoices.get_invoice(actor, self.invoice_id)
                funds = usable_funds()
                pols = db.session.scalars(select(POLine).order_by(POLine.id)).all()
                fields = invoice_fields(self.specs, funds, pols, invoice.vendor, invoice.owner_library, bump)
                t1 = time.perf_counter()
                invoices.update_invoice(actor, invoice, fields)
                t2 = time.perf_counter()
                charges = charges_of(invoice)
                t3 = time.perf_counter()
                invoices.process_invoice(actor, invoice)
                db.session.flush()
                t4 = time.perf_counter()
                self.last = (invoice.status, list(invoice.review_problems), len(invoice.lines), len(charges),
                             sum(c.fund_amount for c in charges))
            finally:
                db.session.rollback()
                db.session.remove()
        for key, (a, b) in zip(self.parts, ((t0, t1), (t1, t2), (t2, t3), (t3, t4))):
            self.parts[key].append(b - a)


def measure(label: str, app, runs: int, warmup: int, profile: bool) -> float:
    run = SaveRun(app)
    for _ in range(warmup):
        run()
    for values in run.parts.values():
        values.clear()
    times, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        run()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    status, problems, lines, charges, charged = run.last
    med = statistics.median(times)
    print(f"{label}: save and recalculate median {med:.3f} s (min {min(times):.3f}, max {max(times):.3f}, "
          f"{runs} runs; CPU time of this process median {statistics.median(cpu):.3f} s, includes the untimed "
          f"rollback)")
    print("  parts (medians): " + ", ".join(f"{k} {statistics.median(v):.3f} s" for k, v in run.parts.items()))
    print(f"  result: {lines} lines, {charges} fund charges totalling {charged} EUR; status {status}"
          + (f"; review problems: {problems}" if problems else "; no review problem"))
    if profile:
        prof = cProfile.Profile()
        prof.enable()
        run()
        prof.disable()
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out).strip_dirs()
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(25)
        print(out.getvalue())
    return med


def sql_count(app) -> int:
    """SQL statements in one run (instrumented separately)."""
    from sqlalchemy import event
    from app.extensions import db
    count = [0]

    def before(*_args):
        count[0] += 1
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        SaveRun(app)()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return count[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--db", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile one more run")
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL database (rebuilt)")
    args = parser.parse_args()
    import logging
    logging.getLogger("alembic").setLevel(logging.WARNING)
    ensure_sqlite(args.db, args.force)
    print(f"Invoice {INVOICE_NUMBER}: {LINES} lines ({POLS} with a PO line), charges "
          f"{', '.join(f'{k} {v}' for k, v in CHARGES.items())} pro rata; load average {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} CPUs")
    app = make_app(f"sqlite:///{args.db.resolve()}")
    results = {"SQLite": measure("SQLite", app, args.runs, args.warmup, args.profile)}
    print(f"  SQL statements per run: {sql_count(app)}")
    if args.postgres:
        pg = make_app(args.postgres)
        t = time.perf_counter()
        build_postgres(pg)
        print(f"built the PostgreSQL database in {time.perf_counter() - t:.1f} s")
        results["PostgreSQL"] = measure("PostgreSQL", pg, args.runs, args.warmup, args.profile)
        print(f"  SQL statements per run: {sql_count(pg)}")
    for name, med in results.items():
        print(f"target ({name}): save-and-recalculate median <= {TARGET_S:.0f} s -> "
              f"{'meets' if med <= TARGET_S else 'MISSES'} ({med:.3f} s)")


if __name__ == "__main__":
    main()
