"""Letters on screen: the Communications tabs of a PO and a PO line (scope, downloads, send again,
problems shown), and the administrator's letter templates (save refused with the line, sandbox,
live preview, PDF preview, reset, send a test to a real SMTP server)."""
from __future__ import annotations

import email
import email.policy
import re

import pytest

from app.extensions import db
from app.letters.render import default_source
from app.outgoing.models import LetterTemplate, VendorMessage
from tests.helpers import login

HX = {"HX-Request": "true"}


def _messages(po):
    return db.session.scalars(db.select(VendorMessage).where(VendorMessage.po_id == po.id)
                              .order_by(VendorMessage.id)).all()


# -- the Communications tab of a PO ------------------------------------------------------------

def test_po_tab_lists_messages_with_status_error_and_files(app, world, letters):
    client = login(app.test_client(), "viewer")
    page = client.get(f"/orders/pos/{letters.po_b.number}/communications").data.decode()
    assert "Letters to the vendor" in page and 'aria-current="page">Communications' in page
    row = re.search(r'<tr id="vendor-message-%d" class="([^"]+)".*?</tr>' % letters.failed_b.id, page, re.S)
    assert row and "message-problem" in row.group(1), "a failed message is highlighted"
    assert "Failed" in row.group(0) and "refused the recipient x@y.example" in row.group(0)
    assert f"/outgoing/messages/{letters.failed_b.id}/pdf" in row.group(0)
    assert "Send again" not in page, "a viewer may not send"
    fragment = client.get(f"/orders/pos/{letters.po_b.number}/communications", headers=HX).data.decode()
    assert fragment.lstrip().startswith('<section id="vendor-messages"')


def test_po_page_and_list_show_a_problem_badge(app, world, letters):
    client = login(app.test_client(), "viewer")
    assert "Letter not sent" in client.get(f"/orders/pos/{letters.po_b.number}").data.decode()
    assert "Letter not sent" not in client.get(f"/orders/pos/{letters.po_a.number}").data.decode()
    listing = client.get("/orders/pos/").data.decode()
    assert listing.count("Letter not sent") == 1
    assert "Letter not sent" not in login(app.test_client(), "viewer-a").get("/orders/pos/").data.decode(), \
        "B's problem is not shown to a user of A"


def test_po_line_tab_shows_its_letters_above_the_claims(app, world, letters):
    pol = letters.po_a.lines[0]
    page = login(app.test_client(), "buyer").get(f"/orders/lines/{pol.number}/communications").data.decode()
    assert page.index("Letters to the vendor") < page.index("Start communication")
    assert f'id="vendor-message-{letters.sent_a.id}"' in page and "Send again" in page


