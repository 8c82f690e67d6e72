"""The export job on real servers: the files parse back, match our XSD and the database's totals,
are rendered identically again, leave internal copies and prepaid invoices alone, move the
invoices on exactly once, and split by owner when asked."""
from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree
from sqlalchemy import update

from app.extensions import db
from jobs import export_invoices as invoice_export
from app.integrations.formats.payment_data import NAMESPACE
from app.integrations.formats.xml import parse, schema_errors
from app.invoices import services as ivs
from app.invoices import settings
from app.invoices.charges import charges_of, postings_of
from app.invoices.models import Invoice
from app.org.models import Institution
from testkit.erp import erp_profile, ftp_connection, local_connection, sftp_connection
from tests.integrations.invoice_export.helpers import (batches, errors, export_marks, final_files, ready, run, statuses,
                                        warnings)

NS = {"p": NAMESPACE}
SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _check_file(data: bytes) -> etree._Element:
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<payment_data xmlns="' + NAMESPACE.encode())
    root = parse(data)
    assert schema_errors(root, "payment_data.xsd") == []
    return root


def _sums_match_database(root) -> int:
    """Each invoice's amount, fund amounts and local amounts equal the database's Decimals."""
    checked = 0
    for el in root.iterfind("p:invoice_list/p:invoice", NS):
        uid = el.findtext("p:unique_identifier", namespaces=NS)
        inv = db.session.query(Invoice).filter_by(erp_identifier=uid).one()
        assert el.findtext("p:invoice_number", namespaces=NS) == inv.number
        assert Decimal(el.findtext("p:invoice_amount/p:sum", namespaces=NS)) == inv.total_amount
        assert el.findtext("p:invoice_date", namespaces=NS) == inv.invoice_date.strftime("%m/%d/%Y")
        funds = el.findall("p:invoice_line_list/p:invoice_line/p:fund_info_list/p:fund_info", NS)
        charged = sum(Decimal(f.findtext("p:amount/p:sum", namespaces=NS)) for f in funds)
        local = sum(Decimal(f.findtext("p:local_amount/p:sum", namespaces=NS)) for f in funds)
        assert charged == sum(c.amount for c in charges_of(inv))
        assert local == sum(t.amount for t in postings_of(inv) if t.kind == "expenditure")
        lines = el.findall("p:invoice_line_list/p:invoice_line", NS)
        assert sum(Decimal(x.findtext("p:total_price", namespaces=NS)) for x in lines) == sum(
            line.total for line in inv.lines)
        checked += 1
    return checked


def _sftp_profile(world, sshd, **options):
    admin = world.user("admin")
    conn, path = sftp_connection(admin, sshd)
    erp_profile(admin, conn, folder_root=path, export_invoices=options)
    db.session.commit()
    return path / "invoices" / "out"


def test_sftp_export_valid_files_totals_and_statuses(erp_app, world, vendors, sshd):
    ids = ready(world, vendors.plain, 3)
    ids += ready(world, vendors.usd, 1, prefix="U", currency="USD", amounts=("123.45",))
    ids += ready(world, vendors.plain, 1, prefix="C", library=None, amounts=("40.00", "60.00"),
                 charges={"shipment": "5.00"}, notes="Pay by Friday & thank you — merci")
    folder = _sftp_profile(world, sshd)

    result = run(erp_app)
    assert result.status == "completed", errors(result)
    assert (result.files, result.records) == (5, 5)
    files = final_files(folder)
    assert len(files) == 5 and not [p for p in folder.iterdir() if p.suffix != ".xml"]
    sent = batches("sent")
    assert {b.file_name: b.content for b in sent} == files
    assert sum(_sums_match_database(_check_file(data)) for data in files.values()) == 5
    assert set(statuses(ids).values()) == {"waiting_for_payment"}
    assert all(export_marks(i) == 1 for i in ids)
    inv = db.session.get(Invoice, ids[0])
    assert inv.exported_at is not None
    assert f"INV_{inv.erp_identifier}_" in next(b.file_name for b in sent if b.invoices[0].invoice_id == ids[0])

    # FIL-09: rendering the batch again gives the same bytes; so does the next run (nothing to do).
    for b in sent:
        assert invoice_export.render_batch(b) == b.content
    again = run(erp_app)
    assert again.status == "completed" and (again.files, again.records) == (0, 0)
    assert len(final_files(folder)) == 5


