"""Fill the Chinese catalogue from translation parts (``scripts/i18n parts``).

Work split between several people (or branches) translates into its own file,
``app/translations/zh_Hans/parts/<name>.po``, so that no two of them edit ``messages.po`` at once.
This fills each untranslated entry of ``messages.po`` from the parts, and prints the part entries
that disagree with each other or that the catalogue no longer has. Once merged, the parts go.

Usage: i18n_parts.py TRANSLATIONS_DIR LANGUAGE
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po


def _filled(string) -> bool:
    return all(string) if isinstance(string, (tuple, list)) else bool(string)


def merge(directory: Path, language: str) -> list[str]:
    po = directory / language / "LC_MESSAGES" / "messages.po"
    catalog = read_po(po.open("rb"), locale=language)
    found, notes = {}, []
    for part in sorted((directory / language / "parts").glob("*.po")):
        for message in read_po(part.open("rb"), locale=language):
            if not message.id or not _filled(message.string):
                continue
            if message.id in found and found[message.id][0] != message.string:
                notes.append(f"{part.name}: {message.id!r} is {message.string!r} here, "
                             f"{found[message.id][0]!r} in {found[message.id][1]} (kept)")
                continue
            found.setdefault(message.id, (message.string, part.name))
    for msgid, (string, part) in found.items():
        entry = catalog.get(msgid)
        if entry is None:
            notes.append(f"{part}: not in the catalogue (gone from the code?): {msgid!r}")
        elif not _filled(entry.string) or entry.fuzzy:
            entry.string = string
            entry.flags.discard("fuzzy")
    with po.open("wb") as out:
        write_po(out, catalog, width=116, omit_header=False, sort_output=True, include_previous=False)
    return notes


if __name__ == "__main__":
    for line in merge(Path(sys.argv[1]), sys.argv[2]):
        print(line)
