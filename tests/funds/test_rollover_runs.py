"""The rollover as a run on Monitor Jobs (issue 14, point 8; app.funds.runs): a kept preview reports
exactly what the commit does, a run commits the rollover whole or nothing and says what it did, the
command line records its runs, and the page follows a run going on in its background thread, with
its progress (live in this process; on PostgreSQL in the run's row at once)."""
from __future__ import annotations

import re
import threading
import time

import pytest
from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.funds import rollover as ro
from app.funds import runs
from app.funds import services as fs
from app.funds.models import Rollover, RolloverLine
from app.integrations.models import JobEvent, JobRun
from app.orders import services as os_
from tests.funds.test_rollover import LINES, books, fund, rules, state  # noqa: F401 - the fixture
from tests.funds.test_rollover_views import FORM
from tests.helpers import login
from tests.orders.helpers import line

RULES = rules("available")


@pytest.fixture
def reported(world, books, orders):
    """A third open line, paid by A-BKS, which is not rolled over: the line is reported."""
    world.fund_a.do_not_roll_over = True
    pol = line(world, world.user("buyer"), orders.eur, price="40.00", library="a")
    os_.approve_po_line(world.user("buyer"), pol)
    db.session.commit()
    return pol


def count(model=Rollover, **where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).filter_by(**where))


def run_here(world, task: runs.Task) -> tuple[JobRun, dict]:
    """Start ``task`` and run it in the foreground, as the command line does."""
    admin = world.user("admin")
    run, started = runs.start(admin, task)
    assert started
    run_id = run.id
    db.session.commit()
    result: dict = {}
    runs.execute(current_app._get_current_object(), run_id, task, admin.id, result)
    db.session.expire_all()
    return db.session.get(JobRun, run_id), result


def events(run: JobRun) -> list[tuple[str, str]]:
    return [(e.level, e.message) for e in db.session.scalars(select(JobEvent).filter_by(run_id=run.id)
                                                             .order_by(JobEvent.id))]


# -- a kept preview ---------------------------------------------------------------------------------

@pytest.mark.postgres
def test_kept_preview_reports_line_by_line_what_the_commit_does(world, books, reported):
    admin = world.user("admin")
    before = state()
    preview = ro.preview(admin, "FY2026", "FY2027", RULES, LINES, keep=True)
    db.session.commit()
    assert state() == before   # nothing but the preview's own rows
    stored = db.session.get(Rollover, preview.rollover_id)
    assert stored.status == "preview" and ro.committed_rollover(stored.source_period, stored.target_period) is None
    kept = ro.report_of(stored)
    assert kept.status == "preview" and kept.figures() == preview.figures()
    committed = ro.commit(admin, "FY2026", "FY2027", RULES, LINES)   # a kept preview is no commit
    db.session.commit()
    assert len(kept.funds) == len(committed.funds) == 5 and len(kept.lines) == len(committed.lines) == 3
    for a, b in zip(kept.funds, committed.funds, strict=True):
        assert a == b
    for a, b in zip(kept.lines, committed.lines, strict=True):
        assert a == b
    assert [(ln.po_line, ln.new_fund, ln.reason) for ln in kept.lines][2] == (reported.number, None, "no_counterpart")
    assert kept.figures() == committed.figures() and kept.totals == committed.totals
    assert fs.check_ledger() == []


@pytest.mark.postgres
def test_kept_preview_of_the_lines_after_the_ledgers_equals_their_commit(world, books):
    """The target funds exist before the preview: the kept rows point at them."""
    admin = world.user("admin")
    ro.commit(admin, "FY2026", "FY2027", RULES, None)
    db.session.commit()
    preview = ro.preview(admin, "FY2026", "FY2027", None, LINES, keep=True)
    db.session.commit()
    new_books = fund("BOOKS", "FY2027")
    assert {r.target_fund_id for r in db.session.scalars(select(RolloverLine).filter_by(
        rollover_id=preview.rollover_id))} == {new_books.id}
    committed = ro.commit(admin, "FY2026", "FY2027", None, LINES)
    db.session.commit()
    kept = ro.report_of(db.session.get(Rollover, preview.rollover_id))
    assert kept.figures() == committed.figures() and [ln.new_fund for ln in kept.lines] == ["BOOKS", "BOOKS"]


