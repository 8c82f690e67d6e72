"""The currency rates upload reads CSV text only: a workbook sent there (even a hostile one) is
refused with a clear message before anything parses it, and no rate is stored."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.vendors.models import ExchangeRate
from tests.helpers import login
from tests.hostile_workbooks import hostile, peak_memory

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def test_H12_03_a_workbook_uploaded_as_rates_is_refused_clearly(app, world):
    mgr = login(app.test_client(), "fundmgr")
    data = hostile([["currency", "rate", "date"], ["USD", "0.9", "2026-01-01"]], "billion_laughs")
    resp, peak = peak_memory(lambda: mgr.post("/currency-rates/upload",
                                              data={"file": (io.BytesIO(data), "rates.xlsx")},
                                              content_type="multipart/form-data", headers={"HX-Request": "true"}))
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Excel workbook" in text and "CSV" in text, text
    assert peak < 8 * 1024 * 1024
    assert db.session.scalar(select(func.count()).select_from(ExchangeRate)) == 0
