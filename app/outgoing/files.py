"""The files of letters sent (PDFs, EDI interchanges), stored under ``LETTER_FOLDER`` (default
``<instance>/letters``) with random names; the database keeps the name."""
from __future__ import annotations

from pathlib import Path

from flask import current_app

from .. import storage


def folder() -> Path:
    configured = current_app.config.get("LETTER_FOLDER")
    return Path(configured) if configured else Path(current_app.instance_path) / "letters"


def store(content: bytes) -> str:
    """Write ``content`` to a new file; returns its stored name."""
    return storage.store(folder(), content)


def path(name: str | None) -> Path:
    """The stored file ``name``; NotFound when there is none or it is missing."""
    return storage.stored(folder(), name, "This message has no such file.", "The file is missing from the server.")


def read(name: str | None) -> bytes:
    return path(name).read_bytes()
