"""Pages and HTMX fragments of the funds area, on SQLite and PostgreSQL."""
from __future__ import annotations

import re
from decimal import Decimal

from app.extensions import db
from app.funds.models import FiscalPeriod, Fund, FundTransaction, Ledger
from app.idempotency import new_form_token
from tests.helpers import login

HX = {"HX-Request": "true"}


def test_dashboard_tree_and_ledger_fragment(app, world):
    client = login(app.test_client(), "fundmgr")
    page = client.get("/funds/?period=FY2026").data.decode()
    assert 'id="ledger-%d"' % world.gen.id in page and "SHARED" not in page  # collapsed
    # the toggle asks for the ledger's rows alone and puts the dashboard's own URL in the history
    assert (f'<button type="button" class="toggle link" id="toggle-L{world.gen.id}" hx-get="/funds/ledgers/'
            f'{world.gen.id}/rows?period=FY2026&amp;open=L{world.gen.id}"') in page
    assert f'hx-push-url="/funds/?period=FY2026&amp;open=L{world.gen.id}"' in page
    url = f"/funds/ledgers/{world.gen.id}/rows?period=FY2026&open=L{world.gen.id},F{world.books.id}"
    frag = client.get(url, headers=HX)
    body = frag.data.decode()
    assert frag.status_code == 200 and body.lstrip().startswith(f'<tbody id="ledger-{world.gen.id}">')
    assert "<html" not in body and "SHARED" in body and "LEDA" not in body
    assert frag.headers["Vary"] == "HX-Request" or "HX-Request" in frag.headers["Vary"]
    full = client.get("/funds/?period=FY2026&expand=all").data.decode()
    assert all(code in full for code in ("SHARED", "A-BKS", "B-BKS", "BOOKS"))
    assert client.get("/funds/?period=NOPE").status_code == 404


def test_allocate_via_htmx_returns_updated_rows_out_of_band(app, world):
    client = login(app.test_client(), "fundmgr")
    form = client.get(f"/funds/{world.shared.id}/allocate", headers=HX).data.decode()
    assert form.lstrip().startswith(f'<tr id="move-F{world.shared.id}"')
    resp = client.post(f"/funds/{world.shared.id}/allocate", data={"amount": "250.00", "reference": "R-9", "form_token": new_form_token()},
                       headers={**HX, "HX-Current-URL": f"http://x/funds/?period=FY2026&open=L{world.gen.id}"})
    body = resp.data.decode()
    assert resp.status_code == 200
    rows = dict(re.findall(r'<tr id="(row-[LF]\d+)"[^>]*hx-swap-oob="true">(.*?)</tr>', body, re.S))
    assert set(rows) == {f"row-F{world.shared.id}", f"row-F{world.books.id}", f"row-L{world.gen.id}"}
    assert all("1,250.00" in cells for cells in rows.values())
    assert body.lstrip().startswith(f'<tr id="move-F{world.shared.id}" class="move-slot" hidden></tr>')
    assert "Allocated 250.00 EUR to SHARED." in body
    tx = db.session.scalars(db.select(FundTransaction).order_by(FundTransaction.id.desc())).first()
    assert (tx.amount, tx.reference, tx.kind) == (Decimal("250.00"), "R-9", "allocation")


def test_htmx_errors_go_to_the_alert_area(app, world):
    client = login(app.test_client(), "viewer-a")
    resp = client.get(f"/funds/{world.fund_b.id}/allocate", headers=HX)
    assert resp.status_code in (403, 404) and resp.headers["HX-Retarget"] == "#problems"
    assert "<html" not in resp.data.decode()
    resp = client.get(f"/funds/{world.shared.id}?since=bad", headers={**HX, "HX-Target": "transactions"})
    assert resp.status_code == 400 and resp.headers["HX-Retarget"] == "#problems" and "is not a date" in resp.data.decode()


