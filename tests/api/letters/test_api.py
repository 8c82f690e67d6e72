"""The letter templates through the API: read, change (PATCH with If-Match), reset, (de)activate, preview
(rendered and PDF), send a test — the /admin/letters services, for institution administrators only."""
from __future__ import annotations

import email
import email.policy
import io

import pytest

from app.extensions import db
from app.letters.render import default_source
from app.outgoing.models import LetterTemplate
from tests.api.guards import key_reused, needs_if_match, stale_action, walk_roles
from tests.api.helpers import conforms, each_case, error_of
from tests.api.letters.route_matrix import API_MATRIX

SUBJECT = "Order {{ po.number }} from us"


@pytest.fixture
def mail_folder(app, tmp_path):
    """Mail goes to the catch-all folder (no SMTP server)."""
    app.config.update(MAIL_SERVER="", MAIL_CATCH_ALL_FOLDER=str(tmp_path / "mail"))
    return tmp_path / "mail"


def saved_row(kind="po"):
    db.session.expire_all()
    return db.session.scalar(db.select(LetterTemplate).filter_by(kind=kind))


def test_list_and_read(world, api):
    client = api("admin")
    items = conforms(client.get("/letters").get_json(), "LetterList")["items"]
    assert [(i["kind"], i["active"], i["customized"]) for i in items] == [
        ("po", True, []), ("po_cancellation", True, []), ("claim", True, []), ("payment_notice", False, [])]
    resp = client.get("/letters/po")
    letter = conforms(resp.get_json(), "Letter")
    assert letter == items[0] and letter["subject"] == default_source("po", "subject")
    assert (letter["label"], letter["updated_at"], letter["updated_by"]) == ("Purchase order", None, None)
    assert client.get("/letters/po", headers={"If-None-Match": resp.headers["ETag"]}).status_code == 304
    error_of(client.get("/letters/memo"), 404, "not_found")


def test_patch_reset_and_active(world, api):
    client = api("admin")
    resp = client.change("patch", "/letters/po", json={"subject": SUBJECT})
    assert resp.status_code == 200, resp.get_json()
    letter = conforms(resp.get_json(), "Letter")
    assert (letter["subject"], letter["customized"], letter["active"], letter["updated_by"]) == (
        SUBJECT, ["subject"], True, "admin")
    assert letter["body"] == default_source("po", "body") and saved_row().body is None
    assert resp.headers["ETag"] == client.etag("/letters/po")

    done = client.change("patch", "/letters/po", json={"active": False})
    assert (done.get_json()["active"], done.get_json()["subject"]) == (False, SUBJECT)
    done = client.post("/letters/po/actions/activate", headers={"If-Match": done.headers["ETag"]})
    assert done.status_code == 200 and conforms(done.get_json(), "Letter")["active"] is True
    assert client.post("/letters/payment_notice/actions/activate").get_json()["active"] is True
    assert client.post("/letters/po/actions/deactivate").get_json()["active"] is False

    reset = client.post("/letters/po/actions/reset")
    assert reset.status_code == 200
    assert (conforms(reset.get_json(), "Letter")["subject"], reset.get_json()["customized"],
            reset.get_json()["active"]) == (default_source("po", "subject"), [], False)
    assert saved_row().subject is None


def test_patch_errors_save_nothing(world, api, admin_a):
    client = api("admin")
    tag = client.etag("/letters/po")

    def check(body, field):
        error = error_of(client.patch("/letters/po", json=body, headers={"If-Match": tag}), 400, "invalid")
        assert error.get("field") == field, error

    each_case([({"subject": "{% if %}"}, "subject"), ({"pdf": "{{ po.nope.deeper }}"}, "pdf"),
               ({"active": "yes"}, "active"), ({"footer": "x"}, "footer"), ({}, None)], check)
    assert "line 1" in error_of(client.patch("/letters/po", json={"body": "{% for %}"}, headers={"If-Match": tag}),
                                400, "invalid")["message"]
    error_of(client.patch("/letters/memo", json={"subject": "x"}, headers={"If-Match": tag}), 404, "not_found")
    needs_if_match(client, "patch", "/letters/po", {"subject": SUBJECT})
    error_of(api("admin-a").get("/letters/po"), 403, "forbidden")       # a library's administrator: not theirs
    error_of(api("admin-a").get("/letters"), 403, "forbidden")
    error_of(api("admin-a").patch("/letters/po", json={"subject": SUBJECT}, headers={"If-Match": tag}), 403,
             "forbidden")
    assert saved_row() is None and client.etag("/letters/po") == tag


def test_actions_errors(world, api):
    client = api("admin")
    for action in ("reset", "activate", "deactivate", "preview", "preview_pdf", "send_test"):
        error_of(client.post(f"/letters/memo/actions/{action}"), 404, "not_found")
        stale_action(client, f"/letters/po/actions/{action}")
    for action in ("reset", "activate", "deactivate"):
        assert error_of(client.post(f"/letters/po/actions/{action}", json={"x": 1}), 400, "invalid")["field"] == "x"
    assert saved_row() is None


