"""ERP integration pages: connections, finance profiles (a two-page wizard, then a profile page
with a switch and a "Run now" button per section) and Monitor Jobs (scheduled, running, history,
each run's events and its error report as CSV; the history and a run's events exported as CSV or XLSX
in the columns the user shows).

General system administrators of the whole institution only. Every change goes through
:mod:`app.integrations.services`; runs started here run in a thread of this process through the
same ``run`` of ``jobs.JOBS`` the scheduler and the CLI use (handed to ``create_app``).
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, abort, current_app, flash, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from tzlocal import get_localzone

from .. import list_columns
from ..auth.models import Role
from ..auth.permissions import is_institution_admin, roles_required
from ..errors import DomainError, InvalidInput
from ..exports import Column, Columns, export_response
from ..extensions import db
from ..htmx import is_htmx, redirect_to, render
from ..text import T
from ..saving import saving
from . import allowed_hosts, scheduler, stylesheets
from . import monitor as monitor_queries
from . import services as integrations
from .formats import xslt
from .models import (ALLOCATION_FILE_TYPES, CONNECTION_KINDS, JOBS, OTHER_JOBS, RUN_STATUSES, SCHEDULES, WEEKDAYS,
                     JobEvent, JobRun)
from .monitor import HISTORY_DAYS
from .runs import result_link
from .runs import run_now as start_run_now
from .schedules import next_run
from .transport import TransferError, check_connection

bp = Blueprint("integrations", __name__, url_prefix="/admin/erp")
ADMIN = (Role.ADMIN,)
FINANCIAL_SYSTEMS = ("SAP", "Oracle", "PeopleSoft", "Workday", "Unit4 (Agresso)", "Banner", "Other")   # typed values, kept as stored
RUNS_PER_PAGE = 25
ALL_JOBS = {**JOBS, **OTHER_JOBS}


@bp.before_request
def _institution_admins_only():
    if current_user.is_authenticated and not is_institution_admin(current_user):
        abort(403)


@bp.app_template_filter("local_time")
def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A stored (naive UTC) or aware moment in the scheduler's time zone."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    tz = current_app.config.get("SCHEDULER_TIMEZONE") or get_localzone()
    if isinstance(tz, str):
        from zoneinfo import ZoneInfo
        tz = ZoneInfo(tz)
    return value.astimezone(tz).strftime(fmt)


def _refused(exc: DomainError, page: str, fragment: str | None = None, **ctx):
    """The form again with the refusal: its message on top and next to the field it names."""
    ctx["errors"] = {exc.field: exc.message} if exc.field else {}
    return render(page, fragment, status=exc.status, error=exc.message, **ctx)


def _done(message: str, target: str):
    flash(message, "ok")
    return redirect_to(target)


# -- overview ----------------------------------------------------------------------------------------

@bp.get("")
@roles_required(*ADMIN)
def index():
    env = current_app.config.get("INSTANCE_ENVIRONMENT", "production")
    connections = integrations.connections()
    return render("integrations/index.html", connections=connections, profiles=integrations.profiles(),
                  environment=env, environment_label=allowed_hosts.environment_label(env), allowlist=current_app.config.get("ERP_CONNECTION_ALLOWLIST") or [],
                  allowed={c.id: allowed_hosts.why_allowed(c) for c in connections})


# -- connections ---------------------------------------------------------------------------------------

def _connection_fields(form) -> integrations.ConnectionFields:
    port = (form.get("port") or "").strip()
    if port and not port.isdigit():
        raise InvalidInput(T("The port is a number from 1 to 65535."), "port")
    return integrations.ConnectionFields(
        code=form.get("code", ""), name=form.get("name", ""), kind=form.get("kind", ""),
        host=form.get("host", ""), port=int(port) if port else None, username=form.get("username", ""),
        password=form.get("password") or None, private_key=form.get("private_key") or None,
        clear_password=form.get("clear_password") == "on", clear_private_key=form.get("clear_private_key") == "on",
        host_key=form.get("host_key", ""), root_path=form.get("root_path", ""), base_dir=form.get("base_dir", ""))


def _connection_ctx(conn=None, values=None) -> dict:
    values = values if values is not None else ({
        "code": conn.code, "name": conn.name, "kind": conn.kind, "host": conn.host, "port": conn.port or "",
        "username": conn.username, "host_key": conn.host_key, "root_path": conn.root_path,
        "base_dir": conn.base_dir} if conn else {"kind": "sftp"})
    return {"connection": conn, "values": values, "kinds": CONNECTION_KINDS, "errors": {}}


@bp.route("/connections/new", methods=["GET", "POST"])
@roles_required(*ADMIN)
def new_connection():
    if request.method == "GET":
        return render("integrations/connection_form.html", **_connection_ctx())
    values = {k: v for k, v in request.form.items() if k not in ("password", "private_key", "csrf_token")}
    with saving() as saved:
        conn = integrations.create_connection(current_user, _connection_fields(request.form))
    if not saved:
        return _refused(saved.error, "integrations/connection_form.html", **_connection_ctx(values=values))
    return _done(_("Connection %(code)s saved. Test it before you rely on it.", code=conn.code),
                 url_for(".index"))


@bp.route("/connections/<int:connection_id>", methods=["GET", "POST"])
@roles_required(*ADMIN)
def edit_connection(connection_id):
    conn = integrations.get_connection(connection_id)
    if request.method == "GET":
        return render("integrations/connection_form.html", **_connection_ctx(conn))
    values = {k: v for k, v in request.form.items() if k not in ("password", "private_key", "csrf_token")}
    values["code"] = conn.code
    with saving() as saved:
        integrations.update_connection(current_user, conn, _connection_fields(request.form))
    if not saved:
        return _refused(saved.error, "integrations/connection_form.html", **_connection_ctx(conn, values))
    return _done(_("Connection %(code)s saved.", code=conn.code), url_for(".index"))


@bp.post("/connections/<int:connection_id>/test")
@roles_required(*ADMIN)
def test_connection(connection_id):
    conn = integrations.get_connection(connection_id)
    try:
        message, ok = check_connection(conn), True
    except TransferError as exc:
        message, ok = str(exc), False
    return render("integrations/connection_test.html", "integrations/_connection_test.html",
                  connection=conn, message=message, ok=ok)


@bp.post("/connections/<int:connection_id>/delete")
@roles_required(*ADMIN)
def delete_connection(connection_id):
    conn = integrations.get_connection(connection_id)
    with saving() as saved:
        integrations.delete_connection(current_user, conn)
    if not saved:
        flash(saved.message, "error")
        return redirect(url_for(".index"))
    return _done(_("Connection deleted."), url_for(".index"))


# -- profiles: step 1 ------------------------------------------------------------------------------------

def _profile_ctx(profile=None, values=None) -> dict:
    values = values if values is not None else ({
        "code": profile.code, "name": profile.name, "connection_id": str(profile.connection_id),
        "financial_system": profile.financial_system, "description": profile.description} if profile else {})
    return {"profile": profile, "values": values, "connections": integrations.connections(),
            "financial_systems": FINANCIAL_SYSTEMS, "errors": {}}


def _profile_fields(form) -> integrations.ProfileFields:
    conn = form.get("connection_id", "")
    return integrations.ProfileFields(code=form.get("code", ""), name=form.get("name", ""),
                                      connection_id=int(conn) if conn.isdigit() else None,
                                      financial_system=form.get("financial_system", ""),
                                      description=form.get("description", ""))


@bp.route("/profiles/new", methods=["GET", "POST"])
@roles_required(*ADMIN)
def new_profile():
    if request.method == "GET":
        return render("integrations/profile_form.html", **_profile_ctx())
    with saving() as saved:
        profile = integrations.create_profile(current_user, _profile_fields(request.form))
    if not saved:
        return _refused(saved.error, "integrations/profile_form.html", **_profile_ctx(values=dict(request.form)))
    return _done(_("Profile %(code)s created. Now set up its five sections (all are off until you turn them on).",
                   code=profile.code), url_for(".profile_sections", profile_id=profile.id))


@bp.route("/profiles/<int:profile_id>/edit", methods=["GET", "POST"])
@roles_required(*ADMIN)
def edit_profile(profile_id):
    profile = integrations.get_profile(profile_id)
    if request.method == "GET":
        return render("integrations/profile_form.html", **_profile_ctx(profile))
    values = dict(request.form, code=profile.code)
    with saving() as saved:
        integrations.update_profile(current_user, profile, _profile_fields(request.form))
    if not saved:
        return _refused(saved.error, "integrations/profile_form.html", **_profile_ctx(profile, values))
    return redirect_to(url_for(".profile_sections", profile_id=profile.id))


# -- profiles: step 2 (the five sections) ------------------------------------------------------------------

def _section_values(profile) -> dict:
    return {s.job: {"active": s.active, "path": s.path, "file_type": s.file_type, "split_by_owner": s.split_by_owner,
                    "xsd_version": s.xsd_version, "batch_size": s.batch_size, "schedule": s.schedule, "schedule_time": s.schedule_time,
                    "schedule_day": s.schedule_day} for s in profile.sections}


def _sections_from_form(form) -> tuple[dict, dict]:
    fields, values = {}, {}
    for job in JOBS:
        get = lambda name: form.get(f"{job}-{name}", "")  # noqa: E731
        day = get("schedule_day")
        batch = get("batch_size") or "1000"
        values[job] = {"active": get("active") == "on", "path": get("path"), "file_type": get("file_type"),
                       "split_by_owner": get("split_by_owner") == "on", "xsd_version": get("xsd_version") or "current",
                       "batch_size": batch,
                       "schedule": get("schedule") or "none", "schedule_time": get("schedule_time"),
                       "schedule_day": int(day) if day.isdigit() else None}
        fields[job] = integrations.SectionFields(
            active=values[job]["active"], path=values[job]["path"], file_type=values[job]["file_type"],
            split_by_owner=values[job]["split_by_owner"], xsd_version=values[job]["xsd_version"],
            batch_size=int(batch) if batch.isdigit() else 0,
            schedule=values[job]["schedule"], schedule_time=values[job]["schedule_time"],
            schedule_day=values[job]["schedule_day"])
    return fields, values


def _sections_ctx(profile, values=None) -> dict:
    return {"profile": profile, "values": values or _section_values(profile), "jobs": JOBS,
            "schedules": SCHEDULES, "weekdays": WEEKDAYS, "file_types": ALLOCATION_FILE_TYPES,
            "xsd_versions": integrations.XSD_VERSIONS, "errors": {}}


@bp.route("/profiles/<int:profile_id>/sections", methods=["GET", "POST"])
@roles_required(*ADMIN)
def profile_sections(profile_id):
    profile = integrations.get_profile(profile_id)
    if request.method == "GET":
        return render("integrations/profile_sections.html", **_sections_ctx(profile))
    fields, values = _sections_from_form(request.form)
    with saving() as saved:
        integrations.update_sections(current_user, profile, fields)
    if not saved:
        return _refused(saved.error, "integrations/profile_sections.html", **_sections_ctx(profile, values))
    return _done(_("Profile %(code)s saved.", code=profile.code), url_for(".show_profile", profile_id=profile.id))


# -- the payment confirmation section's format (XML, or CSV through a column mapping) -------------------------

def _payment_format_from_form(form):
    from .formats.payment_csv import FIELDS, CsvMapping
    from .payment_format import PaymentFormat
    mapping = CsvMapping(columns={key: form.get(f"col_{key}", "") for key in FIELDS},
                         separator={"tab": "\t"}.get(form.get("separator", ""), form.get("separator", "")),
                         date_format=form.get("date_format", ""), decimal=form.get("decimal", ""),
                         paid_values=form.get("paid_values", ""), rejected_values=form.get("rejected_values", ""))
    return PaymentFormat(form.get("confirmation_format", ""), form.get("amount_mismatch", ""), mapping)


def _joined(words) -> str:
    return words if isinstance(words, str) else ", ".join(words)   # as typed, or the stored list


def _payment_format_ctx(profile, value, **extra) -> dict:
    from .formats.payment_csv import DECIMAL_MARKS, FIELDS, SEPARATORS
    from .payment_format import FORMATS, MISMATCH
    m = value.mapping
    values = {"confirmation_format": value.confirmation_format, "amount_mismatch": value.amount_mismatch,
              "separator": "tab" if m.separator == "\t" else m.separator, "date_format": m.date_format,
              "decimal": m.decimal, "paid_values": _joined(m.paid_values), "rejected_values": _joined(m.rejected_values),
              **{f"col_{k}": m.columns.get(k, "") for k in FIELDS}}
    return {"profile": profile, "values": values, "fields": FIELDS, "formats": FORMATS, "mismatch": MISMATCH,
            "separators": {("tab" if k == "\t" else k): v for k, v in SEPARATORS.items()},
            "decimal_marks": DECIMAL_MARKS, "errors": {}, **extra}


@bp.route("/profiles/<int:profile_id>/payment-format", methods=["GET", "POST"])
@roles_required(*ADMIN)
def payment_format(profile_id):
    """The payment confirmation section's format: XML, or CSV with its column mapping; and what a
    paid amount other than the invoice total does."""
    from . import payment_format as formats
    profile = integrations.get_profile(profile_id)
    if request.method == "GET":
        return render("integrations/payment_format.html",
                      **_payment_format_ctx(profile, formats.current(formats.section_of(profile))))
    value = _payment_format_from_form(request.form)
    with saving() as saved:
        formats.set_payment_format(current_user, profile, value)
    if not saved:
        return _refused(saved.error, "integrations/payment_format.html", **_payment_format_ctx(profile, value))
    if value.confirmation_format == "csv":
        message = _("Profile %(code)s: payment confirmations are read as CSV with its column mapping.", code=profile.code)
    else:
        message = _("Profile %(code)s: payment confirmations are read as XML.", code=profile.code)
    return _done(message,
                 url_for(".show_profile", profile_id=profile.id))


# -- the invoice export's campus stylesheet ---------------------------------------------------------------

def _stylesheet_from_form(form, files) -> str:
    """The uploaded file when one is chosen, else the pasted text."""
    upload = files.get("xslt_file")
    if upload is not None and upload.filename:
        data = upload.stream.read(xslt.MAX_STYLESHEET_BYTES + 1)
        if len(data) > xslt.MAX_STYLESHEET_BYTES:
            raise InvalidInput(T("The stylesheet file is larger than %(size)s bytes.", size=f"{xslt.MAX_STYLESHEET_BYTES:,}"), "xslt")
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput(T("The stylesheet file is not UTF-8 text."), "xslt") from None
    return form.get("xslt", "")


def _stylesheet_ctx(profile, values=None, preview=None) -> dict:
    section = stylesheets.export_section(profile)
    values = values or {"xslt": section.xslt, "keep_original": section.xslt_keep_original, "source": ""}
    return {"profile": profile, "section": section, "values": values, "files": stylesheets.recent_files(profile),
            "preview": preview, "errors": {}, "timeout": int(xslt.TIMEOUT_SECONDS)}


@bp.route("/profiles/<int:profile_id>/stylesheet", methods=["GET", "POST"])
@roles_required(*ADMIN)
def section_stylesheet(profile_id):
    """The invoice export's campus stylesheet: pasted or uploaded, checked on save."""
    profile = integrations.get_profile(profile_id)
    if request.method == "GET":
        return render("integrations/stylesheet.html", **_stylesheet_ctx(profile))
    values = {"xslt": request.form.get("xslt", ""), "keep_original": request.form.get("keep_original") == "on",
              "source": request.form.get("source", "")}
    with saving() as saved:
        text = _stylesheet_from_form(request.form, request.files)
        values["xslt"] = text
        section = stylesheets.set_stylesheet(current_user, profile, text, values["keep_original"])
    if not saved:
        return _refused(saved.error, "integrations/stylesheet.html", **_stylesheet_ctx(profile, values))
    message = (_("Profile %(code)s: the invoice files are now transformed by the stylesheet into .%(extension)s files.",
                 code=profile.code, extension=xslt.check(section.xslt)) if section.xslt else
               _("Profile %(code)s: no stylesheet; the invoice files are uploaded as they are.", code=profile.code))
    return _done(message, url_for(".show_profile", profile_id=profile.id))


