"""``insert_rows`` and ``update_rows`` (app/database.py), below and above the size from which
PostgreSQL gets one INSERT/UPDATE of unnested arrays: the same rows, ids in order, the columns'
Python defaults filled in, NULLs and exact amounts kept."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from app.database import UNNEST_FROM, insert_rows, update_rows
from app.extensions import db
from app.funds.models import Fund, FundTransaction

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("count", [3, UNNEST_FROM + 20])
def test_insert_rows_keeps_every_value_and_fills_defaults(world, count):
    admin = world.user("admin")
    values = [{"fund_id": world.fund_a.id if n % 2 else world.shared.id, "kind": "allocation",
               "amount": D(f"{n}.05") - D("7.00"), "currency": "EUR", "transaction_date": date(2026, 3, 1 + n % 28),
               "note": f"row {n} – ‘quoted’, \"double\", {{braces}}, comma", "actor_id": admin.id if n % 3 else None,
               "counterpart_fund_id": None, "source_type": None if n % 2 else "po_line", "source_id": n or None}
              for n in range(count)]
    ids = insert_rows(db.session, FundTransaction, values)
    assert len(ids) == count and ids == sorted(set(ids))
    db.session.expire_all()
    rows = {t.id: t for t in db.session.scalars(select(FundTransaction).where(FundTransaction.id.in_(ids)))}
    for row_id, v in zip(ids, values):
        t = rows[row_id]
        assert {k: getattr(t, k) for k in v} == v
        assert t.reference == "" and t.transfer_id is None and t.created_at is not None   # the defaults
    more = insert_rows(db.session, FundTransaction, values[:1])
    assert more[0] > ids[-1]


@pytest.mark.parametrize("count", [3, UNNEST_FROM + 20])
def test_update_rows_sets_each_row_its_values(world, count):
    ids = insert_rows(db.session, Fund, [
        {"code": f"BULK{n:04d}", "name": f"Bulk {n}", "fiscal_period_id": world.period.id, "ledger_id": world.gen.id,
         "kind": "allocated", "allocated": D("0"), "encumbered": D("0"), "expended": D("0")} for n in range(count)])
    update_rows(db.session, Fund, [{"id": i, "allocated": D(n) + D("0.01"), "notes": f"n{n}" if n % 2 else "",
                                    "external_id": "x'y"} for n, i in enumerate(ids)])
    db.session.expire_all()
    got = {f.id: (f.allocated, f.notes, f.external_id, f.encumbered, f.name)
           for f in db.session.scalars(select(Fund).where(Fund.id.in_(ids)))}
    assert got == {i: (D(n) + D("0.01"), f"n{n}" if n % 2 else "", "x'y", D("0.00"), f"Bulk {n}")
                   for n, i in enumerate(ids)}
