"""Users, passwords, role assignments, login throttling and API tokens."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from ..errors import Duplicate, InvalidInput, NotFound
from ..extensions import db
from ..org.models import Library
from .models import LoginFailure, Role, RoleAssignment, User, utcnow

_hashers: dict = {}


class _Hasher:
    """argon2id with the library's recommended parameters, or PASSWORD_HASH_PARAMS (tests)."""

    def __getattr__(self, name):
        params = tuple(sorted((current_app.config.get("PASSWORD_HASH_PARAMS") or {}).items()))
        if params not in _hashers:
            hasher = PasswordHasher(**dict(params))
            _hashers[params] = (hasher, hasher.hash("not-a-real-password-just-equal-timing"))
        hasher, dummy = _hashers[params]
        return dummy if name == "dummy_hash" else getattr(hasher, name)


_hasher = _Hasher()


def check_password_policy(password: str) -> None:
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise InvalidInput(f"The password must have at least {minimum} characters.", "password")
    if len(password) > 256:
        raise InvalidInput("The password must have at most 256 characters.", "password")


def create_user(actor: User | None, username: str, password: str, *, full_name: str = "", email: str = "",
                roles: list[tuple[Role, Library | None]] = ()) -> User:
    username = (username or "").strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise InvalidInput("A user name is 1–64 characters without spaces.", "username")
    if db.session.scalar(db.select(User).filter_by(username=username)):
        raise Duplicate(f"A user named {username} already exists.", "username")
    check_password_policy(password)
    user = User(username=username, full_name=full_name, email=email, password_hash=_hasher.hash(password))
    db.session.add(user)
    for role, library in roles:
        user.assignments.append(RoleAssignment(role=Role(role).value, library=library))
    db.session.flush()
    return user


def set_password(actor: User | None, user: User, password: str) -> None:
    check_password_policy(password)
    user.password_hash = _hasher.hash(password)
    user.session_epoch += 1


def add_role(actor: User | None, user: User, role: Role, library: Library | None) -> RoleAssignment:
    role = Role(role)
    for a in user.assignments:
        if a.role == role.value and a.library_id == (library.id if library else None):
            raise Duplicate(f"{user.username} already has {role.label} for {a.scope_label}.", "role")
    assignment = RoleAssignment(role=role.value, library=library)
    user.assignments.append(assignment)
    user.session_epoch += 1
    db.session.flush()
    return assignment


def remove_role(actor: User | None, user: User, assignment_id: int) -> None:
    for a in list(user.assignments):
        if a.id == assignment_id:
            user.assignments.remove(a)
            user.session_epoch += 1
            db.session.flush()
            return
    raise NotFound("No such role assignment.")


def set_active(actor: User | None, user: User, active: bool) -> None:
    if actor is not None and actor.id == user.id and not active:
        raise InvalidInput("You cannot deactivate your own account.")
    user.active = active
    user.session_epoch += 1


def _recent_failures(column, value) -> int:
    since = utcnow() - current_app.config["LOGIN_FAILURE_WINDOW"]
    return db.session.scalar(db.select(db.func.count()).select_from(LoginFailure)
                             .where(column == value, LoginFailure.at >= since))


class LoginThrottled(Exception):
    pass


def authenticate(username: str, password: str, remote_addr: str) -> User | None:
    """The user when the password is right; None otherwise. Raises LoginThrottled when too many
    recent failures came for this account or from this address. Wrong user and wrong password
    take the same time and give the same answer."""
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    if (_recent_failures(LoginFailure.username, username) >= limit
            or _recent_failures(LoginFailure.remote_addr, remote_addr) >= limit * 4):
        raise LoginThrottled()
    user = db.session.scalar(db.select(User).filter_by(username=username))
    try:
        _hasher.verify(user.password_hash if user else _hasher.dummy_hash, password)
        ok = user is not None and user.active
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        db.session.add(LoginFailure(username=username[:64], remote_addr=remote_addr[:64]))
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def password_matches(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(actor: User | None, user: User) -> str:
    """A new API token for ``user`` (replacing any earlier one). Only its hash is stored."""
    token = "acq_" + secrets.token_urlsafe(32)
    user.api_token_hash = _token_digest(token)
    return token


def user_for_token(token: str) -> User | None:
    if not token:
        return None
    user = db.session.scalar(db.select(User).filter_by(api_token_hash=_token_digest(token)))
    return user if user and user.active else None


def load_session_user(user_id: str) -> User | None:
    try:
        uid, epoch = (int(part) for part in user_id.split(":"))
    except ValueError:
        return None
    user = db.session.get(User, uid)
    if user is None or not user.active or user.session_epoch != epoch:
        return None
    return user


def purge_login_failures(older_than: datetime) -> None:
    db.session.execute(db.delete(LoginFailure).where(LoginFailure.at < older_than))


def service_user(username: str, full_name: str) -> User:
    """A user that jobs and migrations act as (so every change names who made it): an institution
    administrator that is inactive and has an unusable password, so nobody can log in as it."""
    user = db.session.scalar(db.select(User).filter_by(username=username))
    if user is None:
        user = User(username=username, full_name=full_name, active=False,
                    password_hash="!disabled-" + secrets.token_hex(8))
        user.assignments.append(RoleAssignment(role=Role.ADMIN.value, library_id=None))
        db.session.add(user)
        db.session.flush()
    return user
