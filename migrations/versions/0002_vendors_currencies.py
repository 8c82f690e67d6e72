"""vendors and the currency repository (slot: filled in by the vendors slice)

Revision ID: 0002_vendors_currencies
Revises: 5077837e7282
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import app.types  # noqa: F401

revision = "0002_vendors_currencies"
down_revision = "5077837e7282"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
