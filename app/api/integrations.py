"""API v1: the finance (ERP) integration — connections (with the page's test) and integration
profiles with their five sections (settings, the on/off switch, "Run now").

Institution administrators only, as on the ERP pages (a library-scoped administrator gets 403);
every change goes through :mod:`app.integrations.services` and its neighbours, as the pages'.
Connections and profiles are named in paths by their code (or their id). Secrets are write-only:
a connection answers ``has_password`` and ``has_private_key``, never the password or the key.
A profile's other settings: :mod:`app.api.integrations_settings`; runs and the allowed S/FTP
servers: :mod:`app.api.integrations_runs`.
"""
from __future__ import annotations

from functools import wraps

from flask import current_app, jsonify, url_for
from flask_login import current_user

from ..auth.models import Role
from ..auth.permissions import institution_roles_required, require_institution_role, roles_required
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..idempotency import idempotent
from ..ids import MAX_ID
from ..integrations import allowed_hosts, runs
from ..integrations import services as integrations
from ..integrations.models import ALLOCATION_FILE_TYPES, CONNECTION_KINDS, JOBS, SCHEDULES, Connection
from ..notifications.models import NOTIFY_WHEN
from .base import (BOOLEAN, INTEGER, MOMENT, STRING, action_routes, bp, check_match, deleted,
                   input_schema, list_of, named, object_schema, one, operation, param, patch_schema, path_param,
                   ref, register_openapi, saved)
from .serializers import Field, read_body, read_patch, timestamp

ADMIN = (Role.ADMIN,)


def institution_admin(view):
    """A read of the ERP integration, a connection test, a preview or a run started: an administrator
    of the whole institution (403 otherwise). Changes of shared settings use
    ``institution_roles_required`` instead, which marks them institution-wide for the role matrix."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        require_institution_role(current_user, frozenset(ADMIN), "use the ERP integration")
        return view(*args, **kwargs)
    return roles_required(*ADMIN)(wrapper)


def page_field(exc: InvalidInput, prefix: str) -> InvalidInput:
    """A section's refusal names the page's field ("export_invoices-path"): the API's is "path"."""
    field = exc.field[len(prefix):] if exc.field and exc.field.startswith(prefix) else exc.field
    return InvalidInput(exc.message, field)


# -- connections ---------------------------------------------------------------------------------

CONNECTION_UPDATE = {
    "name": Field("str", "A name.", required=True, max_length=200),
    "kind": Field("enum", "sftp, ftp or local (a folder on this server).", required=True,
                  choices=tuple(CONNECTION_KINDS)),
    "host": Field("str", "S/FTP: the server's host name or IP address.", default="", max_length=255),
    "port": Field("int", "S/FTP: the port; null: 22 (SFTP) or 21 (FTP).", nullable=True,
                  schema={"minimum": 1, "maximum": 65535}),
    "username": Field("str", "S/FTP: the user name to log in with.", default="", max_length=100),
    "password": Field("str", "Write-only. S/FTP: the password (stored encrypted). Left out: kept as it is; "
                             "null: removed.", nullable=True, max_length=1000),
    "private_key": Field("str", "Write-only. SFTP: a private key in OpenSSH or PEM form (stored encrypted). Left "
                                "out: kept as it is; null: removed.", nullable=True, max_length=20000),
    "host_key": Field("str", "SFTP: the server's host key, one line of ssh-keyscan's output (required: an "
                             "unknown key is never trusted).", default="", max_length=20000),
    "root_path": Field("str", "Local folder: its absolute path on this server.", default="", max_length=500),
    "base_dir": Field("str", "A sub-directory under the login folder (or the root path) every section's folder "
                             "is under.", default="", max_length=200),
}
CONNECTION_IN = {"code": Field("str", "1–40 letters, digits, '-' or '_'; unique.", required=True, max_length=40),
                 **CONNECTION_UPDATE}


