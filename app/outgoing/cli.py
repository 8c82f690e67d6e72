"""``flask letters send``: deliver the letters to vendors that are due now, as a run on Monitor Jobs."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from ..extensions import db
from ..integrations.models import JobRun
from . import runs


@click.group("letters")
def letters_group():
    """Letters to vendors (orders, cancellations, claims, payment notices)."""


@letters_group.command("send")
@click.option("--limit", type=int, default=None, help="Send at most this many letters.")
@with_appcontext
def send_command(limit):
    """Send the letters that are due now (retries whose time came included)."""
    app = current_app._get_current_object()
    run_id = runs.run(app, trigger="cli", limit=limit, force=True)
    if run_id is None:
        raise click.ClickException("Another run is sending letters now; it takes the due ones.")
    run = db.session.get(JobRun, run_id)
    click.echo(f"Run #{run.id} {run.status_label.lower()}: {run.message}")
    for event in run.events:
        click.echo(f"  {event.level}: {event.message}")
    waiting = runs.waiting()
    if waiting:
        click.echo("Letters by status: " + ", ".join(f"{status} {count}" for status, count in sorted(waiting.items())))
