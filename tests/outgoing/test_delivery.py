"""Delivering stored letters by e-mail to a real SMTP server (aiosmtpd), and by the catch-all
folder: the PDF's text, retries with back-off after the server was down, exactly one delivery,
refusals, giving up, interrupted attempts, and input that cannot be sent."""
from __future__ import annotations

import email
import email.policy
import io
from datetime import timedelta

import pypdf
import pytest

from app.clock import utcnow
from app.extensions import db
from app.formatting import money
from app.letters.data import demo_order
from app.outgoing import delivery
from app.outgoing.models import LetterTemplate, VendorMessage
from tests.outgoing.conftest import BUSY, REFUSED, queued, total


def reload(message) -> VendorMessage:
    db.session.expire_all()
    return db.session.get(VendorMessage, message.id)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def attachments(msg):
    return [(part.get_filename(), part.get_content()) for part in msg.iter_attachments()]


def test_po_email_reaches_the_server_with_html_text_and_the_pdf(app, world, orders, smtp):
    letter = demo_order(3)
    m = queued(orders.eur, letter=letter)
    outcome = delivery.deliver(m.id)
    assert outcome.status == "sent" and outcome.po_number == "PO-000001" and outcome.vendor == "Euro Books"
    m = reload(m)
    assert m.status == "sent" and m.sent_at is not None and m.attempts == 1 and m.last_error == ""
    assert "PO-000001" in m.subject and m.pdf_file and "the 3 titles" in m.body_html
    [envelope] = smtp.envelopes
    assert envelope.rcpt_tos == ["orders@vendor.example"]
    [msg] = smtp.messages
    assert msg["To"] == "orders@vendor.example" and msg["Subject"] == m.subject
    plain = msg.get_body(("plain",)).get_content()
    assert "Dear Demo Books Ltd," in plain and "the 3 titles" in plain and "<" not in plain
    assert msg.get_body(("html",)).get_content().replace("\r\n", "\n").strip() == m.body_html.strip()
    [(name, pdf)] = attachments(msg)
    assert name == "order-PO-000001.pdf" and pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    for line in letter.lines:
        assert line.title in text and line.number in text and money(line.net_price, "EUR") in text
    assert money(total(letter), "EUR") in text and "PO-000001" in text
    # delivered once: nothing is due any more
    assert delivery.deliver(m.id) is None
    assert str(delivery.deliver_due()) == "nothing to send" and len(smtp.envelopes) == 1


@pytest.mark.postgres
def test_server_down_keeps_it_queued_then_delivers_it_exactly_once(app, world, orders, smtp_down):
    m = queued(orders.eur)
    before = utcnow()
    summary = delivery.deliver_due()
    assert (summary.retrying, summary.sent) == (1, 0)
    [problem] = summary.problems
    assert problem.status == "queued" and "could not be reached" in problem.reason
    m = reload(m)
    assert m.status == "queued" and m.attempts == 1 and str(smtp_down.port) in m.last_error
    assert timedelta(seconds=59) < m.next_attempt_at - before < timedelta(seconds=62)
    pdf_file = m.pdf_file
    assert pdf_file   # rendered once, kept for the next attempt
    # not due yet: the next run leaves it alone
    assert delivery.deliver_due().handled == 0
    smtp_down.start()
    summary = delivery.deliver_due(now=m.next_attempt_at + timedelta(seconds=1))
    assert summary.sent == 1
    m = reload(m)
    assert (m.status, m.attempts, m.last_error, m.pdf_file) == ("sent", 2, "", pdf_file)
    assert delivery.deliver_due(now=utcnow() + timedelta(hours=2)).handled == 0
    assert len(smtp_down.envelopes) == 1


def test_back_off_doubles_up_to_an_hour_then_gives_up(app, world, orders, smtp_down):
    m = queued(orders.eur)
    waits = []
    for _ in range(8):
        start = utcnow()
        outcome = delivery.deliver(m.id)
        if outcome.status == "queued":
            waits.append(round((outcome.next_attempt_at - start).total_seconds() / 60))
    assert waits == [1, 2, 4, 8, 16, 32, 60]
    m = reload(m)
    assert m.status == "failed" and m.attempts == 8 and "Gave up after 8 attempts" in m.last_error
    assert "could not be reached" in m.last_error
    assert delivery.deliver(m.id) is None and smtp_down.envelopes == []


