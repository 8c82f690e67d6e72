"""The fiscal-year rollover through its services (app.funds.rollover), on SQLite and PostgreSQL:
the issue's exact figures, preview = commit, a second commit changes nothing, undo."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from app.errors import RuleViolation
from app.extensions import db
from app.funds import rollover as ro
from app.funds import services as fs
from app.funds.models import Fund, FundTransaction, Rollover
from app.ledger.rollover import EncumbranceRule, FundRule, LedgerRules, LineRules
from app.orders import services as os_
from app.orders.models import POLine
from tests.orders.helpers import line

pytestmark = pytest.mark.postgres

LINES = LineRules(EncumbranceRule("remaining"), EncumbranceRule("remaining", D("5")))


def rules(carry: str) -> LedgerRules:
    return LedgerRules(FundRule("adjust", D("3"), carry))


@pytest.fixture
def books(world, orders):
    """BOOKS FY2026: allocated 10,000.00, expended 6,250.50, a one-time line encumbered 700.00 and a
    continuous one 500.00; FY2027 exists. (The world's summary fund BOOKS is renamed MONO.)"""
    admin, buyer = world.user("admin"), world.user("buyer")
    world.books.code = "MONO"
    fund = fs.create_fund(admin, world.gen, "BOOKS", fs.FundFields(name="Books", parent=world.books,
                                                                    external_id="ERP-7", notes="monographs"))
    fs.allocate(admin, fund, "10000.00", reference="INIT")
    fs.post(admin, fund, "expenditure", D("6250.50"), reference="INV-1")
    one = line(world, buyer, orders.eur, price="700.00", funds=[(fund, "100")], library=None, title="One-time")
    cont = line(world, buyer, orders.eur, price="500.00", funds=[(fund, "100")], library=None, title="Serial",
                order_type="continuous", renewal_date=date(2026, 12, 1))
    os_.approve_po_line(buyer, one)
    os_.approve_po_line(buyer, cont)
    fs.create_fiscal_period(admin, "FY2027", "Fiscal year 2027", date(2027, 1, 1), date(2027, 12, 31))
    db.session.commit()
    return fund


def fund(code: str, period: str) -> Fund:
    db.session.expire_all()
    return db.session.scalars(select(Fund).join(Fund.fiscal_period).where(
        Fund.code == code, Fund.fiscal_period.has(code=period))).one()


def state():
    """Everything a rollover may touch, to compare before and after."""
    db.session.expire_all()
    return (db.session.scalar(select(func.count()).select_from(Fund)),
            sorted((f.code, f.fiscal_period_id, f.balance) for f in db.session.scalars(select(Fund))),
            sorted((s.po_line_id, s.fund_id, s.encumbered_amount) for pol in db.session.scalars(select(POLine))
                   for s in pol.distribution),
            db.session.scalar(select(func.count()).select_from(FundTransaction)))


def test_carry_available_issue_figures(world, books):
    admin = world.user("admin")
    report = ro.commit(admin, "FY2026", "FY2027", rules("available"), LINES)
    db.session.commit()
    new = fund("BOOKS", "FY2027")
    assert new.allocated == D("12849.50")
    assert (new.encumbered, new.balance.available) == (D("1225.00"), D("11624.50"))
    assert fund("BOOKS", "FY2026").encumbered == D("0.00")
    row = next(r for r in report.funds if r.code == "BOOKS")
    assert (row.new_allocation, row.carried, row.left, row.not_carried) == \
        (D("10300.00"), D("2549.50"), D("3749.50"), D("1200.00"))
    carried = db.session.scalars(select(FundTransaction).where(FundTransaction.fund_id == new.id,
                                                               FundTransaction.reference == "carried over from FY2026"))
    assert [t.amount for t in carried] == [D("2549.50")]
    assert sorted(r.encumbered for r in report.lines) == [D("525.00"), D("700.00")]
    assert all(r.moved and r.new_fund == "BOOKS" for r in report.lines)
    assert fs.check_ledger() == []
    # the fund tree: same codes, fields copied, parent the target's MONO
    assert (new.external_id, new.notes, new.parent.code, new.ledger.code, new.ledger.fiscal_period.code) == \
        ("ERP-7", "monographs", "MONO", "GEN", "FY2027")
    # the lines now charge FY2027 and hold their new encumbrance there
    for pol in db.session.scalars(select(POLine)):
        assert [s.fund_id for s in pol.distribution] == [new.id]
        assert os_.outstanding_encumbrance(pol) == {new.id: pol.distribution[0].encumbered_amount}


def test_carry_cash_issue_figures(world, books):
    ro.commit(world.user("admin"), "FY2026", "FY2027", rules("cash"), LINES)
    db.session.commit()
    new = fund("BOOKS", "FY2027")
    assert (new.allocated, new.encumbered, new.balance.available) == (D("14049.50"), D("1225.00"), D("12824.50"))
    assert fs.check_ledger() == []


def test_preview_equals_commit_and_changes_nothing(world, books):
    admin = world.user("admin")
    before = state()
    preview = ro.preview(admin, "FY2026", "FY2027", rules("available"), LINES)
    db.session.commit()
    assert state() == before and preview.status == "preview" and preview.rollover_id is None
    assert db.session.scalar(select(func.count()).select_from(Rollover)) == 0
    committed = ro.commit(admin, "FY2026", "FY2027", rules("available"), LINES)
    db.session.commit()
    assert len(preview.funds) == len(committed.funds) and len(preview.lines) == len(committed.lines) == 2
    for a, b in zip(preview.funds, committed.funds):
        assert a == b
    for a, b in zip(preview.lines, committed.lines):
        assert a == b
    assert preview.figures() == committed.figures() and preview.totals == committed.totals


def test_second_commit_changes_nothing_and_says_so(world, books):
    admin = world.user("admin")
    first = ro.commit(admin, "FY2026", "FY2027", rules("available"), LINES)
    db.session.commit()
    before = state()
    with pytest.raises(ro.AlreadyRolledOver, match="already rolled over") as err:
        ro.commit(admin, "FY2026", "FY2027", rules("cash"), LINES)
    assert err.value.rollover.id == first.rollover_id
    db.session.commit()
    assert state() == before


def test_undo_restores_everything(world, books):
    admin = world.user("admin")
    before_lines = state()[2]
    balances = {f.code: f.balance for f in db.session.scalars(select(Fund).where(Fund.fiscal_period_id == world.period.id))}
    report = ro.commit(admin, "FY2026", "FY2027", rules("available"), LINES)
    db.session.commit()
    undone = ro.undo(admin, db.session.get(Rollover, report.rollover_id))
    db.session.commit()
    assert undone.status == "undone"
    assert state()[2] == before_lines
    db.session.expire_all()
    assert {f.code: f.balance for f in db.session.scalars(select(Fund).where(
        Fund.fiscal_period_id == world.period.id))} == balances
    assert all(f.balance.allocated == f.balance.encumbered == 0 for f in db.session.scalars(
        select(Fund).join(Fund.fiscal_period).where(Fund.fiscal_period.has(code="FY2027"))))
    assert fs.check_ledger() == []
    for pol in db.session.scalars(select(POLine)):
        assert os_.outstanding_encumbrance(pol) == {fund("BOOKS", "FY2026").id: pol.distribution[0].encumbered_amount}
    # and it can run again, using the funds it left
    again = ro.commit(admin, "FY2026", "FY2027", rules("available"), LINES)
    db.session.commit()
    assert fund("BOOKS", "FY2027").allocated == D("12849.50") and fs.check_ledger() == []
    assert again.figures()[3] == report.figures()[3]


def test_undo_refused_after_other_postings(world, books):
    admin = world.user("admin")
    report = ro.commit(admin, "FY2026", "FY2027", rules("available"), LINES)
    db.session.commit()
    fs.allocate(admin, fund("SHARED", "FY2027"), "5.00", reference="late")
    db.session.commit()
    before = state()
    with pytest.raises(RuleViolation, match="SHARED of FY2027 has had other transactions"):
        ro.undo(admin, db.session.get(Rollover, report.rollover_id))
    db.session.rollback()
    assert state() == before


def test_periods_and_skips(world, books):
    admin = world.user("admin")
    with pytest.raises(RuleViolation, match="must start after"):
        ro.preview(admin, "FY2027", "FY2026", rules("available"), LINES)
    world.fund_b.do_not_roll_over = True
    world.fund_a.status = "inactive"
    report = ro.commit(admin, "FY2026", "FY2027", rules("available"), LINES)
    by = {r.code: r for r in report.funds}
    assert (by["B-BKS"].skipped, by["A-BKS"].skipped) == ("do_not_roll_over", "inactive")
    assert by["B-BKS"].not_carried == D("1000.00") and by["B-BKS"].carried == 0
    assert {f.code for f in db.session.scalars(select(Fund).where(Fund.fiscal_period.has(code="FY2027")))} == \
        {"MONO", "BOOKS", "SHARED"}
    assert fs.check_ledger() == []


def test_line_without_counterpart_is_left_as_it_was(world, books, orders):
    admin, buyer = world.user("admin"), world.user("buyer")
    world.fund_a.do_not_roll_over = True
    pol = line(world, buyer, orders.eur, price="40.00", library="a")   # paid by A-BKS
    os_.approve_po_line(buyer, pol)
    db.session.commit()
    report = ro.commit(admin, "FY2026", "FY2027", rules("available"), LINES)
    db.session.commit()
    [row] = [r for r in report.lines if r.po_line == pol.number]
    assert (row.reason, row.released, row.new_fund) == ("no_counterpart", 0, None)
    db.session.expire_all()
    assert [s.fund_id for s in pol.distribution] == [world.fund_a.id]
    assert os_.outstanding_encumbrance(pol) == {world.fund_a.id: D("40.00")}
    assert fs.check_ledger() == []
