"""flask --app wsgi migrate aleph-budgets Z76_FILE Z601_FILE [--dry-run] [--local-currency USD]"""
import click
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
    from ..org.models import Institution
    from .aleph import AlephInputError, plan_migration, read_z601, read_z76
    from .budgets import apply_plan, migration_actor, plan_report, reconcile, reconciliation_lines

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
        applied = apply_plan(plan, actor, currency)
    except (DomainError, LookupError) as exc:
        db.session.rollback()
        raise click.ClickException(f"Refused, nothing written: {getattr(exc, 'message', exc)}")
    report = plan_report(plan, applied, currency, dry_run)
    if dry_run:
        db.session.rollback()
        emit(report)
        return
    db.session.commit()
    db.session.expire_all()
    rows = reconcile(plan, applied.fund_ids)
    emit(report + ["", "Reconciliation (Aleph Z601 totals beside the migrated funds):"] + reconciliation_lines(rows))
    if any(not r.matches for r in rows):
        raise SystemExit(1)
