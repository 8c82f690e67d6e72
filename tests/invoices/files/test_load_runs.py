"""Finding 1 of issue 12: an Excel invoice load runs as a background run that commits in chunks,
never inside the web request; the page follows it by HTMX polling; a load that dies part-way keeps
whole invoices only and the same file loaded again loads the rest, never an invoice twice."""
from __future__ import annotations

import io
import os
import re
import signal
import sqlite3
import threading
import time
from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.integrations.models import BulkLoad, BulkLoadInvoice, JobEvent, JobRun
from app.invoices import file_loading as fl
from app.invoices import services as svc
from app.invoices.models import Invoice, InvoiceLine
from tests.helpers import login
from tests.invoices.files.helpers import follow_load, table, xlsx

pytestmark = pytest.mark.committing


def _rows(count: int, lines: int = 3) -> list[dict]:
    rows = []
    for n in range(1, count + 1):
        for i in range(lines):
            rows.append({"number": f"RUN-{n}", "invoice_date": date(2026, 3, 2), "total_amount": 10 * lines,
                         "unit_price": 10, "funds": "SHARED"} if i == 0 else {"unit_price": 10, "funds": "SHARED"})
    return rows


def _preview(client, vendor, data: bytes):
    resp = client.post("/invoices/files/", data={"vendor": str(vendor.id), "file": (io.BytesIO(data), "run.xlsx")},
                       content_type="multipart/form-data")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    match = re.search(r'name="token" value="([0-9a-f]{32})"', page)
    return page, match.group(1) if match else None


def _numbers() -> list[str]:
    db.session.commit()
    numbers = sorted(db.session.scalars(select(Invoice.number).where(Invoice.channel == "file")))
    db.session.commit()
    return numbers


def test_H12_01_load_answers_at_once_and_its_status_polls_until_the_report(app, world, vendors, monkeypatch):
    """The request returns while the run is still working (the body waits for the test here); the
    status fragment polls itself every second and, once the run ends, shows the report and stops."""
    go = threading.Event()
    real = fl.load_invoice

    def held(actor, inv):
        assert go.wait(60), "the test never let the run go on"
        return real(actor, inv)

    monkeypatch.setattr(fl, "load_invoice", held)
    client = login(app.test_client(), "invoicer")
    page, token = _preview(client, vendors.plain, xlsx(table(_rows(2))))
    resp = client.post("/invoices/files/load", data={"token": token}, headers={"HX-Request": "true"})
    try:
        assert resp.status_code == 200
        fragment = resp.get_data(as_text=True)
        assert fragment.lstrip().startswith('<section id="load-run"') and "<html" not in fragment
        run_id = int(re.search(r"Run #(\d+)", fragment).group(1))
        assert f'hx-get="/invoices/files/runs/{run_id}"' in fragment and 'hx-trigger="every 1s"' in fragment
        assert "you may leave this page" in fragment
        assert _numbers() == []   # the request did not load anything itself
        # the full page of the same URL holds the same polling fragment
        full = client.get(f"/invoices/files/runs/{run_id}").get_data(as_text=True)
        assert "<html" in full and 'hx-trigger="every 1s"' in full
    finally:
        go.set()
    page = follow_load(client, _Redirect(f"/invoices/files/runs/{run_id}"))
    assert "2 invoices created for vendor PLAIN." in page and 'hx-trigger="every 1s"' not in page
    assert "RUN-1" in page and "RUN-2" in page and "Monitor jobs" not in page   # not an administrator
    assert _numbers() == ["RUN-1", "RUN-2"]
    run = db.session.get(JobRun, run_id)
    assert (run.job, run.status, run.records, run.progress_done, run.progress_total) == (
        "invoice_file", "completed", 2, 2, 2)
    db.session.commit()
    # an administrator sees the link to the run on Monitor Jobs
    admin_page = login(app.test_client(), "admin").get(f"/invoices/files/runs/{run_id}").get_data(as_text=True)
    assert f'href="/admin/erp/jobs/runs/{run_id}"' in admin_page


class _Redirect:
    """A stand-in for the 303 answer of POST /invoices/files/load, for :func:`follow_load`."""
    status_code = 303

    def __init__(self, location: str):
        self.headers = {"Location": location}


