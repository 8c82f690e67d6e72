"""binding work orders: work_order and the items each one bound (work_order_item)

Revision ID: 0005_work_orders
Revises: 0004_orders
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import app.types  # noqa: F401

revision = "0005_work_orders"
down_revision = "0004_orders"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('work_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('holding_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('new_item_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.Column('done_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('binding')", name=op.f('ck_work_order_kind_known')),
    sa.CheckConstraint("status = 'open' OR done_at IS NOT NULL", name=op.f('ck_work_order_done_has_date')),
    sa.CheckConstraint("status IN ('open','done')", name=op.f('ck_work_order_status_known')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_work_order_created_by_id_user')),
    sa.ForeignKeyConstraint(['done_by_id'], ['user.id'], name=op.f('fk_work_order_done_by_id_user')),
    sa.ForeignKeyConstraint(['holding_id'], ['holding.id'], name=op.f('fk_work_order_holding_id_holding')),
    sa.ForeignKeyConstraint(['new_item_id'], ['item.id'], name=op.f('fk_work_order_new_item_id_item'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_order'))
    )
    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_order_holding_id'), ['holding_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_order_new_item_id'), ['new_item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_order_status'), ['status'], unique=False)

    op.create_table('work_order_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_order_id', sa.Integer(), nullable=False),
    sa.Column('former_item_id', sa.Integer(), nullable=False),
    sa.Column('barcode', sa.String(length=60), nullable=True),
    sa.Column('enumeration', sa.String(length=100), nullable=False),
    sa.Column('chronology', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('received_date', sa.Date(), nullable=True),
    sa.Column('po_line_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['po_line_id'], ['po_line.id'], name=op.f('fk_work_order_item_po_line_id_po_line')),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_order.id'], name=op.f('fk_work_order_item_work_order_id_work_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_order_item'))
    )
    with op.batch_alter_table('work_order_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_order_item_po_line_id'), ['po_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_order_item_work_order_id'), ['work_order_id'], unique=False)


def downgrade():
    with op.batch_alter_table('work_order_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_order_item_work_order_id'))
        batch_op.drop_index(batch_op.f('ix_work_order_item_po_line_id'))

    op.drop_table('work_order_item')
    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_order_status'))
        batch_op.drop_index(batch_op.f('ix_work_order_new_item_id'))
        batch_op.drop_index(batch_op.f('ix_work_order_holding_id'))

    op.drop_table('work_order')
