"""The "Import payment confirmation" job against the real sshd: PAID closes, REJECTED goes back to
review, repeats apply nothing (FIL-04), a crash rolls the file back (FIL-05), a mixed file applies
what it can (FIL-06), hostile or broken files are refused and kept (FIL-07), unsafe or unfinished
names are never picked up (FIL-13, FIL-03)."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from jobs import import_payments as payment_import
from app.integrations.models import HandledFile
from app.invoices import services as ivs
from app.invoices.charges import postings_of
from app.invoices.models import Invoice
from tests.integrations.payment_import.helpers import (NS, confirmation, drop, expenditure_total, paid, rejected, run_import,
                                        state, waiting)
from tests.integrations.payment_import.test_parse import BOMB, XXE

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _get(inv) -> Invoice:
    return db.session.get(Invoice, inv.id)


def test_paid_closes_and_rejected_goes_back_to_review(app, world, vendors, erp):
    a, b = waiting(world, vendors.plain, ["P-1", "P-2"])
    spent = expenditure_total()
    drop(erp.inbox, "pay.xml", confirmation([paid(a, voucher="V-77", amount="9.50"), rejected(b, note="Wrong IBAN")],
                                            "prefix", seed=3))
    res = run_import(app)
    assert res.run.status == "completed", res.text()
    assert (res.run.files, res.run.records, res.run.records_failed) == (1, 2, 0)
    a, b = _get(a), _get(b)
    assert a.status == "closed" and a.voucher_number == "V-77" and a.payment_date == date(2026, 4, 10)
    assert a.payment_amount == Decimal("9.50") and a.payment_currency == "EUR"
    assert b.status == "in_review" and "Wrong IBAN" in b.alert
    assert sum(r.amount for r in postings_of(b) if r.kind == "expenditure") == 0
    assert expenditure_total() == spent - Decimal("10.00")
    assert any("paid 9.50" in m for m in res.messages("warning"))   # differs from the total: information only
    assert not (erp.inbox / "pay.xml").exists()
    assert (erp.inbox / "pay.xml.handled").exists()
    assert db.session.scalar(select(HandledFile.status).filter_by(file_name="pay.xml")) == "done"


@SQLITE
def test_number_and_vendor_fallback_with_empty_uid_and_no_namespace(app, world, vendors, erp):
    (a,) = waiting(world, vendors.plain, ["F-1"])
    rec = paid(a, uid=False, number=True, vendor=True, unique_identifier="", payment_voucher_number=None,
               payment_voucher_date=None, voucher_amount=None)
    drop(erp.inbox, "nons.xml", confirmation([rec], "none", seed=5))
    res = run_import(app)
    a = _get(a)
    assert a.status == "closed" and a.voucher_number == "ERP nons.xml" and a.payment_date == clock.today()
    assert a.payment_amount == a.total_amount
    assert any("no namespace" in m for m in res.messages("warning")), res.text()
    assert any("had no payment_voucher_number" in m for m in res.messages("info"))


@SQLITE
def test_same_file_twice(app, world, vendors, erp):
    """FIL-04: (a) same name again, (b) other name same bytes, (c) other bytes with one new record."""
    a, b, c = waiting(world, vendors.plain, ["D-1", "D-2", "D-3"])
    first = confirmation([paid(a), rejected(b)])
    drop(erp.inbox, "pay.xml", first)
    run_import(app)
    after_first = state([a, b, c])
    spent = expenditure_total()

    drop(erp.inbox, "pay.xml", first)                       # (a)
    drop(erp.inbox, "copy.xml", first)                      # (b)
    res = run_import(app)
    assert res.run.status == "completed" and res.run.records == 0 and not res.messages("error"), res.text()
    assert any("already handled (same content as pay.xml)" in m for m in res.messages("info")), res.text()
    assert state([a, b, c]) == after_first and expenditure_total() == spent
    assert sorted(p.name for p in erp.inbox.iterdir()) == ["copy.xml.handled", "pay.xml.2.handled",
                                                           "pay.xml.handled"]

    drop(erp.inbox, "more.xml", confirmation([paid(a), rejected(b), paid(c, voucher="V-3")]))   # (c)
    res = run_import(app)
    assert (res.run.records, res.run.records_failed) == (3, 0), res.text()
    assert len(res.messages("warning")) == 2 and all("nothing changed" in m for m in res.messages("warning"))
    final = state([a, b, c])
    assert final[:2] == after_first[:2] and final[2][1:3] == ("closed", "V-3")
    assert expenditure_total() == spent


def _clean_final_state(app, world, vendors, erp, n):
    invs = waiting(world, vendors.plain, [f"K-{i}" for i in range(n)], amount="5.00")
    records = [paid(inv, voucher=f"V-{i}") if i % 3 else rejected(inv) for i, inv in enumerate(invs)]
    drop(erp.inbox, "pay.xml", confirmation(records))
    return invs


@SQLITE
@pytest.mark.parametrize("k", [1, 2, 4])
def test_crash_mid_import_then_rerun_equals_clean_run(app, world, vendors, erp, monkeypatch, k):
    """FIL-05: an exception at the K-th payment (records before it applied in the session) rolls the
    whole file back; the rerun applies each record once."""
    invs = _clean_final_state(app, world, vendors, erp, 6)
    before = state(invs)
    calls = {"n": 0}
    real = ivs.record_payment

    def crashing(*args, **kw):
        calls["n"] += 1
        if calls["n"] == k:
            raise RuntimeError("power cut")
        return real(*args, **kw)

    monkeypatch.setattr(ivs, "record_payment", crashing)
    res = run_import(app)
    assert res.run.status == "failed" and "power cut" in res.run.message
    assert state(invs) == before and (erp.inbox / "pay.xml").exists()
    assert db.session.scalar(select(func.count()).select_from(HandledFile)) == 0
    monkeypatch.setattr(ivs, "record_payment", real)
    res = run_import(app)
    assert res.run.status == "completed" and res.run.records == 6 and res.run.records_failed == 0, res.text()
    crashed_then_rerun = state(invs)
    assert [s[1] for s in crashed_then_rerun] == ["in_review", "closed", "closed"] * 2
    assert all(len([r for r in s[6] if r[0] == "expenditure"]) == (2 if s[1] == "in_review" else 1)
               for s in crashed_then_rerun)


@SQLITE
def test_crash_rerun_matches_a_clean_run_exactly(app, world, vendors, other_vendor, erp, monkeypatch):
    """The same file once cleanly (profile ERP) and once after a crash (profile ERP2) ends equal."""
    from testkit.erp import erp_profile, local_connection
    clean = _clean_final_state(app, world, vendors, erp, 4)
    run_import(app)
    clean_state = [s[1:] for s in state(clean)]
    # A second set of invoices on a second profile, crashed once at the 2nd payment.
    admin = world.user("admin")
    conn, root = local_connection(admin, erp.root.parent / (erp.root.name + "-b"), code="LOCAL2")
    erp_profile(admin, conn, code="ERP2", folder_root=root)
    other = waiting(world, other_vendor, [f"K-{i}" for i in range(4)], amount="5.00")
    records = [paid(inv, voucher=f"V-{i}") if i % 3 else rejected(inv) for i, inv in enumerate(other)]
    drop(root / "payments" / "in", "pay.xml", confirmation(records))
    real, calls = ivs.record_payment, {"n": 0}

    def crashing(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("boom")
        return real(*args, **kw)
    monkeypatch.setattr(ivs, "record_payment", crashing)
    from jobs import import_payments
    db.session.commit()
    import_payments.run(app, "ERP2", options={"settle_seconds": 0})
    import_payments.run(app, "ERP2", options={"settle_seconds": 0})
    assert [s[1:] for s in state(other)] == clean_state


@SQLITE
def test_mixed_file_applies_the_valid_records(app, world, vendors, other_vendor, erp):
    """FIL-06: valid, unknown, ambiguous, already closed, bad value, uid/number conflict."""
    ok1, ok2, closed_one = waiting(world, vendors.plain, ["M-1", "M-2", "M-3"])
    twin_a, = waiting(world, vendors.plain, ["SAME"])
    twin_b, = waiting(world, other_vendor, ["SAME"])
    ivs.record_payment(world.user("admin"), closed_one, "V-0", date(2026, 4, 1), "10.00")
    db.session.commit()
    records = [paid(ok1), {"unique_identifier": "9999999999999999", "payment_status": "PAID"},
               {"invoice_number": "NOPE", "vendor_code": "PLAIN", "payment_status": "PAID"},
               {"invoice_number": "SAME", "payment_status": "PAID"},
               paid(closed_one, voucher="V-0"), paid(ok2, on="2026-04-10"),
               paid(ok2, number=True, invoice_number="M-1"), paid(twin_b, uid=False, number=True, vendor=True)]
    drop(erp.inbox, "mixed.xml", confirmation(records))
    res = run_import(app)
    assert res.run.status == "completed" and (res.run.records, res.run.records_failed) == (8, 5), res.text()
    errors = {e.record: e.message for e in res.events if e.level == "error"}
    assert "unknown invoice" in errors["uid 9999999999999999"] and "record 2, line" in errors["uid 9999999999999999"]
    assert "unknown invoice" in errors["NOPE (PLAIN)"]
    assert "ambiguous" in errors["SAME"] and "PLAIN, PLAIN2" in errors["SAME"]
    by_position = {e.message.split(",")[0]: e.message for e in res.events if e.level == "error"}
    assert "YYYYMMDD" in by_position["record 6"] and "belongs to invoice M-2" in by_position["record 7"]
    assert any("already closed; nothing changed" in m for m in res.messages("warning"))
    assert _get(ok1).status == "closed" and _get(twin_b).status == "closed"
    assert _get(ok2).status == "waiting_for_payment" and _get(twin_a).status == "waiting_for_payment"
    assert _get(closed_one).voucher_number == "V-0"
    assert (erp.inbox / "mixed.xml.handled").exists()


@SQLITE
def test_conflicting_status_is_an_error_and_changes_nothing(app, world, vendors, erp):
    a, b = waiting(world, vendors.plain, ["C-1", "C-2"])
    ivs.record_payment(world.user("admin"), a, "V-0", date(2026, 4, 1), "10.00")
    ivs.send_back_to_review(world.user("admin"), b, "recheck")
    db.session.commit()
    before = state([a, b])
    drop(erp.inbox, "c.xml", confirmation([rejected(a), paid(b)]))
    res = run_import(app)
    assert res.run.records_failed == 2 and state([a, b]) == before
    assert all("Check it with the financial system" in m for m in res.messages("error")), res.text()


HUGE = confirmation([{"unique_identifier": str(10 ** 15 + n), "payment_status": "PAID"} for n in range(400)])


@SQLITE
@pytest.mark.parametrize("data,reason", [
    (b"<payment_confirmation_data><invoice_list>", "Not well-formed"),
    (b'<payment_data xmlns="http://com/exlibris/repository/acq/invoice/xmlbeans"/>', "not <payment_confirmation"),
    (b"", "empty"),
    (BOMB, "DTD"),
    (XXE, "DTD"),
    (b'<?xml version="1.0"?><!DOCTYPE payment_confirmation_data><payment_confirmation_data xmlns="%s">'
     b"<invoice_list/></payment_confirmation_data>" % NS.encode(), "DTD"),
    (HUGE, "more than the 20,000 bytes allowed"),
], ids=["not-well-formed", "wrong-root", "empty", "billion-laughs", "xxe", "dtd", "over-size"])
def test_malformed_files_are_refused_and_kept(app, world, vendors, erp, monkeypatch, data, reason):
    """FIL-07: refused as a whole, nothing changed, one clear error naming the file, file kept."""
    monkeypatch.setattr(payment_import, "MAX_FILE_BYTES", 20_000)
    (a,) = waiting(world, vendors.plain, ["X-1"])
    before = state([a])
    good = confirmation([paid(a)])
    drop(erp.inbox, "bad.xml", data.replace(b"<invoice_list/>", good[good.index(b"<invoice_list>"):
                                                                     good.index(b"</payment_conf")])
         if reason == "DTD" and b"DOCTYPE payment" in data else data)
    res = run_import(app)
    assert res.run.status == "completed", res.text()
    assert state([a]) == before
    (error,) = res.messages("error")
    assert "bad.xml was refused" in error and reason in error and "kept on the server as bad.xml.rejected" in error
    assert "root:" not in error     # the XXE target's content never shows
    assert sorted(p.name for p in erp.inbox.iterdir()) == ["bad.xml.rejected"]
    res = run_import(app)    # not retried
    assert res.run.files == 0 and not res.messages("error")


@SQLITE
def test_refused_file_can_be_retried_by_renaming_it_back(app, world, vendors, erp):
    drop(erp.inbox, "x.xml", b"<oops")
    run_import(app)
    (erp.inbox / "x.xml.rejected").rename(erp.inbox / "x.xml")
    res = run_import(app)
    assert "x.xml was refused" in res.messages("error")[0]
    assert db.session.scalar(select(HandledFile.status).filter_by(job="import_payments")) == "rejected"


@SQLITE
def test_rename_failure_is_retried_without_applying_twice(app, world, vendors, erp, monkeypatch):
    (a,) = waiting(world, vendors.plain, ["R-1"])
    drop(erp.inbox, "pay.xml", confirmation([paid(a)]))
    from app.integrations import transport as tr

    def broken(self, folder, old, new):
        raise tr.TransferError("permission denied")
    monkeypatch.setattr(tr.SFTPTransport, "rename", broken)
    res = run_import(app)
    assert res.run.status == "completed" and any("Could not rename" in m for m in res.messages("warning"))
    assert _get(a).status == "closed" and (erp.inbox / "pay.xml").exists()
    closed = state([a])
    monkeypatch.undo()
    res = run_import(app)
    assert res.run.records == 0 and any("already handled" in m for m in res.messages("info")), res.text()
    assert state([a]) == closed and (erp.inbox / "pay.xml.handled").exists()


@SQLITE
@pytest.mark.parametrize("chunk", [1, 2, 100])
def test_a_record_the_service_refuses_undoes_only_itself(app, world, vendors, erp, monkeypatch, chunk):
    """Records share a savepoint per chunk; a refusal redoes the chunk one savepoint per record."""
    monkeypatch.setattr(payment_import, "CHUNK", chunk)
    a, b, c, d = waiting(world, vendors.plain, ["S-1", "S-2", "S-3", "S-4"])
    drop(erp.inbox, "s.xml", confirmation([paid(a, voucher="V-a"), rejected(b), paid(c, voucher="V" * 60),
                                           paid(d, voucher="V-d", currency="XXQ")]))
    res = run_import(app)
    assert (res.run.records, res.run.records_failed) == (4, 2), res.text()
    assert [(s[1], s[2]) for s in state([a, b, c, d])] == [("closed", "V-a"), ("in_review", ""),
                                                          ("waiting_for_payment", ""), ("waiting_for_payment", "")]
    errors = res.messages("error")
    assert "record 3" in errors[0] and "voucher number" in errors[0] and "record 4" in errors[1], res.text()
    assert len(res.events) == len(set((e.level, e.message) for e in res.events))   # nothing reported twice


@SQLITE
def test_H12_04_a_voucher_amount_beyond_the_money_columns_is_a_record_error(app, world, vendors, erp):
    big, fine = waiting(world, vendors.plain, ["BIG-1", "FINE-1"])
    drop(erp.inbox, "big.xml", confirmation([paid(big, amount="999999999999999.00"), paid(fine, voucher="V-2")]))
    res = run_import(app)
    assert res.run.status == "completed" and (res.run.records, res.run.records_failed) == (2, 1), res.text()
    [error] = res.messages("error")
    assert "999999999999999.00 is too large" in error, error
    assert _get(big).status == "waiting_for_payment" and _get(big).payment_amount is None
    assert _get(fine).status == "closed"


def test_a_rejection_of_an_invoice_expended_on_a_closed_period_is_refused_and_the_run_goes_on(
        app, world, vendors, erp):
    from app.funds import services as fs
    a, b = waiting(world, vendors.plain, ["C-1", "C-2"])        # expended on A-BKS of FY2026
    fs.close_fiscal_period(world.user("admin"), world.period, "year end")
    spent = expenditure_total()
    before = state([a])
    drop(erp.inbox, "late.xml", confirmation([rejected(a, note="Wrong IBAN"), paid(b, voucher="V-9")]))
    res = run_import(app)
    assert res.run.status == "completed", res.text()
    assert (res.run.records, res.run.records_failed) == (2, 1)
    [error] = res.messages("error")
    assert ("invoice C-1 (PLAIN): Invoice C-1 expended on closed fiscal period FY2026: the ERP's rejection is not "
            "applied to a closed year by itself, and the invoice stays Waiting for Payment.") in error
    assert "reopen FY2026" in error
    assert state([a]) == before and expenditure_total() == spent      # nothing posted on the closed year
    assert _get(b).status == "closed" and _get(b).voucher_number == "V-9"   # a payment posts nothing: it goes on
    # reopened (a person's decision, with a reason), the same rejection is taken
    fs.reopen_fiscal_period(world.user("admin"), db.session.get(type(world.period), world.period.id), "ERP rejection")
    drop(erp.inbox, "again.xml", confirmation([rejected(a, note="Wrong IBAN, again")]))
    res = run_import(app)
    assert res.run.records_failed == 0, res.text()
    assert _get(a).status == "in_review" and expenditure_total() == spent - Decimal("10.00")
