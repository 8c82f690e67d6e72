"""The campus stylesheet of a profile's invoice export section: set, checked first (a stylesheet
that does not compile is never saved), and the export files a preview may use."""
from __future__ import annotations

from sqlalchemy.orm import defer

from ..errors import InvalidInput, NotFound
from ..extensions import db
from .formats import xslt
from .models import ExportBatch, IntegrationProfile, ProfileSection
from .services import require_admin

RECENT_FILES = 20


def export_section(prof: IntegrationProfile) -> ProfileSection:
    section = prof.section("export_invoices")
    if section is None:
        raise NotFound("This profile has no invoice export section.")
    return section


def checked(stylesheet: str) -> str:
    """``stylesheet`` with its line ends made plain; raises InvalidInput with the compile error."""
    text = (stylesheet or "").replace("\r\n", "\n")
    if text.strip():
        try:
            xslt.check(text)
        except xslt.XSLTError as exc:
            raise InvalidInput(f"The stylesheet was not saved: {exc}", "xslt") from None
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
    batch = db.session.get(ExportBatch, batch_id)
    if batch is None or batch.profile_id != prof.id:
        raise NotFound("No such export file of this profile.")
    return batch