def _preview(profile, stylesheet: str, source: str) -> dict:
    """What the preview shows: the chosen export file and the stylesheet's output, or why not."""
    sample = getattr(current_app.extensions["jobs"].get("export_invoices"), "sample_file", None)
    return stylesheets.preview(profile, stylesheet, source, sample)


@bp.post("/profiles/<int:profile_id>/stylesheet/preview")
@roles_required(*ADMIN)
def preview_stylesheet(profile_id):
    """A chosen export file beside its transformed output; nothing is saved."""
    profile = integrations.get_profile(profile_id)
    source = request.form.get("source", "")
    values = {"xslt": request.form.get("xslt", ""), "keep_original": request.form.get("keep_original") == "on",
              "source": source}
    try:
        values["xslt"] = _stylesheet_from_form(request.form, request.files)
        preview = _preview(profile, values["xslt"], source)
    except DomainError as exc:
        preview = {"source": source, "error": exc.message, "original": "", "output": ""}
    db.session.rollback()   # a preview changes nothing
    return render("integrations/stylesheet.html", "integrations/_stylesheet_preview.html",
                  **_stylesheet_ctx(profile, values, preview))


# -- the profile page ----------------------------------------------------------------------------------------

def _last_runs(profile) -> dict:
    runs = {}
    for job in JOBS:
        runs[job] = db.session.scalar(db.select(JobRun).filter_by(profile_id=profile.id, job=job)
                                      .order_by(JobRun.id.desc()).limit(1))
    return runs


