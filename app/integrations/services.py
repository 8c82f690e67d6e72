"""Connections and finance integration profiles: every change goes through here, for the pages,
the demo and the tests alike. Only an administrator of the whole institution may change them."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..auth.permissions import is_institution_admin
from ..errors import Duplicate, Forbidden, InvalidInput, NotFound, RuleViolation
from ..extensions import db
from . import secrets
from .models import (ALLOCATION_FILE_TYPES, CONNECTION_KINDS, JOBS, SCHEDULES, Connection, FiscalPeriodMapping,
                     IntegrationProfile, ProfileSection)
from ..text import T
from .paths import UnsafePath, clean_folder
from .transport import TransferError, load_private_key, parse_host_key

_CODE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_HOST = re.compile(r"^[A-Za-z0-9.\-:\[\]]{1,255}$")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
UNSCHEDULABLE = frozenset({"export_orders"})   # runs when a PO is sent
# The invoice export's element sets (app.integrations.formats.payment_data.VERSIONS). "Version 1" is
# our name for the shape of Alma's 2016/2017 files; Alma documents no such switch.
XSD_VERSIONS = {"current": T("Current"), "v1": T("Version 1")}


def require_admin(actor) -> None:
    if not is_institution_admin(actor):
        raise Forbidden(T("Only a general system administrator of the institution may manage the ERP integration."))


def _code(value: str, what: str) -> str:
    value = (value or "").strip()
    if not _CODE.match(value):
        if what == "profile":
            raise InvalidInput(T("The profile code is 1–40 letters, digits, '-' or '_'."), "code")
        raise InvalidInput(T("The connection code is 1–40 letters, digits, '-' or '_'."), "code")
    return value


def _name(value: str) -> str:
    value = (value or "").strip()
    if not value or len(value) > 200:
        raise InvalidInput(T("Enter a name (at most 200 characters)."), "name")
    return value


# -- connections ------------------------------------------------------------------------------------

@dataclass
class ConnectionFields:
    code: str = ""
    name: str = ""
    kind: str = "sftp"
    host: str = ""
    port: int | None = None
    username: str = ""
    password: str | None = None      # None or "": keep the stored one
    private_key: str | None = None   # None or "": keep the stored one
    clear_password: bool = False
    clear_private_key: bool = False
    host_key: str = ""
    root_path: str = ""
    base_dir: str = ""


def _all(model) -> list:
    return list(db.session.scalars(db.select(model).order_by(model.code)))


def _get(model, ref, missing: str):
    """The row of ``model`` with the id or the code ``ref``."""
    row = db.session.get(model, ref) if isinstance(ref, int) or str(ref).isdigit() else None
    row = row or db.session.scalar(db.select(model).filter_by(code=str(ref)))
    if row is None:
        raise NotFound(missing)
    return row


def connections() -> list[Connection]:
    return _all(Connection)


def get_connection(ref) -> Connection:
    return _get(Connection, ref, T("No such connection."))


def _apply_connection(conn: Connection, f: ConnectionFields) -> None:
    if f.kind not in CONNECTION_KINDS:
        raise InvalidInput(T("Choose SFTP, FTP or a local folder."), "kind")
    conn.kind = f.kind
    conn.name = _name(f.name)
    try:
        conn.base_dir = clean_folder(f.base_dir, "base sub-directory")
    except UnsafePath as exc:
        raise InvalidInput(exc.text, "base_dir") from None
    if f.kind == "local":
        root = (f.root_path or "").strip()
        if not root.startswith("/") or "\x00" in root or "/../" in root + "/" or len(root) > 500:
            raise InvalidInput(T("Give the absolute path of a folder on this server, without '..'."), "root_path")
        conn.root_path = root.rstrip("/") or "/"
        conn.host, conn.port, conn.username, conn.host_key = "", None, "", ""
        conn.password_secret = conn.private_key_secret = ""
        return
    host = (f.host or "").strip()
    if not _HOST.match(host):
        raise InvalidInput(T("Enter the server's host name or IP address."), "host")
    if f.port is not None and not 1 <= int(f.port) <= 65535:
        raise InvalidInput(T("The port is a number from 1 to 65535."), "port")
    username = (f.username or "").strip()
    if not username or len(username) > 100:
        raise InvalidInput(T("Enter the user name to log in with."), "username")
    conn.host, conn.port, conn.username, conn.root_path = host, f.port, username, ""
    if f.clear_password:
        conn.password_secret = ""
    elif f.password:
        conn.password_secret = secrets.encrypt(f.password)
    if f.kind == "sftp":
        if f.clear_private_key:
            conn.private_key_secret = ""
        elif f.private_key:
            try:
                load_private_key(f.private_key.strip() + "\n")
            except TransferError as exc:
                raise InvalidInput(exc.text, "private_key") from None
            conn.private_key_secret = secrets.encrypt(f.private_key.strip() + "\n")
        host_key = " ".join((f.host_key or "").split())
        if not host_key:
            raise InvalidInput(T("Paste the server's host key (one line of ssh-keyscan's output): an SFTP "
                                 "connection never trusts an unknown key."), "host_key")
        try:
            parse_host_key(host_key)
        except TransferError as exc:
            raise InvalidInput(exc.text, "host_key") from None
        parts = host_key.split()
        conn.host_key = " ".join(parts[1:3] if not parts[0].startswith(("ssh-", "ecdsa-")) else parts[:2])
        if not conn.password_secret and not conn.private_key_secret:
            raise InvalidInput(T("Give a password or a private key."), "password")
    else:
        conn.private_key_secret, conn.host_key = "", ""
        if not conn.password_secret:
            raise InvalidInput(T("Give the FTP password."), "password")


def _create(actor, model, what: str, f, apply):
    """A new ``model`` row (``what``: its name in messages) with the unique code ``f.code``,
    filled in by ``apply(row, f)``, flushed."""
    require_admin(actor)
    code = _code(f.code, what)
    if db.session.scalar(db.select(model.id).filter_by(code=code)):
        if what == "profile":
            raise Duplicate(T("A profile %(code)s already exists.", code=code), "code")
        raise Duplicate(T("A connection %(code)s already exists.", code=code), "code")
    row = model(code=code)
    apply(row, f)
    db.session.add(row)
    db.session.flush()
    return row


def _update(actor, row, f, apply):
    require_admin(actor)
    apply(row, f)
    db.session.flush()
    return row


def create_connection(actor, f: ConnectionFields) -> Connection:
    return _create(actor, Connection, "connection", f, _apply_connection)


def update_connection(actor, conn: Connection, f: ConnectionFields) -> Connection:
    return _update(actor, conn, f, _apply_connection)


def delete_connection(actor, conn: Connection) -> None:
    require_admin(actor)
    if conn.profiles:
        raise RuleViolation(T("Connection %(connection)s is used by profile %(profile)s; change that profile first.",
                              connection=conn.code, profile=conn.profiles[0].code))
    db.session.delete(conn)
    db.session.flush()


# -- profiles -------------------------------------------------------------------------------------

def profiles() -> list[IntegrationProfile]:
    return _all(IntegrationProfile)


def get_profile(ref) -> IntegrationProfile:
    return _get(IntegrationProfile, ref, T("No such integration profile."))


@dataclass
class ProfileFields:
    code: str = ""
    name: str = ""
    connection_id: int | None = None
    financial_system: str = ""
    description: str = ""


def _apply_profile(prof: IntegrationProfile, f: ProfileFields) -> None:
    prof.name = _name(f.name)
    conn = db.session.get(Connection, f.connection_id) if f.connection_id else None
    if conn is None:
        raise InvalidInput(T("Choose the connection the files go through."), "connection_id")
    prof.connection = conn
    system = (f.financial_system or "").strip()
    if not system or len(system) > 60:
        raise InvalidInput(T("Enter the financial system's type (for example SAP, Oracle, PeopleSoft)."),
                           "financial_system")
    prof.financial_system = system
    prof.description = (f.description or "").strip()[:2000]


def create_profile(actor, f: ProfileFields) -> IntegrationProfile:
    """Step one of the wizard: the profile with its five sections, all non-active."""
    return _create(actor, IntegrationProfile, "profile", f, _new_profile)


def _new_profile(prof: IntegrationProfile, f: ProfileFields) -> None:
    _apply_profile(prof, f)
    for job in JOBS:
        prof.sections.append(ProfileSection(job=job, file_type="csv" if job == "load_allocations" else ""))


def update_profile(actor, prof: IntegrationProfile, f: ProfileFields) -> IntegrationProfile:
    return _update(actor, prof, f, _apply_profile)


def delete_profile(actor, prof: IntegrationProfile) -> None:
    require_admin(actor)
    db.session.delete(prof)
    db.session.flush()


@dataclass
class SectionFields:
    active: bool = False
    path: str = ""
    file_type: str = ""
    split_by_owner: bool = False
    xsd_version: str = "current"
    batch_size: int = 1000
    schedule: str = "none"
    schedule_time: str = ""
    schedule_day: int | None = None


def _bump(section: ProfileSection) -> None:
    section.version = (section.version or 0) + 1


def _check_section(section: ProfileSection, f: SectionFields, others: dict[str, str]) -> dict:
    job = section.job
    field = f"{job}-path"
    try:
        path = clean_folder(f.path, "folder", allow_empty=not f.active)
    except UnsafePath as exc:
        raise InvalidInput(exc.text, field) from None
    if path and section.is_input:
        clash = [JOBS[j] for j, p in others.items() if p == path]
        if clash:
            raise InvalidInput(T("An input folder may not be the folder of another section (%(section)s).",
                                 section=clash[0]), field)
    if path and not section.is_input:
        clash = [JOBS[j] for j, p in others.items() if p == path and j in ("import_payments", "load_allocations")]
        if clash:
            raise InvalidInput(T("This folder is the input folder of %(section)s; choose another.", section=clash[0]), field)
    values = {"path": path, "active": bool(f.active)}
    if job == "load_allocations":
        if f.file_type not in ALLOCATION_FILE_TYPES:
            raise InvalidInput(T("Choose the file type: .csv, .xls or .xlsx."), f"{job}-file_type")
        values["file_type"] = f.file_type
    if job == "export_invoices":
        values["split_by_owner"] = bool(f.split_by_owner)
        if f.xsd_version not in XSD_VERSIONS:
            raise InvalidInput(T("Choose the XSD version: current or version 1."), f"{job}-xsd_version")
        values["xsd_version"] = f.xsd_version
    if job == "export_po_lines":
        try:
            size = int(f.batch_size)
        except (TypeError, ValueError):
            size = 0
        if not 1 <= size <= 50_000:
            raise InvalidInput(T("The batch size is a number from 1 to 50,000."), f"{job}-batch_size")
        values["batch_size"] = size
    schedule = f.schedule or "none"
    if schedule not in SCHEDULES:
        raise InvalidInput(T("Choose a schedule from the list."), f"{job}-schedule")
    if job in UNSCHEDULABLE and schedule != "none":
        raise InvalidInput(T("The PO export cannot be scheduled: it runs when a PO is sent to the vendor."),
                           f"{job}-schedule")
    time_, day = "", None
    if schedule in ("daily", "weekly"):
        time_ = (f.schedule_time or "").strip()
        if not _TIME.match(time_):
            raise InvalidInput(T("Give the time as HH:MM (24-hour clock)."), f"{job}-schedule_time")
    if schedule == "weekly":
        if f.schedule_day is None or not 0 <= int(f.schedule_day) <= 6:
            raise InvalidInput(T("Choose the day of the week."), f"{job}-schedule_day")
        day = int(f.schedule_day)
    values.update(schedule=schedule, schedule_time=time_, schedule_day=day)
    return values


def update_sections(actor, prof: IntegrationProfile, fields: dict[str, SectionFields]) -> IntegrationProfile:
    """Step two of the wizard: all five sections at once (paths are checked against each other)."""
    require_admin(actor)
    if set(fields) - set(JOBS):
        raise InvalidInput(T("Unknown section."))
    proposed = {s.job: clean_or_raw(fields[s.job].path if s.job in fields else s.path) for s in prof.sections}
    checked = {}
    for section in prof.sections:
        if section.job not in fields:
            continue
        others = {j: p for j, p in proposed.items() if j != section.job and p}
        checked[section.job] = _check_section(section, fields[section.job], others)
    for section in prof.sections:
        if section.job in checked:
            for key, value in checked[section.job].items():
                setattr(section, key, value)
            _bump(section)
    db.session.flush()
    return prof


def clean_or_raw(path: str) -> str:
    try:
        return clean_folder(path)
    except UnsafePath:
        return (path or "").strip()


def set_active(actor, prof: IntegrationProfile, job: str, active: bool) -> ProfileSection:
    """The switch on the profile page: the scheduler process follows within seconds."""
    require_admin(actor)
    section = prof.section(job)
    if section is None:
        raise NotFound(T("No such section."))
    if active and not section.path:
        raise RuleViolation(T("Give '%(section)s' a folder before turning it on.", section=JOBS[job]), "active")
    section.active = bool(active)
    _bump(section)
    db.session.flush()
    return section


# -- fiscal period mapping (FISCAL_PERIOD_ID of allocation files) ------------------------------------

def fiscal_period_mappings() -> list[FiscalPeriodMapping]:
    return list(db.session.scalars(db.select(FiscalPeriodMapping).order_by(FiscalPeriodMapping.erp_id)))


def fiscal_period_number_clashes(periods, wanted: dict[int, int | None]) -> dict[int, str]:
    """The numbers ``wanted`` (fiscal period id -> number; a period left out has none) gives twice:
    the period whose number changed is the one told (the other keeps its number)."""
    current = {m.fiscal_period_id: m.erp_id for m in fiscal_period_mappings()}
    errors: dict[int, str] = {}
    for p in periods:
        number = wanted.get(p.id)
        others = [o for o in periods if o.id != p.id and number is not None and wanted.get(o.id) == number]
        if others and wanted.get(p.id) != current.get(p.id):
            errors[p.id] = T("Number %(number)s already stands for %(code)s.", number=number, code=others[0].code)
    return errors


def renumber_fiscal_periods(actor, periods, wanted: dict[int, int | None]) -> dict[int, str]:
    """Give ``periods`` the ERP numbers of ``wanted`` (id -> number or None) all at once, so two can
    swap theirs: the refusals by period id (none: all set). With refusals the caller rolls back."""
    require_admin(actor)
    errors = fiscal_period_number_clashes(periods, wanted)
    if errors:
        return errors
    current = {m.fiscal_period_id: m.erp_id for m in fiscal_period_mappings()}
    renumbered = [p for p in periods if wanted.get(p.id) != current.get(p.id)]
    for p in renumbered:   # free the old numbers first
        set_fiscal_period_mapping(actor, p, None)
    for p in renumbered:
        try:
            set_fiscal_period_mapping(actor, p, wanted.get(p.id))
        except (InvalidInput, Duplicate) as exc:
            if exc.field != "erp_id":
                raise
            errors[p.id] = exc.message
    return errors


def set_fiscal_period_mapping(actor, fiscal_period, erp_id: int | None) -> FiscalPeriodMapping | None:
    """Give a fiscal period its ERP number (None removes it)."""
    require_admin(actor)
    current = db.session.scalar(db.select(FiscalPeriodMapping).filter_by(fiscal_period_id=fiscal_period.id))
    if erp_id is None:
        if current is not None:
            db.session.delete(current)
            db.session.flush()
        return None
    if not isinstance(erp_id, int) or not 0 <= erp_id <= 999_999:
        raise InvalidInput(T("The ERP's fiscal period number is a whole number from 0 to 999999."), "erp_id")
    taken = db.session.scalar(db.select(FiscalPeriodMapping).filter_by(erp_id=erp_id))
    if taken is not None and taken.fiscal_period_id != fiscal_period.id:
        raise Duplicate(T("Number %(number)s already stands for %(code)s.", number=erp_id, code=taken.fiscal_period.code), "erp_id")
    if current is None:
        current = FiscalPeriodMapping(fiscal_period_id=fiscal_period.id, erp_id=erp_id)
        db.session.add(current)
    current.erp_id = erp_id
    db.session.flush()
    return current