def test_H12_01_a_load_failing_part_way_keeps_whole_invoices_and_the_same_file_loads_the_rest(
        app, world, vendors, monkeypatch):
    app.config["LOAD_CHUNK_SECONDS"] = 0   # commit after every invoice: several chunks for six invoices
    app.config["LOAD_PAUSE_SECONDS"] = 0
    data = xlsx(table(_rows(6)))
    real = svc.process_invoice
    calls = []

    def dies_on_the_fourth(actor, invoice):
        calls.append(invoice.number)
        if len(calls) == 4:   # the invoice and its lines are flushed already: the crash is mid-invoice
            raise RuntimeError("the server lost its disk")
        return real(actor, invoice)

    monkeypatch.setattr(svc, "process_invoice", dies_on_the_fourth)
    client = login(app.test_client(), "invoicer")
    _page, token = _preview(client, vendors.plain, data)
    page = follow_load(client, client.post("/invoices/files/load", data={"token": token}))
    assert "the server lost its disk" in page and "load the same input again to carry on" in page
    assert _numbers() == ["RUN-1", "RUN-2", "RUN-3"]
    # all or nothing per invoice: the three kept have every line, nothing of the fourth is left
    db.session.commit()
    per_invoice = dict(db.session.execute(select(Invoice.number, func.count(InvoiceLine.id)).join(InvoiceLine)
                                          .group_by(Invoice.number)).all())
    assert per_invoice == {"RUN-1": 3, "RUN-2": 3, "RUN-3": 3}
    assert db.session.scalar(select(func.count()).select_from(BulkLoadInvoice)) == 3
    first_run = db.session.scalar(select(JobRun).filter_by(job="invoice_file"))
    assert first_run.status == "failed" and db.session.scalar(select(BulkLoad.status)) == "failed"
    db.session.commit()

    monkeypatch.setattr(svc, "process_invoice", real)
    page, token = _preview(client, vendors.plain, data)
    assert "3 invoices of this file were loaded earlier" in page and "Load 3 valid invoices" in page
    assert "already has invoice" not in page
    page = follow_load(client, client.post("/invoices/files/load", data={"token": token}))
    assert "3 invoices created for vendor PLAIN; 3 loaded earlier from this file." in page
    assert _numbers() == [f"RUN-{n}" for n in range(1, 7)]

    # a third time: everything was loaded; nothing left to load, nothing loaded twice
    page, token = _preview(client, vendors.plain, data)
    assert token is None and "6 invoices of this file were loaded earlier" in page
    assert _numbers() == [f"RUN-{n}" for n in range(1, 7)]


def _gone_pid() -> int:
    import subprocess
    import sys
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_H12_01_a_run_that_died_without_a_word_is_taken_over_by_the_next_load(app, world, vendors):
    """A run whose process was killed stays "running"; loading the same file finds its process gone,
    marks it interrupted and carries on."""
    from app.integrations import loads
    from app.invoices import file_load_run as runs
    data = xlsx(table(_rows(2)))
    actor, vendor = world.user("invoicer"), vendors.plain
    dead, load, started = loads.start(runs.JOB, "FILE-PLAIN", actor, runs.KIND, runs.load_key(vendor, data), "x.xlsx")
    dead_id = dead.id
    assert started   # (and its thread never ran: as if the process died at once)
    dead.owner_pid = _gone_pid()   # its process: one that has ended
    db.session.commit()
    client = login(app.test_client(), "invoicer")
    _page, token = _preview(client, vendor, data)
    page = follow_load(client, client.post("/invoices/files/load", data={"token": token}))
    assert "2 invoices created" in page
    db.session.commit()
    dead = db.session.get(JobRun, dead_id)
    assert dead.status == "failed" and dead.message.startswith("Interrupted")


def test_H12_01_a_live_load_of_the_same_file_is_followed_not_started_twice(app, world, vendors):
    from app.integrations import loads
    from app.invoices import file_load_run as runs
    data = xlsx(table(_rows(1)))
    live, _load, _ = loads.start(runs.JOB, "FILE-PLAIN", world.user("invoicer"), runs.KIND,
                                 runs.load_key(vendors.plain, data), "x.xlsx")
    live_id = live.id
    client = login(app.test_client(), "invoicer")
    _page, token = _preview(client, vendors.plain, data)
    resp = client.post("/invoices/files/load", data={"token": token})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/invoices/files/runs/{live_id}")
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(JobRun).filter_by(job="invoice_file")) == 1


