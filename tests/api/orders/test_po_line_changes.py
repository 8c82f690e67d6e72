"""PO lines through the API beyond the first six actions: GET with its ETag, PATCH (the page's
edit), and defer, resume, renew, package, receive-next, activate, replace/change vendor, change
reference, relink and the publication pattern — each with the page's service, and every error
status the document gives them."""
from __future__ import annotations

from datetime import date, timedelta

from app import clock
from app.extensions import db
from app.orders import services as os_
from app.orders.models import POLine, POLineEvent, PurchaseOrder
from tests.api.helpers import conforms, error_of
from tests.inventory.helpers import record
from tests.orders.helpers import line, sent_line

TODAY = clock.today()


def act(client, number, action, json=None, status=200, headers=None) -> dict:
    resp = client.post(f"/po-lines/{number}/actions/{action}", json=json, headers=headers)
    assert resp.status_code == status, resp.get_json()
    return conforms(resp.get_json(), "POLine" if status == 200 else "Error")


def events(number, action) -> list[POLineEvent]:
    pol = db.session.scalar(db.select(POLine).filter_by(number=number))
    return [e for e in pol.history if e.action == action]


# -- GET with ETag, PATCH ----------------------------------------------------------------------

def test_patch_changes_only_the_fields_sent_and_needs_the_current_etag(world, orders, extra_fund, api):
    pol = line(world, world.user("buyer"), orders.eur, quantity=2, funds=[(world.fund_a, "60"), (world.shared, "40")],
               note="first")
    number = pol.number
    client = api("buyer")
    got = client.get(f"/po-lines/{number}")
    tag = got.headers["ETag"]
    conforms(got.get_json(), "POLine")
    assert client.get(f"/po-lines/{number}", headers={"If-None-Match": tag}).status_code == 304

    error_of(client.patch(f"/po-lines/{number}", json={"title": "X"}), 428, "precondition_required")
    done = client.patch(f"/po-lines/{number}", json={"title": "Emma", "quantity": 3, "discount": "10"},
                        headers={"If-Match": tag})
    assert done.status_code == 200, done.get_json()
    changed = conforms(done.get_json(), "POLine")
    assert done.headers["ETag"] != tag and done.headers["ETag"] == client.etag(f"/po-lines/{number}")
    assert (changed["title"], changed["quantity"], changed["discount"], changed["net_price"], changed["note"]) == (
        "Emma", 3, "10.00", "270.00", "first")
    # the distribution was kept (60 % / 40 % of the new net price), and one copy was added
    assert [(d["fund"], d["percent"], d["amount"]) for d in changed["distribution"]] == [
        ("A-BKS", "60.00", "162.00"), ("SHARED", "40.00", "108.00")]
    assert len(changed["items"]) == 3
    assert {e.field for e in events(number, "edit")} == {"title", "quantity", "discount", "net_price",
                                                         "distribution"}

    # the old ETag no longer matches: 412 and nothing changes
    error_of(client.patch(f"/po-lines/{number}", json={"title": "Mine"}, headers={"If-Match": tag}),
             412, "precondition_failed")
    # the distribution is replaced as a whole; funds by code or id
    resp = client.change("patch", f"/po-lines/{number}", json={
        "distribution": [{"fund": "EXTRA", "percent": "100"}], "expected_receipt_date": "2027-02-01"})
    assert resp.status_code == 200, resp.get_json()
    assert [d["fund"] for d in resp.get_json()["distribution"]] == ["EXTRA"]
    assert resp.get_json()["expected_receipt_date"] == "2027-02-01" and resp.get_json()["title"] == "Emma"

    path = f"/po-lines/{number}"
    for json, field in (({}, None), ({"bib_record_id": 1}, "bib_record_id"), ({"quantity": "4"}, "quantity"),
                        ({"vendor": "NOPE"}, "vendor"), ({"distribution_method": "amount"}, "distribution")):
        error = error_of(client.change("patch", path, json=json), 400, "invalid")
        assert error.get("field") == field, error
    error_of(client.patch("/po-lines/POL-999999", json={"title": "X"}, headers={"If-Match": "*"}), 404, "not_found")
    error_of(api("viewer").patch(path, json={"title": "X"}, headers={"If-Match": "*"}), 403, "forbidden")

    # an approved line is no longer edited: 422 with the transition table's reason
    assert act(client, number, "approve")["status"] == "ready"
    error = error_of(client.change("patch", path, json={"title": "Late"}), 422, "rule_violation")
    assert "Ready" in error["message"]
    assert db.session.scalar(db.select(POLine.title).filter_by(number=number)) == "Emma"


