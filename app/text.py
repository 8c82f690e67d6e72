"""Translatable text for the code below the pages: the ledger, services, file formats and jobs.

``T("Fund %(code)s is closed.", code=fund.code)`` is a :class:`Text`: a ``str`` whose own value is
the English sentence (what the API, logs, JSON and comparisons see) and whose ``str()``, format and
HTML are the sentence in the language of the request, translated when shown, not when made. So a
module-level label (``STATUSES = {"closed": T("Closed")}``) follows each reader's language, and a
message stored with :meth:`Text.to_json` (a job's events) is shown later in the reader's language.

``Tn(singular, plural, n, **args)`` chooses the plural form; ``num`` is ``n`` in the sentence.
Figures are always parameters (``%(name)s``), never concatenated. ``scripts/i18n`` extracts both.

No Flask here (the ledger imports it): :func:`install` is handed the translating functions by
``app.i18n``; until then, and outside an application, a Text reads in English.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Iterable

from markupsafe import escape

_gettext: Callable[[str], str] = lambda s: s
_ngettext: Callable[[str, str, int], str] = lambda s, p, n: s if n == 1 else p
_language: Callable[[], str] = lambda: "en"


def install(gettext: Callable[[str], str], ngettext: Callable[[str, str, int], str],
            language: Callable[[], str]) -> None:
    """Use these to translate (they return the catalogue's text without substituting arguments),
    and ``language()`` to know the Babel locale being written in."""
    global _gettext, _ngettext, _language
    _gettext, _ngettext, _language = gettext, ngettext, language


def current_language() -> str:
    """The Babel locale texts and figures are written in now (``en`` outside an application)."""
    try:
        return _language() or "en"
    except RuntimeError:
        return "en"


def _shown(value: Any) -> Any:
    return str(value) if isinstance(value, Text) else value


class Text(str):
    """A sentence to translate when shown; the ``str`` value itself is the English sentence."""
    __slots__ = ("msgid", "plural", "n", "args")

    def __new__(cls, msgid: str, args: dict | None = None, plural: str | None = None, n: int | None = None):
        args = dict(args or {})
        if plural is not None:
            args.setdefault("num", n)
        english = (msgid if plural is None or n == 1 else plural)
        plain = {key: (value.english if isinstance(value, Text) else value) for key, value in args.items()}
        self = super().__new__(cls, english % plain if args else english)
        self.msgid, self.plural, self.n, self.args = msgid, plural, n, args
        return self

    def translated(self) -> str:
        try:
            text = _gettext(self.msgid) if self.plural is None else _ngettext(self.msgid, self.plural, self.n)
        except RuntimeError:   # outside an application: English
            return str.__str__(self)
        if not self.args:
            return text
        return text % {key: _shown(value) for key, value in self.args.items()}

    @property
    def english(self) -> str:
        return str.__str__(self)

    def __str__(self) -> str:
        return self.translated()

    def __format__(self, spec: str) -> str:
        return format(self.translated(), spec)

    def __html__(self) -> str:
        return str(escape(self.translated()))

    def __reduce__(self):
        return (Text, (self.msgid, self.args, self.plural, self.n))

    def to_json(self) -> dict:
        """What to store to show the sentence later in its reader's language (see :meth:`from_json`)."""
        stored = {"id": self.msgid, "args": {k: _json_value(v) for k, v in self.args.items()}}
        if self.plural is not None:
            stored.update(plural=self.plural, n=self.n)
        return stored

    @classmethod
    def from_json(cls, stored: dict | None, fallback: str = "") -> "str | Text":
        if not stored or "id" not in stored:
            return fallback
        args = {k: (cls.from_json(v) if isinstance(v, dict) else v) for k, v in (stored.get("args") or {}).items()}
        try:
            return cls(stored["id"], args, stored.get("plural"), stored.get("n"))
        except (KeyError, TypeError, ValueError):   # a sentence whose arguments changed since
            return fallback


def _json_value(value: Any) -> Any:
    if isinstance(value, Text):
        return value.to_json()
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return str(value)


def T(msgid: str, **args: Any) -> Text:
    """The sentence ``msgid`` with its ``%(name)s`` arguments, translated when shown."""
    return Text(msgid, args)


def Tn(singular: str, plural: str, n: int, **args: Any) -> Text:
    """The singular or plural sentence for ``n`` (``%(num)d`` is ``n``), translated when shown."""
    return Text(singular, args, plural, n)


def english(value: Any) -> Any:
    """What is stored of a label or sentence: a Text's English (its ``str()`` is the reader's
    language); any other value as it is."""
    return str.__str__(value) if isinstance(value, Text) else value


def stored(message: Any) -> dict | None:
    """The JSON to keep beside a stored message so it can be shown translated (None for plain text)."""
    return message.to_json() if isinstance(message, Text) else None


class StoredSentences:
    """Sentences the application stored in English (history notes and values, message reasons,
    review findings), shown in the reader's language: a fixed sentence (a :class:`Text`), or a
    pattern whose named groups are the arguments of its sentence. Anything else (what a person
    typed) is shown as stored. ``arguments(groups)`` may adjust the groups, or say None: no match."""

    def __init__(self, fixed: Iterable[Text] = (), patterns: Iterable[tuple[str, Text]] = (),
                 arguments: Callable[[dict], dict | None] | None = None):
        self.fixed = {text.english: text for text in fixed}
        self.patterns = [(re.compile(pattern), text) for pattern, text in patterns]
        self.arguments = arguments

    def shown(self, value: str):
        if not value:
            return value
        if value in self.fixed:
            return self.fixed[value]
        for pattern, text in self.patterns:
            found = pattern.fullmatch(value)
            if found:
                args = found.groupdict() if self.arguments is None else self.arguments(found.groupdict())
                if args is not None:
                    return Text(text.msgid, args, text.plural, text.n)
        return value
