"""The invoice form's fund pickers follow the invoice date (issue 14, point 7): the funds of the
open period covering it; a change of the date asks for every line's pickers again (HTMX, out of
band), keeping what was chosen with a warning when it is of another period; "Add line" takes the
date too."""
from __future__ import annotations

import re
from datetime import date

from app.extensions import db
from app.funds import services as fs
from tests.helpers import login
from tests.invoices.forms.test_forms import HX, _form

PICK = re.compile(r'<div class="fund-pick" id="([^"]+)-pick" hx-swap-oob="true">')


def _next_year(world):
    admin = world.user("admin")
    fy27 = fs.create_fiscal_period(admin, "FY2027", "Fiscal year 2027", date(2027, 1, 1), date(2027, 12, 31))
    ledger = fs.create_ledger(admin, "LEDA", "Ledger of A", fy27, "EUR")
    new = fs.create_fund(admin, ledger, "A-BKS", fs.FundFields(name="A books 2027"))
    db.session.commit()
    return new


def _options(html: str, select_id: str) -> list[str]:
    block = html.split(f'id="{select_id}"')[1].split("</select>")[0]
    return re.findall(r'<option (?:selected )?value="([^"]*)"', block)


def test_changing_the_invoice_date_refreshes_every_fund_picker(app, world, vendors):
    new = _next_year(world)
    client = login(app.test_client(), "invoicer")
    page = client.get("/invoices/new").get_data(as_text=True)
    date_input = next(tag for tag in re.findall(r"<input[^>]*>", page) if 'id="invoice_date"' in tag)
    assert 'hx-post="/invoices/new"' in date_input and "refresh_funds" in date_input and 'hx-swap="none"' in date_input
    # the date moves into 2027: the pickers offer FY2027's funds; what was chosen (FY2026) stays, said so
    data = _form(world, vendors.plain, invoice_date="2027-01-15", refresh_funds="1")
    resp = client.post("/invoices/new", data=data, headers=HX)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<fieldset" not in html and 'name="number"' not in html   # pickers only
    assert len(PICK.findall(html)) == 3 * 4 and "lines-2-fund_4" in PICK.findall(html)   # 3 lines, 4 rows each
    first = _options(html, "lines-0-fund_1")
    assert str(new.id) in first and str(world.shared.id) not in first       # FY2027's, not FY2026's
    assert str(world.fund_a.id) in first                                    # the chosen one, kept
    assert f'<option selected value="{world.fund_a.id}">' in html or f'value="{world.fund_a.id}" selected' in html
    assert "Fund A-BKS belongs to fiscal period FY2026 (2026-01-01 – 2026-12-31, active), not to an open period " \
           "covering 2027-01-15." in html
    assert str(new.id) in _options(html, "lines-2-fund_1")                  # an empty row: FY2027's funds
    assert "lines-2-fund_1-warn" not in html
    # back in 2026: FY2026's funds, no warning
    html = client.post("/invoices/new", data={**data, "invoice_date": "2026-03-01"}, headers=HX).get_data(as_text=True)
    assert str(world.shared.id) in _options(html, "lines-0-fund_1") and str(new.id) not in _options(html, "lines-0-fund_1")
    assert "belongs to fiscal period" not in html
    # without HTMX the whole page comes back (nothing saved)
    full = client.post("/invoices/new", data=data).get_data(as_text=True)
    assert "<html" in full and "belongs to fiscal period FY2026" in full


def test_add_line_offers_the_funds_of_the_invoice_date(app, world, vendors):
    new = _next_year(world)
    client = login(app.test_client(), "invoicer")
    page = client.get("/invoices/new").get_data(as_text=True)
    assert 'hx-include="#line-count, #invoice_date"' in page
    html = client.get("/invoices/new/line?line_count=3&invoice_date=2027-02-01", headers=HX).get_data(as_text=True)
    assert str(new.id) in _options(html, "lines-3-fund_1") and str(world.fund_a.id) not in _options(html, "lines-3-fund_1")
    html = client.get("/invoices/new/line?line_count=3&invoice_date=", headers=HX).get_data(as_text=True)
    assert 'id="lines-3-fund_1"' in html      # no date: today's
