"""Finance (ERP) integration: connections, profiles and their five job sections, job runs with
their events, and the bookkeeping that makes every exchange happen once (file hashes, export
batches, exported orders and PO lines)."""
from __future__ import annotations

from ..clock import utcnow
from ..extensions import db
from ..text import T, Text, english, stored
from . import live, processes

CONNECTION_KINDS = {"sftp": "SFTP", "ftp": "FTP", "local": T("Local folder")}

# The five sections of a finance profile, in the order the profile page shows them.
JOBS = {
    "import_payments": T("Import payment confirmation"),
    "export_invoices": T("Export invoices for payment"),
    "load_allocations": T("Funds allocation loader"),
    "export_orders": T("Export orders (PO)"),
    "export_po_lines": T("Export PO lines (POL)"),
}
INPUT_JOBS = frozenset({"import_payments", "load_allocations"})
# Runs that belong to no profile section; big loads started from a page or a command are among
# them (app/integrations/loads.py).
OTHER_JOBS = {"fetch_edi": T("Fetch EDI invoices"), "upload_edi": T("Upload EDI invoices"), "backup": T("Backup"),
              "invoice_file": T("Load invoices from an Excel file"), "aleph_budgets": T("Aleph budget migration"),
              "rollover": T("Fiscal period rollover"), "rollover_undo": T("Rollover undo"),
              "send_letters": T("Send letters to vendors"), "package_orders": T("Package and send orders"),
              "renewals": T("Process renewals"), "digest": T("Daily digest of notifications")}
# Runs a person starts from a page (by sending a file, with its own button), not with "Run now".
PAGE_STARTED_JOBS = {"upload_edi": T("Upload"), "invoice_file": T("File load"), "rollover": T("Fiscal period closure"),
                     "package_orders": T("Package and send"),
                     "rollover_undo": T("Fiscal period closure")}
# The command-line names of the jobs (flask jobs run NAME).
JOB_COMMANDS = {"import-payments": "import_payments", "export-invoices": "export_invoices",
                "load-allocations": "load_allocations", "export-orders": "export_orders",
                "export-po-lines": "export_po_lines"}
SCHEDULES = {"none": T("Not scheduled"), "hourly": T("Hourly"), "daily": T("Daily"), "weekly": T("Weekly")}
WEEKDAYS = [T("Monday"), T("Tuesday"), T("Wednesday"), T("Thursday"), T("Friday"), T("Saturday"), T("Sunday")]
ALLOCATION_FILE_TYPES = {"csv": ".csv", "xls": ".xls", "xlsx": ".xlsx"}
RUN_STATUSES = {"running": T("Running"), "completed": T("Completed"), "failed": T("Failed"), "skipped": T("Skipped")}
TRIGGERS = {"manual": T("Run now"), "schedule": T("Scheduled"), "catch_up": T("Catch-up"), "cli": T("Command line"),
            "event": T("On send")}
EVENT_LEVELS = {"info": T("info"), "warning": T("warning"), "error": T("error")}
EXPORT_BATCH_STATUSES = {"pending": T("pending"), "sent": T("sent"), "void": T("void")}


class Scheduled:
    """The schedule of a profile's section or a vendor's EDI pickup (read by :mod:`.schedules`):
    ``version`` changes on every save, so the scheduler process picks the change up."""
    active = db.Column(db.Boolean, nullable=False, default=False)
    schedule = db.Column(db.String(10), nullable=False, default="none")     # none | hourly | daily | weekly
    schedule_time = db.Column(db.String(5), nullable=False, default="")     # HH:MM (daily, weekly)
    schedule_day = db.Column(db.Integer)                                    # 0 = Monday (weekly)
    version = db.Column(db.Integer, nullable=False, default=1)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    @property
    def schedule_text(self) -> str:
        """"Daily at 06:00"."""
        if self.schedule == "hourly":
            return T("Hourly")
        if self.schedule == "daily":
            return T("Daily at %(time)s", time=self.schedule_time)
        if self.schedule == "weekly" and self.schedule_day is not None:
            return T("Weekly on %(day)s at %(time)s", day=WEEKDAYS[self.schedule_day], time=self.schedule_time)
        return T("Not scheduled")


