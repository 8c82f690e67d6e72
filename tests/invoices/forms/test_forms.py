"""Invoice forms: create with lines and charges, errors on the form, the VAT dialog, from a PO,
edit with history, Add line / Recalculate, roles and library scope."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from app.auth.models import Role
from app.auth.services import create_user
from app.extensions import db
from app.invoices import services as ivs
from app.invoices.charges import line_gross
from app.invoices.models import Invoice, InvoiceEvent
from app.orders import services as os_
from tests.helpers import PASSWORD, login
from tests.invoices.helpers import invoice
from tests.orders.helpers import line as pol_line

HX = {"HX-Request": "true"}


class _FormValues(HTMLParser):
    """What a browser would submit from ``form#invoice-form`` (without pressing any button)."""

    def __init__(self):
        super().__init__()
        self.values: list[tuple[str, str]] = []
        self.inside = False
        self.select = None
        self.first_option = None
        self.textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "invoice-form":
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind == "checkbox" and "checked" not in a:
                return
            self.values.append((a["name"], a.get("value", "y" if kind == "checkbox" else "")))
        elif tag == "select":
            self.select, self.first_option, self.chosen = a["name"], None, None
        elif tag == "option" and self.select:
            if self.first_option is None:
                self.first_option = a.get("value", "")
            if "selected" in a:
                self.chosen = a.get("value", "")
        elif tag == "textarea":
            self.textarea, self.text = a["name"], ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            self.values.append((self.select, self.chosen if self.chosen is not None else self.first_option or ""))
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.values.append((self.textarea, self.text.lstrip("\n")))
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.text += data


def form_values(html: str) -> dict:
    parser = _FormValues()
    parser.feed(html)
    return dict(parser.values)


def _form(world, vendor, **change) -> dict:
    """A new invoice of ``vendor`` for library A dated 2026-03-01: two lines (60.00 to A-BKS; 2 × 20.00
    split half A-BKS, half SHARED), a third line left empty, a pro-rata shipment of 10.00."""
    data = {"number": "F-100", "vendor": str(vendor.id), "vendor_account": "", "invoice_date": "2026-03-01",
            "due_date": "2026-03-31", "currency": "", "total_amount": "110.00", "owner_library": str(world.lib_a.id),
            "payment_method": "bank_transfer", "reference_number": "REF-7", "notes": "Spring order",
            "explicit_ratio": "", "pro_rata": "on", "vat_level": "none", "vat_code": "", "vat_percent": "",
            "vat_amount": "", "charge-shipment": "10.00", "charge-insurance": "", "charge-overhead": "",
            "charge-discount": "", "then": "save"}
    rows = [{"line_type": "regular", "po_line": "", "quantity": "1", "unit_price": "60.00", "total": "",
             "fully_invoiced": "y", "price_note": "Atlas", "distribution_method": "percent",
             "fund_1": str(world.fund_a.id), "share_1": "100"},
            {"line_type": "regular", "po_line": "", "quantity": "2", "unit_price": "20.00", "total": "",
             "fully_invoiced": "y", "price_note": "", "distribution_method": "percent",
             "fund_1": str(world.fund_a.id), "share_1": "50", "fund_2": str(world.shared.id), "share_2": "50"},
            {"line_type": "regular", "po_line": "", "quantity": "1", "unit_price": "", "total": "",
             "fully_invoiced": "y", "distribution_method": "percent", "fund_1": "", "share_1": ""}]
    for n, row in enumerate(rows):
        for key, value in row.items():
            data[f"lines-{n}-{key}"] = value
    data.update(change)
    return {k: v for k, v in data.items() if v is not None}


def _invoice(number) -> Invoice | None:
    db.session.expire_all()
    return db.session.scalar(select(Invoice).filter_by(number=number))


def _lines_shown(html: str) -> int:
    return len(re.findall(r'<fieldset class="invoice-line[^"]*" id="line-\d+"', html))


def _count() -> int:
    return db.session.scalar(select(db.func.count()).select_from(Invoice))


# -- create ------------------------------------------------------------------------------------

