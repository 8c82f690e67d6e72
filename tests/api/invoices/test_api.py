"""Invoices and settings through the API: the exact currency example, duplicates, the VAT confirmation,
strict bodies, every workflow action (refused ones change nothing), settings, scope and roles."""
from __future__ import annotations

from app.auth.models import Role
from app.extensions import db
from app.funds.models import FundTransaction
from app.invoices import settings
from app.invoices.models import Invoice, InvoiceEvent
from tests.api.helpers import conforms, each_case, error_of
from tests.invoices.helpers import invoice as make_invoice
from tests.api.invoices.helpers import put
from tests.api.invoices.route_matrix import API_MATRIX
from tests.api.invoices.roles import more_requests


def body(**overrides) -> dict:
    """Invoice INV-1 of PLAIN for library A, 100.00 EUR, one line paid by A-BKS."""
    data = {"number": "INV-1", "vendor": "PLAIN", "invoice_date": "2026-03-01", "total_amount": "100.00",
            "owner_library": "LIBA", "lines": [{"price": "100.00", "funds": [{"fund": "A-BKS", "percent": "100"}]}]}
    data.update(overrides)
    return data


def create(client, status=201, **overrides) -> dict:
    resp = client.post("/invoices", json=body(**overrides))
    assert resp.status_code == status, resp.get_json()
    return conforms(resp.get_json(), "Invoice" if status == 201 else "Error")


def act(client, invoice_id, action, json=None, status=200) -> dict:
    resp = client.post(f"/invoices/{invoice_id}/actions/{action}", json=json)
    assert resp.status_code == status, (action, resp.get_json())
    return conforms(resp.get_json(), "Invoice" if status == 200 else "Error")


def invoice_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Invoice))


def event_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(InvoiceEvent))


def expended(client, fund) -> str:
    return client.get(f"/funds/{fund.id}").get_json()["balances"]["expended"]


# -- the exact example -------------------------------------------------------------------------

def test_usd_invoice_charges_the_kzt_fund_at_the_explicit_ratio(world, vendors, kzt_fund, api):
    client = api("invoicer")
    resp = client.post("/invoices", json=body(
        number="USD-1", vendor="USDV", currency="USD", owner_library=None, explicit_ratio="2.5",
        due_date="2026-03-31", reference_number="REF-9", payment_method="credit_card",
        lines=[{"price": "100.00", "price_note": "list price", "funds": [{"fund": "KZT-BKS", "percent": "100"}]}]))
    assert resp.status_code == 201, resp.get_json()
    created = conforms(resp.get_json(), "Invoice")
    assert resp.headers["Location"] == f"/api/v1/invoices/{created['id']}"
    # no approval rule matched: it waits for an invoice manager, nothing posted yet
    assert (created["status"], created["channel"], created["currency"], created["explicit_ratio"]) == (
        "in_approval", "api", "USD", "2.5")
    assert created["postings"] == [] and created["allowed_actions"] == ["approve", "reject"]
    assert created["lines"] == [{
        "position": 1, "type": "regular", "po_line": None, "quantity": 1, "price": "100.00", "total": "100.00",
        "fully_invoiced": True, "price_note": "list price", "subscription_from": None, "subscription_to": None,
        "reporting_code": "", "note": "", "vat_code": "", "vat_percent": None, "vat_amount": "0.00",
        "distribution_method": "percent",
        "funds": [{"fund": "KZT-BKS", "fund_id": kzt_fund.id, "percent": "100.00", "amount": "100.00"}]}]
    assert (created["due_date"], created["reference_number"], created["payment_method"], created["created_by"]) == (
        "2026-03-31", "REF-9", "credit_card", "invoicer")

    approved = act(api("invmanager"), created["id"], "approve", {"note": "checked"})
    assert approved["status"] == "ready_to_be_paid" and approved["approved_by"] == "invmanager"
    [posting] = approved["postings"]
    assert {k: posting[k] for k in ("fund", "fund_id", "type", "amount", "currency", "date", "line")} == {
        "fund": "KZT-BKS", "fund_id": kzt_fund.id, "type": "expenditure", "amount": "250.00", "currency": "KZT",
        "date": "2026-03-01", "line": 1}
    read = conforms(api("viewer").get(f"/invoices/{created['id']}").get_json(), "Invoice")
    assert read == approved
    assert expended(client, kzt_fund) == "250.00"