class Connection(db.Model):
    """Where files are exchanged: an SFTP or FTP server, or a folder on this server.
    ``password_secret`` and ``private_key_secret`` are encrypted (app.integrations.secrets)."""
    __tablename__ = "erp_connection"

    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(40), nullable=False, unique=True)
    name = db.Column(db.String(200), nullable=False)
    kind = db.Column(db.String(10), nullable=False)               # sftp | ftp | local
    host = db.Column(db.String(255), nullable=False, default="")
    port = db.Column(db.Integer)
    username = db.Column(db.String(100), nullable=False, default="")
    password_secret = db.Column(db.Text, nullable=False, default="")
    private_key_secret = db.Column(db.Text, nullable=False, default="")
    host_key = db.Column(db.Text, nullable=False, default="")      # "ssh-ed25519 AAAA…" pinned for SFTP
    root_path = db.Column(db.String(500), nullable=False, default="")  # local folder kind only
    base_dir = db.Column(db.String(200), nullable=False, default="")   # sub-directory under the login/root
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    profiles = db.relationship("IntegrationProfile", back_populates="connection")

    def __repr__(self) -> str:  # never the secrets
        return f"<Connection {self.code} {self.kind}>"

    @property
    def kind_label(self) -> str:
        return CONNECTION_KINDS.get(self.kind, self.kind)

    @property
    def has_password(self) -> bool:
        return bool(self.password_secret)

    @property
    def has_private_key(self) -> bool:
        return bool(self.private_key_secret)

    @property
    def address(self) -> str:
        if self.kind == "local":
            return self.root_path
        return f"{self.username}@{self.host}:{self.port or (22 if self.kind == 'sftp' else 21)}"


class IntegrationProfile(db.Model):
    """A finance integration profile: one connection, five job sections."""
    __tablename__ = "integration_profile"

    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(40), nullable=False, unique=True)
    name = db.Column(db.String(200), nullable=False)
    connection_id = db.Column(db.Integer, db.ForeignKey("erp_connection.id"), nullable=False, index=True)
    financial_system = db.Column(db.String(60), nullable=False)
    description = db.Column(db.Text, nullable=False, default="")
    # Run-end e-mail (app.notifications): never, after every run, or only after a failed one; to
    # ``recipients``.
    notify_when = db.Column(db.String(10), nullable=False, default="off")
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    connection = db.relationship("Connection", back_populates="profiles")
    recipients = db.relationship("User", secondary="profile_recipient", order_by="User.username")
    sections = db.relationship("ProfileSection", back_populates="profile", cascade="all, delete-orphan",
                               lazy="selectin", order_by="ProfileSection.id")

    def section(self, job: str) -> "ProfileSection | None":
        return next((s for s in self.sections if s.job == job), None)


class ProfileSection(Scheduled, db.Model):
    """One job of a profile: active or not, its folder, options and schedule. The scheduler
    process rebuilds its jobs from these rows (``version`` changes on every save)."""
    __tablename__ = "profile_section"
    __table_args__ = (db.UniqueConstraint("profile_id", "job"),)

    id = db.Column(db.Integer, primary_key=True)
    profile_id = db.Column(db.Integer, db.ForeignKey("integration_profile.id", ondelete="CASCADE"),
                           nullable=False, index=True)
    job = db.Column(db.String(20), nullable=False)
    path = db.Column(db.String(200), nullable=False, default="")   # under the connection's base_dir
    file_type = db.Column(db.String(5), nullable=False, default="")   # allocation loader: csv | xls | xlsx
    split_by_owner = db.Column(db.Boolean, nullable=False, default=False)   # invoice export
    batch_size = db.Column(db.Integer, nullable=False, default=1000)        # PO line export
    # Invoice export: the element set written ("current", or "v1": the 2016/2017 files' set), and a
    # campus stylesheet (XSLT 1.0) each file is transformed by before upload (the original kept
    # in a sub-folder too when asked).
    xsd_version = db.Column(db.String(10), nullable=False, default="current")
    xslt = db.Column(db.Text, nullable=False, default="")
    xslt_keep_original = db.Column(db.Boolean, nullable=False, default=False)
    # Payment confirmations: "xml" (the ERP's payment confirmation files) or "csv" read through
    # ``csv_mapping`` (JSON: which column holds what, the date format, the separator); what a PAID
    # record whose amount differs from the invoice's does: "warn" (recorded, flagged) or "refuse".
    confirmation_format = db.Column(db.String(5), nullable=False, default="xml")
    csv_mapping = db.Column(db.Text, nullable=False, default="")
    amount_mismatch = db.Column(db.String(10), nullable=False, default="warn")

    profile = db.relationship("IntegrationProfile", back_populates="sections")

    @property
    def label(self) -> str:
        return JOBS[self.job]

    @property
    def is_input(self) -> bool:
        return self.job in INPUT_JOBS


