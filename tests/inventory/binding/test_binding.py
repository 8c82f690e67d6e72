"""Binding: received items of one holding become one new item through a work order (services and pages)."""
from __future__ import annotations

import re
from datetime import date

import pytest

from app import clock
from app.errors import Duplicate, Forbidden, InvalidInput, NotFound, RuleViolation
from app.extensions import db
from app.inventory import services as inv
from app.inventory.models import Item, WorkOrder, WorkOrderItem
from tests.inventory.binding.helpers import bind
from tests.helpers import login
from tests.orders.helpers import line, make_vendors

HX = {"HX-Request": "true"}


def _item(barcode):
    return db.session.scalar(db.select(Item).filter_by(barcode=barcode))


# -- services ----------------------------------------------------------------------------------

def test_binding_three_items_opens_a_work_order_and_done_puts_the_new_item_in_place(app, world, journal):
    buyer = world.user("buyer")
    old_ids = [i.id for i in journal.items]
    work_order = bind(buyer, journal, barcode="BOUND-1", enumeration="no.1-3", chronology="2025",
                      description="Bound volume", note="Green cloth")
    db.session.commit()

    # (SQLite may give the new item a deleted item's id: compare barcodes)
    assert [_item(barcode) for barcode in ("A1", "A2", "A3")] == [None, None, None]
    assert db.session.query(Item).count() == 1
    work_order = db.session.get(WorkOrder, work_order.id)
    new = work_order.new_item
    assert [i.id for i in journal.holding.items] == [new.id]
    assert (new.status, new.received_date, new.po_line_id) == ("in_work_order", None, None)
    assert (new.barcode, new.enumeration, new.chronology, new.description) == ("BOUND-1", "no.1-3", "2025",
                                                                              "Bound volume")
    assert (work_order.kind, work_order.status, work_order.note) == ("binding", "open", "Green cloth")
    assert work_order.created_by_id == buyer.id and work_order.done_at is None
    assert work_order.bound_summary == "A1, A2, A3"
    assert [(b.former_item_id, b.enumeration, b.received_date) for b in work_order.bound_items] == [
        (old_ids[0], "no.1", date(2025, 3, 1)), (old_ids[1], "no.2", date(2025, 3, 2)),
        (old_ids[2], "no.3", date(2025, 3, 3))]
    assert inv.open_work_orders(world.user("viewer")) == [work_order]
    assert inv.done_work_orders(world.user("viewer")) == []

    inv.complete_work_order(world.user("admin"), work_order, date(2026, 4, 1))
    db.session.commit()
    work_order = db.session.get(WorkOrder, work_order.id)
    assert work_order.status == "done" and work_order.done_by_id == world.user("admin").id
    assert work_order.done_at is not None
    assert (work_order.new_item.status, work_order.new_item.received_date) == ("in_place", date(2026, 4, 1))
    assert inv.open_work_orders(buyer) == [] and inv.done_work_orders(buyer) == [work_order]

    with pytest.raises(RuleViolation, match=f"Work order WO-{work_order.id} was already done on") as exc:
        inv.complete_work_order(buyer, work_order)
    assert exc.value.field == "status"
    assert db.session.get(WorkOrder, work_order.id).new_item.received_date == date(2026, 4, 1)


def test_done_without_a_day_is_today_and_the_bound_item_may_be_bound_again(app, world, journal):
    admin = world.user("admin")
    first = bind(admin, journal)
    assert first.new_item.barcode is None
    inv.complete_work_order(admin, first)
    assert first.new_item.received_date == clock.today()
    extra = inv.add_item(admin, journal.holding, "A4")
    inv.receive_item(admin, extra)
    first_item_id = first.new_item_id
    second = inv.bind_items(admin, journal.holding, [first.new_item, extra], barcode="A1")  # a freed barcode
    db.session.commit()
    assert second.bound_summary == f"item {first_item_id}, A4"
    assert _item("A1").status == "in_work_order"
    first = db.session.get(WorkOrder, first.id)
    assert (first.status, first.new_item) == ("done", None)  # the order stays, its item went into the next one
    page = login(app.test_client(), "viewer").get(f"/inventory/work-orders/{first.id}").data.decode()
    assert "The bound item was deleted later" in page
    assert "deleted since" in login(app.test_client(), "viewer").get("/inventory/work-orders").data.decode()


