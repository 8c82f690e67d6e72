"""Files the app keeps in a folder of its own under random names (the database keeps the name and
shows the person's own name for it): claim attachments, letters' PDFs and EDI files."""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from .errors import NotFound

_STORED_NAME = re.compile(r"[0-9a-f]{32}")


def store(folder: Path, content: bytes) -> str:
    """Write ``content`` to a new file in ``folder`` (made if need be); returns its stored name."""
    folder.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16)
    fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)
    return name


def stored(folder: Path, name: str | None, none: str, missing: str) -> Path:
    """The stored file ``name`` of ``folder``; NotFound(``none``) when ``name`` is not one of ours,
    NotFound(``missing``) when the file is gone."""
    if not name or not _STORED_NAME.fullmatch(name):
        raise NotFound(none)
    path = folder / name
    if not path.is_file():
        raise NotFound(missing)
    return path
