"""Details from the seeds (issue 18): a PO line closes when its invoice is sent to the ERP, the
governmental VAT invoice goes through the workflow, closed lines' notes stay editable, VAT on a
chosen tax fund, owner changes."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.errors import Forbidden, InvalidInput, RuleViolation
from app.extensions import db
from app.invoices import services as ivs
from app.invoices import settings
from app.invoices.models import ApprovalRule, Invoice
from app.orders import services as os_
from tests.invoices.helpers import invoice, lines
from tests.orders.helpers import line as pol_line

pytestmark = pytest.mark.postgres


def _approved(world, inv):
    ivs.process_invoice(world.user("invoicer"), inv)
    ivs.approve_invoice(world.user("invmanager"), inv)
    db.session.commit()
    return inv


def _pol(world, vendor, *, received=True):
    buyer = world.user("buyer")
    pol = pol_line(world, buyer, vendor, price="90.00")
    os_.approve_po_line(buyer, pol)
    os_.send_po_line(buyer, pol)
    if received:
        os_.receive_po_line(buyer, pol)
    db.session.commit()
    return pol


def _pol_invoice(world, vendors, pol, number="INV-1", day=1):
    return _approved(world, invoice(world, world.user("invoicer"), vendors.plain, number=number, amounts=("90.00",),
                                    invoice_date=date(2026, 3, day), lines=lines("90.00", fund=world.fund_a, po_line=pol)))


def _events(pol, field_name):
    return [(e.old_value, e.new_value) for e in pol.history if e.field == field_name]


# -- 1. sent to the ERP closes the PO line ------------------------------------------------------

def test_a_received_po_line_closes_when_its_invoice_is_sent_to_the_erp(app, world, vendors):
    pol = _pol(world, vendors.plain)
    inv = _pol_invoice(world, vendors, pol)
    assert pol.status == "waiting_for_invoice"
    ivs.mark_exported(world.user("invmanager"), inv)
    db.session.commit()
    assert inv.status == "waiting_for_payment"
    assert pol.status == "closed" and pol.invoice_sent and not pol.paid
    assert len(_events(pol, "invoice_sent")) == 1
    closes = [e for e in pol.history if e.action == "close"]
    assert len(closes) == 1 and "sent to the ERP" in closes[0].note
    assert world.fund_a.encumbered == Decimal("0.00")
    # the payment later closes the invoice; the PO line, closed already, is not closed again
    ivs.record_payment(world.user("invmanager"), inv, "V-1", date(2026, 3, 10), "90.00")
    db.session.commit()
    assert inv.status == "closed" and len([e for e in pol.history if e.action == "close"]) == 1


def test_sent_before_receipt_closes_the_po_line_at_receipt(app, world, vendors):
    pol = _pol(world, vendors.plain, received=False)
    inv = _pol_invoice(world, vendors, pol)
    ivs.mark_exported(None, inv)
    db.session.commit()
    assert pol.status == "sent" and pol.invoice_sent
    os_.receive_po_line(world.user("buyer"), pol)
    db.session.commit()
    assert pol.status == "closed"


def test_the_export_job_marking_many_closes_their_po_lines(app, world, vendors):
    pols = [_pol(world, vendors.plain) for _ in range(2)]
    invs = [_pol_invoice(world, vendors, pol, number=f"INV-{n}", day=n + 1) for n, pol in enumerate(pols)]
    moved = ivs.mark_many_exported(world.user("admin"), [inv.id for inv in invs])
    db.session.commit()
    assert {m.status for m in moved.values()} == {"waiting_for_payment"}
    for pol in pols:
        db.session.refresh(pol)
        assert pol.status == "closed" and len(_events(pol, "invoice_sent")) == 1


def test_without_payment_handling_the_export_closes_as_before(app, world, vendors):
    settings.update(world.user("admin"), {"handle_invoice_payment": False})
    pol = _pol(world, vendors.plain)
    inv = _pol_invoice(world, vendors, pol)
    ivs.mark_exported(None, inv)
    db.session.commit()
    assert inv.status == "closed" and pol.status == "closed" and pol.paid


def test_a_partial_invoice_sent_leaves_the_po_line_open(app, world, vendors):
    pol = _pol(world, vendors.plain)
    inv = _approved(world, invoice(world, world.user("invoicer"), vendors.plain, amounts=("90.00",),
                                   lines=lines("90.00", fund=world.fund_a, po_line=pol, fully_invoiced=False)))
    ivs.mark_exported(None, inv)
    db.session.commit()
    assert pol.status == "waiting_for_invoice" and not pol.invoice_sent


def test_back_to_review_takes_the_sent_mark_back(app, world, vendors):
    pol = _pol(world, vendors.plain, received=False)
    inv = _pol_invoice(world, vendors, pol)
    ivs.mark_exported(None, inv)
    ivs.send_back_to_review(None, inv, "Unknown vendor code", erp=True)
    db.session.commit()
    assert not pol.invoice_sent
    os_.receive_po_line(world.user("buyer"), pol)
    db.session.commit()
    assert pol.status == "waiting_for_invoice"


# -- 6. the governmental VAT invoice is processed ------------------------------------------------

def _vat_invoice(vendors):
    return db.session.scalar(select(Invoice).where(Invoice.vendor_id == vendors.gov.id))


def test_the_governmental_vat_invoice_follows_its_invoice_through_the_workflow(app, world, vendors):
    op = world.user("invoicer")
    inv = invoice(world, op, vendors.taxed, confirm="add_vat", process=True)
    vat_inv = _vat_invoice(vendors)
    assert (inv.status, vat_inv.status) == ("in_approval", "in_approval")
    assert [e.action for e in vat_inv.history] == ["create", "to_approval"]
    manager = world.user("invmanager")
    ivs.approve_invoice(manager, vat_inv)
    ivs.mark_exported(None, vat_inv)
    ivs.record_payment(manager, vat_inv, "TAX-1", date(2026, 3, 31), "20.00")
    db.session.commit()
    assert vat_inv.status == "closed" and world.fund_a.expended == Decimal("20.00")


def test_the_vat_invoice_is_approved_automatically_when_a_rule_says_so(app, world, vendors):
    db.session.add(ApprovalRule(position=1, name="Tax office", vendor_id=vendors.gov.id, automatic=True))
    db.session.commit()
    invoice(world, world.user("invoicer"), vendors.taxed, confirm="add_vat", process=True)
    assert _vat_invoice(vendors).status == "ready_to_be_paid"


def test_the_vat_invoice_waits_while_its_invoice_has_review_problems(app, world, vendors):
    op = world.user("invoicer")
    inv = invoice(world, op, vendors.taxed, confirm="add_vat", total="999.00", process=True)   # total mismatch
    assert inv.status == "in_review" and inv.review_problems
    assert _vat_invoice(vendors).status == "in_review"


# -- 3. notes of closed lines ------------------------------------------------------------------

def _closed(world, vendors):
    inv = _approved(world, invoice(world, world.user("invoicer"), vendors.plain,
                                   lines=lines("100.00", fund=world.fund_a, price_note="list price",
                                               reporting_code="R1")))
    ivs.mark_exported(None, inv)
    ivs.record_payment(world.user("invmanager"), inv, "V-1", date(2026, 3, 10), "100.00")
    db.session.commit()
    return inv


def test_a_closed_lines_notes_change_with_history_and_nothing_else(app, world, vendors):
    inv = _closed(world, vendors)
    op = world.user("invoicer")
    ivs.edit_line_notes(op, inv, 1, {"price_note": "publisher's price", "reporting_code": "R2", "note": "checked"})
    db.session.commit()
    [line] = inv.lines
    assert (line.price_note, line.reporting_code, line.note) == ("publisher's price", "R2", "checked")
    edits = [(e.field, e.old_value, e.new_value, e.line_position, e.actor_id) for e in inv.history
             if e.action == "edit"]
    assert edits == [("price_note", "list price", "publisher's price", 1, op.id), ("reporting_code", "R1", "R2", 1, op.id),
                     ("note", "", "checked", 1, op.id)]
    with pytest.raises(RuleViolation, match="only the price note, reporting code and note .* not total, unit_price"):
        ivs.edit_line_notes(op, inv, 1, {"note": "x", "unit_price": "1.00", "total": "1.00"})
    db.session.rollback()
    assert (line.total, line.note, inv.status) == (Decimal("100.00"), "checked", "closed")
    assert world.fund_a.expended == Decimal("100.00")
    with pytest.raises(InvalidInput, match="longer than 40"):
        ivs.edit_line_notes(op, inv, 1, {"reporting_code": "R" * 41})
    db.session.rollback()
    with pytest.raises(Forbidden):
        ivs.edit_line_notes(world.user("viewer"), inv, 1, {"note": "x"})
    db.session.rollback()
    in_review = invoice(world, op, vendors.plain, number="INV-2")
    with pytest.raises(RuleViolation, match="edit its lines with the invoice"):
        ivs.edit_line_notes(op, in_review, 1, {"note": "x"})


def test_the_lines_tab_of_a_closed_invoice_edits_a_lines_notes(app, world, vendors):
    from tests.helpers import login
    inv = _closed(world, vendors)
    client = login(app.test_client(), "invoicer")
    page = client.get(f"/invoices/{inv.id}?tab=lines").data.decode()
    assert f'/invoices/{inv.id}/lines/1/notes' in page and 'name="reporting_code"' in page
    resp = client.post(f"/invoices/{inv.id}/lines/1/notes", headers={"HX-Request": "true"},
                       data={"price_note": "net", "reporting_code": "R9", "note": "seen"})
    assert resp.status_code == 200 and "Line 1 of invoice INV-1 saved" in resp.data.decode()
    db.session.expire_all()
    assert db.session.get(Invoice, inv.id).lines[0].reporting_code == "R9"
    history = client.get(f"/invoices/{inv.id}?tab=history").data.decode()
    assert "line 1: reporting code" in history and "R9" in history
    viewer = login(app.test_client(), "viewer")
    assert '/lines/1/notes' not in viewer.get(f"/invoices/{inv.id}?tab=lines").data.decode()
    assert viewer.post(f"/invoices/{inv.id}/lines/1/notes", data={"note": "x"}).status_code == 403


# -- 7. VAT on a tax fund ----------------------------------------------------------------------

def _tax_fund(world, amount="50.00"):
    from app.funds import services as fs
    admin = world.user("admin")
    tax = fs.create_fund(admin, world.ledger_a, "A-TAX", fs.FundFields(name="A taxes"))
    fs.allocate(admin, tax, Decimal(amount))
    db.session.commit()
    return tax


def test_a_separate_vat_line_on_a_tax_fund_expends_it_exactly(app, world, vendors):
    from app.funds import services as fs
    from app.invoices.charges import postings_of
    tax = _tax_fund(world)
    inv = invoice(world, world.user("invoicer"), vendors.liable, amounts=("100.00", "33.33"), total="160.00",
                  vat_level="invoice", vat_percent="20", vat_separate_line=True, vat_fund=tax)
    assert [(ln.line_type, ln.total, [(d.fund.code, d.amount) for d in ln.distribution]) for ln in inv.lines] == [
        ("regular", Decimal("100.00"), [("A-BKS", Decimal("100.00"))]),
        ("regular", Decimal("33.33"), [("A-BKS", Decimal("33.33"))]),
        ("vat", Decimal("26.67"), [("A-TAX", Decimal("26.67"))])]
    _approved(world, inv)
    assert (world.fund_a.expended, tax.expended) == (Decimal("133.33"), Decimal("26.67"))
    assert (tax.allocated, tax.encumbered, tax.balance.available) == (Decimal("50.00"), Decimal("0.00"),
                                                                     Decimal("23.33"))
    assert sorted((t.fund.code, t.kind, t.amount) for t in postings_of(inv)) == [
        ("A-BKS", "expenditure", Decimal("33.33")), ("A-BKS", "expenditure", Decimal("100.00")),
        ("A-TAX", "expenditure", Decimal("26.67"))]
    ivs.send_back_to_review(world.user("invoicer"), inv, "wrong rate")
    db.session.commit()
    assert (world.fund_a.expended, tax.expended, tax.balance.available) == (Decimal("0.00"), Decimal("0.00"),
                                                                            Decimal("50.00"))
    assert fs.check_ledger() == []


def test_the_tax_fund_takes_the_governmental_vat_invoice_too(app, world, vendors):
    tax = _tax_fund(world)
    inv = invoice(world, world.user("invoicer"), vendors.taxed, confirm="add_vat", vat_fund=tax)
    vat_inv = _vat_invoice(vendors)
    assert inv.vat_fund_id == tax.id
    assert [(d.fund.code, d.amount) for d in vat_inv.lines[0].distribution] == [("A-TAX", Decimal("20.00"))]


def test_a_vat_fund_is_refused_where_it_cannot_apply(app, world, vendors):
    op = world.user("invoicer")
    tax = _tax_fund(world)
    with pytest.raises(InvalidInput, match="separate VAT line"):
        invoice(world, op, vendors.liable, total="120.00", vat_level="invoice", vat_percent="20", vat_fund=tax)
    db.session.rollback()
    with pytest.raises(InvalidInput, match="not available"):
        invoice(world, op, vendors.liable, total="120.00", vat_level="invoice", vat_percent="20",
                vat_separate_line=True, vat_fund=world.fund_b)
    db.session.rollback()
    with pytest.raises(RuleViolation, match="A-TAX"):   # the tax fund cannot expend more than it holds
        invoice(world, op, vendors.liable, amounts=("500.00",), total="600.00", vat_level="invoice",
                vat_percent="20", vat_separate_line=True, vat_fund=tax)


# -- 8. the vendor's Invoices tab opens editable invoices ----------------------------------------

def test_the_vendor_invoices_tab_links_editable_invoices_to_their_edit_page(app, world, vendors):
    from tests.helpers import login
    op = world.user("invoicer")
    open_one = invoice(world, op, vendors.plain, number="V-OPEN")
    spent = _approved(world, invoice(world, op, vendors.plain, number="V-SPENT", amounts=("90.00",),
                                     invoice_date=date(2026, 3, 2)))
    theirs = invoice(world, op, vendors.plain, number="V-B", library="b", invoice_date=date(2026, 3, 3))
    fragment = f"/invoices/by-vendor/{vendors.plain.id}"
    html = login(app.test_client(), "invoicer").get(fragment).data.decode()
    assert f'href="/invoices/{open_one.id}/edit"' in html and f'href="/invoices/{theirs.id}/edit"' in html
    assert f'href="/invoices/{spent.id}/edit"' not in html
    # the link leads to the edit form
    assert 'id="invoice-form"' in login(app.test_client(), "invoicer").get(f"/invoices/{open_one.id}/edit").data.decode()
    assert "/edit\"" not in login(app.test_client(), "viewer").get(fragment).data.decode()
    from app.auth.models import Role
    from app.auth.services import create_user
    from tests.helpers import PASSWORD
    create_user(None, "invoicer-a", PASSWORD, full_name="A", roles=[(Role.INVOICE_OPERATOR, world.lib_a)])
    db.session.commit()
    scoped = login(app.test_client(), "invoicer-a").get(fragment).data.decode()
    assert f'href="/invoices/{open_one.id}/edit"' in scoped and "V-B" not in scoped


# -- 2. changing the owner ---------------------------------------------------------------------

def test_the_owner_changes_after_creation_whatever_the_status_within_scope(app, world, vendors):
    op = world.user("invoicer")
    inv = _approved(world, invoice(world, op, vendors.plain, library=None, fund=world.shared))
    ivs.mark_exported(None, inv)
    ivs.record_payment(world.user("invmanager"), inv, "V-1", date(2026, 3, 10), "100.00")
    db.session.commit()
    ivs.change_owner(op, inv, world.lib_a)
    db.session.commit()
    assert inv.owner_library_id == world.lib_a.id and inv.status == "closed"
    [event] = [e for e in inv.history if e.field == "owner"]
    assert (event.old_value, event.new_value, event.actor_id) == ("Institution", "LIBA", op.id)
    # a fund of library A cannot pay for library B's invoice
    mine = invoice(world, op, vendors.plain, number="INV-2", amounts=("90.00",))
    with pytest.raises(RuleViolation, match="Fund A-BKS of invoice INV-2 is not available to LIBB"):
        ivs.change_owner(op, mine, world.lib_b)
    db.session.rollback()
    from app.auth.models import Role
    from app.auth.services import create_user
    from tests.helpers import PASSWORD
    scoped = create_user(None, "invoicer-a", PASSWORD, full_name="A", roles=[(Role.INVOICE_OPERATOR, world.lib_a)])
    db.session.commit()
    with pytest.raises(Forbidden):
        ivs.change_owner(scoped, inv, None)


def test_an_edi_invoice_may_change_owner_like_any_other(app, world, vendors):
    inv = invoice(world, world.user("invoicer"), vendors.plain, library=None, fund=world.shared)
    inv.channel = "edi"
    db.session.commit()
    assert "change_owner" in ivs.invoice_actions(world.user("invoicer"), inv)
    ivs.change_owner(world.user("invoicer"), inv, world.lib_b)
    assert inv.owner_library_id == world.lib_b.id
