"""PO line actions through their pages, each where its status allows it and where it does not:
renew, reopen, defer/resume, replace and change vendor, manual packaging into an open PO then
sending it, change reference and relink; the notes of the action bar, the flashed messages an
HTMX answer clears, and the currency the vendor select shows on the line form."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from app import clock
from app.extensions import db
from app.funds.models import Fund, FundTransaction
from app.inventory.models import Holding
from app.orders import services as os_
from app.orders.models import POLine, POLineEvent, PurchaseOrder
from tests.helpers import login
from tests.inventory.helpers import record
from tests.orders.helpers import line, sent_line as _sent

HX = {"HX-Request": "true"}
CLEAR_FLASHES = '<div id="flashes" class="flashes" hx-swap-oob="true"></div>'


def _pol(number) -> POLine:
    db.session.expire_all()
    return db.session.scalar(db.select(POLine).filter_by(number=number))


def _encumbered(fund) -> Decimal:
    db.session.expire_all()
    return db.session.get(Fund, fund.id).encumbered


def _count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))




def _actions_in(html, number):
    """The action URLs of the line's action bar (empty when the bar is not there)."""
    bar = re.search(r'<div class="pol-actions".*?</div>', html, re.S)
    return set(re.findall(rf'/orders/lines/{number}/(\w[\w-]*)"', bar.group(0))) if bar else set()


def _page(client, number, tab=None) -> str:
    resp = client.get(f"/orders/lines/{number}" + (f"?tab={tab}" if tab else ""))
    assert resp.status_code == 200
    return resp.data.decode()


def _state(number) -> tuple:
    """What a refused action must leave as it was."""
    pol = _pol(number)
    return (pol.status, pol.vendor_id, pol.po_id, pol.bib_record_id, pol.title, pol.renewal_date,
            [h.bib_record_id for h in pol.holdings], _count(POLineEvent), _count(FundTransaction),
            _count(PurchaseOrder))


def _refused(client, number, path, *message, data=None, headers=None) -> str:
    """POST an action the line's status forbids: 422 with the transition table's message, nothing changed."""
    before = _state(number)
    resp = client.post(f"/orders/lines/{number}/{path}", data=data or {}, headers=headers or {})
    text = resp.data.decode()
    assert resp.status_code == 422, (path, resp.status_code)
    for part in message:
        assert part in text, part
    assert _state(number) == before
    return text


def _edit_form(world, pol: POLine, **change) -> dict:
    """The line form as the edit page shows ``pol`` (one fund at 100 %), with ``change`` applied."""
    data = {"vendor": str(pol.vendor_id), "vendor_account": "", "order_type": pol.order_type,
            "material_form": pol.material_form, "packaging": pol.packaging, "owner_library": str(pol.owner_library_id),
            "inventory_library": "", "location_code": "", "bib_record": str(pol.bib_record_id or ""),
            "title": pol.title, "author": pol.author, "isbn": pol.isbn, "issn": "", "publisher": "",
            "publication_date": "", "currency": pol.currency, "list_price": str(pol.list_price), "discount": "0",
            "quantity": str(pol.quantity), "distribution_method": "percent", "fund_1": str(world.fund_a.id),
            "share_1": "100", "reporting_code": "", "vendor_reference": "", "note": "", "expected_receipt_date": "",
            "renewal_date": "", "renewal_period_months": "12"}
    data.update(change)
    return data


# -- renew -------------------------------------------------------------------------------------

