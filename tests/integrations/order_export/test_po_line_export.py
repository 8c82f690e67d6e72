"""Export PO lines (POL): closed and cancelled lines in batches of the section's size, each line
once, the "run again" report, and nothing recorded when the upload fails or the file is invalid."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

import jobs.export_po_lines
from app.extensions import db
from app.integrations import order_export
from app.integrations import services as isv
from app.integrations.formats import orders as fmt
from app.integrations.models import POLineExport
from tests.integrations.order_export.helpers import POL, cancelled, closed, dec, files, messages, read_pol, run_job, sent, text

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _set_batch(world, profile, size):
    admin = world.user("admin")
    fields = {s.job: isv.SectionFields(path=s.path, active=s.active, file_type=s.file_type, batch_size=s.batch_size)
              for s in profile.sections}
    fields["export_po_lines"].batch_size = size
    isv.update_sections(admin, profile, fields)
    db.session.commit()


def _numbers(path):
    return [text(n, "p:po_line_number", POL) for n in read_pol(path).iterfind("p:po_line_list/p:po_line", POL)]


def test_closed_and_cancelled_lines_are_exported_once(app, world, orders, erp):
    profile, root = erp
    done = closed(world, orders.eur, note="all received", price="40.00", quantity=2)
    gone = cancelled(world, orders.usd, reason="vendor out of stock", price="10.00")
    sent(world, orders.eur, title="still open")

    run = run_job(app, jobs.export_po_lines)
    assert (run.status, run.files, run.records) == ("completed", 1, 2), run.message
    out = root / "polines/out"
    assert files(out) == [f"POL_{run.id}.xml"]
    doc = read_pol(out / f"POL_{run.id}.xml")
    lines = {text(n, "p:po_line_number", POL): n for n in doc.iterfind("p:po_line_list/p:po_line", POL)}
    assert set(lines) == {done.number, gone.number}
    a = lines[done.number]
    assert text(a, "p:po_line_status", POL) == "CLOSED" and text(a, "p:reason", POL) == "all received"
    assert text(a, "p:po_number", POL) == done.po.number and text(a, "p:vendor_code", POL) == "EURV"
    assert text(a, "p:status_date", POL) == done.closed_at.strftime("%m/%d/%Y")
    assert dec(a, "p:po_line_price/p:sum", POL) == Decimal("80.00")
    fund = a.find("p:fund_info_list/p:fund_info", POL)
    assert text(fund, "p:code", POL) == "A-BKS"
    assert dec(fund, "p:encumbered/p:sum", POL) == Decimal("80.00")
    assert dec(fund, "p:expended/p:sum", POL) == Decimal("0.00")
    b = lines[gone.number]
    assert text(b, "p:po_line_status", POL) == "CANCELLED" and text(b, "p:reason", POL) == "vendor out of stock"
    fund = b.find(".//p:fund_info", POL)
    assert (text(fund, "p:amount/p:currency", POL), dec(fund, "p:amount/p:sum", POL)) == ("USD", Decimal("10.00"))
    assert (text(fund, "p:encumbered/p:currency", POL), dec(fund, "p:encumbered/p:sum", POL)) == \
        ("EUR", Decimal("9.20"))

    again = run_job(app, jobs.export_po_lines)
    assert again.status == "completed" and again.files == 0 and files(out) == [f"POL_{run.id}.xml"]
    assert db.session.scalar(select(func.count(POLineExport.id))) == 2


@SQLITE
def test_batches_of_two_take_three_runs_for_five_lines(app, world, orders, erp):
    profile, root = erp
    _set_batch(world, profile, 2)
    made = [closed(world, orders.eur, title=f"closed {n}") for n in range(3)]
    made += [cancelled(world, orders.eur, title=f"cancelled {n}") for n in range(2)]
    out = root / "polines/out"

    seen, sizes = [], []
    for expected_left in (3, 1, 0):
        run = run_job(app, jobs.export_po_lines)
        assert run.status == "completed"
        numbers = _numbers(out / f"POL_{run.id}.xml")
        sizes.append(len(numbers))
        seen += numbers
        warnings = messages(run.id, "warning")
        if expected_left:
            assert warnings == [f"{expected_left} PO lines remain: run again."]
            assert run.message.endswith(f"{expected_left} PO lines remain: run again.")   # the run's report
        else:
            assert warnings == [] and "remain" not in run.message
    assert sizes == [2, 2, 1]
    assert seen == [p.number for p in made]          # oldest first, none twice
    assert order_export.unexported_po_lines() == 0
    last = run_job(app, jobs.export_po_lines)
    assert last.files == 0 and len(files(out)) == 3


@SQLITE
def test_upload_failure_records_nothing_and_the_next_run_sends_all(app, world, orders, erp, sshd):
    profile, root = erp
    lines = [closed(world, orders.eur, title=f"t{n}") for n in range(2)]
    try:
        sshd.stop()
        run = run_job(app, jobs.export_po_lines)
    finally:
        sshd.start()
    assert run.status == "failed" and run.files == 0 and run.records == 0
    assert db.session.scalar(select(func.count(POLineExport.id))) == 0
    assert order_export.unexported_po_lines() == 2

    run = run_job(app, jobs.export_po_lines)
    assert run.status == "completed" and run.records == 2
    assert files(root / "polines/out") == [f"POL_{run.id}.xml"]
    assert sorted(_numbers(root / "polines/out" / f"POL_{run.id}.xml")) == sorted(p.number for p in lines)


@SQLITE
def test_an_invalid_file_is_not_uploaded_and_nothing_is_recorded(app, world, orders, erp, monkeypatch):
    profile, root = erp
    closed(world, orders.eur)
    real = fmt.write_po_line_data

    def spoiled(old: bytes, new: bytes):
        def write(out, lines):
            good = io.BytesIO()
            real(good, lines)
            out.write(good.getvalue().replace(old, new))
        return write
    monkeypatch.setattr(fmt, "write_po_line_data", spoiled(b"CLOSED", b"FINISHED"))
    run = run_job(app, jobs.export_po_lines)
    assert run.status == "failed" and "does not match po_line_data.xsd" in run.message
    assert files(root / "polines/out") == []
    assert db.session.scalar(select(func.count(POLineExport.id))) == 0
    monkeypatch.setattr(fmt, "write_po_line_data", spoiled(b"</po_line_list>", b"</po_line_lst>"))   # not well-formed
    run = run_job(app, jobs.export_po_lines)
    assert run.status == "failed" and "does not match po_line_data.xsd" in run.message
    assert "Nothing was uploaded" in run.message
    assert files(root / "polines/out") == []


@SQLITE
def test_expended_comes_from_the_invoices_of_the_line(app, world, orders, erp):
    from app.invoices import services as ivs
    from app.orders import services as os_
    from tests.invoices.helpers import invoice
    from tests.invoices.test_services import _approved

    profile, root = erp
    buyer = world.user("buyer")
    pol = sent(world, orders.eur, price="100.00")
    os_.receive_po_line(buyer, pol)
    half_and_half = [ivs.Share(world.fund_a, "50"), ivs.Share(world.shared, "50")]
    inv = invoice(world, world.user("invoicer"), orders.eur, number="INV-77", amounts=("100.00",),
                  lines=[ivs.LineFields(unit_price="100.00", po_line=pol, distribution=half_and_half)])
    _approved(world, inv)
    if pol.status != "closed":
        os_.close_po_line(buyer, pol, "invoiced")
    db.session.commit()

    run = run_job(app, jobs.export_po_lines)
    assert run.status == "completed", run.message
    node = read_pol(root / "polines/out" / f"POL_{run.id}.xml").find("p:po_line_list/p:po_line", POL)
    funds = {text(f, "p:code", POL): f for f in node.iterfind("p:fund_info_list/p:fund_info", POL)}
    assert set(funds) == {"A-BKS", "SHARED"}
    assert dec(funds["A-BKS"], "p:encumbered/p:sum", POL) == Decimal("100.00")
    assert dec(funds["A-BKS"], "p:expended/p:sum", POL) == Decimal("50.00")
    # SHARED paid half the invoice though it is not in the line's distribution.
    assert dec(funds["SHARED"], "p:amount/p:sum", POL) == Decimal("0.00")
    assert dec(funds["SHARED"], "p:expended/p:sum", POL) == Decimal("50.00")
    assert text(funds["SHARED"], "p:external_id", POL) == "EXT-1"


@SQLITE
def test_the_number_of_queries_does_not_grow_with_the_lines(app, world, orders):
    from sqlalchemy import event

    made = [closed(world, orders.eur, title=f"c{n}") for n in range(2)]
    made += [cancelled(world, orders.usd, title=f"x{n}") for n in range(2)]
    made += [closed(world, orders.other, title=f"d{n}", library=None) for n in range(4)]
    made = [(p.id, p.number) for p in made]
    statements = []

    def count(*args):
        statements.append(args[2])

    def queries_for(pols):
        db.session.commit()
        db.session.expunge_all()
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            result = order_export.finished_lines([pol_id for pol_id, _ in pols])
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert [r.number for r in result] == [number for _, number in pols]
        return len(statements)

    # A few lines (one of them owned by the institution) take as many queries as all of them.
    assert queries_for(made[:2] + made[-1:]) == queries_for(made)
