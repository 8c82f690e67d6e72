"""Fill the English catalogue (run by ``scripts/i18n update``): the texts are written in English, so each
entry's translation is its own text, and the English catalogue is complete like every other.

Usage: i18n_english.py MESSAGES.po
"""
from __future__ import annotations

import sys

from babel.messages.pofile import read_po, write_po

if __name__ == "__main__":
    path = sys.argv[1]
    with open(path, "rb") as f:
        catalog = read_po(f, locale="en")
    for message in catalog:
        if message.id:
            message.string = message.id
            message.flags.discard("fuzzy")
    with open(path, "wb") as out:
        write_po(out, catalog, width=116, sort_output=True, include_previous=False)
