"""Which letter templates are in use: an administrator's saved parts (:class:`LetterTemplate`) over
the built-in ones of :mod:`app.letters`, and whether a kind of letter is made at all."""
from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..letters import KINDS, PARTS
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