class JobRun(db.Model):
    """One run of one job of one profile. ``completed`` means the run ended without a failure;
    records it refused are counted in ``records_failed`` and listed as events."""
    __tablename__ = "job_run"
    # Two schedulers can never both execute one tick (manual runs have no scheduled_for).
    __table_args__ = (db.UniqueConstraint("job", "profile_id", "scheduled_for"),)

    id = db.Column(db.Integer, primary_key=True)
    job = db.Column(db.String(20), nullable=False, index=True)
    profile_id = db.Column(db.Integer, db.ForeignKey("integration_profile.id", ondelete="SET NULL"), index=True)
    profile_code = db.Column(db.String(40), nullable=False, default="")   # kept if the profile goes
    trigger = db.Column(db.String(10), nullable=False, default="manual")
    scheduled_for = db.Column(db.DateTime)
    started_at = db.Column(db.DateTime, nullable=False, default=utcnow, index=True)
    ended_at = db.Column(db.DateTime)
    status = db.Column(db.String(10), nullable=False, default="running", index=True)
    files = db.Column(db.Integer, nullable=False, default=0)
    records = db.Column(db.Integer, nullable=False, default=0)
    records_failed = db.Column(db.Integer, nullable=False, default=0)
    progress_done = db.Column(db.Integer, nullable=False, default=0)
    progress_total = db.Column(db.Integer)
    message = db.Column(db.Text, nullable=False, default="")
    message_text = db.Column(db.JSON)   # the message to show translated (app.text.Text.to_json), if it has one
    actor_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    heartbeat_at = db.Column(db.DateTime)
    # The process running it (set on insert by whichever process creates the run): when that
    # process is gone, the run is marked interrupted at once instead of blocking the next runs.
    owner_host = db.Column(db.String(255), default=lambda: processes.current().host)
    owner_pid = db.Column(db.Integer, default=lambda: processes.current().pid)
    owner_mark = db.Column(db.String(100), default=lambda: processes.current().mark)
    interrupted = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())

    profile = db.relationship("IntegrationProfile")
    actor = db.relationship("User")
    events = db.relationship("JobEvent", back_populates="run", cascade="all, delete-orphan",
                             order_by="JobEvent.id", lazy="dynamic")

    @property
    def job_label(self) -> str:
        return JOBS.get(self.job) or OTHER_JOBS.get(self.job, self.job)

    @property
    def live_progress(self) -> tuple[str, int, int | None]:
        """``(step, done, total)``: while this process runs the run, its live figures (:mod:`.live`),
        else the row's (``step`` then empty)."""
        found = live.of(self.id) if self.status == "running" and self.id is not None else None
        return found or ("", self.progress_done or 0, self.progress_total)

    def say(self, message) -> None:
        """Keep ``message`` as the run's report line: its English, and a Text's JSON to show it translated."""
        self.message, self.message_text = english(message)[:4000], stored(message)

    @property
    def shown_message(self) -> str:
        """The run's report line in the reader's language."""
        return Text.from_json(self.message_text, self.message)

    @property
    def status_label(self) -> str:
        if self.interrupted:
            return T("Interrupted")
        if self.status == "completed" and self.records_failed:
            return T("Completed with exceptions")
        return RUN_STATUSES.get(self.status, self.status)

    @property
    def trigger_label(self) -> str:
        if self.trigger == "manual" and self.job in PAGE_STARTED_JOBS:
            return PAGE_STARTED_JOBS[self.job]
        return TRIGGERS.get(self.trigger, self.trigger)