def test_create_with_two_lines_and_a_pro_rata_shipment(app, world, vendors):
    client = login(app.test_client(), "invoicer")
    page = client.get("/invoices/new")
    html = page.data.decode()
    assert page.status_code == 200 and 'id="invoice-form"' in html and "<html" in html
    assert _lines_shown(html) == 3 and 'name="add_line"' in html
    assert 'name="charge-shipment"' in html and 'name="lines-2-fund_4"' in html
    assert client.get("/invoices/new", headers=HX).data.decode().startswith('<div id="invoice-editor"')

    resp = client.post("/invoices/new", data=_form(world, vendors.plain))
    inv = _invoice("F-100")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/invoices/{inv.id}")
    assert (inv.vendor_id, inv.owner_library_id, inv.currency, inv.total_amount, inv.status, inv.channel) == (
        vendors.plain.id, world.lib_a.id, "EUR", Decimal("110.00"), "in_review", "manual")
    assert (inv.due_date, inv.reference_number, inv.notes, inv.pro_rata) == (date(2026, 3, 31), "REF-7",
                                                                           "Spring order", True)
    assert [(ln.position, ln.quantity, ln.unit_price, ln.total, ln.price_note) for ln in inv.lines] == [
        (1, 1, Decimal("60.00"), Decimal("60.00"), "Atlas"), (2, 2, Decimal("20.00"), Decimal("40.00"), "")]
    assert [[(d.fund.code, d.percent, d.amount) for d in ln.distribution] for ln in inv.lines] == [
        [("A-BKS", Decimal("100.00"), Decimal("60.00"))],
        [("A-BKS", Decimal("50.00"), Decimal("20.00")), ("SHARED", Decimal("50.00"), Decimal("20.00"))]]
    assert [(c.charge_type, c.amount) for c in inv.charges] == [("shipment", Decimal("10.00"))]
    assert line_gross(inv) == {1: Decimal("66.00"), 2: Decimal("44.00")}
    assert "Invoice F-100 created." in client.get(resp.headers["Location"]).data.decode()


def test_save_and_continue_runs_the_rules(app, world, vendors):
    client = login(app.test_client(), "invoicer")
    resp = client.post("/invoices/new", data=_form(world, vendors.plain, then="continue"), headers=HX)
    inv = _invoice("F-100")
    assert resp.status_code == 204 and resp.headers["HX-Redirect"] == f"/invoices/{inv.id}"
    assert inv.status == "in_approval" and inv.review_problems == []
    # a total that differs from the lines and charges keeps the next one In Review, with the reason shown
    resp = client.post("/invoices/new", data=_form(world, vendors.plain, number="F-101", total_amount="999.00",
                                                   then="continue"))
    other = _invoice("F-101")
    assert other.status == "in_review" and "differs from its lines" in other.review_problems[0]
    assert "differs from its lines" in client.get(resp.headers["Location"]).data.decode()


# -- errors on the form ------------------------------------------------------------------------

def test_field_errors_come_back_on_the_form(app, world, vendors):
    client = login(app.test_client(), "invoicer")
    resp = client.post("/invoices/new", data=_form(world, vendors.plain, number=""))
    html = resp.data.decode()
    assert resp.status_code == 422 and 'id="number-err"' in html and "The invoice number is required" in html
    assert "Spring order" in html and 'value="REF-7"' in html, "what was typed stays"
    assert _lines_shown(html) == 2, "the empty line is dropped"

    resp = client.post("/invoices/new", data=_form(world, vendors.plain, **{"lines-1-share_2": "40"}), headers=HX)
    html = resp.data.decode()
    assert resp.status_code == 422 and html.startswith('<div id="invoice-editor"')
    assert "Line 2: The fund percents add up to 90.00 %" in html
    assert re.search(r'class="invoice-line has-error" id="line-2"', html)

    # an empty line between two: the messages count the lines the page shows
    data = _form(world, vendors.plain, **{"lines-2-unit_price": "5.00", "lines-2-quantity": "x",
                                          "lines-1-unit_price": "", "lines-1-fund_1": "", "lines-1-share_1": ""})
    html = client.post("/invoices/new", data=data).data.decode()
    assert "Line 2: the quantity is a whole number" in html and re.search(r'has-error" id="line-2"', html)

    resp = client.post("/invoices/new", data=_form(world, vendors.plain, **{"lines-1-subscription_from": "2026-13-45"}))
    html = resp.data.decode()
    assert resp.status_code == 422 and 'id="lines-1-subscription_from-err">Not a valid date value' in html
    assert "The invoice was not saved: see the messages below." in html
    assert _count() == 0


def test_duplicate_number_names_the_existing_invoice(app, world, vendors):
    invoice(world, world.user("invoicer"), vendors.plain, number="F-100")
    client = login(app.test_client(), "invoicer")
    resp = client.post("/invoices/new", data=_form(world, vendors.plain, number="f-100"))
    html = resp.data.decode()
    assert resp.status_code == 422 and 'id="number-err"' in html
    assert "Vendor PLAIN already has invoice F-100 (dated 2026-03-01, In Review)" in html
    assert _count() == 1


