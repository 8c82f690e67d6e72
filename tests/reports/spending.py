"""A small hand-built spending world for the reports, on top of the standard world (testkit/world.py).

Figures (EUR, fiscal period FY2026, today 2026-12-05); the world's own allocations of 1,000.00 to
SHARED (GEN, shared with all), A-BKS (LEDA, library A) and B-BKS (LEDB, library B) are dated today.

| fund   | day        | kind           | amount | reference |
|--------|------------|----------------|--------|-----------|
| B-BKS  | 2026-01-15 | encumbrance    |  99.99 | PO-9      |  open, 324 days
| SHARED | 2026-02-01 | expenditure    |  30.55 | INV-0     |
| A-BKS  | 2026-02-10 | encumbrance    | 200.00 | PO-1      |
| A-BKS  | 2026-03-05 | disencumbrance | 200.00 | PO-1      |  released by its invoice
| A-BKS  | 2026-03-05 | expenditure    | 210.00 | INV-1     |
| B-BKS  | 2026-04-02 | expenditure    |  50.00 | INV-2     |
| A-BKS  | 2026-06-01 | encumbrance    | 150.00 | PO-2      |  open, 187 days
| A-BKS  | 2026-11-20 | encumbrance    |  80.00 | PO-3      |  open, 15 days

Fund type MONO on SHARED and A-BKS; B-BKS has none.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.extensions import db
from app.funds import services as funds
from app.funds.models import FundType

POSTINGS = [
    ("fund_b", date(2026, 1, 15), "encumbrance", "99.99", "PO-9"),
    ("shared", date(2026, 2, 1), "expenditure", "30.55", "INV-0"),
    ("fund_a", date(2026, 2, 10), "encumbrance", "200.00", "PO-1"),
    ("fund_a", date(2026, 3, 5), "disencumbrance", "200.00", "PO-1"),
    ("fund_a", date(2026, 3, 5), "expenditure", "210.00", "INV-1"),
    ("fund_b", date(2026, 4, 2), "expenditure", "50.00", "INV-2"),
    ("fund_a", date(2026, 6, 1), "encumbrance", "150.00", "PO-2"),
    ("fund_a", date(2026, 11, 20), "encumbrance", "80.00", "PO-3"),
]


def build_spending(world) -> None:
    admin = world.user("admin")
    mono = FundType(code="MONO", name="Monographs")
    db.session.add(mono)
    db.session.flush()
    world.shared.fund_type_id = world.fund_a.fund_type_id = mono.id
    for attr, day, kind, amount, ref in POSTINGS:
        funds.post(admin, getattr(world, attr), kind, Decimal(amount), reference=ref, on=day)
    db.session.commit()
