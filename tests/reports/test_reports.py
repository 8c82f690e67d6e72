"""The reports' figures against a hand-built world, their scope, their exports and their charts."""
from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from lxml import etree
from openpyxl import load_workbook

from app.reports import services as reports
from tests.helpers import login
from tests.reports.spending import build_spending

D = Decimal
HX = {"HX-Request": "true"}


@pytest.fixture
def spending(app, world):
    build_spending(world)
    return world


def filters(world, user, **kw):
    return reports.resolve(user, "FY2026", kw.get("ledger"), kw.get("library"), None)


def test_months_exact_and_running_totals(spending):
    admin = spending.user("admin")
    rows = {r.month.month: r for r in reports.by_month(admin, filters(spending, admin))}
    assert len(rows) == 12
    assert (rows[1].encumbered, rows[1].expended) == (D("99.99"), D("0.00"))
    assert (rows[2].encumbered, rows[2].expended) == (D("200.00"), D("30.55"))
    assert (rows[3].encumbered, rows[3].expended) == (D("-200.00"), D("210.00"))
    assert rows[4].expended == D("50.00") and rows[6].encumbered == D("150.00") and rows[11].encumbered == D("80.00")
    assert rows[12].allocated == D("3000.00") and rows[11].cum_allocated == D("0.00")
    dec = rows[12]
    assert (dec.cum_allocated, dec.cum_encumbered, dec.cum_expended) == (D("3000.00"), D("329.99"), D("290.55"))
    assert dec.available == D("2379.46")
    # The running totals end where the funds' balances are (the fund type report reads those).
    types = reports.by_fund_type(admin, filters(spending, admin))
    assert sum(t.encumbered for t in types) == dec.cum_encumbered and sum(t.expended for t in types) == dec.cum_expended


def test_ledger_and_library_filters(spending):
    admin = spending.user("admin")
    only_b = reports.by_month(admin, filters(spending, admin, ledger=str(spending.ledger_b.id)))
    assert only_b[-1].cum_expended == D("50.00") and only_b[-1].cum_encumbered == D("99.99")
    lib_a = reports.by_month(admin, filters(spending, admin, library="LIBA"))
    assert lib_a[-1].cum_expended == D("210.00") and lib_a[-1].cum_encumbered == D("230.00")


def test_fund_types_and_vendors(spending):
    admin = spending.user("admin")
    types = reports.by_fund_type(admin, filters(spending, admin))
    assert [(t.code, t.funds, t.allocated, t.encumbered, t.expended) for t in types] == [
        ("MONO", 2, D("2000.00"), D("230.00"), D("240.55")), ("", 1, D("1000.00"), D("99.99"), D("50.00"))]
    assert types[1].name == "No fund type"
    vendors = reports.by_vendor(admin, filters(spending, admin))
    # No posting of this world comes from a PO line or an invoice line: all of it is "direct".
    assert [(v.kind, v.encumbered, v.expended) for v in vendors] == [("none", D("329.99"), D("290.55"))]


def test_ages(spending):
    admin = spending.user("admin")
    ages = reports.by_age(admin, filters(spending, admin))
    assert [(a.label, a.orders, a.amount) for a in ages] == [
        ("0–30 days", 1, D("80.00")), ("31–90 days", 0, D("0.00")), ("91–180 days", 0, D("0.00")),
        ("181–365 days", 2, D("249.99")), ("over 365 days", 0, D("0.00"))]


def test_a_library_scoped_user_sees_only_their_library(spending):
    viewer = spending.user("viewer-a")
    months = reports.by_month(viewer, filters(spending, viewer))
    assert months[-1].cum_expended == D("240.55") and months[-1].cum_encumbered == D("230.00")  # SHARED + A-BKS
    ages = reports.by_age(viewer, filters(spending, viewer))
    assert [(a.orders, a.amount) for a in ages if a.orders] == [(1, D("80.00")), (1, D("150.00"))]
    with pytest.raises(reports.NotFound):
        filters(spending, viewer, ledger=str(spending.ledger_b.id))
    with pytest.raises(reports.NotFound):
        filters(spending, viewer, library="LIBB")


def _csv(resp):
    return list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))


