"""The stored report of a rollover as files from its page (issue 14): CSV and XLSX downloads,
institution administrators only, read back with the issue's exact figures."""
from __future__ import annotations

import csv
import io
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.funds.models import Rollover
from app.orders.models import POLine
from tests.funds.test_rollover import books  # noqa: F401 - the fixture
from tests.funds.test_rollover_views import FORM, follow, foreground  # noqa: F401 - the fixture
from tests.helpers import login

pytestmark = pytest.mark.postgres

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# adjust +3 %, carry the available balance, continuous lines +5 %: BOOKS left 3,749.50 of which
# 2,549.50 carried (1,200.00 is encumbered and moves with the lines), new allocation 10,300.00.
FUNDS = [
    ["GEN", "MONO", "summary", "EUR", "0.00", "0.00", "0.00", "0.00", "0.00", "0.00", "0.00", "created", ""],
    ["GEN", "BOOKS", "allocated", "EUR", "10000.00", "6250.50", "1200.00", "3749.50", "2549.50", "1200.00",
     "10300.00", "created", "allocation +3 %, carry available"],
    ["GEN", "SHARED", "allocated", "EUR", "1000.00", "0.00", "0.00", "1000.00", "1000.00", "0.00", "1030.00",
     "created", "allocation +3 %, carry available"],
    ["LEDA", "A-BKS", "allocated", "EUR", "1000.00", "0.00", "0.00", "1000.00", "1000.00", "0.00", "1030.00",
     "created", "allocation +3 %, carry available"],
    ["LEDB", "B-BKS", "allocated", "EUR", "1000.00", "0.00", "0.00", "1000.00", "1000.00", "0.00", "1030.00",
     "created", "allocation +3 %, carry available"],
]
LINES = [   # the PO line numbers are the lines' (PostgreSQL's sequences run on between tests)
    ["POL-000001", "one-time", "BOOKS", "BOOKS", "EUR", "700.00", "700.00", "700.00", "moved", ""],
    ["POL-000002", "continuous", "BOOKS", "BOOKS", "EUR", "500.00", "500.00", "525.00", "moved", ""],
]
TOTALS = [["EUR", "13000.00", "6250.50", "1200.00", "6749.50", "5549.50", "1200.00", "13390.00", "1200.00",
           "1225.00", "0.00", "yes"]]


@pytest.fixture
def committed(app, world, books):
    client = login(app.test_client(), "admin")
    assert follow(client, client.post("/fiscal-periods/closure", data={**FORM, "action": "commit"})).status_code == 302
    return client, db.session.scalar(select(Rollover.id))


def lines() -> list[list[str]]:
    numbers = db.session.scalars(select(POLine.number).order_by(POLine.id)).all()
    return [[number, *row[1:]] for number, row in zip(numbers, LINES, strict=True)]


def sections(rows: list[list[str]]) -> dict[str, list[list[str]]]:
    """The CSV's sections (a name row, a header row, the rows) by name, without their header."""
    found, name = {}, None
    for row in rows[1:]:
        if not row:
            name = None
        elif name is None:
            name = row[0]
            found[name] = []
        else:
            found[name].append(row)
    return {k: v[1:] for k, v in found.items()}


def test_the_page_links_both_files(committed):
    client, rid = committed
    page = client.get(f"/fiscal-periods/closure/{rid}").get_data(as_text=True)
    assert f'href="/fiscal-periods/closure/{rid}/report.csv"' in page
    assert f'href="/fiscal-periods/closure/{rid}/report.xlsx"' in page


def test_csv_download_has_the_exact_figures(committed):
    client, rid = committed
    resp = client.get(f"/fiscal-periods/closure/{rid}/report.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"] == f"attachment; filename=rollover-{rid}-FY2026-FY2027.csv"
    rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8"))))
    assert rows[0] == ["Rollover FY2026 to FY2027 (committed)"]
    got = sections(rows)
    assert list(got) == ["Funds", "PO lines", "Totals"]
    assert got["Funds"] == FUNDS and got["PO lines"] == lines() and got["Totals"] == TOTALS
    # the file's own figures reconcile: left = carried + not carried, money neither made nor lost
    for row in got["Funds"]:
        allocated, expended, _enc, left, carried, not_carried = (D(v) for v in row[4:10])
        assert left == allocated - expended == carried + not_carried


def test_xlsx_download_has_the_exact_figures_as_numbers(committed):
    client, rid = committed
    resp = client.get(f"/fiscal-periods/closure/{rid}/report.xlsx")
    assert resp.status_code == 200 and resp.mimetype == XLSX
    assert resp.headers["Content-Disposition"] == f"attachment; filename=rollover-{rid}-FY2026-FY2027.xlsx"
    wb = load_workbook(io.BytesIO(resp.get_data()), data_only=True)
    assert wb.sheetnames == ["Funds", "PO lines", "Totals"]

    def body(name):
        rows = list(wb[name].iter_rows(values_only=True))
        assert rows[0][0] == "Rollover FY2026 to FY2027 (committed)"
        return [["" if v is None else (f"{D(str(v)).quantize(D('0.01')):f}" if isinstance(v, (int, float)) else v)
                 for v in row] for row in rows[2:]]

    assert body("Funds") == FUNDS and body("PO lines") == lines() and body("Totals") == TOTALS
    books_row = next(r for r in wb["Funds"].iter_rows(min_row=3) if r[1].value == "BOOKS")
    assert isinstance(books_row[8].value, (int, float)) and books_row[8].number_format == "#,##0.00"
    assert D(str(books_row[8].value)) == D("2549.50")


def test_undone_rollover_downloads_say_so(committed):
    client, rid = committed
    assert follow(client, client.post(f"/fiscal-periods/closure/{rid}/undo")).status_code == 302
    text = client.get(f"/fiscal-periods/closure/{rid}/report.csv").get_data(as_text=True)
    assert text.startswith("Rollover FY2026 to FY2027 (undone)") and "2549.50" in text


def test_only_institution_admins_download(app, committed):
    _client, rid = committed
    for name in ("fundmgr", "buyer", "viewer", "invmanager"):
        client = login(app.test_client(), name)
        for file_type in ("csv", "xlsx"):
            assert client.get(f"/fiscal-periods/closure/{rid}/report.{file_type}").status_code == 403, name
    admin = login(app.test_client(), "admin")
    assert admin.get(f"/fiscal-periods/closure/{rid + 1000}/report.csv").status_code == 404
    assert admin.get(f"/fiscal-periods/closure/{rid}/report.pdf").status_code == 404
