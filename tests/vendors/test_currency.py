"""The currency repository: rates, lookup, conversion, CSV load; its page and API."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from app.errors import Duplicate, InvalidInput
from app.extensions import db
from app.ledger.money import minor_unit
from app.org.models import Institution
from app.vendors import services as vendors
from app.vendors.models import ExchangeRate
from tests.api.helpers import conforms, error_of  # noqa: F401  (api: a fixture)
from tests.helpers import login
from tests.helpers import examples

D = Decimal


def _rates(world, *rows):
    for currency, rate, day in rows:
        vendors.add_rate(world.user("fundmgr"), currency, rate, day)
    db.session.commit()


def test_rate_on_latest_on_or_before_missing_and_own_currency(app, world):
    _rates(world, ("USD", "0.9", date(2026, 1, 1)), ("USD", "0.92", date(2026, 2, 1)))
    assert vendors.rate_on("USD", date(2026, 1, 31)) == D("0.9")
    assert vendors.rate_on("USD", date(2026, 2, 1)) == D("0.92")
    assert vendors.rate_on("USD", date(2027, 1, 1)) == D("0.92")
    assert vendors.rate_on("EUR", date(1990, 1, 1)) == 1
    with pytest.raises(vendors.MissingRate, match=r"^No exchange rate for USD on or before 2025-12-31\.$"):
        vendors.rate_on("USD", date(2025, 12, 31))
    with pytest.raises(vendors.MissingRate, match="GBP"):
        vendors.convert(D("1.00"), "GBP", "EUR", date(2026, 3, 1))
    with pytest.raises(Duplicate, match="already a rate for USD on 2026-01-01: 0.9"):
        _rates(world, ("USD", "1", date(2026, 1, 1)))
    db.session.rollback()
    for bad in ("0", "-1", "abc", "1.123456789", "1e3"):
        with pytest.raises(InvalidInput, match="rate|decimals|zero"):
            vendors.add_rate(world.user("fundmgr"), "USD", bad, date(2026, 5, 1))
    with pytest.raises(InvalidInput, match="institution's currency"):
        vendors.add_rate(world.user("fundmgr"), "EUR", "1", date(2026, 5, 1))


def test_convert_exact_examples(app, world):
    assert vendors.convert(D("100.00"), "USD", "KZT", date(2026, 3, 1), explicit_ratio=D("2.5")) == D("250.00")
    _rates(world, ("USD", "0.9", date(2026, 1, 1)), ("GBP", "1.2", date(2026, 1, 1)),
           ("JPY", "0.006", date(2026, 1, 1)))
    assert vendors.convert(D("10.00"), "USD", "EUR", date(2026, 3, 1)) == D("9.00")
    assert vendors.convert(D("9.00"), "EUR", "USD", date(2026, 3, 1)) == D("10.00")
    # USD -> GBP through EUR: 0.10 × 0.9 / 1.2 = 0.075 -> 0.08 (half up)
    assert vendors.convert(D("0.10"), "USD", "GBP", date(2026, 3, 1)) == D("0.08")
    # GBP -> JPY: 1.00 × 1.2 / 0.006 = 200 yen, no decimals
    assert vendors.convert(D("1.00"), "GBP", "JPY", date(2026, 3, 1)) == D("200")
    assert vendors.convert(D("0.05"), "EUR", "JPY", date(2026, 3, 1)) == D("8")  # 8.333.. -> 8


def test_convert_with_other_institution_currency(app, world):
    Institution.current().currency = "KZT"
    db.session.commit()
    _rates(world, ("USD", "500", date(2026, 1, 1)))
    assert vendors.rate_on("KZT", date(2026, 1, 1)) == 1
    assert vendors.convert(D("1.25"), "USD", "KZT", date(2026, 1, 2)) == D("625.00")


@settings(max_examples=examples(60), deadline=None, suppress_health_check=list(HealthCheck))
@given(amount=st.decimals(min_value=D("-1000000"), max_value=D("1000000"), places=2),
       ratio=st.decimals(min_value=D("0.00000001"), max_value=D("10000"), places=8),
       target=st.sampled_from(["EUR", "JPY", "USD", "KZT"]))
def test_convert_never_returns_more_decimals_than_the_target(amount, ratio, target):
    result = vendors.convert(amount, "USD", target, date(2026, 1, 1), explicit_ratio=ratio)
    assert -result.as_tuple().exponent <= minor_unit(target)
    assert abs(result - amount * ratio) <= D(1).scaleb(-minor_unit(target)) / 2


def test_three_decimal_currencies_are_refused_like_everywhere_else(app, world):
    with pytest.raises(InvalidInput, match="KWD has 3 decimals"):
        vendors.convert(D("1.00"), "USD", "KWD", date(2026, 1, 1), explicit_ratio=D("0.3"))


def test_csv_all_or_nothing_with_row_report(app, world):
    _rates(world, ("USD", "0.9", date(2026, 1, 1)))
    bad = (b"currency,rate,date\nGBP,1.2,2026-01-01\nXYZ,1,2026-01-01\nCHF,abc,2026-01-01\n"
           b"CHF,-1,2026-01-01\nCHF,1.123456789,2026-01-01\nCHF,1,2026-13-01\nUSD,0.95,2026-01-01\n"
           b"GBP,1.3,2026-01-01\n")
    report = vendors.load_rates_csv(world.user("invmanager"), bad)
    db.session.rollback()
    assert not report.ok and report.loaded == 0
    assert [e.row for e in report.errors] == [3, 4, 5, 6, 7, 8, 9]
    msgs = {e.row: e.message for e in report.errors}
    assert "XYZ" in msgs[3] and "not a rate" in msgs[4] and "not a rate" in msgs[5]
    assert "8 decimals" in msgs[6] and "not a date" in msgs[7] and "already a rate" in msgs[8]
    assert "Duplicate of row 2" in msgs[9]
    assert db.session.scalar(db.select(db.func.count()).select_from(ExchangeRate)) == 1
    good = b"currency,rate,date\nGBP,1.2,2026-01-01\nCHF,1.05,2026-01-02\n"
    report = vendors.load_rates_csv(world.user("invmanager"), good)
    db.session.commit()
    assert report.ok and report.loaded == 2 and vendors.rate_on("CHF", date(2026, 2, 1)) == D("1.05")
    assert vendors.load_rates_csv(world.user("invmanager"), b"cur,rate\n").errors[0].row == 1


def test_rates_page_form_and_upload(app, world):
    viewer = login(app.test_client(), "viewer")
    assert viewer.get("/currency-rates/").status_code == 200
    assert viewer.post("/currency-rates/", data={"currency": "USD", "rate": "1", "date": "2026-01-01"}).status_code == 403
    buyer = login(app.test_client(), "buyer")
    assert buyer.post("/currency-rates/upload", data={}).status_code == 403
    mgr = login(app.test_client(), "fundmgr")
    resp = mgr.post("/currency-rates/", data={"currency": "USD", "rate": "0", "date": "2026-01-01"},
                    headers={"HX-Request": "true"})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422 and text.lstrip().startswith('<div id="rates-body">')
    assert "greater than zero" in text
    resp = mgr.post("/currency-rates/", data={"currency": "usd", "rate": "0.9", "date": "2026-01-01"},
                    headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "0.90000000" in resp.get_data(as_text=True)
    resp = mgr.post("/currency-rates/upload", data={"file": (io.BytesIO(b"currency,rate,date\nGBP,x,2026-01-01\n"),
                                                             "r.csv")},
                    content_type="multipart/form-data", headers={"HX-Request": "true"})
    assert resp.status_code == 422 and "Nothing was loaded" in resp.get_data(as_text=True)
    frag = viewer.get("/currency-rates/?currency=USD", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert frag.lstrip().startswith('<section id="rate-list">') and "2026-01-01" in frag


def test_api_currency_rates(app, world, api):
    mgr, viewer = api("invmanager"), api("viewer")
    resp = mgr.post("/currency-rates", json={"currency": "USD", "rate": "0.91", "date": "2026-01-01"})
    assert resp.status_code == 201
    assert conforms(resp.get_json(), "CurrencyRate")["rate"] == "0.91000000"
    err = error_of(mgr.post("/currency-rates", json={"currency": "USD", "rate": "1", "date": "2026-01-01"}),
                   409, "duplicate")
    assert "0.91" in err["message"]
    error_of(mgr.post("/currency-rates", json={"currency": "USD", "rate": 1, "date": "2026-01-02"}), 400, "invalid")
    error_of(viewer.post("/currency-rates", json={"currency": "USD", "rate": "1", "date": "2026-01-02"}),
             403, "forbidden")
    body = conforms(viewer.get("/currency-rates?currency=USD").get_json(), "CurrencyRateList")
    assert body["items"] == [{"currency": "USD", "rate": "0.91000000", "date": "2026-01-01"}]
    assert viewer.get("/currency-rates?currency=GBP").get_json()["items"] == []
    assert (body["total"], viewer.get("/currency-rates?per_page=1&page=2").get_json()["items"]) == (1, [])
