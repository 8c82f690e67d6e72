"""Claims and vendor communications: real e-mail through a local SMTP server (aiosmtpd), delivery
failures kept and retried, vendor responses, attachments stored safely, the claims list."""
from __future__ import annotations

import io
import os
import re
from datetime import timedelta

import pytest

from app import clock
from app.errors import Forbidden, InvalidInput, NotFound, RuleViolation
from app.extensions import db
from app.formatting import long_day
from app.orders import communications as cs
from app.orders import services as orders
from app.orders.models import Communication, CommunicationMessage, POLine, POLineEvent
from tests.orders.communications.conftest import sent_line
from tests.helpers import login
from tests.inventory.helpers import make_buyer_a
from tests.orders.helpers import line

PDF = b"%PDF-1.4\n% a proforma invoice\n" + bytes(range(256)) * 4


def _history(pol, action):
    return db.session.scalars(db.select(POLineEvent).filter_by(po_line_id=pol.id, action=action)).all()


def _attachment_parts(msg):
    return [(part.get_filename(), part.get_content()) for part in msg.iter_attachments()]


# -- defaults ----------------------------------------------------------------------------------

def test_defaults_name_the_line_and_its_order_details(app, world, claims):
    pol = claims.overdue
    assert pol.number in cs.default_subject(pol)
    body = cs.default_body(pol)
    for expected in (pol.number, pol.po.number, "The Claimed Book", "978-3-16-148410-0", "EB-4711",
                     "quantity 2", "50.00 EUR", long_day(pol.po.sent_at.date(), "en"),
                     long_day(pol.expected_receipt_date, "en"), "Euro Books", "Library A"):
        assert expected in body, expected
    assert cs.default_recipient(pol) == claims.vendor_email, "the first contact that has an e-mail"


def test_default_recipient_is_empty_without_a_contact_email(app, world, claims):
    pol = sent_line(world, world.user("buyer"), db.session.get(POLine, claims.overdue.id).vendor)
    pol.vendor.contacts.clear()
    assert cs.default_recipient(pol) == ""


# -- sending -----------------------------------------------------------------------------------

def test_claim_is_emailed_with_its_attachment(app, world, claims, smtp):
    pol, buyer = claims.overdue, world.user("buyer")
    comm = cs.start_communication(buyer, pol, "claim", cs.default_subject(pol), cs.default_body(pol),
                                  cs.default_recipient(pol), attachment=("proforma.pdf", PDF),
                                  internal_note="Paid in advance; see the proforma.")
    db.session.commit()
    assert len(smtp.envelopes) == 1
    envelope, msg = smtp.envelopes[0], smtp.messages[0]
    assert envelope.rcpt_tos == [claims.vendor_email]
    assert envelope.mail_from == app.config["MAIL_SENDER"]
    assert pol.number in msg["Subject"] and msg["To"] == claims.vendor_email
    text = msg.get_body(("plain",)).get_content()
    for expected in (pol.number, "The Claimed Book", "978-3-16-148410-0", "EB-4711", "50.00 EUR"):
        assert expected in text, expected
    assert "Paid in advance" not in msg.as_string(), "the internal note stays inside"
    assert _attachment_parts(msg) == [("proforma.pdf", PDF)]
    message = comm.messages[0]
    assert message.sent_at is not None and message.delivery_error == "" and message.direction == "out"
    assert message.attachment_name == "proforma.pdf"
    assert cs.attachment_path(message).read_bytes() == PDF
    assert comm.kind == "claim" and comm.internal_note == "Paid in advance; see the proforma."
    [event] = _history(pol, "claim")
    assert "sent to claims@eurobooks.example" in event.note and "proforma.pdf" in event.note


