"""Closing a fiscal period (issue 14, point 7): who closes and reopens, what a closed period still
takes (releases; a late invoice's expenditure when an administrator gives a reason) and refuses
(encumbrances, allocations, transfers), and which funds the pickers offer."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.errors import Forbidden, InvalidInput, RuleViolation
from app.extensions import db
from app.funds import services as fs
from app.funds.models import FiscalPeriodEvent
from app.invoices import services as invoices
from app.orders import services as os_
from tests.invoices.helpers import invoice
from tests.orders.helpers import line

pytestmark = pytest.mark.postgres


def _close(world, note="year end"):
    fs.close_fiscal_period(world.user("admin"), world.period, note)
    db.session.commit()


def test_only_an_institution_admin_closes_and_reopening_needs_a_reason(world):
    for name in ("fundmgr", "buyer", "invmanager"):
        with pytest.raises(Forbidden):
            fs.close_fiscal_period(world.user(name), world.period)
    _close(world, "books closed")
    assert world.period.status == "closed" and not world.period.is_open
    with pytest.raises(RuleViolation, match="already closed"):
        fs.close_fiscal_period(world.user("admin"), world.period)
    with pytest.raises(InvalidInput, match="reason"):
        fs.reopen_fiscal_period(world.user("admin"), world.period, "  ")
    with pytest.raises(RuleViolation, match="closed"):   # the edit form cannot reopen it
        fs.update_fiscal_period(world.user("admin"), world.period, world.period.name, world.period.start_date,
                                world.period.end_date, "active")
    db.session.rollback()
    fs.reopen_fiscal_period(world.user("admin"), world.period, "a late credit note")
    db.session.commit()
    events = db.session.scalars(db.select(FiscalPeriodEvent).order_by(FiscalPeriodEvent.id)).all()
    assert [(e.action, e.old_value, e.new_value, e.note) for e in events] == [
        ("close", "Active", "Closed", "books closed"), ("reopen", "Closed", "Active", "a late credit note")]
    assert world.period.status == "active"


def test_a_closed_period_takes_no_allocation_transfer_or_encumbrance(world, orders):
    admin = world.user("admin")
    pol = line(world, admin, orders.eur)
    _close(world)
    with pytest.raises(RuleViolation, match="Fiscal period FY2026 is closed: fund A-BKS takes no allocations"):
        fs.allocate(admin, world.fund_a, "5.00")
    with pytest.raises(RuleViolation, match="FY2026 is closed: fund SHARED takes no transfers"):
        fs.transfer(admin, world.shared, world.fund_a, "5.00")
    with pytest.raises(RuleViolation, match="FY2026 is closed: fund A-BKS takes no new encumbrances"):
        os_.approve_po_line(admin, pol)
    db.session.rollback()
    assert (world.fund_a.allocated, world.fund_a.encumbered) == (Decimal("1000.00"), Decimal("0.00"))
    assert fs.check_ledger() == []


def test_releases_still_go_through_on_a_closed_period(world, orders):
    admin = world.user("admin")
    pol = line(world, admin, orders.eur)
    os_.approve_po_line(admin, pol)
    db.session.commit()
    assert world.fund_a.encumbered == Decimal("100.00")
    _close(world)
    os_.cancel_po_line(admin, pol, "not published")
    db.session.commit()
    assert world.fund_a.encumbered == Decimal("0.00")
    assert fs.check_ledger() == []


def test_a_late_invoice_needs_an_administrator_and_a_reason(world, vendors):
    inv = invoice(world, world.user("invoicer"), vendors.plain, amounts=("250.00",))
    _close(world)
    invoices.process_invoice(world.user("invoicer"), inv)   # never approved automatically
    db.session.commit()
    assert inv.status == "in_approval"
    assert [fp.code for fp in invoices.late_periods(inv)] == ["FY2026"]
    with pytest.raises(RuleViolation, match="closed fiscal period FY2026: an administrator must approve it "
                                            "with a reason"):
        invoices.approve_invoice(world.user("invmanager"), inv)
    db.session.rollback()
    with pytest.raises(InvalidInput, match="give the reason"):
        invoices.approve_invoice(world.user("admin"), inv)
    db.session.rollback()
    assert world.fund_a.expended == Decimal("0.00")
    invoices.approve_invoice(world.user("admin"), inv, late_reason="the vendor's invoice came in January")
    db.session.commit()
    assert world.fund_a.expended == Decimal("250.00")
    late = [e for e in inv.history if e.action == "late_expenditure"]
    assert [(e.new_value, e.note, e.actor.username) for e in late] == [
        ("FY2026", "the vendor's invoice came in January", "admin")]
    assert fs.check_ledger() == []


def test_pickers_offer_funds_of_open_periods_covering_the_day(world):
    admin = world.user("admin")
    fy27 = fs.create_fiscal_period(admin, "FY2027", "Fiscal year 2027", date(2027, 1, 1), date(2027, 12, 31))
    ledger = fs.create_ledger(admin, "GEN", "General", fy27, "EUR")
    fs.create_fund(admin, ledger, "NEWBKS", fs.FundFields(name="Books 2027"))
    db.session.commit()
    codes = lambda day: sorted(f.code for f in fs.chargeable_funds(admin, day))  # noqa: E731
    assert codes(date(2026, 12, 5)) == ["A-BKS", "B-BKS", "SHARED"]
    assert codes(date(2027, 1, 2)) == ["NEWBKS"]
    _close(world)
    assert codes(date(2026, 12, 5)) == []
    assert fs.other_period_warning(world.fund_a, date(2027, 1, 2)).startswith(
        "Fund A-BKS belongs to fiscal period FY2026 (2026-01-01 – 2026-12-31, closed)")


# -- pages ---------------------------------------------------------------------------------------

def test_admin_closes_on_the_page_and_the_po_line_form_stops_offering_its_funds(app, world):
    from tests.helpers import login
    buyer = login(app.test_client(), "buyer")
    assert "A-BKS — " in buyer.get("/orders/lines/new").data.decode()
    manager = login(app.test_client(), "fundmgr")
    assert "Close…" not in manager.get("/fiscal-periods/").data.decode()
    assert manager.post(f"/fiscal-periods/{world.period.id}/close", data={"note": "x"}).status_code == 403
    admin = login(app.test_client(), "admin")
    assert "Close FY2026" in admin.get("/fiscal-periods/").data.decode()
    resp = admin.post(f"/fiscal-periods/{world.period.id}/close", data={"note": "year end"}, follow_redirects=True)
    page = resp.data.decode()
    assert resp.status_code == 200 and "Fiscal period FY2026 closed" in page and "Reopen FY2026" in page
    assert "year end" in page
    assert "A-BKS — " not in buyer.get("/orders/lines/new").data.decode()
    resp = admin.post(f"/fiscal-periods/{world.period.id}/reopen", data={"reason": ""})
    assert resp.status_code == 400 and "Give the reason for reopening" in resp.data.decode()
    admin.post(f"/fiscal-periods/{world.period.id}/reopen", data={"reason": "late credit"})
    db.session.expire_all()
    assert world.period.status == "active"


def test_the_approve_form_asks_an_administrator_for_the_reason_only_when_needed(app, world, vendors):
    from tests.helpers import login
    inv = invoice(world, world.user("invoicer"), vendors.plain, process=True)
    admin = login(app.test_client(), "admin")
    assert 'name="late_reason"' not in admin.get(f"/invoices/{inv.id}").data.decode()
    _close(world)
    assert 'name="late_reason"' in admin.get(f"/invoices/{inv.id}").data.decode()
    manager = login(app.test_client(), "invmanager")
    page = manager.get(f"/invoices/{inv.id}").data.decode()
    assert 'name="late_reason"' not in page and "an administrator must approve it with a reason" in page


# -- closing with documents still open -----------------------------------------------------------

def test_closing_with_open_po_lines_and_invoices_asks_first(world, orders):
    from app.funds import closing
    admin = world.user("admin")
    assert not closing.open_documents(world.period)
    pol = line(world, admin, orders.eur)            # 100.00 on A-BKS
    os_.approve_po_line(admin, pol)
    invoice(world, world.user("invoicer"), orders.eur, amounts=("250.00",))   # in review, on A-BKS
    db.session.commit()
    found = closing.open_documents(world.period)
    assert (found.po_lines, found.invoices, found.encumbered) == (1, 1, {"EUR": Decimal("100.00")})
    assert found.describe() == "1 open PO line (encumbering 100.00 EUR) and 1 invoice not yet closed"
    with pytest.raises(Forbidden):
        closing.close_period(world.user("fundmgr"), world.period, "year end", confirmed=True)
    with pytest.raises(closing.CloseNeedsConfirmation, match="FY2026 still has 1 open PO line .* and 1 invoice"):
        closing.close_period(admin, world.period, "year end")
    db.session.rollback()
    assert world.period.status == "active"
    closing.close_period(admin, world.period, "year end", confirmed=True)
    db.session.commit()
    assert world.period.status == "closed" and world.period.history[0].note == "year end"


def test_the_page_warns_with_the_counts_and_a_link_and_closes_once_confirmed(app, world, orders):
    from tests.helpers import login
    admin_user = world.user("admin")
    for _ in range(2):
        os_.approve_po_line(admin_user, line(world, admin_user, orders.eur))
    db.session.commit()
    admin = login(app.test_client(), "admin")
    resp = admin.post(f"/fiscal-periods/{world.period.id}/close", data={"note": "year end"})
    page = resp.data.decode()
    assert resp.status_code == 200 and 'id="close-confirm"' in page
    assert "FY2026 still has 2 open PO lines (encumbering 200.00 EUR) on its funds" in page
    assert 'href="/fiscal-periods/closure"' in page and "Close FY2026 anyway" in page
    assert 'name="confirm" value="1"' in page and 'name="note" value="year end"' in page
    db.session.expire_all()
    assert world.period.status == "active"
    resp = admin.post(f"/fiscal-periods/{world.period.id}/close", data={"note": "year end", "confirm": "1"},
                      follow_redirects=True)
    assert resp.status_code == 200 and "Fiscal period FY2026 closed" in resp.data.decode()
    db.session.expire_all()
    assert world.period.status == "closed"


def test_the_money_forms_and_the_po_line_form_say_when_a_fund_is_of_another_period(app, world, orders):
    """Next year's budget may be allocated and transferred today, and a line kept on last year's
    fund may be edited: each form says so next to the fund instead of staying silent."""
    from tests.helpers import login
    admin = world.user("admin")
    fy27 = fs.create_fiscal_period(admin, "FY2027", "Fiscal year 2027", date(2027, 1, 1), date(2027, 12, 31))
    ledger = fs.create_ledger(admin, "GEN", "General", fy27, "EUR")
    nxt = fs.create_fund(admin, ledger, "NEWBKS", fs.FundFields(name="Books 2027"))
    fs.create_fund(admin, ledger, "NEWSER", fs.FundFields(name="Serials 2027"))
    fy25 = fs.create_fiscal_period(admin, "FY2025", "Fiscal year 2025", date(2025, 1, 1), date(2025, 12, 31))
    old_fund = fs.create_fund(admin, fs.create_ledger(admin, "GEN", "General", fy25, "EUR"), "OLDBKS",
                              fs.FundFields(name="Books 2025"))
    fs.allocate(admin, old_fund, "100.00")
    old_line = line(world, world.user("buyer"), orders.eur, price="10.00", funds=[(old_fund, "100")], library=None)
    db.session.commit()
    manager = login(app.test_client(), "fundmgr")
    for action in ("transfer", "allocate"):     # today is pinned inside FY2026 (tests/conftest.py)
        page = manager.get(f"/funds/{nxt.id}/{action}").data.decode()
        assert "Fund NEWBKS belongs to fiscal period FY2027" in page
    assert "belongs to fiscal period" not in manager.get(f"/funds/{world.fund_a.id}/transfer").data.decode()
    edit = login(app.test_client(), "buyer").get(f"/orders/lines/{old_line.id}/edit").data.decode()
    assert "Fund OLDBKS belongs to fiscal period FY2025" in edit
