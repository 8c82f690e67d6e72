"""bibliographic inventory: records, holdings, items (slot: filled in by the inventory slice)

Revision ID: 0003_inventory
Revises: 0002_vendors_currencies
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import app.types  # noqa: F401

revision = "0003_inventory"
down_revision = "0002_vendors_currencies"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
