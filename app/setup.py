"""First-run setup shared by `init`, `demo` and the tests."""
from __future__ import annotations

import secrets

from flask import current_app

from .auth.models import Role, User
from .auth.services import create_user
from .extensions import db
from .org.models import Institution


def ensure_institution() -> Institution:
    inst = Institution.current()
    if inst is None:
        cfg = current_app.config
        inst = Institution(code=cfg["INSTITUTION_CODE"], name=cfg["INSTITUTION_NAME"],
                           currency=cfg["INSTITUTION_CURRENCY"])
        db.session.add(inst)
        db.session.flush()
    from .invoices.rules import ensure_default_rules
    ensure_default_rules()
    return inst


def ensure_admin(username: str, password: str | None) -> tuple[bool, str | None]:
    if db.session.scalar(db.select(User).filter_by(username=username)):
        return False, None
    password = password or secrets.token_urlsafe(12)
    create_user(None, username, password, full_name="Administrator", roles=[(Role.ADMIN, None)])
    return True, password