def test_binding_refusals_name_the_item_and_change_nothing(app, world, stock, journal, journal_b):
    admin = world.user("admin")
    a1, a2, a3 = journal.items
    with pytest.raises(InvalidInput, match="at least two items") as exc:
        inv.bind_items(admin, journal.holding, [a1])
    assert exc.value.field == "items"
    with pytest.raises(InvalidInput, match="at least two items"):
        inv.bind_items(admin, journal.holding, [a1, a1])  # the same item twice is one item

    unreceived = inv.add_item(admin, journal.holding, "A9", enumeration="no.9")
    with pytest.raises(RuleViolation, match="Item A9 is not in place .*only received items") as exc:
        inv.bind_items(admin, journal.holding, [a1, unreceived])
    assert exc.value.field == "items"
    with pytest.raises(RuleViolation, match="Item B1 belongs to another holding"):
        inv.bind_items(admin, journal.holding, [a1, journal_b.items[0]])
    with pytest.raises(RuleViolation, match="Item A2 belongs to another holding"):
        inv.bind_items(admin, journal_b.holding, [journal_b.items[0], a2])
    with pytest.raises(Duplicate) as exc:
        inv.bind_items(admin, journal.holding, [a1, a2], barcode="A0001")  # used by an item not being bound
    assert exc.value.field == "barcode"
    with pytest.raises(InvalidInput) as exc:
        inv.bind_items(admin, journal.holding, [a1, a2], enumeration="v" * 101)
    assert exc.value.field == "enumeration"
    with pytest.raises(Forbidden):
        inv.bind_items(world.user("viewer"), journal.holding, [a1, a2])

    open_order = inv.bind_items(admin, journal.holding, [a1, a2])
    with pytest.raises(RuleViolation, match="is in a work order"):
        inv.bind_items(admin, journal.holding, [open_order.new_item, a3])
    db.session.commit()
    assert {i.barcode for i in journal.holding.items} == {"A3", "A9", None}
    assert db.session.query(WorkOrder).count() == 1


def test_a_library_scoped_user_of_another_library_cannot_bind_or_complete(app, world, journal, buyer_a, journal_b):
    with pytest.raises(Forbidden):
        inv.bind_items(buyer_a, journal_b.holding, journal_b.items)
    work_order = bind(world.user("admin"), journal_b)
    db.session.commit()
    with pytest.raises(Forbidden):
        inv.complete_work_order(buyer_a, work_order)
    viewer_a = world.user("viewer-a")
    with pytest.raises(NotFound):
        inv.get_work_order(viewer_a, work_order.id)
    with pytest.raises(NotFound):
        inv.find_work_order_by_barcode(viewer_a, "whatever")
    assert inv.open_work_orders(viewer_a) == [] and inv.open_work_orders(world.user("viewer-b")) == [work_order]
    own = bind(buyer_a, journal, barcode="A-BOUND")
    db.session.commit()
    assert inv.find_work_order_by_barcode(viewer_a, " A-BOUND ") == own
    assert inv.complete_work_order(buyer_a, own).status == "done"


def test_the_order_line_of_a_bound_item_is_kept(app, world, journal):
    admin = world.user("admin")
    orders = make_vendors(world)
    pol = line(world, admin, orders.eur, title="Journal of Binding A")
    journal.items[0].po_line_id = pol.id
    work_order = bind(admin, journal)
    db.session.commit()
    kept = db.session.scalars(db.select(WorkOrderItem).order_by(WorkOrderItem.id)).all()
    assert [b.po_line_id for b in kept] == [pol.id, None, None]
    assert work_order.new_item.po_line_id is None


# -- pages -------------------------------------------------------------------------------------

def _ids(items):
    return [str(i.id) for i in items]


def test_bind_through_the_plain_form(app, world, stock, journal):
    client = login(app.test_client(), "buyer")
    url = f"/inventory/holdings/{journal.holding.id}/bind"
    holding_page = client.get(f"/inventory/holdings/{journal.holding.id}").data.decode()
    assert f'href="{url}"' in holding_page and "Bind items" in holding_page
    # one unreceived item: nothing to bind there
    assert "Bind items" not in client.get(f"/inventory/holdings/{stock.holding.id}").data.decode()
    page = client.get(url).data.decode()
    assert "<html" in page and "Bind selected" in page and f'<form id="bind-{journal.holding.id}"' in page
    boxes = re.findall(r'<input type="checkbox" name="items" value="(\d+)" form="bind-(\d+)"', page)
    assert boxes == [(i, str(journal.holding.id)) for i in _ids(journal.items)]
    resp = client.post(url, data={"items": _ids(journal.items), "barcode": "BOUND-7", "enumeration": "no.1-3",
                                  "note": "Half leather"})
    work_order = db.session.scalar(db.select(WorkOrder))
    assert resp.status_code == 302 and resp.headers["Location"] == f"/inventory/work-orders/{work_order.id}"
    assert [_item(barcode) for barcode in ("A1", "A2", "A3")] == [None, None, None]
    shown = client.get(resp.headers["Location"]).data.decode()
    assert "A1" in shown and "A2" in shown and "A3" in shown and "BOUND-7" in shown and "Half leather" in shown
    assert "In a work order" in shown and "Done: the item is in place" in shown
    holding = client.get(f"/inventory/holdings/{journal.holding.id}").data.decode()
    assert "BOUND-7" in holding and "In a work order" in holding and f"WO-{work_order.id}" in holding
    assert ">A2</a>" not in holding and ">A1</a>" not in holding  # the bound items are gone