def test_fund_by_id_and_by_code_in_the_period_of_the_invoice_date(world, vendors, api):
    client = api("invoicer")
    created = create(client, process=False, lines=[
        {"price": "60.00", "funds": [{"fund": world.shared.id, "amount": "60.00"}]},
        {"price": "20.00", "quantity": 2, "funds": [{"fund": "A-BKS", "percent": "50"},
                                                    {"fund": "SHARED", "percent": "50"}]}])
    assert created["status"] == "in_review" and created["allowed_actions"] == ["process"]
    assert [(ln["total"], ln["distribution_method"], [(f["fund"], f["amount"]) for f in ln["funds"]])
            for ln in created["lines"]] == [
        ("60.00", "amount", [("SHARED", "60.00")]), ("40.00", "percent", [("A-BKS", "20.00"), ("SHARED", "20.00")])]
    # no fiscal period holds 2030-01-01: codes cannot be resolved there, ids still can
    error = create(client, 400, number="INV-2", invoice_date="2030-01-01")["error"]
    assert error["field"] == "lines" and "no fiscal period holds the invoice date 2030-01-01" in error["message"]


# -- uniqueness and the VAT check --------------------------------------------------------------

def test_duplicate_number_is_refused_naming_the_invoice(world, vendors, api):
    client = api("invoicer")
    first = create(client, number="A-100")
    error = error_of(client.post("/invoices", json=body(number="a-100")), 409, "duplicate")
    assert error["message"] == ("Vendor PLAIN already has invoice A-100 (dated 2026-03-01, In Approval); an invoice "
                                "number is unique per vendor.")
    assert error["field"] == "number" and invoice_count() == 1
    assert create(client, number="A-100", vendor="EXEMPT")["id"] != first["id"]   # another vendor may use it


def test_vat_confirmation_409_then_confirmed(world, vendors, api):
    client = api("invoicer")
    resp = client.post("/invoices", json=body(vendor="LIABLE"))
    assert resp.status_code == 409
    error = conforms(resp.get_json(), "InvoiceConfirmationRequired")["error"]
    assert error == {"code": "confirmation_required", "field": "confirm", "check": "confirm_no_vat_though_liable",
                     "answers": ["yes"],
                     "message": "LIABLE is liable for VAT, yet the invoice reports none. Save it without VAT?"}
    assert invoice_count() == 0
    error_of(client.post("/invoices", json=body(vendor="LIABLE", confirm="maybe")), 400, "invalid")
    created = create(client, vendor="LIABLE", confirm="yes")
    assert created["vat"]["confirmed"] == "confirm_no_vat_though_liable"

    # a governmental vendor's row: add its VAT (and raise an invoice to it) or save without
    resp = client.post("/invoices", json=body(vendor="TAXED", number="T-1", total_amount="120.00"))
    error = conforms(resp.get_json(), "InvoiceConfirmationRequired")["error"]
    assert resp.status_code == 409 and error["answers"] == ["add_vat", "no_vat"] and "TAXOFF" in error["message"]
    created = create(client, vendor="TAXED", number="T-1", total_amount="120.00", confirm="add_vat")
    assert (created["vat"]["level"], created["vat"]["percent"], created["vat"]["amount"]) == ("invoice", "20.00", "20.00")
    vat_invoice = conforms(client.get(f"/invoices/{created['governmental_invoice']}").get_json(), "Invoice")
    assert (vat_invoice["vendor"], vat_invoice["number"], vat_invoice["total_amount"], vat_invoice["governmental_for"]
            ) == ("TAXOFF", "T-1-VAT", "20.00", created["id"])
    # VAT reported with the invoice: nothing to confirm
    reported = create(client, vendor="LIABLE", number="V-1", total_amount="110.00",
                      vat={"level": "invoice", "percent": "10", "code": "S"})
    assert reported["vat"] == {"level": "invoice", "inclusive": False, "code": "S", "percent": "10.00",
                               "amount": "10.00", "separate_line": False, "confirmed": "", "fund": None}


# -- strict bodies -----------------------------------------------------------------------------

