"""A library's whole year through the API alone (issue 20's "done when"): after the set-up makes the
institution's administrator and its token, every step is an HTTP call with that token — the
library, the fiscal period, a ledger and funds with
their allocations, a vendor, PO lines created, approved, sent and received, an invoice of them
approved and processed, the ERP exchange (the invoice export run to a local folder, the ERP's payment
confirmation dropped where the payment import reads it, the import run, the invoice closed) and the
rollover into the next fiscal period. The funds' figures are checked exactly after each step, and
every answer against its schema in the OpenAPI document."""
from __future__ import annotations

import threading
from xml.sax.saxutils import escape

import pytest

from app.auth.models import Role
from app.auth.services import create_user, issue_api_token
from app.clock import today
from app.extensions import db
from tests.api.helpers import ApiClient, conforms
from testkit import PASSWORD

NS = "http://com/exlibris/repository/acq/xmlbeans"


class Script:
    """The API client of the year's script: each call must answer ``status``; its body is checked
    against ``schema``."""

    def __init__(self, client: ApiClient):
        self.api = client

    def call(self, method: str, path: str, status: int, schema: str | None, json=None, headers=None):
        resp = getattr(self.api, method)(path, json=json, headers=headers)
        assert resp.status_code == status, (method, path, resp.status_code, resp.get_data(as_text=True)[:800])
        body = resp.get_json(silent=True)
        if schema:
            conforms(body, schema)
        return body, resp

    def get(self, path, schema):
        return self.call("get", path, 200, schema)[0]

    def post(self, path, schema, json=None, status=200, headers=None):
        return self.call("post", path, status, schema, json=json, headers=headers)[0]

    def patch(self, path, schema, json):
        return self.call("patch", path, 200, schema, json=json, headers={"If-Match": self.api.etag(path)})[0]

    def balances(self, fund_id: int) -> dict:
        return self.get(f"/funds/{fund_id}", "Fund")["balances"]

    def run(self, profile: str, job: str) -> dict:
        """Run now, wait for the run's thread, and answer the ended run."""
        started, resp = self.call("post", f"/erp/profiles/{profile}/sections/{job}/actions/run", 202, "ErpRun")
        for thread in threading.enumerate():
            if thread.name == f"run-{started['id']}":
                thread.join()
        location = resp.headers["Location"].removeprefix("/api/v1")
        return self.get(location, "ErpRun")


def money(allocated, encumbered, expended, available) -> dict:
    return {"allocated": allocated, "encumbered": encumbered, "expended": expended, "available": available}


