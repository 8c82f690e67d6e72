"""Which letter templates are in use: an administrator's saved parts (:class:`LetterTemplate`) over
the built-in ones of :mod:`app.letters`, and whether a kind of letter is made at all; and their
editing by an institution administrator (check, preview on demo data, save, reset, send a test).

Templates are kept per language: a letter to a vendor is in the vendor's language (see
:func:`letter_language`) and uses the administrator's template of that language, else the built-in
one of that language; an English template the library changed is not used for a Chinese letter
(it would mix two languages) — the administrator changes the Chinese one too. Whether a kind is made
at all (``active``) is one switch for every language."""
from __future__ import annotations


from sqlalchemy import select

from .. import mail
from ..auth.permissions import is_institution_admin
from ..errors import Forbidden, NotFound, RuleViolation
from ..extensions import db
from ..i18n import LANGUAGES, default_language
from ..letters import KINDS, PARTS, pdf, render
from ..letters.data import demo_context
from ..letters.render import LetterTemplateError
from ..text import T
from .models import LetterTemplate

# Without a saved row: every letter is made except the payment notice, which an institution turns on.
DEFAULT_ACTIVE = {"po": True, "po_cancellation": True, "claim": True, "payment_notice": False}


def letter_language(vendor=None) -> str:
    """The language of letters to ``vendor``: its own (``Vendor.language``), else the institution's
    default (``DEFAULT_LANGUAGE``)."""
    chosen = getattr(vendor, "language", None)
    return chosen if chosen in LANGUAGES else default_language()


def language_of(language: str | None) -> str:
    """``language`` when it is one of the interface's languages, else English."""
    return language if language in LANGUAGES else "en"


def saved(kind: str, language: str = "en") -> LetterTemplate | None:
    return db.session.scalar(select(LetterTemplate).where(LetterTemplate.kind == kind,
                                                          LetterTemplate.language == language_of(language)))


def _rows(kind: str) -> list[LetterTemplate]:
    return list(db.session.scalars(select(LetterTemplate).where(LetterTemplate.kind == kind)
                                   .order_by(LetterTemplate.id)))


def sources(kind: str, language: str = "en") -> dict[str, str]:
    """The saved parts of ``kind`` in ``language`` (part -> source); a part missing uses the
    built-in template of that language."""
    row = saved(kind, language)
    if row is None:
        return {}
    return {part: getattr(row, part) for part in PARTS if getattr(row, part)}


def is_changed(row: LetterTemplate | None) -> bool:
    return row is not None and bool(row.subject or row.body or row.pdf)


def is_active(kind: str) -> bool:
    rows = _rows(kind)
    return DEFAULT_ACTIVE[kind] if not rows else rows[0].active


def all_kinds() -> list[tuple[str, str, bool, dict[str, LetterTemplate | None]]]:
    """(kind, label, active, {language: saved row}) for every kind, in :data:`app.letters.KINDS` order."""
    out = []
    for kind, label in KINDS.items():
        rows = {row.language: row for row in _rows(kind)}
        out.append((kind, label, is_active(kind), {lang: rows.get(lang) for lang in LANGUAGES}))
    return out


# -- editing (the administrator's letter templates page) -----------------------------------------

def _require_admin(actor) -> None:
    if not is_institution_admin(actor):
        raise Forbidden(T("Only an administrator for the whole institution may change letter templates."))


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise NotFound(T("No such kind of letter."))
    return kind


def _given(kind: str, parts: dict[str, str | None], language: str = "en") -> dict[str, str]:
    """The parts as typed (line ends made plain); a part left empty is the built-in one."""
    clean = {}
    for part in PARTS:
        text = (parts.get(part) or "").replace("\r\n", "\n")
        clean[part] = text if text.strip() else render.default_source(kind, part, language)
    return clean


def check(kind: str, parts: dict[str, str | None], language: str = "en") -> dict[str, LetterTemplateError]:
    """Every part's refusal (part -> error with its line), empty when all render the demo data."""
    errors = {}
    for part, source in _given(_kind(kind), parts, language).items():
        try:
            render.validate_template(kind, part, source, language)
        except LetterTemplateError as exc:
            errors[part] = exc
    return errors


def preview(kind: str, parts: dict[str, str | None], language: str = "en") -> render.Letter:
    """The letter ``parts`` make with the demo data in ``language``
    (:func:`app.letters.data.demo_context`); raises the first part's :class:`LetterTemplateError`."""
    return render.render_letter(_kind(kind), demo_context(kind, language), _given(kind, parts, language), language)


def save(actor, kind: str, parts: dict[str, str | None], active: bool, language: str = "en") -> LetterTemplate:
    """Keep an administrator's parts in ``language`` (a part equal to the built-in one, or empty,
    stays built-in so later versions of the application reach it); every part must render the demo
    data first."""
    _require_admin(actor)
    language = language_of(language)
    given = _given(_kind(kind), parts, language)
    for part, source in given.items():
        render.validate_template(kind, part, source, language)   # raises with the part and its line
    row = saved(kind, language) or LetterTemplate(kind=kind, language=language)
    for part, source in given.items():
        setattr(row, part, None if source == render.default_source(kind, part, language) else source)
    row.updated_by_id = actor.id
    db.session.add(row)
    _set_active(actor, kind, active)
    db.session.flush()
    return row


def _set_active(actor, kind: str, active: bool) -> None:
    for row in _rows(kind):
        if row.active != bool(active):
            row.active, row.updated_by_id = bool(active), actor.id


def set_active(actor, kind: str, active: bool) -> LetterTemplate:
    """Make ``kind`` (in every language) or not; returns its first saved row."""
    _require_admin(actor)
    if not _rows(_kind(kind)):
        db.session.add(LetterTemplate(kind=kind, language="en", active=bool(active), updated_by_id=actor.id))
    _set_active(actor, kind, active)
    db.session.flush()
    return _rows(kind)[0]


def reset(actor, kind: str, language: str = "en") -> LetterTemplate | None:
    """Back to the built-in parts of ``language`` (the active switch stays as it is)."""
    _require_admin(actor)
    row = saved(_kind(kind), language)
    if row is not None:
        row.subject = row.body = row.pdf = None
        row.updated_by_id = actor.id
        db.session.flush()
    return row


def send_test(actor, kind: str, parts: dict[str, str | None], language: str = "en") -> str:
    """E-mail the demo letter of ``parts`` (in ``language``), with its PDF, to ``actor``'s own
    address (synchronous); returns the address. Nothing is stored."""
    _require_admin(actor)
    to = (getattr(actor, "email", "") or "").strip()
    if not to:
        raise RuleViolation(T("Your user has no e-mail address, so the test has nowhere to go: add one to your "
                              "user (Administration › Users) and send it again."), "email")
    letter = preview(kind, parts, language)
    pdf_bytes = pdf.render_pdf(letter.pdf_html)
    msg = mail.build_message(to, f"[Test] {letter.subject}", mail.html_to_text(letter.body_html))
    msg.add_alternative(letter.body_html, subtype="html")
    msg.add_attachment(pdf_bytes, maintype="application", subtype="pdf", filename=f"{kind}-test.pdf")
    try:
        mail.send(msg)
    except mail.DeliveryFailed as exc:
        raise RuleViolation(T("The test was not sent: %(problem)s", problem=exc.message), "email") from None
    return to