def test_only_the_latest_previews_are_kept(world, books):
    admin = world.user("admin")
    ids = []
    for _ in range(ro.KEEP_PREVIEWS + 2):
        ids.append(ro.preview(admin, "FY2026", "FY2027", RULES, LINES, keep=True).rollover_id)
        db.session.commit()
    kept = db.session.scalars(select(Rollover.id).where(Rollover.status == "preview").order_by(Rollover.id)).all()
    assert kept == ids[-ro.KEEP_PREVIEWS:]
    assert count(RolloverLine) == 2 * ro.KEEP_PREVIEWS
    assert [r.id for r in ro.rollovers()] == ids[::-1][:ro.KEEP_PREVIEWS]


# -- a run ------------------------------------------------------------------------------------------

@pytest.mark.postgres
def test_a_commit_run_commits_it_whole_and_says_what_it_did(app, world, books, reported):
    run, result = run_here(world, runs.Task("commit", "FY2026", "FY2027", RULES, LINES))
    rid = result["report"].rollover_id
    assert (run.status, run.job, run.profile_code, run.trigger) == ("completed", "rollover", "FY2026→FY2027", "manual")
    assert run.message == "Fiscal period FY2026 rolled over to FY2027: 4 funds, 2 PO lines moved, 1 reported."
    assert (run.records, run.records_failed, run.progress_done, run.progress_total) == (8, 1, 8, 8)
    assert run.status_label == "Completed with exceptions" and run.job_label == "Fiscal period rollover"
    said = events(run)
    # BOOKS, SHARED and B-BKS (A-BKS skipped): new 10,300.00 + 1,030.00 + 1,030.00, carried 2,549.50 +
    # 1,000.00 + 1,000.00, BOOKS' 1,200.00 encumbered not carried (it moves with the lines)
    assert said[0] == ("info", "Funds: 4 rolled over to FY2027 (4 created), 1 skipped. EUR: new allocations "
                               "12,360.00, carried over 4,549.50, not carried 1,200.00.")
    assert ("info", "Fund A-BKS skipped: the fund is marked do not roll over.") in said
    assert ("info", "PO lines: 2 moved to the funds of FY2027, 1 left as they were. EUR: released 1,200.00, "
                    "re-encumbered 1,225.00.") in said
    assert ("warning", f"1 PO line(s) left as they were: no fund with the same code in the target period "
                       f"({reported.number}).") in said
    assert said[-1] == ("info", f"Rollover {rid} committed.")
    assert len(said) == 5   # a summary, not an event per line
    assert db.session.get(Rollover, rid).status == "committed" and fund("BOOKS", "FY2027").allocated > 0
    assert runs.rollover_id_of(run) == rid and runs.run_of_rollover(rid).id == run.id
    with app.test_request_context():
        assert runs.result_link(run) == (f"Report: rollover {rid}", f"/fiscal-periods/closure/{rid}")
    assert fs.check_ledger() == []

    undo, _ = run_here(world, runs.Task("undo", "FY2026", "FY2027", rollover_id=rid))
    assert (undo.status, undo.job, undo.job_label) == ("completed", "rollover_undo", "Rollover undo")
    assert undo.message.startswith(f"Rollover {rid} from FY2026 to FY2027 undone")
    assert db.session.get(Rollover, rid).status == "undone" and runs.rollover_id_of(undo) == rid
    assert fs.check_ledger() == []


@pytest.mark.postgres
def test_a_second_commit_run_ends_failed_and_changes_nothing(world, books):
    first, _ = run_here(world, runs.Task("commit", "FY2026", "FY2027", RULES, LINES))
    assert first.status == "completed"
    before = state()
    again, result = run_here(world, runs.Task("commit", "FY2026", "FY2027", rules("cash"), LINES))
    assert again.status == "failed" and "already rolled over to FY2027" in again.message
    assert "nothing was changed" in again.message and result == {}
    assert events(again) == [("error", again.message)]
    assert state() == before and count(Rollover) == 1 and runs.rollover_id_of(again) is None


@pytest.mark.postgres
def test_an_error_mid_run_fails_it_and_changes_nothing(world, books, monkeypatch):
    def broken(*args):
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(ro, "_roll_lines", broken)   # after the funds were rolled, inside the transaction
    before = state()
    run, _ = run_here(world, runs.Task("commit", "FY2026", "FY2027", RULES, LINES))
    assert run.status == "failed"
    assert run.message == "Unexpected error: RuntimeError: the disk is on fire. Nothing was changed."
    assert state() == before and count(Rollover) == 0 and fs.check_ledger() == []


