"""PO line and purchase order pages: list, form, line tabs, actions, cancel confirmation, roles and scope."""
from __future__ import annotations

import re
from decimal import Decimal

from app.extensions import db
from app.funds.models import Fund, FundTransaction
from app.inventory.models import Holding, Item
from app.orders import services as os_
from app.orders.models import POLine, POLineEvent, PurchaseOrder
from tests.helpers import login
from tests.inventory.helpers import make_buyer_a, record
from tests.orders.helpers import confirmed, line

HX = {"HX-Request": "true"}


def _pol(number) -> POLine:
    db.session.expire_all()
    return db.session.scalar(db.select(POLine).filter_by(number=number))


def _encumbered(fund) -> Decimal:
    db.session.expire_all()
    return db.session.get(Fund, fund.id).encumbered


def _form(world, orders, **change) -> dict:
    """A valid new-line form: one copy at 40.00 EUR from EURV for library A, paid by A-BKS."""
    data = {"vendor": str(orders.eur.id), "vendor_account": "", "order_type": "one_time", "material_form": "physical",
            "packaging": "auto", "owner_library": str(world.lib_a.id), "inventory_library": "", "location_code": "",
            "bib_record": "", "title": "Pages and screens", "author": "Doe, Jane", "isbn": "978-0-19-852663-6",
            "issn": "",
            "publisher": "", "publication_date": "", "currency": "", "list_price": "40.00", "discount": "0",
            "quantity": "2", "distribution_method": "percent", "fund_1": str(world.fund_a.id), "share_1": "100",
            "reporting_code": "", "vendor_reference": "VREF-9", "note": "", "expected_receipt_date": "",
            "renewal_date": "", "renewal_period_months": "12"}
    data.update(change)
    return data


# -- list --------------------------------------------------------------------------------------

def test_list_search_filters_sort_and_fragment(app, world, orders):
    admin = world.user("admin")
    alpha = line(world, admin, orders.eur, title="Alpha of algebra", price="10.00", vendor_reference="REF-77")
    beta = line(world, admin, orders.usd, title="Beta of botany", price="30.00", library="b")
    gamma = line(world, admin, orders.eur, title="Gamma of geology", price="20.00", author="Gauss")
    os_.approve_po_line(admin, gamma)
    db.session.commit()
    client = login(app.test_client(), "viewer")

    page = client.get("/orders/lines/")
    html = page.data.decode()
    assert page.status_code == 200 and "<html" in html and 'id="pol-table"' in html
    assert html.index(gamma.number) < html.index(beta.number) < html.index(alpha.number), "newest first"
    assert "HX-Request" in page.headers["Vary"]
    assert "30.00" in html and "USD" in html and "LIBB" in html

    def numbers(url, headers=None):
        return re.findall(r">(POL-\d{6})<", client.get(url, headers=headers or {}).data.decode())

    assert numbers("/orders/lines/?q=botany") == [beta.number]
    assert numbers("/orders/lines/?q=REF-77") == [alpha.number]            # vendor reference
    assert numbers("/orders/lines/?q=gauss") == [gamma.number]             # author
    assert numbers(f"/orders/lines/?q={alpha.number}") == [alpha.number]   # number
    assert numbers("/orders/lines/?status=ready") == [gamma.number]
    assert sorted(numbers("/orders/lines/?status=in_review")) == sorted([alpha.number, beta.number])
    assert len(numbers("/orders/lines/?status=open")) == 3
    assert numbers(f"/orders/lines/?vendor={orders.usd.id}") == [beta.number]
    assert numbers(f"/orders/lines/?fund={world.fund_b.id}") == [beta.number]
    assert sorted(numbers(f"/orders/lines/?library={world.lib_a.id}")) == sorted([alpha.number, gamma.number])
    assert numbers("/orders/lines/?sort=price") == [alpha.number, gamma.number, beta.number]
    assert numbers("/orders/lines/?sort=-price") == [beta.number, gamma.number, alpha.number]
    assert numbers("/orders/lines/?sort=title") == [alpha.number, beta.number, gamma.number]

    frag = client.get("/orders/lines/?q=botany", headers=HX)
    text = frag.data.decode()
    assert frag.status_code == 200 and "<html" not in text and text.strip().startswith('<div id="pol-table"')
    assert beta.number in text and alpha.number not in text
    # sorting links keep the filter and are real links that HTMX also follows
    sorted_url = "/orders/lines/?q=botany&amp;sort=-price"   # an amount: largest first
    assert f'href="{sorted_url}"' in text and f'hx-get="{sorted_url}"' in text
    # a library-scoped viewer sees only its library's lines
    mine = numbers_for(app, "viewer-a", "/orders/lines/")
    assert sorted(mine) == sorted([alpha.number, gamma.number])


