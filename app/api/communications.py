"""API v1: claims and communications with vendors — the claims list (overdue lines), a PO line's
threads (claims and general messages by e-mail, with the vendor's responses), starting one,
recording a response, retrying a message the mail server did not take; and the letters to vendors
(the outbox): a purchase order's and a line's messages, one message with its PDF and EDI files,
and sending one again.

The same services, roles and scope as the pages (:mod:`app.orders.communications_views`,
:mod:`app.outgoing.views`): reading follows the line's or the order's library scope (404 outside
it); writing needs a purchasing role over the owner library (403).
"""
from __future__ import annotations

from flask import make_response, request, send_file, url_for
from flask_login import current_user

from .. import clock
from ..auth.permissions import roles_required
from ..errors import InvalidInput, NotFound
from ..idempotency import idempotent
from ..ids import parse_id
from ..ledger import format_plain
from ..letters import KINDS as LETTER_KINDS
from ..orders import communications
from ..orders import services as orders
from ..orders.models import Communication, CommunicationMessage
from ..outgoing import delivery, files
from ..outgoing import services as outbox
from ..outgoing.models import CHANNELS, MESSAGE_KINDS, STATUSES, VendorMessage
from .base import (INTEGER, MOMENT, NULLABLE_MOMENT, NULLABLE_STRING, READ, STRING, action_paths, action_routes, bp,
                   check_match, input_schema, list_of, object_schema, one, operation, page_args, page_of, param,
                   path_param, per_page_param, register_openapi, saved)
from .serializers import Body, Field, iso_day, read_body, read_object, timestamp

WRITE = orders.PURCHASING
DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 200

START_IN = {
    "kind": Field("enum", "claim or general; default: claim once the line was sent to the vendor, else general.",
                  nullable=True, choices=tuple(Communication.KINDS)),
    "to_address": Field("str", "The vendor's e-mail address; default: its claims contact (else its first contact "
                               "with an address).", nullable=True, max_length=300),
    "subject": Field("str", "The subject; default: the claim letter's.", nullable=True, max_length=300),
    "body": Field("str", "The message as plain text; default: the claim letter's text.", nullable=True),
    "internal_note": Field("str", "Kept for colleagues; not sent to the vendor.", default=""),
}
RESPONSE_IN = {
    "body": Field("str", "The vendor's answer, e.g. the text of its e-mail (it may be left out when a file is "
                         "attached).", default=""),
}
RETRY_IN: dict[str, Field] = {}
RESEND_IN: dict[str, Field] = {}


# -- what the API returns ----------------------------------------------------------------------

def _username(user) -> str | None:
    return user.username if user is not None else None


def message_json(m: CommunicationMessage) -> dict:
    return {"id": m.id, "communication_id": m.communication_id, "direction": m.direction,
            "to_address": m.to_address, "body": m.body, "attachment_name": m.attachment_name,
            "sent_at": timestamp(m.sent_at), "delivery_error": m.delivery_error,
            "recorded_at": timestamp(m.recorded_at), "recorded_by": _username(m.recorded_by)}


def thread_json(c: Communication) -> dict:
    return {"id": c.id, "po_line": c.po_line.number, "kind": c.kind, "subject": c.subject,
            "internal_note": c.internal_note, "created_at": timestamp(c.created_at),
            "created_by": _username(c.created_by), "messages": [message_json(m) for m in c.messages]}


def claim_json(pol, counts: dict) -> dict:
    count, last = counts.get(pol.id, (0, None))
    return {"number": pol.number, "title": pol.title, "vendor": pol.vendor.code,
            "owner_library": pol.owner_library.code if pol.owner_library else None, "status": pol.status,
            "vendor_reference": pol.vendor_reference, "currency": pol.currency,
            "net_price": format_plain(pol.net_price, pol.currency), "sent_at": timestamp(pol.sent_at),
            "expected_receipt_date": iso_day(pol.expected_receipt_date),
            "days_overdue": (clock.today() - pol.expected_receipt_date).days, "claims": count,
            "last_claim": timestamp(last)}