def test_permanent_refusal_fails_at_once_a_temporary_one_is_retried(app, world, orders, smtp):
    refused = queued(orders.eur, to=REFUSED)
    busy = queued(orders.eur, to=BUSY)
    summary = delivery.deliver_due()
    assert (summary.failed, summary.retrying, summary.sent) == (1, 1, 0)
    refused, busy = reload(refused), reload(busy)
    assert refused.status == "failed" and "550" in refused.last_error and REFUSED in refused.last_error
    assert busy.status == "queued" and "450" in busy.last_error and busy.attempts == 1
    assert smtp.envelopes == []


def test_attempt_left_sending_by_a_dead_process_is_interrupted_not_resent(app, world, orders, smtp):
    stale = queued(orders.eur, status="sending", attempts=1)
    fresh = queued(orders.eur, status="sending", attempts=1)
    db.session.execute(db.update(VendorMessage).where(VendorMessage.id == stale.id)
                       .values(updated_at=utcnow() - timedelta(minutes=11)))
    db.session.commit()
    summary = delivery.deliver_due()
    assert summary.interrupted == 1 and summary.problems[0].message_id == stale.id
    stale, fresh = reload(stale), reload(fresh)
    assert stale.status == "interrupted" and "may have reached the vendor" in stale.last_error
    assert fresh.status == "sending"   # a live attempt (minutes old at most) is left to its process
    assert delivery.deliver(stale.id) is None and smtp.envelopes == []


def test_without_a_mail_server_the_letter_is_written_to_the_catch_all_folder(app, world, orders, letter_files):
    m = queued(orders.eur)
    assert delivery.deliver(m.id).status == "sent"
    [eml] = (letter_files / "mail").iterdir()
    assert eml.suffix == ".eml"
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert msg["To"] == "orders@vendor.example" and "PO-000001" in msg["Subject"]
    [(name, pdf)] = attachments(msg)
    assert name == "order-PO-000001.pdf" and "Sample title 1" in pdf_text(pdf)


def test_print_and_none_channels(app, world, orders, letter_files):
    printed = queued(orders.eur, channel="print", to="")
    recorded = queued(orders.eur, channel="none", to="")
    summary = delivery.deliver_due()
    assert (summary.printed, summary.recorded, summary.sent) == (1, 1, 0)
    printed, recorded = reload(printed), reload(recorded)
    assert printed.status == "to_print" and delivery.pdf_bytes(printed) == (letter_files / "letters" /
                                                                             printed.pdf_file).read_bytes()
    assert recorded.status == "recorded" and recorded.pdf_file is None and recorded.subject
    assert "Sample title 2" in pdf_text(delivery.pdf_bytes(recorded))   # made on demand
    assert not (letter_files / "mail").exists()


@pytest.mark.parametrize("to, said", [
    ("", "no e-mail address"),
    ("orders@vendor.example\r\nBcc: spy@evil.example", "is not an e-mail address"),
    ("a@x.example, b@y.example", "is not an e-mail address"),
    ("not an address", "is not an e-mail address"),
])
def test_undeliverable_addresses_fail_with_a_clear_reason(app, world, orders, smtp, to, said):
    m = queued(orders.eur, channel="email", to=to)
    assert delivery.deliver(m.id).status == "failed"
    m = reload(m)
    assert m.status == "failed" and said in m.last_error and smtp.envelopes == []


def test_template_error_fails_the_letter_with_the_line_and_the_run_goes_on(app, world, orders, smtp):
    db.session.add(LetterTemplate(kind="po", subject="Order {{ po.number }}\n{{ po.missing_field }}"))
    db.session.commit()
    broken = queued(orders.eur)
    cancellation = queued(orders.eur, kind="po_cancellation")
    summary = delivery.deliver_due()
    assert (summary.failed, summary.sent) == (1, 1)
    broken = reload(broken)
    assert broken.status == "failed" and "subject template, line 2" in broken.last_error
    assert "missing_field" in broken.last_error and broken.pdf_file is None
    [msg] = smtp.messages
    assert msg["To"] == "orders@vendor.example" and reload(cancellation).status == "sent"


def test_unreadable_payload_fails_without_crashing(app, world, orders, smtp):
    m = queued(orders.eur)
    m.payload = {"version": 1, "type": "order", "letter": {"po_number": "X"}}
    db.session.commit()
    outcome = delivery.deliver(m.id)
    assert outcome.status == "failed" and "stored data cannot be read" in outcome.reason
    assert reload(m).status == "failed" and smtp.envelopes == []
