"""``flask --app wsgi backup [--to DIR] [--keep N]`` and ``flask --app wsgi restore ARCHIVE``."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..extensions import db
from . import BackupError


@click.command("backup")
@click.option("--to", "folder", type=click.Path(file_okay=False), default=None,
              help="Folder for the archive (default: BACKUP_FOLDER, instance/backups).")
@click.option("--keep", type=click.IntRange(min=1), default=None,
              help="Then keep only the newest N archives in that folder.")
@with_appcontext
def backup_command(folder, keep):
    """Write a consistent backup (database, keys, attachments) as one archive, while the app runs."""
    from ..integrations.models import JobRun
    from .runs import run_backup
    run_id = run_backup(current_app._get_current_object(), trigger="cli", folder=folder, keep=keep)
    run = db.session.get(JobRun, run_id)
    for event in run.events:
        click.echo(event.message)
    if run.status != "completed":
        raise click.ClickException(f"Backup failed (run #{run.id}): {run.message}")
    click.echo(f"Backup written (run #{run.id}): {run.message}")


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def restore_command(archive):
    """Restore ARCHIVE into this empty instance, then check the ledger and the row counts."""
    from .archive import restore_archive
    try:
        report = restore_archive(Path(archive))
    except BackupError as exc:
        raise click.ClickException(exc.message)
    manifest = report.manifest
    click.echo(f"{Path(archive).name}: every checksum matches (taken {manifest['created_at']} on "
               f"{manifest.get('host', '?')}, {manifest['database']['kind']}, schema {manifest['schema_revision']}).")
    click.echo(f"Database restored into {report.database}.")
    attachments = sum(1 for f in report.files if f.startswith("attachments/"))
    instance_files = [f for f in report.files if not f.startswith("attachments/")]
    click.echo(f"Restored {', '.join(instance_files) or 'no instance files'} and {attachments} attachment(s).")
    for kept in report.kept:
        click.echo(f"Kept this server's {kept}; the archive's copy is beside it as {kept}.from-backup.")
    for difference in report.ledger_differences:
        click.echo(f"LEDGER DIFFERENCE {difference}")
    click.echo("Ledger check: " + (f"{len(report.ledger_differences)} fund(s) differ from their transactions."
                                   if report.ledger_differences else "all fund balances match their transactions."))
    for difference in report.count_differences:
        click.echo(f"ROW COUNT DIFFERENCE {difference}")
    click.echo("Row counts: " + (f"{len(report.count_differences)} table(s) differ from the manifest."
                                 if report.count_differences else f"all {report.tables} tables match the manifest."))
    for note in report.notes:
        click.echo(note)
    if not report.ok:
        raise SystemExit(1)
    click.echo("Restore complete.")