def vendor_message_json(m: VendorMessage) -> dict:
    return {"id": m.id, "kind": m.kind, "channel": m.channel, "status": m.status,
            "vendor": m.vendor.code if m.vendor else None, "po": m.po_number or None,
            "lines": [p.number for p in m.lines], "reason": m.reason, "to_address": m.to_address,
            "subject": m.subject, "attempts": m.attempts, "last_error": m.last_error,
            "sent_at": timestamp(m.sent_at), "created_at": timestamp(m.created_at), "resend_of": m.resend_of_id,
            "has_pdf": m.kind in LETTER_KINDS, "has_edi": bool(m.edi_file)}


# -- claims and communications -----------------------------------------------------------------

@bp.get("/claims")
@roles_required(*READ)
def list_claims():
    """The claims list: lines past their expected receipt date with material still to come, oldest first."""
    page = page_args(DEFAULT_PER_PAGE, MAX_PER_PAGE)
    result = page.of(orders.claims_query(current_user, clock.today()), lambda pol: pol)
    counts = communications.claim_counts([pol.id for pol in result["items"]])
    result["items"] = [claim_json(pol, counts) for pol in result["items"]]
    return result


def _read(spec: dict[str, Field]) -> tuple[Body, tuple[str, bytes] | None]:
    """The body (optional: an empty one reads as {}) and the attachment, if any: a JSON object, or
    multipart/form-data with the same fields as text and the attachment as its ``file`` part."""
    if request.mimetype != "multipart/form-data":
        return read_body(spec, optional=True), None
    twice = next((k for k in request.form if len(request.form.getlist(k)) > 1), None)
    if twice is not None:
        raise InvalidInput(f"Field \"{twice}\" appears twice in the request body.", twice)
    others = sorted(set(request.files) - {"file"})
    if others or len(request.files.getlist("file")) > 1:
        raise InvalidInput("Attach one file, as the part named \"file\".", others[0] if others else "file")
    body = read_object(request.form.to_dict(), spec)
    storage = request.files.get("file")
    if storage is None or not storage.filename:
        return body, None
    # reading stops just past the size limit (the service refuses it then)
    return body, (storage.filename, storage.stream.read(communications.max_attachment_bytes() + 1))


def _line(number):
    return orders.get_po_line(current_user, number)


def _id(value: str) -> int:
    """A path's id: anything but the id a row can have (digits, not too big) is not found."""
    found = parse_id(value)
    if found is None:
        raise NotFound("No such object.")
    return found


def _thread(number, communication_id) -> Communication:
    return communications.get_communication(_line(number), _id(communication_id))


@bp.get("/po-lines/<number>/communications")
@roles_required(*READ)
def list_communications(number):
    return {"items": [thread_json(c) for c in communications.threads(_line(number))]}


@bp.get("/po-lines/<number>/communications/<communication_id>")
@roles_required(*READ)
def get_communication(number, communication_id):
    return one(_thread(number, communication_id), thread_json)


def _thread_url(c: Communication) -> str:
    return url_for("api.get_communication", number=c.po_line.number, communication_id=c.id)


@bp.post("/po-lines/<number>/communications")
@roles_required(*WRITE)
@idempotent
def start_communication(number):
    """Start a thread: its first message is e-mailed at once. A delivery the mail server refused is
    kept with its delivery_error (retry it); the thread is created either way."""
    pol = _line(number)
    body, attachment = _read(START_IN)
    kind = body["kind"] or ("claim" if pol.po is not None and pol.po.sent_at is not None else "general")
    subject = body["subject"] if body["subject"] is not None else communications.default_subject(pol)
    text = body["body"] if body["body"] is not None else communications.default_body(pol)
    to = body["to_address"] if body["to_address"] is not None else communications.default_recipient(pol)
    comm = communications.start_communication(current_user, pol, kind, subject, text, to, attachment=attachment,
                                              internal_note=body["internal_note"])
    return saved(comm, thread_json, 201, _thread_url)


@bp.post("/po-lines/<number>/communications/<communication_id>/responses")
@roles_required(*WRITE)
@idempotent
def add_response(number, communication_id):
    comm = _thread(number, communication_id)
    body, attachment = _read(RESPONSE_IN)
    communications.add_response(current_user, comm, body["body"], attachment=attachment)
    return saved(comm, thread_json, 201, _thread_url)