def connection_json(c: Connection) -> dict:
    return {"id": c.id, "code": c.code, "name": c.name, "kind": c.kind, "host": c.host, "port": c.port,
            "username": c.username, "has_password": c.has_password, "has_private_key": c.has_private_key,
            "host_key": c.host_key, "root_path": c.root_path, "base_dir": c.base_dir, "address": c.address,
            "usable_here": allowed_hosts.refusal(c) is None,
            "profiles": [p.code for p in c.profiles], "created_at": timestamp(c.created_at)}


def _connection_as_input(c: Connection) -> dict:
    data = connection_json(c)
    return {**{name: data[name] for name in CONNECTION_UPDATE if name in data}, "password": None,
            "private_key": None}


def _connection_fields(body, code: str = "") -> integrations.ConnectionFields:
    given = body.given
    return integrations.ConnectionFields(
        code=code, name=body["name"], kind=body["kind"], host=body["host"], port=body["port"],
        username=body["username"], password=body["password"] or None, private_key=body["private_key"] or None,
        clear_password="password" in given and body["password"] is None,
        clear_private_key="private_key" in given and body["private_key"] is None,
        host_key=body["host_key"], root_path=body["root_path"], base_dir=body["base_dir"])


def _ref(ref: str, what: str):
    """A path's code or id: an id beyond the ids' range (or in other digits) is no object at all."""
    if ref.isdigit() and not (ref.isascii() and int(ref) <= MAX_ID):
        raise NotFound(f"No such {what}.")
    return ref


def _connection(connection_code: str) -> Connection:
    return integrations.get_connection(_ref(connection_code, "connection"))


@bp.get("/erp/connections")
@institution_admin
def list_erp_connections():
    return {"items": [connection_json(c) for c in integrations.connections()]}


@bp.post("/erp/connections")
@institution_roles_required(*ADMIN)
@idempotent
def create_erp_connection():
    body = read_body(CONNECTION_IN)
    conn = integrations.create_connection(current_user, _connection_fields(body, body["code"]))
    return saved(conn, connection_json, 201, lambda c: url_for("api.get_erp_connection", connection_code=c.code))


@bp.get("/erp/connections/<connection_code>")
@institution_admin
def get_erp_connection(connection_code):
    return one(_connection(connection_code), connection_json)


@bp.patch("/erp/connections/<connection_code>")
@institution_roles_required(*ADMIN)
def patch_erp_connection(connection_code):
    conn = _connection(connection_code)
    check_match(conn, connection_json)
    body = read_patch(CONNECTION_UPDATE, _connection_as_input(conn))
    integrations.update_connection(current_user, conn, _connection_fields(body, conn.code))
    return saved(conn, connection_json)


@bp.delete("/erp/connections/<connection_code>")
@institution_roles_required(*ADMIN)
def delete_erp_connection(connection_code):
    conn = _connection(connection_code)
    check_match(conn, connection_json)
    integrations.delete_connection(current_user, conn)
    return deleted()


@bp.post("/erp/connections/<connection_code>/actions/test")
@institution_admin
def test_erp_connection(connection_code):
    """The page's "Test": log in, look at the base folder; nothing is changed."""
    from ..integrations.transport import TransferError, check_connection
    conn = _connection(connection_code)
    read_body({}, optional=True)
    try:
        message, ok = check_connection(conn), True
    except TransferError as exc:
        message, ok = str(exc), False
    db.session.rollback()
    return {"connection": conn.code, "ok": ok, "message": message}


# -- profiles ------------------------------------------------------------------------------------

PROFILE_UPDATE = {
    "name": Field("str", "A name.", required=True, max_length=200),
    "connection": Field("str", "The code of the connection the files go through.", required=True, max_length=40),
    "financial_system": Field("str", "The financial system's type (SAP, Oracle, PeopleSoft, Workday, …).",
                              required=True, max_length=60),
    "description": Field("str", "A description.", default="", max_length=2000),
}
PROFILE_IN = {"code": Field("str", "1–40 letters, digits, '-' or '_'; unique.", required=True, max_length=40),
              **PROFILE_UPDATE}

