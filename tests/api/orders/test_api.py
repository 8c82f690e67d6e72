"""PO lines through the API: create and read back, strict bodies, every action, encumbrances, scope."""
from __future__ import annotations

from app import clock
from app.auth.models import Role
from app.extensions import db
from app.funds.models import FundTransaction
from app.orders import services as os_
from app.orders.models import POLine, POLineEvent
from app.vendors import services as vs
from tests.api.helpers import conforms, each_case, error_of
from tests.inventory.helpers import record
from tests.orders.helpers import line
from tests.api.orders.route_matrix import PO_LINE_API as API_MATRIX

TODAY = clock.today().isoformat()


def body(**overrides) -> dict:
    """A one-time physical book for library A, 100.00 EUR, paid by A-BKS."""
    data = {"vendor": "EURV", "owner_library": "LIBA", "title": "A book", "list_price": "100.00",
            "distribution": [{"fund": "A-BKS", "percent": "100"}]}
    data.update(overrides)
    return data


def create(client, **overrides) -> dict:
    resp = client.post("/po-lines", json=body(**overrides))
    assert resp.status_code == 201, resp.get_json()
    return conforms(resp.get_json(), "POLine")


def act(client, number, action, json=None, status=200) -> dict:
    resp = client.post(f"/po-lines/{number}/actions/{action}", json=json)
    assert resp.status_code == status, resp.get_json()
    return conforms(resp.get_json(), "POLine" if status == 200 else "Error")


def balances(client, fund) -> dict:
    return client.get(f"/funds/{fund.id}").get_json()["balances"]


def line_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(POLine))


# -- create and read back ----------------------------------------------------------------------

def test_create_with_a_three_way_percent_split_and_read_it_back(world, orders, extra_fund, api):
    client = api("buyer")
    # 3 × 50.00 less 33.33 % = 100.005, rounded once: 100.01; 33.33/33.33/33.34 % of it add up exactly.
    resp = client.post("/po-lines", json=body(
        vendor_account="MAIN", author="Austen, Jane", isbn="978-0-14-143951-8", publisher="Penguin",
        publication_date="2003", list_price="50.00", quantity=3, discount="33.33", reporting_code="RC1",
        vendor_reference="V-77", note="rush", expected_receipt_date="2026-12-15", packaging="manual",
        distribution=[{"fund": "SHARED", "percent": "33.33"}, {"fund": world.fund_a.id, "percent": "33.33"},
                      {"fund": "EXTRA", "percent": "33.34"}]))
    assert resp.status_code == 201, resp.get_json()
    created = conforms(resp.get_json(), "POLine")
    number = created["number"]
    assert resp.headers["Location"] == f"/api/v1/po-lines/{number}"
    assert number.startswith("POL-")
    read = conforms(api("viewer").get(f"/po-lines/{number}").get_json(), "POLine")
    assert read == created
    pol = db.session.scalar(db.select(POLine).filter_by(number=number))
    items = read.pop("items")
    assert [(i["description"], i["status"], i["received_date"]) for i in items] == [
        ("Copy 1", "not_in_place", None), ("Copy 2", "not_in_place", None), ("Copy 3", "not_in_place", None)]
    assert read.pop("created_at").endswith("Z")
    assert read == {
        "id": pol.id, "number": number, "status": "in_review", "order_type": "one_time",
        "material_form": "physical", "packaging": "manual", "owner_library": "LIBA", "vendor": "EURV",
        "vendor_account": "MAIN", "po": None, "bib_record_id": pol.bib_record_id, "title": "A book",
        "author": "Austen, Jane", "isbn": "978-0-14-143951-8", "issn": "", "publisher": "Penguin",
        "publication_date": "2003", "currency": "EUR", "list_price": "50.00", "discount": "33.33",
        "net_price": "100.01", "quantity": 3, "distribution_method": "percent",
        "distribution": [
            {"fund": "SHARED", "fund_id": world.shared.id, "percent": "33.33", "amount": "33.33",
             "encumbered_amount": None, "encumbered_currency": None},
            {"fund": "A-BKS", "fund_id": world.fund_a.id, "percent": "33.33", "amount": "33.33",
             "encumbered_amount": None, "encumbered_currency": None},
            {"fund": "EXTRA", "fund_id": extra_fund.id, "percent": "33.34", "amount": "33.35",
             "encumbered_amount": None, "encumbered_currency": None}],
        "reporting_code": "RC1", "vendor_reference": "V-77", "note": "rush",
        "expected_receipt_date": "2026-12-15", "renewal_date": None, "renewal_period_months": 12,
        "manual_renewal": False, "activation_date": None, "fully_invoiced": False, "paid": False,
        "cancel_reason": "", "approved_at": None, "sent_at": None, "closed_at": None,
        "acquisition_method": "purchase", "pattern": None,
        "allowed_actions": ["approve", "defer", "cancel", "change-reference", "relink"]}
    assert pol.bib_record.title == "A book" and pol.holdings[0].library.code == "LIBA"
    assert api("viewer").get(f"/po-lines/{pol.id}").get_json()["number"] == number  # by id too


