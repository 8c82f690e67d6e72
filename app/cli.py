"""Command line: flask --app wsgi init | demo | users create/token | ledger check | orders package/renewals |
jobs run/scheduler | migrate aleph-budgets | backup | restore."""
from __future__ import annotations

import click
from flask_migrate import upgrade

from .auth.models import Role
from .extensions import db


def register_cli(app):
    from .migration.cli import migrate_group
    app.cli.add_command(migrate_group)
    from .backup.cli import backup_command, restore_command
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)

    @app.cli.command("init")
    @click.option("--admin", "admin_name", default="admin", show_default=True)
    @click.option("--password", envvar="ACQ_ADMIN_PASSWORD", help="First administrator's password.")
    def init_command(admin_name, password):
        """Create or upgrade the schema, the institution and a first administrator (idempotent)."""
        from .setup import ensure_admin, ensure_institution
        upgrade()
        inst = ensure_institution()
        created, pw = ensure_admin(admin_name, password)
        db.session.commit()
        click.echo(f"Database ready; institution {inst.code} ({inst.currency}).")
        if created:
            click.echo(f"Administrator {admin_name} created with password: {pw}")

    @app.cli.command("demo")
    @click.option("--erp-dir", default=None, help="Folder of the demo ERP exchange (default: instance/erp).")
    def demo_command(erp_dir):
        """Load the demo institution (libraries, periods, ledgers, funds, users, a demo ERP profile); idempotent."""
        from .demo import DEMO_PASSWORD, load_demo
        upgrade()
        users = load_demo(erp_dir)
        db.session.commit()
        click.echo("Demo institution ready. Log in with any of these users, password "
                   f"'{DEMO_PASSWORD}':")
        for username, label in users:
            click.echo(f"  {username:<22} {label}")
        from .integrations.services import get_connection
        click.echo(f"Demo ERP exchange (profile DEMO-ERP): files in {get_connection('DEMO-LOCAL').root_path}")

    users = click.Group("users", help="Manage users.")
    app.cli.add_command(users)

    @users.command("create")
    @click.argument("name")
    @click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
    @click.option("--library", "library_code", default=None, help="Library code; omit for the institution.")
    @click.option("--password", required=True)
    def users_create(name, role, library_code, password):
        """Create a user with one role."""
        from .auth.services import create_user
        from .errors import DomainError
        from .org.services import get_library
        try:
            library = get_library(library_code) if library_code else None
            create_user(None, name, password, roles=[(Role(role), library)])
        except DomainError as exc:
            raise click.ClickException(exc.message)
        db.session.commit()
        click.echo(f"User {name} created as {Role(role).label} for {library_code or 'the institution'}.")

    @users.command("token")
    @click.argument("name")
    def users_token(name):
        """Print a new API token for NAME (replaces the previous one)."""
        from .auth.models import User
        from .auth.services import issue_api_token
        user = db.session.scalar(db.select(User).filter_by(username=name))
        if user is None:
            raise click.ClickException(f"No user {name}.")
        token = issue_api_token(None, user)
        db.session.commit()
        click.echo(token)

    ledger = click.Group("ledger", help="Ledger maintenance.")
    app.cli.add_command(ledger)

    @ledger.command("check")
    def ledger_check():
        """Recompute every balance from the transactions; exit 1 when any differs."""
        from .funds.services import check_ledger
        diffs = check_ledger()
        if diffs:
            for d in diffs:
                click.echo(f"DIFFERENCE {d}")
            click.echo(f"{len(diffs)} fund(s) differ from their transactions.")
            raise SystemExit(1)
        click.echo("All fund balances match their transactions.")


    orders = click.Group("orders", help="Order runs (also run by the scheduler).")
    app.cli.add_command(orders)

    def _acting(name):
        from .auth.models import User
        user = db.session.scalar(db.select(User).filter_by(username=name))
        if user is None:
            raise click.ClickException(f"No user {name}.")
        return user

    @orders.command("package")
    @click.option("--as", "username", default="admin", show_default=True, help="The user the run acts as.")
    def orders_package(username):
        """Package Ready lines marked for automatic packaging into POs per vendor and send them."""
        from .errors import DomainError
        from .orders.services import package_ready_lines
        try:
            pos = package_ready_lines(_acting(username))
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message)
        db.session.commit()
        for po in pos:
            click.echo(f"{po.number} sent to {po.vendor.code} with {len(po.lines)} line(s).")
        click.echo(f"{len(pos)} purchase order(s) sent.")

    @orders.command("renewals")
    @click.option("--as", "username", default="admin", show_default=True, help="The user the run acts as.")
    @click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Run as of this day.")
    def orders_renewals(username, day):
        """Move continuous lines near their renewal date to Waiting for (Manual) Renewal; renew automatic ones due."""
        from .orders.services import process_renewals
        counts = process_renewals(_acting(username), day.date() if day else None)
        db.session.commit()
        click.echo(f"{counts['waiting']} waiting for renewal, {counts['waiting_manual']} waiting for manual "
                   f"renewal, {counts['renewed']} renewed.")

    jobs_group = click.Group("jobs", help="Finance (ERP) integration jobs.")
    app.cli.add_command(jobs_group)

    @jobs_group.command("run")
    @click.argument("name", type=click.Choice(sorted(_job_commands())))
    @click.option("--profile", "profile_code", required=True, help="Code of the integration profile.")
    @click.option("--as", "username", default=None, help="The user the run acts as (default: the ERP integration user).")
    def jobs_run(name, profile_code, username):
        """Run one job of a profile now and print its report; exit 1 when the run failed."""
        from .integrations.models import JOB_COMMANDS, JobRun
        from .integrations.runs import JobRefused, job_runner
        actor_id = _acting(username).id if username else None
        db.session.remove()
        try:
            job = job_runner(app, JOB_COMMANDS[name])
            run_id = job(app, profile_code, actor_id=actor_id, trigger="cli")
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
        from .integrations import scheduler
        if scheduler.should_start(app, dedicated=True):
            scheduler.start(app)
            click.echo("Scheduler running; Ctrl-C stops it.")
        else:
            click.echo("Another process runs the scheduler; this one takes over when it stops. Ctrl-C stops it.")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            scheduler.stop(app)


def _job_commands():
    from .integrations.models import JOB_COMMANDS
    return JOB_COMMANDS