def test_invalid_bodies_are_refused_and_nothing_is_created(world, vendors, api):
    client = api("invoicer")
    line = {"price": "100.00", "funds": [{"fund": "A-BKS", "percent": "100"}]}

    def check(overrides, status, field, text):
        error = error_of(client.post("/invoices", json=body(**overrides)), status,
                         {400: "invalid", 422: "rule_violation", 403: "forbidden"}[status])
        assert error.get("field") == field, error
        assert text in error["message"], error

    each_case([
        (dict(total_amount=100), 400, "total_amount", "not a JSON number"),
        (dict(total_amount=100.0), 400, "total_amount", "not a JSON number"),
        (dict(total_amount="1e2"), 400, "total_amount", "not a decimal number"),
        (dict(total_amount="100.001"), 400, "total_amount", "at most 2 decimals"),
        (dict(explicit_ratio=2.5), 400, "explicit_ratio", "not a JSON number"),
        (dict(lines=[{**line, "price": 100.0}]), 400, "lines", "Line 1: Field \"price\" must be a decimal string"),
        (dict(lines=[{**line, "funds": [{"fund": "A-BKS", "percent": 100}]}]), 400, "lines", "not a JSON number"),
        (dict(lines=[line, {**line, "colour": "red"}]), 400, "lines", "Line 2: Unknown field \"colour\""),
        (dict(lines=[{**line, "quantity": "2"}]), 400, "lines", "whole number"),
        (dict(lines=[{**line, "quantity": 0}]), 400, "lines", "not zero"),
        (dict(lines=[{"funds": []}]), 400, "lines", "Line 1: Missing required field \"price\""),
        (dict(lines=[{**line, "funds": [{"fund": "NOPE", "percent": "100"}]}]), 400, "lines",
         "Line 1: no fund NOPE in fiscal period FY2026"),
        (dict(lines=[{**line, "funds": [{"fund": 999999, "percent": "100"}]}]), 400, "lines", "no fund with id 999999"),
        (dict(lines=[{**line, "funds": [{"fund": "A-BKS", "percent": "50"}, {"fund": "SHARED", "amount": "50.00"}]}]),
         400, "lines", "every fund a percent, or every fund an amount"),
        (dict(lines=[{**line, "funds": [{"fund": "A-BKS", "percent": "90"}]}]), 400, "lines", "90.00 %"),
        (dict(lines=[{**line, "funds": [{"fund": "B-BKS", "percent": "100"}]}]), 400, "lines",
         "not available to the line's owner"),
        (dict(lines=[{**line, "po_line": "POL-999999"}]), 400, "lines", "no PO line POL-999999"),
        (dict(lines=[{**line, "type": "freight"}]), 400, "lines", "unknown line type 'freight'"),
        (dict(lines={"price": "1.00"}), 400, "lines", "must be a list"),
        (dict(charges={"shipment": 5}), 400, "charges", "not a JSON number"),
        (dict(charges={"freight": "5.00"}, total_amount="105.00"), 400, "charges", "Unknown charge type 'freight'"),
        (dict(vat={"level": "invoice", "rate": "10"}), 400, "vat", "vat: Unknown field \"rate\""),
        (dict(vat={"percent": "10"}), 400, "vat", "Missing required field \"level\""),
        (dict(colour="red"), 400, "colour", "Unknown field \"colour\""),
        (dict(process="yes"), 400, "process", "true or false"),
        (dict(vendor="NOPE"), 400, "vendor", "No vendor NOPE"),
        (dict(vendor_account="NOPE"), 400, "vendor_account", "no account NOPE"),
        (dict(owner_library="LIBZ"), 400, "owner_library", "No library LIBZ"),
        (dict(invoice_date="01/03/2026"), 400, "invoice_date", "not an ISO date"),
        (dict(number=""), 400, "number", "invoice number is required"),
        (dict(total_amount="1200.00", lines=[{**line, "price": "1200.00"}]), 422, "amount",
         "Fund A-BKS (A books) cannot expend 1,200.00 EUR: it is short by 200.00 EUR."),
    ], check)
    error_of(client.post("/invoices", json={"number": "X"}), 400, "invalid")
    error_of(client.post("/invoices", data="{not json", content_type="application/json"), 400, "invalid")
    assert invoice_count() == 0 and event_count() == 0


# -- actions -----------------------------------------------------------------------------------

