"""Which funds and ledgers a user's library scope lets them see, as SQL clauses: queries go through
them so an out-of-scope id is simply not found (404), never a 403 that confirms it exists.

A library-scoped user sees what their libraries own, and what the institution owns and shares
with all libraries or with one of theirs; a user with an institution-wide role sees everything.
"""
from __future__ import annotations

from sqlalchemy import false, or_, select, true

from ..auth.permissions import library_scope
from .models import Fund, Ledger, fund_availability, ledger_availability


def _visible_clause(user, model, availability, key: str):
    scope = library_scope(user)
    if scope is None:
        return true()
    if not scope:
        return false()
    shared = model.owner_library_id.is_(None) & (
        model.available_to_all | model.id.in_(
            select(availability.c[key]).where(availability.c.library_id.in_(scope))))
    return or_(model.owner_library_id.in_(scope), shared)


def visible_funds_clause(user):
    return _visible_clause(user, Fund, fund_availability, "fund_id")


def visible_ledgers_clause(user):
    return _visible_clause(user, Ledger, ledger_availability, "ledger_id")
