"""The interface's language: which one a request is answered in, and the list people choose from.

Order of choice: the user's own setting (``User.language``), else the browser's Accept-Language,
else the institution's default (``DEFAULT_LANGUAGE`` in the config). Catalogues live in
``app/translations/<language>/LC_MESSAGES/messages.po``; ``scripts/i18n`` extracts, updates,
compiles and checks them. The ``.mo`` files are never committed: the app compiles a catalogue
when it starts and finds its ``.mo`` missing or older than its ``.po`` (:func:`compile_catalogues`).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import current_app, has_request_context, request, session
from flask_babel import get_locale, get_translations
from flask_login import current_user

from . import text
from .extensions import babel

# Babel locale id → the name a person looks for, written in that language.
LANGUAGES = {"en": "English", "zh_Hans": "简体中文"}
# Accept-Language tags that mean each language (a browser in China sends zh-CN, one set to
# Simplified Chinese may send zh-Hans, zh-SG or plain zh).
_TAGS = {"en": "en", "en-US": "en", "en-GB": "en", "zh": "zh_Hans", "zh-Hans": "zh_Hans", "zh-CN": "zh_Hans",
         "zh-SG": "zh_Hans", "zh-Hans-CN": "zh_Hans"}


def default_language() -> str:
    default = current_app.config.get("DEFAULT_LANGUAGE", "en")
    return default if default in LANGUAGES else "en"


def select_locale() -> str:
    """The language of this request (a key of :data:`LANGUAGES`). The API (``/api/``) answers in
    English whatever the caller's language: its messages are read by programs and their authors.
    Outside a request (jobs, the CLI) it is the institution's default."""
    if not has_request_context():
        return default_language()
    if request.path.startswith("/api/"):
        return "en"
    chosen = getattr(current_user, "language", None) if current_user and current_user.is_authenticated else None
    if chosen in LANGUAGES:
        return chosen
    if session.get("language") in LANGUAGES:   # chosen on the login page, before signing in
        return session["language"]
    best = request.accept_languages.best_match(list(_TAGS))
    if best:
        return _TAGS[best]
    return default_language()


def current_language() -> str:
    """The Babel locale being written in: the request's, or a ``force_locale`` block's (a letter in
    its vendor's language); in a job, the institution's default; outside the app, English."""
    return str(get_locale() or "en")


def html_lang() -> str:
    """The current language as an HTML ``lang`` value (BCP 47: ``zh-Hans``, ``en``)."""
    return str(get_locale() or "en").replace("_", "-")


def compile_catalogues(directory: Path) -> None:
    """Compile each ``messages.po`` under ``directory`` whose ``.mo`` is missing or older; the new
    file replaces the old one whole (several processes may start at once)."""
    for po in directory.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name)
        fd, tmp = tempfile.mkstemp(dir=po.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog)
        os.replace(tmp, mo)


def init_app(app) -> None:
    compile_catalogues(Path(app.root_path) / "translations")
    babel.init_app(app, locale_selector=select_locale)
    # Not flask_babel's gettext/ngettext: they substitute arguments themselves (ngettext only num),
    # and a Text substitutes its own.
    text.install(lambda s: get_translations().ugettext(s),
                 lambda s, p, n: get_translations().ungettext(s, p, n), current_language)
    app.jinja_env.globals.update(html_lang=html_lang, languages=LANGUAGES)
