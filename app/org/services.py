"""Libraries of the institution."""
from sqlalchemy import select

from ..errors import Duplicate, InvalidInput
from ..extensions import db
from .models import Library


def create_library(actor, code: str, name: str) -> Library:
    code, name = (code or "").strip().upper(), (name or "").strip()
    if not code or len(code) > 20 or any(c.isspace() for c in code):
        raise InvalidInput("A library code is 1–20 characters without spaces.", "code")
    if not name:
        raise InvalidInput("A name is required.", "name")
    if db.session.scalar(select(Library).filter_by(code=code)):
        raise Duplicate(f"Library {code} already exists.", "code")
    library = Library(code=code, name=name[:200])
    db.session.add(library)
    db.session.flush()
    return library