SECTION_UPDATE = {
    "path": Field("str", "The section's folder under the connection's base folder; an input folder (payments, "
                         "allocations) is nobody else's.", default="", max_length=200),
    "file_type": Field("str", "Funds allocation loader only: csv, xls or xlsx.", default="", max_length=5),
    "split_by_owner": Field("bool", "Invoice export only: one file per owning library.", default=False),
    "xsd_version": Field("enum", "Invoice export only: the element set written (current, or v1: the "
                                 "2016/2017 files' set).", default="current", choices=tuple(integrations.XSD_VERSIONS)),
    "batch_size": Field("int", "PO line export only: lines per file (1–50,000).", default=1000,
                        schema={"minimum": 1, "maximum": 50000}),
    "schedule": Field("enum", "When the scheduler runs it (the PO export cannot be scheduled: it runs when a PO "
                              "is sent).", default="none", choices=tuple(SCHEDULES)),
    "schedule_time": Field("str", "Daily and weekly: HH:MM (24-hour clock).", default="", max_length=5),
    "schedule_day": Field("int", "Weekly: the day, 0 = Monday … 6 = Sunday.", nullable=True,
                          schema={"minimum": 0, "maximum": 6}),
}


def section_json(s) -> dict:
    return {"profile": s.profile.code, "job": s.job, "label": s.label, "active": s.active, "path": s.path,
            "file_type": s.file_type, "split_by_owner": s.split_by_owner, "xsd_version": s.xsd_version,
            "batch_size": s.batch_size, "schedule": s.schedule, "schedule_time": s.schedule_time,
            "schedule_day": s.schedule_day, "schedule_text": s.schedule_text}


def profile_json(p) -> dict:
    return {"id": p.id, "code": p.code, "name": p.name, "connection": p.connection.code,
            "financial_system": p.financial_system, "description": p.description, "notify_when": p.notify_when,
            "recipients": [u.username for u in p.recipients], "created_at": timestamp(p.created_at),
            "sections": [section_json(s) for s in p.sections]}


def profile_of(profile_code: str):
    return integrations.get_profile(_ref(profile_code, "integration profile"))


def _section(profile_code: str, job: str):
    profile = profile_of(profile_code)
    section = profile.section(job) if job in JOBS else None
    if section is None:
        raise NotFound(f"No section {job} (the sections are: {', '.join(JOBS)}).")
    return section


def _profile_fields(body, code: str = "") -> integrations.ProfileFields:
    conn = named(Connection, body["connection"], "connection", "connection")
    return integrations.ProfileFields(code=code, name=body["name"], connection_id=conn.id,
                                      financial_system=body["financial_system"], description=body["description"])


@bp.get("/erp/profiles")
@institution_admin
def list_erp_profiles():
    return {"items": [profile_json(p) for p in integrations.profiles()]}


@bp.post("/erp/profiles")
@institution_roles_required(*ADMIN)
@idempotent
def create_erp_profile():
    body = read_body(PROFILE_IN)
    profile = integrations.create_profile(current_user, _profile_fields(body, body["code"]))
    return saved(profile, profile_json, 201, lambda p: url_for("api.get_erp_profile", profile_code=p.code))


@bp.get("/erp/profiles/<profile_code>")
@institution_admin
def get_erp_profile(profile_code):
    return one(profile_of(profile_code), profile_json)


@bp.patch("/erp/profiles/<profile_code>")
@institution_roles_required(*ADMIN)
def patch_erp_profile(profile_code):
    profile = profile_of(profile_code)
    check_match(profile, profile_json)
    current = profile_json(profile)
    body = read_patch(PROFILE_UPDATE, {name: current[name] for name in PROFILE_UPDATE})
    integrations.update_profile(current_user, profile, _profile_fields(body, profile.code))
    return saved(profile, profile_json)