def test_a_claim_without_an_attachment_carries_the_claim_letter(app, world, claims, smtp):
    from io import BytesIO

    from pypdf import PdfReader

    from app.outgoing.models import LetterTemplate
    pol, buyer = claims.overdue, world.user("buyer")
    cs.start_communication(buyer, pol, "claim", cs.default_subject(pol), cs.default_body(pol), cs.default_recipient(pol))
    db.session.commit()
    [(name, content)] = _attachment_parts(smtp.messages[0])
    text = " ".join("".join(p.extract_text() for p in PdfReader(BytesIO(content)).pages).split())
    assert name == f"claim-{pol.number}.pdf" and pol.number in text and "The Claimed Book" in text
    # the claim letter switched off: the claim goes as the text alone
    db.session.add(LetterTemplate(kind="claim", active=False))
    cs.start_communication(buyer, pol, "claim", "Again", "Where is it?", cs.default_recipient(pol))
    db.session.commit()
    assert _attachment_parts(smtp.messages[1]) == []


def test_delivery_failure_keeps_the_message_and_retry_sends_it(app, world, claims, smtp_down):
    pol, buyer = claims.overdue, world.user("buyer")
    comm = cs.start_communication(buyer, pol, "claim", "Where is it? " + pol.number, "Please deliver.",
                                  claims.vendor_email, attachment=("photo.jpg", b"\xff\xd8\xff jpeg"))
    db.session.commit()
    message = db.session.get(CommunicationMessage, comm.messages[0].id)
    assert message.sent_at is None
    assert "could not be reached" in message.delivery_error and str(smtp_down.port) in message.delivery_error
    assert "not delivered" in _history(pol, "claim")[0].note

    assert cs.retry(buyer, message) is False, "still down"
    db.session.commit()
    assert message.sent_at is None and message.delivery_error

    smtp_down.start()
    assert cs.retry(buyer, message) is True
    db.session.commit()
    assert message.sent_at is not None and message.delivery_error == ""
    [msg] = smtp_down.messages
    assert pol.number in msg["Subject"] and _attachment_parts(msg) == [("photo.jpg", b"\xff\xd8\xff jpeg")]
    assert ["” sent to" in e.note for e in _history(pol, "resend")] == [False, True]
    with pytest.raises(RuleViolation, match="already sent"):
        cs.retry(buyer, message)


def test_server_refusing_the_recipient_is_a_delivery_error(app, world, claims, smtp):
    async def refuse(server, session, envelope, address, rcpt_options):
        return "550 No such mailbox"
    smtp.handler.handle_RCPT = refuse
    comm = cs.start_communication(world.user("buyer"), claims.overdue, "general", "Hello", "Hi.",
                                  "nobody@eurobooks.example")
    assert "refused the recipient nobody@eurobooks.example" in comm.messages[0].delivery_error
    assert smtp.envelopes == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_login_with_the_configured_credentials(app, world, claims, smtp_down):
    from aiosmtpd.smtp import AuthResult

    def authenticator(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=(auth_data.login, auth_data.password) == (b"acq", b"s3cret"), handled=False)
    smtp_down.start(authenticator=authenticator, auth_require_tls=False, auth_required=True)
    buyer = world.user("buyer")
    app.config.update(MAIL_USERNAME="acq", MAIL_PASSWORD="wrong")
    comm = cs.start_communication(buyer, claims.overdue, "claim", "Claim", "Body", claims.vendor_email)
    assert "refused the configured user name or password" in comm.messages[0].delivery_error
    app.config["MAIL_PASSWORD"] = "s3cret"
    assert cs.retry(buyer, comm.messages[0]) is True
    assert len(smtp_down.envelopes) == 1


def test_recorded_without_sending(app, world, claims, smtp):
    comm = cs.start_communication(world.user("buyer"), claims.overdue, "general", "Note", "Phoned them.",
                                  claims.vendor_email, send=False)
    assert comm.messages[0].sent_at is None and comm.messages[0].delivery_error == "" and smtp.envelopes == []


@pytest.mark.parametrize("kwargs, field", [
    (dict(kind="complaint"), "kind"), (dict(subject="  "), "subject"), (dict(subject="x" * 301), "subject"),
    (dict(body=""), "body"), (dict(to_address=""), "to_address"), (dict(to_address="vendor.example"), "to_address"),
    (dict(to_address="a@b.example\r\nBcc: x@evil.example"), "to_address"),
    (dict(attachment=("empty.pdf", b"")), "attachment"),
])
def test_invalid_messages_are_refused_and_nothing_is_sent(app, world, claims, smtp, kwargs, field):
    args = dict(kind="claim", subject="Claim", body="Please deliver.", to_address=claims.vendor_email)
    args.update(kwargs)
    with pytest.raises(InvalidInput) as exc:
        cs.start_communication(world.user("buyer"), claims.overdue, **args)
    assert exc.value.field == field
    assert smtp.envelopes == []


