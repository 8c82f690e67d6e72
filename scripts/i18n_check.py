"""Check the catalogues (run by ``scripts/i18n check``): every text the code asks to translate is in
the catalogue template, and every language (English too: its translations are the texts themselves)
translates every entry, none of them fuzzy. Prints what is missing and exits 1 when anything is.

Usage: i18n_check.py FRESH.pot TRANSLATIONS_DIR LANGUAGE...
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po


def _ids(catalog) -> set:
    return {m.id for m in catalog if m.id}


def problems(fresh_pot: Path, directory: Path, languages: list[str]) -> list[str]:
    fresh = _ids(read_po(fresh_pot.open("rb")))
    found = []
    committed = directory / "messages.pot"
    if not committed.exists() or _ids(read_po(committed.open("rb"))) != fresh:
        found.append(f"{committed} is not up to date with the code: run scripts/i18n update")
    for language in languages:
        po = directory / language / "LC_MESSAGES" / "messages.po"
        if not po.exists():
            found.append(f"{po} is missing: run scripts/i18n update")
            continue
        catalog = read_po(po.open("rb"), locale=language)
        entries = {m.id: m for m in catalog if m.id}
        for msgid in sorted(fresh, key=str):
            entry = entries.get(msgid)
            text = msgid if isinstance(msgid, str) else msgid[0]
            if entry is None:
                found.append(f"{language}: not in the catalogue: {text!r}")
            elif entry.fuzzy:
                found.append(f"{language}: fuzzy: {text!r}")
            elif not (all(entry.string) if isinstance(entry.string, (tuple, list)) else entry.string):
                found.append(f"{language}: untranslated: {text!r}")
    return found


if __name__ == "__main__":
    pot, directory, *languages = sys.argv[1:]
    missing = problems(Path(pot), Path(directory), languages)
    for line in missing:
        print(line)
    print(f"{len(missing)} problem(s)" if missing else "catalogues complete")
    sys.exit(1 if missing else 0)