@bp.delete("/erp/profiles/<profile_code>")
@institution_roles_required(*ADMIN)
def delete_erp_profile(profile_code):
    profile = profile_of(profile_code)
    check_match(profile, profile_json)
    integrations.delete_profile(current_user, profile)
    return deleted()


# -- sections ------------------------------------------------------------------------------------

@bp.get("/erp/profiles/<profile_code>/sections/<job>")
@institution_admin
def get_erp_section(profile_code, job):
    return one(_section(profile_code, job), section_json)


@bp.patch("/erp/profiles/<profile_code>/sections/<job>")
@institution_roles_required(*ADMIN)
def patch_erp_section(profile_code, job):
    """The sections page's save, for one section (its folder checked against the other sections')."""
    section = _section(profile_code, job)
    check_match(section, section_json)
    current = section_json(section)
    body = read_patch(SECTION_UPDATE, {name: current[name] for name in SECTION_UPDATE})
    fields = integrations.SectionFields(
        active=section.active, path=body["path"], file_type=body["file_type"], split_by_owner=body["split_by_owner"],
        xsd_version=body["xsd_version"], batch_size=body["batch_size"], schedule=body["schedule"],
        schedule_time=body["schedule_time"], schedule_day=body["schedule_day"])
    try:
        integrations.update_sections(current_user, section.profile, {job: fields})
    except InvalidInput as exc:
        raise page_field(exc, f"{job}-") from None
    return saved(section, section_json)


action_routes("/erp/profiles/<profile_code>/sections/<job>/actions", _section, section_json, {
    "activate": ("activate_erp_section", ADMIN, {},
                 lambda s, body: integrations.set_active(current_user, s.profile, s.job, True)),
    "deactivate": ("deactivate_erp_section", ADMIN, {},
                   lambda s, body: integrations.set_active(current_user, s.profile, s.job, False)),
})


@bp.post("/erp/profiles/<profile_code>/sections/<job>/actions/run")
@institution_admin
def run_erp_section(profile_code, job):
    """"Run now": the run starts in this process at once; 202 with the run (Location: the run)."""
    section = _section(profile_code, job)
    read_body({}, optional=True)
    run = runs.run_now(current_app._get_current_object(), section.profile, job, current_user._get_current_object())
    resp = jsonify(run_json(run))
    resp.status_code = 202
    resp.headers["Location"] = url_for("api.get_erp_run", run_id=run.id)
    return resp


def run_json(r) -> dict:
    return {"id": r.id, "job": r.job, "job_label": r.job_label, "profile": r.profile_code or None,
            "trigger": r.trigger, "trigger_label": r.trigger_label, "scheduled_for": timestamp(r.scheduled_for),
            "started_at": timestamp(r.started_at), "ended_at": timestamp(r.ended_at), "status": r.status,
            "status_label": r.status_label, "interrupted": r.interrupted, "files": r.files or 0,
            "records": r.records or 0, "records_failed": r.records_failed or 0,
            "progress_done": r.progress_done or 0, "progress_total": r.progress_total, "message": r.message or "",
            "actor": r.actor.username if r.actor else None}


# -- OpenAPI ---------------------------------------------------------------------------------------

ADMIN_TEXT = "admin, held for the whole institution"
_SECTION = {"type": "string", "enum": list(JOBS)}

