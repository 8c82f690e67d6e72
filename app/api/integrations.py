"""API v1: the finance (ERP) integration — connections, integration profiles with their five
sections (settings, the on/off switch, "Run now"), who is told when a run ends, the invoice
export's campus stylesheet, the payment confirmation format, and failed order exports queued again.

Institution administrators only, as on the ERP pages (a library-scoped administrator gets 403);
every change goes through :mod:`app.integrations.services` and its neighbours, as the pages'.
Connections and profiles are named in paths by their code (or their id). Secrets are write-only:
a connection answers ``has_password`` and ``has_private_key``, never the password or the key.
Runs and the allowed S/FTP servers: :mod:`app.api.integrations_runs`.
"""
from __future__ import annotations

from functools import wraps

from flask import current_app, jsonify, url_for
from flask_login import current_user

from ..auth.models import Role, User
from ..auth.permissions import institution_roles_required, require_institution_role, roles_required
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..idempotency import idempotent
from ..ids import MAX_ID
from ..integrations import allowed_hosts, payment_format, runs, stylesheets
from ..integrations import services as integrations
from ..integrations.formats import xslt
from ..integrations.formats.payment_csv import DECIMAL_MARKS, FIELDS, SEPARATORS, CsvMapping
from ..integrations.models import ALLOCATION_FILE_TYPES, CONNECTION_KINDS, JOBS, SCHEDULES, Connection
from ..integrations.order_export import rerun_failed_orders
from ..notifications.job_mail import set_recipients
from ..notifications.models import NOTIFY_WHEN
from .base import (BOOLEAN, INTEGER, MOMENT, NULLABLE_STRING, STRING, action_routes, bp, check_match, deleted,
                   input_schema, list_of, named, object_schema, one, operation, param, patch_schema, path_param,
                   ref, register_openapi, saved)
from .serializers import Field, read_body, read_patch, timestamp

ADMIN = (Role.ADMIN,)


