"""Undo takes what a rollover made out of use, a later rollover takes it back; and the PO lines are
rolled over (and back) a chunk at a time with the figures of one pass (issue 14)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from app.extensions import db
from app.funds import rollover as ro
from app.funds import services as fs
from app.funds.models import Fund, Ledger, Rollover, RolloverLedger
from app.ledger.rollover import FundRule, LedgerRules
from app.orders import services as os_
from app.orders.models import POLine
from tests.funds import test_rollover as base
from tests.funds.test_rollover import LINES, fund, rules, state

books = base.books   # the fixture

pytestmark = pytest.mark.postgres


def fy2027_funds() -> dict[str, Fund]:
    db.session.expire_all()
    return {f.code: f for f in db.session.scalars(select(Fund).where(Fund.fiscal_period.has(code="FY2027")))}


def gen_2027() -> Ledger:
    return db.session.scalars(select(Ledger).where(Ledger.code == "GEN", Ledger.fiscal_period.has(code="FY2027"))).one()


def test_undo_leaves_what_it_made_inactive_and_empty_and_a_new_rollover_takes_it_back(world, books):
    admin = world.user("admin")
    first = ro.commit(admin, "FY2026", "FY2027", rules("available"), LINES)
    db.session.commit()
    made = {r.code for r in first.funds if r.created}
    assert made == {"MONO", "BOOKS", "SHARED", "A-BKS", "B-BKS"}
    ids = {code: f.id for code, f in fy2027_funds().items()}

    ro.undo(admin, db.session.get(Rollover, first.rollover_id))
    db.session.commit()
    assert fs.check_ledger() == []
    after = fy2027_funds()
    assert {code: (f.status, f.allocated, f.encumbered, f.expended) for code, f in after.items()} == \
        {code: ("inactive", 0, 0, 0) for code in made}
    mark = f"Made by rollover {first.rollover_id} (FY2026 to FY2027) and emptied by its undo"
    assert after["BOOKS"].notes.startswith("monographs\n" + mark)      # its own notes kept, the mark appended
    assert all(mark in f.notes for f in after.values()) and mark in gen_2027().notes
    # no picker offers them: nothing of FY2027 can be charged on a day of FY2027
    assert fs.chargeable_funds(admin, date(2027, 3, 1)) == []

    again = ro.commit(admin, "FY2026", "FY2027", rules("available"), LINES)
    db.session.commit()
    assert fs.check_ledger() == []
    now = fy2027_funds()
    assert {code: f.id for code, f in now.items()} == ids                 # the same funds, taken back
    assert {code: f.status for code, f in now.items()} == {code: "active" for code in made}
    assert now["BOOKS"].notes == "monographs" and mark not in gen_2027().notes
    assert {r.code for r in again.funds if r.created} == made
    assert again.figures() == first.figures()                              # reported as created again
    assert now["BOOKS"].allocated == D("12849.50") and now["BOOKS"].encumbered == D("1225.00")
    assert db.session.scalars(select(RolloverLedger.created).where(
        RolloverLedger.rollover_id == again.rollover_id, RolloverLedger.target_ledger_id == gen_2027().id)).one()
    assert sorted(f.code for f in fs.chargeable_funds(admin, date(2027, 3, 1))) == ["A-BKS", "B-BKS", "BOOKS",
                                                                                     "SHARED"]

    ro.undo(admin, db.session.get(Rollover, again.rollover_id))
    db.session.commit()
    assert fs.check_ledger() == []
    assert {f.status for f in fy2027_funds().values()} == {"inactive"}


def test_a_fund_taken_back_into_use_by_hand_is_not_reported_as_created(world, books):
    admin = world.user("admin")
    first = ro.commit(admin, "FY2026", "FY2027", rules("available"), LINES)
    db.session.commit()
    ro.undo(admin, db.session.get(Rollover, first.rollover_id))
    fy2027_funds()["SHARED"].status = "active"
    db.session.commit()
    again = ro.commit(admin, "FY2026", "FY2027", rules("available"), LINES)
    db.session.commit()
    created = {r.code: r.created for r in again.funds}
    assert created["SHARED"] is False and created["BOOKS"] is True
    assert fs.check_ledger() == []


def test_lines_in_chunks_have_the_figures_of_one_pass(world, books, monkeypatch):
    """BOOKS FY2027 holds 800.00: the one-time line (700.00, first) fits, the continuous one
    (525.00) no longer does. One line per chunk, the planner still knows what the first took."""
    admin = world.user("admin")
    ro.commit(admin, "FY2026", "FY2027", LedgerRules(FundRule("none", D("0"), "none")), None)
    fs.allocate(admin, fund("BOOKS", "FY2027"), "800.00", reference="budget")
    db.session.commit()
    preview = ro.preview(admin, "FY2026", "FY2027", None, LINES)
    db.session.commit()
    before = state()
    monkeypatch.setattr(ro, "LINE_CHUNK", 1)
    seen = []
    report = ro.commit(admin, "FY2026", "FY2027", None, LINES, progress=lambda *a: seen.append(a))
    db.session.commit()
    assert report.figures() == preview.figures()
    assert [r.reason for r in report.lines] == [None, "insufficient_funds"]
    assert [a for a in seen if a[0] == "PO lines"] == [("PO lines", 0, 2), ("PO lines", 1, 2), ("PO lines", 2, 2)]
    assert (fund("BOOKS", "FY2027").encumbered, fund("BOOKS", "FY2026").encumbered) == (D("700.00"), D("500.00"))
    assert fs.check_ledger() == []

    seen.clear()
    ro.undo(admin, db.session.get(Rollover, report.rollover_id), progress=lambda *a: seen.append(a))
    db.session.commit()
    assert state() == (before[0], before[1], before[2], state()[3])        # all but the transactions' count
    assert ("PO lines", 1, 1) in seen and fs.check_ledger() == []
    assert fund("BOOKS", "FY2027").status == "active"                      # not made by the lines' rollover
    for pol in db.session.scalars(select(POLine)):
        assert [e.action for e in pol.history][-2:] == ["rollover", "rollover_undone"] or \
            "rollover" not in [e.action for e in pol.history]
        assert os_.outstanding_encumbrance(pol) == {fund("BOOKS", "FY2026").id: pol.distribution[0].encumbered_amount}


def test_after_a_preview_the_session_shows_the_funds_as_they_are(world, books):
    """The preview posts (in bulk) inside a SAVEPOINT it rolls back: the funds the session holds
    must not keep the balances it posted."""
    before = books.balance
    ro.preview(world.user("admin"), "FY2026", "FY2027", rules("available"), LINES)
    assert books.balance == before and books.encumbered == D("1200.00")
    assert db.session.scalars(select(Fund).where(Fund.fiscal_period.has(code="FY2027"))).all() == []
