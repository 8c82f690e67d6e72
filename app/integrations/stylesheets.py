"""The campus stylesheet of a profile's invoice export section: set, checked first (a stylesheet
that does not compile is never saved), and the export files a preview may use."""
from __future__ import annotations

from sqlalchemy.orm import defer

from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..text import T
from ..ids import MAX_ID
from .formats import xslt
from .models import ExportBatch, IntegrationProfile, ProfileSection
from .services import require_admin

RECENT_FILES = 20
PREVIEW_TIMEOUT = 10              # seconds: a preview waits no longer on a stylesheet
PREVIEW_OUTPUT = 5 * 1024 * 1024
PREVIEW_SHOWN = 200_000           # characters of each side shown


def export_section(prof: IntegrationProfile) -> ProfileSection:
    section = prof.section("export_invoices")
    if section is None:
        raise NotFound(T("This profile has no invoice export section."))
    return section


def checked(stylesheet: str) -> str:
    """``stylesheet`` with its line ends made plain; raises InvalidInput with the compile error."""
    text = (stylesheet or "").replace("\r\n", "\n")
    if text.strip():
        try:
            xslt.check(text)
        except xslt.XSLTError as exc:
            raise InvalidInput(T("The stylesheet was not saved: %(problem)s", problem=getattr(exc, "text", None) or str(exc)),
                               "xslt") from None
    return text if text.strip() else ""


def set_stylesheet(actor, prof: IntegrationProfile, stylesheet: str, keep_original: bool) -> ProfileSection:
    """Attach (or, with an empty ``stylesheet``, remove) the section's campus stylesheet."""
    require_admin(actor)
    section = export_section(prof)
    section.xslt = checked(stylesheet)
    section.xslt_keep_original = bool(keep_original) and bool(section.xslt)
    db.session.flush()
    return section


def recent_files(prof: IntegrationProfile) -> list[ExportBatch]:
    """The profile's latest export files (sent or waiting), newest first, without their content."""
    return list(db.session.scalars(
        db.select(ExportBatch).where(ExportBatch.profile_id == prof.id, ExportBatch.status.in_(("sent", "pending")))
        .order_by(ExportBatch.id.desc()).limit(RECENT_FILES).options(defer(ExportBatch.content))))


def export_file(prof: IntegrationProfile, batch_id: int) -> ExportBatch:
    batch = db.session.get(ExportBatch, batch_id) if batch_id <= MAX_ID else None
    if batch is None or batch.profile_id != prof.id:
        raise NotFound(T("No such export file of this profile."))
    return batch


def preview(prof: IntegrationProfile, stylesheet: str, source: str, sample=None,
            timeout: float = PREVIEW_TIMEOUT) -> dict:
    """An export file of the profile (``source`` "batch-<id>") or a sample of the Ready to be Paid
    invoices ("sample": ``sample()`` -> (content, count) or None) beside ``stylesheet``'s output,
    each cut to :data:`PREVIEW_SHOWN` characters; ``error`` says why there is none. Nothing is
    saved or marked. NotFound for another profile's file."""
    result = {"source": source, "original": "", "output": "", "extension": "", "error": None, "label": ""}
    if source == "sample":
        made = sample() if sample is not None else None
        if made is None:
            result["error"] = T("No invoice is Ready to be Paid for the ERP: choose an exported file instead.")
            return result
        content, count = made
        result["label"] = T("A sample of %(count)s Ready to be Paid invoice(s) (nothing is stored or marked)", count=count)
    elif source.startswith("batch-") and source[6:].isascii() and source[6:].isdigit():
        batch = export_file(prof, int(source[6:]))
        content, result["label"] = batch.content, batch.file_name
    else:
        result["error"] = T("Choose an exported file or the sample of Ready to be Paid invoices.")
        return result
    result["original"] = content.decode("utf-8", "replace")[:PREVIEW_SHOWN]
    if not stylesheet.strip():
        result["error"] = T("Paste or upload a stylesheet first.")
        return result
    try:
        out = xslt.transform(stylesheet, content, timeout=timeout, max_output=PREVIEW_OUTPUT)
    except xslt.XSLTError as exc:
        result["error"] = getattr(exc, "text", None) or str(exc)
        return result
    result["output"] = out.content.decode("utf-8", "replace")[:PREVIEW_SHOWN]
    result["extension"] = out.extension
    result["truncated"] = len(out.content) > PREVIEW_SHOWN or len(content) > PREVIEW_SHOWN
    return result
