"""Invoice services: the exact examples, uniqueness, charges, VAT rows, over-expenditure, workflow."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.errors import Duplicate, Forbidden, InvalidInput, RuleViolation
from app.extensions import db
from app.funds import services as fs
from app.invoices import services as ivs
from app.invoices import settings
from app.invoices.charges import charges_of, line_gross, postings_of
from app.invoices.models import ApprovalRule, Invoice, InvoiceEvent
from app.orders import services as os_
from tests.invoices.helpers import invoice, lines
from tests.orders.helpers import line as pol_line

pytestmark = pytest.mark.postgres


def _manager(world):
    return world.user("invmanager")


def _approved(world, inv):
    ivs.process_invoice(world.user("invoicer"), inv)
    ivs.approve_invoice(_manager(world), inv)
    db.session.commit()
    return inv


# -- exact examples ----------------------------------------------------------------------------

def test_explicit_ratio_charges_the_fund_in_its_currency(app, world, vendors):
    admin = world.user("admin")
    ledger = fs.create_ledger(admin, "KZL", "Tenge ledger", world.period, "KZT")
    kzt = fs.create_fund(admin, ledger, "KZT-BKS", fs.FundFields(name="Tenge books"))
    fs.allocate(admin, kzt, Decimal("100000.00"))
    db.session.commit()
    inv = invoice(world, world.user("invoicer"), vendors.usd, currency="USD", explicit_ratio="2.5", fund=kzt,
                  library=None)
    [charge] = charges_of(inv)
    assert (charge.amount, charge.fund_amount, charge.rate_text) == (Decimal("100.00"), Decimal("250.00"),
                                                                     "1 USD = 2.5 KZT")
    _approved(world, inv)
    assert kzt.expended == Decimal("250.00")
    assert [(t.kind, t.amount, t.currency) for t in postings_of(inv)] == [("expenditure", Decimal("250.00"), "KZT")]


def test_repository_rate_when_no_explicit_ratio(app, world, vendors):
    inv = invoice(world, world.user("invoicer"), vendors.usd, currency="USD", amounts=("123.45",))
    [charge] = charges_of(inv)
    assert (charge.fund_amount, charge.rate_text) == (Decimal("113.57"), "1 USD = 0.92 EUR")


def test_accrual_exact_example(app, world, vendors):
    admin = world.user("admin")
    funds = {}
    for year in (2018, 2019):
        period = fs.create_fiscal_period(admin, f"FY{year}", f"Year {year}", date(year, 1, 1), date(year, 12, 31))
        ledger = fs.create_ledger(admin, "SUBS", "Subscriptions", period, "EUR")
        funds[year] = fs.create_fund(admin, ledger, "SERIALS", fs.FundFields(name="Serials"))
        fs.allocate(admin, funds[year], Decimal("5000.00"))
    settings.update(admin, {"accrual_accounting": True})
    db.session.commit()
    inv = invoice(world, world.user("invoicer"), vendors.plain, amounts=("3500.00",), library=None, fund=funds[2018],
                  invoice_date=date(2018, 6, 1),
                  lines=lines("3500.00", fund=funds[2018], subscription_from=date(2018, 6, 1),
                              subscription_to=date(2019, 5, 31)))
    assert [(c.fund.fiscal_period.code, c.fund_amount) for c in charges_of(inv)] == [
        ("FY2018", Decimal("2057.65")), ("FY2019", Decimal("1442.35"))]
    _approved(world, inv)
    assert (funds[2018].expended, funds[2019].expended) == (Decimal("2057.65"), Decimal("1442.35"))


def test_accrual_needs_the_fund_in_the_next_period(app, world, vendors):
    admin = world.user("admin")
    fs.create_fiscal_period(admin, "FY2027", "Year 2027", date(2027, 1, 1), date(2027, 12, 31))
    settings.update(admin, {"accrual_accounting": True})
    db.session.commit()
    with pytest.raises(RuleViolation, match="needs fund A-BKS in fiscal period FY2027"):
        invoice(world, world.user("invoicer"), vendors.plain,
                lines=lines("100.00", fund=world.fund_a, subscription_from=date(2026, 7, 1),
                            subscription_to=date(2027, 6, 30)))


# -- uniqueness, charges, expenditure ----------------------------------------------------------

def test_invoice_number_is_unique_per_vendor(app, world, vendors):
    op = world.user("invoicer")
    first = invoice(world, op, vendors.plain, number="A-100")
    with pytest.raises(Duplicate, match=r"Vendor PLAIN already has invoice A-100 \(dated 2026-03-01, In Review\)"):
        invoice(world, op, vendors.plain, number="a-100")
    db.session.rollback()
    assert invoice(world, op, vendors.liable, number="A-100", confirm="yes").id != first.id


def test_pro_rata_charges_add_up_exactly(app, world, vendors):
    inv = invoice(world, world.user("invoicer"), vendors.plain, amounts=("33.33", "33.33", "33.34"),
                  charges={"shipment": "10.00", "discount": "-0.01"})
    gross = line_gross(inv)
    assert sum(gross.values()) == Decimal("109.99")
    assert gross == {1: Decimal("36.66"), 2: Decimal("36.66"), 3: Decimal("36.67")}


def test_charges_without_pro_rata_must_be_lines(app, world, vendors):
    with pytest.raises(InvalidInput, match="Without pro rata"):
        invoice(world, world.user("invoicer"), vendors.plain, charges={"shipment": "5.00"}, pro_rata=False)
    db.session.rollback()
    inv = invoice(world, world.user("invoicer"), vendors.plain, pro_rata=False,
                  lines=lines("100.00", fund=world.fund_a) + lines("5.00", fund=world.shared, line_type="shipment"),
                  total="105.00")
    _approved(world, inv)
    assert (world.fund_a.expended, world.shared.expended) == (Decimal("100.00"), Decimal("5.00"))


def test_over_expenditure_is_refused_naming_the_fund(app, world, vendors):
    with pytest.raises(RuleViolation, match=r"Fund .*A-BKS.* cannot expend 1,200\.00 EUR: it is short by 200\.00 EUR"):
        invoice(world, world.user("invoicer"), vendors.plain, amounts=("1200.00",))
    db.session.rollback()
    assert db.session.scalar(select(Invoice.id)) is None


def test_the_pol_encumbrance_counts_back_in(app, world, vendors):
    buyer = world.user("buyer")
    pol = pol_line(world, buyer, vendors.plain, price="900.00")
    os_.approve_po_line(buyer, pol)
    os_.send_po_line(buyer, pol)
    os_.receive_po_line(buyer, pol)
    db.session.commit()
    assert world.fund_a.balance.available == Decimal("100.00")
    inv = invoice(world, world.user("invoicer"), vendors.plain, amounts=("950.00",),
                  lines=lines("950.00", fund=world.fund_a, po_line=pol))
    _approved(world, inv)
    assert (world.fund_a.encumbered, world.fund_a.expended) == (Decimal("0.00"), Decimal("950.00"))
    ivs.record_payment(_manager(world), inv, "V-1", date(2026, 3, 10), "950.00")
    db.session.commit()
    assert inv.status == "closed" and pol.status == "closed" and pol.paid and pol.fully_invoiced


# -- VAT ---------------------------------------------------------------------------------------

def _vat_kwargs(reported: bool) -> dict:
    return {"vat_level": "invoice", "vat_percent": "10"} if reported else {}


@pytest.mark.parametrize("vendor_name,reported,question", [
    ("plain", False, None), ("plain", True, "not liable for VAT"), ("liable", False, "liable for VAT, yet"),
    ("liable", True, None), ("exempt", False, None), ("exempt", True, "not liable for VAT"),
    ("taxed", False, "pays it to TAXOFF"), ("taxed", True, None),
])
def test_vendor_vat_check_rows(app, world, vendors, vendor_name, reported, question):
    vendor = getattr(vendors, vendor_name)
    op = world.user("invoicer")
    total = "110.00" if reported else "100.00"
    if question is None:
        inv = invoice(world, op, vendor, total=total, **_vat_kwargs(reported))
    else:
        with pytest.raises(ivs.ConfirmationNeeded, match=question) as asked:
            invoice(world, op, vendor, total=total, **_vat_kwargs(reported))
        db.session.rollback()
        answer = "add_vat" if asked.value.check.value == "confirm_no_vat_governmental" else "yes"
        inv = invoice(world, op, vendor, total=total, confirm=answer, **_vat_kwargs(reported))
        assert inv.vat_confirmed.split(":")[0] == asked.value.check.value
    gov_invoices = db.session.scalars(select(Invoice).where(Invoice.vendor_id == vendors.gov.id)).all()
    if vendor_name == "taxed":
        [vat_inv] = gov_invoices
        expected = Decimal("10.00") if reported else Decimal("20.00")   # reported 10 %, else TAXOFF's 20 %
        assert vat_inv.total_amount == expected and vat_inv.governmental_for_id == inv.id
        assert vat_inv.number == f"{inv.number}-VAT"
    else:
        assert gov_invoices == []


def test_governmental_row_saved_without_vat_raises_nothing(app, world, vendors):
    inv = invoice(world, world.user("invoicer"), vendors.taxed, confirm="no_vat")
    assert inv.vat_amount == 0 and db.session.scalar(select(Invoice).where(Invoice.vendor_id == vendors.gov.id)) is None


def test_exclusive_invoice_vat_is_expended_from_the_lines_funds(app, world, vendors):
    inv = invoice(world, world.user("invoicer"), vendors.liable, amounts=("100.00",), total="120.00",
                  vat_level="invoice", vat_percent="20")
    assert inv.vat_amount == Decimal("20.00") and line_gross(inv) == {1: Decimal("120.00")}
    separate = invoice(world, world.user("invoicer"), vendors.liable, number="INV-2", amounts=("50.00",),
                       total="60.00", vat_level="invoice", vat_percent="20", vat_separate_line=True)
    assert [(ln.line_type, ln.total) for ln in separate.lines] == [("regular", Decimal("50.00")),
                                                                    ("vat", Decimal("10.00"))]


# -- workflow ----------------------------------------------------------------------------------

def test_invoice_actions_follow_status_role_and_scope(app, world, vendors):
    """One answer for the pages, the API (no user: what the status allows) and a PO's "Create invoice"."""
    inv = invoice(world, world.user("invoicer"), vendors.plain, library=None)
    assert ivs.invoice_actions(world.user("invoicer"), inv) == {"edit", "process", "change_owner"}
    assert ivs.invoice_actions(world.user("invoicer-ext"), inv) == {"edit", "process", "change_owner", "delete"}
    assert ivs.invoice_actions(world.user("viewer"), inv) == set()
    assert ivs.invoice_actions(None, inv) == {"edit", "process", "change_owner", "delete"}
    ivs.process_invoice(world.user("invoicer"), inv)
    assert ivs.invoice_actions(world.user("invmanager"), inv) == {"edit", "approve", "reject", "change_owner"}
    ivs.approve_invoice(_manager(world), inv)
    assert ivs.invoice_actions(world.user("invoicer"), inv) == {"pay", "send_back", "change_owner", "edit_line_notes"}
    assert ivs.invoice_actions(None, inv) == {"mark_in_erp", "pay", "erp_rejected", "send_back", "change_owner",
                                              "edit_line_notes"}
    assert ivs.invoice_actions(world.user("invoicer"), Invoice(owner_library_id=world.lib_a.id)) == {"create"}
    assert ivs.invoice_actions(world.user("viewer-a"), Invoice(owner_library_id=world.lib_a.id)) == set()


