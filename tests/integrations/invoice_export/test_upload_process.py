"""Many files go from a separate upload process (``app.integrations.upload_worker``) while the job
prepares the next ones. The same promises hold there as in the job's own thread: every file the
server confirmed is recorded, nothing else moves, no unfinished file has a final name, and the
next run sends what is left exactly once, byte for byte."""
from __future__ import annotations

import sys

import pytest
from sqlalchemy import select

from app.extensions import db
from app.integrations import upload_worker
from app.integrations.models import JobEvent
from testkit.erp import erp_profile, sftp_connection
from tests.integrations.invoice_export.helpers import batches, errors, export_marks, final_files, ready, run, statuses

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
COUNT = 12


@pytest.fixture
def process_app(erp_app):
    erp_app.config["ERP_UPLOAD_PROCESS_FROM"] = 5   # the tests' dozen files take the process
    return erp_app


def _setup(world, vendors, sshd, **conn):
    ids = ready(world, vendors.plain, COUNT, prefix="P")
    admin = world.user("admin")
    connection, path = sftp_connection(admin, sshd, **conn)
    erp_profile(admin, connection, folder_root=path)
    db.session.commit()
    return ids, path / "invoices" / "out"


def _used_the_process(result) -> bool:
    return any("separate process" in e.message for e in db.session.scalars(
        select(JobEvent).filter_by(run_id=result.id)))


def _everything_sent_once(app, ids, folder, stored: dict[str, bytes]):
    result = run(app)
    assert result.status == "completed", errors(result)
    files = final_files(folder)
    assert files == {b.file_name: b.content for b in batches("sent")} and len(files) == len(ids)
    for name, content in stored.items():
        assert files[name] == content                      # a file prepared earlier goes as it was stored
    assert batches("pending") == []
    assert set(statuses(ids).values()) == {"waiting_for_payment"}
    assert [export_marks(i) for i in ids] == [1] * len(ids)
    assert not [p for p in folder.iterdir() if p.name.endswith(".part")]
    return result


@SQLITE
def test_many_files_go_through_the_upload_process(process_app, world, vendors, sshd):
    ids, folder = _setup(world, vendors, sshd)
    result = _everything_sent_once(process_app, ids, folder, {})
    assert _used_the_process(result)
    assert result.files == COUNT and result.records == COUNT and result.records_failed == 0


@SQLITE
def test_connection_cut_under_the_upload_process(process_app, world, vendors, sshd, cutting_proxy):
    ids, folder = _setup(world, vendors, sshd, port=cutting_proxy.port)
    # Enough for both logins (the job's and the process's) and a few files, not for all twelve.
    cutting_proxy.arm(60_000)
    failed = run(process_app)
    assert failed.status == "failed" and cutting_proxy.cuts >= 1 and _used_the_process(failed)
    assert errors(failed)
    sent, pending = batches("sent"), batches("pending")
    assert 0 < len(sent) < COUNT and len(sent) + len(pending) == COUNT
    on_server = set(final_files(folder))
    assert {b.file_name for b in sent} <= on_server                  # every confirmed file is recorded
    assert on_server - {b.file_name for b in sent} <= {b.file_name for b in pending}
    moved = {link.invoice_id for b in sent for link in b.invoices}
    assert all(s == ("waiting_for_payment" if i in moved else "ready_to_be_paid") for i, s in statuses(ids).items())

    cutting_proxy.disarm()
    _everything_sent_once(process_app, ids, folder, {b.file_name: b.content for b in pending})


@SQLITE
def test_upload_process_that_dies_moves_nothing(process_app, world, vendors, sshd, monkeypatch):
    ids, folder = _setup(world, vendors, sshd)
    monkeypatch.setattr(upload_worker, "COMMAND", [sys.executable, "-c", "import sys; sys.exit(3)"])
    failed = run(process_app)
    assert failed.status == "failed" and "stopped unexpectedly (exit code 3)" in failed.message
    assert set(statuses(ids).values()) == {"ready_to_be_paid"} and final_files(folder) == {}
    stored = {b.file_name: b.content for b in batches("pending")}
    assert len(stored) == COUNT

    monkeypatch.undo()
    _everything_sent_once(process_app, ids, folder, stored)


def test_frames_round_trip():
    import io
    buf = io.BytesIO()
    for data in (b"", b"x", bytes(range(256)) * 300):
        upload_worker.write_frame(buf, data)
    buf.seek(0)
    assert [upload_worker.read_frame(buf) for _ in range(3)] == [b"", b"x", bytes(range(256)) * 300]
    assert upload_worker.read_frame(buf) is None
