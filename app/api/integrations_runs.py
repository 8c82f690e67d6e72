"""API v1: Monitor Jobs — the history of job runs (filters as the page's), the runs going on now,
one run with its events and its error report as CSV — and the S/FTP servers a test instance may
connect to. Institution administrators only, as on the pages (:mod:`app.api.integrations`)."""
from __future__ import annotations

from datetime import timezone

from flask import current_app, make_response, request, url_for
from flask_login import current_user

from ..auth.models import Role
from ..auth.permissions import institution_roles_required
from ..errors import NotFound
from ..extensions import db
from ..idempotency import idempotent
from ..ids import MAX_ID
from ..integrations import allowed_hosts
from ..integrations import monitor, scheduler
from ..integrations.models import JOBS, OTHER_JOBS, RUN_STATUSES, AllowedHost, JobRun
from .base import (BOOLEAN, INTEGER, MOMENT, NULLABLE_MOMENT, NULLABLE_STRING, STRING, bp, check_match, choice_arg,
                   deleted, input_schema, list_of, object_schema, one, operation, page_args, page_of, param,
                   path_param, per_page_param, query_param, ref, register_openapi, saved)
from .integrations import institution_admin, run_json
from .serializers import Field, read_body, timestamp

ADMIN = (Role.ADMIN,)
ALL_JOBS = {**JOBS, **OTHER_JOBS}
ENDED = tuple(s for s in RUN_STATUSES if s != "running")
RUNS_PER_PAGE, MAX_RUNS_PER_PAGE = 25, 200
EVENTS_PER_PAGE, MAX_EVENTS_PER_PAGE = 100, 1000
SCHEDULER_ALIVE_SECONDS = 60   # as Monitor Jobs: a heartbeat older than this, no scheduler runs


def event_json(e) -> dict:
    return {"id": e.id, "at": timestamp(e.at), "level": e.level, "file": e.file_name, "record": e.record,
            "message": e.message}


def _run(run_id: int) -> JobRun:
    run = db.session.get(JobRun, run_id) if run_id <= MAX_ID else None
    if run is None:
        raise NotFound("No such job run.")
    return run


@bp.get("/erp/runs")
@institution_admin
def list_erp_runs():
    """Monitor Jobs' history: ended runs, newest first."""
    page = page_args(RUNS_PER_PAGE, MAX_RUNS_PER_PAGE)
    filters = {"job": choice_arg("job", ALL_JOBS), "status": choice_arg("status", ENDED),
               "profile": request.args.get("profile", ""), "days": choice_arg("days", monitor.HISTORY_DAYS)}
    return page.of(monitor.history_query(filters), run_json)


@bp.get("/erp/runs/running")
@institution_admin
def list_running_erp_runs():
    return {"items": [run_json(r) for r in monitor.running()]}


def _utc(moment) -> str | None:
    """An aware moment (the scheduler's zone) as the API writes moments: UTC, with Z."""
    return timestamp(moment.astimezone(timezone.utc).replace(tzinfo=None)) if moment is not None else None


@bp.get("/erp/scheduled")
@institution_admin
def list_scheduled_erp_runs():
    """Monitor Jobs' "Scheduled", and whether a scheduler is running (its heartbeat)."""
    beat = scheduler.heartbeat()
    return {"scheduler": {"alive": beat is not None and beat["age"] < SCHEDULER_ALIVE_SECONDS,
                          "last_seen": timestamp(beat["at"]) if beat else None},
            "items": [{"next": _utc(row["next"]), "job": row["job"], "job_label": row["job_label"],
                       "owner": row["owner"], "schedule": row["schedule"]}
                      for row in monitor.scheduled(current_app)]}


@bp.get("/erp/runs/<int:run_id>")
@institution_admin
def get_erp_run(run_id):
    return one(_run(run_id), run_json)


@bp.get("/erp/runs/<int:run_id>/events")
@institution_admin
def list_erp_run_events(run_id):
    run = _run(run_id)
    page = page_args(EVENTS_PER_PAGE, MAX_EVENTS_PER_PAGE)
    return page.of(monitor.events_query(run), event_json)


@bp.get("/erp/runs/<int:run_id>/report.csv")
@institution_admin
def get_erp_run_report(run_id):
    run = _run(run_id)
    every = choice_arg("all", ("true", "false")) == "true"
    resp = make_response(monitor.report_csv(run, every))
    resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    resp.headers["Content-Disposition"] = f'attachment; filename="run-{run.id}-{"events" if every else "errors"}.csv"'
    return resp


# -- allowed S/FTP servers (test instances) ----------------------------------------------------------