# -- the VAT confirmation ----------------------------------------------------------------------

def test_liable_vendor_without_vat_asks_then_saves_with_yes(app, world, vendors):
    client = login(app.test_client(), "invoicer")
    data = _form(world, vendors.liable)
    resp = client.post("/invoices/new", data=data, headers=HX)
    html = resp.data.decode()
    # the whole editor (the form as posted, no stale messages) with the question in its #dialog
    assert resp.status_code == 409 and "HX-Retarget" not in resp.headers
    assert html.lstrip().startswith('<div id="invoice-editor"') and 'class="error"' not in html
    assert html.index('<div id="dialog"') < html.index("<dialog open") < html.index('id="invoice-form"')
    assert "LIABLE is liable for VAT, yet the invoice reports none" in html
    assert re.search(r'<button type="submit"[^>]*form="invoice-form" name="confirm" value="yes"', html)
    assert 'value="add_vat"' not in html and 'method="dialog"' in html
    # without JavaScript: the whole page, the question above the form that keeps the values
    page = client.post("/invoices/new", data=data).data.decode()
    assert page.index("<dialog open") < page.index('id="invoice-form"') and 'value="REF-7"' in page
    assert _count() == 0

    resp = client.post("/invoices/new", data={**data, "confirm": "yes"})
    inv = _invoice("F-100")
    assert resp.status_code == 302 and inv.vat_confirmed == "confirm_no_vat_though_liable" and inv.vat_amount == 0


def test_taxed_vendor_add_vat_raises_the_governmental_invoice(app, world, vendors):
    client = login(app.test_client(), "invoicer")
    data = _form(world, vendors.taxed, then="continue")   # the VAT goes to TAXOFF, not into this total
    resp = client.post("/invoices/new", data=data, headers=HX)
    html = resp.data.decode()
    assert resp.status_code == 409 and "pays it to TAXOFF" in html
    assert 'value="add_vat" autofocus>Add VAT and raise the VAT invoice' in html and 'value="no_vat">Save without VAT' in html
    assert 'name="confirm_then" value="continue"' in html, "the dialog keeps which save button was pressed"

    resp = client.post("/invoices/new", data={**data, "confirm": "add_vat", "confirm_then": "continue"},
                       headers=HX)
    assert resp.status_code == 204
    inv = _invoice("F-100")
    vat_invoice = _invoice("F-100-VAT")
    assert (inv.vat_percent, inv.vat_amount) == (Decimal("20.00"), Decimal("20.00"))
    assert (vat_invoice.vendor_id, vat_invoice.total_amount, vat_invoice.governmental_for_id) == (
        vendors.gov.id, Decimal("20.00"), inv.id)
    assert inv.status == "in_approval", ("then=continue came back with the answer", inv.review_problems)


# -- from a PO ---------------------------------------------------------------------------------

def _po_with_two_lines(world, vendor):
    buyer = world.user("buyer")
    one = pol_line(world, buyer, vendor, price="100.00")
    two = pol_line(world, buyer, vendor, price="30.00", quantity=3, method="amount",
                   funds=[(world.fund_a, "30.00"), (world.shared, "60.00")])
    for pol in (one, two):
        os_.approve_po_line(buyer, pol)
    [po] = os_.package_ready_lines(buyer, [one, two])
    db.session.commit()
    return po, one, two


def test_from_a_po_prefills_lines_and_saves_them(app, world, vendors):
    po, one, two = _po_with_two_lines(world, vendors.plain)
    client = login(app.test_client(), "invoicer")
    page = client.get(f"/invoices/new?po={po.number}")
    html = page.data.decode()
    assert page.status_code == 200 and f"New invoice from {po.number}" in html
    values = form_values(html)
    assert (values["vendor"], values["owner_library"], values["currency"], values["total_amount"]) == (
        str(vendors.plain.id), str(world.lib_a.id), "EUR", "190.00")
    assert [values[f"lines-0-{k}"] for k in ("po_line", "quantity", "unit_price", "total", "fund_1", "share_1")] == [
        one.number, "1", "100.00", "", str(world.fund_a.id), "100"]
    assert [values[f"lines-1-{k}"] for k in ("po_line", "quantity", "unit_price", "total", "distribution_method",
                                             "fund_1", "share_1", "fund_2", "share_2")] == [
        two.number, "3", "30.00", "", "percent", str(world.fund_a.id), "33.33", str(world.shared.id), "66.67"]
    assert "lines-2-po_line" not in values

    values.update({"number": "PO-INV-1", "invoice_date": "2026-03-02", "lines-1-total": "89.00",
                   "total_amount": "189.00", "then": "save"})
    resp = client.post(f"/invoices/new?po={po.number}", data=values)
    inv = _invoice("PO-INV-1")
    assert resp.status_code == 302 and inv.channel == "po"
    assert [(ln.po_line_id, ln.quantity, ln.total) for ln in inv.lines] == [
        (one.id, 1, Decimal("100.00")), (two.id, 3, Decimal("89.00"))]
    assert [(d.fund.code, d.amount) for d in inv.lines[1].distribution] == [("A-BKS", Decimal("29.66")),
                                                                             ("SHARED", Decimal("59.34"))]