def numbers_for(app, user, url):
    return re.findall(r">(POL-\d{6})<", login(app.test_client(), user).get(url).data.decode())


def test_list_pages_by_25(app, world, orders):
    admin = world.user("admin")
    for n in range(27):
        os_.create_po_line(admin, os_.POLineFields(vendor=orders.eur, title=f"Serial {n:02d}", list_price="1.00",
                                                   owner_library=world.lib_a, inventory_library=world.lib_a))
    db.session.commit()
    client = login(app.test_client(), "viewer")
    first = client.get("/orders/lines/?sort=title").data.decode()
    assert "Serial 24" in first and "Serial 25" not in first and "Page 1 of 2" in first
    assert 'href="/orders/lines/?sort=title&amp;page=2"' in first
    second = client.get("/orders/lines/?sort=title&page=2", headers=HX).data.decode()
    assert "Serial 25" in second and "Serial 26" in second and "Serial 00" not in second


# -- the form ----------------------------------------------------------------------------------

def test_form_errors_come_back_on_the_form(app, world, orders):
    client = login(app.test_client(), "buyer")
    page = client.get("/orders/lines/new")
    assert page.status_code == 200 and b'name="fund_5"' in page.data and b"Save and approve" in page.data

    before = db.session.scalar(db.select(db.func.count()).select_from(POLine))
    resp = client.post("/orders/lines/new", data=_form(world, orders, share_1="60"))
    assert resp.status_code == 422
    assert b"The fund percents add up to 60" in resp.data and b'id="distribution-err"' in resp.data

    two = _form(world, orders, distribution_method="amount", fund_1=str(world.fund_a.id), share_1="50.00",
                fund_2=str(world.shared.id), share_2="20.00")
    resp = client.post("/orders/lines/new", data=two)
    assert resp.status_code == 422 and b"the net price is 80.00 EUR" in resp.data

    resp = client.post("/orders/lines/new", data=_form(world, orders, list_price="abc"), headers=HX)
    text = resp.data.decode()
    assert resp.status_code == 422 and text.strip().startswith('<form id="pol-form"') and "<html" not in text
    assert re.search(r'has-error">\s*<label for="list_price"', text), "the message sits on the list price"

    resp = client.post("/orders/lines/new", data=_form(world, orders, title=""))
    assert resp.status_code == 422 and b"The title is required" in resp.data
    resp = client.post("/orders/lines/new", data=_form(world, orders, order_type="continuous"))
    assert resp.status_code == 422 and b"needs its renewal date" in resp.data
    resp = client.post("/orders/lines/new", data=_form(world, orders, share_1="", fund_1="", fund_2="",
                                                       share_2="50"))
    assert resp.status_code == 422 and b"Choose the fund of distribution row 2" in resp.data
    assert db.session.scalar(db.select(db.func.count()).select_from(POLine)) == before


