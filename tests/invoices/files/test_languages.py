"""Issue 21: what a file load and an EDI receipt record for people keeps its Text, so Monitor Jobs,
the load's page and the EDI inbox show it in each reader's language later (the stored English stays
what the API, logs and exports read)."""
from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.integrations.edi.models import EdiMessage
from app.integrations.models import JobEvent
from app.invoices import file_load_run as runs
from app.text import Text
from testkit.erp import wait_for_run
from tests.invoices.files.helpers import table, xlsx

pytestmark = pytest.mark.committing


def _events(run_id: int) -> list[JobEvent]:
    return db.session.scalars(select(JobEvent).where(JobEvent.run_id == run_id).order_by(JobEvent.id)).all()


def test_a_refused_load_keeps_its_reason_as_text(app, world, vendors):
    actor = world.user("invoicer")
    run, started = runs.start_load(app, actor, vendors.plain, b"not a workbook", "broken.xlsx")
    db.session.commit()
    assert started
    run = wait_for_run(run.id)
    assert run.status == "failed"
    assert run.message == "broken.xlsx: The file was refused: The file is not an .xlsx workbook (not a zip archive)."
    assert run.message_text["id"] == "%(file)s: %(reason)s"
    assert run.message_text["args"]["reason"]["id"] == "The file was refused: %(reason)s"
    [event] = [e for e in _events(run.id) if e.level == "error"]
    assert event.message == run.message and event.text == run.message_text
    assert isinstance(run.shown_message, Text) and run.shown_message == run.message


def test_a_load_reports_and_skips_with_text(app, world, vendors):
    rows = [{"number": "LT-1", "invoice_date": date(2026, 3, 2), "total_amount": 10, "unit_price": 10,
             "funds": "SHARED"},
            {"number": "LT-2", "invoice_date": date(2026, 3, 2), "total_amount": 10, "unit_price": 10,
             "funds": "NOFUND"},
            {"number": "LT-3", "invoice_date": "someday", "total_amount": 10, "unit_price": "ten",
             "funds": "NOFUND"}]
    run, _started = runs.start_load(app, world.user("invoicer"), vendors.plain, xlsx(table(rows)), "lt.xlsx")
    db.session.commit()
    run = wait_for_run(run.id)
    assert run.message == "1 invoice created for vendor PLAIN; 2 skipped."
    assert run.message_text["id"] == "%(created)s; %(skipped)s skipped."
    skipped = {e.record: e for e in _events(run.id) if e.level == "warning"}
    assert skipped["LT-2"].message == "Row 3: Funds: there is no fund NOFUND (or it is not yours to use)."
    assert skipped["LT-2"].text["id"] == "Row %(row)s: %(problem)s"
    # several problems: one sentence after the other, each kept
    several = skipped["LT-3"]
    assert several.message.startswith("Row 4: Invoice date: 'someday' is not a date")
    assert "Row 4: Funds:" in several.message
    assert several.text["id"] == "%(first)s %(then)s"
    assert Text.from_json(several.text) == several.message


def test_an_edi_file_that_cannot_be_read_keeps_its_reason_as_text(app, world, vendors, login_as):
    client = login_as("invoicer")
    resp = client.post("/invoices/edi/upload", content_type="multipart/form-data",
                       data={"vendor": "", "file": (io.BytesIO(b"NOT EDI AT ALL"), "x.edi")})
    assert resp.status_code == 303
    run = wait_for_run(int(resp.headers["Location"].rsplit("/", 1)[1]))
    row = db.session.scalar(select(EdiMessage).where(EdiMessage.run_id == run.id))
    assert row.reason == "The file is not an EDIFACT interchange: it must start with UNA or UNB."
    assert row.reason_text == {"id": row.reason, "args": {}}
    assert row.shown_reason == row.reason
    [event] = [e for e in _events(run.id) if e.level == "error"]
    assert event.message == f"Kept in the EDI inbox (#{row.id}): {row.reason}"
    assert event.text["id"] == "Kept in the EDI inbox (#%(id)s): %(reason)s"
    assert run.message_text["id"] == "%(file)s: %(n)s message(s) read, %(failed)s kept in the EDI inbox as failed."