def test_unknown_or_unseen_po_is_not_found(app, world, vendors):
    client = login(app.test_client(), "invoicer")
    assert client.get("/invoices/new?po=PO-999999").status_code == 404


# -- edit --------------------------------------------------------------------------------------

def test_edit_prefills_changes_fields_and_records_history(app, world, vendors):
    op = world.user("invoicer")
    inv = invoice(world, op, vendors.plain, number="E-1", amounts=("100.00",), charges={"shipment": "5.00"})
    client = login(app.test_client(), "invoicer")
    values = form_values(client.get(f"/invoices/{inv.id}/edit").data.decode())
    assert (values["number"], values["lines-0-unit_price"], values["lines-0-share_1"], values["charge-shipment"],
            values["total_amount"]) == ("E-1", "100.00", "100", "5.00", "105.00")
    assert values["lines-0-total"] == "", "quantity × price: computed again when the price changes"
    values.update({"number": "E-2", "notes": "Corrected", "lines-0-unit_price": "80.00",
                   "total_amount": "85.00", "then": "save"})
    resp = client.post(f"/invoices/{inv.id}/edit", data=values)
    assert resp.status_code == 302
    inv = _invoice("E-2")
    assert (inv.notes, inv.total_amount, inv.lines[0].total) == ("Corrected", Decimal("85.00"), Decimal("80.00"))
    changes = {(e.field, e.old_value, e.new_value) for e in
               db.session.scalars(select(InvoiceEvent).where(InvoiceEvent.invoice_id == inv.id, InvoiceEvent.action
                                                             == "edit"))}
    assert {("number", "E-1", "E-2"), ("notes", "", "Corrected"), ("total_amount", "105.00", "85.00")} <= changes
    assert any(field == "line" and "80.00" in new for field, _, new in changes)


def test_edit_is_refused_once_approved(app, world, vendors):
    op = world.user("invoicer")
    inv = invoice(world, op, vendors.plain, number="E-1", process=True)
    ivs.approve_invoice(world.user("invmanager"), inv)
    db.session.commit()
    client = login(app.test_client(), "invoicer")
    page = client.get(f"/invoices/{inv.id}/edit").data.decode()
    assert "is Ready to be Paid: it can be edited only In Review or In Approval" in page
    assert 'id="invoice-form"' not in page
    resp = client.post(f"/invoices/{inv.id}/edit", data={**_form(world, vendors.plain), "number": "E-1"})
    assert resp.status_code == 422 and "send it back to review to edit it" in resp.data.decode()
    assert _invoice("E-1").total_amount == Decimal("100.00")


# -- add line, recalculate ---------------------------------------------------------------------

def test_add_line_with_and_without_javascript(app, world, vendors):
    client = login(app.test_client(), "invoicer")
    row = client.get("/invoices/new/line?line_count=3", headers=HX).data.decode()
    assert row.startswith('<fieldset class="invoice-line" id="line-4"><legend>Line 4</legend>')
    assert 'name="lines-3-unit_price"' in row and f'value="{world.fund_a.id}"' in row
    assert re.search(r'<input type="hidden" id="line-count" name="line_count" value="4" hx-swap-oob="true">', row)
    assert client.get("/invoices/new/line?line_count=3").status_code == 302

    resp = client.post("/invoices/new", data={**_form(world, vendors.plain), "add_line": "1"})
    html = resp.data.decode()
    assert resp.status_code == 200 and _lines_shown(html) == 4 and 'value="Atlas"' in html
    assert _count() == 0


