"""A thin file transport over SFTP (paramiko), FTP (ftplib) or a local folder.

Every transport offers the same few operations on folders relative to the connection's base
directory: list, read, publish (upload under a temporary name, check the size, then rename onto
the final name) and rename. Every failure becomes a :class:`TransferError` whose message says
what went wrong in words an administrator can act on, and never contains a secret.
"""
from __future__ import annotations

import ftplib
import io
import os
import shutil
import socket
import stat as stat_mod
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

import paramiko
from flask import current_app

from ..clock import utcnow
from ..text import T
from . import allowed_hosts, secrets
from .paths import UnsafePath, clean_folder, is_safe_file_name, join

DEFAULT_TIMEOUT = 30  # seconds, for connecting and for every network read or write
PART_SUFFIX = ".part"


class TransferError(Exception):
    """A connection or transfer failed; nothing that depended on it may be treated as done.
    ``text``: the message as given (a :class:`~app.text.Text`: record it, to show it translated)."""

    @property
    def text(self):
        return self.args[0] if self.args else ""


@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int
    mtime: datetime | None = None


class Transport:
    """Operations every kind provides. ``folder`` is relative to the connection's base directory."""

    def list_files(self, folder: str) -> list[RemoteFile]:
        raise NotImplementedError

    def read(self, folder: str, name: str, max_bytes: int) -> bytes:
        raise NotImplementedError

    def stat(self, folder: str, name: str) -> RemoteFile | None:
        raise NotImplementedError

    def publish(self, folder: str, name: str, data: bytes | BinaryIO) -> None:
        """Upload ``data`` (bytes, or a binary file read from its start: a big file need not be in
        memory) as ``name`` so that no reader ever sees a partial file under ``name``."""
        raise NotImplementedError

    def rename(self, folder: str, old: str, new: str) -> None:
        raise NotImplementedError

    def ensure_folder(self, folder: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def holds(self, folder: str, name: str, data: bytes) -> bool:
        """The server holds ``data`` under ``name``, byte for byte."""
        found = self.stat(folder, name)
        if found is None or found.size != len(data):
            return False
        return self.read(folder, name, len(data) + 1) == data


def settled(files: list[RemoteFile], min_age_seconds: float, now: datetime | None = None
            ) -> tuple[list[RemoteFile], list[RemoteFile]]:
    """(files last written at least ``min_age_seconds`` ago, files written more recently — perhaps
    still being uploaded: leave them for the next run). Files without a time count as settled."""
    now = now or utcnow(aware=True)
    ready, fresh = [], []
    for f in files:
        young = f.mtime is not None and (now - f.mtime).total_seconds() < min_age_seconds
        (fresh if young else ready).append(f)
    return ready, fresh


def _source(data) -> tuple[BinaryIO, int]:
    """(a binary file at its start, its size) of bytes or an open, seekable binary file."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return io.BytesIO(data), len(data)
    size = data.seek(0, os.SEEK_END)
    data.seek(0)
    return data, size


def _check_name(name: str) -> str:
    if not is_safe_file_name(name):
        raise TransferError(T("Refusing the unsafe file name %(name)s.", name=repr(name)))
    return name


def _too_big(name: str, size: int, max_bytes: int) -> TransferError:
    return TransferError(T("%(name)s is %(size)s bytes, more than the %(max)s bytes allowed.", name=name, size=f"{size:,}",
                           max=f"{max_bytes:,}"))


# -- local folder ----------------------------------------------------------------------------------

class LocalTransport(Transport):
    def __init__(self, root: str, base_dir: str):
        if not root or not os.path.isabs(root):
            raise TransferError(T("A local-folder connection needs an absolute root folder."))
        self.root = Path(os.path.realpath(root))
        self.base = self.root / base_dir if base_dir else self.root
        if not self.root.is_dir():
            raise TransferError(T("The folder %(folder)s does not exist on this server.", folder=str(self.root)))

    def _dir(self, folder: str) -> Path:
        path = Path(os.path.realpath(self.base / folder)) if folder else Path(os.path.realpath(self.base))
        if path != self.root and self.root not in path.parents:
            raise TransferError(T("The folder %(folder)s is outside the connection's root.", folder=repr(folder)))
        return path

    def _file(self, folder: str, name: str) -> Path:
        return self._dir(folder) / _check_name(name)

    def list_files(self, folder):
        d = self._dir(folder)
        if not d.is_dir():
            raise TransferError(T("The folder %(folder)s does not exist under %(base)s.", folder=folder or '/',
                                  base=str(self.base)))
        out = []
        for entry in os.scandir(d):
            if entry.is_file(follow_symlinks=False):
                st = entry.stat(follow_symlinks=False)
                out.append(RemoteFile(entry.name, st.st_size, datetime.fromtimestamp(st.st_mtime, timezone.utc)))
        return sorted(out, key=lambda f: f.name)

    def stat(self, folder, name):
        p = self._file(folder, name)
        if not p.is_file():
            return None
        st = p.stat()
        return RemoteFile(name, st.st_size, datetime.fromtimestamp(st.st_mtime, timezone.utc))

    def read(self, folder, name, max_bytes):
        p = self._file(folder, name)
        try:
            size = p.stat().st_size
            if size > max_bytes:
                raise _too_big(name, size, max_bytes)
            return p.read_bytes()
        except OSError as exc:
            raise TransferError(T("Cannot read %(name)s: %(error)s.", name=name, error=str(exc.strerror or exc))) from None

    def publish(self, folder, name, data):
        final = self._file(folder, name)
        part = final.with_name(name + PART_SUFFIX)
        src, size = _source(data)
        try:
            with open(part, "wb") as fh:
                shutil.copyfileobj(src, fh, 1024 * 1024)
                fh.flush()
                os.fsync(fh.fileno())
            if part.stat().st_size != size:
                raise TransferError(T("%(name)s: the written size differs from the file's size.", name=name))
            os.replace(part, final)
        except OSError as exc:
            raise TransferError(T("Cannot write %(name)s in %(folder)s: %(error)s.", name=name, folder=folder or '/',
                                  error=str(exc.strerror or exc))) from None

    def rename(self, folder, old, new):
        try:
            os.replace(self._file(folder, old), self._file(folder, new))
        except OSError as exc:
            raise TransferError(T("Cannot rename %(old)s to %(new)s: %(error)s.", old=old, new=new,
                                  error=str(exc.strerror or exc))) from None

    def ensure_folder(self, folder):
        try:
            self._dir(folder).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TransferError(T("Cannot create the folder %(folder)s: %(error)s.", folder=folder,
                                  error=str(exc.strerror or exc))) from None


class _RemoteTransport(Transport):
    """What SFTP and FTP share: paths under the base directory, renaming, creating folders, and
    failures in words."""
    base: str
    FAILURES: tuple[type[Exception], ...]   # what the protocol raises when an operation fails

    def _path(self, folder: str, name: str | None = None) -> str:
        path = join(self.base, folder)
        if name is not None:
            path = join(path, _check_name(name))
        return path

    def _answer(self, exc: Exception) -> str | None:
        """What the server answered, when ``exc`` is its refusal rather than a lost connection."""
        return None

    def _wrap(self, what: str, exc: Exception) -> TransferError:
        answer = self._answer(exc)
        if answer is not None:
            return TransferError(T("%(what)s: %(answer)s.", what=what, answer=answer))
        return TransferError(T("%(what)s: %(error)s (the connection may have dropped).", what=what,
                               error=str(exc or type(exc).__name__)))

    def _upload(self, path: str, data: bytes | BinaryIO, name: str) -> None:
        raise NotImplementedError

    def _rename(self, old_path: str, new_path: str) -> None:
        raise NotImplementedError

    def _make_folder(self, path: str) -> None:
        """Create ``path`` unless it exists (its parent does)."""
        raise NotImplementedError

    def publish(self, folder, name, data):
        final = self._path(folder, name)
        part = final + PART_SUFFIX
        try:
            self._upload(part, data, name)
            self._rename(part, final)
        except self.FAILURES as exc:
            raise self._wrap(T("Cannot upload %(name)s", name=name), exc) from None

    def rename(self, folder, old, new):
        try:
            self._rename(self._path(folder, old), self._path(folder, new))
        except self.FAILURES as exc:
            raise self._wrap(T("Cannot rename %(old)s to %(new)s", old=old, new=new), exc) from None

    def ensure_folder(self, folder):
        path = ""
        for seg in join(self.base, folder).split("/"):
            path = join(path, seg)
            self._make_folder(path)


# -- SFTP -------------------------------------------------------------------------------------------

def load_private_key(text: str) -> paramiko.PKey:
    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls.from_private_key(io.StringIO(text))
        except (paramiko.SSHException, ValueError, IndexError):
            continue
    raise TransferError(T("The private key cannot be read (OpenSSH or PEM, Ed25519, ECDSA or RSA, "
                          "without a passphrase)."))


def parse_host_key(line: str) -> paramiko.PKey:
    """A pinned host key as written by ``ssh-keyscan`` ("[host]:port ssh-ed25519 AAAA…") or just
    "ssh-ed25519 AAAA…"."""
    parts = (line or "").split()
    if len(parts) >= 3 and not parts[0].startswith(("ssh-", "ecdsa-")):
        parts = parts[1:]
    if len(parts) < 2:
        raise TransferError(T("The pinned host key must look like 'ssh-ed25519 AAAA…'."))
    try:
        return paramiko.PKey.from_type_string(parts[0], __import__("base64").b64decode(parts[1]))
    except Exception:
        raise TransferError(T("The pinned host key cannot be read; paste one line of ssh-keyscan's output.")) from None


class SFTPTransport(_RemoteTransport):
    FAILURES = (OSError, EOFError, paramiko.SSHException)

    def __init__(self, host, port, username, password, private_key, host_key, base_dir, timeout):
        self.base = base_dir
        self.client = paramiko.SSHClient()
        if not host_key:
            raise TransferError(T("No host key is pinned for this connection: paste the server's key "
                                  "(ssh-keyscan) before connecting."))
        key = parse_host_key(host_key)
        known = host if port == 22 else f"[{host}]:{port}"
        self.client.get_host_keys().add(known, key.get_name(), key)
        self.client.set_missing_host_key_policy(paramiko.RejectPolicy())
        pkey = load_private_key(private_key) if private_key else None
        where = f"{host}:{port}"
        try:
            self.client.connect(host, port=port, username=username, password=password or None, pkey=pkey,
                                look_for_keys=False, allow_agent=False, timeout=timeout,
                                banner_timeout=timeout, auth_timeout=timeout, channel_timeout=timeout)
            self.sftp = self.client.open_sftp()
            self.sftp.get_channel().settimeout(timeout)
        except paramiko.BadHostKeyException:
            self.client.close()
            raise TransferError(T("The server %(where)s presented a host key that differs from the pinned one; "
                                  "refusing to connect.", where=where)) from None
        except paramiko.AuthenticationException:
            self.client.close()
            raise TransferError(T("The server %(where)s refused the login of user %(user)s.", where=where,
                                  user=repr(username))) from None
        except paramiko.SSHException as exc:
            self.client.close()
            if "not found in known_hosts" in str(exc):
                raise TransferError(T("The server %(where)s presented a key of another type than the pinned "
                                      "one; refusing to connect.", where=where)) from None
            raise TransferError(T("SSH with %(where)s failed: %(error)s.", where=where, error=str(exc))) from None
        except (OSError, socket.timeout) as exc:
            self.client.close()
            raise TransferError(T("Cannot reach %(where)s: %(error)s.", where=where,
                                  error=str(getattr(exc, 'strerror', None) or exc))) from None

    def _answer(self, exc):
        return T("no such file or folder on the server") if isinstance(exc, FileNotFoundError) else None

    def list_files(self, folder):
        try:
            entries = self.sftp.listdir_attr(self._path(folder) or ".")
        except self.FAILURES as exc:
            raise self._wrap(T("Cannot list %(folder)s", folder=folder or '/'), exc) from None
        return sorted((RemoteFile(e.filename, e.st_size or 0,
                                  datetime.fromtimestamp(e.st_mtime, timezone.utc) if e.st_mtime else None)
                       for e in entries if e.st_mode is not None and stat_mod.S_ISREG(e.st_mode)),
                      key=lambda f: f.name)

    def stat(self, folder, name):
        try:
            st = self.sftp.stat(self._path(folder, name))
        except FileNotFoundError:
            return None
        except self.FAILURES as exc:
            raise self._wrap(T("Cannot look at %(name)s", name=name), exc) from None
        return RemoteFile(name, st.st_size or 0)

    def read(self, folder, name, max_bytes):
        path = self._path(folder, name)
        try:
            size = self.sftp.stat(path).st_size or 0
            if size > max_bytes:
                raise _too_big(name, size, max_bytes)
            buf = io.BytesIO()
            self.sftp.getfo(path, buf)
            return buf.getvalue()
        except TransferError:
            raise
        except self.FAILURES as exc:
            raise self._wrap(T("Cannot download %(name)s", name=name), exc) from None

    def _upload(self, path, data, name):
        src, size = _source(data)
        self.sftp.putfo(src, path, file_size=size, confirm=True)

    def _rename(self, old_path, new_path):
        self.sftp.posix_rename(old_path, new_path)

    def _make_folder(self, path):
        try:
            self.sftp.stat(path)
        except FileNotFoundError:
            try:
                self.sftp.mkdir(path)
            except (OSError, paramiko.SSHException) as exc:
                raise self._wrap(T("Cannot create the folder %(folder)s", folder=path), exc) from None
        except self.FAILURES as exc:
            raise self._wrap(T("Cannot look at the folder %(folder)s", folder=path), exc) from None

    def close(self):
        try:
            self.sftp.close()
        finally:
            self.client.close()


# -- FTP --------------------------------------------------------------------------------------------

class FTPTransport(_RemoteTransport):
    FAILURES = (OSError, EOFError, ftplib.Error)

    def __init__(self, host, port, username, password, base_dir, timeout):
        self.base = base_dir
        where = f"{host}:{port}"
        self.ftp = ftplib.FTP(timeout=timeout)
        try:
            self.ftp.connect(host, port)
            self.ftp.login(username or "anonymous", password or "")
        except ftplib.error_perm as exc:
            self.ftp.close()
            raise TransferError(T("The server %(where)s refused the login of user %(user)s: %(error)s.", where=where,
                                  user=repr(username), error=str(exc))) from None
        except (OSError, EOFError, ftplib.Error) as exc:
            self.ftp.close()
            raise TransferError(T("Cannot reach %(where)s: %(error)s.", where=where,
                                  error=str(getattr(exc, 'strerror', None) or exc))) from None

    def _answer(self, exc):
        return T("the server answered %(answer)s", answer=str(exc)) if isinstance(exc, ftplib.error_perm) else None

    def list_files(self, folder):
        try:
            entries = list(self.ftp.mlsd(self._path(folder) or ".", facts=["type", "size", "modify"]))
        except self.FAILURES as exc:
            raise self._wrap(T("Cannot list %(folder)s", folder=folder or '/'), exc) from None
        out = []
        for name, facts in entries:
            if facts.get("type") == "file":
                modify = facts.get("modify")
                mtime = datetime.strptime(modify[:14], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc) \
                    if modify else None
                out.append(RemoteFile(name, int(facts.get("size", 0)), mtime))
        return sorted(out, key=lambda f: f.name)

    def stat(self, folder, name):
        try:
            self.ftp.voidcmd("TYPE I")
            size = self.ftp.size(self._path(folder, name))
        except ftplib.error_perm:
            return None
        except self.FAILURES as exc:
            raise self._wrap(T("Cannot look at %(name)s", name=name), exc) from None
        return RemoteFile(name, size or 0)

    def read(self, folder, name, max_bytes):
        found = self.stat(folder, name)
        if found is None:
            raise TransferError(T("Cannot download %(name)s: no such file on the server.", name=name))
        if found.size > max_bytes:
            raise _too_big(name, found.size, max_bytes)
        buf = io.BytesIO()
        try:
            self.ftp.retrbinary(f"RETR {self._path(folder, name)}", buf.write)
        except self.FAILURES as exc:
            raise self._wrap(T("Cannot download %(name)s", name=name), exc) from None
        return buf.getvalue()

    def _upload(self, path, data, name):
        src, size = _source(data)
        self.ftp.storbinary(f"STOR {path}", src)
        self.ftp.voidcmd("TYPE I")
        if self.ftp.size(path) != size:
            raise TransferError(T("Cannot upload %(name)s: the server holds a different size than was sent.", name=name))

    def _rename(self, old_path, new_path):
        self.ftp.rename(old_path, new_path)

    def _make_folder(self, path):
        try:
            self.ftp.mkd(path)
        except ftplib.error_perm:
            pass   # exists (or will fail visibly on the next operation)
        except self.FAILURES as exc:
            raise self._wrap(T("Cannot create the folder %(folder)s", folder=path), exc) from None

    def close(self):
        try:
            self.ftp.quit()
        except (OSError, EOFError, ftplib.Error):
            self.ftp.close()


# -- opening ---------------------------------------------------------------------------------------

def check_allowed(connection) -> None:
    """On an instance that is not production, only allowed connections may be used: their code in
    ERP_CONNECTION_ALLOWLIST or their server on the allowed servers' list (:mod:`.allowed_hosts`)."""
    refused = allowed_hosts.refusal(connection)
    if refused:
        raise TransferError(refused)


def transport_settings(connection, timeout: float | None = None) -> dict:
    """What it takes to open ``connection``, secrets decrypted: for :func:`from_settings`, here or
    in the upload process (which gets it over a pipe, never on a command line)."""
    check_allowed(connection)
    timeout = timeout or current_app.config.get("ERP_TIMEOUT", DEFAULT_TIMEOUT)
    try:
        base = clean_folder(connection.base_dir, "base sub-directory")
    except UnsafePath as exc:
        raise TransferError(exc.text) from None
    try:
        password = secrets.decrypt(connection.password_secret)
        key = secrets.decrypt(connection.private_key_secret)
    except secrets.SecretUnreadable as exc:
        raise TransferError(exc.args[0] if exc.args else str(exc)) from None
    return dict(kind=connection.kind, host=connection.host, port=connection.port, username=connection.username,
                password=password, private_key=key, host_key=connection.host_key, base=base,
                root_path=connection.root_path, timeout=timeout)


def from_settings(settings: dict) -> Transport:
    kind = settings["kind"]
    if kind == "local":
        return LocalTransport(settings["root_path"], settings["base"])
    if kind == "sftp":
        return SFTPTransport(settings["host"], settings["port"] or 22, settings["username"], settings["password"],
                             settings["private_key"], settings["host_key"], settings["base"], settings["timeout"])
    if kind == "ftp":
        return FTPTransport(settings["host"], settings["port"] or 21, settings["username"], settings["password"],
                            settings["base"], settings["timeout"])
    raise TransferError(T("Unknown connection type %(kind)s.", kind=repr(kind)))


def connect(connection, timeout: float | None = None) -> Transport:
    return from_settings(transport_settings(connection, timeout))


@contextmanager
def open_transport(connection, timeout: float | None = None):
    transport = connect(connection, timeout)
    try:
        yield transport
    finally:
        try:
            transport.close()
        except Exception:  # closing a dropped connection must not hide the real error
            pass


def check_connection(connection) -> str:
    """Connect, list the base folder and say what was found (raises TransferError)."""
    with open_transport(connection, timeout=10) as t:
        files = t.list_files("")
    return T("Connected to %(address)s; the base folder holds %(count)s file(s).", address=connection.address,
             count=len(files))
