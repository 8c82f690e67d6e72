"""Users, passwords, role assignments, login throttling, browser sessions and API tokens."""
from __future__ import annotations

import hashlib
import math
import secrets
from datetime import datetime
from time import sleep

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, flash, session
from flask_login import login_user, logout_user

from ..clock import utcnow
from ..database import is_postgres, writing_again
from ..errors import Duplicate, InvalidInput, NotFound
from ..extensions import db
from ..text import T, Tn
from ..org.models import Library
from .models import LoginFailure, LoginSession, Role, RoleAssignment, User

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
        raise InvalidInput(Tn("The password must have at least %(num)d character.",
                              "The password must have at least %(num)d characters.", minimum), "password")
    if len(password) > 256:
        raise InvalidInput(T("The password must have at most 256 characters."), "password")


def create_user(actor: User | None, username: str, password: str, *, full_name: str = "", email: str = "",
                roles: list[tuple[Role, Library | None]] = ()) -> User:
    username = (username or "").strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise InvalidInput(T("A user name is 1–64 characters without spaces."), "username")
    if db.session.scalar(db.select(User).filter_by(username=username)):
        raise Duplicate(T("A user named %(username)s already exists.", username=username), "username")
    check_password_policy(password)
    user = User(username=username, full_name=full_name, email=email, password_hash=_hasher.hash(password))
    db.session.add(user)
    for role, library in roles:
        user.assignments.append(RoleAssignment(role=Role(role).value, library=library))
    db.session.flush()
    return user


def set_details(actor: User | None, user: User, full_name: str, email: str) -> None:
    """A user's full name and e-mail address (each at most 200 characters)."""
    for field, value, message in (("full_name", full_name, T("The full name is at most 200 characters.")),
                                  ("email", email, T("The email is at most 200 characters."))):
        if len(value or "") > 200:
            raise InvalidInput(message, field)
    user.full_name, user.email = full_name or "", email or ""


def set_password(actor: User | None, user: User, password: str) -> None:
    check_password_policy(password)
    user.password_hash = _hasher.hash(password)
    user.session_epoch += 1


def add_role(actor: User | None, user: User, role: Role, library: Library | None) -> RoleAssignment:
    role = Role(role)
    for a in user.assignments:
        if a.role == role.value and a.library_id == (library.id if library else None):
            raise Duplicate(T("%(username)s already has %(role)s for %(scope)s.", username=user.username, role=role.label,
                              scope=a.scope_label), "role")
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
    raise NotFound(T("No such role assignment."))


def set_active(actor: User | None, user: User, active: bool) -> None:
    if actor is not None and actor.id == user.id and not active:
        raise InvalidInput(T("You cannot deactivate your own account."))
    user.active = active
    user.session_epoch += 1


