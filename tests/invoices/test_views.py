"""Invoice pages: the list (search, filters, sort, paging, fragment), task lists, the invoice's tabs,
each workflow action through its form, library scope, the search page and the vendor's invoices tab."""
from __future__ import annotations

import pytest

import re
from datetime import date
from decimal import Decimal

from app.auth.models import Role
from app.auth.services import create_user
from app.extensions import db
from app.funds.models import Fund
from app.idempotency import new_form_token
from app.invoices import services as ivs
from app.invoices.models import Invoice, InvoiceEvent
from app.vendors import services as vs
from tests.helpers import PASSWORD, login
from tests.invoices.helpers import invoice, lines
from tests.orders.helpers import line as pol_line

HX = {"HX-Request": "true"}


def _inv(invoice_id) -> Invoice:
    db.session.expire_all()
    return db.session.get(Invoice, invoice_id)


def _expended(fund) -> Decimal:
    db.session.expire_all()
    return db.session.get(Fund, fund.id).expended


def _numbers(html: str) -> list[str]:
    """Invoice numbers in the order the table shows them."""
    return re.findall(r'<a class="code" href="/invoices/\d+">([^<]+)</a>', html)


def _scoped_operator(world, name="invoicer-a", library="a"):
    lib = {"a": world.lib_a, "b": world.lib_b}[library]
    user = create_user(None, name, PASSWORD, full_name=name.title(), roles=[(Role.INVOICE_OPERATOR, lib)])
    db.session.commit()
    return user


# -- list --------------------------------------------------------------------------------------

@pytest.mark.postgres
def test_list_search_filters_sort_and_fragment(app, world, vendors):
    op = world.user("invoicer")
    pol = pol_line(world, world.user("admin"), vendors.plain, title="Ordered atlas")
    alpha = invoice(world, op, vendors.plain, number="ALPHA-1", amounts=("100.00",), reference_number="REF-77",
                    lines=lines("100.00", fund=world.fund_a, po_line=pol))
    beta = invoice(world, op, vendors.usd, number="BETA-2", currency="USD", amounts=("30.00",), library="b")
    gamma = invoice(world, op, vendors.plain, number="GAMMA-3", amounts=("50.00",), library=None, process=True,
                    invoice_date=date(2026, 3, 5))
    filed = ivs.create_invoice(op, ivs.InvoiceFields(number="FILE-4", vendor=vendors.liable,
                                                     invoice_date=date(2026, 2, 1), total_amount="20.00",
                                                     owner_library=world.lib_a,
                                                     lines=lines("20.00", fund=world.fund_a)),
                               channel="file", confirm="yes")
    db.session.commit()
    assert gamma.status == "in_approval"
    client = login(app.test_client(), "viewer")

    page = client.get("/invoices/")
    html = page.data.decode()
    assert page.status_code == 200 and "<html" in html and 'id="invoice-table"' in html
    assert "HX-Request" in page.headers["Vary"]
    assert _numbers(html) == ["GAMMA-3", "BETA-2", "ALPHA-1", "FILE-4"], "latest invoice date first"
    assert "LIBB" in html and "Institution" in html and "30.00" in html

    def shown(query):
        return set(_numbers(client.get(f"/invoices/?{query}").data.decode()))

    assert shown("status=in_approval") == {"GAMMA-3"}
    assert shown(f"vendor={vendors.usd.id}") == {"BETA-2"}
    assert shown(f"vendor={vendors.plain.id}&status=in_review") == {"ALPHA-1"}
    assert shown(f"fund={world.fund_b.id}") == {"BETA-2"}
    assert shown(f"fund={world.shared.id}") == {"GAMMA-3"}
    assert shown(f"library={world.lib_a.id}") == {"ALPHA-1", "FILE-4"}
    assert shown("channel=file") == {"FILE-4"}
    assert shown("q=REF-77") == {"ALPHA-1"}
    assert shown("q=usdv") == {"BETA-2"}, "vendor code"
    assert shown("q=Liable+books") == {"FILE-4"}, "vendor name, every word"
    assert shown(f"q={pol.number}") == {"ALPHA-1"}, "a line's POL number"
    assert shown("q=nothing-like-this") == set()
    assert "No invoices match." in client.get("/invoices/?q=nothing-like-this").data.decode()
    assert shown("status=bogus&vendor=abc") == {"GAMMA-3", "BETA-2", "ALPHA-1", "FILE-4"}, "junk is ignored"

    def order(sort):
        return _numbers(client.get(f"/invoices/?sort={sort}").data.decode())

    assert order("total") == ["FILE-4", "BETA-2", "GAMMA-3", "ALPHA-1"]
    assert order("-total") == ["ALPHA-1", "GAMMA-3", "BETA-2", "FILE-4"]
    assert order("number") == ["ALPHA-1", "BETA-2", "FILE-4", "GAMMA-3"]
    assert order("date") == ["FILE-4", "ALPHA-1", "BETA-2", "GAMMA-3"]
    assert order("vendor")[0] == "FILE-4" and order("vendor")[-1] == "BETA-2"   # LIABLE, PLAIN, PLAIN, USDV
    assert order("status")[-1] == "GAMMA-3" and order("-status")[0] == "GAMMA-3", "In Approval after In Review"
    sorted_page = client.get("/invoices/?sort=total").data.decode()
    assert 'aria-sort="ascending"' in sorted_page and 'href="/invoices/?sort=-total"' in sorted_page

    fragment = client.get(f"/invoices/?vendor={vendors.plain.id}", headers=HX)
    text = fragment.data.decode()
    assert fragment.status_code == 200 and "<html" not in text and text.lstrip().startswith('<div id="invoice-table"')
    assert set(_numbers(text)) == {"ALPHA-1", "GAMMA-3"}
    assert alpha.id and beta.id and filed.id


