"""Delivering EDI ORDERS files to the real test sshd and FTP server: the file arrives under its
final name and reads back as the PO; a connection dropped mid-upload leaves the letter queued and
the next attempt leaves one file; a file already on the server is not uploaded again; a file that
does not check, or a vendor without EDI settings, is never uploaded."""
from __future__ import annotations

from decimal import Decimal

import pytest

from app.extensions import db
from app.integrations import transport as tr
from app.integrations.edi import orders as edi
from app.integrations.edi import services as es
from app.letters.data import demo_order
from app.outgoing import delivery, files
from app.outgoing.models import VendorMessage
from testkit.erp import ftp_connection, sftp_connection
from tests.integrations.invoice_export.conftest import CuttingProxy
from tests.outgoing.conftest import edi_parts, queued


def reload(message) -> VendorMessage:
    db.session.expire_all()
    return db.session.get(VendorMessage, message.id)


def edi_setting(world, vendor, connection, folder="edi", orders_folder=""):
    setting = es.save_setting(world.user("admin"), vendor, es.EdiSettingFields(connection=connection, folder=folder))
    setting.orders_folder = orders_folder
    db.session.commit()
    return setting


@pytest.fixture
def sftp_vendor(app, world, orders, sshd):
    """EURV sends its orders to the test sshd; returns the local folder its ORDERS files land in."""
    app.config["ERP_TIMEOUT"] = 5
    conn, root = sftp_connection(world.user("admin"), sshd, code="EDIORD")
    edi_setting(world, orders.eur, conn)
    return root / "edi" / "orders"


def test_orders_file_reaches_the_sftp_server_and_reads_back_as_the_po(app, world, orders, sftp_vendor):
    letter = demo_order(3)
    m = queued(orders.eur, channel="edi", letter=letter, to="")
    outcome = delivery.deliver(m.id)
    assert outcome.status == "sent", outcome.reason
    m = reload(m)
    assert m.status == "sent" and m.edi_name == f"ORDERS_PO-000001_M{m.id}.edi" and m.pdf_file is None
    assert sorted(p.name for p in sftp_vendor.iterdir()) == [m.edi_name]   # no temporary file left
    data = (sftp_vendor / m.edi_name).read_bytes()
    assert data == files.read(m.edi_file)
    read = edi.read_orders(data)
    assert (read.number, read.function, read.currency, read.account) == ("PO-000001", edi.ORDER, "EUR", "ACC-42")
    assert read.control_reference == f"M{m.id}" and read.line_count == 3 and not read.problems
    assert [(r.reference, r.quantity, r.list_price, r.net_amount, r.title, r.funds) for r in read.lines] == [
        (line.number, line.quantity, line.list_price, line.net_price, line.title, ["A-BKS"]) for line in letter.lines]
    assert "edi/orders" in m.to_address


def test_cancellation_goes_to_the_custom_orders_folder_on_ftp(app, world, orders, ftp_server):
    conn, root = ftp_connection(world.user("admin"), ftp_server, code="EDIFTP")
    edi_setting(world, orders.eur, conn, orders_folder="out/orders")
    m = queued(orders.eur, channel="edi", kind="po_cancellation", lines=1, to="")
    assert delivery.deliver(m.id).status == "sent"
    m = reload(m)
    [sent] = (root / "out" / "orders").iterdir()
    assert sent.name == m.edi_name
    read = edi.read_orders(sent.read_bytes())
    assert read.function == edi.CANCELLATION and [r.reference for r in read.lines] == ["POL-00001"]