def _order_queue(profile) -> dict:
    try:
        from .order_export import failed_orders, pending_orders
        return {"pending": pending_orders(profile), "failed": len(failed_orders(profile))}
    except (ImportError, NotImplementedError):
        return {"pending": 0, "failed": 0}


def _profile_page_ctx(profile, **extra) -> dict:
    from ..notifications.job_mail import candidates
    from ..notifications.models import NOTIFY_WHEN
    return {"profile": profile, "last_runs": _last_runs(profile), "orders": _order_queue(profile),
            "next_runs": {s.job: next_run(current_app, s) for s in profile.sections},
            "notify_choices": NOTIFY_WHEN, "recipient_choices": candidates(),
            "notify_values": {"notify_when": profile.notify_when, "recipients": {u.id for u in profile.recipients}},
            "notify_error": None, "message": None, "error": None, **extra}


@bp.get("/profiles/<int:profile_id>")
@roles_required(*ADMIN)
def show_profile(profile_id):
    profile = integrations.get_profile(profile_id)
    return render("integrations/profile.html", "integrations/_sections_table.html", **_profile_page_ctx(profile))


@bp.post("/profiles/<int:profile_id>/notifications")
@roles_required(*ADMIN)
def set_notifications(profile_id):
    """Who is told when the profile's runs end (the job-end e-mail), and when."""
    from ..notifications.job_mail import set_recipients
    profile = integrations.get_profile(profile_id)
    chosen = request.form.getlist("recipients")
    with saving() as saved:
        set_recipients(current_user, profile, request.form.get("notify_when", ""), chosen)
    if saved:
        return _done(_("Profile %(code)s: who is told when its jobs end saved.", code=profile.code),
                     url_for(".show_profile", profile_id=profile.id))
    values = {"notify_when": request.form.get("notify_when", ""), "recipients": {int(c) for c in chosen if c.isdigit()}}
    return render("integrations/profile.html", status=saved.status,
                  **_profile_page_ctx(profile, notify_values=values, notify_error=saved.message))


