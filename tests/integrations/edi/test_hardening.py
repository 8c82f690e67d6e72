"""Issue 12, finding 4: one bad EDIFACT file must not break uploads nor block a vendor's pickup.

Broken parts of a file (cut short, unreadable, amounts beyond the money columns) become refusals
kept in the EDI inbox with their reason; untidy real-world files (several interchanges, stray empty
segments, a message without lines) are read message by message; a fetched poison file is renamed
``.rejected`` and the good file beside it is still handled; the upload runs as a background run.
"""
from __future__ import annotations

import io
import threading
from datetime import datetime

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.integrations.models import JobRun
from app.integrations.edi import format as edi
from app.integrations.edi import services as es
from app.integrations.edi.models import EdiMessage
from app.invoices.models import Invoice
from jobs import fetch_edi
from testkit.erp import local_connection, wait_for_run
from tests.integrations.edi.helpers import (OVERFLOW, TRUNCATED, TRUNCATED_AFTER_UNB, good_message, interchange, invoic,
                                        pol, several_interchanges)

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _receive(world, vendor, data, name="in.edi", **kw):
    result = es.receive_edi_file(world.user("invoicer"), vendor, name, data, **kw)
    db.session.commit()
    return result


def _fetch(app, **kw) -> JobRun:
    db.session.commit()   # the job runs in its own session: release ours (SQLite has one writer)
    return db.session.get(JobRun, fetch_edi.run(app, "EURV", **kw))


def _invoices(*numbers) -> list[str]:
    return sorted(db.session.scalars(select(Invoice.number).where(Invoice.number.in_(numbers))))


# -- broken parts are refusals kept in the inbox -----------------------------------------------

@SQLITE
@pytest.mark.parametrize("data, reason", [
    (TRUNCATED, "cut short"),
    (TRUNCATED_AFTER_UNB, "cut short"),
    (b"UNA:+.? 'UNB+UNOC:3+S:14+R:14+260310:0900+1'UNH+1+INVOIC:D:96A:UN'BGM+380+X+9'UNZ+1+1'", "no UNT"),
])
def test_H12_04_a_file_cut_short_is_a_refusal_in_the_inbox(app, world, orders, data, reason):
    result = _receive(world, orders.eur, data, "cut.edi")
    assert result.rejected
    [row] = result.messages
    assert row.status == "failed" and reason in row.reason, row.reason
    assert row.raw and db.session.scalar(select(func.count()).select_from(Invoice)) == 0


def test_H12_04_amount_beyond_the_money_columns_is_a_per_message_refusal(app, world, orders):
    p = pol(world, orders.eur)
    data = interchange(good_message("BIG-1", p.number, ref="1", amount=OVERFLOW),
                       invoic("BIG-2", [(p.number, 1, "1.00", "1.00", None, None)], ref="2",
                              total="1000000000000.00"),
                       good_message("OK-1", p.number, ref="3"))
    big, big_total, ok = _receive(world, orders.eur, data).messages
    assert big.status == "failed" and f"MOA+203: {OVERFLOW} is too large" in big.reason, big.reason
    assert big_total.status == "failed" and "MOA+77: 1000000000000.00 is too large" in big_total.reason
    assert ok.status == "invoice_created", ok.reason
    assert _invoices("BIG-1", "BIG-2", "OK-1") == ["OK-1"]


@SQLITE
def test_H12_04_untidy_files_are_read_interchange_by_interchange(app, world, orders):
    """Three interchanges in one file, stray empty segments between them, one with its own UNA, a
    message without lines: every message is read, each alone."""
    p = pol(world, orders.eur, quantity=10)
    empty = [s for s in good_message("EMPTY-1", p.number, ref="2")
             if not s.startswith(("LIN", "IMD", "QTY", "MOA+203", "PRI", "RFF"))]
    data = several_interchanges(
        interchange(good_message("T-1", p.number), control="IC1"),
        interchange(good_message("T-2", p.number), empty, control="IC2"),
        b"UNA:+.? '" + interchange(good_message("T-3", p.number), control="IC3")[9:],
        between=b"'\n''\r\n")
    parsed = edi.parse_file(edi.decode(data)[0])
    assert [(m.index, m.number) for m in parsed.messages] == [(1, "T-1"), (2, "T-2"), (3, "EMPTY-1"), (4, "T-3")]
    assert parsed.interchanges == 3
    result = _receive(world, orders.eur, data, "untidy.edi")
    assert [(r.message_index, r.invoice_number, r.status) for r in result.messages] == [
        (1, "T-1", "invoice_created"), (2, "T-2", "invoice_created"), (3, "EMPTY-1", "failed"),
        (4, "T-3", "invoice_created")]
    assert "The invoice has no lines" in result.messages[2].reason
    # each message's raw text is a whole interchange that reads again alone
    for row in result.messages:
        [again] = edi.parse_file(row.raw).messages
        assert again.number == row.invoice_number and not again.refused


