"""The payment confirmation section's format: Alma's XML or a CSV read through a column mapping,
and what a paid amount other than the invoice total does (warn or refuse the record).

A service (explicit ``actor``, :class:`~app.errors.DomainError`, flushes): the page in
:mod:`app.integrations.views` and the tests set it through :func:`set_payment_format`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import InvalidInput
from ..extensions import db
from .formats.payment_csv import FIELDS, CsvMapping, MappingError
from .models import IntegrationProfile, ProfileSection
from ..text import T
from .services import require_admin

FORMATS = {"xml": T("XML (Alma's payment_confirmation_data)"), "csv": T("CSV with a column mapping")}
MISMATCH = {"warn": T("Warn: record the payment and flag the difference"),
            "refuse": T("Refuse the record: the invoice stays Waiting for Payment")}
JOB = "import_payments"


@dataclass
class PaymentFormat:
    confirmation_format: str = "xml"
    amount_mismatch: str = "warn"
    mapping: CsvMapping = field(default_factory=CsvMapping)


def section_of(prof: IntegrationProfile) -> ProfileSection:
    section = prof.section(JOB)
    if section is None:
        raise InvalidInput(T("Profile %(code)s has no payment confirmation section.", code=prof.code))
    return section


def current(section: ProfileSection) -> PaymentFormat:
    """The stored setting (a stored mapping that no longer checks shows as it was typed)."""
    mapping = CsvMapping()
    if section.csv_mapping:
        try:
            mapping = CsvMapping.from_json(section.csv_mapping)
        except MappingError:
            mapping = CsvMapping()
    return PaymentFormat(section.confirmation_format or "xml", section.amount_mismatch or "warn", mapping)


def set_payment_format(actor, prof: IntegrationProfile, value: PaymentFormat) -> ProfileSection:
    """Save the format; a CSV format needs a usable mapping (the message names the field to fix).
    With XML a mapping typed anyway is kept when it checks, so switching back to CSV finds it."""
    require_admin(actor)
    section = section_of(prof)
    if value.confirmation_format not in FORMATS:
        raise InvalidInput(T("Choose the format: XML or CSV."), "confirmation_format")
    if value.amount_mismatch not in MISMATCH:
        raise InvalidInput(T("Choose what a differing paid amount does: warn or refuse."), "amount_mismatch")
    stored = ""
    if value.confirmation_format == "csv" or any((v or "").strip() for v in value.mapping.columns.values()):
        try:
            stored = value.mapping.check().to_json()
        except MappingError as exc:
            name = f"col_{exc.field}" if exc.field in FIELDS else exc.field   # the form's field names
            raise InvalidInput(T("The CSV mapping: %(problem)s", problem=exc.message), name) from None
    section.confirmation_format = value.confirmation_format
    section.amount_mismatch = value.amount_mismatch
    section.csv_mapping = stored
    db.session.flush()
    return section
