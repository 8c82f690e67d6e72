"""Export orders (PO): one XML file per sent PO on the real sshd, nothing lost when the server is
down, data problems marked failed and rerun by an administrator, invalid files never uploaded."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

import jobs.export_orders
from app.errors import Forbidden
from app.extensions import db
from app.integrations import order_export
from app.integrations.formats import orders as fmt
from app.integrations.models import OrderExport
from app.orders import services as os_
from app.orders.models import OutboxEvent
from testkit.erp import erp_profile, sftp_connection
from tests.integrations.order_export.helpers import dec, files, messages, read_po, run_job, sent, text
from tests.orders.helpers import line

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _exports():
    db.session.expire_all()
    return db.session.scalars(select(OrderExport).order_by(OrderExport.outbox_event_id)).all()


def _event_id(po):
    return db.session.scalar(select(OutboxEvent.id).where(OutboxEvent.kind == "po_sent",
                                                          OutboxEvent.object_id == po.id))


def test_each_sent_po_becomes_one_valid_file(app, world, orders, erp):
    profile, root = erp
    a = sent(world, orders.eur, price="100.00", quantity=2, reporting_code="RC1", vendor_reference="V-9")
    b = sent(world, orders.usd, price="50.00", title="Dollar book")
    orders.usd.financial_sys_code = "ERP-USD-1"
    db.session.commit()
    assert order_export.pending_orders(profile) == 2

    run = run_job(app, jobs.export_orders)
    assert (run.status, run.files, run.records, run.records_failed) == ("completed", 2, 2, 0)
    folder = root / "orders/out"
    names = [f"PO_{a.po.number}_{_event_id(a.po)}.xml", f"PO_{b.po.number}_{_event_id(b.po)}.xml"]
    assert files(folder) == sorted(names)
    doc = read_po(folder / names[0])
    po = doc.find("p:po_list/p:po", {"p": fmt.PO_NAMESPACE})
    assert text(po, "p:po_number") == a.po.number and text(po, "p:vendor_code") == "EURV"
    assert text(po, "p:po_owner") == "Library A" and text(po, "p:po_owner_code") == "LIBA"
    assert text(po, "p:sent_date") == a.po.sent_at.strftime("%m/%d/%Y")
    assert (text(po, "p:po_amount/p:currency"), dec(po, "p:po_amount/p:sum")) == ("EUR", Decimal("200.00"))
    pol = po.find("p:po_line_list/p:po_line", {"p": fmt.PO_NAMESPACE})
    assert text(pol, "p:po_line_number") == a.number and text(pol, "p:po_line_status") == "SENT"
    assert int(text(pol, "p:quantity")) == 2 and dec(pol, "p:po_line_price/p:sum") == Decimal("200.00")
    assert text(pol, "p:reporting_code") == "RC1" and text(pol, "p:vendor_reference_number") == "V-9"
    fund = pol.find("p:fund_info_list/p:fund_info", {"p": fmt.PO_NAMESPACE})
    assert text(fund, "p:code") == "A-BKS" and text(fund, "p:fiscal_period") == world.period.code
    assert dec(fund, "p:amount/p:sum") == Decimal("200.00") and text(fund, "p:ledger_code") == "LEDA"

    usd = read_po(folder / names[1]).find("p:po_list/p:po", {"p": fmt.PO_NAMESPACE})
    assert text(usd, "p:vendor_FinancialSys_Code") == "ERP-USD-1"
    assert (text(usd, "p:currency"), dec(usd, "p:po_amount/p:sum")) == ("USD", Decimal("50.00"))
    fund = usd.find(".//p:fund_info", {"p": fmt.PO_NAMESPACE})
    assert (text(fund, "p:amount/p:currency"), dec(fund, "p:amount/p:sum")) == ("USD", Decimal("50.00"))
    assert (text(fund, "p:local_amount/p:currency"), dec(fund, "p:local_amount/p:sum")) == ("EUR", Decimal("46.00"))

    assert [(e.status, e.file_name) for e in _exports()] == [("sent", names[0]), ("sent", names[1])]
    assert order_export.pending_orders(db.session.get(type(profile), profile.id)) == 0
    # A second run sends nothing again.
    run = run_job(app, jobs.export_orders)
    assert run.status == "completed" and run.files == 0 and files(folder) == sorted(names)


@SQLITE
def test_server_down_keeps_the_order_pending_and_the_next_run_sends_it(app, world, orders, erp, sshd):
    profile, root = erp
    pol = sent(world, orders.eur)
    try:
        sshd.stop()
        run = run_job(app, jobs.export_orders)
    finally:
        sshd.start()
    assert run.status == "failed" and run.files == 0
    assert "not sent; the next run sends them" in run.message
    [row] = _exports()
    assert (row.status, row.attempts, row.file_name) == ("pending", 1, "") and row.last_error
    assert order_export.pending_orders(profile) == 1

    run = run_job(app, jobs.export_orders)
    assert run.status == "completed" and run.files == 1
    [row] = _exports()
    assert (row.status, row.attempts) == ("sent", 2) and row.last_error == ""
    assert files(root / "orders/out") == [f"PO_{pol.po.number}_{row.outbox_event_id}.xml"]
    assert not list((root / "orders/out").glob("*.part"))


@SQLITE
def test_a_po_that_cannot_be_written_fails_alone_and_is_rerun(app, world, orders, erp):
    profile, root = erp
    buyer, admin = world.user("buyer"), world.user("admin")
    good = sent(world, orders.eur, title="good")
    # Two currencies on one PO: the format carries one currency per order.
    eur = line(world, buyer, orders.eur, title="in euro", packaging="manual")
    usd = line(world, buyer, orders.eur, title="in dollars", currency="USD", packaging="manual")
    for p in (eur, usd):
        os_.approve_po_line(buyer, p)
    po = os_.package_po_line(buyer, eur)
    os_.package_po_line(buyer, usd, po)
    os_.send_po(buyer, po)
    db.session.commit()

    run = run_job(app, jobs.export_orders)
    assert (run.status, run.files, run.records, run.records_failed) == ("completed", 1, 2, 1)
    assert run.status_label == "Completed with exceptions"
    assert any("one currency" in m for m in messages(run.id, "error"))
    assert files(root / "orders/out") == [f"PO_{good.po.number}_{_event_id(good.po)}.xml"]
    [failed] = order_export.failed_orders(profile)
    assert failed.po_number == po.number and "EUR and USD" in failed.last_error and failed.attempts == 1
    assert order_export.pending_orders(profile) == 0

    with pytest.raises(Forbidden):
        order_export.rerun_failed_orders(buyer, profile)
    # The data is put right (the line was meant in euro); then an administrator reruns.
    usd.currency = "EUR"
    db.session.commit()
    assert order_export.rerun_failed_orders(admin, profile) == 1
    db.session.commit()
    assert order_export.failed_orders(profile) == [] and order_export.pending_orders(profile) == 1
    run = run_job(app, jobs.export_orders)
    assert (run.status, run.files, run.records_failed) == ("completed", 1, 0)
    assert f"PO_{po.number}_{_event_id(po)}.xml" in files(root / "orders/out")


@SQLITE
def test_a_deleted_po_is_exported_as_a_deletion(app, world, orders, erp):
    profile, root = erp
    pol = sent(world, orders.eur)
    old = pol.po.number
    assert run_job(app, jobs.export_orders).files == 1
    new_po = os_.change_vendor(world.user("buyer"), pol, orders.other)
    db.session.commit()

    run = run_job(app, jobs.export_orders)
    assert (run.status, run.files, run.records_failed) == ("completed", 2, 0)
    out = root / "orders/out"
    deleted_event = db.session.scalar(select(OutboxEvent.id).where(OutboxEvent.kind == "po_deleted"))
    doc = read_po(out / f"PO_{old}_{deleted_event}.xml")
    node = doc.find("p:deleted_po_list/p:deleted_po", {"p": fmt.PO_NAMESPACE})
    assert text(node, "p:po_number") == old and text(node, "p:po_status") == "DELETED"
    assert text(node, "p:reason") == f"{pol.number} moved to {new_po.number}"
    new = read_po(out / f"PO_{new_po.number}_{_event_id(new_po)}.xml").find("p:po_list/p:po", {"p": fmt.PO_NAMESPACE})
    assert text(new, "p:vendor_code") == "OTHV"


@SQLITE
def test_orders_sent_before_the_profile_existed_are_not_exported(app, world, orders, sshd):
    sent(world, orders.eur)
    admin = world.user("admin")
    conn, root = sftp_connection(admin, sshd)
    profile = erp_profile(admin, conn, folder_root=root)
    db.session.commit()
    assert order_export.pending_orders(profile) == 0
    run = run_job(app, jobs.export_orders)
    assert run.status == "completed" and run.files == 0 and files(root / "orders/out") == []


@SQLITE
def test_a_file_that_fails_its_xsd_is_never_uploaded(app, world, orders, erp, monkeypatch):
    profile, root = erp
    sent(world, orders.eur)
    real = fmt.build_po_data
    monkeypatch.setattr(fmt, "build_po_data", lambda o: real(o).replace(b"<po_status>SENT", b"<po_status>LOST"))

    run = run_job(app, jobs.export_orders)
    assert run.status == "failed" and "does not match po_data.xsd" in run.message
    assert files(root / "orders/out") == []
    [row] = _exports()
    assert row.status == "pending"

    monkeypatch.setattr(fmt, "build_po_data", real)
    assert run_job(app, jobs.export_orders).files == 1


def test_builder_output_is_deterministic_and_plain():
    order = fmt.Order("PO-1", "Library Ä & Co", "LIBA", date(2026, 3, 4), fmt.VendorInfo("V", "Vendor <1>", "F-1"), [
        fmt.OrderLine("POL-1", "Tïtle", "sent", "one_time", 3, Decimal("10.50"), Decimal("0.00"),
                      fmt.Amount("EUR", Decimal("31.50")),
                      [fmt.FundInfo(fmt.Amount("EUR", Decimal("31.50")), "F", "Fund", "FY2026")])])
    data = fmt.build_po_data([order])
    assert data == fmt.build_po_data([order])
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<po_data xmlns="http://acquisitions.invalid/erp/po/v1">')
    assert "Library Ä &amp; Co".encode() in data and b"<sum>31.50</sum>" in data
    assert b"<sent_date>03/04/2026</sent_date>" in data
    with pytest.raises(fmt.FormatError):
        fmt.build_po_data([])


@SQLITE
def test_a_po_deleted_before_its_export_is_reported_and_its_deletion_sent(app, world, orders, erp):
    profile, root = erp
    pol = sent(world, orders.eur)
    old = pol.po.number
    new_po = os_.change_vendor(world.user("buyer"), pol, orders.other)
    db.session.commit()

    run = run_job(app, jobs.export_orders)
    assert (run.status, run.files, run.records, run.records_failed) == ("completed", 2, 3, 1)
    [failed] = order_export.failed_orders(profile)
    assert failed.po_number == old and "deleted before it was exported" in failed.last_error
    names = files(root / "orders/out")
    assert len(names) == 2 and any(n.startswith(f"PO_{old}_") for n in names)
    assert any(n.startswith(f"PO_{new_po.number}_") for n in names)