def test_renew_a_line_waiting_for_manual_renewal(app, world, orders):
    admin = world.user("admin")
    due = clock.today() + timedelta(days=10)
    pol = _sent(world, admin, orders.eur, order_type="continuous", renewal_date=due, manual_renewal=True,
                title="Journal of renewals")
    assert os_.process_renewals(admin, clock.today())["waiting_manual"] == 1
    db.session.commit()
    client = login(app.test_client(), "buyer")
    page = _page(client, pol.number)
    assert "Waiting for Manual Renewal" in page and {"renew", "close"} <= _actions_in(page, pol.number)

    resp = client.post(f"/orders/lines/{pol.number}/renew", data={"note": "Price for 2027 agreed"}, headers=HX)
    text = resp.data.decode()
    renewed = _pol(pol.number)
    assert resp.status_code == 200 and '<div id="pol-page">' in text and "<html" not in text
    assert renewed.status == "sent" and renewed.renewal_date == due.replace(year=due.year + 1)
    assert f"renewed until {renewed.renewal_date.isoformat()}" in text and CLEAR_FLASHES in text
    assert "renew" not in _actions_in(text, pol.number)
    history = _page(client, pol.number, "history")
    assert "Price for 2027 agreed" in history and due.isoformat() in history


def test_renew_is_refused_while_the_line_is_sent(app, world, orders):
    pol = _sent(world, world.user("admin"), orders.eur, order_type="continuous",
                renewal_date=clock.today() + timedelta(days=200))
    client = login(app.test_client(), "buyer")
    page = _page(client, pol.number)
    assert "renew" not in _actions_in(page, pol.number) and "close" in _actions_in(page, pol.number)
    _refused(client, pol.number, "renew", f"{pol.number} is Sent: you cannot renew it",
             "A continuous PO line allows this only when Waiting for Renewal, Waiting for Manual Renewal.")


# -- reopen ------------------------------------------------------------------------------------

def test_reopen_edit_and_approve_again(app, world, orders):
    admin = world.user("admin")
    pol = _sent(world, admin, orders.eur, title="Closed too early")
    os_.receive_po_line(admin, pol)
    os_.close_po_line(admin, pol)
    db.session.commit()
    assert _encumbered(world.fund_a) == 0
    client = login(app.test_client(), "buyer")
    page = _page(client, pol.number)
    assert _actions_in(page, pol.number) == {"reopen", "change-reference", "relink"}

    resp = client.post(f"/orders/lines/{pol.number}/reopen", data={"note": "The invoice was wrong"})
    assert resp.status_code == 302
    assert _pol(pol.number).status == "in_review" and _pol(pol.number).po.status == "sent"
    page = _page(client, pol.number)
    assert "reopened: edit it and approve it again" in page
    assert {"edit", "approve", "defer"} <= _actions_in(page, pol.number)
    assert "The invoice was wrong" in _page(client, pol.number, "history")
    assert re.search(r'<td class="num muted">released</td>', _page(client, pol.number, "funds"))

    assert client.get(f"/orders/lines/{pol.number}/edit").status_code == 200
    resp = client.post(f"/orders/lines/{pol.number}/edit",
                       data=_edit_form(world, _pol(pol.number), list_price="120.00", then="approve"))
    assert resp.status_code == 302
    again = _pol(pol.number)
    # back on its PO, which was sent already: the line is Sent again and encumbers its new price
    assert again.status == "sent" and again.net_price == Decimal("120.00")
    assert _encumbered(world.fund_a) == Decimal("120.00")
    funds = _page(client, pol.number, "funds")
    assert 'data-fund="A-BKS">120.00 EUR' in funds and "not approved" not in funds


def test_reopen_is_refused_unless_closed(app, world, orders):
    pol = line(world, world.user("admin"), orders.eur)
    client = login(app.test_client(), "buyer")
    assert "reopen" not in _actions_in(_page(client, pol.number), pol.number)
    _refused(client, pol.number, "reopen", f"{pol.number} is In Review: you cannot reopen it",
             "A one-time PO line allows this only when Closed.")


# -- defer / resume ----------------------------------------------------------------------------