def test_money_form_errors_come_back_inline(app, world):
    client = login(app.test_client(), "fundmgr")
    resp = client.post(f"/funds/{world.shared.id}/transfer", headers=HX,
                       data={"amount": "5000.00", "target": str(world.fund_a.id), "form_token": new_form_token()})
    assert resp.status_code == 422
    assert "cannot transfer out 5,000.00 EUR: it is short by 4,000.00 EUR" in resp.data.decode()
    resp = client.post(f"/funds/{world.shared.id}/allocate", headers=HX, data={"amount": "12,50", "form_token": new_form_token()})
    assert resp.status_code == 422 and "is not an amount" in resp.data.decode()
    resp = client.post(f"/funds/{world.shared.id}/allocate", headers=HX, data={"amount": ""})
    assert resp.status_code == 422 and "Enter an amount." in resp.data.decode()
    assert db.session.scalar(db.select(db.func.count()).select_from(FundTransaction)) == 3


def test_allocate_without_javascript_redirects_to_fund_page(app, world):
    client = login(app.test_client(), "fundmgr")
    resp = client.post(f"/funds/{world.fund_a.id}/allocate", data={"amount": "-100.00", "form_token": new_form_token()})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/funds/{world.fund_a.id}")
    page = client.get(resp.headers["Location"]).data.decode()
    assert "Took back 100.00 EUR from A-BKS." in page and "900.00" in page


def test_fund_page_transactions_filter_sort_page(app, world):
    from app.funds import services as funds
    admin = world.user("admin")
    for i in range(30):
        funds.post(admin, world.shared, "expenditure", Decimal("1.00") + i, reference=f"INV-{i:02d}")
    db.session.commit()
    client = login(app.test_client(), "viewer")
    page = client.get(f"/funds/{world.shared.id}").data.decode()
    assert "svg" in page and 'class="chart"' in page and "Page 1 of 2" in page
    frag = client.get(f"/funds/{world.shared.id}?kind=allocation", headers={**HX, "HX-Target": "transactions"})
    body = frag.data.decode()
    assert body.lstrip().startswith('<div id="transactions" ') and "INIT" in body and "INV-" not in body
    frag = client.get(f"/funds/{world.shared.id}?sort=-amount&q=INV", headers={**HX, "HX-Target": "transactions"})
    amounts = re.findall(r'<td class="num">([\d,.]+)</td>', frag.data.decode())
    assert amounts[:2] == ["30.00", "29.00"]
    assert client.get(f"/funds/{world.shared.id}?since=not-a-date").status_code == 400


def test_create_fiscal_period_ledger_and_fund_through_forms(app, world):
    client = login(app.test_client(), "fundmgr")
    resp = client.post("/fiscal-periods/new", data={"code": "FY2027", "name": "Next year", "start_date": "2027-01-01",
                                                    "end_date": "2027-12-31", "status": "active"})
    assert resp.status_code == 302
    period = db.session.scalar(db.select(FiscalPeriod).filter_by(code="FY2027"))
    resp = client.post("/fiscal-periods/new", data={"code": "X", "name": "x", "start_date": "2027-06-01",
                                                    "end_date": "2027-07-01", "status": "active"})
    assert resp.status_code == 422 and "overlap fiscal period FY2027" in resp.data.decode()
    resp = client.post("/ledgers/new", data={"code": "GEN", "name": "General 27", "fiscal_period": str(period.id),
                                             "currency": "EUR", "owner": "", "available_to_all": "y"})
    assert resp.status_code == 302
    ledger = db.session.scalar(db.select(Ledger).filter_by(code="GEN", fiscal_period_id=period.id))
    data = {"code": "NEWF", "name": "New fund", "ledger": str(ledger.id), "kind": "allocated", "parent": "",
            "external_id": "E-77", "fund_type": "", "status": "active", "overencumbrance_limit_percent": "0",
            "overexpenditure_limit": "0", "available_to_all": "y"}
    resp = client.post("/funds/new?period=FY2027", data=data)
    assert resp.status_code == 302
    resp = client.post("/funds/new?period=FY2027", data=data)
    assert resp.status_code == 422 and "already used in fiscal period FY2027" in resp.data.decode()
    resp = client.post("/funds/new?period=FY2027", data={**data, "code": "BAD", "overexpenditure_limit": "lots"})
    assert resp.status_code == 422 and "must be a number" in resp.data.decode()
    fund = db.session.scalar(db.select(Fund).filter_by(code="NEWF"))
    assert fund.external_id == "E-77" and fund.fiscal_period_id == period.id