@bp.post("/profiles/<int:profile_id>/sections/<job>/active")
@roles_required(*ADMIN)
def set_section_active(profile_id, job):
    profile = integrations.get_profile(profile_id)
    if job not in JOBS:
        abort(404)
    value = (request.form.get("active") or "").lower()
    with saving() as saved:
        if value not in ("true", "false"):
            raise InvalidInput(T("A switch is on or off."), "active")
        section = integrations.set_active(current_user, profile, job, value == "true")
    if saved:
        if section.active and section.schedule != "none":
            message = _("%(section)s: active. The scheduler picks it up within seconds.", section=section.label)
        elif section.active:
            message = _("%(section)s: active.", section=section.label)
        else:
            message = _("%(section)s: not active.", section=section.label)
        problem = None
    else:
        message, problem = None, saved.message
    if is_htmx():
        return render("integrations/profile.html", "integrations/_sections_table.html", status=saved.status,
                      **_profile_page_ctx(profile, message=message, error=problem))
    flash(message or problem, "ok" if saved else "error")
    return redirect(url_for(".show_profile", profile_id=profile.id))


@bp.post("/profiles/<int:profile_id>/sections/<job>/run")
@roles_required(*ADMIN)
def run_now(profile_id, job):
    profile = integrations.get_profile(profile_id)
    if job not in JOBS or profile.section(job) is None:
        abort(404)
    try:
        run = start_run_now(current_app._get_current_object(), profile, job, current_user._get_current_object())
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect_to(url_for(".show_profile", profile_id=profile.id))
    if run.status != "running":
        flash(str(run.shown_message), "error")
    return redirect_to(url_for(".show_run", run_id=run.id))