def test_recalculate_previews_the_funds_charged_without_saving(app, world, vendors):
    client = login(app.test_client(), "invoicer")
    data = _form(world, vendors.usd, total_amount="110.00", recalculate="1")
    resp = client.post("/invoices/new", data=data, headers=HX)
    html = resp.data.decode()
    assert resp.status_code == 200 and html.startswith('<section id="charges-preview"')
    # 66.00 USD (60.00 + its shipment share) → 60.72 EUR; line 2's 44.00 USD split in halves
    assert "66.00 USD" in html and "60.72 EUR" in html and "20.24 EUR" in html and "1 USD = 0.92 EUR" in html
    page = client.post("/invoices/new", data=data).data.decode()
    assert "Funds charged" in page and "1 USD = 0.92 EUR" in page and 'id="invoice-form"' in page
    assert _count() == 0 and db.session.scalar(select(db.func.count()).select_from(InvoiceEvent)) == 0

    bad = client.post("/invoices/new", data={**data, "lines-0-share_1": "10"}, headers=HX).data.decode()
    assert "Cannot compute the charges" in bad and "add up to 10.00 %" in bad

    op = world.user("invoicer")
    inv = invoice(world, op, vendors.plain, number="E-1", amounts=("100.00",))
    values = form_values(client.get(f"/invoices/{inv.id}/edit").data.decode())
    values.update({"lines-0-unit_price": "70.00", "recalculate": "1"})
    html = client.post(f"/invoices/{inv.id}/edit", data=values, headers=HX).data.decode()
    assert "70.00 EUR" in html
    assert _invoice("E-1").lines[0].total == Decimal("100.00"), "the preview saved nothing"


# -- roles and scope ---------------------------------------------------------------------------

def test_viewer_is_refused(app, world, vendors):
    inv = invoice(world, world.user("invoicer"), vendors.plain, number="E-1")
    client = login(app.test_client(), "viewer")
    assert client.get("/invoices/new").status_code == 403
    assert client.post("/invoices/new", data=_form(world, vendors.plain)).status_code == 403
    assert client.get(f"/invoices/{inv.id}/edit").status_code == 403
    assert client.post(f"/invoices/{inv.id}/edit", data=_form(world, vendors.plain)).status_code == 403
    assert _count() == 1


@pytest.fixture
def invoicer_a(world):
    create_user(None, "invoicer-a", PASSWORD, full_name="Invoicer A", roles=[(Role.INVOICE_OPERATOR, world.lib_a)])
    db.session.commit()
    return "invoicer-a"


def test_library_operator_cannot_choose_another_library(app, world, vendors, invoicer_a):
    inv_b = invoice(world, world.user("invoicer"), vendors.plain, number="B-1", library="b")
    client = login(app.test_client(), invoicer_a)
    values = form_values(client.get("/invoices/new").data.decode())
    page = client.get("/invoices/new").data.decode()
    assert values["owner_library"] == str(world.lib_a.id)
    assert "LIBB" not in page and "Institution (all libraries)" not in page

    data = _form(world, vendors.plain, owner_library=str(world.lib_b.id), **{"lines-0-fund_1": str(world.fund_a.id)})
    resp = client.post("/invoices/new", data=data)
    html = resp.data.decode()
    assert resp.status_code == 422 and 'id="owner_library-err"' in html
    assert "You may only create invoices for your own library." in html
    assert client.get(f"/invoices/{inv_b.id}/edit").status_code == 404
    assert _count() == 1

    resp = client.post("/invoices/new", data=_form(world, vendors.plain, **{"lines-1-fund_2": "",
                                                                            "lines-1-share_1": "100",
                                                                            "lines-1-share_2": ""}))
    assert resp.status_code == 302 and _invoice("F-100").owner_library_id == world.lib_a.id


# -- issue 12, finding 4: amounts beyond the money columns --------------------------------------

@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_H12_04_amounts_beyond_the_money_columns_are_errors_under_their_field(app, world, vendors):
    """A typed total and a computed one (100,000 × 999,999,999,999.00, which SQLite's 64-bit cents
    cannot hold either: OverflowError before) come back as messages on the form; nothing is saved."""
    client = login(app.test_client(), "invoicer")
    html = client.post("/invoices/new", data=_form(world, vendors.plain, total_amount="1000000000000.00")).data.decode()
    assert re.search(r'id="total_amount-err"[^>]*>[^<]*1000000000000.00 is too large', html), html[-3000:]
    resp = client.post("/invoices/new", data=_form(world, vendors.plain, **{
        "lines-0-quantity": "100000", "lines-0-unit_price": "999999999999.00"}))
    html = resp.data.decode()
    assert resp.status_code == 422
    assert re.search(r'class="invoice-line has-error" id="line-1"', html)
    assert "The total on line 1: 99999999999900000.00 is too large" in html
    assert _count() == 0