def test_patch_by_a_scoped_buyer_of_another_library_is_not_found(world, orders, buyer_b, api):
    number = line(world, world.user("buyer"), orders.eur).number
    error_of(api("buyer-b").patch(f"/po-lines/{number}", json={"title": "X"}, headers={"If-Match": "*"}),
             404, "not_found")


# -- the actions -------------------------------------------------------------------------------

def test_defer_resume_and_package_into_a_purchase_order(world, orders, api):
    buyer = world.user("buyer")
    client = api("buyer")
    first = line(world, buyer, orders.eur, packaging="manual").number
    second = line(world, buyer, orders.eur, packaging="manual").number
    line_ = act(client, first, "defer", {"note": "waiting for the budget"})
    assert line_["status"] == "deferred" and "resume" in line_["allowed_actions"]
    assert events(first, "defer")[0].note == "waiting for the budget"
    assert act(client, first, "resume")["status"] == "in_review"
    for number in (first, second):
        assert act(client, number, "approve")["allowed_actions"][:2] == ["send", "package"]

    line_ = act(client, first, "package")
    assert line_["status"] == "manual_packaging" and line_["po"].startswith("PO-")
    error = act(client, second, "package", {"po": "PO-999999"}, status=400)["error"]
    assert error["field"] == "po"
    line_ = act(client, second, "package", {"po": line_["po"]})
    act(client, first, "package", status=422)   # packaged already
    po = db.session.scalar(db.select(PurchaseOrder).filter_by(number=line_["po"]))
    assert sorted(p.number for p in po.lines) == [first, second] and po.status == "open"


def test_continuous_order_pattern_receive_next_and_manual_renewal(world, orders, api):
    client = api("buyer")
    pol = sent_line(world, world.user("buyer"), orders.eur, order_type="continuous", manual_renewal=True,
                    renewal_date=TODAY + timedelta(days=5), renewal_period_months=12)
    number = pol.number
    line_ = act(client, number, "pattern", {"frequency": "monthly", "first_date": TODAY.isoformat(),
                                            "first_volume": 3, "first_issue": 1, "issues_per_volume": 12,
                                            "chronology": "month", "predict_ahead": 2})
    assert line_["pattern"] == {"frequency": "monthly", "first_date": TODAY.isoformat(), "chronology": "month",
                                "first_volume": 3, "first_issue": 1, "issues_per_volume": 12, "predict_ahead": 2}
    assert [i["enumeration"] for i in line_["items"]] == ["v.3 no.1", "v.3 no.2"]
    error = act(client, number, "pattern", {"frequency": "monthly", "first_date": None}, status=400)["error"]
    assert error["field"] == "first_date"
    error = act(client, number, "pattern", {"frequency": "weekly", "first_date": "9999-12-31"}, status=400)["error"]
    assert error["field"] == "first_date" and "before the year 9000" in error["message"]
    error = act(client, number, "pattern", {"frequency": "fortnightly"}, status=400)["error"]
    assert error["field"] == "frequency"

    line_ = act(client, number, "receive-next", {"received_date": TODAY.isoformat()})
    received = [i for i in line_["items"] if i["received_date"]]
    assert [(i["enumeration"], i["received_date"]) for i in received] == [("v.3 no.1", TODAY.isoformat())]
    assert len(line_["items"]) == 3   # one more predicted

    os_.process_renewal(world.user("admin"), db.session.get(POLine, pol.id), TODAY)
    db.session.commit()
    line_ = client.get(f"/po-lines/{number}").get_json()
    assert line_["status"] == "waiting_for_manual_renewal" and "renew" in line_["allowed_actions"]
    before = date.fromisoformat(line_["renewal_date"])
    line_ = act(client, number, "renew", {"note": "budget agreed"})
    after = date.fromisoformat(line_["renewal_date"])
    assert line_["status"] == "sent" and (after.year, after.month) == (before.year + 1, before.month)
    assert events(number, "renew")[0].note == "budget agreed"
    act(client, number, "renew", status=422)
    # a one-time line has no next issue
    one_time = sent_line(world, world.user("buyer"), orders.eur).number
    assert "one-time" in act(client, one_time, "receive-next", status=422)["error"]["message"]