def test_bind_through_the_htmx_fragment_with_inline_errors(app, world, stock, journal):
    client = login(app.test_client(), "buyer")
    url = f"/inventory/holdings/{journal.holding.id}/bind"
    frag = client.get(url, headers=HX)
    assert frag.status_code == 200 and b"<html" not in frag.data
    assert f'id="holding-{journal.holding.id}"'.encode() in frag.data and f'hx-post="{url}"'.encode() in frag.data
    one = client.post(url, data={"items": _ids(journal.items[:1])}, headers=HX)
    assert one.status_code == 422 and b"Choose at least two items" in one.data and b"<html" not in one.data
    assert f'value="{journal.items[0].id}" form="bind-{journal.holding.id}" id="bind-{journal.holding.id}-' \
           f'{journal.items[0].id}" aria-label="Bind A1" checked'.encode() in one.data
    foreign = client.post(url, data={"items": [str(journal.items[0].id), str(stock.item.id)]}, headers=HX)
    assert foreign.status_code == 422 and b"Item A0001 belongs to another holding" in foreign.data
    admin = world.user("admin")
    inv.add_item(admin, journal.holding, "A9")
    db.session.commit()
    a9 = _item("A9")
    unreceived = client.post(url, data={"items": [str(journal.items[0].id), str(a9.id)]}, headers=HX)
    assert unreceived.status_code == 422 and b"Item A9 is not in place" in unreceived.data
    dup = client.post(url, data={"items": _ids(journal.items), "barcode": "A0001"}, headers=HX)
    assert dup.status_code == 422 and b"Barcode A0001 is already used" in dup.data
    assert db.session.query(WorkOrder).count() == 0 and _item("A1") is not None

    ok = client.post(url, data={"items": _ids(journal.items[1:]), "barcode": "BOUND-2"}, headers=HX)
    body = ok.data.decode()
    assert ok.status_code == 200 and "<html" not in body and f'id="holding-{journal.holding.id}"' in body
    work_order = db.session.scalar(db.select(WorkOrder))
    assert f"Work order <a href=\"/inventory/work-orders/{work_order.id}\">WO-{work_order.id}</a> opened" in body
    assert "A2, A3 bound into item BOUND-2" in body and "Bind selected" not in body
    assert _item("A2") is None and _item("BOUND-2").status == "in_work_order"


def test_binding_pages_follow_roles_and_scope(app, world, journal, journal_b, buyer_a):
    client = login(app.test_client(), "buyer-a")
    url_b = f"/inventory/holdings/{journal_b.holding.id}/bind"
    assert client.get(url_b).status_code == 404
    assert client.post(url_b, data={"items": _ids(journal_b.items)}, headers=HX).status_code == 404
    # items of another library slipped into a form of one's own holding are not found either
    assert client.post(f"/inventory/holdings/{journal.holding.id}/bind",
                       data={"items": _ids(journal_b.items)}).status_code == 404
    viewer = login(app.test_client(), "viewer")
    for headers in ({}, HX):
        assert viewer.post(f"/inventory/holdings/{journal.holding.id}/bind",
                           data={"items": _ids(journal.items)}, headers=headers).status_code == 403
    assert "Bind items" not in viewer.get(f"/inventory/holdings/{journal.holding.id}").data.decode()
    assert db.session.query(WorkOrder).count() == 0

    work_order_b = bind(world.user("admin"), journal_b, barcode="B-BOUND")
    db.session.commit()
    for url in (f"/inventory/work-orders/{work_order_b.id}",):
        for headers in ({}, HX):
            assert client.get(url, headers=headers).status_code == 404
    assert client.post(f"/inventory/work-orders/{work_order_b.id}/done").status_code == 404
    scan = client.post("/inventory/work-orders/scan", data={"barcode": "B-BOUND"}, headers=HX)
    assert scan.status_code == 422 and b"No work order is binding an item with barcode B-BOUND" in scan.data
    assert "B-BOUND" not in login(app.test_client(), "viewer-a").get("/inventory/work-orders").data.decode()
    assert viewer.post(f"/inventory/work-orders/{work_order_b.id}/done").status_code == 403
    assert viewer.post("/inventory/work-orders/scan", data={"barcode": "B-BOUND"}).status_code == 403
    assert db.session.get(WorkOrder, work_order_b.id).status == "open"