def confirmation(invoice: dict, vendor: str, voucher: str, day: str) -> bytes:
    """The ERP's answer: the invoice paid (Alma's payment_confirmation_data)."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<payment_confirmation_data xmlns="{NS}"><invoice_list>'
            f"<invoice><invoice_number>{escape(invoice['number'])}</invoice_number>"
            f"<vendor_code>{escape(vendor)}</vendor_code><payment_status>PAID</payment_status>"
            f"<payment_voucher_number>{voucher}</payment_voucher_number>"
            f"<payment_voucher_date>{day}</payment_voucher_date>"
            f"<voucher_amount><sum>{invoice['total_amount']}</sum><currency>{invoice['currency']}</currency>"
            "</voucher_amount></invoice></invoice_list></payment_confirmation_data>\n").encode()


@pytest.mark.committing
def test_a_whole_year_through_the_api(app, tmp_path):
    # Set-up: the institution's administrator and its token; the rest is the API's.
    admin = create_user(None, "admin", PASSWORD, roles=[(Role.ADMIN, None)])
    token = issue_api_token(None, admin)
    db.session.commit()
    s = Script(ApiClient(app.test_client(), token))
    s.post("/libraries", "Library", {"code": "MAIN", "name": "Main library"}, 201)
    s.patch("/libraries/MAIN", "Library", {"address": "1 Library Square"})
    this_year, next_year = today().year, today().year + 1
    fy, fy_next = f"FY{this_year}", f"FY{next_year}"

    # The fiscal periods, a ledger, a summary fund and two allocated funds with their money.
    for code, year in ((fy, this_year), (fy_next, next_year)):
        s.post("/fiscal-periods", "FiscalPeriod", {"code": code, "name": f"Fiscal year {year}",
                                                   "start_date": f"{year}-01-01", "end_date": f"{year}-12-31"}, 201)
    s.post("/ledgers", "Ledger", {"code": "MAIN", "name": "Main ledger", "fiscal_period": fy, "currency": "EUR"}, 201)
    s.post("/funds", "Fund", {"code": "BOOKS", "name": "Books", "ledger": "MAIN", "fiscal_period": fy,
                              "type": "summary"}, 201)
    history = s.post("/funds", "Fund", {"code": "HIST", "name": "History", "ledger": "MAIN", "fiscal_period": fy,
                                        "parent": "BOOKS", "external_id": "ERP-HIST"}, 201)
    law = s.post("/funds", "Fund", {"code": "LAW", "name": "Law", "ledger": "MAIN", "fiscal_period": fy,
                                    "parent": "BOOKS", "external_id": "ERP-LAW"}, 201)
    books = s.get("/funds?fiscal_period=" + fy, "FundList")["items"][0]
    assert books["code"] == "BOOKS"
    for fund, amount in ((history, "1000.00"), (law, "500.00")):
        s.post(f"/funds/{fund['id']}/transactions", "TransactionList",
               {"type": "allocation", "amount": amount, "reference": "BUDGET"}, 201,
               headers={"Idempotency-Key": f"budget-{fund['code']}"})
    s.post(f"/funds/{law['id']}/transactions", "TransactionList",
           {"type": "transfer", "amount": "100.00", "target_fund": "HIST", "reference": "SHIFT"}, 201)
    assert s.balances(history["id"]) == money("1100.00", "0.00", "0.00", "1100.00")
    assert s.balances(law["id"]) == money("400.00", "0.00", "0.00", "400.00")
    assert s.balances(books["id"]) == money("1500.00", "0.00", "0.00", "1500.00")

    # A vendor.
    s.post("/vendors", "Vendor", {"code": "BOOKSHOP", "name": "The Bookshop", "currency": "EUR",
                                           "financial_sys_code": "V-1001"}, 201)
    s.patch("/vendors/BOOKSHOP", "Vendor", {"notes": "Main supplier"})

    # PO lines: created, approved (encumbered), sent, received.
    lines = []
    for title, price, quantity, shares in (("A history of Europe", "45.50", 2, [{"fund": "HIST", "percent": "100"}]),
                                           ("Contract law", "120.00", 1, [{"fund": "HIST", "percent": "50"},
                                                                          {"fund": "LAW", "percent": "50"}])):
        line = s.post("/po-lines", "POLine", {"vendor": "BOOKSHOP", "inventory_library": "MAIN", "title": title,
                                              "list_price": price, "quantity": quantity, "distribution": shares},
                      201, headers={"Idempotency-Key": f"pol-{len(lines)}"})
        assert line["status"] == "in_review"
        lines.append(line)
    for line in lines:
        approved = s.post(f"/po-lines/{line['number']}/actions/approve", "POLine")
        assert approved["status"] == "ready"
    assert s.balances(history["id"]) == money("1100.00", "151.00", "0.00", "949.00")
    assert s.balances(law["id"]) == money("400.00", "60.00", "0.00", "340.00")
    assert s.balances(books["id"]) == money("1500.00", "211.00", "0.00", "1289.00")
    for line in lines:
        sent = s.post(f"/po-lines/{line['number']}/actions/send", "POLine")
        assert sent["status"] == "sent" and sent["po"]
    for line in lines:
        received = s.post(f"/po-lines/{line['number']}/actions/receive", "POLine")
        assert received["status"] == "waiting_for_invoice", received["status"]
    assert s.balances(books["id"]) == money("1500.00", "211.00", "0.00", "1289.00")

    # The invoice of both lines: processed, approved; the encumbrances become expenditure.
    invoice = s.post("/invoices", "Invoice", {
        "number": "INV-2026-001", "vendor": "BOOKSHOP", "invoice_date": today().isoformat(),
        "total_amount": "213.00", "charges": {"shipment": "2.00"}, "process": False,
        "lines": [{"price": "45.50", "quantity": 2, "po_line": lines[0]["number"],
                   "funds": [{"fund": "HIST", "percent": "100"}]},
                  {"price": "120.00", "po_line": lines[1]["number"],
                   "funds": [{"fund": "HIST", "percent": "50"}, {"fund": "LAW", "percent": "50"}]}]},
        201, headers={"Idempotency-Key": "invoice-1"})
    assert invoice["status"] == "in_review", invoice["status"]
    processed = s.post(f"/invoices/{invoice['id']}/actions/process", "Invoice")
    if processed["status"] == "in_approval":
        processed = s.post(f"/invoices/{invoice['id']}/actions/approve", "Invoice")
    assert processed["status"] == "ready_to_be_paid", processed["status"]
    # The 2.00 shipment is spread pro rata: 0.86 on the 91.00 line, 1.14 on the 120.00 line (60.57 each fund).
    after_invoice = (money("1100.00", "0.00", "152.43", "947.57"), money("400.00", "0.00", "60.57", "339.43"),
                     money("1500.00", "0.00", "213.00", "1287.00"))
    assert (s.balances(history["id"]), s.balances(law["id"]), s.balances(books["id"])) == after_invoice

    # The ERP exchange: a local-folder connection, a profile, the export, the ERP's answer, the import.
    root = tmp_path / "erp"
    root.mkdir()
    s.post("/erp/connections", "ErpConnection", {"code": "CAMPUS", "name": "Campus ERP folder", "kind": "local",
                                                 "root_path": str(root)}, 201)
    s.post("/erp/profiles", "ErpProfile", {"code": "FIN", "name": "Finance office", "connection": "CAMPUS",
                                           "financial_system": "SAP"}, 201)
    s.patch("/erp/profiles/FIN/sections/export_invoices", "ErpSection", {"path": "invoices/out"})
    s.patch("/erp/profiles/FIN/sections/import_payments", "ErpSection", {"path": "payments/in"})
    (root / "invoices" / "out").mkdir(parents=True)
    (root / "payments" / "in").mkdir(parents=True)
    exported = s.run("FIN", "export_invoices")
    assert (exported["status"], exported["files"], exported["records"]) == ("completed", 1, 1), exported
    files = list((root / "invoices" / "out").glob("*.xml"))
    assert len(files) == 1 and b"INV-2026-001" in files[0].read_bytes()
    waiting = s.get(f"/invoices/{invoice['id']}", "Invoice")
    assert waiting["status"] == "waiting_for_payment"
    (root / "payments" / "in" / "paid.xml").write_bytes(
        confirmation(waiting, "BOOKSHOP", "VOUCHER-77", today().strftime("%Y%m%d")))
    imported = s.run("FIN", "import_payments")
    assert (imported["status"], imported["records"], imported["records_failed"]) == ("completed", 1, 0), imported
    closed = s.get(f"/invoices/{invoice['id']}", "Invoice")
    assert closed["status"] == "closed"
    assert closed["payment"] == {"voucher_number": "VOUCHER-77", "date": today().isoformat(), "amount": "213.00",
                                 "currency": "EUR"}
    events = s.get(f"/erp/runs/{imported['id']}/events", "ErpRunEventPage")["items"]
    assert [e["level"] for e in events if e["level"] != "info"] == [] and events, events
    assert [r["id"] for r in s.get("/erp/runs?profile=FIN", "ErpRunPage")["items"]] == [imported["id"], exported["id"]]
    assert (s.balances(history["id"]), s.balances(law["id"]), s.balances(books["id"])) == after_invoice
    for line in lines:
        assert s.get(f"/po-lines/{line['number']}", "POLine")["status"] == "closed"

    # The rollover into the next period: the same allocations, what is available carried over.
    report = s.post("/rollovers", "Rollover", {"source": fy, "target": fy_next, "mode": "commit",
                                               "allocation": "same", "carry": "available"}, 201)
    assert report["status"] == "committed" and report["po_lines"] == []
    assert report["totals"] == {"allocated": "1500.00", "expended": "213.00", "encumbered": "0.00", "left": "1287.00",
                                "carried": "1287.00", "not_carried": "0.00", "new_allocation": "1500.00",
                                "released": "0.00", "reencumbered": "0.00", "not_moved": "0.00"}
    assert s.get(f"/rollovers/{report['id']}", "Rollover")["totals"] == report["totals"]
    new_funds = {f["code"]: f["balances"] for f in s.get(f"/funds?fiscal_period={fy_next}", "FundList")["items"]}
    assert new_funds == {"BOOKS": money("2787.00", "0.00", "0.00", "2787.00"),
                         "HIST": money("2047.57", "0.00", "0.00", "2047.57"),
                         "LAW": money("739.43", "0.00", "0.00", "739.43")}
    # The old year keeps its figures.
    assert (s.balances(history["id"]), s.balances(law["id"]), s.balances(books["id"])) == after_invoice
