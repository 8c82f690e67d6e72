"""How long free text may be: notes, reasons, descriptions, messages. One limit, held in one place.

``refuse_long_text`` runs before every state-changing request (create_app registers it): a form
field or a string anywhere in a JSON body longer than ``MAX_TEXT_LENGTH`` characters is refused as
invalid input (400) naming the field, before any view or service sees it, so nothing is stored.
Fields with a shorter limit of their own (codes, names) keep theirs. Forms also give their free-text
fields ``free_text()`` so the browser stops at the limit, and the invoice service holds notes that
come from files to it with ``check_length``.
"""
from __future__ import annotations

from .errors import InvalidInput
from .text import T

MAX_TEXT_LENGTH = 10_000


def _refusal(name: str, length: int) -> InvalidInput:
    return InvalidInput(T('The field "%(name)s" is longer than %(limit)s characters (it has %(length)s). '
                          "Nothing was saved.", name=name, limit=f"{MAX_TEXT_LENGTH:,}", length=f"{length:,}"), name)


def check_length(value: str | None, name: str) -> str | None:
    """``value`` unchanged, or InvalidInput when it is longer than the limit."""
    if value is not None and len(value) > MAX_TEXT_LENGTH:
        raise _refusal(name, len(value))
    return value


def free_text():
    """The WTForms validator of a free-text field (also renders maxlength for the browser)."""
    from flask_babel import lazy_gettext
    from wtforms.validators import Length
    return Length(max=MAX_TEXT_LENGTH, message=lazy_gettext("At most %(limit)s characters.", limit=f"{MAX_TEXT_LENGTH:,}"))


def _long_strings(body):
    """(path, length) of each string in a JSON value longer than the limit, keys included. A loop
    with its own stack, not recursion: a body may nest as deep as the JSON decoder allows."""
    stack = [("", body)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if len(value) > MAX_TEXT_LENGTH:
                yield path or "body", len(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                if len(key) > MAX_TEXT_LENGTH:
                    yield path or "body", len(key)
                stack.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{n}]", item) for n, item in enumerate(value))


def refuse_long_text() -> None:
    """A before-request hook: refuse a request carrying text over the limit (InvalidInput, 400)."""
    from flask import request
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    for name, values in request.form.lists():
        for value in values:
            check_length(value, name)
    if request.is_json:
        try:
            body = request.get_json(silent=True)
        except RecursionError:   # too deep to decode: the API's own reading refuses it
            return
        for name, length in _long_strings(body):
            raise _refusal(name, length)