def test_activate_an_electronic_line(world, orders, api):
    client = api("buyer")
    number = sent_line(world, world.user("buyer"), orders.eur, material_form="electronic").number
    assert "activate" in client.get(f"/po-lines/{number}").get_json()["allowed_actions"]
    future = (TODAY + timedelta(days=1)).isoformat()
    assert act(client, number, "activate", {"activation_date": future}, status=400)["error"]["field"] == \
        "activation_date"
    line_ = act(client, number, "activate", {"activation_date": "2026-11-03"})
    assert (line_["activation_date"], line_["status"]) == ("2026-11-03", "waiting_for_invoice")
    assert "activate" not in line_["allowed_actions"]
    act(client, number, "activate", status=422)


def test_replace_and_change_vendor(world, orders, api):
    client = api("buyer")
    buyer = world.user("buyer")
    replaced = sent_line(world, buyer, orders.eur).number
    line_ = act(client, replaced, "replace-vendor", {"vendor": "OTHV"})
    assert line_["vendor"] == "OTHV" and line_["status"] == "sent"
    assert events(replaced, "replace_vendor")[0].new_value == "OTHV"
    error = act(client, replaced, "replace-vendor", {"vendor": "OTHV"}, status=400)["error"]
    assert error["field"] == "vendor" and "already" in error["message"]
    assert act(client, replaced, "replace-vendor", {"vendor": "NOPE"}, status=400)["error"]["field"] == "vendor"
    error = act(client, replaced, "change-vendor", {"vendor": "EURV", "vendor_account": "NOPE"}, status=400)["error"]
    assert error["field"] == "vendor_account"

    moved = sent_line(world, buyer, orders.eur)
    old_po = moved.po.number
    line_ = act(client, moved.number, "change-vendor", {"vendor": "OTHV"})
    assert line_["vendor"] == "OTHV" and line_["po"] != old_po and line_["status"] == "sent"
    assert db.session.scalar(db.select(PurchaseOrder).filter_by(number=old_po)) is None   # left empty: deleted
    # a line In Review has no vendor to change yet
    fresh = line(world, buyer, orders.eur).number
    act(client, fresh, "replace-vendor", {"vendor": "OTHV"}, status=422)
    act(client, fresh, "change-vendor", {"vendor": "OTHV"}, status=422)


def test_change_reference_and_relink(world, orders, api):
    client = api("buyer")
    admin = world.user("admin")
    pol = line(world, world.user("buyer"), orders.eur, title="Typo titel")
    other = record(admin, "Right title", author="Someone", isbn="978-0-00-000000-2")
    db.session.commit()
    old_record = pol.bib_record_id
    line_ = act(client, pol.number, "change-reference", {"bib_record_id": other.id})
    assert (line_["title"], line_["author"], line_["bib_record_id"]) == ("Right title", "Someone", old_record)
    line_ = act(client, pol.number, "relink", {"bib_record_id": other.id})
    assert line_["bib_record_id"] == other.id
    assert db.session.get(POLine, pol.id).holdings[0].bib_record_id == other.id
    error = act(client, pol.number, "relink", {"bib_record_id": other.id}, status=422)["error"]
    assert "already linked" in error["message"]
    for action in ("relink", "change-reference"):
        assert act(client, pol.number, action, {"bib_record_id": 999999}, status=400)["error"]["field"] == \
            "bib_record_id"
        assert act(client, pol.number, action, {}, status=400)["error"]["field"] == "bib_record_id"


# -- every documented error of every line action -----------------------------------------------

VALID = {
    "approve": {}, "defer": {}, "resume": {}, "renew": {}, "send": {}, "package": {}, "receive": {},
    "receive-next": {}, "activate": {}, "cancel": {"reason": "not needed"}, "close": {}, "reopen": {},
    "replace-vendor": {"vendor": "OTHV"}, "change-vendor": {"vendor": "OTHV"},
    "change-reference": {"bib_record_id": None}, "relink": {"bib_record_id": None},
    "pattern": {"frequency": "irregular"},
}