def test_list_pages_by_25_and_counts_the_matches(app, world, vendors):
    op = world.user("invoicer")
    for n in range(27):
        ivs.create_invoice(op, ivs.InvoiceFields(number=f"P-{n:02d}", vendor=vendors.plain,
                                                 invoice_date=date(2026, 1, 1 + n), total_amount="1.00",
                                                 owner_library=world.lib_a, lines=lines("1.00", fund=world.fund_a)))
    db.session.commit()
    client = login(app.test_client(), "invoicer")
    first = client.get("/invoices/?sort=number").data.decode()
    assert _numbers(first) == [f"P-{n:02d}" for n in range(25)]
    assert "Page 1 of 2 · 27 rows" in first and 'href="/invoices/?sort=number&amp;page=2"' in first
    second = client.get("/invoices/?sort=number&page=2", headers=HX).data.decode()
    assert _numbers(second) == ["P-25", "P-26"] and "Page 2 of 2" in second
    assert _numbers(client.get("/invoices/?sort=number&page=99").data.decode()) == ["P-25", "P-26"], "last page"


# -- task lists --------------------------------------------------------------------------------

def test_task_lists_show_reasons_and_the_actions_each_user_may_take(app, world, vendors):
    op = world.user("invoicer")
    stopped = invoice(world, op, vendors.plain, number="STOP-1", amounts=("100.00",), total="99.00", process=True)
    rejected = invoice(world, op, vendors.plain, number="REJ-2", amounts=("40.00",), process=True)
    ivs.reject_invoice(world.user("invmanager"), rejected, "wrong fund")
    waiting = invoice(world, op, vendors.plain, number="WAIT-3", amounts=("60.00",), process=True)
    paying = invoice(world, op, vendors.plain, number="PAY-4", amounts=("70.00",), process=True)
    ivs.approve_invoice(world.user("invmanager"), paying)
    ivs.mark_exported(None, paying)
    db.session.commit()
    assert (stopped.status, rejected.status, waiting.status, paying.status) == (
        "in_review", "in_review", "in_approval", "waiting_for_payment")

    manager = login(app.test_client(), "invmanager")
    review = manager.get("/invoices/tasks/review").data.decode()
    assert _numbers(review) == ["STOP-1", "REJ-2"]
    assert "differs from its lines and charges" in review and "Rejected: wrong fund" in review
    assert "Save and continue" in review
    approval = manager.get("/invoices/tasks/approval").data.decode()
    assert _numbers(approval) == ["WAIT-3"]
    assert f'action="/invoices/{waiting.id}/approve"' in approval
    assert f'action="/invoices/{waiting.id}/reject"' in approval
    payment = manager.get("/invoices/tasks/payment").data.decode()
    assert _numbers(payment) == ["PAY-4"] and f'action="/invoices/{paying.id}/payment"' in payment
    assert 'name="voucher_number"' in payment and 'value="70.00"' in payment
    assert re.search(r'Waiting for Payment <span class="count">1</span>', payment)

    operator = login(app.test_client(), "invoicer")
    approval = operator.get("/invoices/tasks/approval").data.decode()
    assert _numbers(approval) == ["WAIT-3"] and "/approve" not in approval
    assert "An invoice manager approves it" in approval
    fragment = operator.get("/invoices/tasks/review", headers=HX).data.decode()
    assert fragment.lstrip().startswith('<div id="invoice-tasks">')
    assert login(app.test_client(), "viewer").get("/invoices/tasks/review").status_code == 403
    assert operator.get("/invoices/tasks/unknown").status_code == 404


