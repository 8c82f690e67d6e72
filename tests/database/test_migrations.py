"""The Alembic migrations create exactly the schema the models describe, and downgrade cleanly."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db

pytestmark = [pytest.mark.committing, pytest.mark.postgres]


def test_models_and_migrations_agree(app):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
    assert diff == []


def test_downgrade_and_upgrade_again(make_app):
    from flask_migrate import downgrade, upgrade
    app = make_app("sqlite")
    with app.app_context():
        db.session.remove()
        downgrade(revision="base")
        upgrade()
        from app.setup import ensure_institution
        assert ensure_institution().code == "INST"
