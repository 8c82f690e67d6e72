"""``flask --app wsgi jobs run NAME --profile CODE [--as USER]`` and ``jobs scheduler``."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ..auth.cli import user_named
from ..extensions import db
from .models import JOB_COMMANDS

jobs_group = AppGroup("jobs", help="Finance (ERP) integration jobs.")


def job_run_function(app, job: str):
    """The ``run`` function of ``job`` (a key of app.integrations.models.JOBS): the one place this
    command looks the jobs up."""
    from .runs import job_runner
    return job_runner(app, job)


@jobs_group.command("run")
@click.argument("name", type=click.Choice(sorted(JOB_COMMANDS)))
@click.option("--profile", "profile_code", required=True, help="Code of the integration profile.")
@click.option("--as", "username", default=None, help="The user the run acts as (default: the ERP integration user).")
def jobs_run(name, profile_code, username):
    """Run one job of a profile now and print its report; exit 1 when the run failed."""
    from .models import JobRun
    from .runs import JobRefused
    app = current_app._get_current_object()
    actor_id = user_named(username).id if username else None
    db.session.remove()
    try:
        run_id = job_run_function(app, JOB_COMMANDS[name])(app, profile_code, actor_id=actor_id, trigger="cli")
    except JobRefused as exc:
        raise click.ClickException(str(exc))
    run = db.session.get(JobRun, run_id)
    click.echo(f"Run #{run.id} {run.job_label} ({run.profile_code}): {run.status_label}. {run.message}")
    for event in run.events:
        where = " ".join(x for x in (event.file_name, event.record) if x)
        click.echo(f"  {event.level.upper():7} {where + ': ' if where else ''}{event.message}")
    if run.status != "completed":
        raise SystemExit(1)


@jobs_group.command("scheduler")
def jobs_scheduler():
    """Run the scheduler in this process (for setups whose web workers run without it). When
    another process runs it, wait and take over when that one stops."""
    import threading
    from . import scheduler
    app = current_app._get_current_object()
    if scheduler.should_start(app, dedicated=True):
        scheduler.start(app)
        click.echo("Scheduler running; Ctrl-C stops it.")
    else:
        click.echo("Another process runs the scheduler; this one takes over when it stops. Ctrl-C stops it.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        scheduler.stop(app)