def test_create_from_a_record_and_an_institution_continuous_order(world, orders, api):
    client = api("admin")
    rec = record(world.user("admin"), "Nature", issn="0028-0836", publisher="Springer")
    db.session.commit()
    data = body(owner_library=None, inventory_library="LIBB", bib_record_id=rec.id, order_type="continuous",
                renewal_date="2027-01-01", renewal_period_months=6, manual_renewal=True,
                distribution=[{"fund": "SHARED", "amount": "100.00"}], distribution_method="amount")
    del data["title"]
    resp = client.post("/po-lines", json=data)
    assert resp.status_code == 201, resp.get_json()
    created = conforms(resp.get_json(), "POLine")
    assert (created["title"], created["issn"], created["publisher"], created["bib_record_id"]) == (
        "Nature", "0028-0836", "Springer", rec.id)
    assert (created["owner_library"], created["order_type"], created["renewal_date"],
            created["renewal_period_months"], created["manual_renewal"], created["items"]) == (
        None, "continuous", "2027-01-01", 6, True, [])
    assert created["distribution"][0]["percent"] is None and created["distribution"][0]["amount"] == "100.00"
    # viewer-a sees only library A's lines; the institution's line is not found
    error_of(api("viewer-a").get(f"/po-lines/{created['number']}"), 404, "not_found")
    # a continuous physical order receives each issue as a new item and stays Sent
    number = created["number"]
    act(client, number, "approve")
    assert act(client, number, "send")["allowed_actions"] == ["receive", "receive-next", "cancel", "close",
                                                              "replace-vendor", "change-vendor", "change-reference"]
    line_ = act(client, number, "receive", {"enumeration": "v.1 no.1", "chronology": "2026 Nov"})
    assert line_["status"] == "sent"
    assert [(i["enumeration"], i["chronology"], i["status"]) for i in line_["items"]] == [
        ("v.1 no.1", "2026 Nov", "in_place")]


# -- strict bodies -----------------------------------------------------------------------------

