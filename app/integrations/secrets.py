"""Connection secrets (passwords, private keys) encrypted at rest with Fernet.

The key comes from the instance configuration (``CONNECTION_SECRET_KEY``), or from
``instance/connection_key``, generated on first use with mode 0600. Secrets are never shown back
nor logged: pages only say whether one is set.
"""
from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

from ..text import T


class SecretUnreadable(Exception):
    pass


def _key() -> bytes:
    configured = current_app.config.get("CONNECTION_SECRET_KEY")
    if configured:
        return configured.encode() if isinstance(configured, str) else configured
    path = Path(current_app.instance_path) / "connection_key"
    if not path.exists():
        path.write_bytes(Fernet.generate_key())
        path.chmod(0o600)
    return path.read_bytes().strip()


def encrypt(plain: str) -> str:
    if not plain:
        return ""
    return Fernet(_key()).encrypt(plain.encode()).decode("ascii")


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return Fernet(_key()).decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        raise SecretUnreadable(T("The stored secret cannot be decrypted with this instance's key; "
                                 "enter the password or key again.")) from None