register_openapi(
    schemas={
        "ErpConnection": object_schema({
            "id": INTEGER, "code": STRING, "name": STRING, "kind": {"type": "string", "enum": list(CONNECTION_KINDS)},
            "host": STRING, "port": {"type": ["integer", "null"]}, "username": STRING,
            "has_password": {**BOOLEAN, "description": "A password is stored (it is never answered)."},
            "has_private_key": {**BOOLEAN, "description": "A private key is stored (it is never answered)."},
            "host_key": STRING, "root_path": STRING, "base_dir": STRING,
            "address": {**STRING, "description": "user@host:port, or the local folder."},
            "usable_here": {**BOOLEAN, "description": "false on a test instance where it is not on the allow-list."},
            "profiles": {"type": "array", "items": STRING, "description": "Codes of the profiles using it."},
            "created_at": MOMENT}, "Where files are exchanged: an SFTP or FTP server, or a folder on this server."),
        "ErpConnectionList": list_of("ErpConnection"),
        "ErpConnectionInput": input_schema(CONNECTION_IN, "A new connection."),
        "ErpConnectionPatch": patch_schema(CONNECTION_UPDATE, "Some of the connection's fields; those not sent stay "
                                                              "as they are."),
        "ErpConnectionTest": object_schema({"connection": STRING, "ok": BOOLEAN, "message": STRING},
                                           "What the test found (a failure is an answer too, with ok false)."),
        "ErpSection": object_schema({
            "profile": STRING, "job": _SECTION, "label": STRING, "active": BOOLEAN, "path": STRING,
            "file_type": {"type": "string", "enum": ["", *ALLOCATION_FILE_TYPES]}, "split_by_owner": BOOLEAN,
            "xsd_version": {"type": "string", "enum": list(integrations.XSD_VERSIONS)}, "batch_size": INTEGER,
            "schedule": {"type": "string", "enum": list(SCHEDULES)}, "schedule_time": STRING,
            "schedule_day": {"type": ["integer", "null"]}, "schedule_text": STRING},
            "One of the profile's five jobs: on or off, its folder, options and schedule."),
        "ErpSectionPatch": patch_schema(SECTION_UPDATE, "Some of the section's settings (the switch is the "
                                                        "activate/deactivate actions)."),
        "ErpProfile": object_schema({
            "id": INTEGER, "code": STRING, "name": STRING, "connection": STRING, "financial_system": STRING,
            "description": STRING, "notify_when": {"type": "string", "enum": list(NOTIFY_WHEN)},
            "recipients": {"type": "array", "items": STRING}, "created_at": MOMENT,
            "sections": {"type": "array", "items": ref("ErpSection")}},
            "A finance integration profile: one connection, five sections (all off when created)."),
        "ErpProfileList": list_of("ErpProfile"),
        "ErpProfileInput": input_schema(PROFILE_IN, "A new profile; its five sections start off, without folders."),
        "ErpProfilePatch": patch_schema(PROFILE_UPDATE, "Some of the profile's fields."),
        "ErpSectionActionInput": input_schema({}, "Nothing to give."),
    },
    parameters={
        "ErpConnectionCode": path_param("connection_code", "The connection's code (or id).", STRING),
        "ErpProfileCode": path_param("profile_code", "The profile's code (or id).", STRING),
        "ErpJob": path_param("job", "The section: its job.", _SECTION),
    },
    paths={
        "/api/v1/erp/connections": {
            "get": operation("listErpConnections", "ERP connections by code", ADMIN_TEXT,
                             ("200", "ErpConnectionList", "The connections (never their secrets).")),
            "post": operation("createErpConnection", "Create an ERP connection", ADMIN_TEXT,
                              ("201", "ErpConnection", "Created (Location: the connection)."), ("400", "409"),
                              body="ErpConnectionInput", location="The connection's URL.", idempotent=True),
        },
        "/api/v1/erp/connections/{connection_code}": {
            "parameters": [param("ErpConnectionCode")],
            "get": operation("getErpConnection", "One ERP connection", ADMIN_TEXT, ("200", "ErpConnection", "It."),
                             ("404",), etag=True),
            "patch": operation("patchErpConnection", "Change some of a connection's fields", ADMIN_TEXT,
                               ("200", "ErpConnection", "Saved."), ("400", "404"), body="ErpConnectionPatch",
                               if_match="required", note="Only the fields sent change; a secret left out is kept."),
            "delete": operation("deleteErpConnection", "Delete a connection no profile uses", ADMIN_TEXT,
                                ("204", None, "Deleted."), ("404", "422"), if_match="required",
                                note="A connection a profile uses is refused (422)."),
        },
        "/api/v1/erp/connections/{connection_code}/actions/test": {
            "parameters": [param("ErpConnectionCode")],
            "post": operation("testErpConnection", "Test a connection: log in and look at its base folder", ADMIN_TEXT,
                              ("200", "ErpConnectionTest", "What the test found."), ("400", "404"),
                              body="ErpSectionActionInput", body_required=False),
        },
        "/api/v1/erp/profiles": {
            "get": operation("listErpProfiles", "Integration profiles by code, with their sections", ADMIN_TEXT,
                             ("200", "ErpProfileList", "The profiles.")),
            "post": operation("createErpProfile", "Create an integration profile (its sections off)", ADMIN_TEXT,
                              ("201", "ErpProfile", "Created (Location: the profile)."), ("400", "409"),
                              body="ErpProfileInput", location="The profile's URL.", idempotent=True),
        },
        "/api/v1/erp/profiles/{profile_code}": {
            "parameters": [param("ErpProfileCode")],
            "get": operation("getErpProfile", "One integration profile with its sections", ADMIN_TEXT,
                             ("200", "ErpProfile", "It."), ("404",), etag=True),
            "patch": operation("patchErpProfile", "Change some of a profile's fields", ADMIN_TEXT,
                               ("200", "ErpProfile", "Saved."), ("400", "404"), body="ErpProfilePatch",
                               if_match="required"),
            "delete": operation("deleteErpProfile", "Delete a profile (its runs stay, under its code)", ADMIN_TEXT,
                                ("204", None, "Deleted."), ("404",), if_match="required"),
        },
        "/api/v1/erp/profiles/{profile_code}/sections/{job}": {
            "parameters": [param("ErpProfileCode"), param("ErpJob")],
            "get": operation("getErpSection", "One section of a profile", ADMIN_TEXT, ("200", "ErpSection", "It."),
                             ("404",), etag=True),
            "patch": operation("patchErpSection", "Change some of a section's settings", ADMIN_TEXT,
                               ("200", "ErpSection", "Saved; the scheduler follows within seconds."), ("400", "404"),
                               body="ErpSectionPatch", if_match="required"),
        },
        "/api/v1/erp/profiles/{profile_code}/sections/{job}/actions/activate": {
            "parameters": [param("ErpProfileCode"), param("ErpJob")],
            "post": operation("activateErpSection", "Turn a section on (the scheduler runs it on its schedule)",
                              ADMIN_TEXT, ("200", "ErpSection", "It is on."), ("400", "404", "422"),
                              body="ErpSectionActionInput", idempotent=True, body_required=False,
                              if_match="optional", note="A section without a folder is refused (422)."),
        },
        "/api/v1/erp/profiles/{profile_code}/sections/{job}/actions/deactivate": {
            "parameters": [param("ErpProfileCode"), param("ErpJob")],
            "post": operation("deactivateErpSection", "Turn a section off (the scheduler drops it)", ADMIN_TEXT,
                              ("200", "ErpSection", "It is off."), ("400", "404"), body="ErpSectionActionInput",
                              idempotent=True, body_required=False, if_match="optional"),
        },
        "/api/v1/erp/profiles/{profile_code}/sections/{job}/actions/run": {
            "parameters": [param("ErpProfileCode"), param("ErpJob")],
            "post": operation("runErpSection", "Run a section now, as the profile page's Run now button", ADMIN_TEXT,
                              ("202", "ErpRun", "Started; follow it at Location. Its status is skipped when a run of "
                                                "the same job is still going."), ("400", "404", "422"),
                              body="ErpSectionActionInput", body_required=False, location="The run's URL.",
                              note="Active or not, the section runs once; one without a folder is refused (422)."),
        },
    })
