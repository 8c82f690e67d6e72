"""Loading invoices from Excel files: the preview's per-row errors, nothing written before loading,
only the valid invoices loaded (channel "file", through review and approval), uniqueness, scope."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.errors import InvalidInput
from app.extensions import db
from app.invoices import file_loading as fl
from app.invoices.models import Invoice, InvoiceEvent, InvoiceLine
from tests.invoices.files.helpers import table, xls, xlsx
from tests.invoices.helpers import invoice
from tests.orders.helpers import line as pol_line


def _count(model=Invoice) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _pols(world, vendors):
    buyer = world.user("buyer")
    return [pol_line(world, buyer, vendors.plain, price=p) for p in ("40.00", "25.50")]


def _mixed_rows(world, vendors):
    """Two good invoices (one with its columns on the first row only) and one invoice per kind of problem."""
    p1, p2 = _pols(world, vendors)
    day = datetime(2026, 3, 2)
    return [
        # good: two POL lines, header repeated
        {"number": "GOOD-1", "invoice_date": day, "total_amount": 65.5, "po_line": p1.number, "unit_price": 40,
         "funds": "A-BKS"},
        {"number": "GOOD-1", "invoice_date": day, "total_amount": 65.5, "po_line": p2.number, "unit_price": 25.5,
         "funds": "A-BKS 50; SHARED 50", "reporting_code": "RC1"},
        # good: columns on its first row only, a charge spread pro rata, owner given
        {"number": "GOOD-2", "invoice_date": "2026-03-05", "total_amount": "30.00", "owner_library": "LIBA",
         "quantity": 2, "unit_price": 10, "funds": "A-BKS", "shipment": 5},
        {"quantity": 1, "unit_price": 5, "funds": "A-BKS"},
        # problems, one invoice each
        {"number": "BAD-POL", "invoice_date": day, "total_amount": 10, "po_line": "POL-999999", "unit_price": 10,
         "funds": "A-BKS"},
        {"number": "BAD-FUND", "invoice_date": day, "total_amount": 10, "unit_price": 10, "funds": "NOPE"},
        {"number": "BAD-AMOUNT", "invoice_date": day, "total_amount": 10, "unit_price": "ten", "funds": "A-BKS"},
        {"number": "BAD-DATE", "invoice_date": "2026-13-45", "total_amount": 10, "unit_price": 10, "funds": "A-BKS"},
        {"number": "BAD-TOTAL", "invoice_date": day, "total_amount": 99, "unit_price": 10, "funds": "SHARED"},
        {"number": "BAD-LIB", "invoice_date": day, "total_amount": 10, "owner_library": "LIBZ", "unit_price": 10,
         "funds": "A-BKS"},
        {"number": "NO-PRICE", "invoice_date": day, "total_amount": 10, "funds": "A-BKS"},
        {"number": "TWICE", "invoice_date": day, "total_amount": 10, "unit_price": 10, "funds": "SHARED"},
        {"number": "twice", "invoice_date": datetime(2026, 3, 9), "total_amount": 10, "unit_price": 10,
         "funds": "SHARED"},
        {"number": "OLD-1", "invoice_date": day, "total_amount": 10, "unit_price": 10, "funds": "SHARED"},
    ]


def _by_number(check):
    return {inv.number: inv for inv in check.invoices}


def test_preview_shows_each_rows_problem_and_writes_nothing(app, world, vendors):
    invoice(world, world.user("invoicer"), vendors.plain, number="OLD-1", library=None)
    data = xlsx(table(_mixed_rows(world, vendors)))
    before = (_count(), _count(InvoiceLine), _count(InvoiceEvent))
    check = fl.check_file(world.user("invoicer"), vendors.plain, data, "march.xlsx")
    db.session.rollback()
    assert (_count(), _count(InvoiceLine), _count(InvoiceEvent)) == before
    inv = _by_number(check)
    assert [i.number for i in check.valid] == ["GOOD-1", "GOOD-2"]
    assert inv["GOOD-1"].rows == [2, 3] and inv["GOOD-2"].rows == [4, 5]
    assert inv["GOOD-2"].owner == "LIBA" and inv["GOOD-1"].owner == "LIBA"   # from its PO lines
    assert inv["GOOD-1"].outcome and inv["GOOD-1"].invoice_id is None
    problems = {n: " | ".join(i.problems) for n, i in inv.items() if not i.valid}
    assert "Row 6: POL number: there is no PO line POL-999999" in problems["BAD-POL"]
    assert "Row 7: Funds: there is no fund NOPE" in problems["BAD-FUND"]
    assert "Row 8: Unit price: 'ten' is not an amount in EUR" in problems["BAD-AMOUNT"]
    assert "Row 9: Invoice date: '2026-13-45' is not a date" in problems["BAD-DATE"]
    assert "Row 10: The total amount 99.00 EUR does not add up: the lines, charges and VAT make 10.00 EUR" \
        in problems["BAD-TOTAL"]
    assert "Row 11: Owner library: there is no library LIBZ" in problems["BAD-LIB"]
    assert "Row 12: Unit price: required." in problems["NO-PRICE"]
    assert "Row 14: Invoice TWICE appears again with a different invoice date (2026-03-09; row 13 says " \
           "2026-03-02)" in problems["TWICE"]
    assert "Row 15: Vendor PLAIN already has invoice OLD-1 (dated 2026-03-01, In Review)" in problems["OLD-1"]
    assert set(problems) == {"BAD-POL", "BAD-FUND", "BAD-AMOUNT", "BAD-DATE", "BAD-TOTAL", "BAD-LIB", "NO-PRICE",
                             "TWICE", "OLD-1"}


def test_load_creates_only_the_valid_invoices_through_the_workflow(app, world, vendors):
    invoice(world, world.user("invoicer"), vendors.plain, number="OLD-1", library=None)
    data = xlsx(table(_mixed_rows(world, vendors)))
    before = _count()
    check = fl.load_file(world.user("invoicer"), vendors.plain, data, "march.xlsx")
    assert [i.number for i in check.valid] == ["GOOD-1", "GOOD-2"]
    db.session.commit()
    assert _count() == before + 2
    created = {i.number: i for i in db.session.scalars(select(Invoice).where(Invoice.channel == "file"))}
    assert set(created) == {"GOOD-1", "GOOD-2"}
    good1, good2 = created["GOOD-1"], created["GOOD-2"]
    assert [i.invoice_id for i in check.valid] == [good1.id, good2.id]
    assert good1.vendor_id == vendors.plain.id and good1.owner_library_id == world.lib_a.id
    assert good1.total_amount == Decimal("65.50") and good1.invoice_date == date(2026, 3, 2)
    assert [(ln.po_line.number, ln.total, ln.reporting_code) for ln in good1.lines] == [
        (check.valid[0].lines[0].po_line, Decimal("40.00"), ""), (check.valid[0].lines[1].po_line, Decimal("25.50"),
                                                                 "RC1")]
    assert sorted((d.fund.code, d.percent, d.amount) for d in good1.lines[1].distribution) == [
        ("A-BKS", Decimal("50.00"), Decimal("12.75")), ("SHARED", Decimal("50.00"), Decimal("12.75"))]
    assert [(ln.quantity, ln.total) for ln in good2.lines] == [(2, Decimal("20.00")), (1, Decimal("5.00"))]
    assert {c.charge_type: c.amount for c in good2.charges} == {"shipment": Decimal("5.00")}
    # the normal workflow ran: the review rules, then the approval rules (none: manual approval)
    for inv in (good1, good2):
        assert inv.status == ("in_review" if inv.review_problems else "in_approval")
        assert inv.history[0].note == "File"
        assert inv.status_label == next(i.outcome for i in check.invoices if i.number == inv.number)
    assert len(check.invalid) == 9


def test_automatic_approval_rule_for_the_file_channel(app, world, vendors):
    from app.invoices import rules
    rules.create_approval_rule(world.user("admin"), rules.ApprovalRuleFields(name="Files", channel="file",
                                                                             automatic=True))
    db.session.commit()
    rows = [{"number": "AUTO-1", "invoice_date": date(2026, 3, 2), "total_amount": 12.3, "unit_price": 12.3,
             "funds": "SHARED"}]
    check = fl.check_file(world.user("invoicer"), vendors.plain, xlsx(table(rows)), "a.xlsx")
    db.session.rollback()
    assert check.invoices[0].outcome == "Ready to be Paid" and world.shared.expended == Decimal("0.00")
    fl.load_file(world.user("invoicer"), vendors.plain, xlsx(table(rows)), "a.xlsx")
    db.session.commit()
    inv = db.session.scalar(select(Invoice).filter_by(number="AUTO-1"))
    assert inv.status == "ready_to_be_paid" and inv.channel == "file"
    db.session.refresh(world.shared)
    assert world.shared.expended == Decimal("12.30")


def test_xls_file_loads_like_xlsx(app, world, vendors):
    rows = [{"number": "X-1", "invoice_date": date(2026, 4, 1), "total_amount": 30.25, "unit_price": 10.25,
             "funds": "SHARED", "notes": "from xls"},
            {"quantity": 2, "unit_price": 10, "funds": "SHARED", "fully_invoiced": "no"}]
    check = fl.load_file(world.user("invoicer"), vendors.plain, xls(table(rows)), "april.xls")
    db.session.commit()
    assert [i.number for i in check.valid] == ["X-1"], check.invoices[0].problems
    inv = db.session.scalar(select(Invoice).filter_by(number="X-1"))
    assert (inv.invoice_date, inv.total_amount, inv.notes, inv.channel) == (date(2026, 4, 1), Decimal("30.25"),
                                                                            "from xls", "file")
    assert [(ln.quantity, ln.unit_price, ln.fully_invoiced) for ln in inv.lines] == [
        (1, Decimal("10.25"), True), (2, Decimal("10.00"), False)]


def test_duplicate_invoice_number_is_refused(app, world, vendors):
    rows = [{"number": "DUP-1", "invoice_date": date(2026, 3, 2), "total_amount": 10, "unit_price": 10,
             "funds": "SHARED"}]
    data = xlsx(table(rows))
    first = fl.load_file(world.user("invoicer"), vendors.plain, data, "a.xlsx")
    db.session.commit()
    assert len(first.valid) == 1
    again = fl.load_file(world.user("invoicer"), vendors.plain, xlsx(table([dict(rows[0], number="dup-1")])), "a.xlsx")
    db.session.commit()
    assert again.valid == [] and "Vendor PLAIN already has invoice DUP-1" in again.invoices[0].problems[0]
    assert db.session.scalar(select(func.count()).select_from(Invoice).where(func.lower(Invoice.number) == "dup-1")) \
        == 1
    # another vendor may use the number
    other = fl.load_file(world.user("invoicer"), vendors.usd, xlsx(table(rows)), "a.xlsx")
    assert len(other.valid) == 1


def test_vat_question_is_answered_in_the_file(app, world, vendors):
    rows = [{"number": "V-1", "invoice_date": date(2026, 3, 2), "total_amount": 10, "unit_price": 10,
             "funds": "SHARED"}]
    check = fl.check_file(world.user("invoicer"), vendors.liable, xlsx(table(rows)), "a.xlsx")
    assert "LIABLE is liable for VAT, yet the invoice reports none" in check.invoices[0].problems[0]
    assert "Answer in the VAT confirmation column: yes" in check.invoices[0].problems[0]
    check = fl.check_file(world.user("invoicer"), vendors.liable,
                          xlsx(table([dict(rows[0], vat_confirm="yes")])), "a.xlsx")
    assert check.invoices[0].valid, check.invoices[0].problems


def test_service_messages_name_the_row(app, world, vendors):
    rows = [{"number": "P-1", "invoice_date": date(2026, 3, 2), "total_amount": 20, "unit_price": 10,
             "funds": "A-BKS", "owner_library": "LIBA"},
            {"unit_price": 10, "funds": "SHARED 60; A-BKS 30"}]
    check = fl.check_file(world.user("invoicer"), vendors.plain, xlsx(table(rows)), "a.xlsx")
    assert check.invoices[0].problems == ["Row 3: The fund percents add up to 90.00 %; they must make 100 %."]


def test_over_expenditure_refused_in_preview(app, world, vendors):
    from app.invoices import rules
    rules.create_approval_rule(world.user("admin"), rules.ApprovalRuleFields(name="Files", automatic=True))
    db.session.commit()
    rows = [{"number": "BIG-1", "invoice_date": date(2026, 3, 2), "total_amount": 1200, "unit_price": 1200,
             "funds": "A-BKS", "owner_library": "LIBA"}]
    check = fl.check_file(world.user("invoicer"), vendors.plain, xlsx(table(rows)), "a.xlsx")
    assert "A-BKS" in check.invoices[0].problems[0] and "short by 200.00 EUR" in check.invoices[0].problems[0]


def test_library_scoped_operator_cannot_load_for_another_library(app, world, vendors, invoicer_a):
    rows = [{"number": "A-1", "invoice_date": date(2026, 3, 2), "total_amount": 10, "owner_library": "LIBA",
             "unit_price": 10, "funds": "A-BKS"},
            {"number": "B-1", "invoice_date": date(2026, 3, 2), "total_amount": 10, "owner_library": "LIBB",
             "unit_price": 10, "funds": "A-BKS"},
            {"number": "B-2", "invoice_date": date(2026, 3, 2), "total_amount": 10, "owner_library": "LIBA",
             "unit_price": 10, "funds": "B-BKS"},
            {"number": "I-1", "invoice_date": date(2026, 3, 2), "total_amount": 10, "unit_price": 10,
             "funds": "A-BKS"}]
    check = fl.load_file(invoicer_a, vendors.plain, xlsx(table(rows)), "a.xlsx")
    db.session.commit()
    problems = {i.number: " | ".join(i.problems) for i in check.invalid}
    assert [i.number for i in check.valid] == ["A-1"]
    assert "You may only create invoices for your own library" in problems["B-1"]
    assert "there is no fund B-BKS" in problems["B-2"]
    assert "You may only create invoices for your own library" in problems["I-1"]
    assert db.session.scalars(select(Invoice.number).where(Invoice.channel == "file")).all() == ["A-1"]


@pytest.mark.parametrize("rows, message", [
    ([], "The file has no rows"),
    ([["Invoice number", "Total amount"]], "missing: Invoice date, Unit price"),
    ([["Invoice number", "Invoice date", "Total amount", "Unit price", "Colour"]], "Unknown columns in the first "
                                                                                  "row: Colour"),
    ([["Invoice number", "Invoice date", "Total amount", "Unit price"]], "no invoice lines"),
])
def test_unusable_files_are_refused_with_a_clear_message(app, world, vendors, rows, message):
    with pytest.raises(InvalidInput, match=message):
        fl.check_file(world.user("invoicer"), vendors.plain, xlsx(rows), "a.xlsx")


def test_not_an_excel_file(app, world, vendors):
    with pytest.raises(InvalidInput, match="Choose an Excel file"):
        fl.check_file(world.user("invoicer"), vendors.plain, b"a,b\n", "a.csv")
    with pytest.raises(InvalidInput, match="not an .xlsx workbook"):
        fl.check_file(world.user("invoicer"), vendors.plain, b"PK not really", "a.xlsx")
    with pytest.raises(InvalidInput, match="The .xls workbook cannot be read"):
        fl.check_file(world.user("invoicer"), vendors.plain, b"\xd0\xcf\x11\xe0 broken", "a.xls")


def test_template_has_the_columns_and_reads_back(app, world, vendors):
    from openpyxl import load_workbook
    import io
    wb = load_workbook(io.BytesIO(fl.template_workbook()), read_only=True)
    assert wb.sheetnames == ["Invoices", "Help"]
    header = next(wb["Invoices"].iter_rows(values_only=True))
    assert list(header) == [c.label for c in fl.COLUMNS]
    assert {"Invoice number", "Invoice date", "Total amount", "POL number", "Funds", "Unit price"} <= set(header)
    with pytest.raises(InvalidInput, match="no invoice lines"):
        fl.check_file(world.user("invoicer"), vendors.plain, fl.template_workbook(), "invoice-template.xlsx")


def test_governmental_vat_is_tried_in_a_rolled_back_savepoint(app, world, vendors):
    """VAT reported for a vendor paying it to a governmental vendor raises a second invoice: the
    preview tries it through create_invoice and rolls it back; loading creates both."""
    rows = [{"number": "G-1", "invoice_date": date(2026, 3, 2), "total_amount": 10, "unit_price": 10,
             "funds": "SHARED", "vat_percent": 20}]
    before = _count()
    check = fl.check_file(world.user("invoicer"), vendors.taxed, xlsx(table(rows)), "a.xlsx")
    db.session.rollback()
    assert check.invoices[0].valid, check.invoices[0].problems
    assert _count() == before
    fl.load_file(world.user("invoicer"), vendors.taxed, xlsx(table(rows)), "a.xlsx")
    db.session.commit()
    loaded = db.session.scalar(select(Invoice).filter_by(number="G-1"))
    assert loaded.channel == "file" and loaded.vat_amount == Decimal("2.00")
    assert _count() == before + 2   # with the VAT invoice to the governmental vendor


# -- issue 12, finding 4: amounts beyond the money columns --------------------------------------

@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_H12_04_excel_amounts_beyond_the_money_columns_are_row_errors(app, world, vendors):
    """A 1e30 cell (decimal.InvalidOperation before) and 100,000 × 999,999,999,999 (SQLite's
    OverflowError on loading before) are row errors; the good invoice beside them loads."""
    day = datetime(2026, 3, 2)
    rows = [{"number": "HUGE-1", "invoice_date": day, "total_amount": 1e30, "unit_price": 1e30, "funds": "A-BKS",
             "owner_library": "LIBA"},
            {"number": "HUGE-2", "invoice_date": day, "total_amount": 10, "unit_price": 999999999999,
             "quantity": 100000, "funds": "A-BKS", "owner_library": "LIBA"},
            {"number": "FINE-1", "invoice_date": day, "total_amount": 10, "unit_price": 10, "funds": "A-BKS",
             "owner_library": "LIBA"}]
    data = xlsx(table(rows))
    for run in (fl.check_file, fl.load_file):
        check = run(world.user("invoicer"), vendors.plain, data, "huge.xlsx")
        problems = {inv.number: " ".join(inv.problems) for inv in check.invoices}
        assert "Total amount: '1000000000000000000000000000000' is not an amount in EUR" in problems["HUGE-1"]
        assert "is too large" in problems["HUGE-1"]
        assert "99999999999900000.00 is too large" in problems["HUGE-2"], problems["HUGE-2"]
        assert problems["FINE-1"] == ""
    db.session.commit()
    assert sorted(db.session.scalars(select(Invoice.number))) == ["FINE-1"]


def test_two_governmental_vat_invoices_with_their_own_funds_preview_and_load(app, world, vendors):
    """Each invoice of the file tried in its own rolled-back savepoint: the second one's lines (which
    may take the first one's ids again) carry their own funds, not the first one's (was a KeyError,
    a 500 on the preview page)."""
    rows = [{"number": "G-1", "invoice_date": date(2026, 3, 2), "total_amount": 10, "unit_price": 10,
             "funds": "A-BKS", "owner_library": "LIBA", "vat_percent": 20},
            {"number": "G-2", "invoice_date": date(2026, 3, 2), "total_amount": 10, "unit_price": 10,
             "funds": "SHARED", "vat_percent": 20}]
    check = fl.check_file(world.user("invoicer"), vendors.taxed, xlsx(table(rows)), "a.xlsx")
    db.session.rollback()
    assert [inv.valid for inv in check.invoices] == [True, True], [inv.problems for inv in check.invoices]
    fl.load_file(world.user("invoicer"), vendors.taxed, xlsx(table(rows)), "a.xlsx")
    db.session.commit()
    funds = {inv.number: [share.fund.code for line in inv.lines for share in line.distribution]
             for inv in db.session.scalars(select(Invoice).where(Invoice.number.in_(["G-1", "G-2"])))}
    assert funds == {"G-1": ["A-BKS"], "G-2": ["SHARED"]}


def test_every_problem_of_a_row_is_reported(app, world, vendors):
    """Not only the first: a taken number, a total that does not add up and a fund too short, or
    a taken number and fund percents that do not make 100 %, each on the row."""
    from app.invoices import rules
    rules.create_approval_rule(world.user("admin"), rules.ApprovalRuleFields(name="Files", automatic=True))
    invoice(world, world.user("invoicer"), vendors.plain, number="OLD-1", library=None)
    invoice(world, world.user("invoicer"), vendors.plain, number="OLD-2", library=None)
    db.session.commit()
    rows = [{"number": "OLD-1", "invoice_date": date(2026, 3, 2), "total_amount": 1300, "unit_price": 1200,
             "funds": "A-BKS", "owner_library": "LIBA"},
            {"number": "OLD-2", "invoice_date": date(2026, 3, 2), "total_amount": 10, "unit_price": 10,
             "funds": "A-BKS 50; SHARED 40"}]
    check = fl.check_file(world.user("invoicer"), vendors.plain, xlsx(table(rows)), "a.xlsx")
    first, second = (inv.problems for inv in check.invoices)
    assert len(first) == 3, first
    assert "Row 2: Vendor PLAIN already has invoice OLD-1" in first[0]
    assert "Row 2: The total amount 1,300.00 EUR does not add up: the lines, charges and VAT make 1,200.00 EUR." \
        in first
    assert any("A-BKS" in p and "cannot expend 1,200.00 EUR" in p and "short by 200.00 EUR" in p for p in first), first
    assert len(second) == 2 and "already has invoice OLD-2" in second[0]
    assert second[1] == "Row 3: The fund percents add up to 90.00 %; they must make 100 %.", second


def test_preview_shows_amounts_as_the_pages_do(app, world, vendors):
    rows = [{"number": "F-1", "invoice_date": date(2026, 3, 2), "total_amount": 1079, "owner_library": "LIBA",
             "unit_price": 79, "funds": "A-BKS"},
            {"quantity": 1, "unit_price": "1000", "line_total": 1000, "funds": "A-BKS"}]
    check = fl.check_file(world.user("invoicer"), vendors.plain, xlsx(table(rows)), "a.xlsx")
    inv = check.invoices[0]
    assert inv.total_amount == "1,079.00"
    assert [(ln.unit_price, ln.total) for ln in inv.lines] == [("79.00", ""), ("1,000.00", "1,000.00")]
