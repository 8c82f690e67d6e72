"""Backup archives: write one, check one, restore one, prune old ones.

An archive ``acq-backup-YYYYMMDD-HHMMSS.tar.gz`` (mode 0600: it holds the keys) contains

- ``database/acq.sqlite3`` or ``database/acq.pgdump``: the consistent copy (see :mod:`.database`);
- ``instance/secret_key``, ``instance/connection_key``, ``instance/config.py`` when they exist;
- ``attachments/…``: the files under ``ATTACHMENT_FOLDER``, listed after the database was copied,
  so every attachment the copy refers to is there (they are written once and never changed);
- ``manifest.json``: format, code and schema revision, database kind, time, and the sha256 and
  size of every file above, plus the row count of every table in the copy;
- ``SHA256SUMS``: the same sums and the manifest's own, readable by ``sha256sum -c``.

Beside it, ``<archive>.sha256`` holds the sum of the whole archive. A restore reads the archive
once into a staging folder, checking every sum; anything wrong and nothing is restored.
"""
from __future__ import annotations

import fcntl
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import socket
import tarfile
import tempfile
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from flask import current_app

from ..clock import utcnow
from ..extensions import db
from . import BackupError
from . import database
from ..text import T

FORMAT = 1
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
PREFIX = "acq-backup-"
NAME_RE = re.compile(r"^acq-backup-(\d{8}-\d{6})(?:_(\d+))?\.tar\.gz$")   # _N: a second one that second
INSTANCE_FILES = ("secret_key", "connection_key", "config.py")
MEMBER_RE = re.compile(r"^(database/acq\.(sqlite3|pgdump)|instance/(secret_key|connection_key|config\.py)"
                       r"|attachments/[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*|manifest\.json|SHA256SUMS)$")
CHUNK = 1024 * 1024
MAX_MANIFEST = 64 * 1024 * 1024
LEFTOVER_AGE_SECONDS = 24 * 3600


def backup_folder() -> Path:
    configured = current_app.config.get("BACKUP_FOLDER")
    return Path(configured) if configured else Path(current_app.instance_path) / "backups"


def attachments_folder() -> Path:
    from ..orders.communications import attachments_folder as folder
    return folder()


