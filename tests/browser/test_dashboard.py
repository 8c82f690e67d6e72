"""Real browser: the fund dashboard and the fund page, driven through Chromium.

Acceptance of the issue: log in, open the dashboard, allocate to a fund, see its row update
without a page load, see an over-limit transfer refused inline.

"No page load" is proven with a marker: ``window.__marker`` is set once the page has loaded and
must still be there after each htmx exchange (a full navigation would start a new window
object without it). Every wait is one of Playwright's auto-waiting assertions; no sleeps.
"""
from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


# -- helpers -----------------------------------------------------------------------------------

def set_marker(page: Page) -> None:
    page.evaluate("window.__marker = 1")


def assert_same_document(page: Page, when: str) -> None:
    assert page.evaluate("window.__marker") == 1, f"a full page load happened {when}"


def query(page: Page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query, keep_blank_values=True).items()}


def filled(params: dict[str, str]) -> dict[str, str]:
    """The query parameters that carry a value (a submitted filter form also sends its empty fields)."""
    return {k: v for k, v in params.items() if v}


def expect_open_keys(page: Page, keys: set[str]) -> None:
    """Wait until the address bar's ?open= lists exactly ``keys`` (pushed by htmx, any order).

    The predicate is a function on purpose: a bare expression would be polled with eval(),
    which the app's Content-Security-Policy refuses."""
    page.wait_for_function(
        """(want) => {
             const open = (new URLSearchParams(location.search).get('open') || '').split(',').filter(Boolean);
             return JSON.stringify(open.sort()) === JSON.stringify(want);
           }""", arg=sorted(keys))
    assert set(query(page).get("open", "").split(",")) == keys
    assert query(page).get("period") == "FY2026"


def expect_figures(page: Page, key: str, allocated: str, encumbered="0.00", expended="0.00",
                   available: str | None = None) -> None:
    """The row's Allocated, Encumbered, Expended and Available cells, as displayed."""
    row = page.locator(f"#row-{key}")
    expect(row.locator("td.money")).to_have_text([allocated, encumbered, expended, available or allocated])
    expect(row.locator("td.available")).to_have_text(available or allocated)


def expect_no_problem_banner(page: Page) -> None:
    expect(page.locator("#problems")).to_be_empty()


# -- the acceptance test -----------------------------------------------------------------------