def test_invalid_bodies_are_refused_and_nothing_is_created(world, orders, api):
    client = api("buyer")

    def check(overrides, status, field, text):
        resp = client.post("/po-lines", json=body(**overrides))
        error = error_of(resp, status, "invalid" if status == 400 else "rule_violation")
        assert error.get("field") == field, error
        assert text in error["message"], error

    each_case([
        (dict(distribution=[{"fund": "A-BKS", "percent": "60"}, {"fund": "SHARED", "percent": "30"}]), 400,
         "distribution", "add up to 90.00 %"),
        (dict(distribution_method="amount", distribution=[{"fund": "A-BKS", "amount": "60.00"},
                                                          {"fund": "SHARED", "amount": "39.99"}]), 400,
         "distribution", "add up to 99.99 EUR; the net price is 100.00 EUR"),
        (dict(list_price=100.0), 400, "list_price", "not a JSON number"),
        (dict(list_price=100), 400, "list_price", "not a JSON number"),
        (dict(discount=5), 400, "discount", "not a JSON number"),
        (dict(distribution=[{"fund": "A-BKS", "percent": 100}]), 400, "distribution", "not a JSON number"),
        (dict(distribution=[{"fund": "A-BKS", "percent": "1e2"}]), 400, "distribution", "not a decimal number"),
        (dict(distribution=[{"fund": "A-BKS", "amount": "100.00"}]), 400, "distribution",
         "distribution_method is \"percent\""),
        (dict(distribution=[{"fund": "A-BKS", "percent": "50", "amount": "50.00"}]), 400, "distribution",
         "either \"percent\" or \"amount\""),
        (dict(distribution=[{"fund": "A-BKS", "percent": "100", "share": "x"}]), 400, "distribution",
         "unknown field \"share\""),
        (dict(distribution=[{"fund": "NOPE", "percent": "100"}]), 400, "distribution", "No fund NOPE"),
        (dict(distribution=[{"fund": "B-BKS", "percent": "100"}]), 400, "distribution",
         "not available to the line's owner"),
        (dict(distribution={"fund": "A-BKS"}), 400, "distribution", "must be a list"),
        (dict(colour="red"), 400, "colour", "Unknown field \"colour\""),
        (dict(vendor="NOPE"), 400, "vendor", "No vendor NOPE"),
        (dict(vendor_account="NOPE"), 400, "vendor_account", "no account NOPE"),
        (dict(owner_library="LIBZ"), 400, "owner_library", "No library LIBZ"),
        (dict(quantity="2"), 400, "quantity", "whole number"),
        (dict(quantity=0), 400, "quantity", "from 1 to 10000"),
        (dict(list_price="100.001"), 400, "list_price", "at most 2 decimals"),
        (dict(title=""), 400, "title", "title is required"),
        (dict(bib_record_id=999999), 400, "bib_record_id", "No bibliographic record"),
        (dict(order_type="continuous"), 400, "renewal_date", "renewal date"),
    ], check)
    error_of(client.post("/po-lines", json={"title": "x"}), 400, "invalid")
    error_of(client.post("/po-lines", data="{not json", content_type="application/json"), 400, "invalid")
    assert line_count() == 0


def test_inactive_vendor_is_a_rule_violation(world, orders, api):
    fields = vs.VendorFields.of(orders.other)
    fields.status = "inactive"
    vs.update_vendor(world.user("admin"), orders.other, fields)
    db.session.commit()
    error = error_of(api("buyer").post("/po-lines", json=body(vendor="OTHV")), 422, "rule_violation")
    assert error["field"] == "vendor" and "inactive" in error["message"]
    assert line_count() == 0


# -- actions -----------------------------------------------------------------------------------

