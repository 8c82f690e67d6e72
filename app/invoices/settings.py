"""Institution settings for invoicing: ERP hand-off, payment handling, pro rata and accrual.

Stored as key → JSON in the ``setting`` table; a key never set has its default here.
"""
from __future__ import annotations

from ..auth.permissions import is_institution_admin
from ..errors import Forbidden, InvalidInput
from ..extensions import db
from ..text import T
from .models import Setting

DEFAULTS = {
    "invoice_skip_erp": False,           # true: approved invoices go straight to payment
    "handle_invoice_payment": True,      # true: exported invoices wait for a payment confirmation
    "invoice_use_pro_rata": True,        # charges spread over the lines (an invoice may override)
    "accrual_accounting": False,         # subscription lines spread over the fiscal periods they cover
}
LABELS = {
    "invoice_skip_erp": T("Skip the ERP: approved invoices go straight to payment"),
    "handle_invoice_payment": T("Handle invoice payment: exported invoices wait for the payment confirmation"),
    "invoice_use_pro_rata": T("Spread additional charges pro rata over the invoice lines"),
    "accrual_accounting": T("Accrual accounting: spread subscription lines over the fiscal periods they cover"),
}


def get(key: str):
    if key not in DEFAULTS:
        raise KeyError(key)
    # A stored row stays in the session's identity map; a key never set would be asked for again on
    # every call (thousands of times in a bulk job), so its absence is remembered for the session.
    absent = db.session.info.setdefault("absent_settings", set())
    if key in absent:
        return DEFAULTS[key]
    row = db.session.get(Setting, key)
    if row is None:
        absent.add(key)
        return DEFAULTS[key]
    return row.value


def all_settings() -> dict:
    stored = {row.key: row.value for row in db.session.scalars(db.select(Setting))}
    return {key: stored.get(key, default) for key, default in DEFAULTS.items()}


def update(actor, values: dict) -> dict:
    """Change settings (institution administrators only); every value is a JSON boolean."""
    if not is_institution_admin(actor):
        raise Forbidden(T("Only an administrator of the whole institution may change the settings."))
    for key, value in values.items():
        if key not in DEFAULTS:
            raise InvalidInput(T("Unknown setting %(key)s; the settings are %(keys)s.", key=repr(key),
                                 keys=", ".join(DEFAULTS)), key)
        if not isinstance(value, bool):
            raise InvalidInput(T("Setting %(key)s is true or false.", key=key), key)
    db.session.info.pop("absent_settings", None)
    for key, value in values.items():
        row = db.session.get(Setting, key)
        if row is None:
            db.session.add(Setting(key=key, value=value, updated_by_id=actor.id))
        else:
            row.value, row.updated_by_id = value, actor.id
    db.session.flush()
    return all_settings()
