"""Inventory through the API: editing a record, holdings, items, receiving, binding work orders — the
inventory pages' services, library scope (404 outside it, 403 where the role may not change it) and errors."""
from __future__ import annotations

from app.extensions import db
from app.inventory.models import BibRecord, Holding, Item, WorkOrder
from tests.api.guards import key_reused, needs_if_match, not_modified, stale_action, walk_roles
from tests.api.helpers import conforms, each_case, error_of
from tests.api.inventory.route_matrix import API_MATRIX
from tests.conftest import TODAY
from tests.inventory.binding.helpers import bind, make_bindable


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


# -- records -----------------------------------------------------------------------------------

def test_record_etag_and_patch(world, stock, api, buyer_a):
    url = f"/bib-records/{stock.record.id}"
    client = api("buyer")
    resp = client.get(url)
    tag = resp.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": tag}).status_code == 304
    assert api("viewer-a").get(url).headers["ETag"] != tag   # another scope sees other holdings
    done = client.patch(url, json={"title": "The Hobbit, or There and Back Again", "isbn": "0-261-10221-4"},
                        headers={"If-Match": tag})
    assert done.status_code == 200, done.get_json()
    body = conforms(done.get_json(), "BibRecordWithHoldings")
    assert (body["title"], body["isbn"], body["author"], body["publisher"]) == (
        "The Hobbit, or There and Back Again", "0-261-10221-4", "Tolkien, J. R. R.", "HarperCollins")
    assert [h["library"] for h in body["holdings"]] == ["LIBA", "LIBB"]
    assert done.headers["ETag"] == client.etag(url) != tag
    assert db.session.get(BibRecord, stock.record.id).isbn_key == "0261102214"
    # a library-scoped buyer edits the institution's records too, as on the page
    assert api("buyer-a").change("patch", url, json={"publisher": "Allen & Unwin"}).status_code == 200


def test_record_patch_errors(world, stock, api, buyer_a):
    client = api("admin")
    url = f"/bib-records/{stock.record.id}"
    tag = client.etag(url)

    def check(body, field):
        error = error_of(client.patch(url, json=body, headers={"If-Match": tag}), 400, "invalid")
        assert error.get("field") == field, error

    each_case([({"title": " "}, "title"), ({"isbn": "12"}, "isbn"), ({"issn": "1"}, "issn"),
               ({"colour": "red"}, "colour"), ({"title": 7}, "title"), ({}, None)], check)
    error_of(client.patch("/bib-records/999999", json={"title": "X"}, headers={"If-Match": tag}), 404, "not_found")
    needs_if_match(client, "patch", url, {"title": "X"})
    error_of(api("viewer").patch(url, json={"title": "X"}, headers={"If-Match": tag}), 403, "forbidden")
    assert client.etag(url) == tag


# -- holdings and items ------------------------------------------------------------------------

def test_holding_and_item_add_read_receive(world, stock, api, buyer_a):
    client = api("buyer-a")
    resp = client.post(f"/bib-records/{stock.record.id}/holdings",
                       json={"library": "LIBA", "location_code": "REF", "location_name": "Reference"})
    assert resp.status_code == 201, resp.get_json()
    holding = conforms(resp.get_json(), "Holding")
    assert (holding["library"], holding["location_code"], holding["call_number"], holding["items"],
            holding["bib_record_id"]) == ("LIBA", "REF", "", [], stock.record.id)
    assert resp.headers["Location"] == f"/api/v1/holdings/{holding['id']}"
    assert conforms(client.get(f"/holdings/{holding['id']}").get_json(), "Holding") == holding
    assert not_modified(client, f"/holdings/{holding['id']}")

    resp = client.post(f"/holdings/{holding['id']}/items", json={"barcode": "A0100", "enumeration": "v.2"})
    assert resp.status_code == 201, resp.get_json()
    item = conforms(resp.get_json(), "Item")
    assert (item["barcode"], item["status"], item["received_date"]) == ("A0100", "not_in_place", None)
    assert resp.headers["Location"] == f"/api/v1/items/{item['id']}"
    assert api("viewer").get(f"/items/{item['id']}").get_json() == item
    assert not_modified(client, f"/items/{item['id']}")
    no_barcode = client.post(f"/holdings/{holding['id']}/items", json={})
    assert no_barcode.status_code == 201 and no_barcode.get_json()["barcode"] is None

    done = client.post(f"/items/{item['id']}/actions/receive", json={"received_date": "2026-12-01"})
    assert done.status_code == 200, done.get_json()
    assert (conforms(done.get_json(), "Item")["status"], done.get_json()["received_date"]) == ("in_place", "2026-12-01")
    today = client.post(f"/items/{no_barcode.get_json()['id']}/actions/receive")
    assert today.status_code == 200 and today.get_json()["received_date"] == TODAY.isoformat()
    error = error_of(client.post(f"/items/{item['id']}/actions/receive"), 422, "rule_violation")
    assert "already received on 2026-12-01" in error["message"]
    assert [i["status"] for i in client.get(f"/holdings/{holding['id']}").get_json()["items"]] == [
        "in_place", "in_place"]


