"""Purchase orders through the API: the list (filters, paging, scope), one order with its ETag,
sending an open order, and "Package and send" with its preview and the 409 of a changed set."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.integrations.models import JobRun
from app.orders import services as os_
from app.orders.models import POLine, PurchaseOrder
from tests.api.helpers import conforms, each_case, error_of
from tests.api.orders.roles import check_roles
from tests.api.orders.route_matrix import PURCHASE_ORDER_API
from tests.orders.helpers import line, sent_line


def ready(world, vendor, **kw) -> POLine:
    pol = line(world, world.user("buyer"), vendor, **kw)
    os_.approve_po_line(world.user("buyer"), pol)
    db.session.commit()
    return pol


def test_list_and_read_purchase_orders(world, orders, api):
    buyer = world.user("buyer")
    a1 = sent_line(world, buyer, orders.eur, price="10.00", quantity=2).po
    a2 = sent_line(world, buyer, orders.usd).po
    b1 = sent_line(world, buyer, orders.eur, library="b").po
    manual = ready(world, orders.eur, packaging="manual")
    opened = os_.package_po_line(buyer, manual)
    db.session.commit()
    client = api("viewer")

    def numbers(query, user_client=client):
        resp = user_client.get("/purchase-orders" + query)
        assert resp.status_code == 200, resp.get_json()
        return [po["number"] for po in conforms(resp.get_json(), "PurchaseOrderPage")["items"]]

    each_case([
        ("", [opened.number, b1.number, a2.number, a1.number]),
        ("?status=sent", [b1.number, a2.number, a1.number]),
        ("?status=open", [opened.number]),
        ("?status=closed", []),
        ("?vendor=USDV", [a2.number]),
        ("?vendor=EURV&status=sent", [b1.number, a1.number]),
    ], lambda query, expected: _equal(numbers(query), expected))
    page = client.get("/purchase-orders?per_page=3&page=2").get_json()
    assert (page["total"], [po["number"] for po in page["items"]]) == (4, [a1.number])
    assert numbers("", api("viewer-a")) == [opened.number, a2.number, a1.number]   # library A's only
    for query, field in (("?status=lost", "status"), ("?per_page=201", "per_page"), ("?page=0", "page")):
        assert error_of(client.get("/purchase-orders" + query), 400, "invalid")["field"] == field
    error_of(client.get("/purchase-orders?vendor=NOPE"), 404, "not_found")

    resp = client.get(f"/purchase-orders/{a1.number}")
    got = conforms(resp.get_json(), "PurchaseOrder")
    assert (got["vendor"], got["owner_library"], got["status"], got["packaging"], got["lines"], got["totals"],
            got["created_by"], got["sent_by"], got["allowed_actions"]) == (
        "EURV", "LIBA", "sent", "auto", [a1.lines[0].number], [{"currency": "EUR", "net_total": "20.00"}],
        "buyer", "buyer", [])
    assert client.get(f"/purchase-orders/{a1.number}",
                      headers={"If-None-Match": resp.headers["ETag"]}).status_code == 304
    assert client.get(f"/purchase-orders/{a1.id}").get_json()["number"] == a1.number   # by id too
    error_of(client.get("/purchase-orders/PO-999999"), 404, "not_found")
    error_of(api("viewer-a").get(f"/purchase-orders/{b1.number}"), 404, "not_found")
    assert client.get(f"/purchase-orders/{opened.number}").get_json()["allowed_actions"] == ["send"]


def _equal(got, expected):
    assert got == expected, got


def test_send_an_open_purchase_order(world, orders, api):
    buyer = world.user("buyer")
    pol = ready(world, orders.eur, packaging="manual")
    po = os_.package_po_line(buyer, pol)
    db.session.commit()
    client = api("buyer")
    path = f"/purchase-orders/{po.number}/actions/send"
    error_of(client.post(path, json={"surprise": 1}), 400, "invalid")
    error_of(client.post("/purchase-orders/PO-999999/actions/send"), 404, "not_found")
    tag = client.etag(f"/purchase-orders/{po.number}")
    error_of(client.post(path, headers={"If-Match": '"stale"'}), 412, "precondition_failed")
    resp = client.post(path, headers={"If-Match": tag})
    assert resp.status_code == 200, resp.get_json()
    sent = conforms(resp.get_json(), "PurchaseOrder")
    assert (sent["status"], sent["sent_by"], sent["allowed_actions"]) == ("sent", "buyer", [])
    assert client.get(f"/po-lines/{pol.number}").get_json()["status"] == "sent"
    error = error_of(client.post(path), 422, "rule_violation")
    assert "only an order being packaged can be sent" in error["message"]


def test_package_and_send_confirms_the_set_the_preview_showed(world, orders, api):
    first = ready(world, orders.eur, price="10.00")
    second = ready(world, orders.eur, price="5.50")
    third = ready(world, orders.usd)
    client = api("buyer")
    preview = conforms(client.get("/purchase-orders/package").get_json(), "PackagePreview")
    assert (preview["line_count"], preview["in_background"], preview["lines"]) == (
        3, False, [first.number, second.number, third.number])
    assert [(g["vendor"], g["owner_library"], g["lines"], g["totals"]) for g in preview["groups"]] == [
        ("EURV", "LIBA", 2, [{"currency": "EUR", "net_total": "15.50"}]),
        ("USDV", "LIBA", 1, [{"currency": "USD", "net_total": "100.00"}])]
    assert preview["totals"] == [{"currency": "EUR", "net_total": "15.50"}, {"currency": "USD", "net_total": "100.00"}]

    error_of(client.post("/purchase-orders/package", json={}), 400, "invalid")
    late = ready(world, orders.eur)   # a line became Ready after the preview: the set changed
    error = error_of(client.post("/purchase-orders/package", json={"ready": preview["ready"]}), 409,
                     "ready_lines_changed")
    assert error["field"] == "ready"
    assert db.session.scalar(select(db.func.count()).select_from(PurchaseOrder)) == 0

    again = client.get("/purchase-orders/package").get_json()
    resp = client.post("/purchase-orders/package", json={"ready": again["ready"]})
    assert resp.status_code == 201, resp.get_json()
    result = conforms(resp.get_json(), "PackageResult")
    assert len(result["purchase_orders"]) == 2 and result["run"] is None
    for pol in (first, second, third, late):
        assert client.get(f"/po-lines/{pol.number}").get_json()["status"] == "sent"
    # the same confirmation again: the set changed (it is empty now), nothing is sent twice
    error_of(client.post("/purchase-orders/package", json={"ready": again["ready"]}), 409, "ready_lines_changed")
    assert client.get("/purchase-orders/package").get_json()["line_count"] == 0


def test_many_ready_lines_go_to_a_background_run(app, world, orders, api):
    app.config["PACKAGE_IN_REQUEST_MAX_LINES"] = 1
    ready(world, orders.eur)
    ready(world, orders.other)
    client = api("buyer")
    preview = client.get("/purchase-orders/package").get_json()
    assert preview["in_background"] is True
    resp = client.post("/purchase-orders/package", json={"ready": preview["ready"]})
    assert resp.status_code == 202, resp.get_json()
    result = conforms(resp.get_json(), "PackageResult")
    db.session.expire_all()
    run = db.session.get(JobRun, result["run"])
    assert (result["purchase_orders"], result["started"], run.job, run.status) == (
        [], True, "package_orders", "completed")
    assert db.session.scalar(select(db.func.count()).select_from(PurchaseOrder)) == 2


def test_roles_follow_the_matrix(world, orders, api):
    po = sent_line(world, world.user("buyer"), orders.eur).po
    wrong = {"surprise": 1}
    check_roles(api, {
        "api.list_purchase_orders": ("get", "/purchase-orders", None),
        "api.get_purchase_order": ("get", f"/purchase-orders/{po.number}", None),
        "api.package_preview": ("get", "/purchase-orders/package", None),
        "api.package_ready": ("post", "/purchase-orders/package", wrong),
        "api.send_purchase_order": ("post", f"/purchase-orders/{po.number}/actions/send", wrong),
    }, PURCHASE_ORDER_API)
    assert db.session.scalar(select(db.func.count()).select_from(PurchaseOrder)) == 1
