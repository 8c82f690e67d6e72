"""Allocations, transfers and transaction listings through the API."""
from __future__ import annotations

from decimal import Decimal

from app.extensions import db
from app.funds import services as funds

from tests.api.helpers import conforms, each_case, error_of


def balances(client, fund_id):
    resp = client.get(f"/funds/{fund_id}")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["balances"]


def post_tx(client, fund_id, **body):
    return client.post(f"/funds/{fund_id}/transactions", json=body)


def test_allocate(world, api):
    client = api("fundmgr")
    resp = post_tx(client, world.shared.id, type="allocation", amount="250.00", reference="PO-1", note="top up")
    assert resp.status_code == 201, resp.get_json()
    [tx] = conforms(resp.get_json(), "TransactionList")["items"]
    assert {k: v for k, v in tx.items() if k not in ("id", "date", "created_at")} == {
        "fund": world.shared.id, "type": "allocation", "amount": "250.00", "currency": "EUR", "reference": "PO-1",
        "note": "top up", "actor": "fundmgr", "transfer_id": None, "counterpart_fund": None}
    assert balances(client, world.shared.id) == {"allocated": "1250.00", "encumbered": "0.00",
                                                 "expended": "0.00", "available": "1250.00"}
    assert balances(client, world.books.id)["allocated"] == "1250.00"  # the summary rolls it up
    resp = post_tx(client, world.shared.id, type="allocation", amount="-100.5")
    assert resp.status_code == 201 and resp.get_json()["items"][0]["amount"] == "-100.50"
    assert balances(client, world.shared.id)["available"] == "1149.50"
    assert funds.check_ledger() == []


def test_transfer(world, api):
    client = api("fundmgr")
    resp = post_tx(client, world.shared.id, type="transfer", amount="100.00", target_fund="A-BKS",
                   reference="MOVE")
    assert resp.status_code == 201, resp.get_json()
    out, into = conforms(resp.get_json(), "TransactionList")["items"]
    assert (out["fund"], out["amount"], out["counterpart_fund"]) == (world.shared.id, "-100.00", world.fund_a.id)
    assert (into["fund"], into["amount"], into["counterpart_fund"]) == (world.fund_a.id, "100.00", world.shared.id)
    assert out["transfer_id"] and out["transfer_id"] == into["transfer_id"]
    assert {out["type"], into["type"], out["reference"], into["reference"]} == {"transfer", "MOVE"}
    assert balances(client, world.shared.id)["available"] == "900.00"
    assert balances(client, world.fund_a.id)["available"] == "1100.00"
    resp = post_tx(client, world.fund_a.id, type="transfer", amount="0.01", target_fund=world.fund_b.id)
    assert resp.status_code == 201, resp.get_json()
    assert balances(client, world.fund_b.id)["allocated"] == "1000.01"


def test_library_fund_manager_moves_own_money_only(world, api):
    admin = world.user("admin")
    a2 = funds.create_fund(admin, world.ledger_a, "A-2", funds.FundFields(name="A two"))
    db.session.commit()
    client = api("fundmgr-a")
    resp = post_tx(client, world.fund_a.id, type="transfer", amount="40.00", target_fund="A-2")
    assert resp.status_code == 201, resp.get_json()
    assert balances(client, a2.id)["allocated"] == "40.00"
    # SHARED is visible (GEN is available to all) but institution-owned: not theirs to manage
    err = error_of(post_tx(client, world.shared.id, type="allocation", amount="5.00"), 403, "forbidden")
    assert "SHARED" in err["message"]
    error_of(post_tx(client, world.shared.id, type="allocation", amount="bogus"), 403, "forbidden")
    error_of(post_tx(client, world.fund_a.id, type="transfer", amount="5.00", target_fund="SHARED"), 403, "forbidden")
    # B-BKS is not even visible
    error_of(post_tx(client, world.fund_b.id, type="allocation", amount="5.00"), 404, "not_found")
    error_of(post_tx(client, world.fund_a.id, type="transfer", amount="5.00", target_fund="B-BKS"), 404, "not_found")
    error_of(post_tx(client, world.fund_a.id, type="transfer", amount="5.00", target_fund=world.fund_b.id),
             404, "not_found")
    assert balances(api("admin"), world.shared.id)["allocated"] == "1000.00"
    assert balances(api("admin"), world.fund_b.id)["allocated"] == "1000.00"
    assert balances(api("admin"), world.fund_a.id)["allocated"] == "960.00"