def test_holding_and_item_errors(world, stock, api, buyer_a):
    client = api("buyer-a")
    holdings = f"/bib-records/{stock.record.id}/holdings"

    def holding_error(body, status, code, field):
        assert error_of(client.post(holdings, json=body), status, code).get("field") == field

    each_case([({"library": "LIBZ", "location_code": "X"}, 400, "invalid", "library"),
               ({"library": "", "location_code": "X"}, 400, "invalid", "library"),
               ({"library": "LIBA"}, 400, "invalid", "location_code"),
               ({"library": "LIBA", "location_code": " "}, 400, "invalid", "location_code"),
               ({"library": "LIBB", "location_code": "X"}, 403, "forbidden", "library")], holding_error)
    error_of(client.post("/bib-records/999999/holdings", json={"library": "LIBA", "location_code": "X"}), 404,
             "not_found")
    # library B's holding and item are not found for a buyer of library A
    error_of(client.get(f"/holdings/{stock.holding_b.id}"), 404, "not_found")
    error_of(client.get(f"/items/{stock.item_b.id}"), 404, "not_found")
    error_of(client.post(f"/holdings/{stock.holding_b.id}/items", json={}), 404, "not_found")
    error_of(client.post(f"/items/{stock.item_b.id}/actions/receive"), 404, "not_found")

    items = f"/holdings/{stock.holding.id}/items"
    assert error_of(client.post(items, json={"barcode": "A0001"}), 409, "duplicate")["field"] == "barcode"
    assert error_of(client.post(items, json={"barcode": "A 1"}), 400, "invalid")["field"] == "barcode"
    assert error_of(client.post(items, json={"shelf": "3"}), 400, "invalid")["field"] == "shelf"
    error_of(client.post(f"/items/{stock.item.id}/actions/receive", json={"received_date": "2026-13-01"}), 400,
             "invalid")
    stale_action(client, f"/items/{stock.item.id}/actions/receive")
    error_of(client.get("/holdings/999999"), 404, "not_found")
    error_of(client.get("/items/999999"), 404, "not_found")
    error_of(api("viewer").post(items, json={}), 403, "forbidden")
    assert (count(Holding), count(Item)) == (2, 2)
    assert db.session.get(Item, stock.item.id).status == "not_in_place"


# -- binding work orders -----------------------------------------------------------------------

