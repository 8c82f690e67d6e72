"""Libraries of the institution."""
from sqlalchemy import select

from ..errors import Duplicate, InvalidInput, NotFound
from ..extensions import db
from ..ids import parse_id
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


def get_one(ref, query, what: str):
    """The object ``query(id)`` selects for the id in ``ref`` (see :func:`parse_id`); NotFound
    ("No such <what>.") when there is none, or none the query lets the user see."""
    object_id = parse_id(ref)
    found = db.session.scalar(query(object_id)) if object_id else None
    if found is None:
        raise NotFound(f"No such {what}.")
    return found


def get_library(ref, field: str = "library") -> Library | None:
    """A library by code, or by id for digits that are no library's code; None for the institution
    (an empty value or "institution")."""
    if ref in (None, "", "institution"):
        return None
    lib = db.session.scalar(select(Library).where(Library.code == str(ref)))
    if lib is None and parse_id(ref):
        lib = db.session.get(Library, parse_id(ref))
    if lib is None:
        raise InvalidInput(f"No library {ref}.", field)
    return lib