def test_every_action_through_the_api(world, vendors, api):
    operator, manager = api("invoicer"), api("invmanager")
    invoice_id = create(operator, process=False)["id"]
    history = event_count()

    # refused in review: 422 with the transition table's reason, and nothing changes
    for action, json in (("approve", {}), ("reject", {"reason": "no"}), ("mark_in_erp", None),
                         ("paid", {"voucher_number": "V-1", "payment_date": "2026-03-10", "amount": "100.00"}),
                         ("rejected", {"reason": "bad"}), ("send_back_to_review", {"reason": "again"})):
        error = act(manager, invoice_id, action, json, status=422)["error"]
        assert error["field"] == "status" and "In Review" in error["message"], (action, error)
    assert act(manager, invoice_id, "paid", {"voucher_number": "V-1", "payment_date": "2026-03-10",
                                             "amount": "100.00"}, status=422)["error"]["message"] == (
        "Invoice INV-1 is In Review: you cannot record the payment of it. That is possible only when it is Ready "
        "to be Paid or Waiting for Payment.")
    assert event_count() == history and expended(operator, world.fund_a) == "0.00"

    assert act(operator, invoice_id, "process")["status"] == "in_approval"
    assert act(manager, invoice_id, "reject", {}, status=400)["error"]["field"] == "reason"
    rejected = act(manager, invoice_id, "reject", {"reason": "wrong fund"})
    assert (rejected["status"], rejected["alert"]) == ("in_review", "Rejected: wrong fund")
    act(operator, invoice_id, "process", {"force": True}, status=400)
    assert act(operator, invoice_id, "process", {})["status"] == "in_approval"
    approved = act(manager, invoice_id, "approve")   # no body at all
    assert approved["status"] == "ready_to_be_paid"
    assert approved["allowed_actions"] == ["mark_in_erp", "paid", "rejected", "send_back_to_review"]
    assert [(p["fund"], p["type"], p["amount"]) for p in approved["postings"]] == [("A-BKS", "expenditure",
                                                                                   "100.00")]
    assert expended(operator, world.fund_a) == "100.00"
    act(manager, invoice_id, "approve", status=422)

    exported = act(manager, invoice_id, "mark_in_erp")
    assert exported["status"] == "waiting_for_payment" and exported["exported_at"]
    act(manager, invoice_id, "mark_in_erp", status=422)
    error = act(operator, invoice_id, "paid", {"payment_date": "2026-03-10", "amount": "100.00"}, status=400)["error"]
    assert error["field"] == "voucher_number"
    act(operator, invoice_id, "paid", {"voucher_number": "V-1", "payment_date": "2026-03-10", "amount": 100},
        status=400)
    paid = act(operator, invoice_id, "paid", {"voucher_number": "V-1", "payment_date": "2026-03-10",
                                              "amount": "100.00"})
    assert paid["status"] == "closed" and paid["closed_at"]
    assert paid["payment"] == {"voucher_number": "V-1", "date": "2026-03-10", "amount": "100.00", "currency": "EUR"}

    assert act(operator, invoice_id, "send_back_to_review", {"reason": " "}, status=400)["error"]["field"] == "reason"
    back = act(operator, invoice_id, "send_back_to_review", {"reason": "price corrected"})
    assert (back["status"], back["alert"], back["approved_at"]) == ("in_review", "Sent back to review: price corrected",
                                                                    None)
    assert [(p["type"], p["amount"]) for p in back["postings"]] == [("expenditure", "100.00"),
                                                                     ("expenditure", "-100.00")]
    assert expended(operator, world.fund_a) == "0.00"

    act(operator, invoice_id, "process")
    act(manager, invoice_id, "approve")
    erp = act(manager, invoice_id, "rejected", {"reason": "unknown vendor account"})
    assert (erp["status"], erp["alert"]) == ("in_review", "ERP rejected it: unknown vendor account")
    assert expended(operator, world.fund_a) == "0.00"

    error_of(operator.post(f"/invoices/{invoice_id}/actions/delete", json={}), 404, "not_found")
    error_of(operator.post("/invoices/999999/actions/process", json={}), 404, "not_found")
    error_of(operator.get(f"/invoices/{invoice_id}/actions/process"), 405, "method_not_allowed")


def test_approval_rule_wanting_another_approver_is_forbidden_to_the_creator(world, vendors, api):
    from app.invoices import rules
    rules.create_approval_rule(world.user("admin"), rules.ApprovalRuleFields(name="Four eyes",
                                                                             approver_not_creator=True))
    db.session.commit()
    invoice_id = create(api("invmanager"))["id"]
    error = error_of(api("invmanager").post(f"/invoices/{invoice_id}/actions/approve", json={}), 403, "forbidden")
    assert "Four eyes" in error["message"]
    assert act(api("admin"), invoice_id, "approve")["status"] == "ready_to_be_paid"