def _sha256_file(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


class _Hashing(io.RawIOBase):
    """Passes reads or writes through to ``raw``, hashing and counting the bytes."""

    def __init__(self, raw):
        self.raw, self.digest, self.size = raw, hashlib.sha256(), 0

    def readable(self):
        return True

    def writable(self):
        return True

    def read(self, n=-1):
        data = self.raw.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def write(self, data):
        self.digest.update(data)
        self.size += len(data)
        return self.raw.write(data)


# -- writing -----------------------------------------------------------------------------------------

@dataclass
class BackupResult:
    path: Path
    manifest: dict
    size: int
    removed: list[Path] = field(default_factory=list)

    @property
    def files(self) -> dict:
        return self.manifest["files"]


@contextmanager
def backup_lock():
    """One backup at a time per instance (``instance/backup.lock``); BackupError when one runs."""
    path = Path(current_app.instance_path) / "backup.lock"
    handle = open(path, "a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise BackupError(T("Another backup of this instance is running; this one was not started.")) from None
    try:
        yield
    finally:
        handle.close()


def _archive_name(folder: Path, now: datetime) -> str:
    stem = PREFIX + now.strftime("%Y%m%d-%H%M%S")
    name, n = f"{stem}.tar.gz", 1
    while (folder / name).exists():
        name, n = f"{stem}_{n}.tar.gz", n + 1
    return name


def _instance_files() -> list[tuple[str, Path]]:
    instance = Path(current_app.instance_path)
    files = [(f"instance/{name}", instance / name) for name in INSTANCE_FILES if (instance / name).is_file()]
    root = attachments_folder()
    if root.is_dir():
        for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
            member = "attachments/" + path.relative_to(root).as_posix()
            if MEMBER_RE.match(member):
                files.append((member, path))
    return files


def _code_head() -> str | None:
    from alembic.script import ScriptDirectory
    config = current_app.extensions["migrate"].migrate.get_config()
    heads = ScriptDirectory.from_config(config).get_heads()
    return heads[0] if len(heads) == 1 else ",".join(sorted(heads)) or None


def _tarinfo(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(mtime), 0o600
    return info


def create_backup(folder: Path | None = None, keep: int | None = None,
                  note: Callable[[str], None] = lambda _text: None,
                  on_copied: Callable[[database.Snapshot], int | None] = lambda _snap: None) -> BackupResult:
    """Write a new archive into ``folder`` (default ``BACKUP_FOLDER``); with ``keep``, then remove
    all but the newest ``keep`` archives there. The caller holds :func:`backup_lock`.
    ``on_copied(snapshot)`` is called once the database is copied and may return the id of the
    run recording this backup (a row the copy does not hold): the copy never waits for a write."""
    folder = Path(folder) if folder else backup_folder()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for leftover in folder.glob(f".{PREFIX}*"):   # from a backup that died part-way
        if time.time() - leftover.stat().st_mtime > LEFTOVER_AGE_SECONDS:   # not another server's, going on
            shutil.rmtree(leftover, ignore_errors=True) if leftover.is_dir() else leftover.unlink(missing_ok=True)
    now = utcnow(aware=True)
    name = _archive_name(folder, now)
    staging = Path(tempfile.mkdtemp(prefix=f".{PREFIX}", dir=folder))
    partial = folder / f".{name}.part"
    try:
        snap = database.dump(db.engine, staging, current_app.config.get("SQLITE_BUSY_TIMEOUT_MS", 15000))
        note(T("Database copied (%(kind)s, %(tables)s tables, %(rows)s rows).", kind=snap.kind,
               tables=len(snap.row_counts), rows=sum(snap.row_counts.values())))
        run_id = on_copied(snap)
        sources = [(snap.member, snap.path)] + _instance_files()
        files: dict[str, dict] = {}
        with open(partial, "xb") as raw:
            os.fchmod(raw.fileno(), 0o600)
            out = _Hashing(raw)
            with tarfile.open(fileobj=out, mode="w:gz", compresslevel=6) as tar:
                for member, path in sources:
                    with open(path, "rb") as fh:
                        stat = os.fstat(fh.fileno())
                        reader = _Hashing(fh)
                        tar.addfile(_tarinfo(member, stat.st_size, stat.st_mtime), reader)
                    files[member] = {"sha256": reader.digest.hexdigest(), "size": reader.size}
                manifest = {
                    "format": FORMAT, "application": "acquisitions",
                    "created_at": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
                    "host": socket.gethostname(), "run_id": run_id,
                    "code_revision": _code_head(), "schema_revision": snap.revision,
                    "database": {"kind": snap.kind, "member": snap.member, "server_version": snap.server_version},
                    "row_counts": snap.row_counts, "files": files,
                }
                body = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"
                sums = {**{m: f["sha256"] for m, f in files.items()}, MANIFEST: hashlib.sha256(body).hexdigest()}
                sums_body = "".join(f"{digest}  {member}\n" for member, digest in sums.items()).encode()
                for member, data in ((MANIFEST, body), (SUMS, sums_body)):
                    tar.addfile(_tarinfo(member, len(data), now.timestamp()), io.BytesIO(data))
            raw.flush()
            os.fsync(raw.fileno())
        final = folder / name
        os.replace(partial, final)
        sidecar = folder / f"{name}.sha256"
        sidecar.write_text(f"{out.digest.hexdigest()}  {name}\n")
        sidecar.chmod(0o600)
        database._fsync_dir(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        partial.unlink(missing_ok=True)
    note(T("Archive %(name)s written: %(files)s file(s), %(size)s bytes.", name=final.name, files=len(files),
           size=f"{out.size:,}"))
    removed = prune(folder, keep) if keep else []
    for path in removed:
        note(T("Removed the older archive %(name)s.", name=path.name))
    return BackupResult(final, manifest, out.size, removed)


def archives(folder: Path) -> list[Path]:
    """The backup archives in ``folder``, oldest first."""
    found = []
    for path in folder.iterdir() if folder.is_dir() else ():
        match = NAME_RE.match(path.name)
        if match and path.is_file():
            found.append(((match.group(1), int(match.group(2) or 0)), path))
    return [path for _key, path in sorted(found)]


def prune(folder: Path, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` archives (with their .sha256 files); returns the removed."""
    if keep < 1:
        raise BackupError("--keep must be at least 1.")
    old = archives(folder)[:-keep]
    for path in old:
        path.unlink(missing_ok=True)
        path.with_name(path.name + ".sha256").unlink(missing_ok=True)
    return old


# -- reading -----------------------------------------------------------------------------------------

def _safe_member(member: tarfile.TarInfo) -> str:
    name = member.name
    if not member.isfile() or not MEMBER_RE.match(name) or ".." in name.split("/"):
        raise BackupError(f"The archive holds {name!r}, which is not part of a backup of this application: "
                          "nothing was restored.")
    return name


def extract_and_verify(archive: Path, staging: Path) -> dict:
    """Read ``archive`` once into ``staging``, checking the gzip stream, the archive's .sha256
    file (when present), ``SHA256SUMS`` and every file against the manifest. Returns the manifest;
    raises BackupError naming every problem found."""
    label = archive.name
    digests: dict[str, tuple[str, int]] = {}
    raw_hash = None
    try:
        with open(archive, "rb") as raw:
            counted = _Hashing(raw)
            with gzip.GzipFile(fileobj=counted, mode="rb") as unzipped:
                with tarfile.open(fileobj=unzipped, mode="r|") as tar:
                    for member in tar:
                        name = _safe_member(member)
                        if name in digests:
                            raise BackupError(f"{label} holds {name} twice: nothing was restored.")
                        if name == MANIFEST and member.size > MAX_MANIFEST:
                            raise BackupError(f"The manifest of {label} is implausibly large: nothing was restored.")
                        target = staging / name
                        target.parent.mkdir(parents=True, exist_ok=True)
                        source = tar.extractfile(member)
                        digest, size = hashlib.sha256(), 0
                        with open(target, "xb") as out:
                            os.fchmod(out.fileno(), 0o600)
                            for chunk in iter(lambda: source.read(CHUNK), b""):
                                digest.update(chunk)
                                size += len(chunk)
                                out.write(chunk)
                        digests[name] = (digest.hexdigest(), size)
                # The gzip trailer (CRC and length of the whole stream) is checked only at its end.
                while unzipped.read(CHUNK):
                    pass
            while counted.read(CHUNK):
                pass
            raw_hash = counted.digest.hexdigest()
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise BackupError(f"{label} is damaged or truncated ({exc}): nothing was restored.") from None
    except OSError as exc:
        raise BackupError(f"{label} could not be read or unpacked ({exc}): nothing was restored.") from None
    return _check(archive, staging, digests, raw_hash)


def _check(archive: Path, staging: Path, digests: dict, raw_hash: str) -> dict:
    label = archive.name
    problems = []
    sidecar = archive.with_name(archive.name + ".sha256")
    if sidecar.is_file():
        expected = sidecar.read_text().split()[:1]
        if expected != [raw_hash]:
            problems.append(f"the archive's sha256 differs from {sidecar.name}")
    if MANIFEST not in digests:
        raise BackupError(f"{label} has no {MANIFEST}: it is not a complete backup of this application; "
                          "nothing was restored.")
    try:
        manifest = json.loads((staging / MANIFEST).read_text())
        files = manifest["files"]
        if not (isinstance(files, dict) and isinstance(manifest["row_counts"], dict)
                and manifest["database"]["kind"] in ("sqlite", "postgresql")):
            raise ValueError("its files, row counts or database kind are missing")
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"The manifest of {label} is unreadable ({exc}): nothing was restored.") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{label} has backup format {manifest.get('format')!r}; this version reads format "
                          f"{FORMAT}: nothing was restored.")
    sums = {}
    if SUMS in digests:
        for line in (staging / SUMS).read_text().splitlines():
            digest, _sep, member = line.partition("  ")
            sums[member] = digest
        if sums.get(MANIFEST) != digests[MANIFEST][0]:
            problems.append(f"{MANIFEST}: its sha256 differs from the one in {SUMS}")
    else:
        problems.append(f"{SUMS} is missing")
    for member, expected in sorted(files.items()):
        if member not in digests:
            problems.append(f"{member}: listed in the manifest but missing from the archive")
            continue
        digest, size = digests[member]
        if size != expected.get("size"):
            problems.append(f"{member}: {size} bytes, the manifest says {expected.get('size')}")
        if digest != expected.get("sha256"):
            problems.append(f"{member}: its sha256 differs from the manifest's")
        if sums and sums.get(member) != expected.get("sha256"):
            problems.append(f"{member}: {SUMS} and the manifest disagree on its sha256")
    for member in sorted(set(digests) - set(files) - {MANIFEST, SUMS}):
        problems.append(f"{member}: in the archive but not in the manifest")
    db_member = manifest["database"].get("member")
    if db_member not in files:
        problems.append("the manifest lists no database copy")
    if problems:
        raise BackupError(f"{label} failed its checks, nothing was restored: " + "; ".join(problems) + ".")
    return manifest


# -- restoring ---------------------------------------------------------------------------------------

@dataclass
class RestoreReport:
    manifest: dict
    database: str
    files: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)        # instance files of the target left as they were
    ledger_differences: list = field(default_factory=list)
    count_differences: list[str] = field(default_factory=list)
    tables: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.ledger_differences and not self.count_differences


def _write_file(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    incoming = target.with_name(f".{target.name}.restoring")
    shutil.move(str(source), incoming)
    incoming.chmod(0o600)
    os.replace(incoming, target)


def restore_archive(archive: Path) -> RestoreReport:
    """Restore ``archive`` into this (empty) instance: check it, load the database, put the
    instance files and attachments back, then run the ledger check and compare row counts."""
    archive = Path(archive)
    engine = db.engine
    target_kind = database.kind(engine)
    where = database.describe(engine)
    occupied = database.rows_present(engine)
    db.session.remove()
    if occupied:
        sample = ", ".join(f"{name} ({n})" for name, n in list(occupied.items())[:5])
        raise BackupError(f"The database {where} already holds data ({len(occupied)} tables with rows: {sample}). "
                          "A backup is restored only into an empty database: nothing was restored.")
    instance = Path(current_app.instance_path)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=instance))
    try:
        manifest = extract_and_verify(archive, staging)
        source_kind = manifest["database"]["kind"]
        if source_kind != target_kind:
            raise BackupError(f"{archive.name} holds a {source_kind} database; this instance is configured for "
                              f"{target_kind} ({where}): nothing was restored.")
        copy = staging / manifest["database"]["member"]
        if target_kind == "sqlite":
            database.restore_sqlite(engine, copy)
        else:
            database.restore_postgresql(engine, copy)
        report = RestoreReport(manifest, where)
        _restore_files(manifest, staging, instance, report)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _verify_restored(manifest, report)
    return report


def _restore_files(manifest: dict, staging: Path, instance: Path, report: RestoreReport) -> None:
    attachments = attachments_folder()
    for member in sorted(manifest["files"]):
        source = staging / member
        if member.startswith("attachments/"):
            _write_file(source, attachments / member.split("/", 1)[1])
            report.files.append(member)
        elif member == "instance/config.py" and (instance / "config.py").exists() \
                and _sha256_file(instance / "config.py") != manifest["files"][member]["sha256"]:
            # This server's own settings (its database address, for one) win; the old ones are kept beside.
            _write_file(source, instance / "config.py.from-backup")
            report.kept.append("instance/config.py")
        elif member.startswith("instance/"):
            _write_file(source, instance / member.split("/", 1)[1])
            report.files.append(member)


def _verify_restored(manifest: dict, report: RestoreReport) -> None:
    from ..funds.services import check_ledger
    with db.engine.connect() as conn:
        counts = database.table_counts(conn)
        restored_revision = database.revision(conn)
    expected = manifest["row_counts"]
    report.tables = len(expected)
    for table in sorted(set(expected) | set(counts)):
        if expected.get(table) != counts.get(table):
            report.count_differences.append(
                f"table {table}: {_rows(expected.get(table))} in the archive, {_rows(counts.get(table))} restored")
    report.ledger_differences = check_ledger()
    head = _code_head()
    if restored_revision != head:
        report.notes.append(f"The restored schema is at revision {restored_revision}, this code's is {head}: "
                            "run `flask --app wsgi db upgrade` before starting the app.")


def _rows(n: int | None) -> str:
    return "no such table" if n is None else f"{n} row(s)"
