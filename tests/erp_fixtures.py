"""Real file servers for the ERP integration tests: an OpenSSH sshd on 127.0.0.1 (own config,
host key and user key; its SFTP sessions start in a folder of the test session) and a pyftpdlib FTP
server, plus helpers that make connections and finance profiles on them.

Each test gets its own sub-folder of the server's root as the connection's base directory, so
tests never see each other's files. ``sshd.stop()`` / ``sshd.start()`` take the server down and
bring it back (same port, same host key) for the "server went away" tests.
"""
from __future__ import annotations

import getpass
import os
import pathlib
import shutil
import subprocess
import threading
import time
import uuid

import pytest

from tests.servers import free_port, need, wait_port

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


class SshServer:
    def __init__(self, base: pathlib.Path):
        self.base = base
        self.root = base / "files"            # where SFTP sessions start
        self.root.mkdir(parents=True)
        keys = base / "keys"
        keys.mkdir()
        for name in ("host_ed25519", "client_ed25519", "other_host_ed25519"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys / name)], check=True)
        (keys / "authorized_keys").write_text((keys / "client_ed25519.pub").read_text())
        os.chmod(keys / "authorized_keys", 0o600)
        self.client_key = (keys / "client_ed25519").read_text()
        self.host_key = " ".join((keys / "host_ed25519.pub").read_text().split()[:2])
        self.other_host_key = " ".join((keys / "other_host_ed25519.pub").read_text().split()[:2])
        self.user = getpass.getuser()
        self.port = free_port()
        self.config = base / "sshd_config"
        self.config.write_text(f"""ListenAddress 127.0.0.1
Port {self.port}
HostKey {keys / 'host_ed25519'}
PidFile {base / 'sshd.pid'}
AuthorizedKeysFile {keys / 'authorized_keys'}
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
LogLevel ERROR
Subsystem sftp internal-sftp -d {self.root}
""")
        self.proc = None

    def start(self):
        pathlib.Path("/run/sshd").mkdir(exist_ok=True)
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.config)],
                                     stdout=subprocess.DEVNULL, stderr=open(self.base / "sshd.log", "ab"))
        wait_port(self.port)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        # Sessions already open are served by child processes: end them too.
        subprocess.run(["pkill", "-f", f"sshd.*{self.config}"], check=False)
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                wait_port(self.port, 0.1)
            except TimeoutError:
                return
        raise RuntimeError("sshd did not stop")

    def folder(self) -> tuple[str, pathlib.Path]:
        """A fresh base sub-directory for one test: (name, absolute path)."""
        name = "t" + uuid.uuid4().hex[:12]
        path = self.root / name
        path.mkdir()
        return name, path


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    need(os.path.exists(SSHD) and shutil.which("ssh-keygen") is not None, "OpenSSH server (sshd)")
    server = SshServer(tmp_path_factory.mktemp("sshd"))
    server.start()
    yield server
    server.stop()


class FtpServer:
    user, password = "erp", "ftp-password-1"

    def __init__(self, root: pathlib.Path):
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import FTPHandler
        from pyftpdlib.servers import ThreadedFTPServer
        self.root = root
        auth = DummyAuthorizer()
        auth.add_user(self.user, self.password, str(root), perm="elradfmwMT")
        handler = type("Handler", (FTPHandler,), {"authorizer": auth, "banner": "test ftp"})
        handler.passive_ports = None
        self.port = free_port()
        self.server = ThreadedFTPServer(("127.0.0.1", self.port), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"timeout": 0.2}, daemon=True)
        self.thread.start()
        wait_port(self.port)

    def close(self):
        self.server.close_all()

    def folder(self) -> tuple[str, pathlib.Path]:
        name = "t" + uuid.uuid4().hex[:12]
        path = self.root / name
        path.mkdir()
        return name, path


@pytest.fixture(scope="session")
def ftp_server(tmp_path_factory):
    server = FtpServer(tmp_path_factory.mktemp("ftp"))
    yield server
    server.close()


def sftp_connection(admin, sshd: SshServer, code: str = "SFTP", **overrides):
    """A connection to the test sshd with a fresh base folder; returns (connection, folder path)."""
    from app.integrations import services as isv
    name, path = sshd.folder()
    fields = isv.ConnectionFields(code=code, name="Test SFTP", kind="sftp", host="127.0.0.1", port=sshd.port,
                                  username=sshd.user, private_key=sshd.client_key, host_key=sshd.host_key,
                                  base_dir=name)
    for key, value in overrides.items():
        setattr(fields, key, value)
    return isv.create_connection(admin, fields), path


def ftp_connection(admin, ftp: FtpServer, code: str = "FTP"):
    from app.integrations import services as isv
    name, path = ftp.folder()
    fields = isv.ConnectionFields(code=code, name="Test FTP", kind="ftp", host="127.0.0.1", port=ftp.port,
                                  username=ftp.user, password=ftp.password, base_dir=name)
    return isv.create_connection(admin, fields), path


def local_connection(admin, root: pathlib.Path, code: str = "LOCAL"):
    from app.integrations import services as isv
    root.mkdir(parents=True, exist_ok=True)
    return isv.create_connection(admin, isv.ConnectionFields(code=code, name="Local folder", kind="local",
                                                             root_path=str(root))), root


DEFAULT_FOLDERS = {"import_payments": "payments/in", "export_invoices": "invoices/out",
                   "load_allocations": "allocations/in", "export_orders": "orders/out",
                   "export_po_lines": "polines/out"}


def erp_profile(admin, connection, code: str = "ERP", *, active=(), folder_root: pathlib.Path | None = None,
                **section_options):
    """A finance profile on ``connection`` with every section given its folder (created under
    ``folder_root`` when given). ``active``: jobs to turn on. ``section_options``:
    ``{job: {"file_type": "xlsx", ...}}``."""
    from app.integrations import services as isv
    prof = isv.create_profile(admin, isv.ProfileFields(code=code, name=f"Profile {code}",
                                                       connection_id=connection.id, financial_system="SAP"))
    fields = {}
    for job, folder in DEFAULT_FOLDERS.items():
        opts = {"file_type": "csv"} if job == "load_allocations" else {}
        opts.update(section_options.get(job, {}))
        fields[job] = isv.SectionFields(path=folder, active=job in active, **opts)
        if folder_root is not None:
            (folder_root / folder).mkdir(parents=True, exist_ok=True)
    isv.update_sections(admin, prof, fields)
    return prof


def wait_for_run(run_id: int, timeout: float = 30):
    """Poll until the run has ended (a "Run now" runs in a thread); returns the JobRun. The test's
    transaction is closed between polls so the job can write (SQLite has one writer)."""
    import time as _time

    from app.extensions import db
    from app.integrations.models import JobRun
    deadline = _time.time() + timeout
    while True:
        db.session.rollback()
        run = db.session.get(JobRun, run_id)
        status = run.status
        db.session.commit()
        if status != "running" or _time.time() > deadline:
            return run
        _time.sleep(0.1)
