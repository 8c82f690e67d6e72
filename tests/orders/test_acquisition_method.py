"""Acquisition methods: gifts, exchanges, depository and technical orders are not paid for (no price,
fund, encumbrance or invoice) and close once received; purchases and approval plans are paid."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.errors import InvalidInput, RuleViolation
from app.extensions import db
from app.funds.models import FundTransaction
from app.invoices.models import Invoice
from app.orders import services as os_
from app.orders.models import POLine
from testkit.invoices import invoice, lines
from tests.orders.helpers import line

pytestmark = pytest.mark.postgres


def _transactions() -> int:
    return db.session.scalar(select(func.count()).select_from(FundTransaction))


def _gift(world, actor, vendor, method="gift", **kw) -> POLine:
    return line(world, actor, vendor, price="", funds=[], acquisition_method=method, **kw)


@pytest.mark.parametrize("method", ["gift", "exchange", "depository", "technical"])
def test_an_unpaid_line_is_approved_sent_and_closed_on_receipt_without_touching_the_ledger(app, world, orders,
                                                                                          method):
    buyer = world.user("buyer")
    before = _transactions()
    pol = _gift(world, buyer, orders.eur, method, quantity=2)
    assert pol.list_price == 0 and pol.net_price == 0 and pol.distribution == [] and pol.is_unpaid
    os_.approve_po_line(buyer, pol)
    os_.send_po_line(buyer, pol)
    os_.receive_po_line(buyer, pol, [pol.items[0]], day=date(2026, 3, 2))
    assert pol.status == "sent"                       # one copy still to come
    os_.receive_po_line(buyer, pol, day=date(2026, 3, 3))
    db.session.commit()
    assert pol.status == "closed" and pol.po.status == "closed" and pol.closed_at is not None
    assert _transactions() == before
    assert world.fund_a.encumbered == Decimal("0.00")
    assert any("no invoice expected" in (e.note or "") for e in pol.history)


def test_an_unpaid_electronic_line_closes_when_activated(app, world, orders):
    buyer = world.user("buyer")
    pol = _gift(world, buyer, orders.eur, "technical", material_form="electronic")
    os_.approve_po_line(buyer, pol)
    os_.send_po_line(buyer, pol)
    os_.activate_po_line(buyer, pol, date(2026, 3, 5))
    assert pol.status == "closed"


def test_a_gift_may_record_a_price_but_is_still_not_encumbered(app, world, orders):
    buyer = world.user("buyer")
    before = _transactions()
    pol = _gift(world, buyer, orders.eur, "gift")
    os_.update_po_line(buyer, pol, os_.POLineFields(vendor=orders.eur, title="A book", list_price="35.00",
                                                    owner_library=world.lib_a, acquisition_method="gift"))
    os_.approve_po_line(buyer, pol)
    db.session.commit()
    assert pol.net_price == Decimal("35.00") and _transactions() == before


def test_an_unpaid_line_refuses_funds(app, world, orders):
    buyer = world.user("buyer")
    with pytest.raises(InvalidInput, match="exchange order is not paid for, so it takes no fund") as caught:
        line(world, buyer, orders.eur, acquisition_method="exchange")
    assert caught.value.field == "distribution"


def test_a_purchase_still_needs_its_price(app, world, orders):
    buyer = world.user("buyer")
    with pytest.raises(InvalidInput, match="Enter the list price") as caught:
        line(world, buyer, orders.eur, price="")
    assert caught.value.field == "list_price"


def test_an_approval_plan_is_paid_like_a_purchase(app, world, orders):
    buyer = world.user("buyer")
    pol = line(world, buyer, orders.eur, acquisition_method="approval")
    os_.approve_po_line(buyer, pol)
    db.session.commit()
    assert world.fund_a.encumbered == Decimal("100.00")
    os_.send_po_line(buyer, pol)
    os_.receive_po_line(buyer, pol)
    assert pol.status == "waiting_for_invoice"     # waits for its invoice like any purchase


def test_an_unknown_method_is_refused(app, world, orders):
    with pytest.raises(InvalidInput, match="acquisition method") as caught:
        line(world, world.user("buyer"), orders.eur, acquisition_method="barter")
    assert caught.value.field == "acquisition_method"


def test_invoicing_an_unpaid_line_is_refused_with_the_reason(app, world, orders):
    buyer = world.user("buyer")
    pol = _gift(world, buyer, orders.eur, "depository")
    os_.approve_po_line(buyer, pol)
    os_.send_po_line(buyer, pol)
    db.session.commit()
    with pytest.raises(RuleViolation, match=r"Line 1: POL-\d+ is a depository order, which is not paid for, so it "
                                            r"cannot be invoiced") as caught:
        invoice(world, world.user("invoicer"), orders.eur, lines=lines("10.00", fund=world.fund_a, po_line=pol),
                amounts=("10.00",))
    assert caught.value.field == "lines"
    db.session.rollback()
    assert db.session.scalar(select(Invoice.id)) is None


def test_a_reopened_gift_can_become_a_purchase_and_is_then_encumbered(app, world, orders):
    buyer = world.user("buyer")
    pol = _gift(world, buyer, orders.eur, "gift")
    os_.approve_po_line(buyer, pol)
    os_.send_po_line(buyer, pol)
    os_.receive_po_line(buyer, pol)
    assert pol.status == "closed"
    os_.reopen_po_line(buyer, pol)
    os_.update_po_line(buyer, pol, os_.POLineFields(
        vendor=orders.eur, title="A book", list_price="20.00", owner_library=world.lib_a,
        distribution=[os_.Share(world.fund_a, "100")]))
    os_.approve_po_line(buyer, pol)
    db.session.commit()
    assert pol.acquisition_method == "purchase" and world.fund_a.encumbered == Decimal("20.00")
    assert any(e.field == "acquisition_method" and e.old_value == "gift" for e in pol.history)


def test_the_line_list_filters_by_method(app, world, orders):
    buyer = world.user("buyer")
    gift = _gift(world, buyer, orders.eur, "gift", title="Given")
    bought = line(world, buyer, orders.eur, title="Bought")
    found = lambda method: [p.id for p in db.session.scalars(  # noqa: E731
        os_.po_lines_query(buyer, os_.LineFilter(method=method)))]
    assert gift.id in found("gift") and bought.id not in found("gift")
    assert gift.id in found("unpaid") and bought.id not in found("unpaid")
    assert bought.id in found("purchase") and gift.id not in found("purchase")
    assert {gift.id, bought.id} <= set(found(""))