class LoginThrottled(Exception):
    """Too many recent failures for this user name from this address, or from this address."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def login_delay(failures: int) -> float:
    """Seconds a login of an account waits after ``failures`` recent failures for it from anywhere:
    none below LOGIN_MAX_FAILURES, then 0.5 s doubling up to LOGIN_MAX_DELAY."""
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    if failures < limit:
        return 0.0
    return min(float(current_app.config["LOGIN_MAX_DELAY"]), 0.5 * 2 ** min(failures - limit, 16))


def _refusal(times: list[datetime], limit: int, now: datetime) -> int | None:
    """Seconds until enough of ``times`` (ascending) leave the window to fall below ``limit``."""
    if len(times) < limit:
        return None
    ages_out = times[len(times) - limit] + current_app.config["LOGIN_FAILURE_WINDOW"]
    return max(1, math.ceil((ages_out - now).total_seconds()))


_LOGIN_LOCK_SPACE = 0x4C4F47  # PostgreSQL advisory locks (space, key) taken per login address


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def authenticate(username: str, password: str, remote_addr: str) -> User | None:
    """The user when the password is right, else None. Wrong user and wrong password take the
    same time and give the same answer. Commits its own short transactions: call it first.

    Attempts in the last LOGIN_FAILURE_WINDOW that did not succeed are counted three ways. Per
    user name and address, and per address, past their limits the attempt is refused
    (LoginThrottled). Per user name from any address, the login is only slowed down
    (login_delay), so an attacker's guesses cannot lock the owner out.

    Each attempt is counted and recorded in one short write transaction, serialised per address
    (SQLite's write lock, a PostgreSQL advisory lock) so simultaneous guesses cannot slip past a
    limit, and committed before the wait and the password
    check so no write lock is held meanwhile; a right password then deletes that record along with
    earlier failures of the same user name from the same address."""
    cfg = current_app.config
    username, remote_addr = username[:64], remote_addr[:64]
    now = utcnow()
    since = now - cfg["LOGIN_FAILURE_WINDOW"]
    if is_postgres(db.session):  # SQLite's write lock already serialises this transaction
        db.session.execute(db.text("SELECT pg_advisory_xact_lock(:space, hashtext(:addr))"),
                           {"space": _LOGIN_LOCK_SPACE, "addr": remote_addr})
    recent = db.select(LoginFailure.at).where(LoginFailure.at >= since).order_by(LoginFailure.at)
    from_address = list(db.session.scalars(recent.where(LoginFailure.remote_addr == remote_addr)))
    pair = list(db.session.scalars(recent.where(LoginFailure.remote_addr == remote_addr,
                                                LoginFailure.username == username)))
    wait = _refusal(pair, cfg["LOGIN_MAX_FAILURES"], now)
    if wait:
        db.session.rollback()
        raise LoginThrottled(str(Tn("Too many failed attempts for this user name from your address. "
                                "Try again in %(num)d minute.",
                                "Too many failed attempts for this user name from your address. "
                                "Try again in %(num)d minutes.", _minutes(wait))), wait)
    wait = _refusal(from_address, cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"], now)
    if wait:
        db.session.rollback()
        raise LoginThrottled(str(Tn("Too many failed logins from your address. Try again in %(num)d minute.",
                                    "Too many failed logins from your address. Try again in %(num)d minutes.",
                                    _minutes(wait))), wait)
    for_account = db.session.scalar(db.select(db.func.count()).select_from(LoginFailure)
                                    .where(LoginFailure.at >= since, LoginFailure.username == username))
    user = db.session.scalar(db.select(User).filter_by(username=username))
    user_id, stored_hash = (user.id, user.password_hash) if user and user.active else (None, None)
    db.session.add(LoginFailure(username=username, remote_addr=remote_addr, at=now))
    db.session.commit()

    delay = login_delay(for_account)
    if delay:
        sleep(delay)
    try:
        ok = _hasher.verify(stored_hash or _hasher.dummy_hash, password) and user_id is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        return None
    writing_again()   # the attempt was committed above; forgetting the failures and the session are writes
    db.session.execute(db.delete(LoginFailure).where(LoginFailure.username == username,
                                                     LoginFailure.remote_addr == remote_addr))
    user = db.session.get(User, user_id)
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


# -- browser sessions ----------------------------------------------------------------------
# The signed session cookie carries Flask-Login's "<user id>:<epoch>", a random token naming a
# LoginSession row, and the time of the last request. A session ends when its row is gone
# (logout), the user's epoch moved (password, roles, deactivation), it was unused for
# SESSION_IDLE_TIMEOUT, or it is older than PERMANENT_SESSION_LIFETIME.

SESSION_TOKEN, SESSION_SEEN = "sid", "seen"
_EPOCH = datetime(1970, 1, 1)


def _stamp(moment: datetime) -> int:
    return int((moment - _EPOCH).total_seconds())


def start_session(user: User) -> None:
    """Log ``user`` into this browser with a fresh session (new cookie, CSRF token and row), and
    drop rows and failures too old to matter. The caller commits."""
    now = utcnow()
    db.session.execute(db.delete(LoginSession).where(
        LoginSession.created_at < now - current_app.permanent_session_lifetime))
    db.session.execute(db.delete(LoginFailure).where(
        LoginFailure.at < now - current_app.config["LOGIN_FAILURE_WINDOW"]))
    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(token_hash=_token_digest(token), user_id=user.id, created_at=now))
    session.clear()
    login_user(user)
    session[SESSION_TOKEN] = token
    session[SESSION_SEEN] = _stamp(now)
    session.permanent = True


def end_session() -> None:
    """Log this browser out: its row goes, so every copy of the cookie is refused. The caller commits."""
    token = session.get(SESSION_TOKEN)
    if isinstance(token, str):
        db.session.execute(db.delete(LoginSession).where(LoginSession.token_hash == _token_digest(token)))
    logout_user()
    session.clear()


def load_session_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the session's user while the session lives, else None (and the
    cookie is emptied, with a message for the login page the browser is sent to)."""
    try:
        uid, epoch = (int(part) for part in user_id.split(":"))
    except ValueError:
        return _session_ended()
    token, seen = session.get(SESSION_TOKEN), session.get(SESSION_SEEN)
    now = utcnow()
    if not isinstance(token, str) or not isinstance(seen, int) or \
            _stamp(now) - seen > current_app.config["SESSION_IDLE_TIMEOUT"].total_seconds():
        return _session_ended()
    started = db.session.scalar(db.select(LoginSession.created_at).where(
        LoginSession.token_hash == _token_digest(token), LoginSession.user_id == uid))
    if started is None or now - started > current_app.permanent_session_lifetime:
        return _session_ended()
    user = db.session.get(User, uid)
    if user is None or not user.active or user.session_epoch != epoch:
        return _session_ended()
    if seen != _stamp(now):
        session[SESSION_SEEN] = _stamp(now)
    return user


def _session_ended() -> None:
    session.clear()
    flash(str(T("Your session has ended. Please log in again.")))
    return None


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
