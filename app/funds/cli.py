"""``flask --app wsgi ledger check``: every balance recomputed from the transactions."""
from __future__ import annotations

import click
from flask.cli import AppGroup

ledger_group = AppGroup("ledger", help="Ledger maintenance.")


@ledger_group.command("check")
def ledger_check():
    """Recompute every balance from the transactions; exit 1 when any differs."""
    from . import services as funds
    diffs = funds.check_ledger()
    if diffs:
        for d in diffs:
            click.echo(f"DIFFERENCE {d}")
        click.echo(f"{len(diffs)} fund(s) differ from their transactions.")
        raise SystemExit(1)
    click.echo("All fund balances match their transactions.")