def test_over_limit_is_refused_naming_fund_and_shortfall(world, api):
    client = api("fundmgr")
    err = error_of(post_tx(client, world.shared.id, type="transfer", amount="1200.00", target_fund="A-BKS"),
                   422, "rule_violation")
    assert "SHARED" in err["message"] and "200.00" in err["message"]
    err = error_of(post_tx(client, world.fund_a.id, type="allocation", amount="-1000.01"), 422, "rule_violation")
    assert "A-BKS" in err["message"] and "0.01" in err["message"]
    funds.post(world.user("admin"), world.shared, "encumbrance", Decimal("900.00"))
    db.session.commit()
    err = error_of(post_tx(client, world.shared.id, type="allocation", amount="-150.00"), 422, "rule_violation")
    assert "SHARED" in err["message"] and "50.00" in err["message"]
    # nothing was written by the refused postings
    assert balances(client, world.shared.id) == {"allocated": "1000.00", "encumbered": "900.00",
                                                 "expended": "0.00", "available": "100.00"}
    assert balances(client, world.fund_a.id)["allocated"] == "1000.00"
    assert client.get(f"/funds/{world.fund_a.id}/transactions").get_json()["total"] == 1
    assert funds.check_ledger() == []


def test_transfer_between_currencies_is_refused(world, api):
    admin = world.user("admin")
    usd = funds.create_ledger(admin, "USD", "Dollars", world.period, "USD")
    dollars = funds.create_fund(admin, usd, "DOLLARS", funds.FundFields(name="Dollars"))
    db.session.commit()
    err = error_of(post_tx(api("fundmgr"), world.shared.id, type="transfer", amount="100.00",
                           target_fund=dollars.id), 422, "rule_violation")
    assert "EUR" in err["message"] and "USD" in err["message"]
    assert balances(api("fundmgr"), dollars.id) == {"allocated": "0.00", "encumbered": "0.00",
                                                    "expended": "0.00", "available": "0.00"}


def test_money_into_a_summary_fund_is_refused(world, api):
    err = error_of(post_tx(api("admin"), world.books.id, type="allocation", amount="1.00"), 422, "rule_violation")
    assert "summary" in err["message"]


TRANSACTION_ERRORS = [
    ({"type": "allocation", "amount": 12.5}, 400, "invalid", "amount"),
    ({"type": "allocation", "amount": 12}, 400, "invalid", "amount"),
    ({"type": "allocation", "amount": True}, 400, "invalid", "amount"),
    ({"type": "allocation", "amount": "1.234"}, 400, "invalid", "amount"),
    ({"type": "allocation", "amount": "1,000.00"}, 400, "invalid", "amount"),
    ({"type": "allocation", "amount": "NaN"}, 400, "invalid", "amount"),
    ({"type": "allocation", "amount": ""}, 400, "invalid", "amount"),
    ({"type": "allocation", "amount": "0.00"}, 400, "invalid", "amount"),
    ({"type": "allocation", "amount": "1000000000000.00"}, 400, "invalid", "amount"),
    ({"type": "allocation", "amount": "5.00", "target_fund": "A-BKS"}, 400, "invalid", "target_fund"),
    ({"type": "allocation", "amount": "5.00", "reference": "x" * 101}, 400, "invalid", "reference"),
    ({"type": "allocation", "amount": "5.00", "reference": 7}, 400, "invalid", "reference"),
    ({"type": "allocation"}, 400, "invalid", "amount"),
    ({"amount": "5.00"}, 400, "invalid", "type"),
    ({"type": "encumbrance", "amount": "5.00"}, 400, "invalid", "type"),
    ({"type": "allocation", "amount": "5.00", "date": "2026-01-01"}, 400, "invalid", "date"),
    ({"type": "transfer", "amount": "5.00"}, 400, "invalid", "target_fund"),
    ({"type": "transfer", "amount": "5.00", "target_fund": None}, 400, "invalid", "target_fund"),
    ({"type": "transfer", "amount": "-5.00", "target_fund": "A-BKS"}, 400, "invalid", "amount"),
    ({"type": "transfer", "amount": "5.00", "target_fund": "SHARED"}, 400, "invalid", "target_fund"),
    ({"type": "transfer", "amount": "5.00", "target_fund": "NOPE"}, 404, "not_found", None),
    ({"type": "transfer", "amount": "5.00", "target_fund": 999999}, 404, "not_found", None),
    ({"type": "transfer", "amount": "5.00", "target_fund": ["A-BKS"]}, 400, "invalid", "target_fund"),
]