def test_exports_read_back_and_are_scoped(app, spending):
    admin = login(app.test_client(), "admin")
    viewer = login(app.test_client(), "viewer-a")
    page = admin.get("/reports/?report=months&period=FY2026").data.decode()
    table_rows = len(re.findall(r"<tr><th scope=\"row\">", page))
    resp = admin.get("/reports/months.xlsx?period=FY2026")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = list(ws.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert len(body) == table_rows == 12
    assert header[:3] == ("Month", "Currency", "Allocated")
    apr = body[3]
    assert apr[0] == "Apr 2026" and apr[1] == "EUR" and isinstance(apr[4], (int, float)) and apr[4] == 50
    assert body[-1][6:9] == (pytest.approx(329.99), pytest.approx(290.55), pytest.approx(2379.46))
    # the library-scoped viewer's export has no B-BKS figure
    mine = _csv(viewer.get("/reports/months.csv?period=FY2026"))
    assert mine[4][0] == "Apr 2026" and mine[4][4] == "0.00" and mine[-1][7] == "240.55"
    assert viewer.get(f"/reports/months.csv?period=FY2026&ledger={spending.ledger_b.id}").status_code == 404
    ages = load_workbook(io.BytesIO(viewer.get("/reports/ages.xlsx?period=FY2026").data)).active
    amounts = [r[3] for r in ages.iter_rows(min_row=2, values_only=True)]
    assert amounts == [80, None, None, 150, None] or amounts == [80, 0, 0, 150, 0]
    assert admin.get("/reports/nope.csv").status_code == 404


@pytest.mark.parametrize("name", ["months", "vendors", "fund-types", "ages", "invoices", "waiting"])
def test_every_report_page_has_a_well_formed_labelled_chart(app, spending, name):
    client = login(app.test_client(), "admin")
    resp = client.get(f"/reports/?report={name}&period=FY2026")
    assert resp.status_code == 200
    body = resp.data.decode()
    frag = client.get(f"/reports/?report={name}&period=FY2026", headers=HX).data.decode()
    assert frag.lstrip().startswith('<div id="report"') and "<html" not in frag
    assert f'/reports/{name}.csv?period=FY2026' in body and f'/reports/{name}.xlsx?period=FY2026' in body
    svg = re.search(r"<svg class=\"chart report-chart\".*?</svg>", body, re.S)
    if name in ("invoices", "waiting") and svg is None:     # no invoice in this world
        assert "No figures to chart" in body
        return
    # An inline <svg> is in the SVG namespace in HTML without saying so; as XML it must say it.
    root = etree.fromstring(svg.group(0).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1).encode())
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert root.find("s:title", ns).text and root.find("s:desc", ns).text
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    expected = {"months": ["Expended 290.55", "Encumbered 329.99", "Allocated 3,000.00", "Dec"],
                "vendors": ["No vendor (direct postings)", "expended 290.55"],
                "fund-types": ["Monographs", "No fund type", "allocated 2,000.00"],
                "ages": ["181–365 days", "249.99", "80.00"]}[name]
    for label in expected:
        assert label in texts, (label, texts)
    if name != "months":
        assert root.findall(".//s:pattern", ns) and root.findall(".//s:rect[@fill]", ns)


def test_unknown_filters_are_not_found(app, spending):
    client = login(app.test_client(), "admin")
    assert client.get("/reports/?report=nope").status_code == 404
    assert client.get("/reports/?period=NOPE").status_code == 404
    assert client.get("/reports/?library=NOPE").status_code == 404


def test_vendors_from_real_orders_and_invoices(app, world, vendors):
    """The vendor of a posting is its PO line's (encumbrances) or its invoice's (expenditures);
    what no line caused is "No vendor"."""
    from app.funds import services as funds
    from app.invoices import services as ivs
    from tests.invoices.helpers import invoice
    from tests.orders.helpers import sent_line
    admin = world.user("admin")
    sent_line(world, admin, vendors.exempt, price="120.00")
    sent_line(world, admin, vendors.exempt, price="0.45", library="b")
    inv = invoice(world, world.user("invoicer"), vendors.plain, number="V-1", amounts=("45.50",), process=True)
    ivs.approve_invoice(world.user("invmanager"), inv)
    funds.post(admin, world.fund_b, "expenditure", D("7.25"), reference="DIRECT")
    db_commit()
    rows = {r.code or r.kind: (r.encumbered, r.expended) for r in reports.by_vendor(admin, filters(world, admin))}
    assert rows == {vendors.exempt.code: (D("120.45"), D("0.00")), vendors.plain.code: (D("0.00"), D("45.50")),
                    "none": (D("0.00"), D("7.25"))}
    scoped = world.user("viewer-a")
    rows = {r.code or r.kind: (r.encumbered, r.expended) for r in reports.by_vendor(scoped, filters(world, scoped))}
    assert rows == {vendors.exempt.code: (D("120.00"), D("0.00")), vendors.plain.code: (D("0.00"), D("45.50"))}


def db_commit():
    from app.extensions import db
    db.session.commit()
