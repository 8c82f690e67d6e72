"""English left on a page shown in Chinese: what the zh_Hans crawl (test_zh_pages.py) looks for.

A page's text is every text node (with the page title) and the attributes a person reads or hears
(title, aria-label, placeholder, alt, a submit input's value), leaving out what shows stored data as it
is: form fields' values, textareas, ``<code>``/``<pre>``/``<kbd>``/``<samp>`` and anything marked
``translate="no"``. A piece is left over when it is a message id of the catalogue (wrapped but not
translated), or when it has an English word (three letters or more, not all capitals) that no
stored value of the database has (a string never wrapped at all).
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po
from lxml import html
from sqlalchemy import String, Text, select

POT = Path(__file__).resolve().parents[2] / "app" / "translations" / "messages.pot"
CHINESE = POT.parent / "zh_Hans" / "LC_MESSAGES" / "messages.po"
SKIPPED = {"script", "style", "textarea", "code", "pre", "kbd", "samp"}
READ_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
WORD = re.compile(r"[A-Za-z][a-z]{2,}")   # capitalised or lower-case; acronyms (EUR, PDF, ERP) pass
# Words that are names, not English: products, formats and protocols a Chinese interface writes as they are.
NAMES = {"Excel", "Alma", "Aleph", "Koha", "Chromium", "Schemathesis", "OpenAPI", "Noto", "Babel", "Unit",
         "Agresso", "Oracle", "PeopleSoft", "Workday", "Banner", "Other", "Bearer", "Idempotency", "Key", "Match",
         "Content", "Type", "Location", "Retry", "After", "Accept", "Language", "English", "Alembic", "Json",
         "Html", "Sftp", "Ftp", "Http", "Https", "Xslt", "Edifact", "Ean", "San", "Isbn", "Issn", "Utc",
         "Gmt", "Iso", "Ascii", "Utf", "Csv", "Xlsx", "Xls", "Xml", "Pdf", "Ssh", "Api", "Url", "Cron", "Web", "Png",
         "Jpeg", "Gif", "Tiff", "Ods", "Txt"}


@lru_cache(maxsize=1)
def message_ids() -> frozenset[str]:
    """The catalogue's English texts that Chinese writes otherwise ("Excel (.xlsx)" stays as it is)."""
    with POT.open("rb") as f:
        catalog = read_po(f)
    with CHINESE.open("rb") as f:
        chinese = {m.id: m.string for m in read_po(f, locale="zh_Hans") if m.id}
    ids = set()
    for m in catalog:
        if chinese.get(m.id) == m.id:
            continue
        for text in (m.id if isinstance(m.id, tuple) else (m.id,)):
            if text and WORD.search(text) and "%" not in text:
                ids.add(" ".join(text.split()))
    return frozenset(ids)


# Columns holding the English of a sentence the pages show translated (its Text beside it): not data.
SENTENCES = {("job_event", "message"), ("job_run", "message"), ("notification", "title"), ("notification", "body"),
             ("edi_message", "reason")}


def data_words(session, metadata) -> set[str]:
    """Every stored text value (names, codes, titles, notes) and, lower-cased, each of its words: data,
    not interface (a ledger named "General" is not the msgid "General")."""
    words: set[str] = set()
    for table in metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (String, Text))
                   and (table.name, c.name) not in SENTENCES]
        for column in columns:
            for (value,) in session.execute(select(column).distinct().limit(2000)):
                if value:
                    words.add(" ".join(str(value).split()))
                    words.update(w.lower() for w in WORD.findall(str(value)))
    return words


def pieces(page: str) -> list[str]:
    """The texts of ``page`` a person reads, one per text node or attribute, whitespace folded."""
    doc = html.fromstring(page)
    found = []

    def skipped(el) -> bool:
        return any(a.tag in SKIPPED or a.get("translate") == "no" for a in el.iterancestors()) or \
            el.tag in SKIPPED or el.get("translate") == "no"

    for el in doc.iter():
        if not isinstance(el.tag, str) or skipped(el):
            continue
        for text in (el.text,) + tuple(child.tail for child in el if not skipped(el)):
            if text and text.strip():
                found.append(" ".join(text.split()))
        for name in READ_ATTRIBUTES:
            if el.get(name):
                found.append(" ".join(el.get(name).split()))
        if el.tag == "input" and el.get("type") in ("submit", "button", "reset") and el.get("value"):
            found.append(" ".join(el.get("value").split()))
    return found


def english_left(page: str, known_data: set[str]) -> list[str]:
    ids = message_ids()
    left = []
    for piece in pieces(page):
        if piece in known_data:
            continue
        if piece in ids:
            left.append(piece)
            continue
        words = [w for w in WORD.findall(piece) if w.lower() not in known_data and w not in NAMES
                 and w.capitalize() not in NAMES]
        if words:
            left.append(piece)
    return sorted(set(left))