def test_every_action_through_the_api(world, orders, api):
    client = api("buyer")
    number = create(client, quantity=2)["number"]
    history = db.session.scalar(db.select(db.func.count()).select_from(POLineEvent))

    # closing a line In Review is refused with the transition table's reason; nothing changes
    error = act(client, number, "close", status=422)["error"]
    assert error["message"] == (f"{number} is In Review: you cannot close it. A one-time PO line allows this only "
                                "when Waiting for Invoice.")
    assert error["field"] == "status"
    assert client.get(f"/po-lines/{number}").get_json()["status"] == "in_review"
    assert db.session.scalar(db.select(db.func.count()).select_from(POLineEvent)) == history
    act(client, number, "send", status=422)
    act(client, number, "receive", status=422)

    line_ = act(client, number, "approve", {"note": "fine", "date": "2026-11-02"})
    assert line_["status"] == "ready" and line_["approved_at"] and line_["allowed_actions"] == [
        "send", "cancel", "change-reference", "relink"]
    assert line_["net_price"] == line_["distribution"][0]["encumbered_amount"] == "200.00"  # two copies
    assert line_["distribution"][0]["encumbered_currency"] == "EUR"
    assert balances(client, world.fund_a)["encumbered"] == "200.00"
    tx = client.get(f"/funds/{world.fund_a.id}/transactions?type=encumbrance").get_json()["items"]
    assert [(t["amount"], t["date"], t["reference"], t["note"]) for t in tx] == [("200.00", "2026-11-02", number,
                                                                                  "fine")]
    act(client, number, "approve", status=422)

    line_ = act(client, number, "send")  # no body at all
    assert line_["status"] == "sent" and line_["po"].startswith("PO-") and line_["sent_at"]
    assert line_["allowed_actions"] == ["receive", "cancel", "replace-vendor", "change-vendor", "change-reference",
                                        "relink"]

    first, second = [i["id"] for i in line_["items"]]
    line_ = act(client, number, "receive", {"item_ids": [first], "received_date": "2026-11-20"})
    assert line_["status"] == "sent"
    assert [(i["status"], i["received_date"]) for i in line_["items"]] == [("in_place", "2026-11-20"),
                                                                          ("not_in_place", None)]
    error = act(client, number, "receive", {"item_ids": [first]}, status=422)["error"]
    assert "already received" in error["message"]
    assert act(client, number, "receive", {"item_ids": [999999]}, status=400)["error"]["field"] == "item_ids"
    line_ = act(client, number, "receive", {})
    assert line_["status"] == "waiting_for_invoice" and line_["allowed_actions"] == [
        "cancel", "close", "replace-vendor", "change-reference", "relink"]
    assert [i["received_date"] for i in line_["items"]] == ["2026-11-20", TODAY]

    line_ = act(client, number, "close", {"note": "complete"})
    assert line_["status"] == "closed" and line_["closed_at"] and line_["allowed_actions"] == [
        "reopen", "change-reference", "relink"]
    assert balances(client, world.fund_a)["encumbered"] == "0.00"

    line_ = act(client, number, "reopen", {"note": "price was wrong"})
    assert line_["status"] == "in_review" and line_["closed_at"] is None
    assert line_["allowed_actions"] == ["approve", "defer", "cancel", "change-reference", "relink"]

    error = act(client, number, "cancel", {}, status=400)["error"]
    assert error["field"] == "reason" and "Missing" in error["message"]
    assert act(client, number, "cancel", {"reason": "  "}, status=400)["error"]["field"] == "reason"
    assert act(client, number, "cancel", status=400)["error"]["field"] == "reason"  # no body: no reason
    line_ = act(client, number, "cancel", {"reason": "the vendor cannot supply it"})
    assert (line_["status"], line_["cancel_reason"], line_["allowed_actions"]) == (
        "cancelled", "the vendor cannot supply it", [])
    assert len(line_["items"]) == 2  # received copies stay
    act(client, number, "cancel", {"reason": "again"}, status=422)
    actions = [e.action for e in db.session.scalar(db.select(POLine).filter_by(number=number)).history]
    # refused actions left no trace; sending and cancelling a sent line each made a letter to the vendor
    assert actions == ["create", "approve", "package_auto", "send", "letter", "receive", "receive", "complete_receipt",
                       "close", "reopen", "cancel", "letter"]


def test_action_bodies_are_strict_and_unknown_actions_not_found(world, orders, api):
    client = api("buyer")
    number = create(client)["number"]
    error = act(client, number, "approve", {"note": "x", "when": "today"}, status=400)["error"]
    assert error["field"] == "when"
    assert act(client, number, "send", {"force": True}, status=400)["error"]["field"] == "force"
    assert act(client, number, "approve", {"date": "02/11/2026"}, status=400)["error"]["field"] == "date"
    resp = client.post(f"/po-lines/{number}/actions/approve", data="note=x")
    assert error_of(resp, 400, "invalid")["message"].startswith("Send a JSON object")
    error_of(client.post(f"/po-lines/{number}/actions/delete", json={}), 404, "not_found")
    error_of(client.post("/po-lines/POL-999999/actions/approve", json={}), 404, "not_found")
    error_of(client.get(f"/po-lines/{number}/actions/approve"), 405, "method_not_allowed")
    assert client.get(f"/po-lines/{number}").get_json()["status"] == "in_review"


