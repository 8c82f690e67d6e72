"""ERP test helpers: connections to the test file servers (fixtures ``sshd`` and ``ftp_server``,
see tests/fixtures/servers.py; testkit/servers.py) or a local folder, each with a fresh base folder of its own, finance
profiles on them, and waiting for a job run."""
from __future__ import annotations

import pathlib

from testkit.servers import FtpServer, SshServer  # noqa: F401  (the types of the fixtures sshd and ftp_server)


def sftp_connection(admin, sshd: SshServer, code: str = "SFTP", **overrides):
    """A connection to the test sshd with a fresh base folder; returns (connection, folder path)."""
    from app.integrations import services as integrations
    name, path = sshd.folder()
    fields = integrations.ConnectionFields(code=code, name="Test SFTP", kind="sftp", host="127.0.0.1", port=sshd.port,
                                  username=sshd.user, private_key=sshd.client_key, host_key=sshd.host_key,
                                  base_dir=name)
    for key, value in overrides.items():
        setattr(fields, key, value)
    return integrations.create_connection(admin, fields), path


def ftp_connection(admin, ftp: FtpServer, code: str = "FTP"):
    from app.integrations import services as integrations
    name, path = ftp.folder()
    fields = integrations.ConnectionFields(code=code, name="Test FTP", kind="ftp", host="127.0.0.1", port=ftp.port,
                                  username=ftp.user, password=ftp.password, base_dir=name)
    return integrations.create_connection(admin, fields), path


def local_connection(admin, root: pathlib.Path, code: str = "LOCAL"):
    from app.integrations import services as integrations
    root.mkdir(parents=True, exist_ok=True)
    return integrations.create_connection(admin, integrations.ConnectionFields(code=code, name="Local folder", kind="local",
                                                             root_path=str(root))), root


DEFAULT_FOLDERS = {"import_payments": "payments/in", "export_invoices": "invoices/out",
                   "load_allocations": "allocations/in", "export_orders": "orders/out",
                   "export_po_lines": "polines/out"}


def erp_profile(admin, connection, code: str = "ERP", *, active=(), folder_root: pathlib.Path | None = None,
                **section_options):
    """A finance profile on ``connection`` with every section given its folder (created under
    ``folder_root`` when given). ``active``: jobs to turn on. ``section_options``:
    ``{job: {"file_type": "xlsx", ...}}``."""
    from app.integrations import services as integrations
    prof = integrations.create_profile(admin, integrations.ProfileFields(code=code, name=f"Profile {code}",
                                                       connection_id=connection.id, financial_system="SAP"))
    fields = {}
    for job, folder in DEFAULT_FOLDERS.items():
        opts = {"file_type": "csv"} if job == "load_allocations" else {}
        opts.update(section_options.get(job, {}))
        fields[job] = integrations.SectionFields(path=folder, active=job in active, **opts)
        if folder_root is not None:
            (folder_root / folder).mkdir(parents=True, exist_ok=True)
    integrations.update_sections(admin, prof, fields)
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