def test_inline_task_actions_answer_with_the_task_list(app, world, vendors):
    op = world.user("invoicer")
    waiting = invoice(world, op, vendors.plain, number="WAIT-1", amounts=("60.00",), process=True)
    other = invoice(world, op, vendors.plain, number="WAIT-2", amounts=("10.00",), process=True)
    manager = login(app.test_client(), "invmanager")

    refused = manager.post(f"/invoices/{other.id}/reject", data={"back": "approval", "reason": " "}, headers=HX)
    text = refused.data.decode()
    assert refused.status_code == 400 and 'id="invoice-tasks"' in text and "Give the reason for rejecting" in text
    assert _inv(other.id).status == "in_approval"

    resp = manager.post(f"/invoices/{waiting.id}/approve", data={"back": "approval", "form_token": new_form_token()}, headers=HX)
    text = resp.data.decode()
    assert resp.status_code == 200 and text.lstrip().startswith('<div id="invoice-tasks">')
    assert "Invoice WAIT-1 approved" in text and _numbers(text) == ["WAIT-2"]
    assert _inv(waiting.id).status == "ready_to_be_paid"

    resp = manager.post(f"/invoices/{other.id}/reject", data={"back": "approval", "reason": "not ours"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/invoices/tasks/approval")
    assert _inv(other.id).status == "in_review" and _inv(other.id).alert == "Rejected: not ours"

    ivs.mark_exported(None, _inv(waiting.id))
    db.session.commit()
    resp = manager.post(f"/invoices/{waiting.id}/payment", headers=HX, data={
        "back": "payment", "voucher_number": "V-77", "payment_date": "2026-03-20", "amount": "60.00", "form_token": new_form_token()})
    assert resp.status_code == 200 and "voucher V-77" in resp.data.decode()
    paid = _inv(waiting.id)
    assert (paid.status, paid.voucher_number, paid.payment_date, paid.payment_amount) == (
        "closed", "V-77", date(2026, 3, 20), Decimal("60.00"))


# -- one invoice -------------------------------------------------------------------------------

def test_detail_tabs_with_rates_lines_and_history(app, world, vendors):
    op = world.user("invoicer")
    pol = pol_line(world, world.user("admin"), vendors.usd, title="Dollar atlas", price="123.45", library=None)
    inv = invoice(world, op, vendors.usd, number="USD-1", currency="USD", amounts=("123.45",), library=None,
                  lines=lines("123.45", fund=world.shared, po_line=pol, price_note="list price"),
                  reference_number="R-9")
    ivs.update_invoice(op, inv, ivs.InvoiceFields(
        number="USD-1", vendor=vendors.usd, currency="USD", invoice_date=date(2026, 3, 2), total_amount="123.45",
        reference_number="R-9", lines=lines("123.45", fund=world.shared, po_line=pol, price_note="list price")))
    db.session.commit()
    client = login(app.test_client(), "viewer")

    summary = client.get(f"/invoices/{inv.id}").data.decode()
    assert "USD-1" in summary and "In Review" in summary and "USDV" in summary and "123.45" in summary
    assert "Institution" in summary and "Manual" in summary and "R-9" in summary
    assert 'class="pol-actions invoice-actions"' not in summary, "a viewer gets no actions"

    lines_tab = client.get(f"/invoices/{inv.id}?tab=lines").data.decode()
    assert f'href="/orders/lines/{pol.number}"' in lines_tab and "Dollar atlas" in lines_tab
    assert "SHARED" in lines_tab and "100 %" in lines_tab and "list price" in lines_tab

    funds_tab = client.get(f"/invoices/{inv.id}?tab=funds").data.decode()
    assert "1 USD = 0.92 EUR" in funds_tab and "113.57" in funds_tab and "123.45" in funds_tab
    assert "Nothing posted yet" in funds_tab

    history = client.get(f"/invoices/{inv.id}?tab=history").data.decode()
    assert "invoice date" in history and "2026-03-01" in history and "2026-03-02" in history
    assert "Invoicer" in history and "create" in history

    fragment = client.get(f"/invoices/{inv.id}?tab=funds", headers=HX)
    text = fragment.data.decode()
    assert "<html" not in text and text.lstrip().startswith('<div id="invoice-page">') and "1 USD = 0.92 EUR" in text

    ivs.process_invoice(op, _inv(inv.id))
    ivs.approve_invoice(world.user("invmanager"), _inv(inv.id))
    db.session.commit()
    funds_tab = client.get(f"/invoices/{inv.id}?tab=funds").data.decode()
    assert "Charged to the funds" in funds_tab and "expenditure" in funds_tab and "113.57" in funds_tab
    assert client.get("/invoices/999999").status_code == 404


def test_actions_offered_follow_role_and_status(app, world, vendors):
    inv = invoice(world, world.user("invoicer"), vendors.plain, library=None)

    def buttons(user):
        html = login(app.test_client(), user).get(f"/invoices/{inv.id}").data.decode()
        return {name for name, marker in (("process", "/process\""), ("approve", "/approve\""), ("reject", "/reject\""),
                                          ("pay", "/payment\""), ("send_back", "/send-back\""),
                                          ("owner", "/owner\""), ("delete", "/delete\"")) if marker in html}

    assert buttons("invoicer") == {"process", "owner"}
    assert buttons("invoicer-ext") == {"process", "owner", "delete"}
    assert buttons("viewer") == set()
    ivs.process_invoice(world.user("invoicer"), _inv(inv.id))
    db.session.commit()
    assert buttons("invmanager") == {"approve", "reject", "owner"}
    assert buttons("invoicer") == {"owner"}
    ivs.approve_invoice(world.user("invmanager"), _inv(inv.id))
    db.session.commit()
    assert buttons("invoicer") == {"pay", "send_back", "owner"}


def test_workflow_through_the_pages(app, world, vendors):
    inv = invoice(world, world.user("invoicer"), vendors.plain, amounts=("100.00",))
    operator = login(app.test_client(), "invoicer")
    manager = login(app.test_client(), "invmanager")

    resp = operator.post(f"/invoices/{inv.id}/process", data={"form_token": new_form_token()})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/invoices/{inv.id}")
    assert _inv(inv.id).status == "in_approval"
    assert "waits for approval" in operator.get(f"/invoices/{inv.id}").data.decode(), "the message is flashed"

    assert operator.post(f"/invoices/{inv.id}/approve").status_code == 403
    assert operator.post(f"/invoices/{inv.id}/approve", headers=HX).status_code == 403
    assert _inv(inv.id).status == "in_approval" and _expended(world.fund_a) == Decimal("0.00")

    no_reason = manager.post(f"/invoices/{inv.id}/reject", data={"reason": ""}, headers=HX)
    assert no_reason.status_code == 400 and "Give the reason for rejecting" in no_reason.data.decode()
    assert _inv(inv.id).status == "in_approval"

    resp = manager.post(f"/invoices/{inv.id}/approve", data={"tab": "funds", "form_token": new_form_token()}, headers=HX)
    text = resp.data.decode()
    assert resp.status_code == 200 and text.lstrip().startswith('<div id="invoice-page">')
    assert "Invoice INV-1 approved" in text and 'hx-swap-oob="true"' in text and "expenditure" in text
    assert _inv(inv.id).status == "ready_to_be_paid" and _expended(world.fund_a) == Decimal("100.00")

    bad_date = operator.post(f"/invoices/{inv.id}/payment", headers=HX,
                             data={"voucher_number": "V-1", "payment_date": "20.3.2026", "amount": "100.00",
                                   "form_token": new_form_token()})
    assert bad_date.status_code == 400 and "is a date (YYYY-MM-DD)" in bad_date.data.decode()
    assert _inv(inv.id).status == "ready_to_be_paid"
    resp = operator.post(f"/invoices/{inv.id}/payment",
                         data={"voucher_number": "V-1", "payment_date": "2026-03-20", "amount": "100.00", "form_token": new_form_token()})
    assert resp.status_code == 302 and _inv(inv.id).status == "closed"
    again = operator.post(f"/invoices/{inv.id}/payment", headers=HX,
                          data={"voucher_number": "V-2", "payment_date": "2026-03-21", "amount": "100.00",
                                "form_token": new_form_token()})
    assert again.status_code == 422 and "Invoice INV-1 is Closed" in again.data.decode()
    assert _inv(inv.id).voucher_number == "V-1"

    assert operator.post(f"/invoices/{inv.id}/send-back", data={"reason": "", "form_token": new_form_token()}).status_code == 400
    resp = operator.post(f"/invoices/{inv.id}/send-back", data={"reason": "wrong price", "form_token": new_form_token()},
                         headers=HX)
    assert resp.status_code == 200 and "Sent back to review: wrong price" in resp.data.decode()
    back = _inv(inv.id)
    assert back.status == "in_review" and back.alert == "Sent back to review: wrong price"
    assert _expended(world.fund_a) == Decimal("0.00"), "the expenditure is reversed"


def test_process_keeps_a_failing_invoice_in_review_with_its_reasons(app, world, vendors):
    inv = invoice(world, world.user("invoicer"), vendors.plain, amounts=("100.00",), total="90.00")
    resp = login(app.test_client(), "invoicer").post(f"/invoices/{inv.id}/process", headers=HX,
                                                       data={"form_token": new_form_token()})
    text = resp.data.decode()
    assert resp.status_code == 200 and "stays In Review: 1 problem(s)" in text
    assert "differs from its lines and charges" in text
    stored = _inv(inv.id)
    assert stored.status == "in_review" and len(stored.review_problems) == 1


def test_change_owner_and_delete(app, world, vendors):
    inv = invoice(world, world.user("invoicer"), vendors.plain, library=None, fund=world.shared)
    inv_id = inv.id
    operator = login(app.test_client(), "invoicer")
    resp = operator.post(f"/invoices/{inv_id}/owner", data={"owner": str(world.lib_a.id)}, headers=HX)
    assert resp.status_code == 200 and "now belongs to LIBA" in resp.data.decode()
    assert _inv(inv_id).owner_library_id == world.lib_a.id
    assert operator.post(f"/invoices/{inv_id}/owner", data={"owner": "999"}).status_code == 400

    assert operator.post(f"/invoices/{inv_id}/delete", data={"confirm": "yes"}).status_code == 403
    extended = login(app.test_client(), "invoicer-ext")
    unconfirmed = extended.post(f"/invoices/{inv_id}/delete", data={"reason": "twice"}, headers=HX)
    assert unconfirmed.status_code == 422 and "Tick the box" in unconfirmed.data.decode()
    assert _inv(inv_id) is not None
    resp = extended.post(f"/invoices/{inv_id}/delete", data={"confirm": "yes", "reason": "entered twice"},
                         headers=HX)
    assert resp.status_code == 204 and resp.headers["HX-Redirect"] == "/invoices/"
    assert _inv(inv_id) is None
    event = db.session.scalar(db.select(InvoiceEvent).filter_by(action="delete"))
    assert event.note == "entered twice" and event.invoice_number == "INV-1"
    assert "deleted" in extended.get("/invoices/").data.decode()

    spent = invoice(world, world.user("invoicer"), vendors.plain, number="INV-2", process=True)
    ivs.approve_invoice(world.user("invmanager"), spent)
    db.session.commit()
    refused = extended.post(f"/invoices/{spent.id}/delete", data={"confirm": "yes"})
    assert refused.status_code == 422 and "has expended money" in refused.data.decode()
    assert _inv(spent.id) is not None


def test_library_scope(app, world, vendors):
    op = world.user("invoicer")
    mine = invoice(world, op, vendors.plain, number="A-1", library="a", process=True)
    theirs = invoice(world, op, vendors.plain, number="B-1", library="b", amounts=("90.00",), process=True)
    institution = invoice(world, op, vendors.plain, number="I-1", library=None, amounts=("80.00",), process=True)
    _scoped_operator(world, "invoicer-a", "a")
    client = login(app.test_client(), "invoicer-a")

    for url in (f"/invoices/{theirs.id}", f"/invoices/{theirs.id}?tab=funds", f"/invoices/{institution.id}"):
        resp = client.get(url)
        assert resp.status_code == 404 and b"B-BKS" not in resp.data, url
    for action, data in (("process", {}), ("send-back", {"reason": "x"}), ("owner", {"owner": ""}),
                         ("payment", {"voucher_number": "V", "payment_date": "2026-03-03", "amount": "100.00"})):
        assert client.post(f"/invoices/{theirs.id}/{action}", data=data).status_code == 404, action
    assert set(_numbers(client.get("/invoices/").data.decode())) == {"A-1"}
    assert set(_numbers(client.get("/invoices/tasks/approval").data.decode())) == {"A-1"}
    assert client.get(f"/invoices/{mine.id}").status_code == 200
    # within its library it may act, but not give the invoice to another library
    refused = client.post(f"/invoices/{mine.id}/owner", data={"owner": str(world.lib_b.id)}, headers=HX)
    assert refused.status_code == 403 and _inv(mine.id).owner_library_id == world.lib_a.id
    assert _inv(theirs.id).status == "in_approval"


# -- search on every page ----------------------------------------------------------------------

def test_search_page_finds_each_kind_within_scope(app, world, vendors):
    admin = world.user("admin")
    pol = pol_line(world, admin, vendors.plain, title="Atlas of findable places", isbn="978-3-16-148410-0")
    invoice(world, world.user("invoicer"), vendors.plain, number="FIND-A", reference_number="ZEBRA-5")
    invoice(world, world.user("invoicer"), vendors.plain, number="FIND-B", library="b")
    for n in range(12):
        vs.create_vendor(admin, f"FINDV{n:02d}", vs.VendorFields(name=f"Findable vendor {n}", currency="EUR"))
    db.session.commit()
    client = login(app.test_client(), "viewer")

    html = client.get("/find?q=find").data.decode()
    invoices = html[html.index('id="found-invoices"'):html.index('id="found-po-lines"')]
    assert "FIND-A" in invoices and "FIND-B" in invoices
    pols = html[html.index('id="found-po-lines"'):html.index('id="found-vendors"')]
    assert pol.number in pols and "Atlas of findable places" in pols
    found_vendors = html[html.index('id="found-vendors"'):html.index('id="found-funds"')]
    assert found_vendors.count('<a class="code" href="/vendors/') == 10, "ten at most"
    assert "All 12 in the full list" in found_vendors and 'href="/vendors/?q=find"' in found_vendors
    assert 'href="/invoices/?q=find"' in invoices

    assert "FIND-A" in client.get("/find?q=zebra").data.decode(), "by reference"
    assert pol.number in client.get("/find?q=978-3-16-148410").data.decode(), "by ISBN"
    assert pol.number in client.get(f"/find?q={pol.number}").data.decode(), "by POL number"
    funds = client.get("/find?q=bks").data.decode()
    assert "A-BKS" in funds and "B-BKS" in funds and 'href="/funds/search?q=bks"' in funds
    assert "Type an invoice" in client.get("/find").data.decode()

    scoped = login(app.test_client(), "viewer-a")
    html = scoped.get("/find?q=find").data.decode()
    assert "FIND-A" in html and "FIND-B" not in html
    assert "B-BKS" not in scoped.get("/find?q=bks").data.decode()
    assert 'action="/find"' in scoped.get("/funds/").data.decode(), "the search box on every page"
    assert "A-BKS" in scoped.get("/funds/search?q=bks").data.decode(), "the funds search still works"


def test_vendor_invoices_tab(app, world, vendors):
    op = world.user("invoicer")
    invoice(world, op, vendors.plain, number="V-A", library="a")
    invoice(world, op, vendors.plain, number="V-B", library="b")
    invoice(world, op, vendors.liable, number="OTHER", confirm="yes")
    viewer = login(app.test_client(), "viewer")
    tab = viewer.get(f"/vendors/{vendors.plain.id}?tab=invoices", headers=HX).data.decode()
    # the tab loads the invoices' own fragment for this vendor
    fragment = f"/invoices/by-vendor/{vendors.plain.id}"
    assert f'hx-get="{fragment}"' in tab
    tab = viewer.get(fragment, headers=HX).data.decode()
    assert set(_numbers(tab)) == {"V-A", "V-B"} and f'href="/invoices/?vendor={vendors.plain.id}"' in tab
    scoped_client = login(app.test_client(), "viewer-a")
    scoped = scoped_client.get(f"/vendors/{vendors.plain.id}?tab=invoices").data.decode()
    assert 'aria-current="page">Invoices' in scoped and f'hx-get="{fragment}"' in scoped
    assert set(_numbers(scoped_client.get(fragment).data.decode())) == {"V-A"}