def test_electronic_line_is_activated_and_usd_encumbers_in_fund_currency(world, orders, api):
    client = api("buyer")
    line_ = create(client, vendor="USDV", material_form="electronic", distribution_method="amount",
                   distribution=[{"fund": "SHARED", "amount": "60.00"}, {"fund": "A-BKS", "amount": "40.00"}])
    number = line_["number"]
    assert line_["currency"] == "USD" and line_["items"] == []
    line_ = act(client, number, "approve")
    # 1 USD = 0.92 EUR: the funds hold EUR
    assert [(d["amount"], d["encumbered_amount"], d["encumbered_currency"]) for d in line_["distribution"]] == [
        ("60.00", "55.20", "EUR"), ("40.00", "36.80", "EUR")]
    assert balances(client, world.shared)["encumbered"] == "55.20"
    assert balances(client, world.fund_a)["encumbered"] == "36.80"
    act(client, number, "send")
    assert act(client, number, "receive", {"item_ids": []}, status=400)["error"]["field"] == "item_ids"
    line_ = act(client, number, "receive", {"received_date": "2026-11-03"})
    assert (line_["activation_date"], line_["status"]) == ("2026-11-03", "waiting_for_invoice")
    assert "receive" not in line_["allowed_actions"]
    line_ = act(client, number, "cancel", {"reason": "licence refused"})
    assert balances(client, world.shared)["encumbered"] == balances(client, world.fund_a)["encumbered"] == "0.00"


def test_over_encumbrance_is_refused_and_nothing_is_posted(world, orders, api):
    client = api("buyer")
    number = create(client, list_price="1000.01")["number"]
    error = act(client, number, "approve", status=422)["error"]
    assert error["message"] == "Fund A-BKS (A books) cannot encumber 1,000.01 EUR: it is short by 0.01 EUR."
    assert client.get(f"/po-lines/{number}").get_json()["status"] == "in_review"
    assert db.session.scalar(db.select(db.func.count()).select_from(FundTransaction)
                             .where(FundTransaction.kind == "encumbrance")) == 0


# -- listing -----------------------------------------------------------------------------------

def test_list_filters_and_paging(world, orders, api):
    buyer = world.user("buyer")
    a1 = line(world, buyer, orders.eur, title="Emma")
    a2 = line(world, buyer, orders.usd, title="Persuasion", funds=[(world.shared, "100")])
    b1 = line(world, buyer, orders.eur, title="Emma again", library="b")
    inst = line(world, buyer, orders.eur, title="Institution", library=None)
    os_.approve_po_line(buyer, a2)
    db.session.commit()
    client = api("viewer")

    def numbers(query, user_client=client):
        resp = user_client.get("/po-lines" + query)
        assert resp.status_code == 200, resp.get_json()
        page = conforms(resp.get_json(), "POLinePage")
        return [p["number"] for p in page["items"]]

    each_case([
        ("", [inst.number, b1.number, a2.number, a1.number]),
        ("?sort=number", [a1.number, a2.number, b1.number, inst.number]),
        ("?q=emma", [b1.number, a1.number]),
        ("?q=emma+again", [b1.number]),
        ("?status=ready", [a2.number]),
        ("?status=open", [inst.number, b1.number, a2.number, a1.number]),
        ("?status=closed", []),
        ("?vendor=USDV", [a2.number]),
        ("?fund=SHARED", [inst.number, a2.number]),
        (f"?fund={world.fund_b.id}", [b1.number]),
        ("?library=LIBA", [a2.number, a1.number]),
        ("?library=LIBA&vendor=EURV", [a1.number]),
    ], lambda query, expected: assert_equal(numbers(query), expected))
    page = client.get("/po-lines?per_page=3&page=2").get_json()
    assert (page["page"], page["per_page"], page["total"], [p["number"] for p in page["items"]]) == (
        2, 3, 4, [a1.number])
    assert client.get("/po-lines?per_page=200").status_code == 200
    for query, field in (("?per_page=201", "per_page"), ("?page=0", "page"), ("?status=lost", "status"),
                         ("?sort=colour", "sort")):
        assert error_of(client.get("/po-lines" + query), 400, "invalid")["field"] == field
    for query in ("?vendor=NOPE", "?fund=NOPE", "?library=LIBZ", "?fund=999999"):
        error_of(client.get("/po-lines" + query), 404, "not_found")
    # scope: library A's viewer sees A's lines only, and B's fund is not found
    assert numbers("", api("viewer-a")) == [a2.number, a1.number]
    error_of(api("viewer-a").get(f"/po-lines?fund={world.fund_b.id}"), 404, "not_found")


