"""Doing a money change once: one-time form tokens and the API's ``Idempotency-Key``.

Forms: a money form carries a random one-time token, made when the form is rendered (the Jinja
global ``form_token_field()``). The view claims it with :func:`claim_form_token` inside the same
transaction as the money change, which inserts a row with a UNIQUE (kind, user, key). A second
POST of the same form finds the key taken and is refused with :class:`AlreadyDone` (409), changing
nothing; on PostgreSQL a concurrent one waits on the unique index until the first commits, on
SQLite writers are serialised anyway (BEGIN IMMEDIATE). When the first POST is refused (say, not
enough money) its claim is rolled back with it, so the corrected form can be sent again. A money
form without a token (a page opened before the token existed) is refused: "reload the page".

API: a view decorated with :func:`idempotent` and called with an ``Idempotency-Key`` header claims
the key the same way, per user. Its commit is deferred (``commit()`` only flushes) so the key, the
change and the stored answer (status, JSON body, Location) are committed together. A repeat with
the same key by the same user gets the stored answer again, with ``Idempotent-Replayed: true``;
the same key with another method, path or body is refused with 422. Refusals are not stored:
nothing changed, and the key stays free for a corrected retry. Without the header a view works as
before.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from functools import wraps

from flask import current_app, g, request
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import UniqueConstraint, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .clock import utcnow
from .errors import DomainError
from .extensions import db
from .text import T

FORM_FIELD = "form_token"
HEADER = "Idempotency-Key"
FORM_TOKEN = re.compile(r"^[A-Za-z0-9_:-]{16,100}$")
API_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")   # visible ASCII, as the header allows


class IdempotencyKey(db.Model):
    """A one-time form token or an API idempotency key that has been used, with the API's answer."""
    __tablename__ = "idempotency_key"
    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(4), nullable=False)   # "form" or "api"
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    key = db.Column(db.String(255), nullable=False)
    request_hash = db.Column(db.String(64))           # API: method, path and body of the first request
    status_code = db.Column(db.Integer)               # API: the answer given, replayed to repeats
    response_body = db.Column(db.Text)
    location = db.Column(db.String(500))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    __table_args__ = (UniqueConstraint("kind", "user_id", "key"),
                      db.CheckConstraint("kind IN ('form','api')", name="kind_known"))


class AlreadyDone(DomainError):
    status, code, title = 409, "already_done", T("Already done")


class StaleForm(DomainError):
    status, code, title = 400, "stale_form", T("Reload the page")


class KeyReused(DomainError):
    status, code = 422, "idempotency_key_reused"


ALREADY_DONE = T("Already done: this form was sent before and its change was made once; sending it again "
                 "changes nothing. Reload the page to see where things stand.")
STALE_FORM = T("This form is out of date. Reload the page and fill it in again.")


def new_form_token() -> str:
    return secrets.token_urlsafe(18)


def form_token_field() -> Markup:
    """The hidden one-time token of a money form (a new one at each rendering)."""
    return Markup('<input type="hidden" name="%s" value="%s">') % (FORM_FIELD, new_form_token())


def _claim(kind: str, user_id: int, key: str, request_hash: str | None = None) -> int | None:
    """Insert the key in the current transaction: its row id, or None when it is already used."""
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (insert(IdempotencyKey)
            .values(kind=kind, user_id=user_id, key=key, request_hash=request_hash, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["kind", "user_id", "key"])
            .returning(IdempotencyKey.id))
    return db.session.execute(stmt).scalar()


def claim_form_token(user, token: str | None = None) -> None:
    """Spend the form's one-time token (``request.form["form_token"]`` unless given) in the current
    transaction. Raises StaleForm when it is missing, AlreadyDone when it was spent before."""
    token = (request.form.get(FORM_FIELD) if token is None else token) or ""
    if not FORM_TOKEN.match(token):
        raise StaleForm(STALE_FORM, FORM_FIELD)
    if _claim("form", user.id, token) is None:
        raise AlreadyDone(ALREADY_DONE)


# -- the API -----------------------------------------------------------------------------------

def commit() -> None:
    """Commit the view's work, or only flush it when an idempotent request will commit it together
    with the answer it stores."""
    if g.get("_idempotency_deferred"):
        db.session.flush()
    else:
        db.session.commit()


def _request_hash() -> str:
    digest = hashlib.sha256(f"{request.method} {request.full_path.rstrip('?')}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _api_key() -> str | None:
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':   # the draft standard sends it as a quoted string
        key = key[1:-1]
    if not API_KEY.match(key):
        from .errors import InvalidInput
        raise InvalidInput(f"{HEADER} must be 1 to 255 visible ASCII characters.", HEADER)
    return key


def _replay(key: str, request_hash: str):
    row = db.session.scalar(select(IdempotencyKey).where(
        IdempotencyKey.kind == "api", IdempotencyKey.user_id == current_user.id, IdempotencyKey.key == key))
    db.session.rollback()   # nothing to write
    if row is None or row.status_code is None:   # cannot happen: the claim and its answer commit together
        raise AlreadyDone(f"A request with this {HEADER} is being handled; send it again in a moment.")
    if row.request_hash != request_hash:
        raise KeyReused(f"This {HEADER} was used for a different request (another address or body). Use a new "
                        "key for a new request.", HEADER)
    resp = current_app.response_class(row.response_body, row.status_code, mimetype="application/json")
    resp.headers["Idempotent-Replayed"] = "true"
    if row.location:
        resp.headers["Location"] = row.location
    return resp


def idempotent(view):
    """Honour an optional ``Idempotency-Key`` on an API view that commits through :func:`commit`."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        key = _api_key()
        if key is None:
            return view(*args, **kwargs)
        request_hash = _request_hash()
        claimed = _claim("api", current_user.id, key, request_hash)
        if claimed is None:
            return _replay(key, request_hash)
        g._idempotency_deferred = True
        try:
            resp = current_app.make_response(view(*args, **kwargs))
        finally:
            g._idempotency_deferred = False
        if 200 <= resp.status_code < 300:
            db.session.execute(update(IdempotencyKey).where(IdempotencyKey.id == claimed).values(
                status_code=resp.status_code, response_body=resp.get_data(as_text=True),
                location=resp.headers.get("Location")))
            db.session.commit()
        else:
            db.session.rollback()   # a refusal answered without raising: the key stays free
        return resp
    wrapper.idempotent = True   # copied onto outer decorators by functools.wraps; the OpenAPI test reads it
    return wrapper
