"""Binding in a real browser: the checkboxes sit in the item table, outside the bind form (tied to it by
their form attribute); htmx must send them with the form, and the work order is then marked done."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect

from app.auth.models import User
from app.extensions import db
from app.org.models import Library
from tests.inventory.binding.helpers import make_bindable

pytestmark = pytest.mark.browser


@pytest.fixture
def journal_url(browser_app):
    app, _ = browser_app
    with app.app_context():
        world = SimpleNamespace(user=lambda name: db.session.scalar(db.select(User).filter_by(username=name)),
                                lib_a=db.session.scalar(db.select(Library).filter_by(code="LIBA")))
        journal = make_bindable(world)
        url = f"/inventory/holdings/{journal.holding.id}"
        db.session.remove()
    return url


def test_bind_two_issues_then_mark_the_work_order_done(page: Page, live_server, journal_url, log_in, page_problems):
    log_in("buyer")
    page.goto(f"{live_server}{journal_url}")
    page.get_by_role("link", name="Bind items").click()
    page.get_by_label("Bind A1").check()
    page.get_by_label("Bind A3").check()
    page.get_by_label("Barcode of the bound item").fill("BOUND-13")
    page.get_by_role("button", name="Bind selected").click()
    notice = page.locator(".flash.ok")
    expect(notice).to_contain_text("A1, A3 bound into item BOUND-13")
    assert page.url.endswith(journal_url)  # swapped in place
    row = page.locator("tr", has_text="BOUND-13")
    expect(row).to_contain_text("In a work order")
    expect(page.locator("tr", has_text="A2")).to_contain_text("In place")

    page.goto(f"{live_server}/inventory/work-orders")
    page.get_by_label("Barcode of the bound item").fill("BOUND-13")
    page.get_by_role("button", name="Mark done").click()
    expect(page.locator(".flash.ok")).to_contain_text("done: item BOUND-13 is in place")
    expect(page.get_by_text("No open work orders.")).to_be_visible()
    assert page_problems == []
