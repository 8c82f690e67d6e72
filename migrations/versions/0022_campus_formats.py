"""campus formats: per profile section, the invoice export's XSD version and campus stylesheet
(XSLT), payment confirmations as CSV with a column mapping, and what a differing paid amount does

Revision ID: 0022_campus_formats
Revises: 0021_invoice_files
"""
from alembic import op
import sqlalchemy as sa

revision = "0022_campus_formats"
down_revision = "0021_invoice_files"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('profile_section', schema=None) as batch_op:
        batch_op.add_column(sa.Column('xsd_version', sa.String(length=10), nullable=False, server_default='current'))
        batch_op.add_column(sa.Column('xslt', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('xslt_keep_original', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('confirmation_format', sa.String(length=5), nullable=False, server_default='xml'))
        batch_op.add_column(sa.Column('csv_mapping', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('amount_mismatch', sa.String(length=10), nullable=False, server_default='warn'))


def downgrade():
    with op.batch_alter_table('profile_section', schema=None) as batch_op:
        for name in ('amount_mismatch', 'csv_mapping', 'confirmation_format', 'xslt_keep_original', 'xslt',
                     'xsd_version'):
            batch_op.drop_column(name)