def test_defer_and_resume(app, world, orders):
    pol = line(world, world.user("admin"), orders.eur)
    client = login(app.test_client(), "buyer")
    acts = _actions_in(_page(client, pol.number), pol.number)
    assert "defer" in acts and "resume" not in acts

    resp = client.post(f"/orders/lines/{pol.number}/defer", data={"note": "Wait for the new budget"}, headers=HX)
    text = resp.data.decode()
    assert resp.status_code == 200 and f"{pol.number} deferred." in text and "The note is kept" in text
    assert _pol(pol.number).status == "deferred"
    acts = _actions_in(text, pol.number)
    assert "resume" in acts and "defer" not in acts and "approve" in acts

    assert client.post(f"/orders/lines/{pol.number}/resume").status_code == 302
    assert _pol(pol.number).status == "in_review"
    history = _page(client, pol.number, "history")
    assert "Wait for the new budget" in history and "resume" in history


def test_defer_and_resume_refused_in_the_wrong_status(app, world, orders):
    admin = world.user("admin")
    pol = line(world, admin, orders.eur)
    client = login(app.test_client(), "buyer")
    _refused(client, pol.number, "resume", f"{pol.number} is In Review: you cannot resume it",
             "A one-time PO line allows this only when Deferred.")
    os_.defer_po_line(admin, pol)
    db.session.commit()
    assert "defer" not in _actions_in(_page(client, pol.number), pol.number)
    text = _refused(client, pol.number, "defer", f"{pol.number} is Deferred: you cannot defer it",
                    "allows this only when In Review.", headers=HX)
    # HTMX: the message goes to the alert area; out of band the (maybe stale) page shows the line as
    # it is now, with Resume instead of Defer, and the older flashed messages are cleared
    assert text.startswith('<p class="flash error">') and CLEAR_FLASHES in text
    page = text[text.index('<div id="pol-page" hx-swap-oob="true">'):]
    assert "status-deferred" in page and _actions_in(page, pol.number) >= {"resume", "approve"}
    assert "defer" not in _actions_in(page, pol.number)


# -- replace vendor / change vendor ------------------------------------------------------------

def test_replace_vendor_through_its_form(app, world, orders):
    pol = _sent(world, world.user("admin"), orders.eur)
    po_number = _pol(pol.number).po.number
    client = login(app.test_client(), "buyer")
    assert {"replace-vendor", "change-vendor"} <= _actions_in(_page(client, pol.number), pol.number)
    form = client.get(f"/orders/lines/{pol.number}/replace-vendor").data.decode()
    assert "Replace the vendor" in form and f'value="{orders.other.id}"' in form
    resp = client.post(f"/orders/lines/{pol.number}/replace-vendor", data={"vendor": str(orders.other.id)})
    assert resp.status_code == 302
    pol = _pol(pol.number)
    assert pol.vendor.code == "OTHV" and pol.po.number == po_number and pol.status == "sent"
    assert _count(PurchaseOrder) == 1
    page = _page(client, pol.number)
    assert "vendor EURV replaced by OTHV" in page and f'href="/vendors/{orders.other.id}"' in page


def test_replace_vendor_refused_in_review(app, world, orders):
    pol = line(world, world.user("admin"), orders.eur)
    client = login(app.test_client(), "buyer")
    assert "replace-vendor" not in _actions_in(_page(client, pol.number), pol.number)
    assert client.get(f"/orders/lines/{pol.number}/replace-vendor").status_code == 302
    _refused(client, pol.number, "replace-vendor", f"{pol.number} is In Review: you cannot replace the vendor of it",
             "A one-time PO line allows this only when Sent, Waiting for Invoice.",
             data={"vendor": str(orders.other.id)})


