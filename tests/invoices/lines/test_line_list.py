"""The invoice line list: its columns, each filter, sorting, paging, the HTMX fragment, the price note
shown only when asked for, library scope, and a page costing the same queries whatever its rows."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import event

from app import list_columns
from app.extensions import db
from app.invoices import services as ivs
from tests.helpers import login, show_columns
from tests.invoices.helpers import invoice, lines
from tests.orders.helpers import line as pol_line

HX = {"HX-Request": "true"}
URL = "/invoices/lines/"


def _rows(html: str) -> list[str]:
    """'NUMBER#position' of each row, in the order the table shows them."""
    return [f"{n}#{p}" for n, p in re.findall(
        r'<a class="code" href="/invoices/\d+\?tab=lines">([^<]+)</a> <small class="muted">#(\d+)</small>', html)]


@pytest.fixture
def data(world, vendors):
    """ALPHA-1 (library A, PLAIN, 2026-03-01): two lines, the first for a PO line 'Ordered atlas' with a
    price note, reporting code, subscription and VAT; BETA-2 (library B, USDV, 2026-02-01): one line;
    GAMMA-3 (the institution, PLAIN, 2026-03-05, In Approval): one line on SHARED."""
    op = world.user("invoicer")
    pol = pol_line(world, world.user("admin"), vendors.plain, title="Ordered atlas")
    alpha = invoice(world, op, vendors.plain, number="ALPHA-1", amounts=("100.00", "20.00"),
                    lines=[*lines("100.00", fund=world.fund_a, po_line=pol, price_note="Hidden discount 7%",
                                  reporting_code="RC-9", subscription_from=date(2026, 1, 1),
                                  subscription_to=date(2026, 12, 31)),
                           *lines("10.00", fund=world.fund_a, quantity=2, note="Binding")])
    beta = invoice(world, op, vendors.usd, number="BETA-2", currency="USD", amounts=("30.00",), library="b",
                   invoice_date=date(2026, 2, 1))
    gamma = invoice(world, op, vendors.plain, number="GAMMA-3", amounts=("50.00",), library=None, process=True,
                    invoice_date=date(2026, 3, 5))
    assert gamma.status == "in_approval"
    return dict(pol=pol, alpha=alpha, beta=beta, gamma=gamma)


@pytest.mark.postgres
def test_columns_filters_and_fragment(app, world, vendors, data):
    client = login(app.test_client(), "viewer")
    page = client.get(URL)
    html = page.data.decode()
    assert page.status_code == 200 and "<html" in html and 'id="invoice-line-table"' in html
    assert "HX-Request" in page.headers["Vary"]
    assert _rows(html) == ["GAMMA-3#1", "ALPHA-1#1", "ALPHA-1#2", "BETA-2#1"], "latest invoice date first"
    pol = data["pol"]
    assert f'<a class="code pol" href="/orders/lines/{pol.number}">{pol.number}</a>' in html
    assert "Ordered atlas" in html and "RC-9" in html and "2026-01-01" in html and "2026-12-31" in html
    assert "A-BKS" in html and "SHARED" in html and "In Approval" in html and "USDV" in html
    assert "Hidden discount" not in html and "Price note</th>" not in html, "the price note is hidden by default"

    def shown(query):
        return set(_rows(client.get(f"{URL}?{query}").data.decode()))

    assert shown(f"vendor={vendors.usd.id}") == {"BETA-2#1"}
    assert shown("status=in_approval") == {"GAMMA-3#1"}
    assert shown(f"fund={world.fund_a.id}") == {"ALPHA-1#1", "ALPHA-1#2"}
    assert shown(f"fund={world.shared.id}") == {"GAMMA-3#1"}
    assert shown(f"library={world.lib_b.id}") == {"BETA-2#1"}
    assert shown(f"pol={pol.number.lower()}") == {"ALPHA-1#1"}, "a PO line's number, whatever the case"
    assert shown("from=2026-03-01") == {"GAMMA-3#1", "ALPHA-1#1", "ALPHA-1#2"}
    assert shown("from=2026-02-01&to=2026-03-01") == {"ALPHA-1#1", "ALPHA-1#2", "BETA-2#1"}, "both ends included"
    assert shown("to=2026-01-31") == set()
    assert shown("q=atlas") == {"ALPHA-1#1"}, "the PO line's title"
    assert shown("q=hidden+DISCOUNT") == {"ALPHA-1#1"}, "the price note, every word, any case"
    assert shown("q=beta-2") == {"BETA-2#1"}, "the invoice number"
    assert shown(f"q={pol.number}") == {"ALPHA-1#1"}, "the PO line's number"
    assert shown("q=50%25") == set(), "a % is a character, not a wildcard"
    assert "No invoice lines match." in client.get(f"{URL}?q=nothing-like-this").data.decode()
    assert shown("status=bogus&vendor=abc&from=2026-13-01&sort=x") == {"GAMMA-3#1", "ALPHA-1#1", "ALPHA-1#2",
                                                                      "BETA-2#1"}, "junk is ignored"

    fragment = client.get(f"{URL}?vendor={vendors.plain.id}", headers=HX)
    text = fragment.data.decode()
    assert fragment.status_code == 200 and "<html" not in text
    assert text.lstrip().startswith('<div id="invoice-line-table"')
    assert set(_rows(text)) == {"ALPHA-1#1", "ALPHA-1#2", "GAMMA-3#1"}


def test_price_note_only_when_chosen_and_kept_while_sorting(app, world, vendors, data):
    viewer = world.user("viewer")
    table = list_columns.TABLES["invoice_lines"]
    client = login(app.test_client(), "viewer")
    assert "Hidden discount" not in client.get(URL).data.decode(), "hidden by default"
    show_columns(viewer, "invoice_lines", [*table.default_keys, "price_note"])
    html = client.get(f"{URL}?sort=total").data.decode()
    assert "Price note</th>" in html and '<td class="price-note">Hidden discount 7%</td>' in html
    assert 'href="/invoices/lines/?sort=-total"' in html
    assert "Hidden discount 7%" in client.get(f"{URL}?sort=-total", headers=HX).data.decode(), "sorting keeps it"
    assert "Hidden discount" not in login(app.test_client(), "viewer-a").get(URL).data.decode(), "per user"


@pytest.mark.postgres
def test_sorting(app, world, vendors, data):
    client = login(app.test_client(), "viewer")

    def order(sort):
        return _rows(client.get(f"{URL}?sort={sort}").data.decode())

    assert order("date") == ["BETA-2#1", "ALPHA-1#1", "ALPHA-1#2", "GAMMA-3#1"]
    assert order("number") == ["ALPHA-1#1", "ALPHA-1#2", "BETA-2#1", "GAMMA-3#1"]
    assert order("-number") == ["GAMMA-3#1", "BETA-2#1", "ALPHA-1#1", "ALPHA-1#2"], "a invoice's lines in order"
    assert order("total") == ["ALPHA-1#2", "BETA-2#1", "GAMMA-3#1", "ALPHA-1#1"]
    assert order("-price")[0] == "ALPHA-1#1" and order("price")[0] == "ALPHA-1#2"
    assert order("-quantity")[0] == "ALPHA-1#2"
    assert order("vendor")[-1] == "BETA-2#1" and order("-vendor")[0] == "BETA-2#1"
    assert order("status")[-1] == "GAMMA-3#1" and order("-status")[0] == "GAMMA-3#1", "workflow order"
    assert order("title")[0] == "ALPHA-1#1" and order("-title")[0] == "ALPHA-1#1", "lines without a title last"
    assert order("pol")[0] == "ALPHA-1#1" and order("-pol")[0] == "ALPHA-1#1"
    page = client.get(f"{URL}?sort=total").data.decode()
    assert 'aria-sort="ascending"' in page and 'href="/invoices/lines/?sort=-total"' in page


def test_pages_by_50(app, world, vendors):
    op = world.user("invoicer")
    invoice(world, op, vendors.plain, number="MANY", amounts=("1.00",) * 53)
    client = login(app.test_client(), "viewer")
    first = client.get(f"{URL}?sort=number").data.decode()
    assert _rows(first) == [f"MANY#{n + 1}" for n in range(50)]
    assert "Page 1 of 2 · 53 rows" in first and 'href="/invoices/lines/?sort=number&amp;page=2"' in first
    second = client.get(f"{URL}?sort=number&page=2", headers=HX).data.decode()
    assert _rows(second) == ["MANY#51", "MANY#52", "MANY#53"] and "Page 2 of 2" in second
    assert _rows(client.get(f"{URL}?sort=number&page=99").data.decode()) == _rows(second), "the last page"


def test_a_library_scoped_user_sees_only_its_librarys_lines(app, world, vendors, data):
    client = login(app.test_client(), "viewer-a")
    for query in ("", f"?vendor={vendors.usd.id}", f"?library={world.lib_b.id}", "?q=BETA-2", "?q=GAMMA-3",
                  "?status=in_approval", f"?fund={world.fund_b.id}", "?sort=-total"):
        rows = set(_rows(client.get(URL + query).data.decode()))
        assert rows <= {"ALPHA-1#1", "ALPHA-1#2"}, query
    assert set(_rows(client.get(URL).data.decode())) == {"ALPHA-1#1", "ALPHA-1#2"}
    # the service the export will reuse says the same
    f = ivs.InvoiceLineFilter()
    assert {ln.invoice.number for ln in db.session.scalars(ivs.invoice_lines_query(world.user("viewer"), f))} \
        == {"ALPHA-1", "BETA-2", "GAMMA-3"}
    viewer_a = world.user("viewer-a")
    assert {ln.invoice.number for ln in db.session.scalars(ivs.invoice_lines_query(viewer_a, f))} == {"ALPHA-1"}
    assert ivs.count_invoice_lines(viewer_a, f) == 2


def test_a_page_costs_the_same_queries_whatever_its_rows(app, world, vendors):
    """No query per row: a page of 50 lines (each with a PO line and two funds) takes as many queries
    as a page of one."""
    op, admin = world.user("invoicer"), world.user("admin")
    from app.funds.distribution import Share
    pols = [pol_line(world, admin, vendors.plain, title=f"Title {n}") for n in range(3)]
    one = ivs.LineFields(unit_price="1.00", po_line=pols[0], distribution=[Share(world.fund_a, "100")])
    invoice(world, op, vendors.plain, number="ONE", lines=[one], amounts=("1.00",))
    many = [ivs.LineFields(unit_price="2.00", po_line=pols[n % 3], price_note=f"note {n}",
                           distribution=[Share(world.fund_a, "50"), Share(world.shared, "50")]) for n in range(60)]
    invoice(world, op, vendors.usd, number="MANY", currency="USD", lines=many, amounts=("2.00",) * 60, invoice_date=date(2026, 3, 2))
    show_columns(world.user("viewer"), "invoice_lines")
    client = login(app.test_client(), "viewer")
    statements = []

    def count(*args):
        statements.append(args[2])

    def queries(query):
        client.get(URL + query)   # warm: the session's user and the like
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            html = client.get(URL + query, headers=HX).data.decode()
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(_rows(html)), len(statements)

    rows_one, queries_one = queries(f"?vendor={vendors.plain.id}")
    rows_many, queries_many = queries(f"?vendor={vendors.usd.id}")
    assert (rows_one, rows_many) == (1, 50)
    assert queries_many == queries_one, statements
    # the login's three, the count, the rows, their funds, the charge types, the user's columns; the
    # test's savepoint pair
    assert queries_many <= 10, "\n".join(s[:150] for s in statements)


@pytest.mark.postgres
def test_the_query_streams_for_an_export(app, world, vendors):
    """What the export will do: stream every matching line in batches (``yield_per``), funds loaded
    per batch, not per row."""
    op = world.user("invoicer")
    from app.funds.distribution import Share
    many = [ivs.LineFields(unit_price="1.00", price_note=f"note {n}",
                           distribution=[Share(world.fund_a, "50"), Share(world.shared, "50")]) for n in range(25)]
    invoice(world, op, vendors.plain, number="STREAM", lines=many, amounts=("1.00",) * 25)
    db.session.expunge_all()
    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        query = ivs.invoice_lines_query(world.user("viewer"), ivs.InvoiceLineFilter(sort="number"))
        rows = [(ln.invoice.number, ln.invoice.vendor.code, ln.price_note, [d.fund.code for d in ln.distribution])
                for ln in db.session.scalars(query.execution_options(yield_per=10))]
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(rows) == 25 and rows[0] == ("STREAM", "PLAIN", "note 0", ["A-BKS", "SHARED"])
    assert rows[-1][2] == "note 24"
    fund_queries = [s for s in statements if s.lstrip().startswith("SELECT invoice_line_fund")]
    assert len(fund_queries) == 3, "one per batch of 10"
