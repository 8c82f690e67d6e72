"""Claims and communications through the API: the claims list, a line's threads (start with the
claim letter's defaults, respond, retry a failed delivery, the attachment), and the letters to
vendors (a PO's and a line's messages, one message, its PDF and EDI files, sending it again)."""
from __future__ import annotations

from app.extensions import db
from app.orders import communications as cs
from app.orders.models import Communication
from app.outgoing.models import VendorMessage
from tests.api.helpers import conforms, error_of
from tests.api.orders.roles import check_roles
from tests.api.orders.route_matrix import COMMUNICATION_API
from tests.orders.helpers import line
from tests.outgoing.helpers import message


def comm_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Communication))


# -- claims and threads ------------------------------------------------------------------------

def test_claims_list_and_a_claim_with_the_letters_defaults(app, world, claims, smtp, api):
    number = claims.overdue.number
    viewer = api("viewer")
    page = conforms(viewer.get("/claims").get_json(), "ClaimPage")
    assert [(c["number"], c["vendor"], c["days_overdue"], c["claims"], c["last_claim"]) for c in page["items"]] == [
        (number, "EURV", 10, 0, None)]
    assert error_of(viewer.get("/claims?per_page=201"), 400, "invalid")["field"] == "per_page"
    assert viewer.get("/claims?page=2").get_json()["items"] == []

    client = api("buyer")
    resp = client.post(f"/po-lines/{number}/communications")   # no body: every default
    assert resp.status_code == 201, resp.get_json()
    thread = conforms(resp.get_json(), "Communication")
    assert resp.headers["Location"] == f"/api/v1/po-lines/{number}/communications/{thread['id']}"
    [sent] = thread["messages"]
    assert (thread["kind"], thread["created_by"], sent["direction"], sent["to_address"], sent["delivery_error"]) == (
        "claim", "buyer", "out", claims.vendor_email, "")
    assert sent["sent_at"] and number in sent["body"] and sent["attachment_name"] == f"claim-{number}.pdf"
    assert len(smtp.envelopes) == 1
    claim = viewer.get("/claims").get_json()["items"][0]
    assert claim["claims"] == 1 and claim["last_claim"]

    # the attachment (the claim letter's PDF), the thread with its ETag, the list
    got = viewer.get(f"/communication-messages/{sent['id']}/attachment")
    assert got.status_code == 200 and got.mimetype == "application/octet-stream" and got.data.startswith(b"%PDF")
    path = f"/po-lines/{number}/communications/{thread['id']}"
    tag = viewer.etag(path)
    assert viewer.get(path, headers={"If-None-Match": tag}).status_code == 304
    assert conforms(viewer.get(f"/po-lines/{number}/communications").get_json(), "CommunicationList")["items"] == [
        thread]

    # the vendor's answer, recorded on the same thread (not e-mailed)
    resp = client.post(f"{path}/responses", json={"body": "Shipped on Monday."})
    assert resp.status_code == 201, resp.get_json()
    answered = conforms(resp.get_json(), "Communication")
    assert [(m["direction"], m["body"]) for m in answered["messages"]][1:] == [("in", "Shipped on Monday.")]
    assert len(smtp.envelopes) == 1 and viewer.etag(path) != tag
    error_of(viewer.get(f"/communication-messages/{answered['messages'][1]['id']}/attachment"), 404, "not_found")

    # an Idempotency-Key: a repeat gets the same answer and records nothing more; another request with it is 422
    key = {"Idempotency-Key": "response-1"}
    first = client.post(f"{path}/responses", json={"body": "Again."}, headers=key)
    replay = client.post(f"{path}/responses", json={"body": "Again."}, headers=key)
    assert (first.status_code, replay.status_code, replay.headers.get("Idempotent-Replayed")) == (201, 201, "true")
    assert replay.get_json() == first.get_json() and len(first.get_json()["messages"]) == 3
    error_of(client.post(f"{path}/responses", json={"body": "Other."}, headers=key), 422, "idempotency_key_reused")
    assert len(db.session.get(Communication, thread["id"]).messages) == 3

    # the documented errors
    huge = 10 ** 20
    for url in (f"/po-lines/{number}/communications/{huge}", f"/communication-messages/{huge}/attachment",
                f"/vendor-messages/{huge}"):
        error_of(viewer.get(url), 404, "not_found")
    error_of(client.post(f"/po-lines/{number}/communications/messages/{huge}/actions/retry"), 404, "not_found")
    error_of(client.post(f"{path}/responses", json={}), 400, "invalid")
    error_of(client.post(f"{path}/responses", json={"body": "  "}), 400, "invalid")
    error_of(client.post(f"/po-lines/{number}/communications/999999/responses", json={"body": "x"}), 404,
             "not_found")
    error_of(viewer.get(f"/po-lines/{number}/communications/999999"), 404, "not_found")
    error_of(viewer.get("/po-lines/POL-999999/communications"), 404, "not_found")
    error_of(viewer.get("/communication-messages/999999/attachment"), 404, "not_found")
    assert error_of(client.post(f"/po-lines/{number}/communications", json={"kind": "memo"}), 400,
                    "invalid")["field"] == "kind"
    assert error_of(client.post(f"/po-lines/{number}/communications", json={"to_address": "nobody"}), 400,
                    "invalid")["field"] == "to_address"
    error_of(client.post("/po-lines/POL-999999/communications", json={}), 404, "not_found")
    fresh = line(world, world.user("buyer"), claims.overdue.vendor).number   # not sent: nothing to claim
    error = error_of(client.post(f"/po-lines/{fresh}/communications", json={"kind": "claim"}), 422, "rule_violation")
    assert error["field"] == "kind"
    general = client.post(f"/po-lines/{fresh}/communications", json={"subject": "A question", "body": "Any news?"})
    assert general.status_code == 201 and general.get_json()["kind"] == "general"
    assert comm_count() == 2 and len(smtp.envelopes) == 2