def test_change_vendor_moves_the_line_to_a_new_po(app, world, orders):
    admin = world.user("admin")
    alone = _sent(world, admin, orders.eur, title="Alone on its order")
    one = line(world, admin, orders.eur, title="Shares an order")
    two = line(world, admin, orders.eur, title="Stays on it")
    for pol in (one, two):
        os_.approve_po_line(admin, pol)
    os_.package_ready_lines(admin, [one, two])
    db.session.commit()
    old_alone, old_shared = _pol(alone.number).po.number, _pol(one.number).po.number
    client = login(app.test_client(), "buyer")
    assert "change-vendor" in _actions_in(_page(client, alone.number), alone.number)

    resp = client.post(f"/orders/lines/{alone.number}/change-vendor", data={"vendor": str(orders.other.id)},
                       headers=HX)
    assert resp.status_code == 204 and resp.headers["HX-Redirect"] == f"/orders/lines/{alone.number}"
    moved = _pol(alone.number)
    assert moved.vendor.code == "OTHV" and moved.po.number != old_alone and moved.po.status == "sent"
    assert db.session.scalar(db.select(PurchaseOrder).filter_by(number=old_alone)) is None  # emptied: deleted
    page = _page(client, alone.number)
    assert f'href="/orders/pos/{moved.po.number}"' in page and old_alone not in page
    assert f"now ordered from OTHV with {moved.po.number}" in page

    assert client.post(f"/orders/lines/{one.number}/change-vendor",
                       data={"vendor": str(orders.other.id)}).status_code == 302
    kept = db.session.scalar(db.select(PurchaseOrder).filter_by(number=old_shared))
    assert kept is not None and [p.number for p in kept.lines] == [two.number]
    assert _pol(one.number).po.number not in (old_shared, moved.po.number)


def test_change_vendor_refused_once_received(app, world, orders):
    admin = world.user("admin")
    pol = _sent(world, admin, orders.eur)
    os_.receive_po_line(admin, pol)
    db.session.commit()
    client = login(app.test_client(), "buyer")
    acts = _actions_in(_page(client, pol.number), pol.number)
    assert "change-vendor" not in acts and "replace-vendor" in acts  # Waiting for Invoice
    _refused(client, pol.number, "change-vendor",
             f"{pol.number} is Waiting for Invoice: you cannot change the vendor of it",
             "A one-time PO line allows this only when Sent.", data={"vendor": str(orders.other.id)})


# -- manual packaging into an open PO, then sending the PO ---------------------------------------

def test_package_into_an_open_po_and_send_it_from_the_po_page(app, world, orders):
    admin = world.user("admin")
    first = line(world, admin, orders.eur, title="First manual", packaging="manual")
    second = line(world, admin, orders.eur, title="Second manual", packaging="manual")
    for pol in (first, second):
        os_.approve_po_line(admin, pol)
    po = os_.package_po_line(admin, first)
    db.session.commit()
    client = login(app.test_client(), "buyer")
    page = _page(client, second.number)
    assert "package" in _actions_in(page, second.number)
    assert f'<option value="{po.id}">{po.number} (1 line)</option>' in page

    resp = client.post(f"/orders/lines/{second.number}/package", data={"po": str(po.id)}, headers=HX)
    assert resp.status_code == 200 and f"packaged into {po.number}" in resp.data.decode()
    assert _pol(second.number).status == "manual_packaging" and _pol(second.number).po_id == po.id
    # its send button sends the whole order, and says so
    assert f"Send {po.number} to EURV</button>" in resp.data.decode()
    assert f'hx-confirm="Send {po.number} to EURV with its 2 lines?"' in resp.data.decode()

    po_page = client.get(f"/orders/pos/{po.number}").data.decode()
    assert first.number in po_page and second.number in po_page
    assert f'action="/orders/pos/{po.number}/send"' in po_page
    assert client.post(f"/orders/pos/{po.number}/send").status_code == 302
    assert (_pol(first.number).status, _pol(second.number).status) == ("sent", "sent")
    po_page = client.get(f"/orders/pos/{po.number}").data.decode()
    assert f"{po.number} sent to EURV." in po_page and f'action="/orders/pos/{po.number}/send"' not in po_page

    # sent: it cannot be sent again, and nothing changes
    events = _count(POLineEvent)
    resp = client.post(f"/orders/pos/{po.number}/send")
    assert resp.status_code == 422 and b"only an order being packaged can be sent" in resp.data
    assert _count(POLineEvent) == events


