"""Issue 12, "Backups that restore": ``flask backup`` while writers post, ``flask restore`` into a
fresh instance, refusals of damaged archives and of a database that already holds data, pruning,
and the scheduler's daily backup.

A *source* instance has its own instance folder (secret key, connection key, config.py) and an
attachment; a *fresh* instance is a new app on a database that does not exist yet (SQLite) or an
empty database created in the test cluster (PostgreSQL)."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import pathlib
import tarfile
import threading
import time
import uuid
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from app import create_app
from app.extensions import db
from app.funds import services as fs
from app.funds.models import Fund, FundTransaction
from app.integrations.models import JobRun
from tests.helpers import IsolatedClient, base_config, login, upgrade as _upgrade

WRITERS = 20


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def _source(make_app, tmp_path, backend="sqlite", **config):
    app = make_app(backend, ATTACHMENT_FOLDER=str(tmp_path / "src-attachments"), **config)
    instance = tmp_path / "src-instance"
    instance.mkdir()
    app.instance_path = str(instance)
    (instance / "secret_key").write_text("the-old-secret\n")
    (instance / "connection_key").write_bytes(b"Zm9yLXRlc3RzLW9ubHktbm90LWEtcmVhbC1mZXJuZXQta2V5PQ==\n")
    (instance / "config.py").write_text('INSTITUTION_NAME = "Old server"\n')
    (instance / "acq.db-ignored").write_text("not part of a backup")
    attachments = tmp_path / "src-attachments"
    attachments.mkdir()
    (attachments / ("ab" * 16)).write_bytes(b"%PDF- a claim letter")
    with app.app_context():
        from testkit.world import build_world
        build_world()
    return app


def _fresh(tmp_path, url=None, name="new"):
    """A new instance: nothing but its configuration."""
    url = url or f"sqlite:///{tmp_path / name / 'acq.db'}"
    app = create_app(base_config(url, ATTACHMENT_FOLDER=str(tmp_path / name / "attachments")))
    instance = tmp_path / name / "instance"
    instance.mkdir(parents=True)
    app.instance_path = str(instance)
    app.test_client_class = IsolatedClient
    return app


def _archive(folder: pathlib.Path) -> pathlib.Path:
    found = sorted(folder.glob("acq-backup-*.tar.gz"))
    assert len(found) == 1, found
    return found[0]


def _write_while_backing_up(app, folder: pathlib.Path):
    """20 writers post allocations and transfers while ``flask backup`` runs. Returns the
    references committed (with the monotonic time their commit returned), those whose write
    failed with "database is locked", and the time the backup began and ended."""
    with app.app_context():
        funds = [f.id for f in db.session.scalars(db.select(Fund).where(Fund.code.in_(["SHARED", "A-BKS", "B-BKS"])))]
        from app.auth.models import User
        actor_id = db.session.scalar(db.select(User.id).filter_by(username="fundmgr"))
    committed, uncertain, errors, lock = [], set(), [], threading.Lock()
    stop = threading.Event()

    def writer(i):
        with app.app_context():
            from app.auth.models import User
            n = 0
            while not stop.is_set() and n < 200:
                reference = f"W{i:02d}-{n:03d}"
                try:
                    actor = db.session.get(User, actor_id)
                    if n % 2:
                        fs.transfer(actor, db.session.get(Fund, funds[i % 3]), db.session.get(Fund, funds[(i + 1) % 3]),
                                    Decimal("0.01"), reference=reference)
                    else:
                        fs.allocate(actor, db.session.get(Fund, funds[i % 3]), Decimal("1.00"), reference=reference)
                    db.session.commit()
                    done = time.monotonic()
                    with lock:
                        committed.append((reference, done))
                except OperationalError as exc:
                    # SQLite's busy timeout ran out under this load (issue 12, finding 1): this write
                    # did not happen (perhaps, if it failed at COMMIT); the next one goes on.
                    db.session.rollback()
                    if "locked" not in str(exc):
                        with lock:
                            errors.append(f"{type(exc).__name__}: {exc}")
                        return
                    with lock:
                        uncertain.add(reference)
                except Exception as exc:  # any other failure is a failure of the test
                    db.session.rollback()
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    return
                finally:
                    db.session.remove()
                n += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(committed) < 2 * WRITERS and time.monotonic() < deadline and not errors:
        time.sleep(0.01)
    began = time.monotonic()
    result = _cli(app, "backup", "--to", str(folder))
    ended = time.monotonic()
    stop.set()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    assert result.exit_code == 0, result.output
    return committed, uncertain, began, ended


def _restored_references(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(db.select(FundTransaction.reference)
                                      .where(FundTransaction.reference.like("W%"))))


def _check_round_trip(source, target, folder, committed, uncertain, began, ended):
    before = {ref for ref, at in committed if at < began}
    during = [ref for ref, at in committed if began <= at <= ended]
    assert before and during, "the writers were posting before and while the backup ran"
    out = _cli(target, "restore", str(_archive(folder)))
    assert out.exit_code == 0, out.output
    assert "every checksum matches" in out.output
    assert "Ledger check: all fund balances match their transactions." in out.output
    assert "Row counts: all" in out.output and "tables match the manifest" in out.output
    restored = _restored_references(target)
    assert before <= restored, f"{len(before - restored)} writes committed before the backup began are missing"
    assert restored <= {ref for ref, _at in committed} | uncertain, "only committed writes are restored"
    with target.app_context():
        assert fs.check_ledger() == []
        assert db.session.scalar(db.select(JobRun).filter_by(job="backup")) is None, \
            "the run that took the backup is recorded after the copy: no run is left running in it"
    new_instance = pathlib.Path(target.instance_path)
    assert (new_instance / "secret_key").read_text() == "the-old-secret\n"
    assert (new_instance / "connection_key").read_bytes() == \
        (pathlib.Path(source.instance_path) / "connection_key").read_bytes()
    assert (new_instance / "config.py").read_text() == 'INSTITUTION_NAME = "Old server"\n'
    assert not (new_instance / "acq.db-ignored").exists()
    assert (pathlib.Path(target.config["ATTACHMENT_FOLDER"]) / ("ab" * 16)).read_bytes() == b"%PDF- a claim letter"
    # The restored instance serves: the fund manager logs in with the old password and sees the fund.
    with target.app_context():
        client = login(target.test_client(), "fundmgr")
        shared = db.session.scalar(db.select(Fund).filter_by(code="SHARED"))
        assert client.get(f"/funds/{shared.id}").status_code == 200


def test_H12_backup_taken_while_20_writers_post_restores_every_committed_write_sqlite(make_app, tmp_path):
    source = _source(make_app, tmp_path)
    folder = tmp_path / "backups"
    committed, uncertain, began, ended = _write_while_backing_up(source, folder)
    archive = _archive(folder)
    assert archive.stat().st_mode & 0o777 == 0o600, "the archive holds the keys"
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    assert names[0] == "database/acq.sqlite3" and names[-2:] == ["manifest.json", "SHA256SUMS"]
    assert {"instance/secret_key", "instance/connection_key", "instance/config.py",
            "attachments/" + "ab" * 16} <= set(names)
    assert manifest["database"]["kind"] == "sqlite" and manifest["schema_revision"] == manifest["code_revision"]
    assert manifest["row_counts"]["fund_transaction"] >= 3 + len([1 for _r, at in committed if at < began])
    assert set(manifest["files"]) == set(names) - {"manifest.json", "SHA256SUMS"}
    sidecar = archive.with_name(archive.name + ".sha256").read_text().split()
    assert sidecar == [hashlib.sha256(archive.read_bytes()).hexdigest(), archive.name]
    _check_round_trip(source, _fresh(tmp_path), folder, committed, uncertain, began, ended)


@pytest.mark.postgres_only
def test_H12_backup_taken_while_20_writers_post_restores_into_a_new_postgresql_database(make_app, tmp_path, pg_url):
    source = _source(make_app, tmp_path, "postgresql",
                     SQLALCHEMY_ENGINE_OPTIONS={"pool_size": WRITERS + 5, "max_overflow": 5})
    folder = tmp_path / "backups"
    committed, uncertain, began, ended = _write_while_backing_up(source, folder)
    with tarfile.open(_archive(folder)) as tar:
        assert json.load(tar.extractfile("manifest.json"))["database"]["kind"] == "postgresql"
        assert "database/acq.pgdump" in tar.getnames()
    names = [f"restore_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    targets = []
    try:
        # A new, empty database.
        targets.append(_fresh(tmp_path, url=pg_url.rsplit("/", 1)[0] + "/" + names[0]))
        _check_round_trip(source, targets[0], folder, committed, uncertain, began, ended)
        again = _cli(targets[0], "restore", str(_archive(folder)))
        assert again.exit_code == 1 and "already holds data" in again.output
        # A database whose (empty) schema `flask db upgrade` already made.
        url = pg_url.rsplit("/", 1)[0] + "/" + names[1]
        _upgrade(url)
        targets.append(_fresh(tmp_path, url=url, name="migrated"))
        out = _cli(targets[1], "restore", str(_archive(folder)))
        assert out.exit_code == 0 and "all fund balances match" in out.output, out.output
        assert _restored_references(targets[1]) == _restored_references(targets[0])
    finally:
        for target in targets:
            with target.app_context():
                db.session.remove()
                db.engine.dispose()
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# -- damaged archives are refused, nothing written -------------------------------------------------------

@pytest.fixture
def good_archive(make_app, tmp_path):
    source = _source(make_app, tmp_path)
    out = _cli(source, "backup", "--to", str(tmp_path / "backups"))
    assert out.exit_code == 0, out.output
    return _archive(tmp_path / "backups")


def _refused(tmp_path, archive, *expected):
    target = _fresh(tmp_path, name=f"target-{uuid.uuid4().hex[:6]}")
    out = _cli(target, "restore", str(archive))
    assert out.exit_code == 1, out.output
    for text_ in expected:
        assert text_ in out.output, out.output
    assert "nothing was restored" in out.output
    base = pathlib.Path(target.instance_path).parent
    assert not (base / "acq.db").exists(), "no database was written"
    assert list(pathlib.Path(target.instance_path).iterdir()) == [], "no instance file was written"
    assert not (base / "attachments").exists()
    return out.output


def test_H12_an_archive_with_a_flipped_byte_is_refused(good_archive, tmp_path):
    data = bytearray(good_archive.read_bytes())
    data[len(data) // 2] ^= 0x40
    good_archive.write_bytes(bytes(data))
    _refused(tmp_path, good_archive, good_archive.name)


def test_H12_a_truncated_archive_is_refused(good_archive, tmp_path):
    good_archive.write_bytes(good_archive.read_bytes()[: good_archive.stat().st_size * 2 // 3])
    _refused(tmp_path, good_archive, f"{good_archive.name} is damaged or truncated")


def _repack(archive: pathlib.Path, change) -> None:
    """Rewrite ``archive`` with its manifest changed by ``change`` (SHA256SUMS made to agree)."""
    with tarfile.open(archive) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    contents = dict((m.name, data) for m, data in members)
    manifest = json.loads(contents["manifest.json"])
    change(manifest)
    body = json.dumps(manifest).encode()
    sums = {name: info["sha256"] for name, info in manifest["files"].items()}
    sums["manifest.json"] = hashlib.sha256(body).hexdigest()
    contents["manifest.json"] = body
    contents["SHA256SUMS"] = "".join(f"{d}  {n}\n" for n, d in sums.items()).encode()
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb") as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for member, _data in members:
            data = contents[member.name]
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    archive.write_bytes(buffer.getvalue())
    archive.with_name(archive.name + ".sha256").write_text(f"{hashlib.sha256(buffer.getvalue()).hexdigest()}  x\n")


def test_H12_a_wrong_checksum_in_the_manifest_is_refused_naming_the_file(good_archive, tmp_path):
    def wrong(manifest):
        manifest["files"]["instance/connection_key"]["sha256"] = "0" * 64
    _repack(good_archive, wrong)
    _refused(tmp_path, good_archive, "instance/connection_key: its sha256 differs from the manifest's")


def test_H12_an_archive_not_matching_its_sha256_file_is_refused(good_archive, tmp_path):
    sidecar = good_archive.with_name(good_archive.name + ".sha256")
    sidecar.write_text("f" * 64 + f"  {good_archive.name}\n")
    _refused(tmp_path, good_archive, f"the archive's sha256 differs from {sidecar.name}")


def test_H12_restore_refuses_a_database_that_holds_data(good_archive, make_app, tmp_path):
    target = make_app("sqlite")   # migrated, with its institution
    with target.app_context():
        from app.org.models import Institution
        count = db.session.scalar(db.select(db.func.count()).select_from(Institution))
    out = _cli(target, "restore", str(good_archive))
    assert out.exit_code == 1
    assert "already holds data" in out.output and "institution (1)" in out.output
    assert "restored only into an empty database" in out.output
    with target.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Institution)) == count


# -- pruning and the daily job ----------------------------------------------------------------------------

def test_H12_keep_prunes_older_archives(make_app, tmp_path):
    source = _source(make_app, tmp_path)
    folder = tmp_path / "backups"
    for _ in range(3):
        assert _cli(source, "backup", "--to", str(folder)).exit_code == 0
    (folder / "notes.txt").write_text("an operator's file")
    made = sorted(folder.glob("acq-backup-*.tar.gz"))
    assert len(made) == 3
    out = _cli(source, "backup", "--to", str(folder), "--keep", "2")
    assert out.exit_code == 0, out.output
    kept = sorted(folder.glob("acq-backup-*.tar.gz"))
    from app.backup.archive import archives
    assert archives(folder) == kept[-2:] and len(kept) == 2 and made[-1] in kept
    assert made[0] not in kept and made[1] not in kept
    assert sorted(p.name for p in folder.glob("*.sha256")) == sorted(p.name + ".sha256" for p in kept)
    assert (folder / "notes.txt").exists()
    assert "2 older archive(s) removed" in out.output


def test_H12_the_scheduler_runs_a_daily_backup_recorded_as_a_job_run(make_app, tmp_path):
    from app.backup.runs import run_backup
    folder = tmp_path / "daily"
    app = make_app("sqlite", SCHEDULER_ENABLED=True, SCHEDULER_LOCK_FILE=str(tmp_path / "sched.lock"),
                   BACKUP_SCHEDULE="03:15", BACKUP_FOLDER=str(folder), BACKUP_KEEP=2)
    from app.integrations import scheduler as app_scheduler
    try:
        job = app.extensions["scheduler"].get_job("backup")
        assert job is not None and "hour='3'" in str(job.trigger) and "minute='15'" in str(job.trigger)
    finally:
        app_scheduler.stop(app)
    app.instance_path = str(tmp_path / "inst")
    pathlib.Path(app.instance_path).mkdir()
    with app.app_context():
        from testkit.world import build_world
        build_world()
    ticks = [datetime(2026, 3, day, 3, 15) for day in (1, 1, 2, 3)]
    ids = [run_backup(app, scheduled_for=tick) for tick in ticks]
    assert ids[1] is None and None not in (ids[0], ids[2], ids[3]), "one run per tick"
    with app.app_context():
        run = db.session.get(JobRun, ids[0])
        assert (run.job, run.trigger, run.status, run.job_label) == ("backup", "schedule", "completed", "Backup")
        assert run.message.startswith("acq-backup-") and str(folder) in run.message
        assert [e.message.split(" ")[0] for e in run.events] == ["Database", "Archive"]
        client = login(app.test_client(), "admin")
        page = client.get("/admin/erp/jobs").get_data(as_text=True)
        assert "Backup" in page and "Daily at 03:15" in page
        assert [r.status for r in db.session.scalars(db.select(JobRun).filter_by(job="backup"))] == ["completed"] * 3
        assert "1 older archive(s) removed" in db.session.get(JobRun, ids[3]).message
    assert len(list(folder.glob("acq-backup-*.tar.gz"))) == 2, "BACKUP_KEEP"


def test_H12_a_second_backup_at_once_is_skipped_and_a_dead_one_is_marked_interrupted(make_app, tmp_path):
    from app.clock import utcnow
    from app.backup.archive import backup_lock
    from app.backup.runs import run_backup
    app = make_app("sqlite", BACKUP_FOLDER=str(tmp_path / "b"))
    app.instance_path = str(tmp_path / "inst")
    pathlib.Path(app.instance_path).mkdir()
    with app.app_context():
        dead = JobRun(job="backup", trigger="schedule", status="running", started_at=utcnow())
        db.session.add(dead)
        db.session.flush()
        dead_id = dead.id
        db.session.commit()   # like another process: this session holds no write lock meanwhile
        with backup_lock():   # a backup going on in another process
            skipped = run_backup(app, trigger="cli")
        assert run_backup(app, trigger="cli") is not None
        runs = db.session.scalars(db.select(JobRun).filter_by(job="backup").order_by(JobRun.id)).all()
        assert [(r.id == dead_id, r.status) for r in runs] == [(True, "failed"), (False, "skipped"), (False, "completed")]
        assert runs[0].message == "Interrupted: the process running it stopped."
        assert runs[1].id == skipped and "Another backup of this instance is running" in runs[1].message
