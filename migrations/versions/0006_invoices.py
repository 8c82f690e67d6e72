"""invoices: invoices, lines, fund distribution, charges, postings, history, settings, review and approval rules

Revision ID: 0006_invoices
Revises: 0005_work_orders
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import app.types  # noqa: F401

revision = "0006_invoices"
down_revision = "0005_work_orders"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('charge_type',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_charge_type')),
    sa.UniqueConstraint('code', name=op.f('uq_charge_type_code'))
    )
    op.create_table('review_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('threshold_percent', app.types.Fixed(precision=7, scale=2), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_rule')),
    sa.UniqueConstraint('kind', name=op.f('uq_review_rule_kind'))
    )
    op.create_table('setting',
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_setting_updated_by_id_user')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_setting'))
    )
    op.create_table('invoice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=50), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('vendor_account_id', sa.Integer(), nullable=True),
    sa.Column('invoice_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total_amount', app.types.Fixed(precision=14, scale=2), nullable=False),
    sa.Column('owner_library_id', sa.Integer(), nullable=True),
    sa.Column('payment_method', sa.String(length=20), nullable=False),
    sa.Column('reference_number', sa.String(length=100), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('prepaid', sa.Boolean(), nullable=False),
    sa.Column('export_prepaid', sa.Boolean(), nullable=False),
    sa.Column('internal_copy', sa.Boolean(), nullable=False),
    sa.Column('explicit_ratio', app.types.Fixed(precision=18, scale=8), nullable=True),
    sa.Column('pro_rata', sa.Boolean(), nullable=True),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=25), nullable=False),
    sa.Column('review_problems', sa.JSON(), nullable=False),
    sa.Column('alert', sa.Text(), nullable=False),
    sa.Column('vat_level', sa.String(length=10), nullable=False),
    sa.Column('vat_inclusive', sa.Boolean(), nullable=False),
    sa.Column('vat_code', sa.String(length=20), nullable=False),
    sa.Column('vat_percent', app.types.Fixed(precision=7, scale=2), nullable=True),
    sa.Column('vat_amount', app.types.Fixed(precision=14, scale=2), nullable=False),
    sa.Column('vat_separate_line', sa.Boolean(), nullable=False),
    sa.Column('vat_confirmed', sa.String(length=40), nullable=False),
    sa.Column('governmental_for_id', sa.Integer(), nullable=True),
    sa.Column('erp_identifier', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('exported_at', sa.DateTime(), nullable=True),
    sa.Column('voucher_number', sa.String(length=50), nullable=False),
    sa.Column('payment_date', sa.Date(), nullable=True),
    sa.Column('payment_amount', app.types.Fixed(precision=14, scale=2), nullable=True),
    sa.Column('payment_currency', sa.String(length=3), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("channel IN ('manual','po','file','edi','api')", name=op.f('ck_invoice_channel_known')),
    sa.CheckConstraint("status IN ('in_review','in_approval','ready_to_be_paid','waiting_for_payment','closed')", name=op.f('ck_invoice_status_known')),
    sa.CheckConstraint("vat_level IN ('none','invoice','line')", name=op.f('ck_invoice_vat_level_known')),
    sa.CheckConstraint('explicit_ratio IS NULL OR explicit_ratio > 0', name=op.f('ck_invoice_ratio_positive')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['user.id'], name=op.f('fk_invoice_approved_by_id_user')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_invoice_created_by_id_user')),
    sa.ForeignKeyConstraint(['governmental_for_id'], ['invoice.id'], name=op.f('fk_invoice_governmental_for_id_invoice')),
    sa.ForeignKeyConstraint(['owner_library_id'], ['library.id'], name=op.f('fk_invoice_owner_library_id_library')),
    sa.ForeignKeyConstraint(['vendor_account_id'], ['vendor_account.id'], name=op.f('fk_invoice_vendor_account_id_vendor_account')),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendor.id'], name=op.f('fk_invoice_vendor_id_vendor')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice')),
    sa.UniqueConstraint('erp_identifier', name=op.f('uq_invoice_erp_identifier')),
    sa.UniqueConstraint('vendor_id', 'number', name='uq_invoice_vendor_number')
    )
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_owner_library_id'), ['owner_library_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_status'), ['status'], unique=False)
        batch_op.create_index('ix_invoice_status_vendor', ['status', 'vendor_id', 'id'], unique=False)
        batch_op.create_index('ix_invoice_date_id', ['invoice_date', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_vendor_id'), ['vendor_id'], unique=False)

    op.create_table('approval_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('min_total', app.types.Fixed(precision=14, scale=2), nullable=True),
    sa.Column('max_total', app.types.Fixed(precision=14, scale=2), nullable=True),
    sa.Column('vendor_id', sa.Integer(), nullable=True),
    sa.Column('fund_id', sa.Integer(), nullable=True),
    sa.Column('owner_library_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=10), nullable=True),
    sa.Column('automatic', sa.Boolean(), nullable=False),
    sa.Column('approver_not_creator', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['fund_id'], ['fund.id'], name=op.f('fk_approval_rule_fund_id_fund')),
    sa.ForeignKeyConstraint(['owner_library_id'], ['library.id'], name=op.f('fk_approval_rule_owner_library_id_library')),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendor.id'], name=op.f('fk_approval_rule_vendor_id_vendor')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_rule')),
    sa.UniqueConstraint('position', name=op.f('uq_approval_rule_position'))
    )
    op.create_table('invoice_charge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('charge_type', sa.String(length=20), nullable=False),
    sa.Column('amount', app.types.Fixed(precision=14, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_invoice_charge_invoice_id_invoice'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_charge')),
    sa.UniqueConstraint('invoice_id', 'charge_type', name=op.f('uq_invoice_charge_invoice_id_charge_type'))
    )
    with op.batch_alter_table('invoice_charge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_charge_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('invoice_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('invoice_number', sa.String(length=50), nullable=False),
    sa.Column('vendor_code', sa.String(length=20), nullable=False),
    sa.Column('line_position', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('field', sa.String(length=60), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=False),
    sa.Column('new_value', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_invoice_event_actor_id_user')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_invoice_event_invoice_id_invoice'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_event'))
    )
    with op.batch_alter_table('invoice_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_event_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('invoice_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('line_type', sa.String(length=20), nullable=False),
    sa.Column('po_line_id', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', app.types.Fixed(precision=14, scale=2), nullable=False),
    sa.Column('total', app.types.Fixed(precision=14, scale=2), nullable=False),
    sa.Column('fully_invoiced', sa.Boolean(), nullable=False),
    sa.Column('price_note', sa.String(length=300), nullable=False),
    sa.Column('subscription_from', sa.Date(), nullable=True),
    sa.Column('subscription_to', sa.Date(), nullable=True),
    sa.Column('reporting_code', sa.String(length=40), nullable=False),
    sa.Column('vat_code', sa.String(length=20), nullable=False),
    sa.Column('vat_percent', app.types.Fixed(precision=7, scale=2), nullable=True),
    sa.Column('vat_amount', app.types.Fixed(precision=14, scale=2), nullable=False),
    sa.Column('distribution_method', sa.String(length=10), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.CheckConstraint("distribution_method IN ('percent','amount')", name=op.f('ck_invoice_line_distribution_method_known')),
    sa.CheckConstraint('subscription_from IS NULL OR subscription_to IS NULL OR subscription_from < subscription_to', name=op.f('ck_invoice_line_subscription_ordered')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_invoice_line_invoice_id_invoice'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['po_line_id'], ['po_line.id'], name=op.f('fk_invoice_line_po_line_id_po_line')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_line')),
    sa.UniqueConstraint('invoice_id', 'position', name=op.f('uq_invoice_line_invoice_id_position'))
    )
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_line_invoice_id'), ['invoice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_line_po_line_id'), ['po_line_id'], unique=False)

    op.create_table('invoice_line_fund',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=False),
    sa.Column('fund_id', sa.Integer(), nullable=False),
    sa.Column('percent', app.types.Fixed(precision=7, scale=2), nullable=True),
    sa.Column('amount', app.types.Fixed(precision=14, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['fund_id'], ['fund.id'], name=op.f('fk_invoice_line_fund_fund_id_fund')),
    sa.ForeignKeyConstraint(['line_id'], ['invoice_line.id'], name=op.f('fk_invoice_line_fund_line_id_invoice_line'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_line_fund')),
    sa.UniqueConstraint('line_id', 'fund_id', name=op.f('uq_invoice_line_fund_line_id_fund_id'))
    )
    with op.batch_alter_table('invoice_line_fund', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_line_fund_fund_id'), ['fund_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_line_fund_line_id'), ['line_id'], unique=False)

    op.create_table('invoice_posting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_invoice_posting_invoice_id_invoice')),
    sa.ForeignKeyConstraint(['transaction_id'], ['fund_transaction.id'], name=op.f('fk_invoice_posting_transaction_id_fund_transaction')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_posting')),
    sa.UniqueConstraint('transaction_id', name=op.f('uq_invoice_posting_transaction_id'))
    )
    with op.batch_alter_table('invoice_posting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_posting_invoice_id'), ['invoice_id'], unique=False)



def downgrade():
    with op.batch_alter_table('invoice_posting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_posting_invoice_id'))

    op.drop_table('invoice_posting')
    with op.batch_alter_table('invoice_line_fund', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_line_fund_line_id'))
        batch_op.drop_index(batch_op.f('ix_invoice_line_fund_fund_id'))

    op.drop_table('invoice_line_fund')
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_line_po_line_id'))
        batch_op.drop_index(batch_op.f('ix_invoice_line_invoice_id'))

    op.drop_table('invoice_line')
    with op.batch_alter_table('invoice_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_event_invoice_id'))

    op.drop_table('invoice_event')
    with op.batch_alter_table('invoice_charge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_charge_invoice_id'))

    op.drop_table('invoice_charge')
    op.drop_table('approval_rule')
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_vendor_id'))
        batch_op.drop_index('ix_invoice_status_vendor')
        batch_op.drop_index('ix_invoice_date_id')
        batch_op.drop_index(batch_op.f('ix_invoice_status'))
        batch_op.drop_index(batch_op.f('ix_invoice_owner_library_id'))

    op.drop_table('invoice')
    op.drop_table('setting')
    op.drop_table('review_rule')
    op.drop_table('charge_type')