def test_connection_dropped_mid_upload_stays_queued_and_the_retry_leaves_one_file(
        app, world, orders, sshd, monkeypatch):
    app.config["ERP_TIMEOUT"] = 5
    proxy = CuttingProxy(sshd.port)
    try:
        conn, root = sftp_connection(world.user("admin"), sshd, code="EDICUT", port=proxy.port)
        edi_setting(world, orders.eur, conn)
        folder = root / "edi" / "orders"
        real = tr.SFTPTransport.publish

        def cut_publish(self, folder_, name, data):
            proxy.arm(len(data) // 2)
            return real(self, folder_, name, data)
        monkeypatch.setattr(tr.SFTPTransport, "publish", cut_publish)
        m = queued(orders.eur, channel="edi", to="")
        outcome = delivery.deliver(m.id)
        assert outcome.status == "queued" and proxy.cuts == 1
        m = reload(m)
        assert m.status == "queued" and m.attempts == 1 and "Cannot upload" in m.last_error
        assert not (folder / m.edi_name).exists()
        edi_file = m.edi_file

        monkeypatch.undo()
        proxy.disarm()
        assert delivery.deliver(m.id).status == "sent"
        m = reload(m)
        assert m.edi_file == edi_file   # the same file, not built again
        assert sorted(p.name for p in folder.iterdir()) == [m.edi_name]
        assert (folder / m.edi_name).read_bytes() == files.read(edi_file)
    finally:
        proxy.close()


def test_file_already_on_the_server_is_marked_sent_without_a_second_upload(app, world, orders, sftp_vendor,
                                                                             monkeypatch):
    real = tr.SFTPTransport.publish

    def uploaded_then_dropped(self, folder, name, data):
        real(self, folder, name, data)
        raise tr.TransferError(f"Cannot upload {name}: the connection dropped before the server answered.")
    monkeypatch.setattr(tr.SFTPTransport, "publish", uploaded_then_dropped)
    m = queued(orders.eur, channel="edi", to="")
    assert delivery.deliver(m.id).status == "queued"

    def never(*_args):
        raise AssertionError("uploaded a second time")
    monkeypatch.setattr(tr.SFTPTransport, "publish", never)
    outcome = delivery.deliver(m.id)
    assert outcome.status == "sent" and "already on the server" in outcome.reason
    m = reload(m)
    assert m.status == "sent" and m.attempts == 2
    assert [p.name for p in sftp_vendor.iterdir()] == [m.edi_name]


def test_server_down_keeps_the_order_queued(app, world, orders, sftp_vendor, sshd):
    m = queued(orders.eur, channel="edi", to="")
    sshd.stop()
    try:
        outcome = delivery.deliver(m.id)
    finally:
        sshd.start()
    assert outcome.status == "queued" and "Cannot reach" in outcome.reason
    m = reload(m)
    assert m.status == "queued" and m.edi_file   # built once, sent by the next attempt
    assert delivery.deliver(m.id).status == "sent"
    assert [p.name for p in sftp_vendor.iterdir()] == [m.edi_name]


def test_file_that_cannot_be_built_is_never_uploaded(app, world, orders, sftp_vendor):
    letter = demo_order(1)
    bad = queued(orders.eur, channel="edi", letter=letter, to="",
                 parts=edi_parts(letter, supplier=edi.Party("VENDOR\nID", "14")))
    huge = demo_order(1)
    huge = type(huge)(**{**huge.__dict__, "lines": (type(huge.lines[0])(
        **{**huge.lines[0].__dict__, "list_price": Decimal("1" * 20)}),)})
    too_big = queued(orders.eur, channel="edi", letter=huge, to="")
    claim = queued(orders.eur, channel="edi", kind="claim", to="")
    summary = delivery.deliver_due()
    assert summary.failed == 3 and summary.sent == 0
    assert "EDI order cannot be built" in reload(bad).last_error and "control characters" in reload(bad).last_error
    assert "more than 15 digits" in reload(too_big).last_error
    assert "cannot be sent by EDI" in reload(claim).last_error
    assert not sftp_vendor.exists() or list(sftp_vendor.iterdir()) == []


def test_vendor_without_edi_settings_waits_with_the_reason(app, world, orders):
    m = queued(orders.usd, channel="edi", to="")
    outcome = delivery.deliver(m.id)
    assert outcome.status == "queued" and "no EDI settings" in outcome.reason
    assert reload(m).edi_file   # the file is ready for when the settings are
