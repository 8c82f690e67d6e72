"""Monitor Jobs in the reader's language: a run's events and report line are stored in English with
the sentence to translate (app.text), and shown translated; labels (jobs, statuses, triggers) too.
Refusals of the file formats and transports carry their sentence, so a run records it translatable."""
from __future__ import annotations

from datetime import datetime

import pytest
from flask_babel import force_locale, gettext

from app.extensions import db
from app.integrations.formats import joined, xslt
from app.integrations.models import JobEvent, JobRun
from app.integrations.runs import RunLog, _summary, message_of, record_skipped
from app.integrations.transport import TransferError
from app.text import T, Text
from tests.helpers import login

CHINESE = {"Accept-Language": "zh-CN"}


def _translated(msgid: str) -> bool:
    with force_locale("zh_Hans"):
        return gettext(msgid) != msgid


@pytest.fixture
def catalogue(app):
    """The Chinese catalogue holds this domain's sentences (the parts merged: ``scripts/i18n parts``)."""
    if not _translated("Not started: %(reason)s."):
        pytest.skip("the Chinese catalogue does not hold the integration sentences yet (scripts/i18n parts)")


def test_a_skipped_tick_is_stored_in_english_and_shown_translated(app, world, catalogue):
    record_skipped("export_invoices", None, "ERP", datetime(2026, 12, 1, 6, 0), T("the tick was missed"))
    run = db.session.scalar(db.select(JobRun).order_by(JobRun.id.desc()))
    assert run.message == "Not started: the tick was missed."          # the stored words: English
    assert run.message_text["id"] == "Not started: %(reason)s."
    event = run.events.one()
    assert event.message == run.message and event.text == run.message_text
    client = login(app.test_client(), "admin")
    page = client.get(f"/admin/erp/jobs/runs/{run.id}", headers=CHINESE).get_data(as_text=True)
    assert "未启动：错过了计划时间。" in page and "已跳过" in page and "导出待付款发票" in page
    assert "Not started" not in page
    english = client.get(f"/admin/erp/jobs/runs/{run.id}").get_data(as_text=True)
    assert "Not started: the tick was missed." in english and "Skipped" in english
    report = client.get(f"/admin/erp/jobs/runs/{run.id}/report.csv", headers=CHINESE).get_data(as_text=True)
    assert "未启动：错过了计划时间。" in report and "警告" in report


def test_a_run_summary_with_a_note_is_translated(app, world, catalogue):
    run = JobRun(job="export_po_lines", profile_code="ERP", trigger="manual", status="running")
    db.session.add(run)
    db.session.flush()
    log = RunLog(run)
    log.count(files=1, records=2)
    log.note(T("Nothing to export."))
    log.finish("completed", _summary(log))
    db.session.commit()
    assert run.message == "1 file(s), 2 record(s). Nothing to export."
    client = login(app.test_client(), "admin")
    page = client.get("/admin/erp/jobs", headers=CHINESE).get_data(as_text=True)
    assert "导出订单行（POL）" in page and "已完成" in page
    page = client.get(f"/admin/erp/jobs/runs/{run.id}", headers=CHINESE).get_data(as_text=True)
    assert "1 个文件，2 条记录。 没有要导出的内容。" in page


def test_refusals_carry_their_sentence(app):
    with pytest.raises(xslt.XSLTError) as refused:   # refused in a child process: its Text comes back
        xslt.transform('<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
                       '<xsl:template match="/"><xsl:message terminate="yes">stop</xsl:message></xsl:template>'
                       '</xsl:stylesheet>', b"<a/>")
    assert isinstance(refused.value.text, Text) and refused.value.text.msgid == "The stylesheet failed: %(error)s"
    error = TransferError(T("Cannot reach %(where)s: %(error)s.", where="h:22", error="refused"))
    assert message_of(error).msgid == "Cannot reach %(where)s: %(error)s." and str(error.text) == \
        "Cannot reach h:22: refused."
    assert message_of(ValueError("plain")) == "plain"
    both = joined([T("the status is empty"), T("the row has a currency but no amount")])
    assert both == "the status is empty; the row has a currency but no amount"
    assert Text.from_json(both.to_json()) == both


def test_events_recorded_as_text_keep_their_json(app):
    run = JobRun(job="import_payments", profile_code="ERP", trigger="manual", status="running")
    db.session.add(run)
    db.session.flush()
    log = RunLog(run)
    log.info(T("No payment confirmation file to import."))
    log.info("a plain sentence")
    log.finish("completed", "")
    events = db.session.scalars(db.select(JobEvent).filter_by(run_id=run.id).order_by(JobEvent.id)).all()
    assert events[0].text == {"id": "No payment confirmation file to import.", "args": {}}
    assert events[1].text is None and events[1].shown == "a plain sentence"
