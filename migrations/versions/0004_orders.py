"""orders: purchase orders, PO lines, fund distribution, history, outbox events, communications

Revision ID: 0004_orders
Revises: 0003_inventory
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import app.types  # noqa: F401

revision = "0004_orders"
down_revision = "0003_inventory"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_outbox_event_actor_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_event'))
    )
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_event_kind'), ['kind'], unique=False)

    op.create_table('purchase_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('owner_library_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('packaging', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.CheckConstraint("packaging IN ('auto','manual')", name=op.f('ck_purchase_order_packaging_known')),
    sa.CheckConstraint("status IN ('open','sent','closed','cancelled')", name=op.f('ck_purchase_order_status_known')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_purchase_order_created_by_id_user')),
    sa.ForeignKeyConstraint(['owner_library_id'], ['library.id'], name=op.f('fk_purchase_order_owner_library_id_library')),
    sa.ForeignKeyConstraint(['sent_by_id'], ['user.id'], name=op.f('fk_purchase_order_sent_by_id_user')),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendor.id'], name=op.f('fk_purchase_order_vendor_id_vendor')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_order')),
    sa.UniqueConstraint('number', name=op.f('uq_purchase_order_number'))
    )
    with op.batch_alter_table('purchase_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_order_owner_library_id'), ['owner_library_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_order_vendor_id'), ['vendor_id'], unique=False)

    op.create_table('po_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('po_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('order_type', sa.String(length=12), nullable=False),
    sa.Column('material_form', sa.String(length=12), nullable=False),
    sa.Column('packaging', sa.String(length=10), nullable=False),
    sa.Column('owner_library_id', sa.Integer(), nullable=True),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('vendor_account_id', sa.Integer(), nullable=True),
    sa.Column('bib_record_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('author', sa.String(length=300), nullable=False),
    sa.Column('isbn', sa.String(length=40), nullable=False),
    sa.Column('issn', sa.String(length=20), nullable=False),
    sa.Column('publisher', sa.String(length=300), nullable=False),
    sa.Column('publication_date', sa.String(length=40), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('list_price', app.types.Fixed(precision=14, scale=2), nullable=False),
    sa.Column('discount', app.types.Fixed(precision=7, scale=2), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('net_price', app.types.Fixed(precision=14, scale=2), nullable=False),
    sa.Column('distribution_method', sa.String(length=10), nullable=False),
    sa.Column('reporting_code', sa.String(length=40), nullable=False),
    sa.Column('vendor_reference', sa.String(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('expected_receipt_date', sa.Date(), nullable=True),
    sa.Column('renewal_date', sa.Date(), nullable=True),
    sa.Column('renewal_period_months', sa.Integer(), nullable=False),
    sa.Column('renewal_reminder_days', sa.Integer(), nullable=False),
    sa.Column('manual_renewal', sa.Boolean(), nullable=False),
    sa.Column('activation_date', sa.Date(), nullable=True),
    sa.Column('fully_invoiced', sa.Boolean(), nullable=False),
    sa.Column('paid', sa.Boolean(), nullable=False),
    sa.Column('cancel_reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("distribution_method IN ('percent','amount')", name=op.f('ck_po_line_distribution_method_known')),
    sa.CheckConstraint("material_form IN ('physical','electronic')", name=op.f('ck_po_line_material_form_known')),
    sa.CheckConstraint("order_type IN ('one_time','continuous')", name=op.f('ck_po_line_order_type_known')),
    sa.CheckConstraint("packaging IN ('auto','manual')", name=op.f('ck_po_line_packaging_known')),
    sa.CheckConstraint("status IN ('in_review','deferred','ready','auto_packaging','manual_packaging','sent','waiting_for_invoice','waiting_for_renewal','waiting_for_manual_renewal','closed','cancelled')", name=op.f('ck_po_line_status_known')),
    sa.CheckConstraint('list_price >= 0 AND net_price >= 0', name=op.f('ck_po_line_prices_not_negative')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_po_line_quantity_positive')),
    sa.ForeignKeyConstraint(['bib_record_id'], ['bib_record.id'], name=op.f('fk_po_line_bib_record_id_bib_record')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_po_line_created_by_id_user')),
    sa.ForeignKeyConstraint(['owner_library_id'], ['library.id'], name=op.f('fk_po_line_owner_library_id_library')),
    sa.ForeignKeyConstraint(['po_id'], ['purchase_order.id'], name=op.f('fk_po_line_po_id_purchase_order')),
    sa.ForeignKeyConstraint(['vendor_account_id'], ['vendor_account.id'], name=op.f('fk_po_line_vendor_account_id_vendor_account')),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendor.id'], name=op.f('fk_po_line_vendor_id_vendor')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_po_line')),
    sa.UniqueConstraint('number', name=op.f('uq_po_line_number'))
    )
    with op.batch_alter_table('po_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_po_line_bib_record_id'), ['bib_record_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_po_line_owner_library_id'), ['owner_library_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_po_line_po_id'), ['po_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_po_line_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_po_line_vendor_id'), ['vendor_id'], unique=False)
        batch_op.create_index('ix_po_line_vendor_status', ['vendor_id', 'status', 'id'], unique=False)

    op.create_table('communication',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('po_line_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('internal_note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('claim','general')", name=op.f('ck_communication_kind_known')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_communication_created_by_id_user')),
    sa.ForeignKeyConstraint(['po_line_id'], ['po_line.id'], name=op.f('fk_communication_po_line_id_po_line'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_communication'))
    )
    with op.batch_alter_table('communication', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_communication_po_line_id'), ['po_line_id'], unique=False)

    op.create_table('po_line_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('po_line_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('field', sa.String(length=60), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=False),
    sa.Column('new_value', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_po_line_event_actor_id_user')),
    sa.ForeignKeyConstraint(['po_line_id'], ['po_line.id'], name=op.f('fk_po_line_event_po_line_id_po_line'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_po_line_event'))
    )
    with op.batch_alter_table('po_line_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_po_line_event_po_line_id'), ['po_line_id'], unique=False)

    op.create_table('po_line_fund',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('po_line_id', sa.Integer(), nullable=False),
    sa.Column('fund_id', sa.Integer(), nullable=False),
    sa.Column('percent', app.types.Fixed(precision=7, scale=2), nullable=True),
    sa.Column('amount', app.types.Fixed(precision=14, scale=2), nullable=False),
    sa.Column('encumbered_amount', app.types.Fixed(precision=14, scale=2), nullable=True),
    sa.Column('encumbered_currency', sa.String(length=3), nullable=True),
    sa.ForeignKeyConstraint(['fund_id'], ['fund.id'], name=op.f('fk_po_line_fund_fund_id_fund')),
    sa.ForeignKeyConstraint(['po_line_id'], ['po_line.id'], name=op.f('fk_po_line_fund_po_line_id_po_line'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_po_line_fund')),
    sa.UniqueConstraint('po_line_id', 'fund_id', name=op.f('uq_po_line_fund_po_line_id_fund_id'))
    )
    with op.batch_alter_table('po_line_fund', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_po_line_fund_fund_id'), ['fund_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_po_line_fund_po_line_id'), ['po_line_id'], unique=False)

    op.create_table('communication_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('communication_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('to_address', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('attachment_name', sa.String(length=200), nullable=True),
    sa.Column('attachment_path', sa.String(length=300), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('delivery_error', sa.Text(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("direction IN ('out','in')", name=op.f('ck_communication_message_direction_known')),
    sa.ForeignKeyConstraint(['communication_id'], ['communication.id'], name=op.f('fk_communication_message_communication_id_communication'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_communication_message_recorded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_communication_message'))
    )
    with op.batch_alter_table('communication_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_communication_message_communication_id'), ['communication_id'], unique=False)

    with op.batch_alter_table('holding', schema=None) as batch_op:
        batch_op.add_column(sa.Column('po_line_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_holding_po_line_id'), ['po_line_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_holding_po_line_id_po_line'), 'po_line', ['po_line_id'], ['id'])

    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('po_line_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_item_po_line_id'), ['po_line_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_item_po_line_id_po_line'), 'po_line', ['po_line_id'], ['id'])



def downgrade():
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_item_po_line_id_po_line'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_item_po_line_id'))
        batch_op.drop_column('po_line_id')

    with op.batch_alter_table('holding', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_holding_po_line_id_po_line'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_holding_po_line_id'))
        batch_op.drop_column('po_line_id')

    with op.batch_alter_table('communication_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_communication_message_communication_id'))

    op.drop_table('communication_message')
    with op.batch_alter_table('po_line_fund', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_po_line_fund_po_line_id'))
        batch_op.drop_index(batch_op.f('ix_po_line_fund_fund_id'))

    op.drop_table('po_line_fund')
    with op.batch_alter_table('po_line_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_po_line_event_po_line_id'))

    op.drop_table('po_line_event')
    with op.batch_alter_table('communication', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_communication_po_line_id'))

    op.drop_table('communication')
    with op.batch_alter_table('po_line', schema=None) as batch_op:
        batch_op.drop_index('ix_po_line_vendor_status')
        batch_op.drop_index(batch_op.f('ix_po_line_vendor_id'))
        batch_op.drop_index(batch_op.f('ix_po_line_status'))
        batch_op.drop_index(batch_op.f('ix_po_line_po_id'))
        batch_op.drop_index(batch_op.f('ix_po_line_owner_library_id'))
        batch_op.drop_index(batch_op.f('ix_po_line_bib_record_id'))

    op.drop_table('po_line')
    with op.batch_alter_table('purchase_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_order_vendor_id'))
        batch_op.drop_index(batch_op.f('ix_purchase_order_owner_library_id'))

    op.drop_table('purchase_order')
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_event_kind'))

    op.drop_table('outbox_event')