def test_H12_01_only_the_starter_and_the_institutions_invoice_staff_follow_a_load(app, world, vendors,
                                                                                  invoicer_a):
    from app.integrations import loads
    from app.invoices import file_load_run as runs
    run, _load, _ = loads.start(runs.JOB, "FILE-PLAIN", world.user("invoicer"), runs.KIND, "k" * 64, "x.xlsx")
    run_id = run.id
    db.session.commit()
    assert login(app.test_client(), "invoicer-a").get(f"/invoices/files/runs/{run_id}").status_code == 404
    assert login(app.test_client(), "invmanager").get(f"/invoices/files/runs/{run_id}").status_code == 200
    assert login(app.test_client(), "invoicer").get("/invoices/files/runs/999999").status_code == 404



sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _wait_for(predicate, timeout: float = 120, what: str = "it"):
    deadline = time.monotonic() + timeout
    while True:
        db.session.rollback()
        value = predicate()
        db.session.rollback()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} did not happen in {timeout} s"
        time.sleep(0.05)


@sqlite_only
def test_H12_01_a_big_file_loads_in_its_own_process_and_a_kill_mid_load_is_resumed(app, world, vendors):
    """The load runs in a child process (its Python work never competes with the pages of the web
    process). SIGKILL it part-way: the run is marked interrupted at once, every invoice is whole or
    absent, and the same file loaded again creates the rest, never one twice."""
    # every invoice its own chunk, and a pause after each: the load lasts long enough to be killed
    app.config.update(LOAD_PROCESS_FROM_BYTES=0, LOAD_CHUNK_SECONDS=0, LOAD_PAUSE_SECONDS=0.05)
    count = 300
    data = xlsx(table(_rows(count)))
    client = login(app.test_client(), "invoicer")
    _page, token = _preview(client, vendors.plain, data)
    resp = client.post("/invoices/files/load", data={"token": token})
    assert resp.status_code == 303
    run_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    started = _wait_for(lambda: db.session.scalar(select(JobEvent.message).where(
        JobEvent.run_id == run_id, JobEvent.message.like("Running in a process of its own%"))), what="the child")
    pid = int(re.search(r"pid (\d+)", started).group(1))
    assert pid != os.getpid()
    _wait_for(lambda: db.session.scalar(select(func.count()).select_from(BulkLoadInvoice)) >= 5,
              what="five invoices")
    os.kill(pid, signal.SIGKILL)
    status, message = _wait_for(lambda: db.session.execute(select(JobRun.status, JobRun.message).where(
        JobRun.id == run_id, JobRun.status != "running")).first(), what="the run's end")
    assert status == "failed" and "the load process stopped" in message, (status, message)
    kept = _numbers()
    assert 5 <= len(kept) < count, len(kept)
    db.session.commit()
    lines = dict(db.session.execute(select(Invoice.number, func.count(InvoiceLine.id)).join(InvoiceLine)
                                    .group_by(Invoice.number)).all())
    assert set(lines) == set(kept) and set(lines.values()) == {3}   # whole invoices only
    assert db.session.scalar(select(func.count()).select_from(BulkLoadInvoice)) == len(kept)
    db.session.commit()

    app.config["LOAD_PAUSE_SECONDS"] = 0
    page, token = _preview(client, vendors.plain, data)
    assert f"{len(kept)} invoices of this file were loaded earlier" in page
    page = follow_load(client, client.post("/invoices/files/load", data={"token": token}), timeout=300)
    assert f"{count - len(kept)} invoices created for vendor PLAIN; {len(kept)} loaded earlier from this file." in page
    numbers = _numbers()
    assert len(numbers) == count and len(set(numbers)) == count


@sqlite_only
def test_H12_01_the_preview_of_a_file_holds_no_write_lock(app, world, vendors, monkeypatch):
    """Previewing a big file takes seconds; meanwhile anyone else may write (before, the POST's
    transaction held SQLite's write lock from the check to the end of the page)."""
    from app.invoices import file_views
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    seen = []

    def can_write(where: str) -> None:
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            seen.append((where, "free"))
        except sqlite3.OperationalError as exc:
            seen.append((where, str(exc)))
        finally:
            other.close()

    real_check, real_render = fl.check_file, file_views.render_template

    def check(*args, **kw):
        result = real_check(*args, **kw)
        can_write("after the check")
        return result

    def render(*args, **kw):
        can_write("while rendering")
        return real_render(*args, **kw)

    monkeypatch.setattr(fl, "check_file", check)
    monkeypatch.setattr(file_views, "render_template", render)
    client = login(app.test_client(), "invoicer")
    _preview(client, vendors.plain, xlsx(table(_rows(3))))
    assert seen == [("after the check", "free"), ("while rendering", "free")]