class JobEvent(db.Model):
    """What a run did, refused or failed at, one line each (the error report is the warnings
    and errors of a run as CSV)."""
    __tablename__ = "job_event"

    id = db.Column(db.Integer, primary_key=True)
    run_id = db.Column(db.Integer, db.ForeignKey("job_run.id", ondelete="CASCADE"), nullable=False, index=True)
    at = db.Column(db.DateTime, nullable=False, default=utcnow)
    level = db.Column(db.String(7), nullable=False, default="info")   # info | warning | error
    file_name = db.Column(db.String(255), nullable=False, default="")
    record = db.Column(db.String(255), nullable=False, default="")     # e.g. invoice number, row 12
    message = db.Column(db.Text, nullable=False)
    text = db.Column(db.JSON)   # the message to show translated (app.text.Text.to_json), if it has one

    run = db.relationship("JobRun", back_populates="events")

    @classmethod
    def of(cls, run_id: int, level: str, message, **columns) -> "JobEvent":
        """An event saying ``message``: its English, and a Text's JSON to show it translated."""
        return cls(run_id=run_id, level=level, message=english(message)[:4000], text=stored(message), **columns)

    @property
    def shown(self) -> str:
        """The message in the reader's language (as stored when it was recorded as plain text)."""
        return Text.from_json(self.text, self.message)

    @property
    def level_label(self) -> str:
        return EVENT_LEVELS.get(self.level, self.level)


class HandledFile(db.Model):
    """A file an import job has taken, by the SHA-256 of its bytes: the same bytes delivered again
    (under any name) are not applied twice."""
    __tablename__ = "handled_file"
    __table_args__ = (db.UniqueConstraint("job", "sha256"),)

    id = db.Column(db.Integer, primary_key=True)
    job = db.Column(db.String(20), nullable=False)
    sha256 = db.Column(db.String(64), nullable=False)
    file_name = db.Column(db.String(255), nullable=False)
    size = db.Column(db.Integer, nullable=False)
    status = db.Column(db.String(10), nullable=False)     # done | rejected
    profile_id = db.Column(db.Integer, db.ForeignKey("integration_profile.id", ondelete="SET NULL"))
    run_id = db.Column(db.Integer, db.ForeignKey("job_run.id", ondelete="SET NULL"))
    handled_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class ExportBatch(db.Model):
    """One invoice-export file: its name and exact bytes are fixed when the batch is made, so a
    failed upload is retried with the same file, and the invoices move on only once it is sent."""
    __tablename__ = "export_batch"

    id = db.Column(db.Integer, primary_key=True)
    profile_id = db.Column(db.Integer, db.ForeignKey("integration_profile.id", ondelete="CASCADE"),
                           nullable=False, index=True)
    file_name = db.Column(db.String(255), nullable=False, unique=True)
    content = db.Column(db.LargeBinary, nullable=False)
    sha256 = db.Column(db.String(64), nullable=False)
    status = db.Column(db.String(10), nullable=False, default="pending", index=True)   # pending | sent | void
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    sent_at = db.Column(db.DateTime)
    run_id = db.Column(db.Integer, db.ForeignKey("job_run.id", ondelete="SET NULL"))

    invoices = db.relationship("ExportBatchInvoice", back_populates="batch", cascade="all, delete-orphan")

    @property
    def status_label(self) -> str:
        return EXPORT_BATCH_STATUSES.get(self.status, self.status)


class ExportBatchInvoice(db.Model):
    __tablename__ = "export_batch_invoice"
    __table_args__ = (db.UniqueConstraint("batch_id", "invoice_id"),)

    id = db.Column(db.Integer, primary_key=True)
    batch_id = db.Column(db.Integer, db.ForeignKey("export_batch.id", ondelete="CASCADE"), nullable=False, index=True)
    invoice_id = db.Column(db.Integer, db.ForeignKey("invoice.id", ondelete="CASCADE"), nullable=False, index=True)

    batch = db.relationship("ExportBatch", back_populates="invoices")
    invoice = db.relationship("Invoice")


class OrderExport(db.Model):
    """A sent PO (an ``outbox_event`` of kind ``po_sent``) queued for the ERP."""
    __tablename__ = "order_export"

    id = db.Column(db.Integer, primary_key=True)
    outbox_event_id = db.Column(db.Integer, db.ForeignKey("outbox_event.id", ondelete="CASCADE"),
                                nullable=False, unique=True)
    profile_id = db.Column(db.Integer, db.ForeignKey("integration_profile.id", ondelete="CASCADE"),
                           nullable=False, index=True)
    status = db.Column(db.String(10), nullable=False, default="pending", index=True)   # pending | sent | failed
    attempts = db.Column(db.Integer, nullable=False, default=0)
    file_name = db.Column(db.String(255), nullable=False, default="")
    last_error = db.Column(db.Text, nullable=False, default="")
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class POLineExport(db.Model):
    """A closed or cancelled PO line already sent to the ERP (each goes once)."""
    __tablename__ = "po_line_export"

    id = db.Column(db.Integer, primary_key=True)
    po_line_id = db.Column(db.Integer, db.ForeignKey("po_line.id", ondelete="CASCADE"), nullable=False, unique=True)
    profile_id = db.Column(db.Integer, db.ForeignKey("integration_profile.id", ondelete="SET NULL"))
    file_name = db.Column(db.String(255), nullable=False)
    run_id = db.Column(db.Integer, db.ForeignKey("job_run.id", ondelete="SET NULL"))
    exported_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class FiscalPeriodMapping(db.Model):
    """The ERP's number for one of our fiscal periods (FISCAL_PERIOD_ID in allocation files)."""
    __tablename__ = "fiscal_period_mapping"

    id = db.Column(db.Integer, primary_key=True)
    erp_id = db.Column(db.Integer, nullable=False, unique=True)
    fiscal_period_id = db.Column(db.Integer, db.ForeignKey("fiscal_period.id", ondelete="CASCADE"),
                                 nullable=False, unique=True)

    fiscal_period = db.relationship("FiscalPeriod")