def test_create_with_a_picked_record_and_edit(app, world, orders):
    rec = record(world.user("admin"), "The Silmarillion", author="Tolkien", isbn="978-0-261-10273-6")
    db.session.commit()
    client = login(app.test_client(), "buyer")
    results = client.get("/orders/records?q=silmarillion", headers=HX).data.decode()
    assert 'id="record-results"' in results and "The Silmarillion" in results
    assert f'hx-get="/orders/records?pick={rec.id}"' in results and f'href="/orders/records?pick={rec.id}"' in results
    picked = client.get(f"/orders/records?pick={rec.id}", headers=HX).data.decode()
    assert picked.strip().startswith('<div id="bib-record-field"') and f'value="{rec.id}"' in picked
    assert f"Record ID <strong>{rec.id}</strong>" in client.get(f"/orders/records?pick={rec.id}").data.decode()

    resp = client.post("/orders/lines/new", data=_form(world, orders, bib_record=str(rec.id), title="", author=""))
    assert resp.status_code == 302
    pol = db.session.scalar(db.select(POLine).order_by(POLine.id.desc()))
    assert pol.bib_record_id == rec.id and pol.title == "The Silmarillion" and pol.author == "Tolkien"
    assert pol.net_price == Decimal("80.00") and pol.currency == "EUR" and len(pol.items) == 2

    edit = client.get(f"/orders/lines/{pol.number}/edit").data.decode()
    assert 'value="40.00"' in edit and 'value="VREF-9"' in edit
    assert f'<option selected value="{world.fund_a.id}">' in edit
    resp = client.post(f"/orders/lines/{pol.number}/edit",
                       data=_form(world, orders, bib_record=str(rec.id), title="The Silmarillion", quantity="3"),
                       headers=HX)
    assert resp.status_code == 204 and resp.headers["HX-Redirect"] == f"/orders/lines/{pol.number}"
    pol = _pol(pol.number)
    assert pol.quantity == 3 and pol.net_price == Decimal("120.00") and len(pol.items) == 3
    history = client.get(f"/orders/lines/{pol.number}?tab=history").data.decode()
    assert "quantity" in history and "2</span> → <span class=\"new\">3" in history


# -- the whole path through the pages ----------------------------------------------------------

