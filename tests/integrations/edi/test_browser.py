"""Real browser (issue 12, finding 4): an EDI upload answers at once with its run's page, which
follows the background run by HTMX polling and then shows what became of each message: here one
invoice created and one message refused for an amount beyond the money columns (CSRF on, no
console or CSP errors)."""
from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from app.integrations.edi import services as edi
from tests.integrations.edi.helpers import OVERFLOW, good_message, interchange

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_app(make_app):
    """The standard world with CSRF on, the EDI vendors and one PO line of EURV to invoice."""
    from app.extensions import db
    from testkit.world import load_world
    from tests.integrations.edi.helpers import pol
    from tests.orders.helpers import make_vendors

    app = make_app("sqlite", world=True, WTF_CSRF_ENABLED=True)
    with app.app_context():
        world = load_world()
        vendors = make_vendors(world)
        ids = SimpleNamespace(pol=pol(world, vendors.eur, quantity=10).number)
        db.session.remove()
    return app, ids


def test_H12_04_the_upload_page_follows_its_background_run(page, browser_app, live_server, log_in, page_problems,
                                                           shot, tmp_path, monkeypatch):
    app, ids = browser_app
    release = threading.Event()
    real = edi._process

    def held(*args, **kw):   # the run waits until the page has shown it running
        release.wait(30)
        return real(*args, **kw)
    monkeypatch.setattr(edi, "_process", held)
    path = tmp_path / "march.edi"
    path.write_bytes(interchange(good_message("BRW-1", ids.pol, ref="1"),
                                 good_message("BRW-2", ids.pol, ref="2", amount=OVERFLOW)))

    log_in("invoicer")
    page.goto(f"{live_server}/invoices/edi/upload")
    page.get_by_label("EDIFACT file").set_input_files(str(path))
    page.get_by_role("button", name="Receive").click()
    status = page.locator("#edi-upload")
    expect(status).to_contain_text("Running")
    expect(status).to_contain_text("0 / 2 message(s)")
    expect(status).to_have_attribute("hx-trigger", "every 2s")
    shot("running")
    url = page.url
    release.set()
    expect(status).to_contain_text("1 invoice(s) created; 1 message(s) kept in the inbox as failed", timeout=20_000)
    expect(status).to_contain_text("MOA+203: 12345678901234567890 is too large")
    expect(status.get_by_role("link", name="BRW-1")).to_be_visible()
    assert status.get_attribute("hx-trigger") is None and page.url == url   # swapped in place, polling ended
    shot("done")
    assert page_problems == []
