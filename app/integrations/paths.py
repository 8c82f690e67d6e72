"""Path safety for configured folders and for file names read from a remote listing.

Configured folders are relative POSIX paths of plain segments; remote names are untrusted and
must be a single plain file name. Both checks refuse rather than repair.
"""
from __future__ import annotations

import re
import unicodedata

from ..text import T

_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\- ]*$")
MAX_PATH = 200
TEMP_SUFFIXES = (".part", ".tmp", ".filepart", ".handled", ".rejected")


class UnsafePath(ValueError):
    """``text``: the message as given (a :class:`~app.text.Text`, shown translated)."""

    @property
    def text(self):
        return self.args[0] if self.args else ""


# What a folder is called in the messages (the callers name it in English).
WHAT = {"path": T("path"), "folder": T("folder"), "base sub-directory": T("base sub-directory"),
        "orders folder": T("orders folder")}


def clean_folder(value: str, what: str = "path", allow_empty: bool = True) -> str:
    """A relative folder such as ``erp/out``: segments of letters, digits, ``_ . -``; no ``..``,
    no absolute path, no backslash, no empty segment; at most 200 characters."""
    value = (value or "").strip()
    what = WHAT.get(what, what)
    if not value:
        if allow_empty:
            return ""
        raise UnsafePath(T("Enter the %(what)s.", what=what))
    if len(value) > MAX_PATH:
        raise UnsafePath(T("The %(what)s is longer than %(max)s characters.", what=what, max=MAX_PATH))
    if unicodedata.normalize("NFKC", value) != value or not value.isascii():
        raise UnsafePath(T("The %(what)s may use only plain letters, digits, '_', '-', '.' and '/'.", what=what))
    if value.startswith("/") or "\\" in value or "\x00" in value:
        raise UnsafePath(T("The %(what)s must be relative (no leading '/', no '\\').", what=what))
    value = value.rstrip("/")
    segments = value.split("/")
    for seg in segments:
        if seg in ("", ".", ".."):
            raise UnsafePath(T("The %(what)s may not contain '..', '.' or empty parts.", what=what))
        if not _SEGMENT.match(seg):
            raise UnsafePath(T("The %(what)s may use only plain letters, digits, '_', '-', '.' and '/' "
                               "('%(segment)s' is not allowed).", what=what, segment=seg))
    return "/".join(segments)


def join(*parts: str) -> str:
    return "/".join(p for p in parts if p)


def is_safe_file_name(name: str) -> bool:
    """A plain name from a remote listing: no separators, control characters, leading dot or ``..``."""
    if not name or len(name) > 255 or name != name.strip():
        return False
    if any(ord(c) < 32 or c in "/\\" for c in name) or ".." in name:
        return False
    return bool(_FILE_NAME.match(name)) and name.isascii()


def is_candidate(name: str, suffixes: tuple[str, ...]) -> bool:
    """A safe name ending in one of ``suffixes`` and not a temporary or already handled file."""
    lower = name.lower()
    return is_safe_file_name(name) and lower.endswith(suffixes) and not lower.endswith(TEMP_SUFFIXES)