def test_create_approve_send_receive_through_the_pages(app, world, orders):
    client = login(app.test_client(), "buyer")
    resp = client.post("/orders/lines/new", data=_form(world, orders, then="approve"))
    assert resp.status_code == 302
    number = resp.headers["Location"].rsplit("/", 1)[1]
    pol = _pol(number)
    assert pol.status == "ready" and _encumbered(world.fund_a) == Decimal("80.00")

    funds = client.get(f"/orders/lines/{number}?tab=funds").data.decode()
    assert f'href="/funds/{world.fund_a.id}"' in funds and "80.00 EUR" in funds and "Ready" in funds
    page = client.get(f"/orders/lines/{number}").data.decode()
    assert f'action="/orders/lines/{number}/send"' in page and f"/orders/lines/{number}/approve" not in page

    resp = client.post(f"/orders/lines/{number}/send", headers=HX)
    text = resp.data.decode()
    assert resp.status_code == 200 and '<div id="pol-page">' in text and "<html" not in text
    assert re.search(r'<div id="status"[^>]*hx-swap-oob="true"><p class="flash ok">[^<]*sent to EURV', text)
    pol = _pol(number)
    assert pol.status == "sent" and pol.po.status == "sent" and f"sent to EURV with {pol.po.number}" in text
    assert "status-sent" in text and "Receive…" in text

    inventory = client.get(f"/orders/lines/{number}?tab=inventory").data.decode()
    item_ids = [str(i.id) for i in pol.items]
    assert all(f'value="{i}"' in inventory for i in item_ids) and 'id="receive-form"' in inventory
    # nothing ticked: refused on the form, nothing received
    resp = client.post(f"/orders/lines/{number}/receive", data={"received_date": "2026-01-05"})
    assert resp.status_code == 422 and b"Tick the items that arrived" in resp.data
    resp = client.post(f"/orders/lines/{number}/receive", data={"items": item_ids[:1], "received_date": "2026-01-05"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("tab=inventory")
    assert _pol(number).status == "sent"
    resp = client.post(f"/orders/lines/{number}/receive", data={"items": item_ids[1:], "received_date": "2026-01-06"},
                       headers=HX)
    assert resp.status_code == 200 and b"Waiting for Invoice" in resp.data and b"2026-01-06" in resp.data
    pol = _pol(number)
    assert pol.status == "waiting_for_invoice" and all(i.received_date for i in pol.items)

    # close releases the encumbrance, shown on the funds tab and the fund page
    assert client.post(f"/orders/lines/{number}/close").status_code == 302
    assert _pol(number).status == "closed" and _encumbered(world.fund_a) == Decimal("0.00")
    assert "0.00 EUR" in client.get(f"/orders/lines/{number}?tab=funds").data.decode()
    po_page = client.get(f"/orders/pos/{pol.po.number}").data.decode()
    assert number in po_page and "Closed" in po_page


def test_manual_packaging_and_po_pages(app, world, orders):
    admin = world.user("admin")
    one = line(world, admin, orders.eur, title="Manual one", packaging="manual")
    auto = line(world, admin, orders.eur, title="Automatic one")
    os_.approve_po_line(admin, one)
    os_.approve_po_line(admin, auto)
    db.session.commit()
    client = login(app.test_client(), "buyer")
    page = client.get(f"/orders/lines/{one.number}").data.decode()
    assert 'name="po"' in page and "a new purchase order" in page
    assert client.post(f"/orders/lines/{one.number}/package", data={"po": ""}).status_code == 302
    one = _pol(one.number)
    assert one.status == "manual_packaging" and one.po.status == "open"
    po_number = one.po.number
    po_page = client.get(f"/orders/pos/{po_number}").data.decode()
    assert f'action="/orders/pos/{po_number}/send"' in po_page
    listing = client.get("/orders/pos/").data.decode()
    assert po_number in listing and "Package and send ready lines (1)" in listing
    assert client.post("/orders/pos/package", data={"ready": confirmed(client)}).status_code == 302
    assert _pol(auto.number).status == "sent"
    assert client.post(f"/orders/pos/{po_number}/send").status_code == 302
    assert _pol(one.number).status == "sent"
    assert po_number in client.get("/orders/pos/?status=sent", headers=HX).data.decode()
    assert po_number not in client.get("/orders/pos/?status=open", headers=HX).data.decode()
    # the vendor's orders tab lists both
    tab = client.get(f"/vendors/{orders.eur.id}?tab=orders").data.decode()
    assert f'hx-get="/orders/by-vendor/{orders.eur.id}"' in tab   # it loads the orders' own fragment
    tab = client.get(f"/orders/by-vendor/{orders.eur.id}", headers={"HX-Request": "true"}).data.decode()
    assert po_number in tab and one.number in tab and auto.number in tab


def test_refused_action_changes_nothing(app, world, orders):
    pol = line(world, world.user("admin"), orders.eur)
    client = login(app.test_client(), "buyer")
    resp = client.post(f"/orders/lines/{pol.number}/close", headers=HX)
    assert resp.status_code == 422 and resp.headers["HX-Retarget"] == "#problems"
    assert b"you cannot close it" in resp.data
    resp = client.post(f"/orders/lines/{pol.number}/close")
    assert resp.status_code == 422 and b"you cannot close it" in resp.data
    assert _pol(pol.number).status == "in_review"
    # an approval a fund cannot afford is refused, nothing encumbered
    big = line(world, world.user("admin"), orders.eur, price="5000.00")
    resp = client.post(f"/orders/lines/{big.number}/approve", headers=HX)
    assert resp.status_code == 422 and _pol(big.number).status == "in_review"
    assert _encumbered(world.fund_a) == 0


# -- roles and scope ---------------------------------------------------------------------------

def _actions_in(html, number):
    """The action URLs of the line's action bar (empty when the bar is not there)."""
    bar = re.search(r'<div class="pol-actions".*?</div>', html, re.S)
    return re.findall(rf'/orders/lines/{number}/(\w[\w-]*)"', bar.group(0)) if bar else []


def test_viewer_and_other_librarys_buyer_see_no_buttons_and_are_refused(app, world, orders):
    admin = world.user("admin")
    pol_b = line(world, admin, orders.eur, library="b", title="Line of B")
    pol_inst = line(world, admin, orders.eur, library=None, title="Institution line")
    make_buyer_a(world)
    # buyer-a also views the institution: sees the institution line but may not order for it
    from app.auth.models import Role
    from app.auth.services import add_role, create_user
    from tests.helpers import PASSWORD
    watcher = create_user(None, "buyer-a-viewer", PASSWORD, roles=[(Role.PURCHASING_OPERATOR, world.lib_a)])
    add_role(None, watcher, Role.VIEWER, None)
    db.session.commit()
    counts = (db.session.scalar(db.select(db.func.count()).select_from(POLineEvent)),
              db.session.scalar(db.select(db.func.count()).select_from(FundTransaction)))

    viewer = login(app.test_client(), "viewer")
    page = viewer.get(f"/orders/lines/{pol_b.number}").data.decode()
    assert "status-in-review" in page and _actions_in(page, pol_b.number) == []
    assert "New PO line" not in viewer.get("/orders/lines/").data.decode()
    for action in ("approve", "defer", "send", "close", "cancel", "edit", "receive"):
        assert viewer.post(f"/orders/lines/{pol_b.number}/{action}", data={"reason": "x"}).status_code == 403
    assert viewer.get(f"/orders/lines/{pol_b.number}/cancel").status_code == 403

    buyer_a = login(app.test_client(), "buyer-a")
    assert buyer_a.get(f"/orders/lines/{pol_b.number}").status_code == 404
    for action in ("approve", "defer", "cancel", "edit"):
        assert buyer_a.post(f"/orders/lines/{pol_b.number}/{action}", data={"reason": "x"}).status_code == 404
        assert buyer_a.post(f"/orders/lines/{pol_b.number}/{action}", headers=HX).status_code == 404

    both = login(app.test_client(), "buyer-a-viewer")
    page = both.get(f"/orders/lines/{pol_inst.number}").data.decode()
    assert page and _actions_in(page, pol_inst.number) == []
    for action in ("approve", "defer", "cancel", "edit"):
        assert both.post(f"/orders/lines/{pol_inst.number}/{action}", data={"reason": "x"}).status_code == 403
    assert both.get(f"/orders/lines/{pol_inst.number}/edit").status_code == 403
    # its own library's line shows the buttons
    own = line(world, admin, orders.eur, title="Line of A")
    page = both.get(f"/orders/lines/{own.number}").data.decode()
    assert {"approve", "defer", "edit", "cancel"} <= set(_actions_in(page, own.number))

    assert (_pol(pol_b.number).status, _pol(pol_inst.number).status) == ("in_review", "in_review")
    assert (db.session.scalar(db.select(db.func.count()).select_from(POLineEvent)) == counts[0] + 1  # "Line of A"
            and db.session.scalar(db.select(db.func.count()).select_from(FundTransaction)) == counts[1])


# -- cancel ------------------------------------------------------------------------------------

def test_cancel_confirmation_lists_what_is_deleted(app, world, orders):
    admin = world.user("admin")
    pol = line(world, admin, orders.eur, quantity=3, title="Three copies")
    os_.approve_po_line(admin, pol)
    os_.send_po_line(admin, pol)
    os_.receive_po_line(admin, pol, [pol.items[0]])
    db.session.commit()
    pol = _pol(pol.number)
    doomed = [i.id for i in pol.items[1:]]
    client = login(app.test_client(), "buyer")
    page = client.get(f"/orders/lines/{pol.number}/cancel").data.decode()
    assert "Cancelling deletes inventory" in page and "2 item(s)" in page
    assert page.count("<li>Item Copy") == 3  # two deleted, one kept
    assert "received" in page and "A-BKS</a>: 300.00 EUR" in page
    assert 'name="reason"' in page

    frag = client.get(f"/orders/lines/{pol.number}/cancel", headers=HX).data.decode()
    assert frag.strip().startswith('<div id="pol-page">') and "Cancelling deletes inventory" in frag

    resp = client.post(f"/orders/lines/{pol.number}/cancel", data={"reason": ""})
    assert resp.status_code == 422 and b"Give the reason" in resp.data and _pol(pol.number).status == "sent"
    resp = client.post(f"/orders/lines/{pol.number}/cancel", data={"reason": "Out of print"})
    assert resp.status_code == 302
    pol = _pol(pol.number)
    assert pol.status == "cancelled" and pol.cancel_reason == "Out of print"
    assert all(db.session.get(Item, i) is None for i in doomed) and len(pol.items) == 1
    assert _encumbered(world.fund_a) == 0
    shown = client.get(f"/orders/lines/{pol.number}").data.decode()
    assert "2 item(s) and 0 holding(s) deleted" in shown and "Out of print" in shown
    assert client.get(f"/orders/lines/{pol.number}/cancel").status_code == 302  # nothing left to cancel


def test_cancel_shared_po_keeps_inventory(app, world, orders):
    admin = world.user("admin")
    one = line(world, admin, orders.eur, title="First")
    two = line(world, admin, orders.eur, title="Second")
    for pol in (one, two):
        os_.approve_po_line(admin, pol)
    os_.package_ready_lines(admin, [one, two])
    db.session.commit()
    page = login(app.test_client(), "buyer").get(f"/orders/lines/{one.number}/cancel").data.decode()
    assert "Cancelling deletes inventory" not in page and "its inventory is kept" in page
    assert db.session.scalar(db.select(db.func.count()).select_from(Holding)) == 2


# -- vendor and reference changes --------------------------------------------------------------

def test_vendor_and_reference_changes(app, world, orders):
    admin = world.user("admin")
    pol = line(world, admin, orders.eur, title="Old title")
    client = login(app.test_client(), "buyer")
    resp = client.get(f"/orders/lines/{pol.number}/change-vendor")
    assert resp.status_code == 302  # In Review: not allowed; the line's page says why
    assert b"you cannot change the vendor" in client.get(f"/orders/lines/{pol.number}").data
    os_.approve_po_line(admin, pol)
    os_.send_po_line(admin, pol)
    db.session.commit()
    old_po = _pol(pol.number).po.number

    form = client.get(f"/orders/lines/{pol.number}/change-vendor").data.decode()
    assert f'value="{orders.other.id}"' in form and f'value="{orders.eur.id}"' not in form
    resp = client.post(f"/orders/lines/{pol.number}/change-vendor", data={"vendor": str(orders.other.id)})
    assert resp.status_code == 302
    pol = _pol(pol.number)
    assert pol.vendor.code == "OTHV" and pol.po.number != old_po and pol.po.status == "sent"
    assert db.session.scalar(db.select(PurchaseOrder).filter_by(number=old_po)) is None

    rec = record(admin, "New title", author="Someone")
    db.session.commit()
    page = client.get(f"/orders/lines/{pol.number}/relink?q=new+title").data.decode()
    assert "New title" in page and 'name="record_id"' in page
    resp = client.post(f"/orders/lines/{pol.number}/change-reference", data={"record_id": str(rec.id)}, headers=HX)
    assert resp.status_code == 204
    pol = _pol(pol.number)
    assert pol.title == "New title" and pol.bib_record_id != rec.id
    resp = client.post(f"/orders/lines/{pol.number}/relink", data={"record_id": str(rec.id)})
    assert resp.status_code == 302
    pol = _pol(pol.number)
    assert pol.bib_record_id == rec.id and all(h.bib_record_id == rec.id for h in pol.holdings)
    resp = client.post(f"/orders/lines/{pol.number}/relink", data={"record_id": str(rec.id)})
    assert resp.status_code == 422 and b"already linked" in resp.data


def test_electronic_line_is_activated(app, world, orders):
    admin = world.user("admin")
    pol = line(world, admin, orders.eur, material_form="electronic", title="E-book")
    os_.approve_po_line(admin, pol)
    os_.send_po_line(admin, pol)
    db.session.commit()
    client = login(app.test_client(), "buyer")
    tab = client.get(f"/orders/lines/{pol.number}?tab=inventory").data.decode()
    assert 'id="activate-form"' in tab and 'id="receive-form"' not in tab
    resp = client.post(f"/orders/lines/{pol.number}/activate", data={"activation_date": "2999-01-01"})
    assert resp.status_code == 422 and b"cannot be in the future" in resp.data
    resp = client.post(f"/orders/lines/{pol.number}/activate", data={"activation_date": "2026-01-02"}, headers=HX)
    assert resp.status_code == 200 and b"activated on 2026-01-02" in resp.data
    assert _pol(pol.number).status == "waiting_for_invoice"
