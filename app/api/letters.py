"""API v1: the letters to vendors' templates (the administrator's /admin/letters pages) — the kinds
with their active switch, one kind's parts, changing them (PATCH), back to the built-in ones,
activating or not, a preview on demo data (rendered, or as the PDF) and a test sent to oneself.

For an administrator of the whole institution only (403 otherwise, a library's administrator too),
with the services of :mod:`app.outgoing.templates`. A part that does not render the demo data is
refused (400, naming the part and its line) and nothing is saved. A kind has no row until it is
first changed, so its version (ETag) is that of the kind as answered."""
from __future__ import annotations

from flask import current_app, make_response
from flask_login import current_user

from ..auth.models import Role
from ..auth.permissions import institution_roles_required, is_institution_admin, roles_required
from ..errors import Forbidden, NotFound
from ..idempotency import idempotent
from ..letters import KINDS, PARTS
from ..letters import pdf as letter_pdf
from ..letters.render import default_source
from ..extensions import db
from ..outgoing import runs, templates
from .base import (BOOLEAN, NULLABLE_MOMENT, NULLABLE_STRING, STRING, bp, input_schema, list_of, match,
                   object_schema, one, operation, param, patch_schema, path_param, register_openapi, saved)
from .serializers import Field, read_body, read_patch, timestamp

_PART_TEXT = {"subject": "The subject (plain text).", "body": "The e-mail body (HTML).",
              "pdf": "The PDF layout (HTML)."}
PARTS_IN = {part: Field("str", _PART_TEXT[part] + " Empty: the built-in one.") for part in PARTS}
LETTER_PATCH = {**PARTS_IN, "active": Field("bool", "Whether letters of this kind are made and sent.")}
PREVIEW_IN = {part: Field("str", _PART_TEXT[part] + " Not sent: the one in use.") for part in PARTS}


def _institution_admin() -> None:
    """The letter templates pages' rule: an administrator of the whole institution (403 otherwise)."""
    if not is_institution_admin(current_user):
        raise Forbidden("Only an administrator for the whole institution may see and change letter templates.")


def _kind(kind: str) -> str:
    _institution_admin()
    if kind not in KINDS:
        raise NotFound(f"No kind of letter {kind}; the kinds: {', '.join(KINDS)}.")
    return kind


def letter_json(kind: str) -> dict:
    row = templates.saved(kind)
    custom = templates.sources(kind)
    return {"kind": kind, "label": KINDS[kind], "active": templates.is_active(kind),
            **{part: custom.get(part) or default_source(kind, part) for part in PARTS},
            "customized": [part for part in PARTS if part in custom],
            "updated_at": timestamp(row.updated_at) if row is not None else None,
            "updated_by": row.updated_by.username if row is not None and row.updated_by is not None else None}


def _current(kind: str) -> dict:
    """The kind's parts in use, as a PATCH or a preview starts from them."""
    data = letter_json(kind)
    return {**{part: data[part] for part in PARTS}, "active": data["active"]}


@bp.get("/letters")
@roles_required(Role.ADMIN)
def list_letters():
    _institution_admin()
    return {"items": [letter_json(kind) for kind in KINDS]}


@bp.get("/letters/<letter>")
@roles_required(Role.ADMIN)
def get_letter(letter):
    return one(_kind(letter), letter_json)


@bp.patch("/letters/<letter>")
@institution_roles_required(Role.ADMIN)
def patch_letter(letter):
    kind = _kind(letter)
    match(lambda: letter_json(kind))
    body = read_patch(LETTER_PATCH, _current(kind))
    templates.save(current_user, kind, {part: body[part] for part in PARTS}, body["active"])
    return saved(kind, letter_json)


