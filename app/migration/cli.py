"""flask --app wsgi migrate aleph-budgets Z76_FILE Z601_FILE [--dry-run] [--local-currency USD]

A real migration is a run (job ``aleph_budgets``, on Monitor Jobs) executed in the foreground: the
structure in one transaction, then the transactions in chunks, so the database is never held for
long. Run again with the same files after an interruption, it carries on where it stopped.
"""
import hashlib

import click
from flask import current_app
from flask.cli import with_appcontext

from ..extensions import db

migrate_group = click.Group("migrate", help="Migrate data from a legacy system.")


def _read(path, reader, *args):
    from .aleph import AlephInputError
    name = click.format_filename(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            return reader(stream, *args, name) if args else reader(stream, name)
    except UnicodeDecodeError as exc:
        raise AlephInputError(name, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _key(z76_file, z601_file, currency: str) -> str:
    digest = hashlib.sha256()
    for path in (z76_file, z601_file):
        with open(path, "rb") as stream:
            digest.update(hashlib.sha256(stream.read()).digest())
    digest.update(currency.encode())
    return digest.hexdigest()


@migrate_group.command("aleph-budgets")
@click.argument("z76_file", type=click.Path(exists=True, dir_okay=False))
@click.argument("z601_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Report what would be created and change nothing.")
@click.option("--local-currency", default=None, help="Currency of the ledgers (default: the institution's).")
@click.option("--report", "report_file", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Also write the report to this file.")
@click.option("--as", "username", default=None,
              help="Act as this user (default: an institution administrator 'aleph-migration' that cannot log in).")
@with_appcontext
def aleph_budgets(z76_file, z601_file, dry_run, local_currency, report_file, username):
    """Migrate Aleph budgets (Z76) and budget transactions (Z601) exported as CSV into fiscal periods,
    ledgers and funds; a real run ends with a reconciliation per budget and exits 1 on any difference."""
    from ..errors import DomainError
    from ..integrations import loads
    from ..integrations.models import BulkLoad, JobRun
    from ..org.models import Institution
    from .aleph import AlephInputError, plan_migration, read_z601, read_z76
    from .budgets import (JOB, KIND, apply_structure, migrate_in_chunks, migration_actor, plan_report, reconcile,
                          reconciliation_lines)

    lines: list[str] = []

    def emit(new_lines):
        for line in new_lines:
            click.echo(line)
        lines.extend(new_lines)
        if report_file:
            with open(report_file, "w", encoding="utf-8") as out:
                out.write("\n".join(lines) + "\n")

    try:
        budgets = _read(z76_file, read_z76)
        transactions = _read(z601_file, read_z601, [b.number for b in budgets])
        plan = plan_migration(budgets, transactions)
    except AlephInputError as exc:
        raise click.ClickException(f"Refused, nothing written: {exc}")
    institution = Institution.current()
    currency = (local_currency or (institution.currency if institution else "")).upper()
    try:
        actor = migration_actor(username)
        if dry_run:   # the structure is tried and rolled back; the history cannot be refused
            applied = apply_structure(plan, actor, currency)
            db.session.rollback()
            emit(plan_report(plan, applied, currency, True))
            return
        db.session.commit()
    except (DomainError, LookupError) as exc:
        db.session.rollback()
        raise click.ClickException(f"Refused, nothing written: {getattr(exc, 'message', exc)}")

    key = _key(z76_file, z601_file, currency)
    done = db.session.scalar(db.select(BulkLoad).filter_by(kind=KIND, key=key, status="done"))
    if done is not None:
        raise click.ClickException(f"Refused, nothing written: these files were migrated already (run #{done.run_id}).")
    run, load, started = loads.start(JOB, "ALEPH", actor, KIND, key,
                                     f"{click.format_filename(z76_file)}, {click.format_filename(z601_file)}",
                                     trigger="cli")
    if not started:
        raise click.ClickException(f"Refused, nothing written: run #{run.id} is migrating these files right now.")
    run_id, load_id, actor_id = run.id, load.id, actor.id
    db.session.commit()   # this command's own transaction must not hold the lock the run needs
    click.echo(f"Run #{run_id} (Monitor Jobs) migrating…", err=True)
    result: dict = {}
    loads.execute(current_app._get_current_object(), run_id, migrate_in_chunks, load_id, plan, actor_id, currency,
                  result)
    db.session.expire_all()
    run = db.session.get(JobRun, run_id)
    if run.status != "completed":
        raise click.ClickException(run.message)
    report = plan_report(plan, result["applied"], currency, False)
    if "resumed_from" in result:
        report.insert(1, f"Carried on after an interrupted run: {result['resumed_from']} transaction(s) had been "
                         "posted before.")
    with loads.reading():
        rows = reconcile(plan, result["applied"].fund_ids)
    emit(report + ["", "Reconciliation (Aleph Z601 totals beside the migrated funds):"] + reconciliation_lines(rows))
    if any(not r.matches for r in rows):
        raise SystemExit(1)
