"""Real browser, keyboard only (issue 22, point 1): after an HTMX swap the focus goes where the person
can go on (the control that asked, the new content, the opener of a closed form) and the page's one
polite live region (#announce) says what happened."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

SETTLING = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"


def settled(page: Page) -> None:
    expect(page.locator(SETTLING)).to_have_count(0)


def press(page: Page, key: str) -> None:
    page.keyboard.press(key)
    settled(page)


def focused_row(page: Page) -> str | None:
    return page.evaluate("(document.activeElement.closest('tr') || {}).id || null")


@pytest.fixture
def keyboard_data(browser_app):
    """An invoice In Approval (library A) with one line; a bibliographic record to find."""
    from app.extensions import db
    from testkit.invoices import invoice
    from testkit.world import load_world
    from tests.inventory.helpers import record
    from tests.orders.helpers import make_vendors

    app, _ = browser_app
    with app.app_context():
        world = load_world()
        orders = make_vendors(world)
        waiting = invoice(world, world.user("invoicer"), orders.eur, number="KEY-1", library="a",
                          amounts=("120.00",), process=True)
        assert waiting.status == "in_approval"
        rec = record(world.user("admin"), "Keyboards and their users", author="Tabber")
        db.session.commit()
        data = SimpleNamespace(invoice_id=waiting.id, record_id=rec.id)
        db.session.remove()
    return data


def test_tree_expand_with_space_keeps_focus_and_the_next_tabs_reach_the_new_rows(
        page: Page, live_server, browser_app, log_in, page_problems):
    _, ids = browser_app
    gen, books = f"L{ids.gen}", f"F{ids.books}"
    log_in("fundmgr")
    page.goto(f"{live_server}/funds/?period=FY2026")
    toggle = page.locator(f"#toggle-{gen}")
    expect(toggle).to_have_js_property("tagName", "BUTTON")
    toggle.focus()
    press(page, " ")
    expect(page.locator(f"#row-{books}")).to_be_visible()
    expect(page.locator(f"#toggle-{gen}")).to_have_attribute("aria-expanded", "true")
    expect(page.locator(f"#toggle-{gen}")).to_be_focused()
    # The Tabs after the toggle walk through the rest of its row, then into the first revealed row.
    rest = page.evaluate(f"""(() => {{ const row = document.getElementById('row-{gen}'), t = document.activeElement;
        return [...row.querySelectorAll('a[href], button')].filter(e => t.compareDocumentPosition(e) & 4).length; }})()""")
    for _ in range(rest + 1):
        page.keyboard.press("Tab")
    assert focused_row(page) == f"row-{books}"
    # Enter on the toggle (a real button) collapses again; the focus stays on it.
    page.locator(f"#toggle-{gen}").focus()
    press(page, "Enter")
    expect(page.locator(f"#row-{books}")).to_have_count(0)
    expect(page.locator(f"#toggle-{gen}")).to_be_focused()
    assert page_problems == []


def test_tabs_sorting_and_the_task_list_move_focus_and_speak(page: Page, live_server, keyboard_data, log_in,
                                                            page_problems):
    log_in("invmanager")
    # An invoice tab: the focus goes into the tab panel (not the top of the page).
    page.goto(f"{live_server}/invoices/{keyboard_data.invoice_id}")
    page.get_by_role("link", name=re.compile("^Lines")).focus()
    press(page, "Enter")
    expect(page).to_have_url(re.compile(r"tab=lines"))
    assert page.evaluate("!!document.activeElement.closest('#tab-panel')")
    expect(page.locator("#tab-panel")).to_have_attribute("aria-label", "Lines")

    # Sorting a list: the focus stays on the column's sort link; the live region says the order and the rows.
    page.goto(f"{live_server}/invoices/")
    sort = page.locator("#invoice-table-sort-number")
    sort.focus()
    press(page, "Enter")
    expect(page.locator("#invoice-table-sort-number")).to_be_focused()
    said = page.locator("#announce #said")
    expect(said).to_have_text(re.compile(r"^Sorted by Invoice, (ascending|descending)\. 1 row\.$"))
    first = said.inner_text()
    press(page, "Enter")
    expect(said).not_to_have_text(first)
    expect(said).to_have_text(re.compile(r"^Sorted by Invoice, (ascending|descending)\. 1 row\.$"))
    # one polite live region in the page
    expect(page.locator("[aria-live=polite], [role=status]")).to_have_count(1)

    # Approving from the task list: the row is gone, the focus is on the confirmation.
    page.goto(f"{live_server}/invoices/tasks/approval")
    page.get_by_role("button", name="Approve KEY-1").focus()
    press(page, "Enter")
    message = page.locator("#task-message")
    expect(message).to_contain_text("KEY-1 approved")
    expect(message).to_be_focused()
    assert page_problems == []


def test_add_line_record_search_and_cancel_move_focus(page: Page, live_server, browser_app, keyboard_data, log_in,
                                                     page_problems):
    _, ids = browser_app
    log_in("admin")
    # "Add line" on the invoice form: the focus goes to the new line's first field.
    page.goto(f"{live_server}/invoices/new")
    lines = page.locator("fieldset.invoice-line").count()
    page.get_by_role("button", name="Add line").focus()
    press(page, "Enter")
    expect(page.locator(f"#line-{lines + 1}")).to_be_visible()
    assert page.evaluate("document.activeElement.closest('fieldset') && document.activeElement.closest('fieldset').id") \
        == f"line-{lines + 1}"

    # The PO line form's record search: the live region says how many were found; "Use" fills the
    # record ID field and the focus goes there.
    page.goto(f"{live_server}/orders/lines/new")
    page.locator("#record-q").focus()
    page.keyboard.type("keyboards")
    expect(page.locator("#announce #said")).to_have_text("1 record found")
    expect(page.locator("#record-q")).to_be_focused()
    page.keyboard.press("Tab")   # the hint's link to the repository search
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name=f"Use record {keyboard_data.record_id}")).to_be_focused()
    press(page, "Enter")
    expect(page.locator("#bib_record")).to_have_value(str(keyboard_data.record_id))
    expect(page.locator("#bib_record")).to_be_focused()

    # An inline form's Cancel: the focus goes back to the link that opened it.
    page.goto(f"{live_server}/funds/?period=FY2026&expand=all")
    opener = page.locator(f"#row-F{ids.shared} td.row-actions a", has_text="Allocate")
    opener.focus()
    press(page, "Enter")
    form = page.locator(f"#move-F{ids.shared} form")
    expect(form.get_by_label("Amount")).to_be_focused()
    form.get_by_role("link", name="Cancel").focus()
    press(page, "Enter")
    expect(form).to_have_count(0)
    expect(opener).to_be_focused()
    # Done: the focus goes back to the opener too, and the live region says what was done.
    press(page, "Enter")
    form.get_by_label("Amount").fill("5")
    press(page, "Enter")
    expect(form).to_have_count(0)
    expect(page.locator("#announce #status")).to_contain_text("Allocated")
    expect(opener).to_be_focused()
    assert page_problems == []
