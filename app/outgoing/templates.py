"""Which letter templates are in use: an administrator's saved parts (:class:`LetterTemplate`) over
the built-in ones of :mod:`app.letters`, and whether a kind of letter is made at all; and their
editing by an institution administrator (check, preview on demo data, save, reset, send a test)."""
from __future__ import annotations


from sqlalchemy import select

from .. import mail
from ..auth.permissions import is_institution_admin
from ..errors import Forbidden, NotFound, RuleViolation
from ..extensions import db
from ..letters import KINDS, PARTS, pdf, render
from ..letters.data import demo_context
from ..letters.render import LetterTemplateError
from .models import LetterTemplate

# Without a saved row: every letter is made except the payment notice, which an institution turns on.
DEFAULT_ACTIVE = {"po": True, "po_cancellation": True, "claim": True, "payment_notice": False}


def saved(kind: str) -> LetterTemplate | None:
    return db.session.scalar(select(LetterTemplate).where(LetterTemplate.kind == kind))


def sources(kind: str) -> dict[str, str]:
    """The saved parts of ``kind`` (part -> source); a part missing uses the built-in template."""
    row = saved(kind)
    if row is None:
        return {}
    return {part: getattr(row, part) for part in PARTS if getattr(row, part)}


def is_active(kind: str) -> bool:
    row = saved(kind)
    return DEFAULT_ACTIVE[kind] if row is None else row.active


def all_kinds() -> list[tuple[str, str, bool, LetterTemplate | None]]:
    """(kind, label, active, saved row) for every kind, in :data:`app.letters.KINDS` order."""
    return [(kind, label, is_active(kind), saved(kind)) for kind, label in KINDS.items()]


# -- editing (the administrator's letter templates page) -----------------------------------------

def _require_admin(actor) -> None:
    if not is_institution_admin(actor):
        raise Forbidden("Only an administrator for the whole institution may change letter templates.")


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise NotFound("No such kind of letter.")
    return kind


def _given(kind: str, parts: dict[str, str | None]) -> dict[str, str]:
    """The parts as typed (line ends made plain); a part left empty is the built-in one."""
    clean = {}
    for part in PARTS:
        text = (parts.get(part) or "").replace("\r\n", "\n")
        clean[part] = text if text.strip() else render.default_source(kind, part)
    return clean


def check(kind: str, parts: dict[str, str | None]) -> dict[str, LetterTemplateError]:
    """Every part's refusal (part -> error with its line), empty when all render the demo data."""
    errors = {}
    for part, source in _given(_kind(kind), parts).items():
        try:
            render.validate_template(kind, part, source)
        except LetterTemplateError as exc:
            errors[part] = exc
    return errors


def preview(kind: str, parts: dict[str, str | None]) -> render.Letter:
    """The letter ``parts`` make with the demo data (:func:`app.letters.data.demo_context`);
    raises the first part's :class:`LetterTemplateError`."""
    return render.render_letter(_kind(kind), demo_context(kind), _given(kind, parts))


def save(actor, kind: str, parts: dict[str, str | None], active: bool) -> LetterTemplate:
    """Keep an administrator's parts (a part equal to the built-in one, or empty, stays built-in so
    later versions of the application reach it); every part must render the demo data first."""
    _require_admin(actor)
    given = _given(_kind(kind), parts)
    for part, source in given.items():
        render.validate_template(kind, part, source)   # raises with the part and its line
    row = saved(kind) or LetterTemplate(kind=kind)
    for part, source in given.items():
        setattr(row, part, None if source == render.default_source(kind, part) else source)
    row.active = bool(active)
    row.updated_by_id = actor.id
    db.session.add(row)
    db.session.flush()
    return row


def set_active(actor, kind: str, active: bool) -> LetterTemplate:
    _require_admin(actor)
    row = saved(_kind(kind)) or LetterTemplate(kind=kind)
    row.active, row.updated_by_id = bool(active), actor.id
    db.session.add(row)
    db.session.flush()
    return row


def reset(actor, kind: str) -> LetterTemplate | None:
    """Back to the built-in parts (the active switch stays as it is)."""
    _require_admin(actor)
    row = saved(_kind(kind))
    if row is not None:
        row.subject = row.body = row.pdf = None
        row.updated_by_id = actor.id
        db.session.flush()
    return row


def send_test(actor, kind: str, parts: dict[str, str | None]) -> str:
    """E-mail the demo letter of ``parts``, with its PDF, to ``actor``'s own address (synchronous);
    returns the address. Nothing is stored."""
    _require_admin(actor)
    to = (getattr(actor, "email", "") or "").strip()
    if not to:
        raise RuleViolation("Your user has no e-mail address, so the test has nowhere to go: add one to your "
                            "user (Administration › Users) and send it again.", "email")
    letter = preview(kind, parts)
    pdf_bytes = pdf.render_pdf(letter.pdf_html)
    msg = mail.build_message(to, f"[Test] {letter.subject}", mail.html_to_text(letter.body_html))
    msg.add_alternative(letter.body_html, subtype="html")
    msg.add_attachment(pdf_bytes, maintype="application", subtype="pdf", filename=f"{kind}-test.pdf")
    try:
        mail.send(msg)
    except mail.DeliveryFailed as exc:
        raise RuleViolation(f"The test was not sent: {exc.message}", "email") from None
    return to