def test_downloads_give_the_stored_files(app, world, letters):
    client = login(app.test_client(), "viewer-a")
    resp = client.get(f"/outgoing/messages/{letters.sent_a.id}/pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.data == b"%PDF-1.4 stored letter of A" and "attachment" in resp.headers["Content-Disposition"]
    resp = client.get(f"/outgoing/messages/{letters.sent_a.id}/edi")
    assert resp.status_code == 200 and resp.data == b"UNA:+.? 'UNB+UNOC:3+A'"
    assert 'filename="ORDERS-test.edi"' in resp.headers["Content-Disposition"]


def test_pdf_of_a_message_not_rendered_yet_is_made_from_its_snapshot(app, world, letters):
    from pypdf import PdfReader
    import io
    resp = login(app.test_client(), "admin").get(f"/outgoing/messages/{letters.failed_b.id}/pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf" and resp.data.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages)
    assert "PO-000001" in text and "Sample title 1" in text, "the snapshot's order (demo data here)"
    assert login(app.test_client(), "admin").get(f"/outgoing/messages/{letters.failed_b.id}/edi").status_code == 404


@pytest.mark.parametrize("user", ["viewer-a", "fundmgr-a"])
def test_out_of_scope_gets_404_everywhere(app, world, letters, user):
    client = login(app.test_client(), user)
    b = letters.failed_b.id
    for url in (f"/orders/pos/{letters.po_b.number}/communications", f"/outgoing/messages/{b}/pdf",
                f"/outgoing/messages/{b}/edi", "/outgoing/messages/999999/pdf"):
        for headers in ({}, HX):
            assert client.get(url, headers=headers).status_code == 404, url


def test_send_again_queues_a_copy(app, world, letters):
    client = login(app.test_client(), "admin")
    resp = client.post(f"/outgoing/messages/{letters.failed_b.id}/resend", headers=HX)
    assert resp.status_code == 200
    page = resp.data.decode()
    assert "queued to be sent again" in page and page.lstrip().startswith('<section id="vendor-messages"')
    first, copy = _messages(letters.po_b)
    assert first.status == "failed" and copy.status == "queued" and copy.resend_of_id == first.id
    assert copy.created_by_id == world.users["admin"] and [p.id for p in copy.lines] == [p.id for p in first.lines]
    assert f'id="vendor-message-{copy.id}"' in page and "Queued" in page
    # a queued message is not sent twice: no button for it, and a post is refused
    resp = client.post(f"/outgoing/messages/{copy.id}/resend", headers=HX)
    assert resp.status_code == 422 and "will not be sent twice" in resp.data.decode()
    assert len(_messages(letters.po_b)) == 2


def test_send_again_without_javascript_redirects_to_the_tab(app, world, letters):
    pol = letters.po_a.lines[0]
    client = login(app.test_client(), "buyer")
    resp = client.post(f"/outgoing/messages/{letters.sent_a.id}/resend?line={pol.number}")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/orders/lines/{pol.number}/communications")
    assert len(_messages(letters.po_a)) == 2
    resp = client.post(f"/outgoing/messages/{letters.sent_a.id}/resend?line={pol.number}", headers=HX)
    assert resp.status_code == 200 and "No letters" not in resp.data.decode()


def test_send_again_checks_role_and_scope(app, world, letters, buyer_a):
    assert login(app.test_client(), "viewer").post(f"/outgoing/messages/{letters.failed_b.id}/resend").status_code == 403
    client = login(app.test_client(), "buyer-a")
    assert client.post(f"/outgoing/messages/{letters.failed_b.id}/resend").status_code == 404
    assert client.post(f"/outgoing/messages/{letters.sent_a.id}/resend", headers=HX).status_code == 200
    assert len(_messages(letters.po_b)) == 1 and len(_messages(letters.po_a)) == 2


# -- letter templates --------------------------------------------------------------------------

def _parts(kind="po", **changed):
    data = {part: default_source(kind, part) for part in ("subject", "body", "pdf")}
    data.update(changed)
    data["active"] = "y"
    return data


def _saved(kind="po"):
    return db.session.scalar(db.select(LetterTemplate).filter_by(kind=kind))


def test_templates_list_and_active_switch(app, world):
    client = login(app.test_client(), "admin")
    page = client.get("/admin/letters").data.decode()
    for label in ("Purchase order", "Order cancellation", "Claim", "Payment notice"):
        assert label in page
    assert page.count(">Turn on</button>") == 1, "only the payment notice is off by default"
    resp = client.post("/admin/letters/payment_notice/active", data={"active": "1"}, headers=HX)
    assert resp.status_code == 200 and ">Turn on</button>" not in resp.data.decode()
    assert _saved("payment_notice").active is True
    client.post("/admin/letters/po/active", data={"active": "0"})
    assert _saved("po").active is False and _saved("po").body is None


def test_edit_page_shows_the_sources_preview_and_fields(app, world):
    page = login(app.test_client(), "admin").get("/admin/letters/po").data.decode()
    assert 'sandbox=""' in page and "srcdoc=" in page and "PO-000001" in page
    for name in ("po.number", "lines[].title", "totals.net", "vendor.name"):
        assert f"<code>{name}</code>" in page, name
    assert 'hx-trigger="input delay:600ms"' in page
    assert login(app.test_client(), "admin").get("/admin/letters/nothing").status_code == 404


def test_save_keeps_changed_parts_and_leaves_built_in_ones(app, world):
    client = login(app.test_client(), "admin")
    resp = client.post("/admin/letters/po", data=_parts(subject="Order {{ po.number }} from us"))
    assert resp.status_code == 302
    row = _saved()
    assert row.subject == "Order {{ po.number }} from us" and row.body is None and row.pdf is None
    assert row.updated_by_id == world.users["admin"]
    assert client.post("/admin/letters/po/reset").status_code == 302
    row = _saved()
    assert (row.subject, row.body, row.pdf, row.active) == (None, None, None, True)


def test_save_is_refused_with_the_line_number(app, world):
    client = login(app.test_client(), "admin")
    body = "<p>Dear vendor,</p>\n<p>{{ po.number }}</p>\n<p>{% for line in lines %}{{ line.title }}</p>\n"
    resp = client.post("/admin/letters/po", data=_parts(body=body))
    assert resp.status_code == 422
    page = resp.data.decode()
    err = re.search(r'<div id="err-body" class="template-errors"><p class="error" role="alert">([^<]+)</p>', page)
    assert err and re.search(r"line [34]\b", err.group(1)), "the unclosed for: the end of the template"
    assert 'aria-invalid="true"' in page
    assert _saved() is None, "nothing saved"
    resp = client.post("/admin/letters/po", data=_parts(subject="Order\n{{ po.nubmer }}"))
    assert resp.status_code == 422 and "line 2" in resp.data.decode() and "nubmer" in resp.data.decode()
    assert _saved() is None


@pytest.mark.parametrize("source, says", [
    ("{{ config }}", "config"),
    ("{{ config.SECRET_KEY }}", "config"),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "may not use"),
    ("{{ lines.__class__ }}", "may not use"),
    ("{% include '/etc/passwd' %}", "template"),
    ("{% import 'base.html' as b %}", "template"),
    ("{{ request.environ }}", "request"),
    ("{{ url_for('admin.users') }}", "url_for"),
])
def test_sandbox_refuses_templates_that_reach_out(app, world, source, says):
    client = login(app.test_client(), "admin")
    resp = client.post("/admin/letters/po", data=_parts(body="<p>Hi</p>\n" + source))
    page = resp.data.decode()
    assert resp.status_code == 422
    err = re.search(r'<div id="err-body" class="template-errors"><p class="error" role="alert">([^<]+)</p>', page)
    assert err and "line 2" in err.group(1) and says in err.group(1).replace("&#39;", "'"), (source, err and err.group(1))
    assert "test-secret" not in page and "root:" not in page
    assert _saved() is None


