"""The invoice form's VAT fund: a separate VAT line charged to a chosen (tax) fund, kept on edit."""
from __future__ import annotations

from decimal import Decimal

from app.extensions import db
from app.funds import services as fs
from tests.helpers import login
from tests.invoices.forms.test_forms import _form, _invoice, form_values


def _tax_fund(world):
    tax = fs.create_fund(world.user("admin"), world.ledger_a, "A-TAX", fs.FundFields(name="A taxes"))
    fs.allocate(world.user("admin"), tax, Decimal("50.00"))
    db.session.commit()
    return tax


def test_the_form_posts_the_vat_on_a_chosen_fund(app, world, vendors):
    tax = _tax_fund(world)
    client = login(app.test_client(), "invoicer")
    page = client.get("/invoices/new").data.decode()
    assert 'name="vat_fund"' in page and f'value="{tax.id}"' in page and "The lines&#39; funds" in page
    vat = {"vat_level": "invoice", "vat_percent": "20", "vat_separate_line": "y", "vat_fund": str(tax.id),
           "total_amount": "130.00"}
    refused = client.post("/invoices/new", data=_form(world, vendors.liable, **{**vat, "vat_separate_line": None}),
                          headers={"HX-Request": "true"})
    assert refused.status_code == 422 and "posted as a separate VAT line" in refused.data.decode()
    assert _invoice("F-100") is None
    resp = client.post("/invoices/new", data=_form(world, vendors.liable, **vat))
    assert resp.status_code == 302
    inv = _invoice("F-100")
    assert inv.vat_fund_id == tax.id
    [vat_line] = [ln for ln in inv.lines if ln.line_type == "vat"]
    assert [(d.fund.code, d.amount) for d in vat_line.distribution] == [("A-TAX", Decimal("20.00"))]   # 20 % of the lines (100.00)
    shown = client.get(f"/invoices/{inv.id}").data.decode()
    assert "charged to fund" in shown and "A-TAX" in shown
    assert form_values(client.get(f"/invoices/{inv.id}/edit").data.decode())["vat_fund"] == str(tax.id)
