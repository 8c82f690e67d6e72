"""Monitor Jobs exported: the run history (its filter, newest first, every run, not the page) and a
run's events, as XLSX and CSV in the columns the user shows; institution administrators only."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime

from openpyxl import load_workbook

from app.extensions import db
from app.integrations.models import JobEvent, JobRun
from tests.helpers import login, show_columns

HOSTILE = '=HYPERLINK("http://evil.example","x")'


def _sheet(resp) -> list[tuple]:
    assert resp.status_code == 200, resp.status_code
    return list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))


def _csv(resp) -> list[list[str]]:
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"), newline="")))


def _runs(app, n=30):
    """``n`` finished runs (every third failed), the last one with 130 events (more than a page)."""
    app.config["SCHEDULER_TIMEZONE"] = "UTC"
    runs = []
    for i in range(n):
        run = JobRun(job="export_invoices" if i % 2 else "import_payments", profile_code=f"P{i % 2}",
                     trigger="schedule", status="failed" if i % 3 == 0 else "completed",
                     started_at=datetime(2026, 3, 1, 8, i), ended_at=datetime(2026, 3, 1, 9, i, 30),
                     files=i, records=10 * i, records_failed=i % 4, message=HOSTILE if i == 5 else f"Run {i}")
        db.session.add(run)
        runs.append(run)
    db.session.flush()
    for j in range(130):
        db.session.add(JobEvent(run_id=runs[-1].id, at=datetime(2026, 3, 1, 9, 0, j % 60), level="error" if j % 10 == 0
                                else "info", file_name="pay.xml", record=f"INV-{j:03d}",
                                message=HOSTILE if j == 7 else f"Event {j}"))
    db.session.commit()
    return runs


def test_run_history_export_has_every_matching_run_typed_and_inert(app, world):
    runs = _runs(app)
    show_columns(world.user("admin"), "job_runs")
    client = login(app.test_client(), "admin")
    page = client.get("/admin/erp/jobs?status=completed").data.decode()
    completed = [r for r in runs if r.status == "completed"]
    assert f"Export {len(completed)} runs" in page and "Message</th>" in page
    links = [u.replace("&amp;", "&") for u in re.findall(r'href="([^"]*/jobs/export\.(?:csv|xlsx)[^"]*)"', page)]
    assert len(links) == 2 and all("status=completed" in u for u in links)

    rows = _sheet(client.get(links[1]))
    header, body = rows[0], rows[1:]
    assert header == ("Run", "Job", "Profile", "Trigger", "Scheduled for", "Started", "Ended", "Status", "Files",
                      "Records", "With exceptions", "Message")
    assert len(body) == len(completed) > 12, "every run of the filter, not the first page"
    assert [r[0] for r in body] == sorted((r.id for r in completed), reverse=True), "newest first"
    last = next(r for r in body if r[0] == runs[-1].id)   # i = 29: completed, 1 with exceptions
    assert last[1:4] == ("Export invoices for payment", "P1", "Scheduled")
    assert last[5] == datetime(2026, 3, 1, 8, 29) and last[6] == datetime(2026, 3, 1, 9, 29, 30)
    assert last[7] == "Completed with exceptions" and last[8:11] == (29, 290, 1) and last[4] is None
    assert next(r for r in body if r[0] == runs[5].id)[11] == "'" + HOSTILE

    text = _csv(client.get(links[0]))
    assert tuple(text[0]) == header and len(text) == 1 + len(completed)
    assert next(r for r in text if r[0] == str(runs[-1].id))[5:7] == ["2026-03-01 08:29", "2026-03-01 09:29"]
    assert len(_csv(client.get("/admin/erp/jobs/export.csv"))) == 1 + len(runs)


def test_run_history_shows_and_exports_the_chosen_columns(app, world):
    runs = _runs(app, n=3)
    show_columns(world.user("admin"), "job_runs", ["records", "id", "status"])
    client = login(app.test_client(), "admin")
    frag = client.get("/admin/erp/jobs", headers={"HX-Request": "true"}).data.decode()
    table = re.search(r'<div id="history-table".*?</table>', frag, re.S).group(0)
    assert re.findall(r"<th[^>]*>([^<]+)</th>", table) == ["Records", "Run", "Status"]
    assert re.search(rf'<td class="num">20</td>\s*<td class="num"><a href="/admin/erp/jobs/runs/{runs[2].id}">', table)
    assert _sheet(client.get("/admin/erp/jobs/export.xlsx"))[0] == ("Records", "Run", "Status")


def test_run_events_export_has_every_event_in_order(app, world):
    runs = _runs(app, n=2)
    run = runs[-1]
    client = login(app.test_client(), "admin")
    page = client.get(f"/admin/erp/jobs/runs/{run.id}").data.decode()
    assert "Export 130 events" in page and page.count('<tr class="event-') == 100, "the page shows 100"
    rows = _sheet(client.get(f"/admin/erp/jobs/runs/{run.id}/events.xlsx"))
    assert rows[0] == ("Time", "Level", "File", "Record", "Message")
    assert len(rows) == 1 + 130 and [r[3] for r in rows[1:]] == [f"INV-{j:03d}" for j in range(130)]
    assert rows[1][0] == datetime(2026, 3, 1, 9, 0, 0) and rows[1][1] == "error" and rows[2][1] == "info"
    assert rows[8][4] == "'" + HOSTILE
    text = _csv(client.get(f"/admin/erp/jobs/runs/{run.id}/events.csv"))
    assert len(text) == 131 and text[1][0] == "2026-03-01 09:00"
    # columns chosen: the event number added, the file left out
    show_columns(world.user("admin"), "job_events", ["id", "at", "message"])
    rows = _sheet(client.get(f"/admin/erp/jobs/runs/{run.id}/events.xlsx"))
    assert rows[0] == ("Event", "Time", "Message") and isinstance(rows[1][0], int)
    other = _sheet(client.get(f"/admin/erp/jobs/runs/{runs[0].id}/events.xlsx"))
    assert len(other) == 1, "only that run's events"
    assert client.get("/admin/erp/jobs/runs/999999/events.csv").status_code == 404


def test_only_institution_administrators_export_jobs(app, world):
    run = _runs(app, n=1)[0]
    for user in ("viewer", "fundmgr"):
        client = login(app.test_client(), user)
        assert client.get("/admin/erp/jobs/export.xlsx").status_code == 403
        assert client.get(f"/admin/erp/jobs/runs/{run.id}/events.csv").status_code == 403