def test_subject_line_breaks_cannot_add_headers(app, world, claims, smtp):
    cs.start_communication(world.user("buyer"), claims.overdue, "general", "Hi\r\nBcc: spy@evil.example", "Body",
                           claims.vendor_email)
    [envelope] = smtp.envelopes
    assert envelope.rcpt_tos == [claims.vendor_email] and smtp.messages[0]["Bcc"] is None


def test_oversized_attachment_is_refused(app, world, claims, smtp):
    app.config["ATTACHMENT_MAX_BYTES"] = 1000
    with pytest.raises(InvalidInput, match="larger than") as exc:
        cs.start_communication(world.user("buyer"), claims.overdue, "claim", "S", "B", claims.vendor_email,
                               attachment=("big.pdf", b"x" * 1001))
    assert exc.value.field == "attachment"
    assert not os.path.exists(app.config["ATTACHMENT_FOLDER"]) or os.listdir(app.config["ATTACHMENT_FOLDER"]) == []


def test_a_claim_needs_a_sent_line_but_a_general_message_does_not(app, world, claims, smtp):
    buyer = world.user("buyer")
    draft = line(world, buyer, claims.overdue.vendor)
    with pytest.raises(RuleViolation, match="not sent to the vendor yet"):
        cs.start_communication(buyer, draft, "claim", "S", "B", claims.vendor_email)
    cs.start_communication(buyer, draft, "general", "Question", "Can you supply it?", claims.vendor_email)
    assert len(smtp.envelopes) == 1


def test_writing_needs_the_right_to_order_for_the_lines_library(app, world, claims, smtp):
    buyer_a = make_buyer_a(world)
    line_b = sent_line(world, world.user("buyer"), claims.overdue.vendor, library="b")
    for user in (world.user("viewer"), world.user("fundmgr"), buyer_a):
        target = line_b if user is buyer_a else claims.overdue
        with pytest.raises(Forbidden):
            cs.start_communication(user, target, "claim", "S", "B", claims.vendor_email)
    comm = cs.start_communication(buyer_a, claims.overdue, "claim", "S", "B", claims.vendor_email)
    with pytest.raises(Forbidden):
        cs.add_response(world.user("viewer"), comm, "answer")
    with pytest.raises(Forbidden):
        cs.retry(world.user("viewer"), comm.messages[0])
    assert len(smtp.envelopes) == 1


# -- responses ---------------------------------------------------------------------------------

def test_vendor_responses_land_on_the_same_thread(app, world, claims, smtp):
    pol, buyer = claims.overdue, world.user("buyer")
    comm = cs.start_communication(buyer, pol, "claim", "Claim " + pol.number, "Please deliver.", claims.vendor_email)
    cs.add_response(buyer, comm, "It ships next week.")
    cs.add_response(buyer, comm, "", attachment=("reply.eml", b"From: vendor\r\n\r\nShipped."))
    db.session.commit()
    comm = db.session.get(Communication, comm.id)
    assert [m.direction for m in comm.messages] == ["out", "in", "in"]
    assert comm.messages[1].body == "It ships next week." and comm.messages[1].attachment_path is None
    assert cs.attachment_path(comm.messages[2]).read_bytes() == b"From: vendor\r\n\r\nShipped."
    assert comm.messages[2].attachment_name == "reply.eml"
    assert len(_history(pol, "vendor_response")) == 2
    assert len(smtp.envelopes) == 1, "responses are recorded, not e-mailed"
    with pytest.raises(InvalidInput, match="Paste the vendor's answer"):
        cs.add_response(buyer, comm, "   ")
    with pytest.raises(RuleViolation):
        cs.retry(buyer, comm.messages[1])


# -- attachments -------------------------------------------------------------------------------

