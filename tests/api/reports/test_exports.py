"""GET /exports/<list>.csv|.xlsx: each page list's own export through a token — its rows are the
list's (its total, in the user's scope), in the columns the user shows, as CSV or a workbook."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from app.api.exports import LISTS, page_views
from app.extensions import db
from app.orders import services as order_services
from tests.api.helpers import error_of
from tests.orders.helpers import line

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_rows(resp) -> list[list[str]]:
    """The data rows of a CSV answer (after checking its media type and header row)."""
    assert resp.status_code == 200, (resp.status_code, resp.get_data(as_text=True)[:300])
    assert resp.mimetype == "text/csv" and "attachment" in resp.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert table and table[0], "a header row"
    return table[1:]


def xlsx_rows(resp) -> int:
    assert resp.status_code == 200 and resp.mimetype == XLSX
    return load_workbook(io.BytesIO(resp.get_data())).active.max_row - 1


@pytest.fixture
def lines(world, orders):
    """Two PO lines of library A, one of library B."""
    buyer = world.user("buyer")
    made = [line(world, buyer, orders.eur, library=lib, title=f"Book {n}") for n, lib in enumerate("aab")]
    for pol in made[:2]:
        order_services.approve_po_line(buyer, pol)
    db.session.commit()
    return made


def test_po_lines_export_holds_the_lists_rows_in_the_users_scope(world, lines, api):
    for user, expected in (("viewer", 3), ("viewer-a", 2), ("viewer-b", 1)):
        client = api(user)
        total = client.get("/po-lines").get_json()["total"]
        assert total == expected
        assert len(csv_rows(client.get("/exports/po-lines.csv"))) == total, user
        assert xlsx_rows(client.get("/exports/po-lines.xlsx")) == total, user
    # The list's own filter, as in its URL.
    client = api("viewer")
    in_review = client.get("/po-lines?status=in_review").get_json()["total"]
    assert len(csv_rows(client.get("/exports/po-lines.csv?status=in_review"))) == in_review == 1


def test_fund_dashboard_and_transactions(world, api):
    for user in ("viewer", "viewer-a"):
        client = api(user)
        rows = csv_rows(client.get("/exports/funds.csv?period=FY2026"))
        expected = len(client.get("/ledgers").get_json()["items"]) + len(client.get("/funds").get_json()["items"])
        assert len(rows) == expected, user
        assert xlsx_rows(client.get("/exports/funds.xlsx")) == expected
    assert len(csv_rows(api("viewer").get("/exports/funds.csv"))) > len(csv_rows(api("viewer-a").get("/exports/funds.csv")))
    error_of(api("viewer").get("/exports/funds.csv?period=FY1999"), 404, "not_found")

    client = api("viewer-a")
    path = f"/exports/funds/{world.fund_a.id}/transactions"
    total = client.get(f"/funds/{world.fund_a.id}/transactions").get_json()["total"]
    assert total == 1 and len(csv_rows(client.get(path + ".csv"))) == total
    assert xlsx_rows(client.get(path + ".xlsx")) == total
    assert csv_rows(client.get(path + ".csv?kind=transfer")) == []
    error_of(client.get(path + ".csv?since=yesterday"), 400, "invalid")
    error_of(client.get(path + ".xlsx?since=yesterday"), 400, "invalid")
    error_of(client.get(f"/exports/funds/{world.fund_b.id}/transactions.csv"), 404, "not_found")   # not in sight


def test_vendors_export(world, orders, api):
    client = api("viewer-b")
    rows = csv_rows(client.get("/exports/vendors.csv"))
    assert len(rows) == len(client.get("/vendors").get_json()["items"]) == 3
    assert len(csv_rows(client.get("/exports/vendors.csv?q=euro"))) == 1


def test_every_list_answers_both_formats(world, lines, api):
    from app.integrations.models import JobRun
    run = JobRun(job="rollover", profile_code="X", status="failed", message="Nothing was changed.")
    db.session.add(run)
    db.session.commit()
    admin = api("admin")
    for name, (_view, arguments, _what, _params) in LISTS.items():
        base = {"fund-transactions": f"/exports/funds/{world.fund_a.id}/transactions",
                "job-run-events": f"/exports/job-runs/{run.id}/events"}.get(name, f"/exports/{name}")
        assert csv_rows(admin.get(base + ".csv")) is not None, name
        assert xlsx_rows(admin.get(base + ".xlsx")) >= 0, name
    assert len(csv_rows(admin.get("/exports/job-runs.csv"))) == 1
    error_of(admin.get("/exports/job-runs/999999/events.csv"), 404, "not_found")
    # The page's roles: Monitor Jobs is the administrators', the EDI inbox the invoice operators'.
    error_of(api("viewer").get("/exports/job-runs.csv"), 403, "forbidden")
    error_of(api("viewer").get(f"/exports/job-runs/{run.id}/events.xlsx"), 403, "forbidden")
    error_of(api("buyer").get("/exports/edi-inbox.csv"), 403, "forbidden")
    error_of(api("viewer").get("/exports/nope.csv"), 404, "not_found")


def test_each_export_keeps_its_pages_roles(app):
    pages = page_views()
    assert set(pages) == set(LISTS)
    for name, view in pages.items():
        assert app.view_functions["api.export_" + name.replace("-", "_")].allowed_roles == view.allowed_roles, name
