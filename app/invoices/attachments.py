"""An invoice's dated notes and attached files (its Notes and Attachments tabs, and the API).

Notes: any invoice operator who may edit the invoice adds one, in any status (payment terms are
often agreed late); only its author or an administrator (within their library scope) may edit or
delete it. Attachments: added and deleted by those who may edit the invoice; a file must be of an
allowed type, checked on its content as well as its extension (:data:`FILE_TYPES`), no bigger than
``INVOICE_ATTACHMENT_MAX_BYTES``, with a plain file name. Files live under random names in
``ATTACHMENT_FOLDER/invoices`` (:mod:`app.storage`). Every change goes to the invoice's history.

Functions take an explicit ``actor``, flush and raise :mod:`app.errors` exceptions; callers commit.
A file is written before the commit and removed again if the transaction rolls back; a deleted
attachment's file is removed once the deletion is committed.
"""
from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from .. import storage
from ..auth.models import Role
from ..auth.permissions import has_any_role, in_scope, library_scope
from ..clock import utcnow
from ..errors import Forbidden, InvalidInput, NotFound
from ..extensions import db
from ..limits import MAX_TEXT_LENGTH
from ..text import T
from . import history
from .models import Invoice, InvoiceAttachment, InvoiceNote
from .services import OPERATORS

MB = 1024 * 1024
DEFAULT_MAX_BYTES = 10 * MB
MAX_NAME = 200
MAX_ATTACHMENTS = 100           # per invoice
MAX_ZIP_ENTRIES = 1000          # an .xlsx or .ods is a zip: its directory is read, nothing inflated
NOTE_ADMINS = frozenset({Role.ADMIN})


# -- who may ---------------------------------------------------------------------------------------

def can_write(user, invoice: Invoice) -> bool:
    """Add notes and attachments, delete attachments: whoever may edit the invoice (its scope)."""
    return has_any_role(user, OPERATORS) and in_scope(library_scope(user, OPERATORS), invoice.owner_library_id)


def can_change_note(user, note: InvoiceNote) -> bool:
    """Its author (while they may still write on the invoice) or an administrator of its scope."""
    invoice = note.invoice
    if has_any_role(user, NOTE_ADMINS) and in_scope(library_scope(user, NOTE_ADMINS), invoice.owner_library_id):
        return True
    return note.author_id == user.id and can_write(user, invoice)


def _require_write(actor, invoice: Invoice, what: str) -> None:
    if not can_write(actor, invoice):
        scope = invoice.owner_library.code if invoice.owner_library else T("the institution")
        if what == "add notes":
            refusal = T("You may not add notes to invoice %(number)s: that needs an invoice operator's role for "
                        "%(scope)s.", number=invoice.number, scope=scope)
        elif what == "attach files":
            refusal = T("You may not attach files to invoice %(number)s: that needs an invoice operator's role for "
                        "%(scope)s.", number=invoice.number, scope=scope)
        else:
            refusal = T("You may not delete files of invoice %(number)s: that needs an invoice operator's role for "
                        "%(scope)s.", number=invoice.number, scope=scope)
        raise Forbidden(refusal)


# -- notes -----------------------------------------------------------------------------------------

def _note_text(text) -> str:
    text = str(text or "").replace("\r\n", "\n").strip()
    if not text:
        raise InvalidInput(T("Write the note first."), "text")
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidInput(T("The note is longer than %(limit)s characters (%(length)s).", limit=f"{MAX_TEXT_LENGTH:,}",
                             length=f"{len(text):,}"), "text")
    return text


def add_note(actor, invoice: Invoice, text) -> InvoiceNote:
    _require_write(actor, invoice, "add notes")
    note = InvoiceNote(invoice=invoice, text=_note_text(text), author_id=actor.id, created_at=utcnow())
    db.session.add(note)
    db.session.flush()
    history.log(invoice, actor, "add_note", "note", None, note.text)
    db.session.flush()
    return note