@SQLITE
def test_file_content_in_detail(erp_app, world, vendors, sshd):
    [i] = ready(world, vendors.usd, 1, prefix="U", currency="USD", amounts=("123.45", "0.55"),
                charges={"shipment": "4.00", "discount": "-1.00"}, notes="Note <1>")
    folder = _sftp_profile(world, sshd)
    assert run(erp_app).status == "completed"
    [data] = final_files(folder).values()
    root = _check_file(data)
    el = root.find("p:invoice_list/p:invoice", NS)
    inv = db.session.get(Invoice, i)
    tags = [etree.QName(c).localname for c in el]
    assert "vendor_FinancialSys_Code" not in tags and not inv.vendor.financial_sys_code   # left out, as Alma does
    assert tags.index("vendor_liable_for_vat") < tags.index("vendor_payment_address_list") \
        < tags.index("unique_identifier") < tags.index("noteList") < tags.index("invoice_ownered_entity") \
        < tags.index("vat_info") < tags.index("additional_charges") < tags.index("invoice_line_list")
    assert el.findtext("p:unique_identifier", namespaces=NS) == inv.erp_identifier
    assert len(inv.erp_identifier) == 16
    assert el.findtext("p:invoice_amount/p:sum", namespaces=NS) == "127.00"
    assert el.findtext("p:invoice_amount/p:currency", namespaces=NS) == "USD"
    charges = el.find("p:additional_charges", NS)
    assert len(charges) == 28
    assert charges.findtext("p:shipment_amount", namespaces=NS) == "4.00"
    assert charges.findtext("p:discount_amount", namespaces=NS) == "-1.00"
    assert charges.findtext("p:total_charges_amount", namespaces=NS) == "3.00"
    assert charges.findtext("p:binding_amount", namespaces=NS) == "0.00"
    assert el.findtext("p:noteList/p:note/p:content", namespaces=NS) == "Note <1>"
    assert el.findtext("p:invoice_ownered_entity/p:creationDate", namespaces=NS) == \
        inv.created_at.strftime("%m/%d/%Y")
    assert el.findtext("p:approved_by", namespaces=NS) != ""
    rate = el.find("p:invoice_exchange_rate_list/p:exchange_rate", NS)
    assert (rate.findtext("p:rate", namespaces=NS), rate.findtext("p:currency", namespaces=NS)) == ("0.92", "EUR")
    fund = el.find("p:invoice_line_list/p:invoice_line/p:fund_info_list/p:fund_info", NS)
    assert fund.findtext("p:amount/p:currency", namespaces=NS) == "USD"
    assert fund.findtext("p:local_amount/p:currency", namespaces=NS) == "EUR"
    assert fund.findtext("p:code", namespaces=NS) == "A-BKS"
    assert fund.findtext("p:external_id", namespaces=NS) == "A-BKS"   # no external id: the code
    assert fund.findtext("p:fiscal_period", namespaces=NS) == "FY2026"
    assert fund.findtext("p:ledger_code", namespaces=NS) == "LEDA"
    assert fund.findtext("p:type", namespaces=NS) == "ALLOCATED"
    _sums_match_database(root)
    assert b"," not in b"".join(s.text.encode() for s in root.iter("{%s}sum" % NAMESPACE))


@SQLITE
def test_internal_copies_and_prepaid_are_left_alone(erp_app, world, vendors, sshd):
    normal = ready(world, vendors.plain, 1, prefix="N")
    internal = ready(world, vendors.plain, 1, prefix="I", internal_copy=True)
    prepaid = ready(world, vendors.plain, 1, prefix="P", prepaid=True)
    prepaid_exported = ready(world, vendors.plain, 1, prefix="X", prepaid=True, export_prepaid=True)
    # Approval already passed the skipped ones to payment; put them back in Ready to be Paid, as
    # data from elsewhere could have them, to check that the export itself leaves them out.
    db.session.execute(update(Invoice).where(Invoice.id.in_(internal + prepaid)).values(status="ready_to_be_paid"))
    folder = _sftp_profile(world, sshd)
    result = run(erp_app)
    assert result.status == "completed" and result.records == 2
    assert statuses(internal + prepaid) == {internal[0]: "ready_to_be_paid", prepaid[0]: "ready_to_be_paid"}
    assert statuses(normal + prepaid_exported) == {normal[0]: "waiting_for_payment",
                                                   prepaid_exported[0]: "waiting_for_payment"}
    names = b"".join(final_files(folder).values())
    assert b"<invoice_number>N-1<" in names and b"<invoice_number>X-1<" in names
    assert b"<invoice_number>I-1<" not in names and b"<invoice_number>P-1<" not in names


@SQLITE
def test_closed_when_payment_is_not_handled(erp_app, world, vendors, sshd):
    ids = ready(world, vendors.plain, 2)
    settings.update(world.user("admin"), {"handle_invoice_payment": False})
    _sftp_profile(world, sshd)
    assert run(erp_app).status == "completed"
    assert set(statuses(ids).values()) == {"closed"}
    assert all(export_marks(i) == 1 for i in ids)


