"""PostgreSQL: a rollover commit racing 20 invoice approvals on the same fund stays exact (issue 14).

SHARED (FY2026, 1,000.00) holds six approved PO lines of 50.00 each; twenty invoices of 20.00 charge
it directly. The rollover (same allocation, carry the available balance, lines re-encumbered at what
remains) and the approvals start together. Whatever order they land in, the result is that of some
serial order: the ledger checks clean, every PO line is moved whole (released 50.00, encumbered
50.00 on SHARED FY2027) or left exactly as it was, and the rollover's figures reconcile with the
expenditure it saw (a whole number of invoices): nothing is made or lost."""
from __future__ import annotations

import time
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.extensions import db
from app.funds import rollover as ro
from app.funds import services as fs
from app.funds.models import Fund, FundTransaction, Rollover
from app.invoices import services as invoices
from app.invoices.models import Invoice, ReviewRule
from app.ledger.rollover import EncumbranceRule, FundRule, LedgerRules, LineRules
from app.orders import services as os_
from app.orders.models import POLine
from tests.helpers import race

pytestmark = [pytest.mark.postgres_only, pytest.mark.committing]

LINES, INVOICES = 6, 20
PRICE, AMOUNT = D("50.00"), D("20.00")


def _fund(code: str, period: str) -> Fund:
    return db.session.scalars(select(Fund).where(Fund.code == code, Fund.fiscal_period.has(code=period))).one()


@pytest.mark.parametrize("delay", [0, 0.3], ids=["together", "rollover-later"])
def test_rollover_commit_racing_invoice_approvals_stays_exact(make_app, delay):
    """``delay``: the rollover starts that many seconds after the barrier, to land among the approvals
    (started together, it mostly runs first)."""
    app = make_app("postgresql", world=True, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": INVOICES + 5, "max_overflow": 5})
    with app.app_context():
        from testkit.world import load_world
        from tests.invoices.helpers import invoice, make_vendors
        from tests.orders.helpers import line
        world = load_world()
        admin, buyer = world.user("admin"), world.user("buyer")
        db.session.execute(db.update(ReviewRule).values(active=False))   # look-alike invoices
        plain = make_vendors(world).plain
        pols = [line(world, buyer, plain, price=str(PRICE), funds=[(world.shared, "100")], library=None,
                     title=f"Race {n}") for n in range(LINES)]
        for pol in pols:
            os_.approve_po_line(buyer, pol)
        fs.create_fiscal_period(admin, "FY2027", "Fiscal year 2027", date(2027, 1, 1), date(2027, 12, 31))
        db.session.commit()
        ids = [invoice(world, world.user("invoicer"), plain, number=f"RACE-{n}", amounts=(str(AMOUNT),),
                       process=True, library=None).id for n in range(INVOICES)]
        shared_id, admin_id, manager_id = world.shared.id, admin.id, world.users["invmanager"]
        before = {pol.id: [(s.fund_id, s.encumbered_amount) for s in pol.distribution] for pol in pols}
        allocated_before = db.session.scalar(select(func.sum(Fund.allocated)))
        assert _fund("SHARED", "FY2026").encumbered == LINES * PRICE
        db.session.commit()

    def delayed(*args):
        time.sleep(delay)
        return ro.commit(*args)

    def load(run):
        if run == "rollover":
            return delayed, db.session.get(User, admin_id), "FY2026", "FY2027", \
                LedgerRules(FundRule("same", D("0"), "available")), \
                LineRules(EncumbranceRule("remaining"), EncumbranceRule("remaining"))
        return invoices.approve_invoice, db.session.get(User, manager_id), db.session.get(Invoice, run)

    results = race(app, ["rollover", *ids], load, lambda act, *args: act(*args))
    assert results.count("ok") == INVOICES + 1, results

    with app.app_context():
        assert fs.check_ledger() == []
        stored = db.session.scalars(select(Rollover)).one()
        assert stored.status == "committed"
        report = ro.report_of(stored)
        row = next(f for f in report.funds if f.code == "SHARED")
        # the rollover saw a whole number of approvals, and its figures follow from what it saw
        seen = row.expended / AMOUNT
        assert seen == int(seen) and 0 <= seen <= INVOICES, row
        assert (row.allocated, row.encumbered) == (D("1000.00"), LINES * PRICE)
        assert row.left == row.allocated - row.expended == row.carried + row.not_carried
        assert row.carried == row.left - row.encumbered and row.new_allocation == D("1000.00")
        old, new = db.session.get(Fund, shared_id), _fund("SHARED", "FY2027")
        # every approval expended once on the old fund; the new one holds exactly what was given
        assert old.expended == INVOICES * AMOUNT and old.allocated == D("1000.00")
        assert new.allocated == row.new_allocation + row.carried and new.expended == 0
        assert db.session.scalar(select(func.sum(Fund.allocated))) == \
            allocated_before + report.totals["new_allocation"] + report.totals["carried"]
        # every PO line moved whole (all of them here: SHARED FY2027 exists and can take them)
        assert len(report.lines) == LINES and all(r.moved for r in report.lines)
        for r in report.lines:
            assert (r.remaining, r.released, r.encumbered) == (PRICE, PRICE, PRICE), r
        for pol in db.session.scalars(select(POLine).where(POLine.id.in_(before))):
            shares = [(s.fund_id, s.encumbered_amount) for s in pol.distribution]
            moved = [(new.id, PRICE)]
            assert shares in (before[pol.id], moved), (pol.number, shares)
            assert shares == moved
            assert os_.outstanding_encumbrance(pol) == {new.id: PRICE}
        assert (old.encumbered, new.encumbered) == (D("0.00"), LINES * PRICE)
        # no transaction posted twice: one expenditure per invoice, one release per line
        t = FundTransaction
        assert db.session.scalar(select(func.count()).where(t.fund_id == shared_id,
                                                           t.kind == "expenditure")) == INVOICES
        assert db.session.scalar(select(func.count()).where(t.fund_id == shared_id,
                                                           t.kind == "disencumbrance")) == LINES