def _of_invoice(model, invoice: Invoice, row_id: int, what: str):
    """The ``model`` row ``row_id`` of ``invoice``; NotFound when it is another invoice's or gone."""
    row = db.session.get(model, row_id)
    if row is None or row.invoice_id != invoice.id:
        if what == "note":
            raise NotFound(T("Invoice %(number)s has no such note (deleted?).", number=invoice.number))
        raise NotFound(T("Invoice %(number)s has no such attachment (deleted?).", number=invoice.number))
    return row


def get_note(invoice: Invoice, note_id: int) -> InvoiceNote:
    return _of_invoice(InvoiceNote, invoice, note_id, "note")


def _require_change(actor, note: InvoiceNote, what: str) -> None:
    if not can_change_note(actor, note):
        author = note.author or T("unknown")
        if what == "edit":
            raise Forbidden(T("Only the note's author (%(author)s) or an administrator may edit it.", author=author))
        raise Forbidden(T("Only the note's author (%(author)s) or an administrator may delete it.", author=author))


def edit_note(actor, note: InvoiceNote, text) -> InvoiceNote:
    _require_change(actor, note, "edit")
    text = _note_text(text)
    if text != note.text:
        history.log(note.invoice, actor, "edit_note", "note", note.text, text, f"note of {note.created_at:%Y-%m-%d}")
        note.text, note.edited_at, note.edited_by_id = text, utcnow(), actor.id
    db.session.flush()
    return note


def delete_note(actor, note: InvoiceNote) -> None:
    _require_change(actor, note, "delete")
    history.log(note.invoice, actor, "delete_note", "note", note.text, None,
                f"note by {note.author or 'unknown'} of {note.created_at:%Y-%m-%d}")
    db.session.delete(note)
    db.session.flush()


# -- file types ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FileType:
    label: str
    content_type: str
    extensions: tuple[str, ...]