@bp.post("/profiles/<int:profile_id>/orders/rerun")
@roles_required(*ADMIN)
def rerun_failed_orders(profile_id):
    from .order_export import rerun_failed_orders as rerun
    profile = integrations.get_profile(profile_id)
    with saving() as saved:
        count = rerun(current_user, profile)
    if saved:
        flash(ngettext("%(num)d failed order export queued again; it goes with the next PO export run.",
                       "%(num)d failed order exports queued again; they go with the next PO export run.", count), "ok")
    else:
        flash(saved.message, "error")
    return redirect_to(url_for(".show_profile", profile_id=profile.id))


@bp.post("/profiles/<int:profile_id>/delete")
@roles_required(*ADMIN)
def delete_profile(profile_id):
    profile = integrations.get_profile(profile_id)
    integrations.delete_profile(current_user, profile)
    db.session.commit()
    return _done(_("Profile %(code)s deleted.", code=profile.code), url_for(".index"))


# -- Monitor Jobs ----------------------------------------------------------------------------------------------

def _scheduled() -> list[dict]:
    links = {"profile": lambda row: url_for(".show_profile", profile_id=row["profile_id"]),
             "daily": lambda row: url_for("admin.institution")}
    return [{"next": row["next"], "job": row["job_label"], "owner": row["owner"], "schedule": row["schedule"],
             "url": links[row["kind"]](row) if row["kind"] in links else None}
            for row in monitor_queries.scheduled(current_app)]