def test_a_preview_run_keeps_its_report(world, books):
    before = state()
    run, result = run_here(world, runs.Task("preview", "FY2026", "FY2027", RULES, LINES))
    rid = result["report"].rollover_id
    assert run.status == "completed" and run.message == ("Preview of FY2026 → FY2027: 5 funds; 2 PO lines would "
                                                         "move, 0 would be reported. Nothing was changed.")
    assert events(run)[-1] == ("info", f"Preview of FY2026 → FY2027 (kept as preview {rid}): nothing was changed.")
    assert state() == before and db.session.get(Rollover, rid).status == "preview"


def test_a_second_start_of_the_same_periods_follows_the_live_run(world, books):
    admin = world.user("admin")
    first, started = runs.start(admin, runs.Task("commit", "FY2026", "FY2027", RULES, LINES))
    again, started_again = runs.start(admin, runs.Task("preview", "FY2026", "FY2027", RULES, LINES))
    assert started and not started_again and again.id == first.id
    other, started_other = runs.start(admin, runs.Task("preview", "FY2026", "FY2028", RULES, LINES))
    assert started_other and other.id != first.id


def test_the_command_line_records_its_runs(app, world, books, reported):
    db.session.commit()
    cli = app.test_cli_runner()
    out = cli.invoke(args=["rollover", "ledgers", "--from", "FY2026", "--to", "FY2027", "--preview"])
    assert out.exit_code == 0 and "nothing was changed" in out.output
    assert cli.invoke(args=["rollover", "ledgers", "--from", "FY2026", "--to", "FY2027"]).exit_code == 0
    out = cli.invoke(args=["rollover", "po-lines", "--from", "FY2026", "--to", "FY2027"])
    assert out.exit_code == 1 and "2 moved, 1 not moved" in out.output
    db.session.expire_all()
    found = db.session.scalars(select(JobRun).order_by(JobRun.id)).all()
    assert [(r.job, r.trigger, r.status, r.profile_code) for r in found] == [
        ("rollover", "cli", "completed", "FY2026→FY2027")] * 3
    assert found[0].message.startswith("Preview of FY2026 → FY2027: 4 funds.")
    assert count(Rollover, status="preview") == 0   # the command's preview is not kept: it writes its report file
    assert found[2].records_failed == 1 and found[2].trigger_label == "Command line"


def test_the_page_shows_the_reported_lines_of_a_long_report_first(app, world, books, reported, monkeypatch):
    from app.funds import views
    app.config["ROLLOVER_RUNS_IN_FOREGROUND"] = True
    monkeypatch.setattr(views, "LINES_SHOWN", 1)
    client = login(app.test_client(), "admin")
    html = client.post("/fiscal-periods/closure", data={**FORM, "action": "preview"},
                       headers={"HX-Request": "true"}).get_data(as_text=True)
    assert html.count("data-line=") == 1 and f'data-line="{reported.number}"' in html
    assert "… and 2 more rows, all in the totals" in html and "1,225.00" in html   # re-encumbered, both moved


# -- the page, with the run in its background thread ------------------------------------------------

def poll(client, fragment: str):
    """Poll the run's fragment as the page does until it stops polling; the last answer."""
    url = "/fiscal-periods/closure/runs/" + re.search(r"Run #(\d+)", fragment).group(1)
    deadline = time.monotonic() + 60
    while True:
        resp = client.get(url, headers={"HX-Request": "true"})
        if 'hx-trigger="every 1s"' not in resp.get_data(as_text=True):
            return resp
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(0.05)