def test_edit_fund_rules_and_notes(app, world):
    client = login(app.test_client(), "fundmgr")
    data = {"code": "SHARED", "name": "Shared books", "ledger": str(world.gen.id), "kind": "allocated",
            "parent": str(world.books.id), "external_id": "EXT-1", "fund_type": "", "status": "active",
            "overencumbrance_allowed": "y", "overencumbrance_limit_percent": "7.5", "overexpenditure_allowed": "y",
            "overexpenditure_limit": "120.00", "available_to_all": "y", "notes": "Check with the dean."}
    assert client.post(f"/funds/{world.shared.id}/edit", data=data).status_code == 302
    page = client.get(f"/funds/{world.shared.id}").data.decode()
    assert "up to 7.50 % of the allocation" in page and "up to 120.00 EUR" in page and "Check with the dean." in page


def test_admin_manages_users_roles_and_scopes(app, world):
    client = login(app.test_client(), "admin")
    resp = client.post("/admin/users/new", data={"username": "newbie", "full_name": "New Bie",
                                                 "password": "a long enough password", "active": "y"})
    assert resp.status_code == 302
    from app.auth.models import User
    user = db.session.scalar(db.select(User).filter_by(username="newbie"))
    resp = client.post(f"/admin/users/{user.id}/roles", headers=HX,
                       data={"r-role": "viewer", "r-library": str(world.lib_a.id)})
    assert resp.status_code == 200 and resp.data.decode().lstrip().startswith('<section class="card" id="roles">')
    assert "Viewer · Library A (LIBA)" in resp.data.decode()
    resp = client.post(f"/admin/users/{user.id}/roles", headers=HX, data={"r-role": "viewer", "r-library": str(world.lib_a.id)})
    assert resp.status_code == 422 and "already has Viewer" in resp.data.decode()
    viewer = login(app.test_client(), "newbie", "a long enough password")
    assert b"B-BKS" not in viewer.get("/funds/?expand=all").data
    resp = client.post("/admin/users/new", data={"username": "short", "password": "short"})
    assert resp.status_code == 422 and "at least 12 characters" in resp.data.decode()
    scoped_admin_forbidden = login(app.test_client(), "fundmgr-a")
    assert scoped_admin_forbidden.get("/admin/users").status_code == 403


def test_search_box(app, world):
    client = login(app.test_client(), "viewer")
    page = client.get("/funds/search?q=ext-1").data.decode()
    assert "SHARED" in page and "1 fund matches" in page


def test_huge_ids_in_urls_are_404_not_500(app, world):
    client = login(app.test_client(), "viewer")
    assert client.get("/funds/99999999999999999999").status_code == 404
    assert client.get(f"/funds/{2**31}/allocate").status_code in (403, 404)


def test_admin_adds_libraries_with_validation(app, world):
    client = login(app.test_client(), "admin")
    assert client.post("/admin/libraries", data={"code": "law", "name": "Law Library"}).status_code == 302
    resp = client.post("/admin/libraries", data={"code": "LAW", "name": "Again"})
    assert resp.status_code == 422 and "Library LAW already exists." in resp.data.decode()


def test_H12_04_an_over_expenditure_limit_beyond_the_money_columns_is_an_error_under_the_field(app, world):
    """The fund form's money field: 13 digits (PostgreSQL answered 500) and three decimals (500 on
    both databases) come back as messages under the field."""
    client = login(app.test_client(), "fundmgr")
    data = {"code": "SHARED", "name": "Shared books", "ledger": str(world.gen.id), "kind": "allocated",
            "parent": str(world.books.id), "external_id": "", "fund_type": "", "status": "active",
            "overexpenditure_allowed": "y", "overencumbrance_limit_percent": "0", "available_to_all": "y"}
    for limit, message in (("1000000000000", "1000000000000 is too large"), ("1.005", "at most 2 decimals")):
        resp = client.post(f"/funds/{world.shared.id}/edit", data={**data, "overexpenditure_limit": limit})
        html = resp.data.decode()
        assert resp.status_code == 422 and 'id="overexpenditure_limit-err"' in html and message in html, limit
    db.session.expire_all()
    assert world.shared.overexpenditure_limit == Decimal("0")