def test_a_failed_delivery_is_kept_and_retried(app, world, claims, smtp_down, api):
    client = api("buyer")
    number = claims.overdue.number
    resp = client.post(f"/po-lines/{number}/communications", json={"kind": "general", "subject": "Where is it?",
                                                                    "body": "Please tell us."})
    assert resp.status_code == 201, resp.get_json()
    [sent] = resp.get_json()["messages"]
    assert sent["sent_at"] is None and "could not be reached" in sent["delivery_error"]
    retry = f"/po-lines/{number}/communications/messages/{sent['id']}/actions/retry"
    error_of(client.post(retry, json={"surprise": 1}), 400, "invalid")
    error_of(client.post(f"/po-lines/{number}/communications/messages/999999/actions/retry"), 404, "not_found")
    error_of(client.post(retry, headers={"If-Match": '"stale"'}), 412, "precondition_failed")
    still = client.post(retry)    # the server is still down: 200, the error kept
    assert still.status_code == 200 and conforms(still.get_json(), "CommunicationMessage")["delivery_error"]
    smtp_down.start()
    done = conforms(client.post(retry).get_json(), "CommunicationMessage")
    assert done["sent_at"] and done["delivery_error"] == "" and len(smtp_down.envelopes) == 1
    assert "already sent" in error_of(client.post(retry), 422, "rule_violation")["message"]


def test_writing_about_another_librarys_line_is_not_found_or_forbidden(app, world, claims, buyer_b, smtp, api):
    number = claims.overdue.number   # library A's
    error_of(api("buyer-b").post(f"/po-lines/{number}/communications", json={}), 404, "not_found")
    error_of(api("viewer").post(f"/po-lines/{number}/communications", json={}), 403, "forbidden")
    assert comm_count() == 0 and smtp.envelopes == []


# -- letters to vendors ------------------------------------------------------------------------

