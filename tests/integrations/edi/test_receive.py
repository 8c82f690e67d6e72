"""Receiving EDI files: invoices created linked to their POLs (owner, funds, charges, VAT, channel,
workflow), duplicates refused, failures kept in the inbox with raw text and reason, retry after a fix."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.auth.models import Role
from app.auth.services import create_user
from app.errors import Forbidden
from app.extensions import db
from app.integrations.edi import services as es
from app.invoices import settings
from app.integrations.edi.models import EdiMessage
from app.invoices.models import Invoice
from app.orders.models import POLine
from tests.helpers import PASSWORD
from tests.integrations.edi.helpers import interchange, invoic, pol

pytestmark = pytest.mark.postgres

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _invoices() -> int:
    return db.session.scalar(select(func.count()).select_from(Invoice))


def _receive(world, vendor, data, name="inv.edi", user="invoicer"):
    result = es.receive_edi_file(world.user(user), vendor, name, data)
    db.session.commit()
    return result


def test_invoice_created_linked_to_its_pols(app, world, orders):
    """The basic case on both databases: two POLs of library A, line VAT, shipment charge pro rata."""
    p1, p2 = pol(world, orders.eur), pol(world, orders.eur, price="35.50", quantity=1)
    data = interchange(invoic("INV-1", [(p1.number, 2, "20.00", "40.00", "7", "2.80"),
                                        (p2.number, 1, "35.50", "35.50", "7", "2.49")],
                              charges=[("DL", "C", "4.50")], total="85.29"))
    result = _receive(world, orders.eur, data)
    [row] = result.messages
    assert row.status == "invoice_created", row.reason
    inv = db.session.get(Invoice, row.invoice_id)
    assert (inv.number, inv.channel, inv.vendor_id, inv.currency) == ("INV-1", "edi", orders.eur.id, "EUR")
    assert inv.owner_library_id == world.lib_a.id
    assert inv.total_amount == Decimal("85.29")
    assert [ln.po_line_id for ln in inv.lines] == [p1.id, p2.id]
    assert [(ln.quantity, ln.unit_price, ln.total) for ln in inv.lines] == [
        (2, Decimal("20.00"), Decimal("40.00")), (1, Decimal("35.50"), Decimal("35.50"))]
    assert [ln.fully_invoiced for ln in inv.lines] == [True, True]   # every ordered copy billed
    assert inv.vat_level == "line"
    assert [(ln.vat_percent, ln.vat_amount) for ln in inv.lines] == [(Decimal("7"), Decimal("2.80")),
                                                                      (Decimal("7"), Decimal("2.49"))]
    assert [[(d.fund_id, d.percent) for d in ln.distribution] for ln in inv.lines] == [
        [(world.fund_a.id, Decimal("100"))], [(world.fund_a.id, Decimal("100"))]]
    assert {c.charge_type: c.amount for c in inv.charges} == {"shipment": Decimal("4.50")}
    # the normal workflow ran: the total adds up, no approval rule → In Approval
    assert inv.review_problems == [] and inv.status == "in_approval"
    assert row.raw.startswith("UNA") and "BGM+380+INV-1" in row.raw


@SQLITE
def test_owner_is_the_institution_when_the_pols_are_in_two_libraries(app, world, orders):
    shared = [(world.shared, "100")]
    a = pol(world, orders.eur, library="a", funds=shared)
    b = pol(world, orders.eur, library="b", funds=shared, inventory_library=world.lib_b)
    data = interchange(invoic("INV-2", [(a.number, 2, "20.00", "40.00", None, None),
                                        (b.number, 2, "20.00", "40.00", None, None)], total="80.00"))
    [row] = _receive(world, orders.eur, data).messages
    inv = db.session.get(Invoice, row.invoice_id)
    assert row.status == "invoice_created" and inv.owner_library_id is None
    assert inv.vat_level == "none"


@SQLITE
def test_credit_note_is_a_refund(app, world, orders):
    p = pol(world, orders.eur)
    data = interchange(invoic("CN-1", [(p.number, 2, "20.00", "40.00", None, None)], doc="381", total="40.00"))
    [row] = _receive(world, orders.eur, data).messages
    inv = db.session.get(Invoice, row.invoice_id)
    assert inv.total_amount == Decimal("-40.00") and inv.is_refund
    assert inv.lines[0].total == Decimal("-40.00") and inv.lines[0].unit_price == Decimal("-20.00")
    assert inv.lines[0].fully_invoiced is False   # a refund never completes the POL


@SQLITE
def test_invoice_vat_and_charges_as_lines_without_pro_rata(app, world, orders):
    settings.update(world.user("admin"), {"invoice_use_pro_rata": False})
    p = pol(world, orders.eur)
    data = interchange(invoic("INV-3", [(p.number, 2, "20.00", "40.00", None, None)], header_tax="10",
                              charges=[("IN", "C", "2.00"), ("XX", "C", "1.00"), ("DI", "A", "0.50")],
                              total="46.50", tax="4.00"))
    [row] = _receive(world, orders.eur, data).messages
    assert row.status == "invoice_created", row.reason
    inv = db.session.get(Invoice, row.invoice_id)
    assert (inv.vat_level, inv.vat_percent, inv.vat_amount) == ("invoice", Decimal("10"), Decimal("4.00"))
    assert inv.charges == []
    assert [(ln.line_type, ln.total) for ln in inv.lines] == [
        ("regular", Decimal("40.00")), ("insurance", Decimal("2.00")), ("overhead", Decimal("1.00")),
        ("discount", Decimal("-0.50"))]
    assert all(d.fund_id == world.fund_a.id for ln in inv.lines for d in ln.distribution)
    assert inv.review_problems == []


@SQLITE
def test_same_file_again_is_a_duplicate_and_creates_nothing(app, world, orders):
    p = pol(world, orders.eur)
    data = interchange(invoic("INV-4", [(p.number, 2, "20.00", "40.00", None, None)], total="40.00"))
    first = _receive(world, orders.eur, data, "a.edi")
    count = _invoices()
    again = _receive(world, orders.eur, data, "renamed.edi")
    assert again.duplicate_of.id == first.messages[0].id
    [row] = again.messages
    assert row.status == "duplicate" and "a.edi" in row.reason and "nothing was created" in row.reason
    assert _invoices() == count


@SQLITE
def test_same_invoice_number_in_another_file_is_refused(app, world, orders):
    p = pol(world, orders.eur)
    _receive(world, orders.eur, interchange(invoic("INV-5", [(p.number, 1, "20.00", "20.00", None, None)],
                                                    total="20.00")))
    first = db.session.scalar(select(Invoice).filter_by(number="INV-5"))
    other = interchange(invoic("inv-5", [(p.number, 1, "20.00", "20.00", None, None)], total="20.00",
                               day="20260311"))
    [row] = _receive(world, orders.eur, other, "b.edi").messages
    assert row.status == "failed" and row.invoice_id is None
    assert row.reason.startswith(f"Duplicate: invoice INV-5 of vendor EURV already exists (id {first.id}")
    assert "BGM+380+inv-5" in row.raw


@SQLITE
def test_unknown_order_line_is_kept_then_retried_once_the_pol_exists(app, world, orders, login_as):
    known = pol(world, orders.eur)
    next_number = f"POL-{db.session.scalar(select(func.max(POLine.id))) + 1:06d}"
    data = interchange(invoic("OK-1", [(known.number, 2, "20.00", "40.00", None, None)], ref="1", total="40.00"),
                       invoic("LATE-1", [(next_number, 2, "20.00", "40.00", None, None)], ref="2", total="40.00"))
    ok, late = _receive(world, orders.eur, data).messages
    assert ok.status == "invoice_created"
    assert late.status == "failed" and late.reason == f"Line 1: order line {next_number} unknown."
    assert late.raw and "LATE-1" in late.raw and "OK-1" not in late.raw
    # the inbox page shows it with its reason; the detail page its raw text
    client = login_as("invoicer")
    page = client.get("/invoices/edi/?status=failed").get_data(as_text=True)
    assert f"order line {next_number} unknown" in page and "LATE-1" in page
    assert "BGM+380+LATE-1+9" in client.get(f"/invoices/edi/{late.id}").get_data(as_text=True)
    # a retry before the fix fails the same way
    resp = client.post(f"/invoices/edi/{late.id}/retry", follow_redirects=True)
    assert "still fails" in resp.get_data(as_text=True)
    created = pol(world, orders.eur)
    assert created.number == next_number
    resp = client.post(f"/invoices/edi/{late.id}/retry", follow_redirects=True)
    assert "Invoice LATE-1 created" in resp.get_data(as_text=True)
    row = db.session.get(EdiMessage, late.id)
    assert row.status == "invoice_created" and row.attempts == 3
    assert db.session.get(Invoice, row.invoice_id).lines[0].po_line_id == created.id


@SQLITE
def test_supplier_mismatch_then_fixed_vendor_edi_id(app, world, orders):
    p = pol(world, orders.eur)
    data = interchange(invoic("GLN-1", [(p.number, 2, "20.00", "40.00", None, None)], supplier="4012345000009",
                              total="40.00"))
    [row] = _receive(world, orders.eur, data).messages
    assert row.status == "failed" and "NAD+SU is 4012345000009, which is not vendor EURV" in row.reason
    orders.eur.edi_vendor_id = "4012345000009"
    db.session.commit()
    es.retry_edi_message(world.user("invoicer"), row)
    db.session.commit()
    assert row.status == "invoice_created" and row.reason == ""


@SQLITE
def test_vendor_matched_from_the_supplier_when_none_chosen(app, world, orders):
    p, q = pol(world, orders.eur), pol(world, orders.other)
    data = interchange(invoic("M-1", [(p.number, 2, "20.00", "40.00", None, None)], ref="1", total="40.00"),
                       invoic("M-2", [(q.number, 2, "20.00", "40.00", None, None)], ref="2", supplier="OTHV",
                              total="40.00"),
                       invoic("M-3", [(p.number, 2, "20.00", "40.00", None, None)], ref="3", supplier="NOBODY",
                              total="40.00"),
                       invoic("M-4", [(q.number, 2, "20.00", "40.00", None, None)], ref="4", total="40.00"))
    rows = _receive(world, None, data).messages
    assert [r.status for r in rows] == ["invoice_created", "invoice_created", "failed", "failed"]
    assert [r.vendor_id for r in rows[:2]] == [orders.eur.id, orders.other.id]
    assert "No single vendor has the supplier id NOBODY" in rows[2].reason
    assert f"order line {q.number} is ordered from vendor OTHV, not EURV" in rows[3].reason


@SQLITE
def test_unreadable_file_is_kept_whole(app, world, orders):
    data = b"HELLO, this is no EDIFACT"
    result = _receive(world, orders.eur, data, "broken.edi")
    [row] = result.messages
    assert row.status == "failed" and row.message_index == 0 and result.rejected
    assert "must start with UNA or UNB" in row.reason
    assert row.raw == data.decode("latin-1")
    assert _invoices() == 0


@SQLITE
def test_unreadable_message_is_kept_with_its_reason(app, world, orders):
    data = b"UNA:+.? 'UNB+UNOC:3+S:14+R:14+260310:0900+1'UNH+1+INVOIC:D:96A:UN'BGM+380+X+9'UNZ+1+1'"
    [row] = _receive(world, orders.eur, data, "broken.edi").messages
    assert row.status == "failed" and row.message_index == 1 and row.message_ref == "1"
    assert "The message has no UNT" in row.reason
    assert "BGM+380+X+9'" in row.raw
    assert _invoices() == 0


@SQLITE
def test_message_errors_and_domain_errors_fail_the_message(app, world, orders):
    p = pol(world, orders.eur)
    bad_currency = invoic("C-1", [(p.number, 2, "20.00", "40.00", None, None)], ref="1", currency="XYZ", total="40.00")
    no_date = [s for s in invoic("C-2", [(p.number, 2, "20.00", "40.00", None, None)], ref="2") if "DTM" not in s]
    rows = _receive(world, orders.eur, interchange(bad_currency, no_date)).messages
    assert [r.status for r in rows] == ["failed", "failed"]
    assert "Unknown currency XYZ" in rows[0].reason
    assert "DTM+137: the invoice date is missing" in rows[1].reason
    assert _invoices() == 0


@SQLITE
def test_vat_question_is_answered_as_the_vendor_sent_it(app, world, orders):
    from app.vendors import services as vs
    liable = vs.create_vendor(world.user("admin"), "LIABL", vs.VendorFields(name="Liable", currency="EUR",
                                                                               liable_for_vat=True))
    db.session.commit()
    p = pol(world, liable)
    [row] = _receive(world, liable, interchange(invoic("V-1", [(p.number, 2, "20.00", "40.00", None, None)],
                                                       supplier="LIABL", total="40.00"))).messages
    inv = db.session.get(Invoice, row.invoice_id)
    assert row.status == "invoice_created" and inv.vat_confirmed == "confirm_no_vat_though_liable"
    assert "liable for VAT" in inv.notes


@SQLITE
def test_only_institution_wide_invoice_operators_receive(app, world, orders):
    scoped = create_user(None, "invoicer-a", PASSWORD, roles=[(Role.INVOICE_OPERATOR, world.lib_a)])
    db.session.commit()
    data = interchange(invoic("P-1", [("POL-000001", 1, "1.00", "1.00", None, None)], total="1.00"))
    for user in (scoped, world.user("viewer"), world.user("buyer")):
        with pytest.raises(Forbidden):
            es.receive_edi_file(user, orders.eur, "p.edi", data)
    assert db.session.scalar(select(func.count()).select_from(EdiMessage)) == 0


@SQLITE
def test_oversized_file_is_refused(app, world, orders, monkeypatch):
    monkeypatch.setattr(es, "MAX_FILE_BYTES", 100)
    from app.errors import InvalidInput
    with pytest.raises(InvalidInput, match="at most 100 bytes"):
        es.receive_edi_file(world.user("invoicer"), orders.eur, "big.edi", b"U" * 101)
