"""flask --app wsgi migrate aleph-budgets Z76_FILE Z601_FILE [--dry-run] [--local-currency USD]"""
import click

migrate_group = click.Group("migrate", help="Migrate data from a legacy system.")