def _letter_action(endpoint: str, action: str, spec: dict, service, keep: bool = True) -> None:
    """``POST /letters/<kind>/actions/<action>``: the kind found (404 before 400), the optional body read,
    an If-Match honoured when sent (412), ``service(kind, body)``; its answer, or (None) the letter as
    saved. ``keep``: an Idempotency-Key is honoured (not for a PDF)."""
    def view(letter):
        kind = _kind(letter)
        body = read_body(spec, optional=True)
        match(lambda: letter_json(kind), required=False)
        answer = service(kind, body)
        return saved(kind, letter_json) if answer is None else answer
    view.__name__ = endpoint
    if keep:
        view = idempotent(view)
    bp.add_url_rule(f"/letters/<letter>/actions/{action}", endpoint, institution_roles_required(Role.ADMIN)(view),
                    methods=["POST"])


def _parts(kind: str, body) -> dict[str, str]:
    """The parts to render: those sent, the others as in use."""
    current = _current(kind)
    return {part: body[part] if part in body.given else current[part] for part in PARTS}


def _preview(kind: str, body):
    letter = templates.preview(kind, _parts(kind, body))
    return {"kind": kind, "subject": letter.subject, "body_html": letter.body_html, "pdf_html": letter.pdf_html}


def _preview_pdf(kind: str, body):
    letter = templates.preview(kind, _parts(kind, body))
    resp = make_response(letter_pdf.render_pdf(letter.pdf_html))
    resp.mimetype = "application/pdf"
    resp.headers["Content-Disposition"] = f'inline; filename="{kind}-preview.pdf"'
    return resp


def _send_test(kind: str, body):
    return {"kind": kind, "sent_to": templates.send_test(current_user, kind, _parts(kind, body))}


def _reset(kind: str, body) -> None:
    templates.reset(current_user, kind)


def _activate(kind: str, body) -> None:
    templates.set_active(current_user, kind, True)


def _deactivate(kind: str, body) -> None:
    templates.set_active(current_user, kind, False)


_letter_action("reset_letter", "reset", {}, _reset)
_letter_action("activate_letter", "activate", {}, _activate)
_letter_action("deactivate_letter", "deactivate", {}, _deactivate)
_letter_action("preview_letter", "preview", PREVIEW_IN, _preview)
_letter_action("preview_letter_pdf", "preview_pdf", PREVIEW_IN, _preview_pdf, keep=False)
_letter_action("send_test_letter", "send_test", PREVIEW_IN, _send_test)


# -- sending the waiting letters now (Monitor Jobs' button) ---------------------------------------

@bp.post("/outgoing/actions/send_now")
@institution_roles_required(Role.ADMIN)
def send_waiting_letters():
    """A delivery run in the background, as Monitor Jobs' "Send waiting letters now" starts it (awaited
    when background runs are off, ``OUTGOING_KICK`` False)."""
    read_body({}, optional=True)
    db.session.commit()   # end this request's transaction: on SQLite it would hold the lock the run needs
    thread = runs.in_background(current_app._get_current_object(), trigger="manual")
    done = not current_app.config.get("OUTGOING_KICK", True)
    if done:
        thread.join(timeout=120)
    return {"done": done, "letters": runs.waiting()}


# -- OpenAPI -----------------------------------------------------------------------------------

_ROLES = "admin of the whole institution"
_PREVIEW_NOTE = ("The parts sent are rendered (the others as in use) with the demo data; nothing is saved. 400: a "
                 "part does not render (field: the part; the message names its line).")


def _action(op_id: str, summary: str, ok: tuple, errors=("400", "404"), body: str | None = None, note: str = "",
            idempotent: bool = True) -> dict:
    if idempotent and "422" not in errors:
        errors, note = (*errors, "422"), f"{note} 422: the Idempotency-Key was used for another request.".strip()
    return {"parameters": [param("LetterKind")],
            "post": operation(op_id, summary, _ROLES, ok, errors, body=body, idempotent=idempotent,
                              body_required=False, note=note, if_match="optional")}