# -- settings ----------------------------------------------------------------------------------

def test_settings_get_and_put(world, vendors, scoped_users, api):
    defaults = {"invoice_skip_erp": False, "handle_invoice_payment": True, "invoice_use_pro_rata": True,
                "accrual_accounting": False}
    assert conforms(api("viewer-a").get("/settings").get_json(), "InvoiceSettings") == defaults
    admin = api("admin")
    resp = put(admin, "/settings", {"invoice_skip_erp": True, "handle_invoice_payment": False})
    assert resp.status_code == 200, resp.get_json()
    expected = {**defaults, "invoice_skip_erp": True, "handle_invoice_payment": False}
    assert conforms(resp.get_json(), "InvoiceSettings") == expected
    assert api("invoicer").get("/settings").get_json() == expected

    for json, field, text in (({"invoice_skip_erp": "yes"}, "invoice_skip_erp", "true or false"),
                              ({"invoice_skip_erp": 1}, "invoice_skip_erp", "true or false"),
                              ({"accrual_accounting": None}, "accrual_accounting", "must not be null"),
                              ({"colour": True}, "colour", "Unknown field \"colour\"")):
        error = error_of(put(admin, "/settings", json), 400, "invalid")
        assert error["field"] == field and text in error["message"], error
    error_of(put(admin, "/settings", data="[]", content_type="application/json"), 400, "invalid")
    error_of(put(api("invmanager"), "/settings", {"invoice_skip_erp": False}), 403, "forbidden")
    error = error_of(put(api("admin-a"), "/settings", {"invoice_skip_erp": False}), 403, "forbidden")
    assert "whole institution" in error["message"]
    db.session.expire_all()
    assert settings.all_settings() == expected

    # the settings apply: approved invoices skip the ERP and, payment not handled here, close
    invoice_id = create(api("invoicer"))["id"]
    assert act(api("invmanager"), invoice_id, "approve")["status"] == "closed"


# -- listing, scope and roles ------------------------------------------------------------------

def test_list_filters_paging_and_scope(world, vendors, scoped_users, api):
    op = world.user("invoicer")
    a1 = make_invoice(world, op, vendors.plain, number="A-1")
    a2 = make_invoice(world, op, vendors.liable, number="A-2", amounts=("50.00",), confirm="yes", process=True)
    b1 = make_invoice(world, op, vendors.plain, number="B-1", library="b", amounts=("70.00",))
    inst = make_invoice(world, op, vendors.plain, number="I-1", library=None, amounts=("80.00",))
    client = api("viewer")

    def numbers(query, user_client=client):
        resp = user_client.get("/invoices" + query)
        assert resp.status_code == 200, resp.get_json()
        return [i["number"] for i in conforms(resp.get_json(), "InvoicePage")["items"]]

    each_case([
        ("", ["I-1", "B-1", "A-2", "A-1"]),
        ("?status=in_approval", ["A-2"]),
        ("?status=in_review", ["I-1", "B-1", "A-1"]),
        ("?status=closed", []),
        ("?vendor=PLAIN", ["I-1", "B-1", "A-1"]),
        ("?vendor=LIABLE&status=in_approval", ["A-2"]),
    ], lambda query, expected: assert_equal(numbers(query), expected))
    page = client.get("/invoices?per_page=3&page=2").get_json()
    assert (page["page"], page["per_page"], page["total"], [i["number"] for i in page["items"]]) == (2, 3, 4, ["A-1"])
    for query, field in (("?per_page=201", "per_page"), ("?page=0", "page"), ("?status=lost", "status")):
        assert error_of(client.get("/invoices" + query), 400, "invalid")["field"] == field
    error_of(client.get("/invoices?vendor=NOPE"), 404, "not_found")

    # library A's users see and act on A's invoices only; B's are not found
    assert numbers("", api("viewer-a")) == ["A-2", "A-1"]
    client_a = api("invoicer-a")
    assert numbers("", client_a) == ["A-2", "A-1"]
    for invoice in (b1, inst):
        assert error_of(client_a.get(f"/invoices/{invoice.id}"), 404, "not_found") == error_of(
            client_a.get("/invoices/999999"), 404, "not_found")
        error_of(client_a.post(f"/invoices/{invoice.id}/actions/process", json={}), 404, "not_found")
    assert act(client_a, a1.id, "process")["status"] == "in_approval"
    error = error_of(client_a.post("/invoices", json=body(number="B-2", owner_library="LIBB", lines=[
        {"price": "100.00", "funds": [{"fund": "SHARED", "percent": "100"}]}])), 403, "forbidden")
    assert "own library" in error["message"]
    assert create(api("invoicer-b"), number="B-2", owner_library="LIBB", lines=[
        {"price": "100.00", "funds": [{"fund": "B-BKS", "percent": "100"}]}])["owner_library"] == "LIBB"
    assert db.session.get(Invoice, b1.id).status == "in_review" and invoice_count() == 5


