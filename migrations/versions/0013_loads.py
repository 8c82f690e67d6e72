"""loads: big loads committed in chunks and resumable (bulk_load, and the invoices a file load created)

Revision ID: 0013_loads
Revises: 0010_invoice_number_nocase
"""
from alembic import op
import sqlalchemy as sa
import app.types  # noqa: F401

revision = '0013_loads'
down_revision = "0010_invoice_number_nocase"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bulk_load',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['job_run.id'], name=op.f('fk_bulk_load_run_id_job_run'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_load')),
    sa.UniqueConstraint('kind', 'key', name=op.f('uq_bulk_load_kind_key'))
    )
    op.create_table('bulk_load_invoice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('load_id', sa.Integer(), nullable=False),
    sa.Column('first_row', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=50), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_bulk_load_invoice_invoice_id_invoice'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['load_id'], ['bulk_load.id'], name=op.f('fk_bulk_load_invoice_load_id_bulk_load'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['job_run.id'], name=op.f('fk_bulk_load_invoice_run_id_job_run'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_load_invoice')),
    sa.UniqueConstraint('load_id', 'first_row', name=op.f('uq_bulk_load_invoice_load_id_first_row'))
    )
    with op.batch_alter_table('bulk_load_invoice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bulk_load_invoice_invoice_id'), ['invoice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bulk_load_invoice_run_id'), ['run_id'], unique=False)



def downgrade():
    with op.batch_alter_table('bulk_load_invoice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bulk_load_invoice_run_id'))
        batch_op.drop_index(batch_op.f('ix_bulk_load_invoice_invoice_id'))

    op.drop_table('bulk_load_invoice')
    op.drop_table('bulk_load')