def test_transaction_errors(world, api):
    client = api("fundmgr")

    def check(body, status, code, field):
        err = error_of(post_tx(client, world.shared.id, **body), status, code)
        if field:
            assert err["field"] == field, err
        assert client.get(f"/funds/{world.shared.id}/transactions").get_json()["total"] == 1
        assert balances(client, world.shared.id)["allocated"] == "1000.00"
    each_case(TRANSACTION_ERRORS, check)
    assert funds.check_ledger() == []


def test_unknown_fund(world, api):
    error_of(post_tx(api("admin"), 999999, type="allocation", amount="5.00"), 404, "not_found")
    error_of(api("admin").get("/funds/999999/transactions"), 404, "not_found")


# -- listing ---------------------------------------------------------------------------------------

def test_transactions_are_paged(world, api):
    client = api("fundmgr")
    for n in range(1, 6):
        assert post_tx(client, world.shared.id, type="allocation", amount=f"{n}.00", reference=f"R{n}").status_code == 201
    assert post_tx(client, world.shared.id, type="transfer", amount="3.00", target_fund="A-BKS").status_code == 201
    reader = api("viewer-a")
    body = conforms(reader.get(f"/funds/{world.shared.id}/transactions?per_page=2&page=2").get_json(),
                    "TransactionPage")
    assert (body["page"], body["per_page"], body["total"]) == (2, 2, 7)
    assert [(t["reference"], t["amount"]) for t in body["items"]] == [("R2", "2.00"), ("R3", "3.00")]
    first = reader.get(f"/funds/{world.shared.id}/transactions").get_json()
    assert (first["page"], first["per_page"], first["total"], len(first["items"])) == (1, 50, 7, 7)
    assert [t["amount"] for t in first["items"]] == ["1000.00", "1.00", "2.00", "3.00", "4.00", "5.00", "-3.00"]
    init = first["items"][0]
    assert (init["type"], init["reference"], init["actor"], init["fund"]) == ("allocation", "INIT", "admin",
                                                                             world.shared.id)
    last = first["items"][-1]
    assert (last["type"], last["counterpart_fund"], last["actor"]) == ("transfer", world.fund_a.id, "fundmgr")
    beyond = reader.get(f"/funds/{world.shared.id}/transactions?page=9").get_json()
    assert (beyond["items"], beyond["total"]) == ([], 7)
    by_type = reader.get(f"/funds/{world.shared.id}/transactions?type=transfer").get_json()
    assert [t["amount"] for t in by_type["items"]] == ["-3.00"]
    dated = reader.get(f"/funds/{world.shared.id}/transactions?since=2000-01-01&until=2999-12-31").get_json()
    assert dated["total"] == 7
    assert reader.get(f"/funds/{world.shared.id}/transactions?until=2000-01-01").get_json()["total"] == 0
    big = reader.get(f"/funds/{world.shared.id}/transactions?per_page=500").get_json()
    assert (big["per_page"], big["total"]) == (500, 7)


def test_bad_listing_parameters(world, api):
    client = api("viewer")

    def check(query, field):
        err = error_of(client.get(f"/funds/{world.shared.id}/transactions?{query}"), 400, "invalid")
        assert err["field"] == field
    each_case([("per_page=501", "per_page"), ("per_page=0", "per_page"), ("page=0", "page"), ("page=abc", "page"),
               ("page=-1", "page"), ("type=gift", "type"), ("since=2026/01/01", "since"),
               ("until=yesterday", "until")], check)


def test_out_of_scope_transactions_are_not_found(world, api):
    error_of(api("viewer-a").get(f"/funds/{world.fund_b.id}/transactions"), 404, "not_found")
    assert api("viewer-a").get(f"/funds/{world.fund_a.id}/transactions").get_json()["total"] == 1
    assert api("viewer-b").get(f"/funds/{world.fund_b.id}/transactions").get_json()["total"] == 1


def test_H12_04_a_balance_beyond_the_money_columns_is_refused_not_a_500(world, api):
    """SHARED holds 1,000.00: one more allocation of 999,999,999,999.00 would make its allocated
    total 13 digits long, which NUMERIC(14,2) cannot hold (PostgreSQL answered 500)."""
    client = api("fundmgr")
    before = balances(client, world.shared.id)
    err = error_of(post_tx(client, world.shared.id, type="allocation", amount="999999999999.00"), 422,
                   "rule_violation")
    assert "allocated total would be 1,000,000,000,999.00 EUR" in err["message"]
    assert "beyond the largest amount the ledger holds" in err["message"] and err["field"] == "amount"
    assert balances(client, world.shared.id) == before
    err = error_of(post_tx(client, world.shared.id, type="allocation", amount="1000000000000.00"), 400, "invalid")
    assert "too large" in err["message"]