def _running() -> list[JobRun]:
    return monitor_queries.running()


def _history_filters() -> dict:
    return {"job": request.args.get("job", "") if request.args.get("job") in ALL_JOBS else "",
            "status": request.args.get("status", "") if request.args.get("status") in RUN_STATUSES else "",
            "profile": request.args.get("profile", ""),
            "days": request.args.get("days", "") if request.args.get("days") in HISTORY_DAYS else ""}


def _history_query(filters: dict):
    return monitor_queries.history_query(filters)


def _history(filters: dict, page: int):
    return db.paginate(_history_query(filters), page=page, per_page=RUNS_PER_PAGE, error_out=False)


def _local(value: datetime | None) -> datetime | None:
    """A stored UTC moment as the pages show it (the scheduler's time zone), without its zone."""
    return datetime.strptime(local_time(value), "%Y-%m-%d %H:%M:%S") if value else None


# Labels are exported in the reader's language (str() of a Text), as the page shows them.
RUN_COLUMNS = Columns([
    Column("id", T("Run"), "number", fixed=True),
    Column("job", T("Job"), value=lambda r: str(r.job_label), cell=lambda r: r.job_label),
    Column("profile_code", T("Profile")),
    Column("trigger", T("Trigger"), value=lambda r: str(r.trigger_label), cell=lambda r: r.trigger_label),
    Column("scheduled_for", T("Scheduled for"), "datetime", value=lambda r: _local(r.scheduled_for), shown=False),
    Column("started_at", T("Started"), "datetime", value=lambda r: _local(r.started_at)),
    Column("ended_at", T("Ended"), "datetime", value=lambda r: _local(r.ended_at)),
    Column("status", T("Status"), value=lambda r: str(r.status_label), cell=lambda r: r.status_label),
    Column("files", T("Files"), "number"),
    Column("records", T("Records"), "number"),
    Column("records_failed", T("With exceptions"), "number"),
    Column("message", T("Message"), value=lambda r: str(r.shown_message), cell=lambda r: r.shown_message, shown=False),
])
RUN_TABLE = list_columns.register("job_runs", T("Job runs"), RUN_COLUMNS)
EVENT_COLUMNS = Columns([
    Column("id", T("Event"), "number", shown=False),
    Column("at", T("Time"), "datetime", value=lambda e: _local(e.at), fixed=True),
    Column("level", T("Level"), value=lambda e: str(e.level_label), cell=lambda e: e.level_label),
    Column("file_name", T("File")),
    Column("record", T("Record")),
    Column("message", T("Message"), value=lambda e: str(e.shown), cell=lambda e: e.shown),
])
EVENT_TABLE = list_columns.register("job_events", T("Run events"), EVENT_COLUMNS)


