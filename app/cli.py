"""Command line: ``flask --app wsgi init | demo`` here, and each domain's own group (users, ledger,
rollover, orders, jobs, migrate, backup, restore) added by ``register_cli``."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_migrate import upgrade

from .extensions import db


def register_cli(app):
    from .auth.cli import users_group
    from .backup.cli import backup_command, restore_command
    from .funds.cli import ledger_group, rollover_group
    from .integrations.cli import jobs_group
    from .migration.cli import migrate_group
    from .orders.cli import orders_group
    from .outgoing.cli import letters_group
    for command in (init_command, demo_command, users_group, ledger_group, rollover_group, orders_group, jobs_group,
                    migrate_group, backup_command, restore_command, letters_group):
        app.cli.add_command(command)


@click.command("init")
@click.option("--admin", "admin_name", default="admin", show_default=True)
@click.option("--password", envvar="ACQ_ADMIN_PASSWORD", help="First administrator's password.")
@with_appcontext
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


@click.command("demo")
@click.option("--erp-dir", default=None, help="Folder of the demo ERP exchange (default: instance/erp).")
@with_appcontext
def demo_command(erp_dir):
    """Load the demo institution (libraries, periods, ledgers, funds, users, a demo ERP profile); idempotent."""
    from .demo import DEMO_PASSWORD, load_demo
    from .integrations.services import get_connection
    upgrade()
    users = load_demo(erp_dir)
    db.session.commit()
    click.echo("Demo institution ready. Log in with any of these users, password "
               f"'{DEMO_PASSWORD}':")
    for username, label in users:
        click.echo(f"  {username:<22} {label}")
    click.echo(f"Demo ERP exchange (profile DEMO-ERP): files in {get_connection('DEMO-LOCAL').root_path}")
