"""rollover: the fiscal-year rollover record (rules, status, who/when) with the ledgers, funds and
PO line distributions it moved, and the funds' "do not roll over" flag

Revision ID: 0014_rollover
Revises: 0011_idempotency
"""
from alembic import op
import sqlalchemy as sa
import app.types


revision = '0014_rollover'
down_revision = '0011_idempotency'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rollover',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_period_id', sa.Integer(), nullable=False),
    sa.Column('target_period_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('fund_rules', sa.JSON(), nullable=False),
    sa.Column('line_rules', sa.JSON(), nullable=False),
    sa.Column('watermark', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('undone_at', sa.DateTime(), nullable=True),
    sa.Column('undone_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('preview','committed','undone')", name=op.f('ck_rollover_status_known')),
    sa.CheckConstraint('source_period_id <> target_period_id', name=op.f('ck_rollover_periods_differ')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_rollover_created_by_id_user')),
    sa.ForeignKeyConstraint(['source_period_id'], ['fiscal_period.id'], name=op.f('fk_rollover_source_period_id_fiscal_period')),
    sa.ForeignKeyConstraint(['target_period_id'], ['fiscal_period.id'], name=op.f('fk_rollover_target_period_id_fiscal_period')),
    sa.ForeignKeyConstraint(['undone_by_id'], ['user.id'], name=op.f('fk_rollover_undone_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rollover'))
    )
    with op.batch_alter_table('rollover', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rollover_source_period_id'), ['source_period_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rollover_target_period_id'), ['target_period_id'], unique=False)

    op.create_table('rollover_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rollover_id', sa.Integer(), nullable=False),
    sa.Column('source_ledger_id', sa.Integer(), nullable=False),
    sa.Column('target_ledger_id', sa.Integer(), nullable=False),
    sa.Column('created', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['rollover_id'], ['rollover.id'], name=op.f('fk_rollover_ledger_rollover_id_rollover'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_ledger_id'], ['ledger.id'], name=op.f('fk_rollover_ledger_source_ledger_id_ledger')),
    sa.ForeignKeyConstraint(['target_ledger_id'], ['ledger.id'], name=op.f('fk_rollover_ledger_target_ledger_id_ledger')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rollover_ledger'))
    )
    with op.batch_alter_table('rollover_ledger', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rollover_ledger_rollover_id'), ['rollover_id'], unique=False)

    op.create_table('rollover_fund',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rollover_id', sa.Integer(), nullable=False),
    sa.Column('source_fund_id', sa.Integer(), nullable=False),
    sa.Column('target_fund_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('ledger_code', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('created', sa.Boolean(), nullable=False),
    sa.Column('allocated', app.types.Fixed(precision=14, scale=2), nullable=False),
    sa.Column('expended', app.types.Fixed(precision=14, scale=2), nullable=False),
    sa.Column('encumbered', app.types.Fixed(precision=14, scale=2), nullable=False),
    sa.Column('new_allocation', app.types.Fixed(precision=14, scale=2), nullable=False),
    sa.Column('carried', app.types.Fixed(precision=14, scale=2), nullable=False),
    sa.Column('not_carried', app.types.Fixed(precision=14, scale=2), nullable=False),
    sa.Column('skip_reason', sa.String(length=40), nullable=True),
    sa.Column('allocation_transaction_id', sa.Integer(), nullable=True),
    sa.Column('carry_transaction_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['allocation_transaction_id'], ['fund_transaction.id'], name=op.f('fk_rollover_fund_allocation_transaction_id_fund_transaction')),
    sa.ForeignKeyConstraint(['carry_transaction_id'], ['fund_transaction.id'], name=op.f('fk_rollover_fund_carry_transaction_id_fund_transaction')),
    sa.ForeignKeyConstraint(['rollover_id'], ['rollover.id'], name=op.f('fk_rollover_fund_rollover_id_rollover'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_fund_id'], ['fund.id'], name=op.f('fk_rollover_fund_source_fund_id_fund')),
    sa.ForeignKeyConstraint(['target_fund_id'], ['fund.id'], name=op.f('fk_rollover_fund_target_fund_id_fund')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rollover_fund'))
    )
    with op.batch_alter_table('rollover_fund', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rollover_fund_rollover_id'), ['rollover_id'], unique=False)

    op.create_table('rollover_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rollover_id', sa.Integer(), nullable=False),
    sa.Column('po_line_id', sa.Integer(), nullable=False),
    sa.Column('distribution_id', sa.Integer(), nullable=False),
    sa.Column('order_type', sa.String(length=12), nullable=False),
    sa.Column('source_fund_id', sa.Integer(), nullable=False),
    sa.Column('target_fund_id', sa.Integer(), nullable=True),
    sa.Column('remaining', app.types.Fixed(precision=14, scale=2), nullable=False),
    sa.Column('old_encumbered_amount', app.types.Fixed(precision=14, scale=2), nullable=True),
    sa.Column('released', app.types.Fixed(precision=14, scale=2), nullable=False),
    sa.Column('encumbered', app.types.Fixed(precision=14, scale=2), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('release_transaction_id', sa.Integer(), nullable=True),
    sa.Column('encumbrance_transaction_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['distribution_id'], ['po_line_fund.id'], name=op.f('fk_rollover_line_distribution_id_po_line_fund')),
    sa.ForeignKeyConstraint(['encumbrance_transaction_id'], ['fund_transaction.id'], name=op.f('fk_rollover_line_encumbrance_transaction_id_fund_transaction')),
    sa.ForeignKeyConstraint(['po_line_id'], ['po_line.id'], name=op.f('fk_rollover_line_po_line_id_po_line')),
    sa.ForeignKeyConstraint(['release_transaction_id'], ['fund_transaction.id'], name=op.f('fk_rollover_line_release_transaction_id_fund_transaction')),
    sa.ForeignKeyConstraint(['rollover_id'], ['rollover.id'], name=op.f('fk_rollover_line_rollover_id_rollover'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_fund_id'], ['fund.id'], name=op.f('fk_rollover_line_source_fund_id_fund')),
    sa.ForeignKeyConstraint(['target_fund_id'], ['fund.id'], name=op.f('fk_rollover_line_target_fund_id_fund')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rollover_line'))
    )
    with op.batch_alter_table('rollover_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rollover_line_po_line_id'), ['po_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rollover_line_rollover_id'), ['rollover_id'], unique=False)

    with op.batch_alter_table('fund', schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column('do_not_roll_over', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    with op.batch_alter_table('fund', schema=None, recreate="never") as batch_op:
        batch_op.drop_column('do_not_roll_over')

    with op.batch_alter_table('rollover_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rollover_line_rollover_id'))
        batch_op.drop_index(batch_op.f('ix_rollover_line_po_line_id'))

    op.drop_table('rollover_line')
    with op.batch_alter_table('rollover_fund', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rollover_fund_rollover_id'))

    op.drop_table('rollover_fund')
    with op.batch_alter_table('rollover_ledger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rollover_ledger_rollover_id'))

    op.drop_table('rollover_ledger')
    with op.batch_alter_table('rollover', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rollover_target_period_id'))
        batch_op.drop_index(batch_op.f('ix_rollover_source_period_id'))

    op.drop_table('rollover')
