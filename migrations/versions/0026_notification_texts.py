"""notification texts: a notification's title and body kept to be shown in its reader's language

Revision ID: 0026_notification_texts
Revises: 0025_letter_language
"""
from alembic import op
import sqlalchemy as sa

revision = "0026_notification_texts"
down_revision = "0025_letter_language"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_text', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('body_text', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('body_text')
        batch_op.drop_column('title_text')