@SQLITE
def test_split_by_owner_one_file_per_owner(erp_app, world, vendors, sshd):
    a = ready(world, vendors.plain, 2, prefix="A", library="a")
    b = ready(world, vendors.plain, 1, prefix="B", library="b")
    inst = ready(world, vendors.plain, 2, prefix="C", library=None)
    folder = _sftp_profile(world, sshd, split_by_owner=True)
    result = run(erp_app)
    assert result.status == "completed" and (result.files, result.records) == (3, 5)
    files = final_files(folder)
    by_prefix = {name.rsplit("_", 1)[0]: data for name, data in files.items()}
    code = Institution.current().code
    assert set(by_prefix) == {"LIBA_LBR", "LIBB_LBR", f"{code}_INT"}
    for prefix, count in (("LIBA_LBR", 2), ("LIBB_LBR", 1), (f"{code}_INT", 2)):
        root = _check_file(by_prefix[prefix])
        assert len(root.findall("p:invoice_list/p:invoice", NS)) == count
        assert _sums_match_database(root) == count
    assert set(statuses(a + b + inst).values()) == {"waiting_for_payment"}
    for batch in batches("sent"):
        assert invoice_export.render_batch(batch) == batch.content


@SQLITE
def test_ftp_export(erp_app, world, vendors, ftp_server):
    ids = ready(world, vendors.plain, 2)
    admin = world.user("admin")
    conn, path = ftp_connection(admin, ftp_server)
    erp_profile(admin, conn, folder_root=path)
    result = run(erp_app)
    assert result.status == "completed" and result.files == 2, errors(result)
    files = final_files(path / "invoices" / "out")
    assert files == {b.file_name: b.content for b in batches("sent")}
    assert set(statuses(ids).values()) == {"waiting_for_payment"}


def test_local_folder_export(erp_app, world, vendors, tmp_path):
    ids = ready(world, vendors.plain, 2)
    admin = world.user("admin")
    conn, path = local_connection(admin, tmp_path / "erp")
    erp_profile(admin, conn, folder_root=path)
    result = run(erp_app)
    assert result.status == "completed" and result.files == 2, errors(result)
    files = final_files(path / "invoices" / "out")
    assert files == {b.file_name: b.content for b in batches("sent")}
    for data in files.values():
        _sums_match_database(_check_file(data))
    assert set(statuses(ids).values()) == {"waiting_for_payment"}


@SQLITE
def test_invoice_sent_back_to_review_voids_its_pending_batch(erp_app, world, vendors, sshd):
    admin = world.user("admin")
    ids = ready(world, vendors.plain, 2)
    conn, path = sftp_connection(admin, sshd, host_key=sshd.other_host_key)   # every upload fails
    prof = erp_profile(admin, conn, folder_root=path)
    db.session.commit()
    assert run(erp_app).status == "failed"
    assert len(batches("pending")) == 2
    ivs.send_back_to_review(world.user("invmanager"), db.session.get(Invoice, ids[0]), "wrong price")
    conn.host_key = sshd.host_key
    db.session.commit()
    result = run(erp_app)
    assert result.status == "completed", errors(result)
    assert len(batches("void")) == 1 and len(batches("sent")) == 1
    assert statuses(ids) == {ids[0]: "in_review", ids[1]: "waiting_for_payment"}
    assert prof.id == batches("sent")[0].profile_id
    assert len(final_files(path / "invoices" / "out")) == 1


@SQLITE
def test_invalid_file_fails_the_run_and_uploads_nothing(erp_app, world, vendors, sshd, monkeypatch):
    ids = ready(world, vendors.plain, 2)
    folder = _sftp_profile(world, sshd)
    real = invoice_export.invoice_data

    def broken(invoice, institution, *rest):
        data = real(invoice, institution, *rest)
        return data.__class__(**{**data.__dict__, "unique_identifier": "12AB"})
    monkeypatch.setattr(invoice_export, "invoice_data", broken)
    result = run(erp_app)
    assert result.status == "failed"
    assert "does not match payment_data.xsd" in result.message and "unique_identifier" in result.message
    assert list(folder.iterdir()) == [] and batches() == []
    assert set(statuses(ids).values()) == {"ready_to_be_paid"}


@pytest.mark.committing
@SQLITE
def test_invoice_changed_while_its_file_travels_is_left_as_it_is(erp_app, world, vendors, sshd, monkeypatch):
    from app.integrations import transport as tr
    ids = ready(world, vendors.plain, 1)
    folder = _sftp_profile(world, sshd)
    engine, real = db.engine, tr.SFTPTransport.publish

    def publish_while_sent_back(self, folder_, name, data):
        with engine.begin() as conn:   # someone else, meanwhile, on their own connection
            conn.execute(update(Invoice).where(Invoice.id == ids[0]).values(status="in_review"))
        return real(self, folder_, name, data)
    monkeypatch.setattr(tr.SFTPTransport, "publish", publish_while_sent_back)
    result = run(erp_app)
    assert result.status == "failed" and result.files == 1   # its only invoice was not exported: Failed
    assert result.records == 0 and result.records_failed == 1
    assert any("was sent in" in m and "is now In Review" in m for m in warnings(result))
    assert statuses(ids) == {ids[0]: "in_review"} and export_marks(ids[0]) == 0
    assert len(batches("sent")) == 1 and len(final_files(folder)) == 1