def test_review_rules_keep_it_in_review_with_reasons(app, world, vendors):
    op = world.user("invoicer")
    inv = invoice(world, op, vendors.plain, amounts=("100.00",), total="99.00",
                  lines=lines("100.00", fund=world.fund_a) + lines("0.00"))
    ivs.process_invoice(op, inv)
    assert inv.status == "in_review"
    assert any("differs from its lines" in p for p in inv.review_problems)
    assert "Line 2 has no fund." in inv.review_problems


def test_automatic_approval_rule_and_skip_erp(app, world, vendors):
    db.session.add(ApprovalRule(position=1, name="Small invoices", max_total=Decimal("200.00"), automatic=True))
    settings.update(world.user("admin"), {"invoice_skip_erp": True})
    db.session.commit()
    inv = invoice(world, world.user("invoicer"), vendors.plain, process=True)
    assert inv.status == "waiting_for_payment" and world.fund_a.expended == Decimal("100.00")
    big = invoice(world, world.user("invoicer"), vendors.plain, number="INV-2", amounts=("300.00",), process=True)
    assert big.status == "in_approval"


def test_approver_other_than_creator(app, world, vendors):
    db.session.add(ApprovalRule(position=1, name="Four eyes", approver_not_creator=True))
    db.session.commit()
    manager = _manager(world)
    inv = invoice(world, manager, vendors.plain, process=True)
    with pytest.raises(Forbidden, match="other than the invoice's creator"):
        ivs.approve_invoice(manager, inv)
    ivs.approve_invoice(world.user("admin"), inv)
    assert inv.status == "ready_to_be_paid"


