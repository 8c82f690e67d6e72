"""Pages of the acquisition method (form, line page, list filter) and of predicted issues (pattern
card on the inventory tab, Receive next issue)."""
from __future__ import annotations

import re
from datetime import date

from app.extensions import db
from app.funds.models import FundTransaction
from app.orders import services as os_
from app.orders.models import POLine
from tests.helpers import login
from tests.orders.helpers import line, sent_line
from tests.orders.test_views import _form

HX = {"HX-Request": "true"}


def _pol(number) -> POLine:
    db.session.expire_all()
    return db.session.scalar(db.select(POLine).filter_by(number=number))


def _transactions() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(FundTransaction))


# -- acquisition method ----------------------------------------------------------------------------

def test_a_gift_is_saved_without_price_or_fund_and_approved_without_encumbrance(app, world, orders):
    client = login(app.test_client(), "buyer")
    form = client.get("/orders/lines/new").data.decode()
    assert 'name="acquisition_method"' in form and "not paid for (no price or fund needed)" in form
    before = _transactions()
    resp = client.post("/orders/lines/new", data=_form(world, orders, acquisition_method="gift", list_price="",
                                                        fund_1="", share_1="", then="approve"))
    assert resp.status_code == 302
    number = re.search(r"(POL-\d{6})", resp.headers["Location"]).group(1)
    pol = _pol(number)
    assert pol.acquisition_method == "gift" and pol.status == "ready" and pol.distribution == []
    assert _transactions() == before
    page = client.get(f"/orders/lines/{number}").data.decode()
    assert "<dt>Acquisition method</dt><dd>Gift" in page and "a gift order is not invoiced" in page


def test_the_form_asks_a_purchase_for_its_price_and_a_gift_to_drop_its_funds(app, world, orders):
    client = login(app.test_client(), "buyer")
    resp = client.post("/orders/lines/new", data=_form(world, orders, list_price=""), headers=HX)
    html = resp.data.decode()
    assert resp.status_code == 422 and 'id="list_price-err"' in html and "Enter the list price" in html
    resp = client.post("/orders/lines/new", data=_form(world, orders, acquisition_method="technical"), headers=HX)
    html = resp.data.decode()
    assert resp.status_code == 422 and "technical order is not paid for, so it takes no fund" in html
    assert db.session.scalar(db.select(db.func.count()).select_from(POLine)) == 0


def test_the_list_filters_by_acquisition_method(app, world, orders):
    admin = world.user("admin")
    gift = line(world, admin, orders.eur, title="Given book", price="", funds=[], acquisition_method="gift")
    bought = line(world, admin, orders.eur, title="Bought book")
    client = login(app.test_client(), "viewer")

    def numbers(url):
        return re.findall(r">(POL-\d{6})<", client.get(url, headers=HX).data.decode())

    assert numbers("/orders/lines/?method=gift") == [gift.number]
    assert numbers("/orders/lines/?method=unpaid") == [gift.number]
    assert numbers("/orders/lines/?method=purchase") == [bought.number]
    assert sorted(numbers("/orders/lines/?method=nonsense")) == sorted([gift.number, bought.number])
    page = client.get("/orders/lines/?method=gift").data.decode()
    assert '<option value="gift" selected>' in page


# -- predicted issues ------------------------------------------------------------------------------

def _serial(world, orders):
    return sent_line(world, world.user("buyer"), orders.eur, order_type="continuous",
                     renewal_date=date(2027, 12, 31), title="Monthly review")


PATTERN = {"frequency": "monthly", "first_date": "2027-01-31", "chronology": "month", "first_volume": "5",
           "first_issue": "12", "issues_per_volume": "12", "predict_ahead": "2"}


def test_the_pattern_is_set_on_the_inventory_tab_and_predicts_issues(app, world, orders):
    pol = _serial(world, orders)
    client = login(app.test_client(), "buyer")
    tab = client.get(f"/orders/lines/{pol.number}?tab=inventory").data.decode()
    assert 'id="pattern-card"' in tab and 'id="receive-next-form"' in tab and "No issue is predicted" in tab
    resp = client.post(f"/orders/lines/{pol.number}/pattern", data=PATTERN, headers=HX)
    html = resp.data.decode()
    assert resp.status_code == 200 and resp.headers["HX-Retarget"] == "#pol-page" and 'id="pol-page"' in html
    assert "v.5 no.12" in html and "(2027 Jan)" in html and "v.6 no.1" in html and "Predicted" in html
    assert "Next predicted issue: <strong>v.5 no.12 (2027 Jan)</strong>" in html
    assert [(i.enumeration, i.expected_date) for i in _pol(pol.number).items] == [
        ("v.5 no.12", date(2027, 1, 31)), ("v.6 no.1", date(2027, 2, 28))]