@pytest.mark.parametrize("name, shown", [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\system32\\config", "config"),
    ("/etc/shadow", "shadow"),
    ("..", "attachment"),
    ("", "attachment"),
    ("bad\x00name\r\n<script>.pdf", "bad_name___script_.pdf"),
    (".htaccess", "htaccess"),
])
def test_hostile_attachment_names_are_stored_safely(app, world, claims, smtp, name, shown):
    comm = cs.start_communication(world.user("buyer"), claims.overdue, "claim", "S", "B", claims.vendor_email,
                                  attachment=(name, b"data"))
    message = comm.messages[0]
    assert message.attachment_name == shown
    assert re.fullmatch(r"[0-9a-f]{32}", message.attachment_path)
    folder = os.path.realpath(app.config["ATTACHMENT_FOLDER"])
    assert os.listdir(folder) == [message.attachment_path]
    assert os.path.dirname(os.path.realpath(cs.attachment_path(message))) == folder
    assert _attachment_parts(smtp.messages[0]) == [(shown, b"data")]


def test_very_long_attachment_names_are_cut_keeping_the_extension(app, world, claims, smtp):
    comm = cs.start_communication(world.user("buyer"), claims.overdue, "claim", "S", "B", claims.vendor_email,
                                  attachment=("é" * 5000 + ".pdf", b"data"))
    name = comm.messages[0].attachment_name
    assert len(name) == 200 and name.endswith(".pdf")
    db.session.commit()
    assert db.session.get(CommunicationMessage, comm.messages[0].id).attachment_name == name


def test_a_tampered_stored_path_is_never_followed(app, world, claims, smtp):
    comm = cs.start_communication(world.user("buyer"), claims.overdue, "claim", "S", "B", claims.vendor_email,
                                  attachment=("a.txt", b"data"))
    message = comm.messages[0]
    for tampered in ("../../../etc/passwd", "/etc/passwd", message.attachment_path + "/..", ""):
        message.attachment_path = tampered
        with pytest.raises(NotFound):
            cs.attachment_path(message)


# -- claims list -------------------------------------------------------------------------------

def test_claims_query_lists_overdue_lines_only(app, world, claims):
    buyer = world.user("buyer")
    vendor = claims.overdue.vendor
    not_due = sent_line(world, buyer, vendor, title="Not due", expected_receipt_date=clock.today() + timedelta(days=5))
    received = sent_line(world, buyer, vendor, title="Received", expected_receipt_date=clock.today() - timedelta(days=3))
    orders.receive_po_line(buyer, received)
    db.session.commit()
    titles = [p.title for p in db.session.scalars(orders.claims_query(buyer))]
    assert titles == ["The Claimed Book"]
    assert not_due.title not in titles


# -- pages -------------------------------------------------------------------------------------

def _thread_url(pol):
    return f"/orders/lines/{pol.number}/communications"


def _start(client, pol, headers=None, **fields):
    data = dict(kind="claim", to_address="claims@eurobooks.example", subject=f"Claim {pol.number}",
                body="Please deliver.", internal_note="")
    data.update(fields)
    return client.post(_thread_url(pol), data=data, headers=headers or {}, content_type="multipart/form-data")


def test_the_tab_prefills_the_claim_and_sends_it_from_the_page(app, world, claims, smtp):
    pol = claims.overdue
    client = login(app.test_client(), "buyer")
    page = client.get(_thread_url(pol)).get_data(as_text=True)
    assert 'id="communications"' in page and "Start communication" in page
    assert f'value="{cs.default_subject(pol)}"' in page and 'value="claims@eurobooks.example"' in page
    assert "EB-4711" in page and "978-3-16-148410-0" in page, "the body is pre-filled with the order details"
    assert '<option selected value="claim">' in page

    resp = _start(client, pol, body=cs.default_body(pol), internal_note="Proforma paid on 1 May.",
                  attachment=(io.BytesIO(PDF), "proforma invoice.pdf"))
    assert resp.status_code == 302 and resp.headers["Location"].endswith(_thread_url(pol))
    [envelope], [msg] = smtp.envelopes, smtp.messages
    assert envelope.rcpt_tos == ["claims@eurobooks.example"] and pol.number in msg["Subject"]
    assert "EB-4711" in msg.get_body(("plain",)).get_content()
    assert _attachment_parts(msg) == [("proforma invoice.pdf", PDF)]
    page = client.get(_thread_url(pol)).get_data(as_text=True)
    assert "sent to claims@eurobooks.example" in page, "the flash after the redirect"
    assert f"Claim {pol.number}" in page and "Proforma paid on 1 May." in page and "proforma invoice.pdf" in page
    assert "Retry sending" not in page
    assert 'id="start" >' in page, "with a thread, the start form stays folded"
    assert 'id="start" open>' in client.get(_thread_url(pol) + "?start=claim").get_data(as_text=True)