def test_H12_04_receipt_commits_per_message_and_a_rerun_loads_the_rest_once(app, world, orders):
    """A receipt that dies after its first message: the first is kept, the rerun loads the others
    and never the first again."""
    p = pol(world, orders.eur, quantity=10)
    data = interchange(*(good_message(f"R-{n}", p.number, ref=str(n)) for n in (1, 2, 3)))
    seen = []

    def crash_on_second(row):
        seen.append(row.invoice_number)
        if len(seen) == 2:
            raise RuntimeError("the process died")
        db.session.commit()

    with pytest.raises(RuntimeError):
        es.receive_edi_file(world.user("invoicer"), orders.eur, "r.edi", data, on_message=crash_on_second)
    db.session.rollback()
    assert _invoices("R-1", "R-2", "R-3") == ["R-1"]
    result = _receive(world, orders.eur, data, "r-again.edi")
    assert [(r.invoice_number, r.status) for r in result.messages] == [("R-2", "invoice_created"),
                                                                      ("R-3", "invoice_created")]
    assert result.resumed == 1
    assert _invoices("R-1", "R-2", "R-3") == ["R-1", "R-2", "R-3"]
    again = _receive(world, orders.eur, data, "r-third.edi")
    assert [r.status for r in again.messages] == ["duplicate"]
    assert db.session.scalar(select(func.count()).select_from(Invoice)) == 3


# -- the pickup: the poison file is set aside, the good one handled, the next run not blocked ----

@SQLITE
def test_H12_04_pickup_handles_the_good_file_beside_poison_ones(app, world, orders, tmp_path):
    admin = world.user("admin")
    conn, root = local_connection(admin, tmp_path / "vendor")
    folder = root / "edi" / "in"
    folder.mkdir(parents=True)
    es.save_setting(admin, orders.eur, es.EdiSettingFields(connection=conn, folder="edi/in", active=True,
                                                            schedule="hourly"))
    p = pol(world, orders.eur, quantity=10)
    (folder / "a-cut.edi").write_bytes(TRUNCATED)
    (folder / "b-overflow.edi").write_bytes(interchange(good_message("OVER-1", p.number, amount=OVERFLOW)))
    (folder / "c-good.edi").write_bytes(interchange(good_message("GOOD-1", p.number)))
    db.session.commit()

    run = _fetch(app, trigger="schedule", scheduled_for=datetime(2026, 3, 10, 6, 0))
    assert run.status == "completed", run.message
    assert (run.files, run.records, run.records_failed) == (3, 3, 2)
    assert sorted(f.name for f in folder.iterdir()) == ["a-cut.edi.rejected", "b-overflow.edi.rejected",
                                                        "c-good.edi.handled"]
    assert _invoices("GOOD-1", "OVER-1") == ["GOOD-1"]
    kept = {r.file_name: r for r in db.session.scalars(select(EdiMessage).filter_by(status="failed"))}
    assert "cut short" in kept["a-cut.edi"].reason and kept["a-cut.edi"].raw.strip() == TRUNCATED.decode()
    assert "is too large" in kept["b-overflow.edi"].reason and "OVER-1" in kept["b-overflow.edi"].raw

    # the next scheduled run is not blocked: it takes the new file and leaves the set-aside ones alone
    (folder / "d-good.edi").write_bytes(interchange(good_message("GOOD-2", p.number)))
    run = _fetch(app, trigger="schedule", scheduled_for=datetime(2026, 3, 10, 7, 0))
    assert run.status == "completed" and (run.files, run.records_failed) == (1, 0)
    assert _invoices("GOOD-1", "GOOD-2") == ["GOOD-1", "GOOD-2"]
    assert (folder / "d-good.edi.handled").exists()


