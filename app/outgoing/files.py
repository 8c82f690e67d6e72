"""The files of letters sent (PDFs, EDI interchanges), stored under ``LETTER_FOLDER`` (default
``<instance>/letters``) with random names; the database keeps the name."""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from flask import current_app

from ..errors import NotFound

_STORED_NAME = re.compile(r"[0-9a-f]{32}")


def folder() -> Path:
    configured = current_app.config.get("LETTER_FOLDER")
    return Path(configured) if configured else Path(current_app.instance_path) / "letters"


def store(content: bytes) -> str:
    """Write ``content`` to a new file; returns its stored name."""
    target = folder()
    target.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16)
    fd = os.open(target / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)
    return name


def path(name: str | None) -> Path:
    """The stored file ``name``; NotFound when there is none or it is missing."""
    if not name or not _STORED_NAME.fullmatch(name):
        raise NotFound("This message has no such file.")
    found = folder() / name
    if not found.is_file():
        raise NotFound("The file is missing from the server.")
    return found


def read(name: str | None) -> bytes:
    return path(name).read_bytes()
