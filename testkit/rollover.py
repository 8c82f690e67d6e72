"""A large world for the fiscal-year rollover (the kill-mid-commit test and bench/bench_rollover.py):
one ledger of ``funds`` funds (a summary fund per 20 allocated ones) in a period, each allocated
100,000.00 with some expended, and ``lines`` open PO lines (every third continuous, every tenth
split over two funds) encumbered on them; then the next period, empty. Rows are written in bulk,
the money through app.funds.services.post_transactions_bulk (so the ledger check stays clean).
Call inside an app context; commits."""
from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from app.database import insert_rows
from app.extensions import db
from app.funds import services as fs
from app.funds.models import FiscalPeriod, Fund, Ledger
from app.ledger import TransactionKind
from app.orders import services as orders
from app.orders.models import POLine, POLineFund
from app.vendors.models import Vendor

ALLOCATED = Decimal("100000.00")


def build(admin, period: FiscalPeriod, *, funds: int, lines: int, target: str = "NEXT", seed: int = 2026,
          ledger_code: str = "BIG") -> FiscalPeriod:
    """Fill ``period`` (see the module's docstring); returns the new, empty target period."""
    rng = random.Random(seed)
    ledger = Ledger(code=ledger_code, name="Rollover ledger", fiscal_period_id=period.id, currency="EUR")
    db.session.add(ledger)
    db.session.flush()
    summaries = max(1, funds // 21)
    summary_ids = insert_rows(db.session, Fund, [
        {"code": f"S{n:05d}", "name": f"Summary {n}", "fiscal_period_id": period.id, "ledger_id": ledger.id,
         "kind": "summary", "allocated": Decimal("0"), "encumbered": Decimal("0"), "expended": Decimal("0")}
        for n in range(summaries)])
    allocated_ids = insert_rows(db.session, Fund, [
        {"code": f"F{n:05d}", "name": f"Fund {n}", "fiscal_period_id": period.id, "ledger_id": ledger.id,
         "kind": "allocated", "parent_id": summary_ids[n % summaries], "allocated": Decimal("0"),
         "encumbered": Decimal("0"), "expended": Decimal("0")}
        for n in range(funds - summaries)])
    db.session.flush()
    by_id = {f.id: f for f in db.session.scalars(db.select(Fund).where(Fund.id.in_(allocated_ids)))}
    fs.post_transactions_bulk(admin, [fs.Posting(by_id[i], TransactionKind.ALLOCATION, ALLOCATED)
                                      for i in allocated_ids], reference="INIT", on=period.start_date)
    fs.post_transactions_bulk(admin, [fs.Posting(by_id[i], TransactionKind.EXPENDITURE,
                                                 Decimal(rng.randrange(0, 2_000_000)) / 100)
                                      for i in allocated_ids], reference="SPENT", on=period.start_date)
    vendor = Vendor(code=f"V{ledger_code}", name="Rollover vendor", currency="EUR")
    db.session.add(vendor)
    db.session.flush()
    prices = [Decimal(rng.randrange(500, 50_000)) / 100 for _ in range(lines)]
    pol_ids = insert_rows(db.session, POLine, [
        {"number": f"RL{n:08d}", "status": "waiting_for_invoice", "order_type": "continuous" if n % 3 == 0 else "one_time",
         "vendor_id": vendor.id, "title": f"Title {n}", "currency": "EUR", "list_price": prices[n],
         "net_price": prices[n]} for n in range(lines)])
    shares, postings = [], []
    for n, (pol_id, price) in enumerate(zip(pol_ids, prices)):
        first = allocated_ids[rng.randrange(len(allocated_ids))]
        if n % 10 == 0:
            second = allocated_ids[rng.randrange(len(allocated_ids))]
            half = (price / 2).quantize(Decimal("0.01"))
            parts = [(first, Decimal(50), half), (second, Decimal(50), price - half)] if second != first \
                else [(first, Decimal(100), price)]
        else:
            parts = [(first, Decimal(100), price)]
        for fund_id, percent, amount in parts:
            shares.append({"po_line_id": pol_id, "fund_id": fund_id, "percent": percent, "amount": amount,
                           "encumbered_amount": amount, "encumbered_currency": "EUR"})
            postings.append(fs.Posting(by_id[fund_id], TransactionKind.ENCUMBRANCE, amount,
                                       source_type=orders.SOURCE, source_id=pol_id, reference=f"RL{n:08d}"))
    insert_rows(db.session, POLineFund, shares)
    fs.post_transactions_bulk(admin, postings, on=period.start_date)
    next_period = fs.create_fiscal_period(admin, target, "The next year", date(period.end_date.year + 1, 1, 1),
                                          date(period.end_date.year + 1, 12, 31))
    db.session.commit()
    return next_period
