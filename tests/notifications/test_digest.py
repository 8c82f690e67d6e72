"""The daily digest: one e-mail per user with the day's "digest" notifications grouped by kind, with
links (real SMTP through the outbox), each notification mailed once, nobody mailed for nothing;
the reminders of the day are made first."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.extensions import db
from app.integrations.daily import run_daily
from app.integrations.models import JobEvent, JobRun
from app.notifications import digest
from app.notifications import services as notes
from app.notifications.models import Notification
from app.outgoing import delivery


@pytest.fixture(autouse=True)
def no_reminders(monkeypatch):
    """The reminders of claims and renewals due are another test's: none here, unless a test says."""
    monkeypatch.setattr(digest, "reminders", lambda today: {"claim_due": 0, "renewal_due": 0})


@pytest.fixture
def people(world):
    fm, buyer, viewer = world.user("fundmgr"), world.user("buyer"), world.user("viewer")
    fm.email, buyer.email, viewer.email = "fm@lib.example", "buyer@lib.example", "viewer@lib.example"
    for user in (fm, buyer):
        notes.set_preferences(user, {"approval_waiting": "digest", "claim_due": "digest", "job_ended": "digest"})
    db.session.commit()
    return fm, buyer, viewer


def test_one_email_per_user_grouped_by_kind_and_nothing_twice(app, world, people, smtp):
    fm, buyer, viewer = people
    notes.notify("approval_waiting", [fm], "Invoice INV-1 waits for your approval", url="/invoices/1")
    notes.notify("approval_waiting", [fm], "Invoice INV-2 waits for your approval", url="/invoices/2")
    notes.notify("claim_due", [fm, buyer], "A claim is due for POL-7", url="/orders/lines/7")
    notes.notify("approval_waiting", [viewer], "Invoice INV-3 waits for your approval")   # viewer: at once
    db.session.commit()
    assert delivery.deliver_due().sent == 1   # the viewer's, at once
    smtp.handler.envelopes.clear()

    run_id = run_daily(app, "digest", trigger="manual", today=date(2026, 6, 15))
    run = db.session.get(JobRun, run_id)
    assert run.status == "completed" and run.message == "2 digest(s) mailed with 4 notification(s)."
    assert delivery.deliver_due().sent == 2
    by_to = {m["To"]: m for m in smtp.messages}
    assert set(by_to) == {"fm@lib.example", "buyer@lib.example"}, "one each; the viewer had nothing waiting"
    fm_mail = by_to["fm@lib.example"]
    assert fm_mail["Subject"] == "Your daily digest of 2026-06-15: 3 notification(s)"
    html = fm_mail.get_body(("html",)).get_content()
    assert "An invoice waits for my approval (2)" in html and "A claim is due (1)" in html
    assert html.index("INV-1") < html.index("INV-2") and 'href="' in html and "/invoices/2" in html
    assert "INV-3" not in html
    assert db.session.scalar(select(Notification.id).where(Notification.delivery == "digest",
                                                           Notification.mailed_at.is_(None))) is None

    again = db.session.get(JobRun, run_daily(app, "digest", trigger="manual", today=date(2026, 6, 15)))
    assert again.message == "0 digest(s) mailed with 0 notification(s)."
    assert delivery.deliver_due().sent == 0 and len(smtp.messages) == 2

    notes.notify("job_ended", [buyer], "ERP run #5 of DEMO-ERP failed: Export invoices for payment")
    db.session.commit()
    run_daily(app, "digest", trigger="manual")
    assert delivery.deliver_due().sent == 1
    assert "ERP run #5" in smtp.messages[-1].get_body(("html",)).get_content()
    assert "INV-1" not in smtp.messages[-1].get_body(("html",)).get_content(), "what was mailed is not mailed again"


def test_a_user_without_an_address_waits_and_the_run_says_so(app, world, people):
    fm, _buyer, _viewer = people
    fm.email = ""
    notes.notify("claim_due", [fm], "A claim is due for POL-7")
    db.session.commit()
    run = db.session.get(JobRun, run_daily(app, "digest", trigger="manual"))
    assert run.records_failed == 1
    assert any("no e-mail address" in e.message for e in db.session.scalars(select(JobEvent).filter_by(run_id=run.id)))
    assert db.session.scalar(select(Notification.mailed_at).where(Notification.user_id == fm.id)) is None


def test_the_reminders_of_the_day_come_first(app, world, people, monkeypatch):
    fm_id = people[0].id
    days = []

    def reminders(today):   # in the run's session, as the real one is
        days.append(today)
        notes.notify("claim_due", [db.session.get(User, fm_id)], "A claim is due for POL-8")
        return {"claim_due": 1, "renewal_due": 0}
    monkeypatch.setattr(digest, "reminders", reminders)
    run = db.session.get(JobRun, run_daily(app, "digest", trigger="manual", today=date(2026, 6, 15)))
    assert days == [date(2026, 6, 15)]
    assert run.message == "1 digest(s) mailed with 1 notification(s)."