def test_bind_list_complete_and_scan(world, api, buyer_a):
    journal = make_bindable(world, "J")
    client = api("buyer-a")
    resp = client.post(f"/holdings/{journal.holding.id}/work-orders",
                       json={"items": [i.id for i in journal.items], "barcode": "J-BOUND", "enumeration": "v.1",
                             "note": "red cloth"})
    assert resp.status_code == 201, resp.get_json()
    wo = conforms(resp.get_json(), "WorkOrder")
    assert resp.headers["Location"] == f"/api/v1/work-orders/{wo['id']}"
    assert (wo["number"], wo["status"], wo["library"], wo["note"], wo["created_by"], wo["done_at"]) == (
        f"WO-{wo['id']}", "open", "LIBA", "red cloth", "buyer-a", None)
    assert (wo["new_item"]["barcode"], wo["new_item"]["status"]) == ("J-BOUND", "in_work_order")
    assert [(b["barcode"], b["enumeration"]) for b in wo["bound_items"]] == [("J1", "no.1"), ("J2", "no.2"),
                                                                           ("J3", "no.3")]
    assert count(Item) == 1   # the bound items are gone: the new one stays
    url = f"/work-orders/{wo['id']}"
    assert conforms(api("viewer").get(url).get_json(), "WorkOrder") == wo
    assert not_modified(client, url)
    listed = conforms(api("viewer").get("/work-orders?status=open").get_json(), "WorkOrderPage")
    assert [w["id"] for w in listed["items"]] == [wo["id"]] and listed["total"] == 1
    assert api("viewer").get("/work-orders?status=done").get_json()["total"] == 0
    assert api("viewer-b").get("/work-orders").get_json()["total"] == 0   # library A's: not in B's scope

    stale_action(client, f"{url}/actions/done")
    done = client.post(f"{url}/actions/done", json={"received_date": "2026-12-02"})
    assert done.status_code == 200, done.get_json()
    body = conforms(done.get_json(), "WorkOrder")
    assert (body["status"], body["done_by"], body["new_item"]["status"], body["new_item"]["received_date"]) == (
        "done", "buyer-a", "in_place", "2026-12-02")
    assert "already done" in error_of(client.post(f"{url}/actions/done"), 422, "rule_violation")["message"]

    # the scan: a bound item back from the bindery
    other = make_bindable(world, "K")
    bind(world.user("admin"), other, barcode="K-BOUND")
    db.session.commit()
    scanned = client.post("/work-orders/actions/scan", json={"barcode": " K-BOUND "})
    assert scanned.status_code == 200, scanned.get_json()
    assert (conforms(scanned.get_json(), "WorkOrder")["status"], scanned.get_json()["new_item"]["received_date"]) == (
        "done", TODAY.isoformat())
    assert "already done" in error_of(client.post("/work-orders/actions/scan", json={"barcode": "K-BOUND"}), 422,
                                      "rule_violation")["message"]
    listed = client.get("/work-orders?status=done&per_page=1").get_json()
    assert listed["total"] == 2 and listed["per_page"] == 1 and len(listed["items"]) == 1


def test_binding_errors(world, api, buyer_a):
    journal = make_bindable(world, "J")
    b_journal = make_bindable(world, "B", library=world.lib_b)
    client = api("buyer-a")
    url = f"/holdings/{journal.holding.id}/work-orders"
    ids = [i.id for i in journal.items]
    unreceived = client.post(f"/holdings/{journal.holding.id}/items", json={"barcode": "J9"}).get_json()["id"]

    def check(body, status, code, field):
        assert error_of(client.post(url, json=body), status, code).get("field") == field

    each_case([
        ({"items": ids[:1]}, 400, "invalid", "items"),
        ({"items": "1,2"}, 400, "invalid", "items"),
        ({"barcode": "X"}, 400, "invalid", "items"),
        ({"items": ids, "barcode": "has space"}, 400, "invalid", "barcode"),
        ({"items": [*ids, 999999]}, 404, "not_found", None),
        ({"items": [ids[0], b_journal.items[0].id]}, 404, "not_found", None),   # library B's: not in scope
        ({"items": ids, "barcode": "B1"}, 409, "duplicate", "barcode"),
        ({"items": [ids[0], unreceived]}, 422, "rule_violation", "items"),
    ], check)
    error_of(client.post(f"/holdings/{b_journal.holding.id}/work-orders", json={"items": ids}), 404, "not_found")
    error_of(client.post("/holdings/999999/work-orders", json={"items": ids}), 404, "not_found")
    assert count(WorkOrder) == 0 and count(Item) == 7

    error_of(client.get("/work-orders?status=closed"), 400, "invalid")
    error_of(client.get("/work-orders?per_page=101"), 400, "invalid")
    error_of(client.get("/work-orders/999999"), 404, "not_found")
    error_of(client.post("/work-orders/999999/actions/done"), 404, "not_found")
    error_of(client.post("/work-orders/1/actions/done", json={"received_date": "soon"}), 404, "not_found")
    b_order = bind(world.user("admin"), b_journal, barcode="B-BOUND")
    db.session.commit()
    error_of(client.get(f"/work-orders/{b_order.id}"), 404, "not_found")
    error_of(client.post(f"/work-orders/{b_order.id}/actions/done"), 404, "not_found")
    error_of(api("buyer").post(f"/work-orders/{b_order.id}/actions/done", json={"received_date": "soon"}), 400,
             "invalid")
    assert error_of(client.post("/work-orders/actions/scan", json={"barcode": "B-BOUND"}), 404,
                    "not_found")["field"] == "barcode"
    assert error_of(client.post("/work-orders/actions/scan", json={"barcode": " "}), 400, "invalid")["field"] == "barcode"
    error_of(client.post("/work-orders/actions/scan", json={}), 400, "invalid")
    assert db.session.get(WorkOrder, b_order.id).status == "open"