def test_package_refused_in_review(app, world, orders):
    pol = line(world, world.user("admin"), orders.eur, packaging="manual")
    client = login(app.test_client(), "buyer")
    page = _page(client, pol.number)
    assert "package" not in _actions_in(page, pol.number) and 'name="po"' not in page
    _refused(client, pol.number, "package", f"{pol.number} is In Review: you cannot package it",
             "A one-time PO line allows this only when Ready.", data={"po": ""})


# -- bibliographic reference -------------------------------------------------------------------

def test_change_reference_and_relink_through_the_record_search(app, world, orders):
    admin = world.user("admin")
    pol = _sent(world, admin, orders.eur, title="Provisional title", quantity=2)
    old_record = _pol(pol.number).bib_record_id
    better = record(admin, "Definitive title", author="Writer, Wanda", isbn="978-0-00-000000-2")
    db.session.commit()
    client = login(app.test_client(), "buyer")
    assert {"change-reference", "relink"} <= _actions_in(_page(client, pol.number), pol.number)

    search = client.get(f"/orders/lines/{pol.number}/change-reference?q=definitive").data.decode()
    assert "Definitive title" in search and f'name="record_id" value="{better.id}"' in search
    resp = client.post(f"/orders/lines/{pol.number}/change-reference", data={"record_id": str(better.id)})
    assert resp.status_code == 302
    described = _pol(pol.number)
    assert (described.title, described.author) == ("Definitive title", "Writer, Wanda")
    assert described.bib_record_id == old_record and all(h.bib_record_id == old_record for h in described.holdings)

    fragment = client.get(f"/orders/lines/{pol.number}/relink?q=definitive", headers=HX).data.decode()
    assert fragment.strip().startswith('<div id="pol-page">') and "Relink to this" in fragment
    resp = client.post(f"/orders/lines/{pol.number}/relink", data={"record_id": str(better.id)}, headers=HX)
    assert resp.status_code == 204
    relinked = _pol(pol.number)
    assert relinked.bib_record_id == better.id and relinked.holdings
    assert all(h.bib_record_id == better.id for h in relinked.holdings)
    assert db.session.scalar(db.select(db.func.count()).select_from(Holding)
                             .filter_by(bib_record_id=old_record)) == 0
    page = _page(client, pol.number)
    assert "relinked to “Definitive title”" in page and f'href="/inventory/records/{better.id}"' in page


def test_reference_changes_refused_by_status(app, world, orders):
    admin = world.user("admin")
    better = record(admin, "Definitive title")
    cancelled = line(world, admin, orders.eur)
    os_.cancel_po_line(admin, cancelled, "Not needed")
    serial = _sent(world, admin, orders.eur, order_type="continuous", renewal_date=clock.today() + timedelta(days=200))
    db.session.commit()
    client = login(app.test_client(), "buyer")
    assert "change-reference" not in _actions_in(_page(client, cancelled.number), cancelled.number)
    _refused(client, cancelled.number, "change-reference",
             f"{cancelled.number} is Cancelled: you cannot change the reference of it",
             data={"record_id": str(better.id)})
    acts = _actions_in(_page(client, serial.number), serial.number)
    assert "relink" not in acts and "change-reference" in acts
    _refused(client, serial.number, "relink", f"{serial.number} is Sent: you cannot relink it",
             "A continuous PO line allows this only when In Review, Deferred, Ready",
             data={"record_id": str(better.id)})


# -- the action bar's note, the flashed messages, the history restore ------------------------------

