"""Who may reach which route, and which rows a user's library scope lets them see.

Every view declares its roles with :func:`roles_required` (or :func:`public`); create_app refuses
to start when a route declares neither. Scope: a role assignment covers the whole institution
(library NULL) or one library (:func:`library_scope`); each domain's ``visible_*`` filters (e.g.
:mod:`app.funds.scope`) build on it so an out-of-scope id is simply not found (404), never a 403
that confirms it exists.

Institution-wide data (currency rates, vendors' shared and financial fields, fiscal periods,
institution ledgers, settings, users and libraries) is read by everyone but changed only under one
rule, :func:`can_change_institution_data`: the user holds one of the roles *for the institution*
(a role row without a library). Services call :func:`require_institution_role`; views that only
change such data use :func:`institution_roles_required`.
"""
from __future__ import annotations

from functools import wraps

from flask import abort, current_app
from flask_login import current_user

from ..errors import Forbidden
from ..text import T, Text, english
from .models import ROLE_NAMES, Role

ALL_ROLES = frozenset(Role)
MONEY_MANAGERS = frozenset({Role.ADMIN, Role.FUND_MANAGER})


def roles_required(*roles: Role):
    """Allow the view to users holding any of ``roles`` (in any scope)."""
    allowed = frozenset(Role(r) for r in roles)
    if not allowed:
        raise ValueError("declare at least one role")

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if not has_any_role(current_user, allowed):
                abort(403)
            return view(*args, **kwargs)
        wrapper.allowed_roles = allowed
        return wrapper
    return decorator


def institution_roles_required(*roles: Role):
    """Like :func:`roles_required`, but the role must be held for the whole institution: the view
    changes data every library shares. A library-scoped holder gets 403 (GET included: the form is
    of no use to them)."""
    allowed = frozenset(Role(r) for r in roles)

    def decorator(view):
        guarded = roles_required(*allowed)(view)

        @wraps(view)
        def wrapper(*args, **kwargs):
            if current_user.is_authenticated and has_any_role(current_user, allowed):
                require_institution_role(current_user, allowed)  # 403 with the reason
            return guarded(*args, **kwargs)
        wrapper.allowed_roles = allowed
        wrapper.institution_wide = True
        return wrapper
    return decorator


def public(view):
    """Mark a view as reachable without logging in (login page, health check)."""
    view.is_public = True
    return view


def unregistered_endpoints(app) -> list[str]:
    return sorted(endpoint for endpoint, view in app.view_functions.items()
                  if endpoint != "static" and not getattr(view, "allowed_roles", None)
                  and not getattr(view, "is_public", False))


def has_any_role(user, roles) -> bool:
    return any(Role(a.role) in roles for a in user.assignments)


def can_change_institution_data(user, roles) -> bool:
    """THE rule for institution-wide data: ``user`` holds one of ``roles`` for the whole institution."""
    roles = frozenset(Role(r) for r in roles)
    return user is not None and any(a.library_id is None and Role(a.role) in roles
                                    for a in getattr(user, "assignments", ()))


def require_institution_role(actor, roles, what: str | None = None) -> None:
    """Refuse (:class:`Forbidden`, a 403 with the reason) unless ``actor`` may change institution-wide
    data with ``roles``; ``what`` completes "… may <what>"."""
    if not can_change_institution_data(actor, roles):
        who = _either(sorted((ROLE_NAMES[Role(r)] for r in roles), key=str.lower))
        if what:
            raise Forbidden(T("Only a %(roles)s for the whole institution may %(action)s: every library shares it.",
                              roles=who, action=_ACTIONS.get(english(what), what)))
        raise Forbidden(T("Only a %(roles)s for the whole institution may do this: it changes what every library "
                          "shares.", roles=who))


# What require_institution_role's callers say a person may do (``what``), each translatable; a
# caller may also pass a Text of its own.
_ACTIONS = {text.english: text for text in (
    T("add exchange rates"), T("add fund types"), T("change a library's delivery address"),
    T("change fiscal periods"), T("change the institution's details"),
    T("choose who is told when a profile's jobs end"), T("close fiscal periods"), T("create fiscal periods"),
    T("reopen fiscal periods"), T("roll over fiscal periods"), T("set when the daily jobs run"),
    T("undo rollovers"), T("use the ERP integration"))}


def _either(names: list) -> Text:
    """"a, b or c" of role names (Texts), translated when shown."""
    if len(names) == 1:
        return names[0]
    return T("%(some)s or %(last)s", some=_listed(names[:-1]), last=names[-1])


def _listed(names: list) -> Text:
    if len(names) == 1:
        return names[0]
    return T("%(some)s, %(next)s", some=_listed(names[:-1]), next=names[-1])


def library_scope(user, roles=ALL_ROLES) -> set[int] | None:
    """Libraries where ``user`` holds one of ``roles``: None means the whole institution."""
    libs: set[int] = set()
    for a in user.assignments:
        if Role(a.role) in roles:
            if a.library_id is None:
                return None
            libs.add(a.library_id)
    return libs


def in_scope(scope: set[int] | None, library_id: int | None) -> bool:
    """Whether an object owned by ``library_id`` (None: the institution) is inside ``scope``."""
    return scope is None or (library_id is not None and library_id in scope)


def can_manage_money(user, owner_library_id: int | None) -> bool:
    """Fund managers and administrators manage what their scope owns (the institution's: the rule
    for institution-wide data)."""
    if owner_library_id is None:
        return can_change_institution_data(user, MONEY_MANAGERS)
    return in_scope(library_scope(user, MONEY_MANAGERS), owner_library_id) and has_any_role(user, MONEY_MANAGERS)


def is_institution_admin(user) -> bool:
    return can_change_institution_data(user, {Role.ADMIN})