def test_work_order_list_and_done_from_a_row(app, world, journal, journal_b):
    admin = world.user("admin")
    open_a = bind(admin, journal, barcode="A-BOUND", enumeration="no.1-3")
    open_b = bind(admin, journal_b, barcode="B-BOUND")
    db.session.commit()
    viewer = login(app.test_client(), "viewer").get("/inventory/work-orders").data.decode()
    assert "<html" in viewer and f"WO-{open_a.id}" in viewer and "A1, A2, A3" in viewer and "B1, B2" in viewer
    assert ">Done</button>" not in viewer and 'name="barcode"' not in viewer
    client = login(app.test_client(), "buyer")
    page = client.get("/inventory/work-orders").data.decode()
    done_url = f"/inventory/work-orders/{open_a.id}/done"
    assert f'action="{done_url}"' in page and f'hx-post="{done_url}"' in page and 'name="barcode"' in page
    frag = client.get("/inventory/work-orders", headers=HX).data.decode()
    assert "<html" not in frag and frag.count('id="work-orders"') == 1

    resp = client.post(done_url, data={"back": "list"}, headers=HX)
    body = resp.data.decode()
    assert resp.status_code == 200 and "<html" not in body and 'id="work-orders"' in body
    assert f"Work order <a href=\"/inventory/work-orders/{open_a.id}\">WO-{open_a.id}</a> done" in body
    item = _item("A-BOUND")
    assert (item.status, item.received_date) == ("in_place", clock.today())
    again = client.post(done_url, data={"back": "list"}, headers=HX)
    assert again.status_code == 422 and b"was already done on" in again.data
    plain = client.post(f"/inventory/work-orders/{open_b.id}/done", data={"back": "list"})
    assert plain.status_code == 302 and plain.headers["Location"] == "/inventory/work-orders"
    listed = client.get("/inventory/work-orders").data.decode()
    assert "No open work orders." in listed and "Recently done" in listed and "B-BOUND" in listed


def test_done_from_the_work_order_page_and_by_scanning(app, world, journal, journal_b):
    admin = world.user("admin")
    first = bind(admin, journal, barcode="A-BOUND")
    second = bind(admin, journal_b, barcode="B-BOUND")
    db.session.commit()
    client = login(app.test_client(), "buyer")
    url = f"/inventory/work-orders/{first.id}"
    frag = client.get(url, headers=HX)
    assert frag.status_code == 200 and b"<html" not in frag.data and f'id="work-order-{first.id}"'.encode() in frag.data
    bad = client.post(f"{url}/done", data={"received_date": "someday"}, headers=HX)
    assert bad.status_code == 422 and b'aria-invalid="true"' in bad.data
    ok = client.post(f"{url}/done", data={"received_date": "2026-05-04"}, headers=HX)
    assert ok.status_code == 200 and b"2026-05-04" in ok.data and b"Done: the item is in place" not in ok.data
    again = client.post(f"{url}/done", data={"received_date": "2026-05-05"})
    assert again.status_code == 422 and b"was already done on" in again.data and b"<html" in again.data

    assert client.post("/inventory/work-orders/scan", data={"barcode": ""}).status_code == 422
    unknown = client.post("/inventory/work-orders/scan", data={"barcode": "NOPE"}, headers=HX)
    assert unknown.status_code == 422 and b"No work order is binding an item with barcode NOPE" in unknown.data
    twice = client.post("/inventory/work-orders/scan", data={"barcode": "A-BOUND"}, headers=HX)
    assert twice.status_code == 422 and b"was already done on" in twice.data
    scanned = client.post("/inventory/work-orders/scan", data={"barcode": "B-BOUND", "received_date": "2026-05-06"})
    assert scanned.status_code == 302 and scanned.headers["Location"] == "/inventory/work-orders"
    assert db.session.get(WorkOrder, second.id).status == "done"
    assert _item("B-BOUND").received_date == date(2026, 5, 6)
    item_page = client.get(f"/inventory/items/{_item('B-BOUND').id}").data.decode()
    assert f"work order WO-{second.id}</a> (done)" in item_page and "In place" in item_page
