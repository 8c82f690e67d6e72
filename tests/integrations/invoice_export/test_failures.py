"""Nothing lost, nothing sent twice (reliability F1, FIL-01, FIL-02): the connection dropped at
several points of an upload, the server down, a wrong host key. After a failed run no invoice has
moved and no unfinished file has a final name; the next clean run sends each stored batch once,
byte for byte, and moves every invoice exactly once."""
from __future__ import annotations

import os

import pytest

from app.extensions import db
from app.integrations import transport as tr
from app.invoices import services as ivs
from testkit.erp import erp_profile, sftp_connection
from tests.integrations.invoice_export.helpers import batches, errors, export_marks, final_files, ready, run, statuses

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _setup(world, vendors, sshd, count=4, **conn):
    ids = ready(world, vendors.plain, count)
    admin = world.user("admin")
    connection, path = sftp_connection(admin, sshd, **conn)
    erp_profile(admin, connection, folder_root=path)
    db.session.commit()
    return ids, path / "invoices" / "out", connection


def _fail_on_second_publish(monkeypatch, action):
    """Run ``action(transport, folder, name, data, real_publish)`` instead of the second upload."""
    real = tr.SFTPTransport.publish
    calls = []

    def publish(self, folder, name, data):
        calls.append(name)
        if len(calls) == 2:
            return action(self, folder, name, data, real)
        return real(self, folder, name, data)
    monkeypatch.setattr(tr.SFTPTransport, "publish", publish)
    return calls


def _after_failure(ids, folder, sent_before: int = 1):
    """State after a run that failed at the second file: the first file went, the rest did not."""
    sent, pending = batches("sent"), batches("pending")
    assert len(sent) == sent_before and len(pending) == len(ids) - sent_before
    names = set(final_files(folder))
    assert names == {b.file_name for b in sent}
    moved = {link.invoice_id for b in sent for link in b.invoices}
    assert all(s == ("waiting_for_payment" if i in moved else "ready_to_be_paid") for i, s in statuses(ids).items())
    return {b.file_name: b.content for b in pending}


def _clean_run_sends_everything_once(app, ids, folder, stored: dict[str, bytes]):
    result = run(app)
    assert result.status == "completed", errors(result)
    files = final_files(folder)
    assert len(files) == len(ids)
    for name, content in stored.items():
        assert files[name] == content                       # the very same file, retried
    assert files == {b.file_name: b.content for b in batches("sent")}
    assert batches("pending") == []
    assert set(statuses(ids).values()) == {"waiting_for_payment"}
    assert [export_marks(i) for i in ids] == [1] * len(ids)
    assert not [p for p in folder.iterdir() if p.name.endswith(".part")]
    return result


@pytest.mark.parametrize("cut", ["at 0 bytes", "at 1 byte", "at half the file"])
def test_connection_dropped_mid_upload(erp_app, world, vendors, sshd, cutting_proxy, monkeypatch, cut):
    ids, folder, _ = _setup(world, vendors, sshd, port=cutting_proxy.port)

    def drop(transport, folder_, name, data, real):
        cutting_proxy.arm({"at 0 bytes": 0, "at 1 byte": 1, "at half the file": len(data) // 2}[cut])
        return real(transport, folder_, name, data)
    _fail_on_second_publish(monkeypatch, drop)

    failed = run(erp_app)
    assert failed.status == "failed" and cutting_proxy.cuts == 1
    assert "Cannot upload" in failed.message and errors(failed)
    stored = _after_failure(ids, folder)

    monkeypatch.undo()
    cutting_proxy.disarm()
    _clean_run_sends_everything_once(erp_app, ids, folder, stored)


def test_uploaded_but_not_renamed(erp_app, world, vendors, sshd, monkeypatch):
    ids, folder, _ = _setup(world, vendors, sshd)

    def upload_then_drop(transport, folder_, name, data, real):
        import io
        transport.sftp.putfo(io.BytesIO(data), transport._path(folder_, name) + ".part", file_size=len(data))
        raise tr.TransferError(f"Cannot upload {name}: the connection dropped before the rename.")
    _fail_on_second_publish(monkeypatch, upload_then_drop)

    failed = run(erp_app)
    assert failed.status == "failed" and "before the rename" in failed.message
    stored = _after_failure(ids, folder)
    assert [p.name for p in folder.iterdir() if p.name.endswith(".part")] == [next(iter(stored)) + ".part"]

    monkeypatch.undo()
    _clean_run_sends_everything_once(erp_app, ids, folder, stored)


def test_renamed_but_not_committed_is_not_sent_again(erp_app, world, vendors, sshd, monkeypatch):
    ids, folder, _ = _setup(world, vendors, sshd)
    real = ivs.mark_many_exported

    def crash(actor, invoice_ids):
        raise RuntimeError("the process died after the rename")
    monkeypatch.setattr(ivs, "mark_many_exported", crash)
    failed = run(erp_app)
    assert failed.status == "failed" and "died after the rename" in failed.message
    # The first file (and maybe a few queued behind it) is on the server under its final name, but
    # nothing was recorded.
    pending = batches("pending")
    assert len(pending) == len(ids)
    on_server = set(final_files(folder))
    assert pending[0].file_name in on_server and on_server <= {b.file_name for b in pending}
    assert set(statuses(ids).values()) == {"ready_to_be_paid"}
    inodes = {name: os.stat(folder / name).st_ino for name in on_server}
    stored = {b.file_name: b.content for b in pending}

    monkeypatch.setattr(ivs, "mark_many_exported", real)
    uploads = []
    publish = tr.SFTPTransport.publish
    monkeypatch.setattr(tr.SFTPTransport, "publish",
                        lambda self, f, name, data: (uploads.append(name), publish(self, f, name, data))[1])
    result = _clean_run_sends_everything_once(erp_app, ids, folder, stored)
    assert not on_server & set(uploads) and len(uploads) == len(ids) - len(on_server)
    assert {name: os.stat(folder / name).st_ino for name in on_server} == inodes
    assert result.records == len(ids)


def test_server_down_then_back(erp_app, world, vendors, sshd):
    ids, folder, _ = _setup(world, vendors, sshd, count=3)
    sshd.stop()
    try:
        failed = run(erp_app)
    finally:
        sshd.start()
    assert failed.status == "failed" and "Cannot reach" in failed.message
    assert any("Cannot reach" in m for m in errors(failed))
    assert set(statuses(ids).values()) == {"ready_to_be_paid"}
    assert final_files(folder) == {} and len(batches("pending")) == 3
    stored = {b.file_name: b.content for b in batches("pending")}
    _clean_run_sends_everything_once(erp_app, ids, folder, stored)


def test_wrong_host_key_moves_nothing(erp_app, world, vendors, sshd):
    ids, folder, connection = _setup(world, vendors, sshd, count=2, host_key=sshd.other_host_key)
    failed = run(erp_app)
    assert failed.status == "failed" and "differs from the pinned" in failed.message
    assert set(statuses(ids).values()) == {"ready_to_be_paid"}
    assert list(folder.iterdir()) == []
    stored = {b.file_name: b.content for b in batches("pending")}
    connection = db.session.merge(connection)
    connection.host_key = sshd.host_key
    db.session.commit()
    _clean_run_sends_everything_once(erp_app, ids, folder, stored)


def test_refused_login_moves_nothing(erp_app, world, vendors, sshd):
    ids, folder, _ = _setup(world, vendors, sshd, count=1, username="nobody-here")
    failed = run(erp_app)
    assert failed.status == "failed" and "refused the login" in failed.message
    assert set(statuses(ids).values()) == {"ready_to_be_paid"} and list(folder.iterdir()) == []
