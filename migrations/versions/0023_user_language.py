"""user language: the interface language a person chose (none: the browser's, else the institution's)

Revision ID: 0023_user_language
Revises: 0022_campus_formats
"""
from alembic import op
import sqlalchemy as sa

revision = "0023_user_language"
down_revision = "0022_campus_formats"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('language')
