"""Libraries of the institution."""
from sqlalchemy import select

from ..auth.models import Role
from ..auth.permissions import require_institution_role
from ..errors import Duplicate, InvalidInput, NotFound, no_such
from ..extensions import db
from ..ids import parse_id
from ..text import T, Text
from .models import Library


def create_library(actor, code: str, name: str) -> Library:
    code, name = (code or "").strip().upper(), (name or "").strip()
    if not code or len(code) > 20 or any(c.isspace() for c in code):
        raise InvalidInput(T("A library code is 1–20 characters without spaces."), "code")
    if not name:
        raise InvalidInput(T("A name is required."), "name")
    if db.session.scalar(select(Library).filter_by(code=code)):
        raise Duplicate(T("Library %(code)s already exists.", code=code), "code")
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
        raise NotFound(no_such(what))
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
        raise InvalidInput(T("No library %(ref)s.", ref=ref), field)
    return lib


def _text(value, limit: int, field: str, too_long: Text) -> str:
    """``value`` trimmed; InvalidInput(``too_long``) on ``field`` when longer than ``limit``."""
    text = (value or "").replace("\r\n", "\n").strip()
    if len(text) > limit:
        raise InvalidInput(too_long, field)
    return text


def update_institution(actor, institution, *, address: str, billing_address: str, email: str, edi_id: str,
                       edi_id_qualifier: str):
    """The institution's details printed on letters to vendors and sent in EDI orders (its name and
    currency are set when it is created and are not changed here)."""
    require_institution_role(actor, {Role.ADMIN}, "change the institution's details")
    email = _text(email, 200, "email", T("The e-mail address is at most 200 characters."))
    if email and ("@" not in email or any(c.isspace() for c in email)):
        raise InvalidInput(T("Give one e-mail address, like acquisitions@library.example."), "email")
    edi_id = _text(edi_id, 35, "edi_id", T("The EDI id is at most 35 characters."))
    qualifier = _text(edi_id_qualifier, 4, "edi_id_qualifier", T("The EDI id qualifier is at most 4 characters."))
    if edi_id and not qualifier:
        raise InvalidInput(T("Give the qualifier of the EDI id (e.g. 31B for a SAN, 14 for a GLN)."),
                           "edi_id_qualifier")
    institution.address = _text(address, 1000, "address", T("The address is at most 1000 characters."))
    institution.billing_address = _text(billing_address, 1000, "billing_address",
                                        T("The billing address is at most 1000 characters."))
    institution.email, institution.edi_id, institution.edi_id_qualifier = email, edi_id, qualifier
    db.session.flush()
    return institution


def set_library_address(actor, library: Library, address: str) -> Library:
    """A library's delivery address (printed on its orders; empty: the institution's address)."""
    require_institution_role(actor, {Role.ADMIN}, "change a library's delivery address")
    library.address = _text(address, 1000, "address", T("The delivery address is at most 1000 characters."))
    db.session.flush()
    return library