def _streamed(query):
    """The ORM objects of ``query``, read a chunk at a time once the response is being sent (a run
    or event reads its labels from its own properties, as the page does)."""
    yield from db.session.scalars(query.execution_options(yield_per=1000))


def _page_arg() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and int(value) > 0 else 1


@bp.get("/jobs")
@roles_required(*ADMIN)
def monitor():
    filters = _history_filters()
    beat = scheduler.heartbeat()
    ctx = {"scheduled": _scheduled(), "running": _running(), "history": _history(filters, _page_arg()),
           "filters": filters, "history_url": lambda n: url_for(".monitor", page=n, **filters), "jobs": ALL_JOBS,
           "statuses": RUN_STATUSES, "profiles": integrations.profiles(), "history_days": HISTORY_DAYS,
           "heartbeat": beat, "scheduler_alive": beat is not None and beat["age"] < 60,
           "table": RUN_TABLE, "columns": list_columns.shown(current_user, RUN_TABLE),
           "column_choices": list_columns.choices(current_user, RUN_TABLE),
           "export_url": lambda fmt: url_for(".export_runs", fmt=fmt, **{k: v for k, v in filters.items() if v})}
    return render("integrations/monitor.html", "integrations/_history.html", **ctx)   # HTMX: its filters, pager


@bp.get("/jobs/export.csv", defaults={"fmt": "csv"})
@bp.get("/jobs/export.xlsx", defaults={"fmt": "xlsx"})
@roles_required(*ADMIN)
def export_runs(fmt):
    """Every run of the history's filter (newest first), in the columns the user shows."""
    columns = list_columns.exported(current_user, RUN_TABLE)
    return export_response(_streamed(_history_query(_history_filters())), columns, fmt, "job-runs", sheet=_("Job runs"))


@bp.get("/jobs/running")
@roles_required(*ADMIN)
def running():
    return render("integrations/running.html", "integrations/_running.html", running=_running())


@bp.get("/jobs/runs/<int:run_id>")
@roles_required(*ADMIN)
def show_run(run_id):
    run = db.get_or_404(JobRun, run_id)
    events = db.paginate(db.select(JobEvent).filter_by(run_id=run.id).order_by(JobEvent.id), page=_page_arg(),
                         per_page=100, error_out=False)
    return render("integrations/run.html", "integrations/_run_body.html", run=run, events=events,   # HTMX: the poll
                  events_url=lambda n: url_for(".show_run", run_id=run.id, page=n), result_link=result_link(run),
                  table=EVENT_TABLE, columns=list_columns.shown(current_user, EVENT_TABLE),
                  column_choices=list_columns.choices(current_user, EVENT_TABLE),
                  export_url=lambda fmt: url_for(".export_events", run_id=run.id, fmt=fmt))


@bp.get("/jobs/runs/<int:run_id>/events.csv", defaults={"fmt": "csv"})
@bp.get("/jobs/runs/<int:run_id>/events.xlsx", defaults={"fmt": "xlsx"})
@roles_required(*ADMIN)
def export_events(run_id, fmt):
    """Every event of the run, in order, in the columns the user shows."""
    run = db.get_or_404(JobRun, run_id)
    columns = list_columns.exported(current_user, EVENT_TABLE)
    return export_response(_streamed(db.select(JobEvent).filter_by(run_id=run.id).order_by(JobEvent.id)), columns,
                           fmt, f"run-{run.id}-events", sheet=_("Run %(id)s events", id=run.id))


@bp.get("/jobs/runs/<int:run_id>/report.csv")
@roles_required(*ADMIN)
def run_report(run_id):
    run = db.get_or_404(JobRun, run_id)
    resp = make_response(monitor_queries.report_csv(run, bool(request.args.get("all"))))
    resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    what = "events" if request.args.get("all") else "errors"
    resp.headers["Content-Disposition"] = f'attachment; filename="run-{run.id}-{what}.csv"'
    return resp