def _line_message(number, message_id):
    return communications.get_message(_line(number), _id(message_id))


action_routes("/po-lines/<number>/communications/messages/<message_id>/actions", _line_message, message_json, {
    "retry": ("retry_communication_message", WRITE, RETRY_IN,
              lambda message, body: communications.retry(current_user, message)),
})


# -- letters to vendors (the outbox) -----------------------------------------------------------

@bp.get("/purchase-orders/<po_number>/messages")
@roles_required(*READ)
def list_po_messages(po_number):
    po = orders.get_po(current_user, po_number)
    return {"items": [vendor_message_json(m) for m in outbox.messages_for_po(current_user, po)]}


@bp.get("/po-lines/<number>/messages")
@roles_required(*READ)
def list_po_line_messages(number):
    return {"items": [vendor_message_json(m) for m in outbox.messages_for_line(current_user, _line(number))]}


@bp.get("/vendor-messages/<message_id>")
@roles_required(*READ)
def get_vendor_message(message_id):
    return one(_vendor_message(message_id), vendor_message_json)


def _vendor_message(message_id) -> VendorMessage:
    """A letter to a vendor the user may see (a notice to a user is not one: not found)."""
    message = outbox.get_message(current_user, _id(message_id))
    if message.vendor_id is None:
        raise NotFound("No such message to a vendor.")
    return message


def _download(content: bytes, mimetype: str, name: str):
    resp = make_response(content)
    resp.mimetype = mimetype
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.get("/vendor-messages/<message_id>/pdf")
@roles_required(*READ)
def vendor_message_pdf(message_id):
    message = _vendor_message(message_id)
    if message.kind not in LETTER_KINDS:
        raise NotFound("This message has no PDF.")
    return _download(delivery.pdf_bytes(message), "application/pdf",
                     f"{message.kind}-{message.po_number or message.id}-{message.id}.pdf")


@bp.get("/vendor-messages/<message_id>/edi")
@roles_required(*READ)
def vendor_message_edi(message_id):
    message = _vendor_message(message_id)
    if not message.edi_file:
        raise NotFound("This message has no EDI file (yet).")
    return _download(files.read(message.edi_file), "application/edifact",
                     message.edi_name or f"orders-{message.id}.edi")


@bp.get("/communication-messages/<message_id>/attachment")
@roles_required(*READ)
def communication_attachment(message_id):
    message = communications.get_visible_message(current_user, _id(message_id))
    resp = send_file(communications.attachment_path(message), mimetype="application/octet-stream",
                     as_attachment=True, download_name=message.attachment_name or "attachment", max_age=0)
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.post("/vendor-messages/<message_id>/actions/resend")
@roles_required(*WRITE)
@idempotent
def resend_vendor_message(message_id):
    """Send a message again: a new message (answered, 200) through the vendor's channel and address
    as they are now; the original keeps its record."""
    message = _vendor_message(message_id)
    read_body(RESEND_IN, optional=True)
    check_match(message, vendor_message_json, required=False)
    return saved(outbox.resend(current_user, message), vendor_message_json)


# -- OpenAPI -----------------------------------------------------------------------------------

_READ = "any role; lines and orders outside your library scope are not found"
_WRITE = "admin or purchasing_operator, within your library scope"
_FILE = {"type": "string", "contentMediaType": "application/octet-stream"}

def _with_file(op: dict, spec: dict[str, Field]) -> dict:
    """``op`` taking, besides its JSON body, the same fields as multipart/form-data with a ``file``."""
    fields = {name: {"type": "string", **({"enum": list(f.choices)} if f.choices else {}),
                     **({"description": f.description} if f.description else {})} for name, f in spec.items()}
    op["requestBody"]["content"]["multipart/form-data"] = {"schema": {
        "type": "object", "additionalProperties": False, "required": [n for n, f in spec.items() if f.required],
        "properties": {**fields, "file": {**_FILE, "description": "An attachment (at most 10 MB)."}}}}
    return op


