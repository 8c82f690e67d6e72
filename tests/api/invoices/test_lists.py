"""The invoice task lists and the invoice line list through the API: the pages' filters, sorts and
scope, paged; refused parameters."""
from __future__ import annotations

from datetime import date

from tests.api.helpers import conforms, each_case, error_of
from tests.invoices.helpers import invoice as make_invoice
from tests.invoices.helpers import lines


def test_task_lists(world, vendors, scoped_users, api):
    op = world.user("invoicer")
    make_invoice(world, op, vendors.plain, number="T-1", invoice_date=date(2026, 3, 5))
    make_invoice(world, op, vendors.plain, number="T-2", amounts=("20.00",), invoice_date=date(2026, 3, 2))
    make_invoice(world, op, vendors.plain, number="T-3", amounts=("30.00",), process=True)
    make_invoice(world, op, vendors.plain, number="T-4", amounts=("40.00",), library="b")
    client = api("invoicer")

    def numbers(kind, expected, user_client=client):
        resp = user_client.get(f"/invoices/tasks/{kind}")
        assert resp.status_code == 200, resp.get_json()
        assert [i["number"] for i in conforms(resp.get_json(), "InvoicePage")["items"]] == expected

    each_case([("review", ["T-4", "T-2", "T-1"]), ("approval", ["T-3"]), ("payment", [])],
              lambda kind, expected: numbers(kind, expected))
    numbers("review", ["T-2", "T-1"], api("invoicer-a"))
    page = client.get("/invoices/tasks/review?per_page=2&page=2").get_json()
    assert (page["total"], [i["number"] for i in page["items"]]) == (3, ["T-1"])
    error_of(client.get("/invoices/tasks/lost"), 404, "not_found")
    error_of(client.get("/invoices/tasks/review?per_page=0"), 400, "invalid")
    error_of(api("viewer").get("/invoices/tasks/review"), 403, "forbidden")


def test_invoice_line_list(world, vendors, scoped_users, api):
    op = world.user("invoicer")
    make_invoice(world, op, vendors.plain, number="L-1", lines=lines("10.00", "30.00", fund=world.fund_a,
                                                                      reporting_code="RC"),
                 amounts=("10.00", "30.00"), invoice_date=date(2026, 3, 5))
    make_invoice(world, op, vendors.liable, number="L-2", amounts=("20.00",), confirm="yes",
                 invoice_date=date(2026, 3, 2))
    make_invoice(world, op, vendors.plain, number="L-3", amounts=("50.00",), library="b",
                 invoice_date=date(2026, 3, 3))
    client = api("viewer")

    def rows(query, expected, user_client=client):
        resp = user_client.get("/invoice-lines" + query)
        assert resp.status_code == 200, resp.get_json()
        assert [(r["number"], r["position"]) for r in conforms(resp.get_json(), "InvoiceLinePage")["items"]] == \
            expected

    each_case([
        ("", [("L-1", 1), ("L-1", 2), ("L-3", 1), ("L-2", 1)]),
        ("?sort=total", [("L-1", 1), ("L-2", 1), ("L-1", 2), ("L-3", 1)]),
        ("?sort=-total", [("L-3", 1), ("L-1", 2), ("L-2", 1), ("L-1", 1)]),
        ("?vendor=LIABLE", [("L-2", 1)]),
        ("?fund=B-BKS", [("L-3", 1)]),
        ("?library=LIBA&sort=number", [("L-1", 1), ("L-1", 2), ("L-2", 1)]),
        ("?q=L-3", [("L-3", 1)]),
        ("?from=2026-03-03&to=2026-03-04", [("L-3", 1)]),
        ("?status=closed", []),
        ("?pol=POL-999999", []),
    ], lambda query, expected: rows(query, expected))
    rows("", [("L-1", 1), ("L-1", 2), ("L-2", 1)], api("viewer-a"))
    first = client.get("/invoice-lines?per_page=1").get_json()
    assert first["total"] == 4 and first["items"][0] == {
        "invoice": first["items"][0]["invoice"], "number": "L-1", "position": 1, "invoice_date": "2026-03-05",
        "vendor": "PLAIN", "status": "in_review", "owner_library": "LIBA", "po_line": None, "title": None,
        "type": "regular", "currency": "EUR", "quantity": 1, "price": "10.00", "total": "10.00", "funds": ["A-BKS"],
        "reporting_code": "RC", "subscription_from": None, "subscription_to": None, "price_note": "",
        "vat_code": "", "vat_percent": None, "vat_amount": "0.00", "note": ""}
    for query, field in (("?sort=colour", "sort"), ("?status=lost", "status"), ("?from=March", "from"),
                         ("?per_page=201", "per_page")):
        assert error_of(client.get("/invoice-lines" + query), 400, "invalid")["field"] == field
    for query in ("?vendor=NOPE", "?fund=NOPE", "?library=NOPE"):
        error_of(client.get("/invoice-lines" + query), 404, "not_found")


def test_invoice_list_filters_and_sorts_as_the_page(world, vendors, scoped_users, api):
    op = world.user("invoicer")
    make_invoice(world, op, vendors.plain, number="S-1", amounts=("10.00",), reference_number="REF-77")
    make_invoice(world, op, vendors.liable, number="S-2", amounts=("30.00",), confirm="yes", process=True,
                 invoice_date=date(2026, 3, 4))
    make_invoice(world, op, vendors.plain, number="S-3", amounts=("20.00",), library="b",
                 invoice_date=date(2026, 3, 2))
    client = api("viewer")

    def numbers(query, expected, user_client=client):
        resp = user_client.get("/invoices" + query)
        assert resp.status_code == 200, resp.get_json()
        assert [i["number"] for i in conforms(resp.get_json(), "InvoicePage")["items"]] == expected

    each_case([
        ("?q=REF-77", ["S-1"]), ("?q=liable", ["S-2"]), ("?fund=B-BKS", ["S-3"]), ("?library=LIBA", ["S-2", "S-1"]),
        ("?channel=manual", ["S-3", "S-2", "S-1"]), ("?channel=edi", []),
        ("?sort=date", ["S-1", "S-3", "S-2"]), ("?sort=-total", ["S-2", "S-3", "S-1"]),
        ("?sort=vendor", ["S-2", "S-1", "S-3"]), ("?sort=status", ["S-1", "S-3", "S-2"]),
        ("?erp_rejected=true", []), ("?waiting_days=0", []), ("?approvable=false", ["S-3", "S-2", "S-1"]),
    ], lambda query, expected: numbers(query, expected))
    numbers("?approvable=true", ["S-2"], api("invmanager"))
    numbers("?approvable=1", [], api("invoicer"))
    for query, field in (("?sort=colour", "sort"), ("?channel=fax", "channel"), ("?approvable=yes", "approvable"),
                         ("?waiting_days=-1", "waiting_days"), ("?waiting_days=10000", "waiting_days")):
        assert error_of(client.get("/invoices" + query), 400, "invalid")["field"] == field
    for query in ("?fund=NOPE", "?library=NOPE"):
        error_of(client.get("/invoices" + query), 404, "not_found")