def test_an_idempotency_key_is_for_one_request(world, stock, api):
    client = api("buyer")
    key_reused(client, ("/bib-records", {"title": "Once"}), ("/bib-records", {"title": "Twice"}))
    key_reused(client, (f"/bib-records/{stock.record.id}/holdings", {"library": "LIBA", "location_code": "K1"}),
               (f"/bib-records/{stock.record.id}/holdings", {"library": "LIBA", "location_code": "K2"}))
    key_reused(client, (f"/holdings/{stock.holding.id}/items", {"barcode": "K1"}),
               (f"/holdings/{stock.holding.id}/items", {"barcode": "K2"}))
    key_reused(client, (f"/items/{stock.item.id}/actions/receive", None), (f"/items/{stock.item_b.id}/actions/receive", None))
    first, second = make_bindable(world, "J"), make_bindable(world, "L")
    key_reused(client, (f"/holdings/{first.holding.id}/work-orders", {"items": [i.id for i in first.items],
                                                                      "barcode": "J-BOUND"}),
               (f"/holdings/{second.holding.id}/work-orders", {"items": [i.id for i in second.items]}))
    other = bind(world.user("admin"), second, barcode="L-BOUND")
    db.session.commit()
    key_reused(client, ("/work-orders/actions/scan", {"barcode": "J-BOUND"}),
               ("/work-orders/actions/scan", {"barcode": "L-BOUND"}))
    key_reused(client, (f"/work-orders/{other.id}/actions/done", None), ("/work-orders/1/actions/done", None))
    assert db.session.get(Item, stock.item_b.id).status == "not_in_place"
    assert (count(BibRecord), count(WorkOrder)) == (4, 2)


# -- roles -------------------------------------------------------------------------------------

def test_roles_follow_the_matrix(app, world, stock, api):
    journal = make_bindable(world, "J")
    order = bind(world.user("admin"), journal, barcode="J-BOUND")
    db.session.commit()
    surprise = {"surprise": 1}
    walk_roles(api, API_MATRIX, {
        "api.patch_bib_record": ("patch", f"/bib-records/{stock.record.id}", {"title": "X"}),
        "api.create_holding": ("post", f"/bib-records/{stock.record.id}/holdings", surprise),
        "api.get_holding": ("get", f"/holdings/{stock.holding.id}", None),
        "api.create_item": ("post", f"/holdings/{stock.holding.id}/items", surprise),
        "api.get_item": ("get", f"/items/{stock.item.id}", None),
        "api.receive_item": ("post", f"/items/{stock.item.id}/actions/receive", surprise),
        "api.bind_items": ("post", f"/holdings/{journal.holding.id}/work-orders", surprise),
        "api.list_work_orders": ("get", "/work-orders", None),
        "api.get_work_order": ("get", f"/work-orders/{order.id}", None),
        "api.complete_work_order": ("post", f"/work-orders/{order.id}/actions/done", surprise),
        "api.scan_work_order": ("post", "/work-orders/actions/scan", surprise),
    }, allowed=(200, 400, 428))
    assert db.session.get(BibRecord, stock.record.id).title == "The Hobbit"
    assert db.session.get(Item, stock.item.id).status == "not_in_place"
    assert db.session.get(WorkOrder, order.id).status == "open"
    error_of(app.test_client().get("/api/v1/work-orders"), 401, "unauthorized")