def test_approve_with_a_note_and_a_note_too_long(app, world, orders):
    pol = line(world, world.user("admin"), orders.eur)
    client = login(app.test_client(), "buyer")
    page = _page(client, pol.number)
    assert re.search(r'<form method="post" action="[^"]+/approve" class="inline noted-actions"', page)
    assert 'name="note"' in page and f'formaction="/orders/lines/{pol.number}/defer"' in page

    before = _state(pol.number)
    resp = client.post(f"/orders/lines/{pol.number}/approve", data={"note": "x" * 1001})
    assert resp.status_code == 400 and b"longer than 1000 characters" in resp.data and _state(pol.number) == before

    resp = client.post(f"/orders/lines/{pol.number}/approve", data={"note": "  Agreed with the selector "})
    assert resp.status_code == 302
    assert _pol(pol.number).status == "ready" and _encumbered(world.fund_a) == Decimal("100.00")
    notes = [e.note for e in _pol(pol.number).history if e.action == "approve"]
    assert notes == ["Agreed with the selector"]


def test_htmx_answers_clear_the_flashed_messages(app, world, orders):
    client = login(app.test_client(), "buyer")
    resp = client.post("/orders/lines/new", data=_edit_form(
        world, line(world, world.user("admin"), orders.eur), bib_record="", title="Flash me"))
    assert resp.status_code == 302
    number = resp.headers["Location"].rsplit("/", 1)[1]
    page = _page(client, number)
    assert f'<div id="flashes" class="flashes"><p class="flash ok">{number} created.</p></div>' in page
    assert '<div id="flashes" class="flashes"></div>' in _page(client, number)  # shown once, the area stays

    text = client.post(f"/orders/lines/{number}/approve", headers=HX).data.decode()
    assert CLEAR_FLASHES in text and f"{number} approved" in text
    text = client.get(f"/orders/lines/{number}?tab=funds", headers=HX).data.decode()
    assert text.strip().startswith('<div id="pol-page">') and CLEAR_FLASHES in text
    # a plain page never swaps anything out of band
    assert "hx-swap-oob" not in _page(client, number)


def test_history_restore_gets_the_whole_page(app, world, orders):
    pol = line(world, world.user("admin"), orders.eur)
    client = login(app.test_client(), "viewer")
    resp = client.get(f"/orders/lines/{pol.number}?tab=history",
                      headers={**HX, "HX-History-Restore-Request": "true"})
    text = resp.data.decode()
    assert resp.status_code == 200 and "<html" in text and 'id="flashes"' in text and "hx-swap-oob" not in text


# -- the line form's currency ------------------------------------------------------------------

def test_currency_follows_the_chosen_vendor(app, world, orders):
    client = login(app.test_client(), "buyer")
    form = client.get("/orders/lines/new").data.decode()
    assert 'hx-select="#currency-field"' in form and 'hx-include="#currency, #vendor_account"' in form
    assert re.search(r'<input id="currency" [^>]*placeholder=""', form) and "Empty: the vendor's currency." in form

    fragment = client.get(f"/orders/lines/new?vendor={orders.usd.id}&currency=", headers=HX).data.decode()
    field = re.search(r'<div id="currency-field".*?</div>', fragment, re.S).group(0)
    assert 'placeholder="USD"' in field and "Empty: USDV's currency, USD." in field
    typed = client.get(f"/orders/lines/new?vendor={orders.usd.id}&currency=EUR", headers=HX).data.decode()
    assert re.search(r'<input id="currency" [^>]*value="EUR"', typed)

    # without JavaScript: empty still means the vendor's currency, and a refused form shows it
    data = _edit_form(world, line(world, world.user("admin"), orders.eur), vendor=str(orders.usd.id), currency="",
                      bib_record="", title="Priced in dollars", list_price="")
    resp = client.post("/orders/lines/new", data=data)
    assert resp.status_code == 422 and b'placeholder="USD"' in resp.data
    assert client.post("/orders/lines/new", data={**data, "list_price": "10.00"}).status_code == 302
    made = db.session.scalar(db.select(POLine).filter_by(title="Priced in dollars"))
    assert made.currency == "USD" and made.vendor_id == orders.usd.id
