"""Allowed S/FTP servers during testing: the administrator's list (add, remove, who and when), how
it combines with ERP_CONNECTION_ALLOWLIST, and real connections to the test sshd refused or made."""
from __future__ import annotations

import pytest

from app.auth.models import Role
from app.auth.services import create_user
from app.errors import Duplicate, Forbidden, InvalidInput
from app.extensions import db
from app.integrations import allowed_hosts
from app.integrations.models import AllowedHost
from app.integrations.transport import TransferError, check_connection
from testkit.erp import local_connection, sftp_connection
from tests.helpers import PASSWORD, login

HX = {"HX-Request": "true"}
SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.mark.parametrize("text, parsed", [
    ("SFTP.Example.EDU", ("sftp.example.edu", None)), ("sftp.example.edu:2222", ("sftp.example.edu", 2222)),
    ("127.0.0.1:22", ("127.0.0.1", 22)), ("[2001:DB8::1]:22", ("2001:db8::1", 22)), ("2001:db8::1", ("2001:db8::1", None)),
    ("  erp-test.local.  ", ("erp-test.local", None))])
def test_addresses_are_read(text, parsed):
    assert allowed_hosts.parse_address(text) == parsed


@pytest.mark.parametrize("text", ["", "host:0", "host:70000", "host:ssh", "ho st", "-bad.example", "a/b",
                                  "[2001:db8::1", "host:", "x" * 300])
def test_bad_addresses_are_refused(text):
    with pytest.raises(InvalidInput):
        allowed_hosts.parse_address(text)


@SQLITE
def test_sftp_refused_until_its_server_is_allowed_then_refused_again(app, world, sshd):
    admin = world.user("admin")
    conn, _ = sftp_connection(admin, sshd)
    app.config.update(INSTANCE_ENVIRONMENT="test", ERP_CONNECTION_ALLOWLIST=[])
    with pytest.raises(TransferError) as refused:
        check_connection(conn)
    text = str(refused.value)
    assert f"connection SFTP (127.0.0.1:{sshd.port}) is not on its allow-list" in text
    assert f"adds 127.0.0.1:{sshd.port} on Administration › ERP integration › Allowed S/FTP servers" in text
    assert "ERP_CONNECTION_ALLOWLIST" in text

    other_port = allowed_hosts.add(admin, f"127.0.0.1:{sshd.port + 1 if sshd.port < 65535 else 1}")
    with pytest.raises(TransferError, match="not on its allow-list"):
        check_connection(conn)
    entry = allowed_hosts.add(admin, f"127.0.0.1:{sshd.port}", "the test sshd")
    assert "Connected to" in check_connection(conn)

    allowed_hosts.remove(admin, entry.id)
    allowed_hosts.remove(admin, other_port.id)
    with pytest.raises(TransferError, match="not on its allow-list"):
        check_connection(conn)
    allowed_hosts.add(admin, "127.0.0.1")   # any port
    assert "Connected to" in check_connection(conn)


@SQLITE
def test_the_config_key_still_allows_by_code_and_production_uses_everything(app, world, sshd, tmp_path):
    admin = world.user("admin")
    conn, _ = sftp_connection(admin, sshd)
    local, _ = local_connection(admin, tmp_path / "erp")
    app.config.update(INSTANCE_ENVIRONMENT="test", ERP_CONNECTION_ALLOWLIST=["SFTP"])
    assert "Connected to" in check_connection(conn)
    with pytest.raises(TransferError, match="local folder has no server"):
        check_connection(local)
    app.config.update(INSTANCE_ENVIRONMENT="production", ERP_CONNECTION_ALLOWLIST=[])
    assert "Connected to" in check_connection(conn) and "Connected to" in check_connection(local)


def test_duplicates_and_non_admins_are_refused(app, world):
    admin = world.user("admin")
    allowed_hosts.add(admin, "erp.example.edu")
    with pytest.raises(Duplicate, match="already allowed"):
        allowed_hosts.add(admin, "ERP.example.edu:22")
    with pytest.raises(Forbidden):
        allowed_hosts.add(world.user("fundmgr"), "x.example.edu")
    scoped = create_user(None, "admin-a", PASSWORD, roles=[(Role.ADMIN, world.lib_a)])
    with pytest.raises(Forbidden):
        allowed_hosts.add(scoped, "x.example.edu")


def test_the_page_adds_and_removes_and_says_who_and_when(app, world):
    client = login(app.test_client(), "admin")
    app.config.update(INSTANCE_ENVIRONMENT="test", ERP_CONNECTION_ALLOWLIST=["SANDBOX-ERP"])
    page = client.get("/admin/erp/allowed-servers").get_data(as_text=True)
    assert "Allowed S/FTP servers" in page and "SANDBOX-ERP" in page and "<strong>either</strong>" in page
    resp = client.post("/admin/erp/allowed-servers", data={"address": "sftp.erp.example.edu:2222",
                                                           "note": "ERP sandbox"}, headers=HX)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "sftp.erp.example.edu:2222 is allowed now." in body and "Admin" in body
    entry = db.session.scalar(db.select(AllowedHost))
    assert (entry.host, entry.port, entry.note, entry.added_by_id) == ("sftp.erp.example.edu", 2222, "ERP sandbox",
                                                                      world.users["admin"])
    bad = client.post("/admin/erp/allowed-servers", data={"address": "not a host"}, headers=HX)
    assert bad.status_code == 400 and "is not a host name or IP address" in bad.get_data(as_text=True)
    gone = client.post(f"/admin/erp/allowed-servers/{entry.id}/remove", headers=HX).get_data(as_text=True)
    assert "removed: connections to it are refused again" in gone and "Recently removed (1)" in gone
    db.session.expire_all()
    entry = db.session.get(AllowedHost, entry.id)
    assert entry.removed_at is not None and entry.removed_by_id == world.users["admin"]
    again = client.post(f"/admin/erp/allowed-servers/{entry.id}/remove", headers=HX)
    assert again.status_code == 404


def test_library_scoped_admin_is_refused(app, world):
    create_user(None, "admin-a", PASSWORD, roles=[(Role.ADMIN, world.lib_a)])
    db.session.commit()
    client = login(app.test_client(), "admin-a")
    assert client.get("/admin/erp/allowed-servers").status_code == 403
    assert client.post("/admin/erp/allowed-servers", data={"address": "x.example.edu"}).status_code == 403
    assert db.session.scalar(db.select(db.func.count(AllowedHost.id))) == 0