def test_preview_renders_the_parts_sent_with_the_demo_data(world, api):
    client = api("admin")
    client.change("patch", "/letters/claim", json={"body": "<p>Saved body {{ po.number }}</p>"})
    resp = client.post("/letters/claim/actions/preview", json={"subject": "Claim {{ po.number }} now"})
    assert resp.status_code == 200, resp.get_json()
    preview = conforms(resp.get_json(), "LetterPreview")
    assert preview["subject"] == "Claim PO-000001 now"
    assert "Saved body PO-000001" in preview["body_html"] and "PO-000001" in preview["pdf_html"]
    assert conforms(client.post("/letters/claim/actions/preview").get_json(), "LetterPreview")["subject"] != \
        preview["subject"]
    error = error_of(client.post("/letters/claim/actions/preview", json={"pdf": "{% if %}"}), 400, "invalid")
    assert error["field"] == "pdf"
    error_of(client.post("/letters/claim/actions/preview", json={"subject": 3}), 400, "invalid")
    assert saved_row("claim").subject is None   # a preview saves nothing


def test_preview_pdf(world, api):
    from pypdf import PdfReader
    client = api("admin")
    resp = client.post("/letters/po/actions/preview_pdf",
                       json={"pdf": "<html><body><h1>Layout of {{ po.number }}</h1></body></html>"})
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert "Layout of PO-000001" in PdfReader(io.BytesIO(resp.data)).pages[0].extract_text()
    assert error_of(client.post("/letters/po/actions/preview_pdf", json={"pdf": "{% if %}"}), 400,
                    "invalid")["field"] == "pdf"


def test_send_test_to_oneself(world, api, mail_folder):
    admin = world.user("admin")
    client = api("admin")
    error = error_of(client.post("/letters/po/actions/send_test"), 422, "rule_violation")
    assert "no e-mail address" in error["message"] and not mail_folder.exists()
    admin.email = "me@library.example"
    db.session.commit()
    resp = client.post("/letters/claim/actions/send_test", json={"subject": "Claim {{ po.number }} test"})
    assert resp.status_code == 200, resp.get_json()
    assert conforms(resp.get_json(), "LetterTestSent") == {"kind": "claim", "sent_to": "me@library.example"}
    (sent,) = list(mail_folder.iterdir())
    msg = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
    assert msg["To"] == "me@library.example" and msg["Subject"] == "[Test] Claim PO-000001 test"
    error_of(client.post("/letters/claim/actions/send_test", json={"subject": "{% if %}"}), 400, "invalid")
    assert saved_row("claim") is None


def test_an_idempotency_key_is_for_one_request(world, api, mail_folder):
    world.user("admin").email = "me@library.example"
    db.session.commit()
    client = api("admin")
    for action in ("reset", "activate", "deactivate", "preview", "send_test"):
        key_reused(client, (f"/letters/po/actions/{action}", None), (f"/letters/claim/actions/{action}", None))
    assert len(list(mail_folder.iterdir())) == 1
    assert client.get("/letters/claim").get_json()["active"] is True


# -- sending the waiting letters now -------------------------------------------------------------

@pytest.mark.committing
def test_send_now_delivers_the_waiting_letters(app, world, api, tmp_path, admin_a):
    from tests.outgoing.conftest import queued
    from tests.orders.helpers import make_vendors
    app.config.update(LETTER_FOLDER=str(tmp_path / "letters"), MAIL_CATCH_ALL_FOLDER=str(tmp_path / "mail"),
                      MAIL_SERVER="", OUTGOING_KICK=False)
    message = queued(make_vendors(world).eur)
    error_of(api("admin-a").post("/outgoing/actions/send_now"), 403, "forbidden")
    error_of(api("admin").post("/outgoing/actions/send_now", json={"now": True}), 400, "invalid")
    db.session.expire_all()
    assert db.session.get(type(message), message.id).status == "queued"
    resp = api("admin").post("/outgoing/actions/send_now")
    assert resp.status_code == 200, resp.get_json()
    assert conforms(resp.get_json(), "LettersSending") == {"done": True, "letters": {"sent": 1}}
    db.session.expire_all()
    assert db.session.get(type(message), message.id).status == "sent"
    assert len(list((tmp_path / "mail").iterdir())) == 1


def test_roles_follow_the_matrix(app, world, api):
    requests = {
        "api.list_letters": ("get", "/letters", None),
        "api.get_letter": ("get", "/letters/po", None),
        "api.patch_letter": ("patch", "/letters/po", {"subject": SUBJECT}),
        **{f"api.{action}_letter": ("post", f"/letters/po/actions/{action}", {"surprise": 1})
           for action in ("reset", "activate", "deactivate", "send_test")},
        "api.preview_letter": ("post", "/letters/po/actions/preview", {"surprise": 1}),
        "api.preview_letter_pdf": ("post", "/letters/po/actions/preview_pdf", {"surprise": 1}),
        "api.send_waiting_letters": ("post", "/outgoing/actions/send_now", {"surprise": 1}),
    }
    walk_roles(api, API_MATRIX, requests, allowed=(200, 400, 428))
    assert saved_row() is None
    error_of(app.test_client().get("/api/v1/letters"), 401, "unauthorized")
