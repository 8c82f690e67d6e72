"""Documented refusals of the vendor and currency-rate routes that no other test reached (the API
status gate, tests/api/status_gate.py, asks for every documented 4xx): a duplicate (409) and a
rule (422), each changing nothing."""
from __future__ import annotations

from app.extensions import db
from app.vendors.models import ExchangeRate, Vendor
from tests.api.helpers import conforms, error_of


def _count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_a_vendor_code_used_already_is_a_409(world, orders, api):
    client = api("admin")
    before = _count(Vendor)
    error = error_of(client.post("/vendors", json={"code": "EURV", "name": "Again", "currency": "EUR"}), 409,
                     "duplicate")
    assert error["field"] == "code" and _count(Vendor) == before


def test_linking_a_vendor_that_is_not_governmental_is_a_422(world, orders, api):
    client = api("admin")
    before = _count(Vendor)
    error = error_of(client.post("/vendors", json={"code": "NEWV", "name": "New", "currency": "EUR",
                                                    "governmental_vendor": "OTHV"}), 422, "rule_violation")
    assert error["field"] == "governmental_vendor" and _count(Vendor) == before

    current = conforms(client.get("/vendors/EURV").get_json(), "Vendor")
    put_body = {k: v for k, v in current.items() if k not in ("id", "code", "accounts", "addresses", "contacts")}
    error_of(client.change("put", "/vendors/EURV", {**put_body, "governmental_vendor": "OTHV"}), 422, "rule_violation")
    error_of(client.change("patch", "/vendors/EURV", {"governmental_vendor": "EURV"}), 422, "rule_violation")
    assert client.get("/vendors/EURV").get_json() == current


def test_a_second_rate_for_the_same_currency_and_day_is_a_409(world, orders, api):
    client = api("admin")
    created = client.post("/currency-rates", json={"currency": "GBP", "rate": "1.15", "date": "2026-06-01"})
    assert created.status_code == 201, created.get_json()
    conforms(created.get_json(), "CurrencyRate")
    before = _count(ExchangeRate)
    error_of(client.post("/currency-rates", json={"currency": "GBP", "rate": "1.20", "date": "2026-06-01"}), 409,
             "duplicate")
    assert _count(ExchangeRate) == before


def test_creations_take_an_idempotency_key(world, orders, api):
    """Creating a fiscal period, ledger, fund, vendor or rate with an Idempotency-Key: a repeat gets the
    first answer (same Location) and makes nothing; the key on another request is a 422."""
    from tests.api.guards import key_reused
    client = api("admin")
    first = {"code": "FY2031", "name": "2031", "start_date": "2031-01-01", "end_date": "2031-12-31"}
    created = client.post("/fiscal-periods", json=first, headers={"Idempotency-Key": "fp-2031"})
    again = client.post("/fiscal-periods", json=first, headers={"Idempotency-Key": "fp-2031"})
    assert (created.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == created.headers["Location"] == "/api/v1/fiscal-periods/FY2031"
    assert again.get_json() == conforms(created.get_json(), "FiscalPeriod")
    ledger = {"code": "L31", "name": "Ledger", "fiscal_period": "FY2031", "currency": "EUR"}
    key_reused(client, ("/fiscal-periods", {**first, "code": "FY2032", "start_date": "2032-01-01",
                                            "end_date": "2032-12-31"}), ("/ledgers", ledger))
    key_reused(client, ("/ledgers", ledger), ("/funds", {"code": "F31", "name": "Fund", "ledger": "L31"}))
    assert client.get(client.post("/ledgers", json={**ledger, "code": "L32"}).headers["Location"]
                      .removeprefix("/api/v1")).status_code == 200
    key_reused(client, ("/funds", {"code": "F31", "name": "Fund", "ledger": "L31", "fiscal_period": "FY2031"}),
               ("/vendors", {"code": "NEWV", "name": "New", "currency": "EUR"}))
    key_reused(client, ("/vendors", {"code": "NEWV", "name": "New", "currency": "EUR"}),
               ("/currency-rates", {"currency": "GBP", "rate": "1.15", "date": "2026-06-01"}))
    key_reused(client, ("/currency-rates", {"currency": "GBP", "rate": "1.15", "date": "2026-06-01"}),
               ("/vendors", {"code": "NEWW", "name": "Newer", "currency": "EUR"}))
    assert _count(Vendor) == db.session.scalar(db.select(db.func.count()).select_from(Vendor).where(
        Vendor.code != "NEWW"))