def test_reject_then_send_back_to_review_reverses_postings(app, world, vendors):
    inv = invoice(world, world.user("invoicer"), vendors.plain, process=True)
    ivs.reject_invoice(_manager(world), inv, "wrong fund")
    assert inv.status == "in_review" and inv.alert == "Rejected: wrong fund"
    _approved(world, inv)
    assert world.fund_a.expended == Decimal("100.00")
    ivs.send_back_to_review(_manager(world), inv, "price corrected")
    db.session.commit()
    assert inv.status == "in_review" and world.fund_a.expended == Decimal("0.00")
    assert [t.amount for t in postings_of(inv)] == [Decimal("100.00"), Decimal("-100.00")]
    assert fs.check_ledger() == []


def test_erp_rejection_sends_it_back_with_an_alert(app, world, vendors):
    inv = _approved(world, invoice(world, world.user("invoicer"), vendors.plain))
    ivs.send_back_to_review(None, inv, "Unknown vendor code", erp=True)
    assert inv.status == "in_review" and inv.alert == "ERP rejected it: Unknown vendor code"


def test_export_then_payment_or_close(app, world, vendors):
    inv = _approved(world, invoice(world, world.user("invoicer"), vendors.plain))
    ivs.mark_exported(None, inv)
    assert inv.status == "waiting_for_payment"
    ivs.record_payment(_manager(world), inv, "VCH-9", date(2026, 3, 20), "100.00")
    assert inv.status == "closed" and inv.voucher_number == "VCH-9"
    settings.update(world.user("admin"), {"handle_invoice_payment": False})
    other = _approved(world, invoice(world, world.user("invoicer"), vendors.plain, number="INV-2", amounts=("90.00",)))
    ivs.mark_exported(None, other)
    assert other.status == "closed"