register_openapi(
    schemas={
        "Claim": object_schema({
            "number": STRING, "title": STRING, "vendor": STRING, "owner_library": NULLABLE_STRING, "status": STRING,
            "vendor_reference": STRING, "currency": STRING, "net_price": {"$ref": "#/components/schemas/Money"},
            "sent_at": NULLABLE_MOMENT, "expected_receipt_date": {"type": "string", "format": "date"},
            "days_overdue": INTEGER, "claims": {"type": "integer", "description": "Claims started on the line."},
            "last_claim": NULLABLE_MOMENT}, "An overdue PO line: sent, expected before today, not all arrived."),
        "ClaimPage": page_of("Claim", "Overdue lines"),
        "CommunicationMessage": object_schema({
            "id": INTEGER, "communication_id": INTEGER,
            "direction": {"type": "string", "enum": ["out", "in"],
                          "description": "out: to the vendor (e-mailed); in: the vendor's response."},
            "to_address": STRING, "body": STRING, "attachment_name": NULLABLE_STRING, "sent_at": NULLABLE_MOMENT,
            "delivery_error": {"type": "string", "description": "Why the mail server did not take it (retry it)."},
            "recorded_at": MOMENT, "recorded_by": NULLABLE_STRING}),
        "Communication": object_schema({
            "id": INTEGER, "po_line": STRING, "kind": {"type": "string", "enum": list(Communication.KINDS)},
            "subject": STRING, "internal_note": STRING, "created_at": MOMENT, "created_by": NULLABLE_STRING,
            "messages": {"type": "array", "items": {"$ref": "#/components/schemas/CommunicationMessage"}}},
            "A thread with the vendor about one PO line."),
        "CommunicationList": list_of("Communication"),
        "CommunicationStartInput": input_schema(START_IN, "A new thread; fields left out take the claim letter's "
                                                          "defaults."),
        "CommunicationResponseInput": input_schema(RESPONSE_IN, "The vendor's answer, recorded on the thread."),
        "CommunicationMessageRetryInput": input_schema(RETRY_IN, "Nothing to give."),
        "VendorMessage": object_schema({
            "id": INTEGER, "kind": {"type": "string", "enum": list(MESSAGE_KINDS)},
            "channel": {"type": "string", "enum": list(CHANNELS)}, "status": {"type": "string", "enum": list(STATUSES)},
            "vendor": NULLABLE_STRING, "po": {"type": ["string", "null"], "description": "The order's number."},
            "lines": {"type": "array", "items": STRING, "description": "The PO lines it is about."},
            "reason": STRING, "to_address": STRING, "subject": STRING, "attempts": INTEGER, "last_error": STRING,
            "sent_at": NULLABLE_MOMENT, "created_at": MOMENT,
            "resend_of": {"type": ["integer", "null"], "description": "The message this one sends again."},
            "has_pdf": {"type": "boolean", "description": "GET …/pdf gives its PDF."},
            "has_edi": {"type": "boolean", "description": "GET …/edi gives its EDI file."}},
            "A letter to a vendor (order, cancellation, claim, …) in the outbox."),
        "VendorMessageList": list_of("VendorMessage"),
        "VendorMessageResendInput": input_schema(RESEND_IN, "Nothing to give."),
    },
    parameters={
        "CommunicationId": path_param("communication_id", "The thread's id."),
        "CommunicationMessageId": path_param("message_id", "The thread message's id."),
        "VendorMessageId": path_param("message_id", "The vendor message's id."),
        "ClaimPerPage": per_page_param(MAX_PER_PAGE, DEFAULT_PER_PAGE),
    },
    paths={
        "/api/v1/claims": {
            "get": operation("listClaims", "Overdue PO lines to claim, oldest expected first, paged", _READ,
                             ("200", "ClaimPage", "One page of overdue lines."), ("400",),
                             params=("Page", "ClaimPerPage")),
        },
        "/api/v1/po-lines/{number}/communications": {
            "parameters": [param("POLineNumber")],
            "get": operation("listCommunications", "A line's communications with the vendor, newest first", _READ,
                             ("200", "CommunicationList", "The threads."), ("404",)),
            "post": _with_file(operation("startCommunication", "Start a claim or a general message (e-mailed at once)", _WRITE,
                              ("201", "Communication", "Created (Location: the thread). A message the mail server "
                                                       "did not take has its delivery_error."),
                              ("400", "404", "422"), body="CommunicationStartInput", body_required=False,
                              location="The thread's URL.", idempotent=True,
                              note="422: a claim on a line not sent to the vendor yet (or an Idempotency-Key "
                                   "already used for another request). Send JSON, or multipart/form-data with the "
                                   "same fields and the attachment as the part named file."), START_IN),
        },
        "/api/v1/po-lines/{number}/communications/{communication_id}": {
            "parameters": [param("POLineNumber"), param("CommunicationId")],
            "get": operation("getCommunication", "One thread with its messages", _READ,
                             ("200", "Communication", "The thread."), ("404",), etag=True),
        },
        "/api/v1/po-lines/{number}/communications/{communication_id}/responses": {
            "parameters": [param("POLineNumber"), param("CommunicationId")],
            "post": _with_file(operation("addCommunicationResponse", "Record the vendor's response on a thread", _WRITE,
                              ("201", "Communication", "Recorded (Location: the thread)."), ("400", "404", "422"),
                              body="CommunicationResponseInput", location="The thread's URL.", idempotent=True,
                              note="Send JSON, or multipart/form-data with the text and the file attached (the "
                                   "part named file). 422: an Idempotency-Key already used for another request."),
                               RESPONSE_IN),
        },
        **{path: {**item, "parameters": [param("POLineNumber"), *item["parameters"]]}
           for path, item in action_paths("/api/v1/po-lines/{number}/communications/messages/{message_id}/actions",
                                          "CommunicationMessageId", {
                                              "retry": ("retryCommunicationMessage",
                                                        "Send again a message the mail server did not take", _WRITE,
                                                        "CommunicationMessageRetryInput")},
                                          ("200", "CommunicationMessage", "The message: sent_at when delivered, "
                                                                          "else its delivery_error.")).items()},
        "/api/v1/purchase-orders/{po_number}/messages": {
            "parameters": [param("PONumber")],
            "get": operation("listPurchaseOrderMessages", "A purchase order's letters to its vendor, newest first",
                             _READ, ("200", "VendorMessageList", "The messages."), ("404",)),
        },
        "/api/v1/po-lines/{number}/messages": {
            "parameters": [param("POLineNumber")],
            "get": operation("listPOLineMessages", "The letters to vendors that name a line, newest first", _READ,
                             ("200", "VendorMessageList", "The messages."), ("404",)),
        },
        "/api/v1/vendor-messages/{message_id}": {
            "parameters": [param("VendorMessageId")],
            "get": operation("getVendorMessage", "One letter to a vendor", _READ,
                             ("200", "VendorMessage", "The message."), ("404",), etag=True),
        },
        "/api/v1/vendor-messages/{message_id}/pdf": {
            "parameters": [param("VendorMessageId")],
            "get": operation("getVendorMessagePdf", "The letter's PDF (as sent, or made now from its data)", _READ,
                             ("200", {"application/pdf": {"schema": _FILE}}, "The PDF."), ("404", "422"),
                             note="404: a notice has no PDF, or the message is not one you can see. 422: the "
                                  "letter's template cannot make it."),
        },
        "/api/v1/vendor-messages/{message_id}/edi": {
            "parameters": [param("VendorMessageId")],
            "get": operation("getVendorMessageEdi", "The EDIFACT ORDERS interchange sent", _READ,
                             ("200", {"application/edifact": {"schema": {"type": "string"}}}, "The EDI file."),
                             ("404",), note="404: the message has no EDI file (yet)."),
        },
        "/api/v1/communication-messages/{message_id}/attachment": {
            "parameters": [param("CommunicationMessageId")],
            "get": operation("getCommunicationAttachment", "A thread message's attachment", _READ,
                             ("200", {"application/octet-stream": {"schema": _FILE}}, "The file."), ("404",)),
        },
        **action_paths("/api/v1/vendor-messages/{message_id}/actions", "VendorMessageId", {
            "resend": ("resendVendorMessage", "Send a letter again (as a new message)", _WRITE,
                       "VendorMessageResendInput")}, ("200", "VendorMessage", "The new message, queued.")),
    })
