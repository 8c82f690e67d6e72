"""edi reason text: an EDI inbox message's reason kept to be shown translated

Revision ID: 0027_edi_reason_text
Revises: 0026_notification_texts
"""
from alembic import op
import sqlalchemy as sa

revision = "0027_edi_reason_text"
down_revision = "0026_notification_texts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('edi_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_text', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('edi_message', schema=None) as batch_op:
        batch_op.drop_column('reason_text')