def test_a_refused_pattern_comes_back_as_the_card_with_its_message(app, world, orders):
    pol = _serial(world, orders)
    client = login(app.test_client(), "buyer")
    resp = client.post(f"/orders/lines/{pol.number}/pattern", data={**PATTERN, "first_issue": "13"}, headers=HX)
    html = resp.data.decode()
    assert resp.status_code == 422 and html.lstrip().startswith('<section id="pattern-card"')
    assert 'id="first_issue-err"' in html and "A volume has 12 issues" in html
    assert _pol(pol.number).pattern is None and _pol(pol.number).items == []
    # without HTMX: the whole page, inventory tab, with the message
    resp = client.post(f"/orders/lines/{pol.number}/pattern", data={**PATTERN, "first_date": ""})
    assert resp.status_code == 422 and "Enter when the first issue to predict is expected" in resp.data.decode()


def test_receive_next_issue_takes_the_predicted_one(app, world, orders):
    pol = _serial(world, orders)
    os_.save_pattern(world.user("buyer"), pol, os_.PatternFields(frequency="monthly", first_date=date(2027, 1, 31),
                                                                 first_volume="5", first_issue="12",
                                                                 issues_per_volume="12", predict_ahead="2"))
    db.session.commit()
    client = login(app.test_client(), "buyer")
    resp = client.post(f"/orders/lines/{pol.number}/receive-next", data={"next-received_date": "2026-12-01"},
                       headers=HX)
    html = resp.data.decode()
    assert resp.status_code == 200 and f"Issue v.5 no.12 (2027 Jan) of {pol.number} received on 2026-12-01." in html
    items = _pol(pol.number).items
    assert [(i.enumeration, i.received_date, i.predicted) for i in items] == [
        ("v.5 no.12", date(2026, 12, 1), True), ("v.6 no.1", None, True), ("v.6 no.2", None, True)]
    # a date in the future is refused, nothing received
    resp = client.post(f"/orders/lines/{pol.number}/receive-next", data={"next-received_date": "2099-01-01"})
    assert resp.status_code == 422 and "cannot be in the future" in resp.data.decode()
    assert sum(1 for i in _pol(pol.number).items if i.received_date) == 1


def test_pattern_and_receive_next_need_a_buyer_of_the_lines_library(app, world, orders):
    pol = _serial(world, orders)
    viewer = login(app.test_client(), "viewer")
    assert viewer.post(f"/orders/lines/{pol.number}/pattern", data=PATTERN).status_code == 403
    assert viewer.post(f"/orders/lines/{pol.number}/receive-next", data={}).status_code == 403
    tab = viewer.get(f"/orders/lines/{pol.number}?tab=inventory").data.decode()
    assert 'id="pattern-card"' in tab and 'id="pattern-form"' not in tab and 'id="receive-next-form"' not in tab
    assert _pol(pol.number).pattern is None


def test_an_invoice_made_from_a_po_leaves_out_its_unpaid_lines(app, world, orders):
    buyer = world.user("buyer")
    bought = line(world, buyer, orders.eur, title="Bought book")
    gift = line(world, buyer, orders.eur, title="Given book", price="", funds=[], acquisition_method="gift")
    po = os_.create_po(buyer, orders.eur, world.lib_a)
    for pol in (bought, gift):
        os_.approve_po_line(buyer, pol)
        os_.package_po_line(buyer, pol, po)
    os_.send_po(buyer, po)
    db.session.commit()
    client = login(app.test_client(), "invoicer")
    html = client.get(f"/invoices/new?po={po.number}").data.decode()
    assert f'value="{bought.number}"' in html and f'value="{gift.number}"' not in html


def test_the_item_page_says_a_predicted_issue_is_predicted(app, world, orders):
    pol = _serial(world, orders)
    os_.save_pattern(world.user("buyer"), pol, os_.PatternFields(frequency="annual", first_date=date(2027, 3, 1),
                                                                 predict_ahead="1"))
    db.session.commit()
    item = pol.items[0]
    page = login(app.test_client(), "viewer").get(f"/inventory/items/{item.id}").data.decode()
    assert "<dt>Predicted</dt>" in page and "expected 2027-03-01" in page
