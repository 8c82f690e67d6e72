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
