"""Real file servers on 127.0.0.1 for the ERP tests and benchmarks: an OpenSSH sshd (own config,
host key and user key; its SFTP sessions start in a folder of its own) and a pyftpdlib FTP server.

``folder()`` gives each test its own sub-folder of the server's root, so tests never see each
other's files. ``SshServer.stop()`` / ``start()`` take the server down and bring it back (same
port, same host key) for the "server went away" tests.
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

from .net import free_port, wait_port

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