def admin_read(view):
    """A read of the ERP integration: an administrator of the whole institution (403 otherwise)."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        require_institution_role(current_user, frozenset(ADMIN), "read the ERP integration")
        return view(*args, **kwargs)
    return roles_required(*ADMIN)(wrapper)


def admin_action(view):
    """A POST that changes nothing shared (a connection test) or starts a run: administrators of the
    whole institution, refused with 403 like :func:`admin_read`."""
    return admin_read(view)


def _refs(exc: InvalidInput, prefix: str) -> InvalidInput:
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
@admin_read
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
@admin_read
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
@admin_action
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


def _profile(profile_code: str):
    return integrations.get_profile(_ref(profile_code, "integration profile"))


def _section(profile_code: str, job: str):
    profile = _profile(profile_code)
    section = profile.section(job) if job in JOBS else None
    if section is None:
        raise NotFound(f"No section {job} (the sections are: {', '.join(JOBS)}).")
    return section


def _profile_fields(body, code: str = "") -> integrations.ProfileFields:
    conn = named(Connection, body["connection"], "connection", "connection")
    return integrations.ProfileFields(code=code, name=body["name"], connection_id=conn.id,
                                      financial_system=body["financial_system"], description=body["description"])


@bp.get("/erp/profiles")
@admin_read
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
@admin_read
def get_erp_profile(profile_code):
    return one(_profile(profile_code), profile_json)


@bp.patch("/erp/profiles/<profile_code>")
@institution_roles_required(*ADMIN)
def patch_erp_profile(profile_code):
    profile = _profile(profile_code)
    check_match(profile, profile_json)
    current = profile_json(profile)
    body = read_patch(PROFILE_UPDATE, {name: current[name] for name in PROFILE_UPDATE})
    integrations.update_profile(current_user, profile, _profile_fields(body, profile.code))
    return saved(profile, profile_json)


@bp.delete("/erp/profiles/<profile_code>")
@institution_roles_required(*ADMIN)
def delete_erp_profile(profile_code):
    profile = _profile(profile_code)
    check_match(profile, profile_json)
    integrations.delete_profile(current_user, profile)
    return deleted()


# -- sections ------------------------------------------------------------------------------------

@bp.get("/erp/profiles/<profile_code>/sections/<job>")
@admin_read
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
        raise _refs(exc, f"{job}-") from None
    return saved(section, section_json)


action_routes("/erp/profiles/<profile_code>/sections/<job>/actions", _section, section_json, {
    "activate": ("activate_erp_section", ADMIN, {},
                 lambda s, body: integrations.set_active(current_user, s.profile, s.job, True)),
    "deactivate": ("deactivate_erp_section", ADMIN, {},
                   lambda s, body: integrations.set_active(current_user, s.profile, s.job, False)),
})


@bp.post("/erp/profiles/<profile_code>/sections/<job>/actions/run")
@admin_action
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


# -- who is told when a run ends ------------------------------------------------------------------

NOTIFICATIONS_IN = {
    "notify_when": Field("enum", "off (never), always (after every run) or failure (only after a failed one).",
                         required=True, choices=tuple(NOTIFY_WHEN)),
    "recipients": Field("str_list", "The user names of the active users told (at least one unless off).",
                        default=()),
}


def notifications_json(p) -> dict:
    return {"profile": p.code, "notify_when": p.notify_when, "recipients": [u.username for u in p.recipients]}


@bp.get("/erp/profiles/<profile_code>/notifications")
@admin_read
def get_erp_notifications(profile_code):
    return one(_profile(profile_code), notifications_json)


@bp.patch("/erp/profiles/<profile_code>/notifications")
@institution_roles_required(*ADMIN)
def patch_erp_notifications(profile_code):
    profile = _profile(profile_code)
    check_match(profile, notifications_json)
    body = read_patch(NOTIFICATIONS_IN, notifications_json(profile))
    ids = []
    for name in body["recipients"]:
        user = db.session.scalar(db.select(User).filter_by(username=name))
        if user is None:
            raise InvalidInput(f"No user {name}.", "recipients")
        ids.append(user.id)
    set_recipients(current_user, profile, body["notify_when"], ids)
    return saved(profile, notifications_json)


# -- the invoice export's campus stylesheet -------------------------------------------------------

STYLESHEET_IN = {
    "xslt": Field("str", "An XSLT 1.0 stylesheet each invoice export file is transformed by before upload; \"\" "
                         "removes it. One that does not compile is refused (400) and nothing changes.",
                  default="", max_length=xslt.MAX_STYLESHEET_BYTES),
    "keep_original": Field("bool", "Keep the untransformed file in a sub-folder too.", default=False),
}


def stylesheet_json(section) -> dict:
    return {"profile": section.profile.code, "xslt": section.xslt, "keep_original": section.xslt_keep_original,
            "output_extension": xslt.check(section.xslt) if section.xslt else None}


@bp.get("/erp/profiles/<profile_code>/stylesheet")
@admin_read
def get_erp_stylesheet(profile_code):
    return one(stylesheets.export_section(_profile(profile_code)), stylesheet_json)


@bp.patch("/erp/profiles/<profile_code>/stylesheet")
@institution_roles_required(*ADMIN)
def patch_erp_stylesheet(profile_code):
    section = stylesheets.export_section(_profile(profile_code))
    check_match(section, stylesheet_json)
    current = stylesheet_json(section)
    body = read_patch(STYLESHEET_IN, {"xslt": current["xslt"], "keep_original": current["keep_original"]})
    stylesheets.set_stylesheet(current_user, section.profile, body["xslt"], body["keep_original"])
    return saved(section, stylesheet_json)


# -- the payment confirmation format --------------------------------------------------------------

COLUMNS_IN = {key: Field("str", f"The header of the column with the {label.lower()}; \"\": none.", default="",
                         max_length=100) for key, label in FIELDS.items()}
PAYMENT_FORMAT_IN = {
    "confirmation_format": Field("enum", "xml (Alma's payment_confirmation_data) or csv (read through the "
                                         "mapping below).", required=True, choices=tuple(payment_format.FORMATS)),
    "amount_mismatch": Field("enum", "A PAID record whose amount is not the invoice total: warn (recorded, "
                                     "flagged) or refuse (the invoice stays Waiting for Payment).", default="warn",
                             choices=tuple(payment_format.MISMATCH)),
    "columns": Field("object", "CSV: which column holds what, by header (a PATCH replaces the whole mapping).",
                     default={}, spec=COLUMNS_IN, component="ErpCsvColumnsInput"),
    "separator": Field("enum", "CSV: the separator.", default=",", choices=tuple(SEPARATORS)),
    "date_format": Field("str", "CSV: the voucher date's format (strftime), e.g. %Y%m%d or %d.%m.%Y.",
                         default="%Y%m%d", max_length=40),
    "decimal": Field("enum", "CSV: the decimal mark.", default=".", choices=tuple(DECIMAL_MARKS)),
    "paid_values": Field("str_list", "CSV: the ERP's words for paid.", default=("PAID",)),
    "rejected_values": Field("str_list", "CSV: the ERP's words for rejected.", default=("REJECTED",)),
}


def payment_format_json(section) -> dict:
    value = payment_format.current(section)
    m = value.mapping

    def words(v):
        return [w.strip() for w in v.split(",") if w.strip()] if isinstance(v, str) else list(v)
    return {"profile": section.profile.code, "confirmation_format": value.confirmation_format,
            "amount_mismatch": value.amount_mismatch, "columns": {k: m.columns.get(k, "") for k in FIELDS},
            "separator": m.separator, "date_format": m.date_format, "decimal": m.decimal,
            "paid_values": words(m.paid_values), "rejected_values": words(m.rejected_values)}


@bp.get("/erp/profiles/<profile_code>/payment-format")
@admin_read
def get_erp_payment_format(profile_code):
    return one(payment_format.section_of(_profile(profile_code)), payment_format_json)


@bp.patch("/erp/profiles/<profile_code>/payment-format")
@institution_roles_required(*ADMIN)
def patch_erp_payment_format(profile_code):
    section = payment_format.section_of(_profile(profile_code))
    check_match(section, payment_format_json)
    current = payment_format_json(section)
    body = read_patch(PAYMENT_FORMAT_IN, {name: current[name] for name in PAYMENT_FORMAT_IN})
    mapping = CsvMapping(columns=dict(body["columns"]), separator=body["separator"], date_format=body["date_format"],
                         decimal=body["decimal"], paid_values=list(body["paid_values"]),
                         rejected_values=list(body["rejected_values"]))
    try:
        payment_format.set_payment_format(current_user, section.profile, payment_format.PaymentFormat(
            body["confirmation_format"], body["amount_mismatch"], mapping))
    except InvalidInput as exc:
        raise _refs(exc, "col_") from None
    return saved(section, payment_format_json)


# -- failed order exports -------------------------------------------------------------------------

@bp.post("/erp/profiles/<profile_code>/actions/rerun-failed-orders")
@institution_roles_required(*ADMIN)
@idempotent
def rerun_failed_erp_orders(profile_code):
    """The profile page's "Queue failed orders again": they go with the next PO export run."""
    profile = _profile(profile_code)
    read_body({}, optional=True)
    count = rerun_failed_orders(current_user, profile)
    return saved(profile, lambda p: {"profile": p.code, "queued": count})