def test_allocate_updates_rows_in_place_and_refusals_stay_inline(page: Page, live_server, browser_app, log_in,
                                                                 shot, page_problems):
    _, ids = browser_app
    gen, books, shared = f"L{ids.gen}", f"F{ids.books}", f"F{ids.shared}"

    # 1. Log in, open the dashboard: three collapsed ledgers.
    log_in("fundmgr")
    page.goto(f"{live_server}/funds/?period=FY2026")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Funds")
    for key in (gen, f"L{ids.ledger_a}", f"L{ids.ledger_b}"):
        expect(page.locator(f"#row-{key}")).to_be_visible()
    expect(page.locator(f"#row-{books}")).to_have_count(0)
    set_marker(page)

    # Expand GEN, then BOOKS, with their toggles (htmx swaps the ledger's <tbody>, pushes ?open=).
    gen_toggle = page.locator(f"#row-{gen} .toggle")
    expect(gen_toggle).to_have_attribute("aria-expanded", "false")
    expect(gen_toggle).to_have_text("▸")
    gen_toggle.click()
    expect(page.locator(f"#row-{books}")).to_be_visible()
    expect(gen_toggle).to_have_attribute("aria-expanded", "true")
    expect(gen_toggle).to_have_text("▾")
    expect(page.locator(f"#row-{shared}")).to_have_count(0)
    expect_open_keys(page, {gen})

    page.locator(f"#row-{books} .toggle").click()
    expect(page.locator(f"#row-{shared}")).to_be_visible()
    expect(page.locator(f"#row-{books} .toggle")).to_have_attribute("aria-expanded", "true")
    expect_open_keys(page, {gen, books})
    # Rows stay in tree order inside GEN's tbody: GEN, BOOKS, SHARED.
    expect(page.locator(f"#ledger-{ids.gen} > tr:not(.move-slot)")).to_have_count(3)
    expect(page.locator(f"#ledger-{ids.gen} > tr:not(.move-slot)").nth(2)).to_have_id(f"row-{shared}")
    assert_same_document(page, "when expanding the tree")

    for key in (gen, books, shared):
        expect_figures(page, key, "1,000.00")
    shot("1-expanded")

    # 2./3. Allocate 250.00 to SHARED through the inline form.
    page.locator(f"#row-{shared}").get_by_role("link", name="Allocate").click()
    form_row = page.locator(f"#move-{shared}")
    expect(form_row).to_be_visible()
    expect(page.locator(f"#row-{shared} + tr")).to_have_id(f"move-{shared}")  # right under the fund
    expect(form_row.locator("legend")).to_contain_text("Allocate to SHARED")
    form_row.get_by_label("Amount").fill("250.00")
    form_row.get_by_label("Reference number").fill("BROWSER-1")
    shot("2-allocate-form")
    form_row.get_by_role("button", name="Allocate").click()

    expect(page.locator(f"#move-{shared} form")).to_have_count(0)  # back to its empty, hidden slot
    expect_figures(page, shared, "1,250.00")
    expect_figures(page, books, "1,250.00")
    expect_figures(page, gen, "1,250.00")
    expect_figures(page, f"L{ids.ledger_a}", "1,000.00")  # other ledgers untouched
    expect_figures(page, f"L{ids.ledger_b}", "1,000.00")
    # The swapped rows keep the tree open, in place and in order.
    expect(page.locator(f"#row-{gen} .toggle")).to_have_attribute("aria-expanded", "true")
    expect(page.locator(f"#row-{books} .toggle")).to_have_attribute("aria-expanded", "true")
    expect(page.locator(f"#ledger-{ids.gen} > tr:not(.move-slot)")).to_have_count(3)
    for key in (gen, books, shared):
        expect(page.locator(f"#row-{key}")).to_have_count(1)
    expect_no_problem_banner(page)
    assert_same_document(page, "during the allocation")
    expect_open_keys(page, {gen, books})  # the POST pushed nothing
    shot("3-allocated")

    # 4. An over-limit transfer: refused inline, under the amount field, nothing changes.
    page.locator(f"#row-{shared}").get_by_role("link", name="Transfer").click()
    form_row = page.locator(f"#move-{shared}")
    expect(form_row).to_be_visible()
    expect(form_row.locator("legend")).to_contain_text("Transfer from SHARED")
    target = form_row.get_by_label("To fund")
    option = target.locator("option", has_text="A-BKS")
    expect(option).to_have_count(1)
    target.select_option(label=option.inner_text().strip())
    form_row.get_by_label("Amount").fill("5000.00")
    form_row.get_by_role("button", name="Transfer").click()

    amount = form_row.get_by_label("Amount")
    error = form_row.locator(".field.has-error .error")
    expect(error).to_have_count(1)
    expect(error).to_contain_text("SHARED")
    expect(error).to_contain_text("short by 3,750.00 EUR")
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(amount).to_have_attribute("aria-describedby", f"amount-F{ids.shared}-err")
    expect(error).to_have_id(f"amount-F{ids.shared}-err")
    expect(amount).to_be_focused()  # focus goes to the field that needs fixing
    # The error sits in the amount field's own block, after the input.
    expect(form_row.locator(".field.has-error").locator(f"#amount-F{ids.shared}")).to_have_count(1)
    expect(amount).to_have_value("5000.00")  # what was typed is kept
    expect(target.locator("option:checked")).to_contain_text("A-BKS")
    expect(page.locator(f"#move-{shared}")).to_have_count(1)  # replaced, not duplicated
    expect_figures(page, shared, "1,250.00")
    expect_figures(page, books, "1,250.00")
    expect_figures(page, gen, "1,250.00")
    expect_figures(page, f"L{ids.ledger_a}", "1,000.00")
    expect_no_problem_banner(page)
    assert_same_document(page, "when the transfer was refused")
    shot("4-transfer-refused")

    # Cancel closes the form row without touching anything else.
    form_row.get_by_role("link", name="Cancel").click()
    expect(page.locator(f"#move-{shared} form")).to_have_count(0)  # back to its empty, hidden slot
    expect_figures(page, shared, "1,250.00")

    # 5. A non-numeric amount ("12,50", a decimal comma) is refused inline too.
    page.locator(f"#row-{shared}").get_by_role("link", name="Allocate").click()
    form_row = page.locator(f"#move-{shared}")
    form_row.get_by_label("Amount").fill("12,50")
    form_row.get_by_role("button", name="Allocate").click()
    error = form_row.locator(f"#amount-F{ids.shared}-err")
    expect(error).to_be_visible()
    expect(error).to_contain_text('"12,50" is not an amount')
    expect(form_row.get_by_label("Amount")).to_have_value("12,50")
    expect_figures(page, shared, "1,250.00")
    expect_figures(page, gen, "1,250.00")
    expect_no_problem_banner(page)
    assert_same_document(page, "when the amount was refused")
    shot("5-bad-amount")

    # A good amount in the same (re-rendered) form still goes through.
    form_row.get_by_label("Amount").fill("12.50")
    form_row.get_by_role("button", name="Allocate").click()
    expect(page.locator(f"#move-{shared} form")).to_have_count(0)  # back to its empty, hidden slot
    expect_figures(page, shared, "1,262.50")
    expect_figures(page, books, "1,262.50")
    expect_figures(page, gen, "1,262.50")
    assert_same_document(page, "during the second allocation")

    # A real reload shows the same figures (they were saved, not just painted) and the open tree.
    page.reload()
    expect_figures(page, shared, "1,262.50")
    expect_figures(page, gen, "1,262.50")
    assert page.evaluate("window.__marker") is None  # the marker does detect a page load

    assert page_problems == []


# -- read-only user, fund page ------------------------------------------------------------------