def test_delete_only_by_extended_operators_before_expending(app, world, vendors):
    inv = invoice(world, world.user("invoicer"), vendors.plain)
    with pytest.raises(Forbidden):
        ivs.delete_invoice(world.user("invoicer"), inv)
    ivs.delete_invoice(world.user("invoicer-ext"), inv, "entered twice")
    db.session.commit()
    event = db.session.scalar(select(InvoiceEvent).where(InvoiceEvent.action == "delete"))
    assert (event.invoice_id, event.invoice_number, event.vendor_code, event.note) == (None, "INV-1", "PLAIN",
                                                                                        "entered twice")
    spent = _approved(world, invoice(world, world.user("invoicer"), vendors.plain, number="INV-2", amounts=("90.00",)))
    with pytest.raises(RuleViolation, match="has expended money"):
        ivs.delete_invoice(world.user("invoicer-ext"), spent)


def test_history_records_field_changes(app, world, vendors):
    op = world.user("invoicer")
    inv = invoice(world, op, vendors.plain)
    fields = ivs.InvoiceFields(number="INV-1", vendor=vendors.plain, invoice_date=date(2026, 3, 2),
                               total_amount="80.00", owner_library=world.lib_a,
                               lines=lines("80.00", fund=world.fund_a))
    ivs.update_invoice(op, inv, fields)
    changes = {(e.field, e.old_value, e.new_value) for e in inv.history}
    assert ("invoice_date", "2026-03-01", "2026-03-02") in changes
    assert ("total_amount", "100.00", "80.00") in changes
    assert any(f == "line" and "100.00" in old and "80.00" in new for f, old, new in changes)


def test_refund_is_a_negative_invoice(app, world, vendors):
    paid = _approved(world, invoice(world, world.user("invoicer"), vendors.plain, amounts=("100.00",)))
    assert paid.status == "ready_to_be_paid"
    refund = invoice(world, world.user("invoicer"), vendors.plain, number="CR-1", amounts=("-30.00",))
    assert refund.is_refund
    _approved(world, refund)
    assert world.fund_a.expended == Decimal("70.00")


def test_scope_of_invoices(app, world, vendors):
    inv_b = invoice(world, world.user("invoicer"), vendors.plain, library="b")
    from app.auth.models import Role
    from app.auth.services import create_user
    from tests.helpers import PASSWORD
    op_a = create_user(None, "invoicer-a", PASSWORD, roles=[(Role.INVOICE_OPERATOR, world.lib_a)])
    db.session.commit()
    with pytest.raises(Exception, match="No such invoice"):
        ivs.get_invoice(op_a, inv_b.id)
    with pytest.raises(Forbidden):
        invoice(world, op_a, vendors.plain, number="X", library="b")