def assert_equal(got, expected):
    assert got == expected, got


ROLE_USERS = {Role.ADMIN: "admin", Role.FUND_MANAGER: "fundmgr", Role.VIEWER: "viewer",
              Role.PURCHASING_OPERATOR: "buyer", Role.INVOICE_OPERATOR: "invoicer",
              Role.INVOICE_OPERATOR_EXTENDED: "invoicer-ext", Role.INVOICE_MANAGER: "invmanager"}


def test_roles_follow_the_matrix(app, world, vendors, api, tmp_path):
    invoice_id = make_invoice(world, world.user("invoicer"), vendors.plain).id
    surprise = {"surprise": 1}   # allowed roles get 400 for it, the others 403
    actions = {"process": "process_invoice", "approve": "approve_invoice", "reject": "reject_invoice",
               "mark_in_erp": "mark_invoice_in_erp", "paid": "record_invoice_payment",
               "rejected": "erp_reject_invoice", "send_back_to_review": "send_invoice_back_to_review"}
    requests = {
        "api.get_settings": ("get", "/settings", None),
        "api.update_settings": ("put", "/settings", surprise),
        "api.list_invoices": ("get", "/invoices", None),
        "api.get_invoice": ("get", f"/invoices/{invoice_id}", None),
        "api.create_invoice": ("post", "/invoices", surprise),
        **{f"api.{endpoint}": ("post", f"/invoices/{invoice_id}/actions/{action}", surprise)
           for action, endpoint in actions.items()},
        "api.change_invoice_owner": ("post", f"/invoices/{invoice_id}/actions/change_owner", surprise),
        "api.patch_settings": ("patch", "/settings", surprise),
        "api.patch_invoice": ("patch", f"/invoices/{invoice_id}", surprise),
        "api.delete_invoice": ("delete", f"/invoices/{invoice_id}", None),   # a stale If-Match: 412 when allowed
        "api.get_invoice_line": ("get", f"/invoices/{invoice_id}/lines/1", None),
        "api.patch_invoice_line": ("patch", f"/invoices/{invoice_id}/lines/1", surprise),
        **more_requests(app, world, invoice_id, tmp_path),
    }
    assert set(requests) == set(API_MATRIX)
    for role, username in ROLE_USERS.items():
        client = api(username)
        for endpoint, (method, url, json) in requests.items():
            resp = {"get": lambda: client.get(url), "post": lambda: client.post(url, json=json),
                    "put": lambda: put(client, url, json),
                    "patch": lambda: client.patch(url, json=json, headers={"If-Match": "*"}),
                    "delete": lambda: client.delete(url, headers={"If-Match": '"stale"'}),
                    "upload": lambda: client.post(url, data={}, content_type="multipart/form-data")}[method]()
            if role in API_MATRIX[endpoint]:
                assert resp.status_code in (200, 400, 412), (role, endpoint, resp.status_code)
            else:
                error_of(resp, 403, "forbidden")
    assert invoice_count() == 1 and db.session.get(Invoice, invoice_id).status == "in_review"
    assert db.session.scalar(db.select(db.func.count()).select_from(FundTransaction)) == 3   # the world's allocations
    error_of(app.test_client().get("/api/v1/invoices"), 401, "unauthorized")
    error_of(app.test_client().put("/api/v1/settings", json={}), 401, "unauthorized")


def test_H12_04_invoice_amounts_beyond_the_money_columns_are_400(world, vendors, api):
    client = api("invoicer")
    for over in ({"total_amount": "1000000000000.00"},
                 {"lines": [{"price": "999999999999.00", "quantity": 100000,
                             "funds": [{"fund": "A-BKS", "percent": "100"}]}]}):
        err = error_of(client.post("/invoices", json=body(**over)), 400, "invalid")
        assert any(t in err["message"] for t in ("below 1000000000000", "below 1,000,000,000,000", "too large"))
    assert invoice_count() == 0
