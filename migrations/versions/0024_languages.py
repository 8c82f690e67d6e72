"""languages: the vendor's language (letters and PDFs), and job messages kept to be shown translated

Revision ID: 0024_languages
Revises: 0023_user_language
"""
from alembic import op
import sqlalchemy as sa

revision = "0024_languages"
down_revision = "0023_user_language"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('vendor', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=10), nullable=True))
    with op.batch_alter_table('job_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text', sa.JSON(), nullable=True))
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_text', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_column('message_text')
    with op.batch_alter_table('job_event', schema=None) as batch_op:
        batch_op.drop_column('text')
    with op.batch_alter_table('vendor', schema=None) as batch_op:
        batch_op.drop_column('language')
