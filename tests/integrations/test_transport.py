"""The transport against the real servers: publish, list, read, rename; every failure is a clear
TransferError (server down, wrong host key, refused login) and no partial file keeps a final name."""
import pytest

from app.extensions import db
from app.integrations.transport import TransferError, check_connection, open_transport
from testkit.erp import ftp_connection, local_connection, sftp_connection


def _roundtrip(conn, path):
    with open_transport(conn) as t:
        t.ensure_folder("out")
        t.publish("out", "a.xml", b"<a/>")
        assert [f.name for f in t.list_files("out")] == ["a.xml"]
        assert t.read("out", "a.xml", 100) == b"<a/>"
        t.rename("out", "a.xml", "a.xml.handled")
        assert t.stat("out", "a.xml") is None
        assert t.stat("out", "a.xml.handled").size == 4
        with pytest.raises(TransferError, match="more than"):
            t.read("out", "a.xml.handled", 2)
        with pytest.raises(TransferError, match="unsafe"):
            t.read("out", "../x.xml", 100)
    assert (path / "out" / "a.xml.handled").read_bytes() == b"<a/>"
    assert "Connected" in check_connection(conn)


def test_sftp_roundtrip(app, world, sshd):
    conn, path = sftp_connection(world.user("admin"), sshd)
    _roundtrip(conn, path)


def test_ftp_roundtrip(app, world, ftp_server):
    conn, path = ftp_connection(world.user("admin"), ftp_server)
    _roundtrip(conn, path)


def test_local_roundtrip(app, world, tmp_path):
    conn, path = local_connection(world.user("admin"), tmp_path / "erp")
    _roundtrip(conn, path)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sftp_refuses_wrong_host_key_and_bad_login(app, world, sshd):
    admin = world.user("admin")
    conn, _ = sftp_connection(admin, sshd, host_key=sshd.other_host_key)
    with pytest.raises(TransferError, match="differs from the pinned"):
        check_connection(conn)
    conn2, _ = sftp_connection(admin, sshd, code="SFTP2", username="nobody-here")
    with pytest.raises(TransferError, match="refused the login"):
        check_connection(conn2)
    conn3, _ = sftp_connection(admin, sshd, code="SFTP3", port=1)
    with pytest.raises(TransferError, match="Cannot reach"):
        check_connection(conn3)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_secrets_are_encrypted_at_rest(app, world, sshd):
    conn, _ = sftp_connection(world.user("admin"), sshd)
    db.session.commit()
    raw = db.session.execute(db.text("select private_key_secret from erp_connection")).scalar()
    assert "PRIVATE KEY" not in raw and raw
    assert "PRIVATE" not in repr(conn)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_non_production_instance_uses_only_allow_listed_connections(app, world, tmp_path):
    conn, _ = local_connection(world.user("admin"), tmp_path / "erp")
    app.config["INSTANCE_ENVIRONMENT"] = "test"
    with pytest.raises(TransferError, match="allow-list"):
        check_connection(conn)
    app.config["ERP_CONNECTION_ALLOWLIST"] = ["LOCAL"]
    assert "Connected" in check_connection(conn)


def test_a_file_written_moments_ago_is_left_for_the_next_run():
    from datetime import datetime, timedelta, timezone

    from app.integrations.transport import RemoteFile, settled
    now = datetime(2026, 11, 28, 12, 0, 0, tzinfo=timezone.utc)
    old, young, unknown = (RemoteFile("a.xml", 1, now - timedelta(seconds=11)),
                           RemoteFile("b.xml", 1, now - timedelta(seconds=3)), RemoteFile("c.xml", 1, None))
    assert settled([old, young, unknown], 10, now) == ([old, unknown], [young])
