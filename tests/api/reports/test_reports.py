"""GET /reports/{name} (JSON) and /reports/{name}.csv|.xlsx: the reports page's tables, filters and
scope, through a token."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.api.helpers import conforms, error_of
from tests.reports.spending import build_spending


@pytest.fixture
def spending(app, world):
    build_spending(world)
    return world


def test_the_months_report_as_json_in_the_users_scope(spending, api):
    body = conforms(api("admin").get("/reports/months?period=FY2026").get_json(), "Report")
    assert body["filters"] == {"period": "FY2026", "ledger": None, "library": None, "currency": "EUR"}
    assert [c["key"] for c in body["columns"]][:3] == ["month", "currency", "allocated"]
    assert len(body["rows"]) == 12
    dec = body["rows"][-1]
    assert (dec["cum_allocated"], dec["cum_encumbered"], dec["cum_expended"], dec["available"]) == \
        ("3000.00", "329.99", "290.55", "2379.46")
    # Library A's viewer sees the shared fund and A's: B's 99.99 and 50.00 are not theirs.
    mine = conforms(api("viewer-a").get("/reports/months?period=FY2026").get_json(), "Report")["rows"][-1]
    assert (mine["cum_encumbered"], mine["cum_expended"]) == ("230.00", "240.55")
    only_b = api("admin").get(f"/reports/months?period=FY2026&ledger={spending.ledger_b.id}").get_json()
    assert only_b["filters"]["ledger"] == "LEDB" and only_b["rows"][-1]["cum_expended"] == "50.00"
    lib_a = api("admin").get("/reports/months?period=FY2026&library=LIBA").get_json()
    assert lib_a["filters"]["library"] == "LIBA" and lib_a["rows"][-1]["cum_expended"] == "210.00"


def test_every_report_answers_and_conforms(spending, api):
    from app.reports.tables import TABLES
    client = api("viewer")
    for name in TABLES:
        resp = client.get(f"/reports/{name}?period=FY2026")
        assert resp.status_code == 200, (name, resp.get_json())
        conforms(resp.get_json(), "Report")
    types = client.get("/reports/fund-types?period=FY2026").get_json()["rows"]
    assert [(t["code"], t["funds"], t["expended"]) for t in types] == [("MONO", 2, "240.55"), ("", 1, "50.00")]


def test_report_files_hold_the_same_rows(spending, api):
    client = api("viewer-a")
    rows = client.get("/reports/months?period=FY2026").get_json()["rows"]
    resp = client.get("/reports/months.csv?period=FY2026")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(table) == 1 + len(rows)
    assert table[-1][-1] == rows[-1]["available"]
    resp = client.get("/reports/months.xlsx?period=FY2026")
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(resp.get_data())).active
    assert sheet.max_row == 1 + len(rows)


def test_unknown_reports_and_filters_are_not_found(spending, api):
    client = api("viewer-a")
    for path in ("/reports/nope", "/reports/nope.csv", "/reports/nope.xlsx", "/reports/months?period=FY1999",
                 f"/reports/months.csv?ledger={spending.ledger_b.id}", "/reports/vendors.xlsx?library=LIBB"):
        error_of(client.get(path), 404, "not_found")