SERVER_IN = {
    "address": Field("str", "host, host:port, [IPv6] or [IPv6]:port; without a port any port is allowed.",
                     required=True, max_length=300),
    "note": Field("str", "Why (at most 200 characters).", default="", max_length=300),
}


def server_json(e: AllowedHost) -> dict:
    return {"id": e.id, "host": e.host, "port": e.port, "address": e.address, "note": e.note,
            "added_at": timestamp(e.added_at), "added_by": e.added_by.username if e.added_by else None,
            "removed_at": timestamp(e.removed_at), "removed_by": e.removed_by.username if e.removed_by else None}


def _server(entry_id: int) -> AllowedHost:
    entry = db.session.get(AllowedHost, entry_id) if entry_id <= MAX_ID else None
    if entry is None or entry.removed_at is not None:
        raise NotFound("That server is not on the list (removed already?).")
    return entry


@bp.get("/erp/allowed-servers")
@institution_admin
def list_erp_allowed_servers():
    return {"environment": allowed_hosts.environment(), "config_codes": allowed_hosts.config_codes(),
            "items": [server_json(e) for e in allowed_hosts.active()],
            "removed": [server_json(e) for e in allowed_hosts.removed()]}


@bp.post("/erp/allowed-servers")
@institution_roles_required(*ADMIN)
@idempotent
def add_erp_allowed_server():
    body = read_body(SERVER_IN)
    entry = allowed_hosts.add(current_user, body["address"], body["note"])
    return saved(entry, server_json, 201, lambda e: url_for("api.get_erp_allowed_server", entry_id=e.id))


@bp.get("/erp/allowed-servers/<int:entry_id>")
@institution_admin
def get_erp_allowed_server(entry_id):
    return one(_server(entry_id), server_json)


@bp.delete("/erp/allowed-servers/<int:entry_id>")
@institution_roles_required(*ADMIN)
def remove_erp_allowed_server(entry_id):
    entry = _server(entry_id)
    check_match(entry, server_json)
    allowed_hosts.remove(current_user, entry.id)
    return deleted()


# -- OpenAPI -----------------------------------------------------------------------------------------

_ADMIN = "admin, held for the whole institution"