@SQLITE
def test_H12_04_pickup_survives_an_unexpected_error_in_one_file(app, world, orders, tmp_path, monkeypatch):
    """Whatever goes wrong with one file (here: a bug in the parser), the run goes on with the next."""
    admin = world.user("admin")
    conn, root = local_connection(admin, tmp_path / "vendor")
    (root / "in").mkdir()
    es.save_setting(admin, orders.eur, es.EdiSettingFields(connection=conn, folder="in", active=True))
    p = pol(world, orders.eur)
    (root / "in" / "a.edi").write_bytes(interchange(good_message("BUG-1", p.number)))
    (root / "in" / "b.edi").write_bytes(interchange(good_message("FINE-1", p.number)))
    db.session.commit()
    real = edi.parse_file

    def buggy(text):
        if "BUG-1" in text:
            raise ZeroDivisionError("a bug")
        return real(text)
    monkeypatch.setattr(edi, "parse_file", buggy)
    run = _fetch(app)
    assert run.status == "completed" and run.records_failed == 1
    assert sorted(f.name for f in (root / "in").iterdir()) == ["a.edi.rejected", "b.edi.handled"]
    row = db.session.scalar(select(EdiMessage).filter_by(file_name="a.edi"))
    assert row.status == "failed" and "ZeroDivisionError" in row.reason
    assert _invoices("BUG-1", "FINE-1") == ["FINE-1"]


# -- the upload page: a background run, a clear answer -----------------------------------------

def _upload(client, vendor, data: bytes, name: str = "inv.edi", **kw):
    return client.post("/invoices/edi/upload", data={"vendor": str(vendor.id) if vendor else "",
                                                     "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", **kw)


def _run_of(resp) -> int:
    assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
    return int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])


@pytest.mark.committing
@SQLITE
def test_H12_04_upload_of_a_poison_file_answers_a_clear_message(app, world, orders, login_as):
    client = login_as("invoicer")
    for data, reason in ((TRUNCATED, "cut short"), (interchange(good_message("X-1", "POL-000001", amount=OVERFLOW)),
                                                    "is too large")):
        resp = _upload(client, orders.eur, data, "poison.edi")
        run = wait_for_run(_run_of(resp))
        assert run.status == "failed" and run.records_failed == 1   # nothing applied: Failed
        page = client.get(resp.headers["Location"])
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and reason in html and "kept in the inbox" in html


@pytest.mark.committing
@SQLITE
def test_H12_04_upload_runs_in_the_background_and_its_page_polls_until_the_end(app, world, orders, login_as,
                                                                             monkeypatch):
    p = pol(world, orders.eur, quantity=10)
    data = interchange(*(good_message(f"BG-{n}", p.number, ref=str(n)) for n in (1, 2)))
    release = threading.Event()
    real = es._process

    def held(*args, **kw):
        assert release.wait(30), "the test never released the run"
        return real(*args, **kw)
    monkeypatch.setattr(es, "_process", held)
    client = login_as("invoicer")
    resp = _upload(client, orders.eur, data, "two.edi")
    run_id = _run_of(resp)   # the answer came while the run waits: it is not in the request
    assert not release.is_set()
    fragment = client.get(resp.headers["Location"], headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.startswith('<div id="edi-upload"') and 'hx-trigger="every 2s"' in fragment
    assert "<html" not in fragment
    release.set()
    run = wait_for_run(run_id)
    assert (run.status, run.job, run.records, run.records_failed) == ("completed", "upload_edi", 2, 0)
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'hx-trigger="every 2s"' not in page and "<strong>2</strong> invoice(s) created" in page
    assert "BG-1" in page and "BG-2" in page
    assert _invoices("BG-1", "BG-2") == ["BG-1", "BG-2"]


@pytest.mark.committing
@SQLITE
def test_H12_04_a_pickup_reads_each_file_without_holding_the_write_lock(app, world, orders, tmp_path, monkeypatch):
    """Parsing a big file takes seconds: meanwhile another writer must get SQLite's write lock at
    once (the run commits per message and takes the lock only to write)."""
    import sqlite3
    admin = world.user("admin")
    conn, root = local_connection(admin, tmp_path / "vendor")
    (root / "in").mkdir()
    es.save_setting(admin, orders.eur, es.EdiSettingFields(connection=conn, folder="in", active=True))
    p = pol(world, orders.eur, quantity=10)
    for name in ("a.edi", "b.edi"):
        (root / "in" / name).write_bytes(interchange(good_message(f"LOCK-{name[0]}", p.number)))
    db.session.commit()
    path = db.engine.url.database
    real, tried = edi.parse_file, []

    def parse_while_someone_writes(text):
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")   # "database is locked" at once if the run held the lock
            other.execute("ROLLBACK")
            tried.append("free")
        finally:
            other.close()
        return real(text)
    monkeypatch.setattr(edi, "parse_file", parse_while_someone_writes)
    run = _fetch(app)
    assert run.status == "completed" and run.records_failed == 0, run.message
    assert tried == ["free", "free"]
    assert _invoices("LOCK-a", "LOCK-b") == ["LOCK-a", "LOCK-b"]