# kind -> what it is; the extension picks the kind, the content must then be of that kind.
FILE_TYPES = {
    "pdf": FileType("PDF", "application/pdf", ("pdf",)),
    "png": FileType(T("PNG image"), "image/png", ("png",)),
    "jpeg": FileType(T("JPEG image"), "image/jpeg", ("jpg", "jpeg")),
    "gif": FileType(T("GIF image"), "image/gif", ("gif",)),
    "tiff": FileType(T("TIFF image"), "image/tiff", ("tif", "tiff")),
    "webp": FileType(T("WebP image"), "image/webp", ("webp",)),
    "xlsx": FileType(T("Excel workbook"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     ("xlsx",)),
    "xls": FileType(T("Excel 97–2003 workbook"), "application/vnd.ms-excel", ("xls",)),
    "ods": FileType(T("OpenDocument spreadsheet"), "application/vnd.oasis.opendocument.spreadsheet", ("ods",)),
    "csv": FileType(T("CSV text"), "text/csv; charset=utf-8", ("csv", "tsv")),
    "text": FileType(T("plain text"), "text/plain; charset=utf-8", ("txt",)),
    "edi": FileType(T("EDI message (EDIFACT or X12)"), "application/edi-x12", ("edi", "edifact", "x12")),
}
_BY_EXTENSION = {ext: kind for kind, t in FILE_TYPES.items() for ext in t.extensions}
ALLOWED_EXTENSIONS = tuple(sorted(_BY_EXTENSION))


def allowed_types_text() -> str:
    return T("PDF, images (PNG, JPEG, GIF, TIFF, WebP), spreadsheets (XLSX, XLS, ODS, CSV), text (TXT) and EDI "
             "(EDI, EDIFACT, X12)")


def _zip_names(content: bytes) -> list[str] | None:
    """The member names of a zip archive, reading only its directory; None when it is not one (or
    is too big a directory to be a spreadsheet)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if len(infos) > MAX_ZIP_ENTRIES:
        return None
    return [i.filename for i in infos]


def _text(content: bytes) -> str | None:
    """The content as text when it is UTF-8 (a BOM allowed) without control characters other than
    tab, line and form feeds; None otherwise (binary)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if re.search(r"[\x00-\x08\x0b\x0e-\x1f\x7f]", text):
        return None
    return text


def _is(kind: str, content: bytes) -> bool:
    head = content[:16]
    if kind == "pdf":
        return content[:1024].lstrip(b"\r\n\t ").startswith(b"%PDF-")
    if kind == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if kind == "jpeg":
        return head.startswith(b"\xff\xd8\xff")
    if kind == "gif":
        return head[:6] in (b"GIF87a", b"GIF89a")
    if kind == "tiff":
        return head[:4] in (b"II*\x00", b"MM\x00*")
    if kind == "webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if kind == "xls":
        return head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    if kind in ("xlsx", "ods"):
        if not head.startswith(b"PK\x03\x04"):
            return False
        names = _zip_names(content)
        if names is None:
            return False
        if kind == "xlsx":
            return "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names)
        # an OpenDocument file starts with its uncompressed "mimetype" member
        return bool(names) and names[0] == "mimetype" \
            and b"application/vnd.oasis.opendocument.spreadsheet" in content[30:120]
    text = _text(content)
    if text is None:
        return False
    if kind == "edi":
        start = text.lstrip()[:3]
        return start in ("UNA", "UNB", "ISA")
    return True   # csv, text: readable text


def file_kind(name: str, content: bytes) -> str:
    """The kind of :data:`FILE_TYPES` of a file named ``name`` with ``content``; InvalidInput when
    the extension is not allowed or the content is not what the extension says."""
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    kind = _BY_EXTENSION.get(ext)
    if kind is None:
        if ext:
            raise InvalidInput(T("“%(file)s”: files of type %(type)s cannot be attached. Allowed: %(allowed)s.",
                                 file=name, type="." + ext, allowed=allowed_types_text()), "file")
        raise InvalidInput(T("“%(file)s”: files without an extension cannot be attached. Allowed: %(allowed)s.",
                             file=name, allowed=allowed_types_text()), "file")
    if not _is(kind, content):
        raise InvalidInput(T("“%(file)s” is not a %(kind)s although its name ends in .%(ext)s: its content is of "
                             "another type. Save it in the right format (or with the right extension) and try again.",
                             file=name, kind=FILE_TYPES[kind].label, ext=ext), "file")
    return kind


# -- file names ------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ODD = re.compile(r"[<>:\"|?*;`$'\u202a-\u202e\u2066-\u2069]")   # shell/Windows-special, bidi overrides


def clean_file_name(name) -> str:
    """The name to keep and to offer on download. A name that tries to leave its folder (``/``,
    ``\\``, ``..``), hides (a leading dot) or carries control characters is refused; odd characters
    become ``_``; at most :data:`MAX_NAME` characters, the extension kept."""
    text = unicodedata.normalize("NFC", str(name or "")).strip()
    if not text:
        raise InvalidInput(T("Choose a file to attach."), "file")
    if "/" in text or "\\" in text or ".." in text or text.startswith(".") or _CONTROL.search(text):
        raise InvalidInput(T("The file name “%(file)s” is not a plain file name (folders, “..”, a leading dot "
                             "or control characters). Rename the file and try again.",
                             file=_CONTROL.sub('?', text)[:80]), "file")
    text = " ".join(_ODD.sub("_", text).split()).strip(". ")
    if len(text) > MAX_NAME:
        stem, _, ext = text.rpartition(".")
        text = (stem[:MAX_NAME - len(ext) - 1].rstrip(". ") + "." + ext) if stem and len(ext) <= 10 \
            else text[:MAX_NAME]
    return text


# -- attachments -----------------------------------------------------------------------------------

def max_bytes() -> int:
    return int(current_app.config.get("INVOICE_ATTACHMENT_MAX_BYTES") or DEFAULT_MAX_BYTES)


def limit_text() -> str:
    limit = max_bytes()
    return T("%(n)s MB", n=f"{limit / MB:g}") if limit >= MB else T("%(n)s bytes", n=f"{limit:,}")


def folder() -> Path:
    """``invoices/`` under the attachments folder (``ATTACHMENT_FOLDER``, default
    ``instance/attachments``), so a backup carries them with the other attachments."""
    configured = current_app.config.get("ATTACHMENT_FOLDER")
    return (Path(configured) if configured else Path(current_app.instance_path) / "attachments") / "invoices"


def add_attachment(actor, invoice: Invoice, name, content: bytes) -> InvoiceAttachment:
    """Attach a file (``content`` may be one byte past the limit: the caller stops reading there)."""
    _require_write(actor, invoice, "attach files")
    file_name = clean_file_name(name)
    if not content:
        raise InvalidInput(T("“%(file)s” is empty; choose another file.", file=file_name), "file")
    if len(content) > max_bytes():
        raise InvalidInput(T("“%(file)s” is larger than %(limit)s, the most a file attached to an invoice may be. "
                             "Make it smaller (e.g. scan at a lower resolution) or split it.", file=file_name,
                             limit=limit_text()), "file")
    kind = file_kind(file_name, content)
    if len(invoice.attachments) >= MAX_ATTACHMENTS:
        raise InvalidInput(T("Invoice %(number)s already has %(n)s files; delete one first.", number=invoice.number,
                             n=MAX_ATTACHMENTS), "file")
    stored_name = storage.store(folder(), bytes(content))
    _remove_on_rollback(stored_name)
    attachment = InvoiceAttachment(invoice=invoice, file_name=file_name, stored_name=stored_name,
                                   content_type=FILE_TYPES[kind].content_type, size=len(content),
                                   sha256=hashlib.sha256(content).hexdigest(), uploaded_by_id=actor.id,
                                   uploaded_at=utcnow())
    db.session.add(attachment)
    db.session.flush()
    history.log(invoice, actor, "attach", "attachment", None, file_name, f"{len(content):,} bytes")
    db.session.flush()
    return attachment


def get_attachment(invoice: Invoice, attachment_id: int) -> InvoiceAttachment:
    return _of_invoice(InvoiceAttachment, invoice, attachment_id, "attachment")


def attachment_path(attachment: InvoiceAttachment) -> Path:
    """Its stored file; NotFound when the file is gone from the server."""
    return storage.stored(folder(), attachment.stored_name, T("This attachment has no file."),
                          T("The file of “%(file)s” is missing from the server; ask an administrator to restore it "
                            "from a backup.", file=attachment.file_name))


def delete_attachment(actor, attachment: InvoiceAttachment) -> None:
    invoice = attachment.invoice
    _require_write(actor, invoice, "delete files")
    history.log(invoice, actor, "delete_attachment", "attachment", attachment.file_name, None,
                f"{attachment.size:,} bytes, uploaded {attachment.uploaded_at:%Y-%m-%d}")
    _remove_on_commit(attachment.stored_name)
    db.session.delete(attachment)
    db.session.flush()


# -- files follow the transaction --------------------------------------------------------------------

_NEW, _GONE = "invoice_files_new", "invoice_files_gone"


def _remove_on_rollback(stored_name: str) -> None:
    db.session().info.setdefault(_NEW, []).append((folder(), stored_name))


def _remove_on_commit(stored_name: str) -> None:
    db.session().info.setdefault(_GONE, []).append((folder(), stored_name))


def _unlink(entries) -> None:
    for where, name in entries:
        try:
            (where / name).unlink()
        except FileNotFoundError:
            pass


@event.listens_for(Session, "after_commit")
def _after_commit(session) -> None:
    session.info.pop(_NEW, None)
    _unlink(session.info.pop(_GONE, ()))


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session, previous_transaction) -> None:
    if previous_transaction.nested:
        return   # a savepoint: the outer transaction may still commit what came before
    session.info.pop(_GONE, None)
    _unlink(session.info.pop(_NEW, ()))