def test_a_purchase_orders_messages_and_their_files(app, world, letters, api):
    viewer = api("viewer")
    sent_a, failed_b = letters.sent_a, letters.failed_b
    items = conforms(viewer.get(f"/purchase-orders/{letters.po_a.number}/messages").get_json(),
                     "VendorMessageList")["items"]
    assert [(m["id"], m["kind"], m["status"], m["po"], m["has_pdf"], m["has_edi"]) for m in items] == [
        (sent_a.id, "po", "sent", letters.po_a.number, True, True)]
    line_number = letters.po_a.lines[0].number
    assert [m["id"] for m in viewer.get(f"/po-lines/{line_number}/messages").get_json()["items"]] == [sent_a.id]
    resp = viewer.get(f"/vendor-messages/{sent_a.id}")
    assert conforms(resp.get_json(), "VendorMessage") == items[0]
    assert viewer.get(f"/vendor-messages/{sent_a.id}",
                      headers={"If-None-Match": resp.headers["ETag"]}).status_code == 304

    pdf = viewer.get(f"/vendor-messages/{sent_a.id}/pdf")
    assert (pdf.status_code, pdf.mimetype, pdf.data) == (200, "application/pdf", b"%PDF-1.4 stored letter of A")
    edi = viewer.get(f"/vendor-messages/{sent_a.id}/edi")
    assert (edi.status_code, edi.mimetype, edi.data) == (200, "application/edifact", b"UNA:+.? 'UNB+UNOC:3+A'")
    made = viewer.get(f"/vendor-messages/{failed_b.id}/pdf")   # no stored PDF: made from its data
    assert made.status_code == 200 and made.data.startswith(b"%PDF")
    error_of(viewer.get(f"/vendor-messages/{failed_b.id}/edi"), 404, "not_found")
    broken = message(letters.po_a)
    broken.payload = {"broken": True}
    db.session.commit()
    error_of(viewer.get(f"/vendor-messages/{broken.id}/pdf"), 422, "rule_violation")
    notice = message(letters.po_a, kind="notice")
    error_of(viewer.get(f"/vendor-messages/{notice.id}/pdf"), 404, "not_found")
    # a notice to a user is no letter to a vendor: not found, whoever asks
    to_user = VendorMessage(kind="notice", channel="email", status="sent", user_id=world.user("buyer").id,
                            to_address="buyer@library.example", subject="Your digest", payload={})
    db.session.add(to_user)
    db.session.commit()
    for url in (f"/vendor-messages/{to_user.id}", f"/vendor-messages/{to_user.id}/pdf"):
        error_of(api("admin").get(url), 404, "not_found")
    error_of(api("admin").post(f"/vendor-messages/{to_user.id}/actions/resend"), 404, "not_found")

    # scope: library A's viewer sees neither B's order nor its messages
    viewer_a = api("viewer-a")
    for path in (f"/purchase-orders/{letters.po_b.number}/messages", f"/vendor-messages/{failed_b.id}",
                 f"/vendor-messages/{failed_b.id}/pdf", f"/vendor-messages/{failed_b.id}/edi",
                 f"/po-lines/{letters.po_b.lines[0].number}/messages", "/purchase-orders/PO-999999/messages",
                 "/vendor-messages/999999", "/po-lines/POL-999999/messages"):
        error_of(viewer_a.get(path), 404, "not_found")


def test_send_a_letter_again(app, world, letters, buyer_a, api):
    client = api("buyer")
    failed = letters.failed_b
    path = f"/vendor-messages/{failed.id}/actions/resend"
    error_of(client.post(path, json={"surprise": 1}), 400, "invalid")
    error_of(client.post("/vendor-messages/999999/actions/resend"), 404, "not_found")
    error_of(client.post(path, headers={"If-Match": '"stale"'}), 412, "precondition_failed")
    error_of(api("buyer-a").post(path), 404, "not_found")   # library B's letter
    resp = client.post(path, headers={"If-Match": client.etag(f"/vendor-messages/{failed.id}")})
    assert resp.status_code == 200, resp.get_json()
    copy = conforms(resp.get_json(), "VendorMessage")
    assert (copy["resend_of"], copy["status"], copy["channel"], copy["to_address"]) == (
        failed.id, "queued", "email", "orders@eur.example")
    # the copy waits to be sent: it is not doubled
    error = error_of(client.post(f"/vendor-messages/{copy['id']}/actions/resend"), 422, "rule_violation")
    assert "will not be sent twice" in error["message"]
    assert db.session.scalar(db.select(db.func.count()).select_from(VendorMessage)) == 3