# -- OpenAPI ---------------------------------------------------------------------------------------

_ADMIN = "admin, held for the whole institution"
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
        "ErpNotifications": object_schema({"profile": STRING, "notify_when": {"type": "string",
                                                                              "enum": list(NOTIFY_WHEN)},
                                           "recipients": {"type": "array", "items": STRING}},
                                          "Who is told (e-mail and notification) when the profile's runs end."),
        "ErpNotificationsPatch": patch_schema(NOTIFICATIONS_IN, "When, and whom, to tell."),
        "ErpStylesheet": object_schema({"profile": STRING, "xslt": STRING, "keep_original": BOOLEAN,
                                        "output_extension": {**NULLABLE_STRING,
                                                             "description": "The transformed files' extension."}},
                                       "The invoice export's campus stylesheet (\"\": none)."),
        "ErpStylesheetPatch": patch_schema(STYLESHEET_IN, "The stylesheet, or whether to keep the original."),
        "ErpPaymentFormat": object_schema({
            "profile": STRING, "confirmation_format": {"type": "string", "enum": list(payment_format.FORMATS)},
            "amount_mismatch": {"type": "string", "enum": list(payment_format.MISMATCH)},
            "columns": object_schema({key: STRING for key in FIELDS}), "separator": STRING, "date_format": STRING,
            "decimal": STRING, "paid_values": {"type": "array", "items": STRING},
            "rejected_values": {"type": "array", "items": STRING}},
            "How payment confirmations are read: XML, or CSV through a column mapping."),
        "ErpCsvColumnsInput": input_schema(COLUMNS_IN, "Column headers by field; the status and the invoice number "
                                                       "or unique identifier are needed for CSV."),
        "ErpPaymentFormatPatch": patch_schema(PAYMENT_FORMAT_IN, "Some of the format's settings; a CSV format is "
                                                                 "checked whole."),
        "ErpRequeued": object_schema({"profile": STRING, "queued": {**INTEGER, "description": "Failed order exports "
                                                                                              "queued again."}}),
        "ErpSectionActionInput": input_schema({}, "Nothing to give."),
    },
    parameters={
        "ErpConnectionCode": path_param("connection_code", "The connection's code (or id).", STRING),
        "ErpProfileCode": path_param("profile_code", "The profile's code (or id).", STRING),
        "ErpJob": path_param("job", "The section: its job.", _SECTION),
    },
    paths={
        "/api/v1/erp/connections": {
            "get": operation("listErpConnections", "ERP connections by code", _ADMIN,
                             ("200", "ErpConnectionList", "The connections (never their secrets).")),
            "post": operation("createErpConnection", "Create an ERP connection", _ADMIN,
                              ("201", "ErpConnection", "Created (Location: the connection)."), ("400", "409"),
                              body="ErpConnectionInput", location="The connection's URL.", idempotent=True),
        },
        "/api/v1/erp/connections/{connection_code}": {
            "parameters": [param("ErpConnectionCode")],
            "get": operation("getErpConnection", "One ERP connection", _ADMIN, ("200", "ErpConnection", "It."),
                             ("404",), etag=True),
            "patch": operation("patchErpConnection", "Change some of a connection's fields", _ADMIN,
                               ("200", "ErpConnection", "Saved."), ("400", "404"), body="ErpConnectionPatch",
                               if_match="required", note="Only the fields sent change; a secret left out is kept."),
            "delete": operation("deleteErpConnection", "Delete a connection no profile uses", _ADMIN,
                                ("204", None, "Deleted."), ("404", "422"), if_match="required",
                                note="A connection a profile uses is refused (422)."),
        },
        "/api/v1/erp/connections/{connection_code}/actions/test": {
            "parameters": [param("ErpConnectionCode")],
            "post": operation("testErpConnection", "Test a connection: log in and look at its base folder", _ADMIN,
                              ("200", "ErpConnectionTest", "What the test found."), ("400", "404"),
                              body="ErpSectionActionInput", body_required=False),
        },
        "/api/v1/erp/profiles": {
            "get": operation("listErpProfiles", "Integration profiles by code, with their sections", _ADMIN,
                             ("200", "ErpProfileList", "The profiles.")),
            "post": operation("createErpProfile", "Create an integration profile (its sections off)", _ADMIN,
                              ("201", "ErpProfile", "Created (Location: the profile)."), ("400", "409"),
                              body="ErpProfileInput", location="The profile's URL.", idempotent=True),
        },
        "/api/v1/erp/profiles/{profile_code}": {
            "parameters": [param("ErpProfileCode")],
            "get": operation("getErpProfile", "One integration profile with its sections", _ADMIN,
                             ("200", "ErpProfile", "It."), ("404",), etag=True),
            "patch": operation("patchErpProfile", "Change some of a profile's fields", _ADMIN,
                               ("200", "ErpProfile", "Saved."), ("400", "404"), body="ErpProfilePatch",
                               if_match="required"),
            "delete": operation("deleteErpProfile", "Delete a profile (its runs stay, under its code)", _ADMIN,
                                ("204", None, "Deleted."), ("404",), if_match="required"),
        },
        "/api/v1/erp/profiles/{profile_code}/sections/{job}": {
            "parameters": [param("ErpProfileCode"), param("ErpJob")],
            "get": operation("getErpSection", "One section of a profile", _ADMIN, ("200", "ErpSection", "It."),
                             ("404",), etag=True),
            "patch": operation("patchErpSection", "Change some of a section's settings", _ADMIN,
                               ("200", "ErpSection", "Saved; the scheduler follows within seconds."), ("400", "404"),
                               body="ErpSectionPatch", if_match="required"),
        },
        "/api/v1/erp/profiles/{profile_code}/sections/{job}/actions/activate": {
            "parameters": [param("ErpProfileCode"), param("ErpJob")],
            "post": operation("activateErpSection", "Turn a section on (the scheduler runs it on its schedule)",
                              _ADMIN, ("200", "ErpSection", "It is on."), ("400", "404", "422"),
                              body="ErpSectionActionInput", idempotent=True, body_required=False,
                              if_match="optional", note="A section without a folder is refused (422)."),
        },
        "/api/v1/erp/profiles/{profile_code}/sections/{job}/actions/deactivate": {
            "parameters": [param("ErpProfileCode"), param("ErpJob")],
            "post": operation("deactivateErpSection", "Turn a section off (the scheduler drops it)", _ADMIN,
                              ("200", "ErpSection", "It is off."), ("400", "404"), body="ErpSectionActionInput",
                              idempotent=True, body_required=False, if_match="optional"),
        },
        "/api/v1/erp/profiles/{profile_code}/sections/{job}/actions/run": {
            "parameters": [param("ErpProfileCode"), param("ErpJob")],
            "post": operation("runErpSection", "Run a section now, as the profile page's Run now button", _ADMIN,
                              ("202", "ErpRun", "Started; follow it at Location. Its status is skipped when a run of "
                                                "the same job is still going."), ("400", "404", "422"),
                              body="ErpSectionActionInput", body_required=False, location="The run's URL.",
                              note="Active or not, the section runs once; one without a folder is refused (422)."),
        },
        "/api/v1/erp/profiles/{profile_code}/notifications": {
            "parameters": [param("ErpProfileCode")],
            "get": operation("getErpNotifications", "Who is told when the profile's runs end", _ADMIN,
                             ("200", "ErpNotifications", "The setting."), ("404",), etag=True),
            "patch": operation("patchErpNotifications", "Change who is told, and when", _ADMIN,
                               ("200", "ErpNotifications", "Saved."), ("400", "404"), body="ErpNotificationsPatch",
                               if_match="required"),
        },
        "/api/v1/erp/profiles/{profile_code}/stylesheet": {
            "parameters": [param("ErpProfileCode")],
            "get": operation("getErpStylesheet", "The invoice export's campus stylesheet", _ADMIN,
                             ("200", "ErpStylesheet", "The stylesheet."), ("404",), etag=True),
            "patch": operation("patchErpStylesheet", "Set, change or remove the campus stylesheet", _ADMIN,
                               ("200", "ErpStylesheet", "Saved."), ("400", "404"), body="ErpStylesheetPatch",
                               if_match="required", note="A stylesheet that does not compile is refused (400)."),
        },
        "/api/v1/erp/profiles/{profile_code}/payment-format": {
            "parameters": [param("ErpProfileCode")],
            "get": operation("getErpPaymentFormat", "How payment confirmations are read", _ADMIN,
                             ("200", "ErpPaymentFormat", "The format."), ("404",), etag=True),
            "patch": operation("patchErpPaymentFormat", "Change how payment confirmations are read", _ADMIN,
                               ("200", "ErpPaymentFormat", "Saved."), ("400", "404"), body="ErpPaymentFormatPatch",
                               if_match="required", note="A CSV mapping that cannot be used is refused (400, the "
                                                         "field named)."),
        },
        "/api/v1/erp/profiles/{profile_code}/actions/rerun-failed-orders": {
            "parameters": [param("ErpProfileCode")],
            "post": operation("rerunFailedErpOrders", "Queue the profile's failed order exports again", _ADMIN,
                              ("200", "ErpRequeued", "How many were queued; they go with the next PO export run."),
                              ("400", "404"), body="ErpSectionActionInput", body_required=False, idempotent=True),
        },
    })