def test_every_line_action_answers_its_documented_errors(world, orders, api):
    """On a cancelled line every action is refused (422); an unknown field is 400, an unknown line 404,
    a stale If-Match 412 — and nothing changes."""
    client = api("buyer")
    buyer = world.user("buyer")
    pol = line(world, buyer, orders.eur)
    os_.cancel_po_line(buyer, pol, "gone")
    rec = record(world.user("admin"), "Another record")
    db.session.commit()
    number = pol.number
    tag = client.etag(f"/po-lines/{number}")
    history = len(pol.history)
    for action, valid in VALID.items():
        valid = {k: rec.id if v is None else v for k, v in valid.items()}
        act(client, number, action, {**valid, "surprise": 1}, status=400)
        act(client, "POL-999999", action, valid, status=404)
        act(client, number, action, valid, status=412, headers={"If-Match": '"stale"'})
        act(client, number, action, valid, status=422, headers={"If-Match": tag})
    assert client.etag(f"/po-lines/{number}") == tag
    db.session.expire_all()
    assert len(db.session.get(POLine, pol.id).history) == history


def test_acquisition_method_and_the_pages_list_filters(world, orders, api):
    client = api("buyer")
    resp = client.post("/po-lines", json={"vendor": "EURV", "owner_library": "LIBA", "title": "A gift",
                                          "list_price": "0", "acquisition_method": "gift"})
    assert resp.status_code == 201, resp.get_json()
    gift = conforms(resp.get_json(), "POLine")
    assert (gift["acquisition_method"], gift["distribution"]) == ("gift", [])
    error = error_of(client.post("/po-lines", json={"vendor": "EURV", "owner_library": "LIBA", "title": "x",
                                                    "list_price": "0", "acquisition_method": "gift",
                                                    "distribution": [{"fund": "A-BKS", "percent": "100"}]}),
                     400, "invalid")
    assert error["field"] == "distribution" and "not paid for" in error["message"]
    bought = line(world, world.user("buyer"), orders.eur).number
    continuous = sent_line(world, world.user("buyer"), orders.eur, order_type="continuous", manual_renewal=True,
                           renewal_date=TODAY + timedelta(days=5))
    os_.process_renewal(world.user("admin"), continuous, TODAY)
    db.session.commit()

    def numbers(query):
        resp = client.get("/po-lines" + query)
        assert resp.status_code == 200, resp.get_json()
        return [p["number"] for p in conforms(resp.get_json(), "POLinePage")["items"]]

    assert numbers("?method=gift") == numbers("?method=unpaid") == [gift["number"]]
    assert numbers("?method=purchase") == [continuous.number, bought]
    assert numbers("?status=renewal") == [continuous.number]
    assert error_of(client.get("/po-lines?method=stolen"), 400, "invalid")["field"] == "method"
    # a gift may become a purchase by PATCH, with its funds
    resp = client.change("patch", f"/po-lines/{gift['number']}", json={
        "acquisition_method": "purchase", "list_price": "20.00", "distribution": [{"fund": "A-BKS", "percent": "100"}]})
    assert resp.status_code == 200, resp.get_json()
    assert (resp.get_json()["acquisition_method"], resp.get_json()["distribution"][0]["amount"]) == ("purchase",
                                                                                                   "20.00")


def test_a_fund_of_a_period_not_open_is_refused_unless_the_line_had_it(world, orders, api):
    client = api("buyer")
    number = line(world, world.user("buyer"), orders.eur).number   # paid by A-BKS of FY2026
    world.period.status = "inactive"
    db.session.commit()
    error = error_of(client.post("/po-lines", json={
        "vendor": "EURV", "owner_library": "LIBA", "title": "New", "list_price": "10.00",
        "distribution": [{"fund": "A-BKS", "percent": "100"}]}), 422, "rule_violation")
    assert error["field"] == "distribution" and "FY2026, which is inactive" in error["message"]
    # the line keeps the fund it had: editing it still works
    resp = client.change("patch", f"/po-lines/{number}", json={"title": "Renamed", "list_price": "80.00"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["distribution"][0]["fund"] == "A-BKS"
    # ... but adding another fund of that period is refused
    error = error_of(client.change("patch", f"/po-lines/{number}", json={"distribution": [
        {"fund": "A-BKS", "percent": "50"}, {"fund": "SHARED", "percent": "50"}]}), 422, "rule_violation")
    assert "SHARED" in error["message"]