@pytest.fixture
def shared_history(browser_app):
    """SHARED gets 30 more allocations (1.00 .. 30.00) and two transfers out to A-BKS:
    33 transactions in all, so two pages of 25."""
    from app.auth.models import User
    from app.extensions import db
    from app.funds import services as funds
    from app.funds.models import Fund
    from sqlalchemy import select

    app, ids = browser_app
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        shared, fund_a = db.session.get(Fund, ids.shared), db.session.get(Fund, ids.fund_a)
        for i in range(1, 31):
            funds.allocate(admin, shared, Decimal(i), reference=f"R{i:02d}")
        funds.transfer(admin, shared, fund_a, Decimal("10.00"), reference="T1")
        funds.transfer(admin, shared, fund_a, Decimal("20.00"), reference="T2")
        db.session.commit()
        db.session.remove()
    return ids


def test_viewer_is_read_only_and_fund_transactions_filter_sort_page_in_place(page: Page, live_server, shared_history,
                                                                             log_in, shot, page_problems):
    ids = shared_history
    shared = f"F{ids.shared}"
    log_in("viewer")

    # Read-only: the whole tree is visible, with figures, but no money links anywhere.
    page.goto(f"{live_server}/funds/?period=FY2026&expand=all")
    expect(page.locator(f"#row-{shared}")).to_be_visible()
    expect(page.locator(f"#row-F{ids.fund_a}")).to_be_visible()
    expect_figures(page, shared, "1,435.00")  # 1,000 + (1 + ... + 30) - 10 - 20
    tree = page.locator("#fund-tree")
    expect(tree.get_by_role("link", name="Allocate")).to_have_count(0)
    expect(tree.get_by_role("link", name="Transfer")).to_have_count(0)
    expect(page.get_by_role("link", name="New fund")).to_have_count(0)
    shot("1-viewer-dashboard")

    # The fund page: balances, the chart, the transactions (newest first, 25 a page).
    page.locator(f"#row-{shared}").get_by_role("link", name="SHARED").click()
    expect(page).to_have_url(f"{live_server}/funds/{ids.shared}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("SHARED")
    expect(page.locator(".page-head").get_by_role("link", name="Allocate")).to_have_count(0)
    expect(page.locator("svg.chart")).to_be_visible()
    tx = page.locator("#transactions")
    rows = tx.locator("table.data tbody tr")
    amounts = rows.locator("td.num")
    expect(rows).to_have_count(25)
    expect(tx.locator(".pager")).to_contain_text("Page 1 of 2 · 33 rows")
    set_marker(page)
    shot("2-fund-page")

    # Pager: page 2 holds the remaining 8.
    tx.get_by_role("link", name="Next →").click()
    expect(tx.locator(".pager")).to_contain_text("Page 2 of 2 · 33 rows")
    expect(rows).to_have_count(8)
    expect(page).to_have_url(f"{live_server}/funds/{ids.shared}?page=2")
    assert_same_document(page, "when paging")

    # Sort by amount: descending first (back to page 1), then ascending.
    amount_header = tx.locator("thead th").nth(2)
    amount_header.get_by_role("link").click()
    expect(amount_header).to_have_attribute("aria-sort", "descending")
    expect(tx.locator(".pager")).to_contain_text("Page 1 of 2")
    expect(amounts.first).to_have_text("1,000.00")
    expect(amounts.nth(1)).to_have_text("30.00")
    assert query(page) == {"sort": "-amount"}
    amount_header.get_by_role("link").click()
    expect(amount_header).to_have_attribute("aria-sort", "ascending")
    expect(amounts.first).to_have_text("-20.00")
    expect(amounts.nth(1)).to_have_text("-10.00")
    expect(tx.locator("thead th").first).to_have_attribute("aria-sort", "none")
    assert query(page) == {"sort": "amount"}
    assert_same_document(page, "when sorting")

    # Filter by type (the select's change event): only the two transfers, sort kept.
    tx.get_by_label("Type").select_option("transfer")
    expect(rows).to_have_count(2)
    expect(rows.locator(".kind")).to_have_text(["transfer", "transfer"])
    expect(amounts).to_have_text(["-20.00", "-10.00"])
    expect(rows.locator("td").nth(5)).to_have_text("A-BKS")
    expect(tx.locator(".pager")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"[?&]kind=transfer(&|$)"))
    assert filled(query(page)) == {"kind": "transfer", "sort": "amount"}
    expect(tx.get_by_label("Type")).to_have_value("transfer")
    assert_same_document(page, "when filtering")
    expect_no_problem_banner(page)
    shot("3-filtered")

    # A filter that matches nothing says so.
    tx.get_by_label("Type").select_option("expenditure")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_text("No transactions match.")
    assert_same_document(page, "when filtering again")

    # Back in history restores the previous (filtered on transfers) state.
    expect(page).to_have_url(re.compile(r"[?&]kind=expenditure(&|$)"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"[?&]kind=transfer(&|$)"))
    expect(page.locator("#transactions table.data tbody tr")).to_have_count(2)
    expect(page.locator("#transactions").get_by_label("Type")).to_have_value("transfer")

    assert page_problems == []
