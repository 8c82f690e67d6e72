"""``flask --app wsgi orders package | renewals``: the order runs the scheduler also runs (at the
institution's ``packaging_at`` and ``renewals_at``), recorded as runs on Monitor Jobs too."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ..auth.cli import user_named
from ..extensions import db

orders_group = AppGroup("orders", help="Order runs (also run by the scheduler).")


def _run(job: str, username: str, day=None):
    """Run the daily job ``job`` now as ``username``; the run (trigger "cli"), its id in the output."""
    from ..integrations.daily import run_daily
    from ..integrations.models import JobEvent, JobRun
    actor_id = user_named(username).id
    db.session.commit()   # no transaction of ours (SQLite's write lock) stays open during the run
    run_id = run_daily(current_app._get_current_object(), job, trigger="cli", actor_id=actor_id, today=day)
    db.session.expire_all()
    run = db.session.get(JobRun, run_id)
    events = list(db.session.scalars(db.select(JobEvent).filter_by(run_id=run_id).order_by(JobEvent.id)))
    return run, events


@orders_group.command("package")
@click.option("--as", "username", default="admin", show_default=True, help="The user the run acts as.")
def orders_package(username):
    """Package Ready lines marked for automatic packaging into POs per vendor and send them."""
    run, events = _run("package_orders", username)
    for event in events[1:]:
        click.echo(event.message, err=event.level != "info")
    click.echo(f"{run.message} (run #{run.id} on Monitor Jobs)")
    if run.status != "completed":
        raise click.ClickException(run.message)


@orders_group.command("renewals")
@click.option("--as", "username", default="admin", show_default=True, help="The user the run acts as.")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Run as of this day.")
def orders_renewals(username, day):
    """Move continuous lines near their renewal date to Waiting for (Manual) Renewal; renew automatic ones due."""
    run, events = _run("renewals", username, day.date() if day else None)
    click.echo(f"{run.message} (run #{run.id} on Monitor Jobs)")
    for event in events:
        click.echo(event.message, err=event.level != "info")
    if run.status != "completed":
        raise click.ClickException(run.message)