def test_live_preview_renders_the_typed_text(app, world):
    client = login(app.test_client(), "admin")
    resp = client.post("/admin/letters/po/preview", headers=HX,
                       data=_parts(subject="Typed {{ po.number }}", body="<h1>Hello {{ vendor.name }}</h1>"))
    page = resp.data.decode()
    assert resp.status_code == 200 and "Typed PO-000001" in page
    assert 'sandbox=""' in page and "&lt;h1&gt;Hello Demo Books Ltd&lt;/h1&gt;" in page, "the body sits escaped in srcdoc"
    assert 'id="err-body" class="template-errors" hx-swap-oob="true"></div>' in page, "old errors are cleared"
    resp = client.post("/admin/letters/po/preview", headers=HX, data=_parts(body="ok\n{{ nope }}"))
    page = resp.data.decode()
    assert resp.status_code == 200 and "has errors" in page and "line 2" in page and "nope" in page
    assert _saved() is None


def test_preview_pdf_renders_the_typed_layout(app, world):
    import io

    from pypdf import PdfReader
    client = login(app.test_client(), "admin")
    layout = "<html><body><h1>Layout of {{ po.number }}</h1></body></html>"
    resp = client.post("/admin/letters/po/preview.pdf", data=_parts(pdf=layout))
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert "Layout of PO-000001" in PdfReader(io.BytesIO(resp.data)).pages[0].extract_text()
    resp = client.post("/admin/letters/po/preview.pdf", data=_parts(pdf="{% if %}"))
    assert resp.status_code == 422 and "No PDF" in resp.data.decode()


def test_send_a_test_reaches_the_smtp_server(app, world, smtp):
    admin = world.user("admin")
    admin.email = "me@library.example"
    db.session.commit()
    client = login(app.test_client(), "admin")
    resp = client.post("/admin/letters/claim/test", data=_parts("claim", subject="Claim {{ po.number }} test"))
    assert resp.status_code == 200 and "Test sent to me@library.example" in resp.data.decode()
    (msg,) = [email.message_from_bytes(e.content, policy=email.policy.default) for e in smtp.envelopes]
    assert msg["To"] == "me@library.example" and msg["Subject"] == "[Test] Claim PO-000001 test"
    assert "PO-000001" in msg.get_body(("plain",)).get_content()
    (pdf,) = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert pdf.get_filename() == "claim-test.pdf" and pdf.get_content().startswith(b"%PDF")
    assert _saved("claim") is None, "a test saves nothing"