register_openapi(
    schemas={
        "ErpRun": object_schema({
            "id": INTEGER, "job": {"type": "string", "enum": list(ALL_JOBS)}, "job_label": STRING,
            "profile": {**NULLABLE_STRING, "description": "The profile's (or owner's) code, kept when it is deleted."},
            "trigger": STRING, "trigger_label": STRING, "scheduled_for": NULLABLE_MOMENT, "started_at": MOMENT,
            "ended_at": NULLABLE_MOMENT, "status": {"type": "string", "enum": list(RUN_STATUSES)},
            "status_label": STRING, "interrupted": BOOLEAN, "files": INTEGER, "records": INTEGER,
            "records_failed": {**INTEGER, "description": "Records refused; each is an event (warning or error)."},
            "progress_done": INTEGER, "progress_total": {"type": ["integer", "null"]}, "message": STRING,
            "actor": {**NULLABLE_STRING, "description": "Who started it (a scheduled run: the service user)."}},
            "One run of one job."),
        "ErpRunPage": page_of("ErpRun", "Runs"),
        "ErpRunList": list_of("ErpRun"),
        "ErpRunEvent": object_schema({"id": INTEGER, "at": MOMENT,
                                      "level": {"type": "string", "enum": ["info", "warning", "error"]},
                                      "file": STRING, "record": STRING, "message": STRING}),
        "ErpRunEventPage": page_of("ErpRunEvent", "Events"),
        "ErpScheduled": object_schema({
            "scheduler": object_schema({
                "alive": {**BOOLEAN, "description": "A scheduler process gave a sign of life in the last minute; "
                                                    "without one, scheduled jobs do not start (Run now still works)."},
                "last_seen": NULLABLE_MOMENT}),
            "items": {"type": "array", "items": object_schema({
                "next": MOMENT, "job": {"type": "string", "enum": list(ALL_JOBS)}, "job_label": STRING,
                "owner": {**STRING, "description": "A profile's code, EDI-<vendor code>, Institution, or \"\"."},
                "schedule": STRING})}},
            "What the scheduler runs next, soonest first."),
        "ErpAllowedServer": object_schema({
            "id": INTEGER, "host": STRING, "port": {"type": ["integer", "null"], "description": "null: any port."},
            "address": STRING, "note": STRING, "added_at": MOMENT, "added_by": NULLABLE_STRING,
            "removed_at": NULLABLE_MOMENT, "removed_by": NULLABLE_STRING}),
        "ErpAllowedServers": object_schema({
            "environment": {**STRING, "description": "This instance's INSTANCE_ENVIRONMENT; on production every "
                                                     "connection is used."},
            "config_codes": {"type": "array", "items": STRING,
                             "description": "Connection codes allowed in the config file (ERP_CONNECTION_ALLOWLIST)."},
            "items": {"type": "array", "items": ref("ErpAllowedServer")},
            "removed": {"type": "array", "items": ref("ErpAllowedServer"), "description": "The latest removed ones."}}),
        "ErpAllowedServerInput": input_schema(SERVER_IN, "A server a test instance may connect to."),
    },
    parameters={
        "ErpRunId": path_param("run_id", "The run's id."),
        "ErpAllowedServerId": path_param("entry_id", "The entry's id."),
        "ErpRunJobFilter": query_param("job", {"type": "string", "enum": list(ALL_JOBS)}, "Only runs of this job."),
        "ErpRunStatusFilter": query_param("status", {"type": "string", "enum": list(ENDED)}, "Only runs that ended so."),
        "ErpRunProfileFilter": query_param("profile", STRING, "Only runs of the profile (or owner) with this code."),
        "ErpRunDaysFilter": query_param("days", {"type": "string", "enum": list(monitor.HISTORY_DAYS)},
                                        "Only runs started in the last 1, 7 or 30 days."),
        "ErpRunPerPage": per_page_param(MAX_RUNS_PER_PAGE, RUNS_PER_PAGE),
        "ErpRunEventPerPage": per_page_param(MAX_EVENTS_PER_PAGE, EVENTS_PER_PAGE),
        "ErpRunReportAll": query_param("all", {"type": "string", "enum": ["true", "false"], "default": "false"},
                                       "true: every event, not only the warnings and errors."),
    },
    paths={
        "/api/v1/erp/runs": {
            "get": operation("listErpRuns", "Monitor Jobs' history: ended runs, newest first, paged", _ADMIN,
                             ("200", "ErpRunPage", "One page of runs."), ("400",),
                             params=("ErpRunJobFilter", "ErpRunStatusFilter", "ErpRunProfileFilter",
                                     "ErpRunDaysFilter", "Page", "ErpRunPerPage")),
        },
        "/api/v1/erp/runs/running": {
            "get": operation("listRunningErpRuns", "The runs going on now", _ADMIN,
                             ("200", "ErpRunList", "The running runs, oldest first.")),
        },
        "/api/v1/erp/scheduled": {
            "get": operation("listScheduledErpRuns", "What the scheduler runs next, and whether it runs", _ADMIN,
                             ("200", "ErpScheduled", "The scheduled jobs.")),
        },
        "/api/v1/erp/runs/{run_id}": {
            "parameters": [param("ErpRunId")],
            "get": operation("getErpRun", "One run (follow it until its status is not running)", _ADMIN,
                             ("200", "ErpRun", "The run."), ("404",), etag=True),
        },
        "/api/v1/erp/runs/{run_id}/events": {
            "parameters": [param("ErpRunId")],
            "get": operation("listErpRunEvents", "A run's events, in order, paged", _ADMIN,
                             ("200", "ErpRunEventPage", "One page of events."), ("400", "404"),
                             params=("Page", "ErpRunEventPerPage")),
        },
        "/api/v1/erp/runs/{run_id}/report.csv": {
            "parameters": [param("ErpRunId")],
            "get": operation("getErpRunReport", "A run's error report (its warnings and errors) as CSV", _ADMIN,
                             ("200", {"text/csv": {"schema": {"type": "string"}}}, "The report: run, job, profile, "
                              "time (UTC), level, file, record, message."), ("400", "404"),
                             params=("ErpRunReportAll",)),
        },
        "/api/v1/erp/allowed-servers": {
            "get": operation("listErpAllowedServers", "The S/FTP servers a test instance may connect to", _ADMIN,
                             ("200", "ErpAllowedServers", "The list.")),
            "post": operation("addErpAllowedServer", "Allow a server", _ADMIN,
                              ("201", "ErpAllowedServer", "Added (Location: the entry)."), ("400", "409"),
                              body="ErpAllowedServerInput", location="The entry's URL.", idempotent=True),
        },
        "/api/v1/erp/allowed-servers/{entry_id}": {
            "parameters": [param("ErpAllowedServerId")],
            "get": operation("getErpAllowedServer", "One allowed server", _ADMIN,
                             ("200", "ErpAllowedServer", "The entry."), ("404",), etag=True),
            "delete": operation("removeErpAllowedServer", "Remove a server: connections to it are refused again",
                                _ADMIN, ("204", None, "Removed (the entry is kept, with who removed it)."),
                                ("404",), if_match="required"),
        },
    })