register_openapi(
    schemas={
        "Letter": object_schema({
            "kind": {"type": "string", "enum": list(KINDS)}, "label": STRING, "active": BOOLEAN,
            **{part: {"type": "string", "description": _PART_TEXT[part] + " The one in use."} for part in PARTS},
            "customized": {"type": "array", "items": {"type": "string", "enum": list(PARTS)},
                           "description": "The parts an administrator changed; the others are built in."},
            "updated_at": NULLABLE_MOMENT, "updated_by": NULLABLE_STRING},
            "A kind of letter to vendors and its template."),
        "LetterList": list_of("Letter"),
        "LetterPatch": patch_schema(LETTER_PATCH, "Some of the parts, or the active switch; those not sent stay."),
        "LetterPreviewInput": input_schema(PREVIEW_IN, "The parts to try; those not sent are the ones in use."),
        "LetterPreview": object_schema({"kind": STRING, "subject": STRING, "body_html": STRING, "pdf_html": STRING},
                                       "The letter the parts make with the demo data."),
        "LettersSending": object_schema({
            "done": {"type": "boolean", "description": "Whether the run ended before this answer (false: it goes on "
                                                       "in the background; Monitor Jobs shows it)."},
            "letters": {"type": "object", "additionalProperties": {"type": "integer"},
                        "description": "The letters to vendors by status (queued, sending, sent, failed, ...)."}}),
        "SendNowInput": {"type": "object", "additionalProperties": False, "properties": {},
                         "description": "Nothing to give."},
        "LetterTestSent": object_schema({"kind": STRING, "sent_to": {"type": "string",
                                                                     "description": "Your e-mail address."}}),
    },
    parameters={"LetterKind": path_param("letter", "The kind of letter.", {"type": "string", "enum": list(KINDS)})},
    paths={
        "/api/v1/outgoing/actions/send_now": {
            "post": operation("sendWaitingLetters", "Send the waiting letters to vendors now (a delivery run)", _ROLES,
                              ("200", "LettersSending", "The run started (or ended)."), ("400",), body="SendNowInput",
                              body_required=False),
        },
        "/api/v1/letters": {
            "get": operation("listLetters", "The kinds of letter to vendors with their templates", _ROLES,
                             ("200", "LetterList", "Every kind.")),
        },
        "/api/v1/letters/{letter}": {
            "parameters": [param("LetterKind")],
            "get": operation("getLetter", "One kind of letter with its template", _ROLES, ("200", "Letter", "It."),
                             ("404",), etag=True),
            "patch": operation("patchLetter", "Change a letter's parts or its active switch", _ROLES,
                               ("200", "Letter", "Saved."), ("400", "404"), body="LetterPatch", if_match="required",
                               note="Every part must render the demo data (400 naming the part and line otherwise); "
                                    "a part equal to the built-in one, or empty, stays built in."),
        },
        "/api/v1/letters/{letter}/actions/reset": _action(
            "resetLetter", "Back to the built-in parts (the active switch stays)", ("200", "Letter", "Reset.")),
        "/api/v1/letters/{letter}/actions/activate": _action(
            "activateLetter", "Make and send letters of this kind", ("200", "Letter", "Active.")),
        "/api/v1/letters/{letter}/actions/deactivate": _action(
            "deactivateLetter", "Make no letters of this kind", ("200", "Letter", "Not active.")),
        "/api/v1/letters/{letter}/actions/preview": _action(
            "previewLetter", "Render parts with the demo data", ("200", "LetterPreview", "The letter."),
            body="LetterPreviewInput", note=_PREVIEW_NOTE),
        "/api/v1/letters/{letter}/actions/preview_pdf": _action(
            "previewLetterPDF", "The PDF of parts with the demo data",
            ("200", {"application/pdf": {"schema": {"type": "string", "contentMediaType": "application/pdf"}}},
             "The PDF."), body="LetterPreviewInput", note=_PREVIEW_NOTE, idempotent=False),
        "/api/v1/letters/{letter}/actions/send_test": _action(
            "sendTestLetter", "E-mail the demo letter of parts, with its PDF, to yourself",
            ("200", "LetterTestSent", "Sent."), ("400", "404", "422"), body="LetterPreviewInput",
            note="Nothing is saved. 422: your user has no e-mail address, or the mail server refused it."),
    })