def test_send_a_test_without_an_email_says_so(app, world, smtp):
    client = login(app.test_client(), "admin")
    page = client.get("/admin/letters/po").data.decode()
    assert "has no e-mail address" in page
    resp = client.post("/admin/letters/po/test", data=_parts())
    assert resp.status_code == 422 and "Your user has no e-mail address" in resp.data.decode()
    assert smtp.envelopes == []


def test_send_a_test_when_the_server_is_down(app, world):
    from tests.helpers import free_port
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_TIMEOUT=2)
    world.user("admin").email = "me@library.example"
    db.session.commit()
    resp = login(app.test_client(), "admin").post("/admin/letters/po/test", data=_parts())
    assert resp.status_code == 422 and "The test was not sent" in resp.data.decode()


def test_templates_are_for_institution_admins_only(app, world, admin_a):
    for user in ("admin-a", "buyer", "viewer"):
        client = login(app.test_client(), user)
        assert client.get("/admin/letters/po").status_code == 403
        assert client.post("/admin/letters/po", data=_parts(subject="x")).status_code == 403
    assert _saved() is None


# -- institution and libraries -----------------------------------------------------------------

def test_institution_page_saves(app, world):
    from app.org.models import Institution
    client = login(app.test_client(), "admin")
    page = client.get("/admin/institution").data.decode()
    assert Institution.current().name in page and 'name="name"' not in page, "the name is shown, not edited"
    resp = client.post("/admin/institution", data={
        "address": "1 Library Square\r\n1000 Demo City", "billing_address": "", "email": "acq@library.example",
        "edi_id": "1234567", "edi_id_qualifier": "31B"})
    assert resp.status_code == 302
    inst = Institution.current()
    assert (inst.address, inst.billing_address, inst.email, inst.edi_id, inst.edi_id_qualifier) == \
        ("1 Library Square\n1000 Demo City", "", "acq@library.example", "1234567", "31B")
    resp = client.post("/admin/institution", data={"email": "not an address", "edi_id": "1"})
    assert resp.status_code == 422 and "Give one e-mail address" in resp.data.decode()
    assert Institution.current().email == "acq@library.example"


def test_library_delivery_address_saves(app, world, admin_a):
    client = login(app.test_client(), "admin")
    a = world.lib_a.id
    resp = client.post(f"/admin/libraries/{a}/address", data={f"l{a}-address": "Library A\nGoods entrance"})
    assert resp.status_code == 302
    assert db.session.get(type(world.lib_a), a).address == "Library A\nGoods entrance"
    assert "Goods entrance" in client.get("/admin/libraries").data.decode()
    assert login(app.test_client(), "admin-a").post(f"/admin/libraries/{a}/address",
                                                    data={f"l{a}-address": "x"}).status_code == 403


# -- Monitor Jobs ------------------------------------------------------------------------------

@pytest.mark.committing
def test_monitor_jobs_lists_letters_that_failed_and_sends_the_waiting_ones(app, world, letters):
    client = login(app.test_client(), "admin")
    page = client.get("/admin/erp/jobs").data.decode()
    card = page[page.index('id="letters-monitor"'):]
    card = card[:card.index("</section>")]
    assert "failed: 1" in card and letters.po_b.number in card
    assert "The mail server refused the recipient x@y.example." in card
    assert f'/orders/pos/{letters.po_b.number}/communications' in card, "links to where Send again is"
    # "Send again" (on the card) queues a copy; "Send waiting letters now" delivers it (catch-all mail here)
    assert f'/outgoing/messages/{letters.failed_b.id}/resend?from=monitor' in card
    resp = client.post(f"/outgoing/messages/{letters.failed_b.id}/resend?from=monitor")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/erp/jobs")
    resp = client.post("/outgoing/send-now")
    assert resp.status_code == 302
    db.session.expire_all()
    copy = _messages(letters.po_b)[-1]
    assert copy.status == "sent" and copy.to_address == "orders@eur.example"
    page = client.get("/admin/erp/jobs").data.decode()
    assert "Send letters to vendors" in page, "the run is on Monitor Jobs"


def test_only_institution_administrators_send_the_waiting_letters(app, world, letters, admin_a):
    for user in ("buyer", "admin-a"):
        client = login(app.test_client(), user)
        assert client.post("/outgoing/send-now").status_code == 403, user