class AllocationRow(db.Model):
    """A fund allocation loaded from a file row: (file hash, row number) is applied once."""
    __tablename__ = "allocation_row"
    __table_args__ = (db.UniqueConstraint("file_sha256", "row_number"),)

    id = db.Column(db.Integer, primary_key=True)
    file_sha256 = db.Column(db.String(64), nullable=False)
    row_number = db.Column(db.Integer, nullable=False)
    fund_transaction_id = db.Column(db.Integer, db.ForeignKey("fund_transaction.id"), nullable=False)


class BulkLoad(db.Model):
    """One big load (an Excel invoice file for a vendor, an Aleph migration) by what it loads: the
    SHA-256 ``key`` of its input. Its runs commit in chunks; a run that dies part-way leaves this
    row and its progress, and loading the same input again carries on where it stopped."""
    __tablename__ = "bulk_load"
    __table_args__ = (db.UniqueConstraint("kind", "key"),)

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(20), nullable=False)       # invoice_file | aleph_budgets
    key = db.Column(db.String(64), nullable=False)
    name = db.Column(db.String(255), nullable=False, default="")   # file name(s), for people
    status = db.Column(db.String(10), nullable=False, default="running")   # running | done | failed
    stage = db.Column(db.String(20), nullable=False, default="")   # how far a multi-step load got
    progress = db.Column(db.Integer, nullable=False, default=0)    # units committed in that stage
    run_id = db.Column(db.Integer, db.ForeignKey("job_run.id", ondelete="SET NULL"))   # the latest run
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    run = db.relationship("JobRun")


class BulkLoadInvoice(db.Model):
    """An invoice a file load created, by the spreadsheet row it starts on: committed with the
    invoice, so a rerun of the same file never creates it again."""
    __tablename__ = "bulk_load_invoice"
    __table_args__ = (db.UniqueConstraint("load_id", "first_row"),)

    id = db.Column(db.Integer, primary_key=True)
    load_id = db.Column(db.Integer, db.ForeignKey("bulk_load.id", ondelete="CASCADE"), nullable=False)
    first_row = db.Column(db.Integer, nullable=False)
    number = db.Column(db.String(50), nullable=False)
    invoice_id = db.Column(db.Integer, db.ForeignKey("invoice.id", ondelete="SET NULL"), index=True)
    run_id = db.Column(db.Integer, db.ForeignKey("job_run.id", ondelete="SET NULL"), index=True)


class AllowedHost(db.Model):
    """An S/FTP server a test (not production) instance may connect to: ``host`` with ``port``, or
    any port when it is NULL. Beside ERP_CONNECTION_ALLOWLIST (connection codes in the config file).
    A removed entry is kept with who removed it and when (``removed_at``), so the page can say so."""
    __tablename__ = "erp_allowed_host"

    id = db.Column(db.Integer, primary_key=True)
    host = db.Column(db.String(255), nullable=False)      # lower case
    port = db.Column(db.Integer)
    note = db.Column(db.String(200), nullable=False, default="")
    added_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    added_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    removed_at = db.Column(db.DateTime)
    removed_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))

    added_by = db.relationship("User", foreign_keys=[added_by_id])
    removed_by = db.relationship("User", foreign_keys=[removed_by_id])

    __table_args__ = (db.CheckConstraint("port IS NULL OR port BETWEEN 1 AND 65535", name="port_in_range"),)

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}" if self.port else host
