"""In Chromium: an administrator creates a connection and a finance profile through the wizard,
turns the invoice export on, sees it under Scheduled, runs it now and watches the run finish on
Monitor Jobs; the Ready-to-be-Paid invoice is then in the ERP's folder."""
import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.invoices import services as ivs
from testkit.world import World
from tests.invoices.helpers import invoice, make_vendors


@pytest.fixture
def ready_invoice(browser_app):
    app, _ = browser_app
    with app.app_context():
        from app.auth.models import User
        users = {u.username: u.id for u in db.session.scalars(db.select(User))}
        from app.funds.models import Fund, FiscalPeriod, Ledger
        from app.org.models import Library
        get = lambda model, **kw: db.session.scalar(db.select(model).filter_by(**kw))  # noqa: E731
        world = World(get(Library, code="LIBA"), get(Library, code="LIBB"), get(FiscalPeriod, code="FY2026"),
                      get(Ledger, code="GEN"), get(Ledger, code="LEDA"), get(Ledger, code="LEDB"),
                      get(Fund, code="BOOKS"), get(Fund, code="SHARED"), get(Fund, code="A-BKS"),
                      get(Fund, code="B-BKS"), users)
        vendors = make_vendors(world)
        inv = invoice(world, world.user("invoicer"), vendors.plain, number="ERP-1", amounts=("120.00",))
        ivs.process_invoice(world.user("invoicer"), inv)
        ivs.approve_invoice(world.user("invmanager"), inv)
        db.session.commit()
        assert inv.status == "ready_to_be_paid"
        db.session.remove()


def test_admin_sets_up_the_erp_exchange_and_runs_the_invoice_export(page, live_server, log_in, shot, page_problems,
                                                                    ready_invoice, tmp_path):
    erp = tmp_path / "erp"
    erp.mkdir()
    log_in("admin")
    page.goto(f"{live_server}/admin/erp")
    page.get_by_role("link", name="New connection").click()
    page.get_by_label("Code", exact=True).fill("UNIFIN")
    page.get_by_label("Name", exact=True).fill("University finance drop folder")
    page.get_by_label("Type").select_option("local")
    page.get_by_label("Folder", exact=True).fill(str(erp))
    page.get_by_role("button", name="Save connection").click()
    expect(page.get_by_text("Connection UNIFIN saved")).to_be_visible()

    page.get_by_role("link", name="New profile").click()
    page.get_by_label("Code", exact=True).fill("UNIFIN-SAP")
    page.get_by_label("Name", exact=True).fill("University SAP")
    page.get_by_label("Connection").select_option(label="UNIFIN · University finance drop folder (Local folder)")
    page.get_by_label("Financial system type").fill("SAP")
    page.get_by_role("button", name="Next: sections").click()
    expect(page.get_by_text("Step 2 of 2")).to_be_visible()
    for job, folder in (("import_payments", "../payments"), ("export_invoices", "invoices/out"),
                        ("load_allocations", "allocations/in"), ("export_orders", "orders/out"),
                        ("export_po_lines", "polines/out")):
        page.locator(f"#{job}-path").fill(folder)
    page.locator("#export_invoices-schedule").select_option("daily")
    page.locator("#export_invoices-schedule_time").fill("23:45")
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator("#import_payments-path-err")).to_contain_text("..")   # path traversal refused
    page.locator("#import_payments-path").fill("payments/in")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("heading", name=re.compile("Profile UNIFIN-SAP"))).to_be_visible()
    shot("profile")

    switch = page.get_by_role("switch", name="Export invoices for payment")
    expect(switch).to_have_attribute("aria-checked", "false")
    switch.click()
    expect(page.get_by_text("Export invoices for payment: active.")).to_be_visible()
    expect(page.get_by_role("switch", name="Export invoices for payment")).to_have_attribute("aria-checked", "true")

    page.get_by_role("navigation", name="ERP integration").get_by_role("link", name="Monitor jobs").click()
    scheduled = page.locator("section", has=page.get_by_role("heading", name="Scheduled"))
    expect(scheduled.get_by_role("row", name=re.compile("Export invoices for payment.*UNIFIN-SAP.*Daily at 23:45")))\
        .to_be_visible()

    page.get_by_role("link", name="UNIFIN-SAP").first.click()
    page.get_by_role("button", name="Run now (Export invoices for payment)").click()
    summary = page.locator("#run-summary")
    expect(summary).to_contain_text("Export invoices for payment")
    expect(summary.locator(".badge")).to_have_text("Completed", timeout=30_000)   # the page polled itself
    expect(summary).to_contain_text("1 file(s), 1 record(s)")
    expect(page.locator("#run-events")).to_contain_text("ERP-1")   # the events came with the end of the run
    shot("run")
    page.get_by_role("navigation", name="ERP integration").get_by_role("link", name="Monitor jobs").click()
    history = page.locator("#history")
    expect(history.get_by_role("row", name=re.compile("Export invoices for payment.*UNIFIN-SAP.*Completed")))\
        .to_be_visible()
    shot("monitor")
    files = list((erp / "invoices" / "out").glob("*.xml"))
    assert len(files) == 1 and b"ERP-1" in files[0].read_bytes()
    assert not page_problems