def test_roles_follow_the_matrix(app, world, letters, api):
    pol = letters.po_a.lines[0]
    number = pol.number
    thread = cs.start_communication(world.user("admin"), pol, "general", "Matrix", "Body", "v@x.example",
                                    attachment=("m.txt", b"m"), send=False)
    db.session.commit()
    msg = thread.messages[0].id
    wrong = {"surprise": 1}
    check_roles(api, {
        "api.list_claims": ("get", "/claims", None),
        "api.list_communications": ("get", f"/po-lines/{number}/communications", None),
        "api.get_communication": ("get", f"/po-lines/{number}/communications/{thread.id}", None),
        "api.start_communication": ("post", f"/po-lines/{number}/communications", wrong),
        "api.add_response": ("post", f"/po-lines/{number}/communications/{thread.id}/responses", wrong),
        "api.retry_communication_message": (
            "post", f"/po-lines/{number}/communications/messages/{msg}/actions/retry", wrong),
        "api.communication_attachment": ("get", f"/communication-messages/{msg}/attachment", None),
        "api.list_po_messages": ("get", f"/purchase-orders/{letters.po_a.number}/messages", None),
        "api.list_po_line_messages": ("get", f"/po-lines/{number}/messages", None),
        "api.get_vendor_message": ("get", f"/vendor-messages/{letters.sent_a.id}", None),
        "api.vendor_message_pdf": ("get", f"/vendor-messages/{letters.sent_a.id}/pdf", None),
        "api.vendor_message_edi": ("get", f"/vendor-messages/{letters.sent_a.id}/edi", None),
        "api.resend_vendor_message": ("post", f"/vendor-messages/{letters.failed_b.id}/actions/resend", wrong),
    }, COMMUNICATION_API)
    assert comm_count() == 1 and len(db.session.get(Communication, thread.id).messages) == 1


def test_attachments_go_as_multipart_form_data(app, world, claims, smtp, api):
    import io
    client = api("buyer")
    number = claims.overdue.number
    resp = client.post(f"/po-lines/{number}/communications", content_type="multipart/form-data", data={
        "kind": "general", "subject": "Damaged copy", "body": "See the photo.",
        "file": (io.BytesIO(b"JPEG bytes"), "../photo of it.jpg")})
    assert resp.status_code == 201, resp.get_json()
    thread = conforms(resp.get_json(), "Communication")
    [sent] = thread["messages"]
    assert (thread["subject"], sent["body"], sent["attachment_name"]) == ("Damaged copy", "See the photo.",
                                                                          "photo of it.jpg")
    assert api("viewer").get(f"/communication-messages/{sent['id']}/attachment").data == b"JPEG bytes"
    assert len(smtp.envelopes) == 1

    path = f"/po-lines/{number}/communications/{thread['id']}/responses"
    resp = client.post(path, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(b"%PDF-1.4 their mail"), "answer.pdf")})   # a file alone will do
    assert resp.status_code == 201, resp.get_json()
    answer = conforms(resp.get_json(), "Communication")["messages"][1]
    assert (answer["direction"], answer["body"], answer["attachment_name"]) == ("in", "", "answer.pdf")

    for data, field in (({"colour": "red", "file": (io.BytesIO(b"x"), "a.txt")}, "colour"),
                        ({"body": "x", "other": (io.BytesIO(b"x"), "b.txt")}, "other"),
                        ({"body": "x", "file": (io.BytesIO(b""), "empty.txt")}, "attachment")):
        error = error_of(client.post(path, content_type="multipart/form-data", data=data), 400, "invalid")
        assert error["field"] == field, error
    error_of(client.post(path, content_type="multipart/form-data", data={}), 400, "invalid")
    assert len(db.session.get(Communication, thread["id"]).messages) == 2
