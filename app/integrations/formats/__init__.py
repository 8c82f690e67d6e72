"""Pure builders and parsers of the files exchanged with the ERP (no Flask, no database)."""
from __future__ import annotations

from ...text import T


def joined(parts, separator: str = "; "):
    """``parts`` (sentences or pieces, each a Text or a plain string) one after another, each shown in
    the reader's language: "a; b; c" (``separator`` "; ") or "a, b, c" (", ")."""
    parts = list(parts)
    if not parts:
        return ""
    out = parts[0]
    for part in parts[1:]:
        out = T("%(first)s, %(next)s", first=out, next=part) if separator == ", " else \
            T("%(first)s; %(next)s", first=out, next=part)
    return out
