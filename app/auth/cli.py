"""``flask --app wsgi users create NAME --role ROLE [--library CODE] --password PW`` and
``users token NAME``; ``user_named`` finds the user another command acts as."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from ..extensions import db
from .models import Role, User

users_group = AppGroup("users", help="Manage users.")


def user_named(name: str) -> User:
    """The user called ``name``, or the command stops with "No user NAME."."""
    user = db.session.scalar(db.select(User).filter_by(username=name))
    if user is None:
        raise click.ClickException(f"No user {name}.")
    return user


@users_group.command("create")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--library", "library_code", default=None, help="Library code; omit for the institution.")
@click.option("--password", required=True)
def users_create(name, role, library_code, password):
    """Create a user with one role."""
    from ..errors import DomainError
    from ..org.services import get_library
    from .services import create_user
    try:
        library = get_library(library_code) if library_code else None
        create_user(None, name, password, roles=[(Role(role), library)])
    except DomainError as exc:
        raise click.ClickException(exc.message)
    db.session.commit()
    click.echo(f"User {name} created as {Role(role).label} for {library_code or 'the institution'}.")


@users_group.command("token")
@click.argument("name")
def users_token(name):
    """Print a new API token for NAME (replaces the previous one)."""
    from .services import issue_api_token
    token = issue_api_token(None, user_named(name))
    db.session.commit()
    click.echo(token)