def assert_equal(got, expected):
    assert got == expected, got


# -- roles and scope ---------------------------------------------------------------------------

def test_scoped_buyer_cannot_see_or_act_on_another_librarys_line(world, orders, buyer_a, buyer_b, api):
    number = create(api("buyer"))["number"]
    client_b = api("buyer-b")
    assert error_of(client_b.get(f"/po-lines/{number}"), 404, "not_found") == error_of(
        client_b.get("/po-lines/POL-999999"), 404, "not_found")
    assert client_b.get("/po-lines").get_json()["items"] == []
    for action, json in (("approve", {}), ("cancel", {"reason": "mine now"}), ("send", None)):
        error_of(client_b.post(f"/po-lines/{number}/actions/{action}", json=json), 404, "not_found")
    error = error_of(client_b.post("/po-lines", json=body(distribution=[{"fund": "SHARED", "percent": "100"}])),
                     403, "forbidden")
    assert "own library" in error["message"]
    # ... while library B's own order is fine, and A's buyer approves A's line
    created = create(client_b, owner_library="LIBB", distribution=[{"fund": "B-BKS", "percent": "100"}])
    assert created["owner_library"] == "LIBB"
    assert act(api("buyer-a"), number, "approve")["status"] == "ready"
    error_of(api("buyer-a").post(f"/po-lines/{created['number']}/actions/approve", json={}), 404, "not_found")
    assert line_count() == 2


ROLE_USERS = {Role.ADMIN: "admin", Role.FUND_MANAGER: "fundmgr", Role.VIEWER: "viewer",
              Role.PURCHASING_OPERATOR: "buyer", Role.INVOICE_OPERATOR: "invoicer",
              Role.INVOICE_OPERATOR_EXTENDED: "invoicer-ext", Role.INVOICE_MANAGER: "invmanager"}


def test_roles_follow_the_matrix(app, world, orders, api):
    number = line(world, world.user("buyer"), orders.eur).number
    wrong = {"surprise": 1}   # allowed roles get 400 (the body is read), the others 403
    requests = {
        "api.list_po_lines": ("get", "/po-lines", None),
        "api.get_po_line": ("get", f"/po-lines/{number}", None),
        "api.create_po_line": ("post", "/po-lines", wrong),
        "api.patch_po_line": ("patch", f"/po-lines/{number}", wrong),
        **{f"api.{action.replace('-', '_')}_po_line": ("post", f"/po-lines/{number}/actions/{action}", wrong)
           for action in ("approve", "defer", "resume", "renew", "send", "package", "receive", "receive-next",
                          "activate", "cancel", "close", "reopen", "replace-vendor", "change-vendor",
                          "change-reference", "relink", "pattern")},
    }
    assert set(requests) == set(API_MATRIX)
    for role, username in ROLE_USERS.items():
        client = api(username)
        for endpoint, (method, url, json) in requests.items():
            resp = getattr(client, method)(url, json=json, headers={"If-Match": "*"} if method == "patch" else None)
            if role in API_MATRIX[endpoint]:
                assert resp.status_code in (200, 400), (role, endpoint, resp.status_code)
            else:
                error_of(resp, 403, "forbidden")
    assert line_count() == 1
    assert db.session.scalar(db.select(POLine.status).filter_by(number=number)) == "in_review"
    error_of(app.test_client().get("/api/v1/po-lines"), 401, "unauthorized")
