"""``flask --app wsgi orders package | renewals``: the order runs the scheduler also runs."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from ..auth.cli import user_named
from ..extensions import db

orders_group = AppGroup("orders", help="Order runs (also run by the scheduler).")


@orders_group.command("package")
@click.option("--as", "username", default="admin", show_default=True, help="The user the run acts as.")
def orders_package(username):
    """Package Ready lines marked for automatic packaging into POs per vendor and send them."""
    from ..errors import DomainError
    from . import services as orders
    try:
        pos = orders.package_ready_lines(user_named(username))
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message)
    db.session.commit()
    for po in pos:
        click.echo(f"{po.number} sent to {po.vendor.code} with {len(po.lines)} line(s).")
    click.echo(f"{len(pos)} purchase order(s) sent.")


@orders_group.command("renewals")
@click.option("--as", "username", default="admin", show_default=True, help="The user the run acts as.")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Run as of this day.")
def orders_renewals(username, day):
    """Move continuous lines near their renewal date to Waiting for (Manual) Renewal; renew automatic ones due."""
    from . import services as orders
    counts = orders.process_renewals(user_named(username), day.date() if day else None)
    db.session.commit()
    click.echo(f"{counts['waiting']} waiting for renewal, {counts['waiting_manual']} waiting for manual "
               f"renewal, {counts['renewed']} renewed.")