@pytest.mark.committing
def test_the_page_follows_a_run_in_its_background_thread(app, world, books, monkeypatch):
    go, waiting = threading.Event(), threading.Event()
    real = runs.Progress.__call__

    def held(self, step, done, total):
        real(self, step, done, total)
        if step == "PO lines" and done == 0 and not go.is_set():
            waiting.set()
            assert go.wait(60), "the test never let the run go on"

    monkeypatch.setattr(runs.Progress, "__call__", held)
    client = login(app.test_client(), "admin")
    before = state()
    resp = client.post("/fiscal-periods/closure", data={**FORM, "action": "preview"}, headers={"HX-Request": "true"})
    try:
        assert resp.status_code == 200
        fragment = resp.get_data(as_text=True)
        assert 'id="rollover-run"' in fragment and 'hx-trigger="every 1s"' in fragment
        assert waiting.wait(60), "the run never reached the PO lines"
        run_id = int(re.search(r"Run #(\d+)", fragment).group(1))
        assert threading.current_thread().name != f"run-{run_id}"
        assert f"run-{run_id}" in {t.name for t in threading.enumerate()}
        going = client.get(f"/fiscal-periods/closure/runs/{run_id}", headers={"HX-Request": "true"})
        text = going.get_data(as_text=True)
        assert 'hx-trigger="every 1s"' in text and "PO lines: 0 / 2" in text and 'max="2"' in text
        monitor = client.get("/admin/erp/jobs/running").get_data(as_text=True)
        assert f"#{run_id}" in monitor and "Fiscal period rollover" in monitor and "PO lines: 0 / 2" in monitor
        page = client.get("/fiscal-periods/closure").get_data(as_text=True)
        assert f"Run #{run_id}" in page and "follow its progress" in page
    finally:
        go.set()
    done = poll(client, fragment).get_data(as_text=True)
    assert "Preview — nothing was changed" in done and "2,549.50" in done and "Nothing was changed." in done
    assert state() == before

    resp = client.post("/fiscal-periods/closure", data={**FORM, "action": "commit"}, headers={"HX-Request": "true"})
    end = poll(client, resp.get_data(as_text=True))
    stored = db.session.scalar(select(Rollover).where(Rollover.status == "committed"))
    assert end.status_code == 204 and end.headers["HX-Redirect"] == f"/fiscal-periods/closure/{stored.id}"
    page = client.get(end.headers["HX-Redirect"]).get_data(as_text=True)
    assert "Fiscal period FY2026 rolled over to FY2027: 5 funds, 2 PO lines moved, 0 reported." in page
    run = runs.run_of_rollover(stored.id)
    assert f'href="/admin/erp/jobs/runs/{run.id}"' in page
    shown = client.get(f"/admin/erp/jobs/runs/{run.id}").get_data(as_text=True)
    assert f'href="/fiscal-periods/closure/{stored.id}"' in shown and f"Report: rollover {stored.id}" in shown
    assert fund("BOOKS", "FY2027").allocated == 12849.50 and fs.check_ledger() == []


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@pytest.mark.committing
def test_postgresql_progress_reaches_the_run_row_at_once(app, world, books, monkeypatch):
    """The rollover's transaction is open; its progress is committed to the run's row beside it."""
    go, waiting = threading.Event(), threading.Event()
    real = runs.Progress.__call__

    def held(self, step, done, total):
        real(self, step, done, total)
        if step == "PO lines" and done == 0:
            waiting.set()
            assert go.wait(60), "the test never let the run go on"

    monkeypatch.setattr(runs.Progress, "__call__", held)
    monkeypatch.setattr(runs, "WRITE_EVERY_NS", 0)
    admin = world.user("admin")
    task = runs.Task("commit", "FY2026", "FY2027", RULES, LINES)
    run, _ = runs.start(admin, task)
    run_id, admin_id = run.id, admin.id
    db.session.commit()
    runs.in_background(app, run_id, task, admin_id)
    try:
        assert waiting.wait(60)
        db.session.rollback()
        row = db.session.execute(select(JobRun.status, JobRun.progress_done, JobRun.progress_total, JobRun.message)
                                 .where(JobRun.id == run_id)).one()
        assert tuple(row) == ("running", 0, 2, "PO lines: 0 of 2")
        assert count(Rollover) == 0   # the rollover itself is not committed yet
        db.session.rollback()
    finally:
        go.set()
    deadline = time.monotonic() + 60
    while db.session.scalar(select(JobRun.status).where(JobRun.id == run_id)) == "running":
        db.session.rollback()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    db.session.rollback()
    run = db.session.get(JobRun, run_id)
    assert run.status == "completed" and (run.progress_done, run.progress_total) == (7, 7)
    assert run.message.startswith("Fiscal period FY2026 rolled over to FY2027") and count(Rollover) == 1
