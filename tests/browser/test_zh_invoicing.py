"""Real browser, in Chinese: the invoicing workflow of seed 003 with the seed's own terms on screen.

The browser asks for Chinese (zh-CN, as a browser in China does); the invoice operator saves and
continues an invoice (复核中 → 批准中), the invoice manager approves it from the 批准中 task list
(→ 准备付款) and records its payment (→ 已关闭). Every page is photographed at 1400 and 1024 px wide
(test-results/), and at 1024 none may scroll sideways. Nothing on the way may be left in English
(tests/i18n/leftovers.py, against every stored value of the database).
"""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_invoices import badge, invoice_data  # noqa: F401  (the same invoice INV-77)
from tests.helpers import PASSWORD
from tests.i18n.leftovers import english_left

pytestmark = [pytest.mark.browser, pytest.mark.browser_context_args(locale="zh-CN")]
WIDTHS = (1400, 1024)


@pytest.fixture
def known_data(browser_app, invoice_data):  # noqa: F811
    from app.extensions import db
    from tests.i18n.leftovers import data_words
    app, _ = browser_app
    with app.app_context():
        words = data_words(db.session, db.metadata)
        db.session.remove()
    return words


def test_seed_003_invoicing_workflow_in_chinese(page: Page, live_server, invoice_data, known_data,  # noqa: F811
                                                 shot, page_problems):
    d = invoice_data
    seen: dict[str, list[str]] = {}

    def look(name: str) -> None:
        """Both widths photographed; no sideways scroll at 1024; no English left on the page."""
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            shot(f"{name}-{width}")
        overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{name}: the page scrolls sideways by {overflow} px at 1024 px"
        left = english_left(page.content(), known_data)
        if left:
            seen[name] = left

    def log_in(username: str) -> None:
        page.goto(f"{live_server}/login")
        expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
        look("login") if username == "invoicer" else None
        page.locator("#username").fill(username)
        page.locator("#password").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("button", name="退出")).to_be_visible()

    log_in("invoicer")
    look("home")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="发票").click()
    expect(page.get_by_role("heading", name="发票")).to_be_visible()
    look("list")
    page.locator("#invoice-table").get_by_role("link", name="INV-77").click()
    expect(badge(page)).to_have_text("复核中")
    look("in-review")
    page.get_by_role("button", name="保存并继续").click()
    expect(badge(page)).to_have_text("批准中")
    expect(page.locator("#status .flash.ok")).to_contain_text("INV-77")
    look("in-approval")
    page.get_by_role("button", name="退出").click()

    log_in("invmanager")
    page.goto(f"{live_server}/invoices/")
    expect(page.get_by_role("link", name="等待付款")).to_be_visible()
    page.get_by_role("link", name="批准中").click()
    tasks = page.locator("#invoice-tasks")
    expect(tasks.get_by_role("link", name="INV-77")).to_be_visible()
    look("approval-tasks")
    tasks.locator("button", has_text="批准").first.click()
    expect(tasks.locator(".flash.ok")).to_contain_text("INV-77")
    page.goto(f"{live_server}/invoices/{d.invoice_id}")
    expect(badge(page)).to_have_text("准备付款")
    look("ready-to-be-paid")
    page.locator("#invoice-page details summary", has_text="付款").first.click()
    page.locator("#pay-voucher").fill("VCH-2026-001")
    page.locator("#pay-date").fill("2026-03-20")
    page.locator(".payment-form button.primary").click()
    expect(badge(page)).to_have_text("已关闭")
    look("closed")
    page.get_by_role("navigation", name="发票各部分").get_by_role("link", name="历史").click()
    expect(page.locator("#tab-panel")).to_contain_text("复核中")   # stored in English, shown in Chinese
    expect(page.locator("#tab-panel")).to_contain_text("已关闭")
    look("history")
    assert not seen, "\n".join(f"{name}: {left}" for name, left in seen.items())
    assert page_problems == []