def test_htmx_start_answers_the_fragment(app, world, claims, smtp):
    client = login(app.test_client(), "buyer")
    resp = _start(client, claims.overdue, headers={"HX-Request": "true", "HX-Target": "communications"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert body.count('id="communications"') == 1 and "<html" not in body and "sent to" in body
    assert len(smtp.envelopes) == 1


def test_invalid_start_shows_the_error_next_to_the_field(app, world, claims, smtp):
    client = login(app.test_client(), "buyer")
    resp = _start(client, claims.overdue, to_address="not an address")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "is not an e-mail address" in page and 'aria-invalid="true"' in page
    assert smtp.envelopes == [] and db.session.scalar(db.select(db.func.count(Communication.id))) == 0


def test_failed_send_is_shown_and_retried_from_the_page(app, world, claims, smtp_down):
    pol = claims.overdue
    client = login(app.test_client(), "buyer")
    assert _start(client, pol).status_code == 302
    page = client.get(_thread_url(pol)).get_data(as_text=True)
    assert "saved but not sent" in page and "not delivered" in page and "could not be reached" in page
    [message] = db.session.scalars(db.select(CommunicationMessage)).all()
    retry_url = f"{_thread_url(pol)}/messages/{message.id}/retry"
    assert f'action="{retry_url}"' in page

    smtp_down.start()
    resp = client.post(retry_url, headers={"HX-Request": "true", "HX-Target": "communications"})
    assert resp.status_code == 200 and "Sent to claims@eurobooks.example" in resp.get_data(as_text=True)
    assert "Retry sending" not in resp.get_data(as_text=True)
    [msg] = smtp_down.messages
    assert pol.number in msg["Subject"]
    assert client.post(retry_url).status_code == 422, "already sent"
    assert len(smtp_down.envelopes) == 1


def test_responses_from_the_page_and_scoped_downloads(app, world, claims, smtp):
    make_buyer_a(world)
    pol = claims.overdue
    client = login(app.test_client(), "buyer-a")
    assert _start(client, pol).status_code == 302
    comm = db.session.scalar(db.select(Communication))
    respond_url = f"{_thread_url(pol)}/{comm.id}/responses"
    assert client.post(respond_url, data={"body": "Shipped on Monday."}).status_code == 302
    assert client.post(respond_url, data={"body": "", "attachment": (io.BytesIO(b"%PDF reply"), "../reply.pdf")},
                       content_type="multipart/form-data").status_code == 302
    resp = client.post(respond_url, data={"body": ""}, headers={"HX-Request": "true", "HX-Target": "communications"})
    assert resp.status_code == 422 and "Paste the vendor" in resp.get_data(as_text=True)

    db.session.expire_all()
    comm = db.session.get(Communication, comm.id)
    assert [(m.direction, m.body, m.attachment_name) for m in comm.messages] == [
        ("out", "Please deliver.", f"claim-{claims.overdue.number}.pdf"), ("in", "Shipped on Monday.", None), ("in", "", "reply.pdf")]
    page = client.get(_thread_url(pol)).get_data(as_text=True)
    assert "Shipped on Monday." in page and "reply.pdf" in page
    download = f"/orders/communications/messages/{comm.messages[2].id}/attachment"
    assert f'href="{download}"' in page

    resp = client.get(download)
    assert resp.status_code == 200 and resp.data == b"%PDF reply"
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "reply.pdf" in disposition
    assert resp.headers["X-Content-Type-Options"] == "nosniff" and resp.mimetype == "application/octet-stream"
    assert login(app.test_client(), "viewer-a").get(download).status_code == 200, "reading follows visibility"

    # a LIBB line's attachment is not there for library A's buyer
    line_b = sent_line(world, world.user("buyer"), pol.vendor, library="b",
                       expected_receipt_date=clock.today() - timedelta(days=1))
    comm_b = cs.start_communication(world.user("buyer"), line_b, "claim", "B claim", "Body", claims.vendor_email,
                                    attachment=("b.pdf", b"B secret"))
    db.session.commit()
    download_b = f"/orders/communications/messages/{comm_b.messages[0].id}/attachment"
    for user in ("buyer-a", "viewer-a"):
        other = login(app.test_client(), user)
        resp = other.get(download_b)
        assert resp.status_code == 404 and b"B secret" not in resp.data
        assert other.get(_thread_url(line_b)).status_code == 404
    assert client.post(f"{_thread_url(line_b)}/{comm_b.id}/responses", data={"body": "x"}).status_code == 404
    assert client.post(f"{_thread_url(line_b)}/messages/{comm_b.messages[0].id}/retry").status_code == 404
    assert _start(client, line_b).status_code == 404
    assert login(app.test_client(), "buyer").get(download_b).data == b"B secret"


def test_readers_see_threads_but_no_forms(app, world, claims, smtp):
    cs.start_communication(world.user("buyer"), claims.overdue, "claim", "Claim it", "Body", claims.vendor_email)
    db.session.commit()
    client = login(app.test_client(), "viewer")
    page = client.get(_thread_url(claims.overdue)).get_data(as_text=True)
    assert "Claim it" in page and "Start communication" not in page and "Add a response" not in page
    assert _start(client, claims.overdue).status_code == 403


def test_claims_list_shows_overdue_lines_only(app, world, claims, smtp):
    buyer = world.user("buyer")
    vendor = claims.overdue.vendor
    sent_line(world, buyer, vendor, title="Not yet due", expected_receipt_date=clock.today() + timedelta(days=5))
    received = sent_line(world, buyer, vendor, title="Already received",
                         expected_receipt_date=clock.today() - timedelta(days=30))
    orders.receive_po_line(buyer, received)
    sent_line(world, buyer, vendor, title="Overdue in B", library="b",
              expected_receipt_date=clock.today() - timedelta(days=2))
    line(world, buyer, vendor, title="Never sent", expected_receipt_date=clock.today() - timedelta(days=40))
    cs.start_communication(buyer, claims.overdue, "claim", "First claim", "Body", claims.vendor_email)
    db.session.commit()

    page = login(app.test_client(), "buyer").get("/orders/claims").get_data(as_text=True)
    assert "The Claimed Book" in page and "Overdue in B" in page
    for absent in ("Not yet due", "Already received", "Never sent"):
        assert absent not in page, absent
    row = page[page.index(claims.overdue.number):].split("</tr>")[0]
    assert '<td class="num">10</td>' in row and "EURV" in row and '<td class="num">1</td>' in row
    assert f'href="{_thread_url(claims.overdue)}?start=claim#start"' in row and "Start a claim" in row
    assert page.index("The Claimed Book") < page.index("Overdue in B"), "the longest overdue first"

    make_buyer_a(world)
    page_a = login(app.test_client(), "buyer-a").get("/orders/claims").get_data(as_text=True)
    assert "The Claimed Book" in page_a and "Overdue in B" not in page_a
    page_viewer = login(app.test_client(), "viewer").get("/orders/claims").get_data(as_text=True)
    assert "The Claimed Book" in page_viewer and "Start a claim" not in page_viewer


def test_claims_list_pages(app, world, claims):
    app.config["PAGE_SIZE"] = 1
    sent_line(world, world.user("buyer"), claims.overdue.vendor, title="Second overdue",
              expected_receipt_date=clock.today() - timedelta(days=1))
    client = login(app.test_client(), "buyer")
    first = client.get("/orders/claims").get_data(as_text=True)
    assert "The Claimed Book" in first and "Second overdue" not in first and 'href="/orders/claims?page=2"' in first
    second = client.get("/orders/claims?page=2").get_data(as_text=True)
    assert "Second overdue" in second and "The Claimed Book" not in second
