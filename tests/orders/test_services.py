"""PO line services: money, inventory rules of cancel vs close, vendor changes, relink, renewals, scope."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.errors import Forbidden, InvalidInput, NotFound, RuleViolation
from app.extensions import db
from app.funds import services as fs
from app.funds.models import FundTransaction
from app.inventory import services as inv
from app.inventory.models import Holding, Item
from app.orders import services as os_
from app.orders.models import OutboxEvent, PurchaseOrder
from tests.inventory.helpers import make_buyer_a
from tests.orders.helpers import line, sent_line as _sent

pytestmark = pytest.mark.postgres




def _item_ids(pol):
    return [i.id for i in pol.items]


# -- money ---------------------------------------------------------------------------------------

def test_net_price_and_exact_percent_split(app, world, orders):
    admin = world.user("admin")
    third = fs.create_fund(admin, world.ledger_a, "A-SER", fs.FundFields(name="A serials"))
    fs.allocate(admin, third, Decimal("500.00"))
    db.session.commit()
    # 3 × 3.70 less 10 % = 9.99, split 33.33 / 33.33 / 33.34 %
    pol = line(world, world.user("buyer"), orders.eur, price="3.70", quantity=3, discount="10",
               funds=[(world.fund_a, "33.33"), (world.shared, "33.33"), (third, "33.34")])
    assert pol.net_price == Decimal("9.99")
    amounts = [d.amount for d in pol.distribution]
    assert amounts == [Decimal("3.33"), Decimal("3.33"), Decimal("3.33")]
    assert sum(amounts) == pol.net_price
    os_.approve_po_line(world.user("buyer"), pol)
    db.session.commit()
    assert (world.fund_a.encumbered, world.shared.encumbered, third.encumbered) == (
        Decimal("3.33"), Decimal("3.33"), Decimal("3.33"))


def test_percent_split_gives_the_odd_cent_to_the_largest_remainder(app, world, orders):
    pol = line(world, world.user("buyer"), orders.eur, price="10.00",
               funds=[(world.fund_a, "33.33"), (world.shared, "66.67")])
    # 3.333 and 6.667: the cent left over goes to the larger remainder (6.667 -> 6.67)
    assert [d.amount for d in pol.distribution] == [Decimal("3.33"), Decimal("6.67")]


def test_distribution_must_cover_the_price(app, world, orders):
    buyer = world.user("buyer")
    with pytest.raises(InvalidInput, match="add up to 90.00 %"):
        line(world, buyer, orders.eur, funds=[(world.fund_a, "50"), (world.shared, "40")])
    with pytest.raises(InvalidInput, match=r"add up to 99\.99 EUR; the net price is 100\.00 EUR"):
        line(world, buyer, orders.eur, method="amount", funds=[(world.fund_a, "50.00"), (world.shared, "49.99")])
    pol = line(world, buyer, orders.eur, method="amount", funds=[(world.fund_a, "60.00"), (world.shared, "40.00")])
    assert [d.amount for d in pol.distribution] == [Decimal("60.00"), Decimal("40.00")]


def test_fund_of_another_library_is_refused(app, world, orders):
    with pytest.raises(InvalidInput, match="B-BKS is not available"):
        line(world, world.user("buyer"), orders.eur, funds=[(world.fund_b, "100")])


def test_encumbrance_is_converted_to_the_fund_currency(app, world, orders):
    buyer = world.user("buyer")
    pol = line(world, buyer, orders.usd, price="123.45")
    os_.approve_po_line(buyer, pol, on=date(2026, 3, 1))
    db.session.commit()
    # 123.45 USD × 0.92 = 113.574 EUR -> 113.57
    share = pol.distribution[0]
    assert (share.amount, share.encumbered_amount, share.encumbered_currency) == (
        Decimal("123.45"), Decimal("113.57"), "EUR")
    assert world.fund_a.encumbered == Decimal("113.57")
    row = db.session.scalar(select(FundTransaction).where(FundTransaction.source_type == "po_line",
                                                          FundTransaction.source_id == pol.id))
    assert (row.kind, row.amount, row.currency, row.reference) == ("encumbrance", Decimal("113.57"), "EUR", pol.number)


def test_missing_rate_is_a_clear_error(app, world, orders):
    buyer = world.user("buyer")
    pol = line(world, buyer, orders.eur, currency="GBP")
    with pytest.raises(RuleViolation, match="No exchange rate for GBP on or before 2026-03-01"):
        os_.approve_po_line(buyer, pol, on=date(2026, 3, 1))
    db.session.rollback()
    assert pol.status == "in_review" and world.fund_a.encumbered == 0


def test_over_encumbrance_is_refused_naming_fund_and_shortfall(app, world, orders):
    buyer = world.user("buyer")
    pol = line(world, buyer, orders.eur, price="1500.00")
    with pytest.raises(RuleViolation, match=r"A-BKS.*cannot encumber 1,500\.00 EUR: it is short by 500\.00 EUR"):
        os_.approve_po_line(buyer, pol)
    db.session.rollback()
    assert pol.status == "in_review" and world.fund_a.encumbered == 0
    assert db.session.scalar(select(func.count()).select_from(FundTransaction)
                             .where(FundTransaction.source_type == "po_line")) == 0


def test_over_encumbrance_within_the_funds_limit_is_allowed(app, world, orders):
    admin, buyer = world.user("admin"), world.user("buyer")
    fields = fs.FundFields(name="A books", overencumbrance_allowed=True, overencumbrance_limit_percent=Decimal("10"))
    fs.update_fund(admin, world.fund_a, fields)
    db.session.commit()
    pol = line(world, buyer, orders.eur, price="1100.00")
    os_.approve_po_line(buyer, pol)
    assert world.fund_a.encumbered == Decimal("1100.00")
    with pytest.raises(RuleViolation, match=r"short by 0\.01 EUR"):
        os_.approve_po_line(buyer, line(world, buyer, orders.eur, price="0.01"))


# -- receiving, close, cancel ------------------------------------------------------------------

def test_partial_then_full_receipt_moves_to_waiting_for_invoice(app, world, orders):
    buyer = world.user("buyer")
    pol = _sent(world, buyer, orders.eur, quantity=3)
    first = pol.items[0]
    os_.receive_po_line(buyer, pol, [first], day=date(2026, 3, 2))
    assert pol.status == "sent" and first.status == "in_place" and first.received_date == date(2026, 3, 2)
    os_.receive_po_line(buyer, pol)
    assert pol.status == "waiting_for_invoice"
    assert all(i.status == "in_place" for i in pol.items)
    with pytest.raises(RuleViolation):
        os_.receive_po_line(buyer, pol)


def test_electronic_line_is_activated(app, world, orders):
    buyer = world.user("buyer")
    pol = _sent(world, buyer, orders.eur, material_form="electronic")
    assert pol.items == [] and len(pol.holdings) == 1
    with pytest.raises(RuleViolation, match="activate it"):
        os_.receive_po_line(buyer, pol)
    os_.activate_po_line(buyer, pol, date(2026, 3, 5))
    assert pol.status == "waiting_for_invoice" and pol.activation_date == date(2026, 3, 5)


def test_close_releases_the_encumbrance_and_keeps_inventory(app, world, orders):
    buyer = world.user("buyer")
    pol = _sent(world, buyer, orders.eur, quantity=2)
    os_.receive_po_line(buyer, pol)
    items, holdings = _item_ids(pol), [h.id for h in pol.holdings]
    assert world.fund_a.encumbered == Decimal("200.00")
    os_.close_po_line(buyer, pol, "done")
    db.session.commit()
    assert pol.status == "closed" and world.fund_a.encumbered == 0
    assert _item_ids(pol) == items and [h.id for h in pol.holdings] == holdings
    assert pol.po.status == "closed"


def test_one_time_line_closes_itself_when_received_and_paid(app, world, orders):
    buyer = world.user("buyer")
    pol = _sent(world, buyer, orders.eur)
    os_.record_invoicing(buyer, pol, fully_invoiced=True, paid=True)
    assert pol.status == "sent"          # not received yet
    os_.receive_po_line(buyer, pol)
    assert pol.status == "closed" and pol.po.status == "closed"


def test_po_closes_only_with_its_last_open_line(app, world, orders):
    buyer = world.user("buyer")
    a = line(world, buyer, orders.eur, title="First")
    b = line(world, buyer, orders.eur, title="Second")
    for pol in (a, b):
        os_.approve_po_line(buyer, pol)
    po = os_.package_ready_lines(buyer)[0]
    assert {p.id for p in po.lines} == {a.id, b.id} and po.status == "sent"
    os_.cancel_po_line(buyer, a, "duplicate order")
    assert po.status == "sent"
    os_.receive_po_line(buyer, b)
    os_.close_po_line(buyer, b)
    assert po.status == "closed"


def test_po_with_every_line_cancelled_is_cancelled(app, world, orders):
    buyer = world.user("buyer")
    pol = _sent(world, buyer, orders.eur)
    os_.cancel_po_line(buyer, pol, "vendor out of stock")
    assert pol.po.status == "cancelled"


def test_cancel_only_line_on_po_deletes_unreceived_inventory(app, world, orders):
    buyer = world.user("buyer")
    pol = _sent(world, buyer, orders.eur, quantity=2)
    holding_id, item_ids = pol.holdings[0].id, _item_ids(pol)
    preview = os_.cancel_preview(pol)
    assert preview.only_line and [i.id for i in preview.items] == item_ids
    assert [h.id for h in preview.holdings] == [holding_id]
    assert [(f.code, a) for f, a in preview.release] == [("A-BKS", Decimal("200.00"))]
    os_.cancel_po_line(buyer, pol, "not needed")
    db.session.commit()
    assert pol.status == "cancelled" and pol.cancel_reason == "not needed"
    assert db.session.get(Holding, holding_id) is None
    assert all(db.session.get(Item, i) is None for i in item_ids)
    assert world.fund_a.encumbered == 0
    assert {"item deleted", "holding deleted"} <= {e.field for e in pol.history}


def test_cancel_keeps_received_items_and_their_holding(app, world, orders):
    buyer = world.user("buyer")
    pol = _sent(world, buyer, orders.eur, quantity=2)
    received, pending = pol.items
    os_.receive_po_line(buyer, pol, [received])
    preview = os_.cancel_preview(pol)
    assert [i.id for i in preview.items] == [pending.id] and preview.holdings == []
    assert [i.id for i in preview.kept_items] == [received.id]
    os_.cancel_po_line(buyer, pol, "second copy never came")
    db.session.commit()
    assert _item_ids(pol) == [received.id] and len(pol.holdings) == 1


def test_cancel_keeps_inventory_when_other_lines_share_the_po(app, world, orders):
    buyer = world.user("buyer")
    a = line(world, buyer, orders.eur, title="First", packaging="manual")
    b = line(world, buyer, orders.eur, title="Second", packaging="manual")
    for pol in (a, b):
        os_.approve_po_line(buyer, pol)
    po = os_.package_po_line(buyer, a)
    os_.package_po_line(buyer, b, po)
    os_.send_po(buyer, po)
    items = _item_ids(a)
    preview = os_.cancel_preview(a)
    assert not preview.only_line and not preview.deletes_anything
    os_.cancel_po_line(buyer, a, "duplicate")
    db.session.commit()
    assert _item_ids(a) == items and len(a.holdings) == 1


def test_cancel_holdings_without_items_loses_the_holdings(app, world, orders):
    buyer = world.user("buyer")
    pol = _sent(world, buyer, orders.eur, order_type="continuous", renewal_date=date(2027, 1, 1))
    assert pol.items == [] and len(pol.holdings) == 1
    holding_id = pol.holdings[0].id
    os_.cancel_po_line(buyer, pol, "subscription dropped")
    db.session.commit()
    assert db.session.get(Holding, holding_id) is None


def test_cancel_of_activated_electronic_line_keeps_its_holding(app, world, orders):
    buyer = world.user("buyer")
    pol = _sent(world, buyer, orders.eur, material_form="electronic", order_type="continuous",
                renewal_date=date(2027, 1, 1))
    os_.activate_po_line(buyer, pol)
    assert not os_.cancel_preview(pol).deletes_anything
    os_.cancel_po_line(buyer, pol, "platform changed")
    assert len(pol.holdings) == 1


def test_cancel_needs_a_reason(app, world, orders):
    buyer = world.user("buyer")
    pol = _sent(world, buyer, orders.eur)
    with pytest.raises(InvalidInput, match="reason"):
        os_.cancel_po_line(buyer, pol, "  ")
    assert pol.status == "sent" and world.fund_a.encumbered == Decimal("100.00")


def test_reopen_edit_and_reapprove_encumbers_again(app, world, orders):
    buyer = world.user("buyer")
    pol = _sent(world, buyer, orders.eur)
    os_.receive_po_line(buyer, pol)
    os_.close_po_line(buyer, pol)
    assert world.fund_a.encumbered == 0
    os_.reopen_po_line(buyer, pol, "price changed")
    assert pol.status == "in_review" and pol.po.status == "sent"
    fields = os_.POLineFields(vendor=orders.eur, title=pol.title, currency="EUR", list_price="120.00",
                              owner_library=world.lib_a, distribution=[os_.Share(world.fund_a, "100")])
    os_.update_po_line(buyer, pol, fields)
    assert ("list_price", "100.00", "120.00") in [(e.field, e.old_value, e.new_value) for e in pol.history]
    os_.approve_po_line(buyer, pol)
    assert pol.status == "sent"          # its PO was already sent: nothing new goes out
    assert world.fund_a.encumbered == Decimal("120.00")


def test_quantity_change_adds_and_removes_unreceived_copies(app, world, orders):
    buyer = world.user("buyer")
    pol = line(world, buyer, orders.eur, quantity=2)
    fields = os_.POLineFields(vendor=orders.eur, title=pol.title, currency="EUR", list_price="100.00", quantity=4,
                              owner_library=world.lib_a, distribution=[os_.Share(world.fund_a, "100")])
    os_.update_po_line(buyer, pol, fields)
    assert len(pol.items) == 4 and pol.net_price == Decimal("400.00")
    fields.quantity = 1
    os_.update_po_line(buyer, pol, fields)
    assert len(pol.items) == 1


# -- packaging and sending ---------------------------------------------------------------------

def test_sending_records_the_event_for_the_erp_export(app, world, orders):
    buyer = world.user("buyer")
    pol = _sent(world, buyer, orders.eur)
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.kind == "po_sent"))
    assert (event.object_type, event.object_id) == ("purchase_order", pol.po.id)
    assert event.payload["lines"] == [pol.number] and event.payload["vendor"] == "EURV"


def test_automatic_packaging_groups_by_vendor(app, world, orders):
    buyer = world.user("buyer")
    lines = [line(world, buyer, v, title=t) for v, t in ((orders.eur, "a"), (orders.eur, "b"), (orders.other, "c"))]
    manual = line(world, buyer, orders.eur, title="manual", packaging="manual")
    for pol in lines + [manual]:
        os_.approve_po_line(buyer, pol)
    pos = os_.package_ready_lines(buyer)
    assert sorted(len(po.lines) for po in pos) == [1, 2]
    assert all(p.status == "sent" for p in lines) and manual.status == "ready"


# -- vendors and references --------------------------------------------------------------------

def test_change_vendor_deletes_the_emptied_po(app, world, orders):
    buyer = world.user("buyer")
    pol = _sent(world, buyer, orders.eur)
    old_po_id = pol.po_id
    new_po = os_.change_vendor(buyer, pol, orders.other)
    db.session.commit()
    assert db.session.get(PurchaseOrder, old_po_id) is None
    assert pol.po_id == new_po.id and new_po.vendor_id == orders.other.id and new_po.status == "sent"
    assert pol.vendor_id == orders.other.id and pol.status == "sent"
    kinds = db.session.scalars(select(OutboxEvent.kind).order_by(OutboxEvent.id)).all()
    assert kinds == ["po_sent", "po_sent", "po_deleted"]


def test_change_vendor_keeps_a_po_with_other_lines(app, world, orders):
    buyer = world.user("buyer")
    a, b = line(world, buyer, orders.eur, title="a"), line(world, buyer, orders.eur, title="b")
    os_.approve_po_line(buyer, a)
    os_.approve_po_line(buyer, b)
    po = os_.package_ready_lines(buyer)[0]
    os_.change_vendor(buyer, a, orders.other)
    db.session.commit()
    assert db.session.get(PurchaseOrder, po.id) is not None and [p.id for p in po.lines] == [b.id]


def test_replace_vendor_changes_only_the_vendor(app, world, orders):
    buyer = world.user("buyer")
    pol = _sent(world, buyer, orders.eur)
    po_id = pol.po_id
    os_.replace_vendor(buyer, pol, orders.other)
    assert pol.vendor_id == orders.other.id and pol.po_id == po_id and pol.status == "sent"
    assert db.session.scalar(select(func.count()).select_from(OutboxEvent)) == 1
    with pytest.raises(InvalidInput, match="already ordered from OTHV"):
        os_.replace_vendor(buyer, pol, orders.other)


def test_relink_moves_holdings_and_items(app, world, orders):
    buyer = world.user("buyer")
    pol = _sent(world, buyer, orders.eur, quantity=2, title="Provisional title")
    old_record = pol.bib_record
    target = inv.create_record(buyer, inv.RecordFields(title="The real title", author="Author, An",
                                                       isbn="9780261102217"))
    items = _item_ids(pol)
    os_.relink_po_line(buyer, pol, target)
    db.session.commit()
    assert pol.bib_record_id == target.id and pol.title == "The real title" and pol.isbn == "9780261102217"
    assert [h.bib_record_id for h in pol.holdings] == [target.id]
    assert [i.holding.bib_record_id for i in pol.items] == [target.id, target.id] and _item_ids(pol) == items
    assert inv.visible_holdings(buyer, old_record) == []


def test_change_reference_updates_only_the_description(app, world, orders):
    buyer = world.user("buyer")
    pol = _sent(world, buyer, orders.eur, title="Stub")
    record_id = pol.bib_record_id
    better = inv.create_record(buyer, inv.RecordFields(title="Full title", publisher="Pub"))
    os_.change_reference(buyer, pol, better)
    assert pol.title == "Full title" and pol.publisher == "Pub" and pol.bib_record_id == record_id
    assert pol.holdings[0].bib_record_id == record_id


# -- renewals ----------------------------------------------------------------------------------

def test_continuous_line_cycles_through_renewal(app, world, orders):
    buyer = world.user("buyer")
    auto = _sent(world, buyer, orders.eur, order_type="continuous", renewal_date=date(2027, 1, 31))
    manual = _sent(world, buyer, orders.eur, order_type="continuous", renewal_date=date(2027, 1, 31),
                   manual_renewal=True)
    assert os_.process_renewals(buyer, date(2026, 12, 1)) == {"waiting": 0, "waiting_manual": 0, "renewed": 0}
    os_.process_renewals(buyer, date(2027, 1, 5))
    assert (auto.status, manual.status) == ("waiting_for_renewal", "waiting_for_manual_renewal")
    os_.process_renewals(buyer, date(2027, 1, 31))
    assert auto.status == "sent" and auto.renewal_date == date(2028, 1, 31)
    assert manual.status == "waiting_for_manual_renewal"
    os_.renew_po_line(buyer, manual)
    assert manual.status == "sent" and manual.renewal_date == date(2028, 1, 31)


def test_receiving_a_continuous_line_adds_an_issue(app, world, orders):
    buyer = world.user("buyer")
    pol = _sent(world, buyer, orders.eur, order_type="continuous", renewal_date=date(2027, 1, 1))
    os_.receive_po_line(buyer, pol, enumeration="vol. 12", chronology="2026")
    assert [(i.enumeration, i.status) for i in pol.items] == [("vol. 12", "in_place")]
    assert pol.status == "sent"


# -- scope -------------------------------------------------------------------------------------

def test_library_scoped_operator_cannot_see_or_act_on_another_library(app, world, orders):
    buyer_a = make_buyer_a(world)
    pol_b = line(world, world.user("buyer"), orders.eur, library="b")
    with pytest.raises(NotFound):
        os_.get_po_line(buyer_a, pol_b.number)
    assert db.session.scalars(os_.po_lines_query(buyer_a, os_.LineFilter())).all() == []
    with pytest.raises(Forbidden):
        os_.approve_po_line(buyer_a, pol_b)
    with pytest.raises(Forbidden):
        line(world, buyer_a, orders.eur, library="b")
    own = line(world, buyer_a, orders.eur, library="a")
    assert os_.get_po_line(buyer_a, own.number) is own


def test_viewer_cannot_order(app, world, orders):
    with pytest.raises(Forbidden):
        line(world, world.user("viewer"), orders.eur)
