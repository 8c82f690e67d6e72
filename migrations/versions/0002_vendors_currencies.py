"""vendors and the currency repository (vendor, vendor_account, vendor_address, vendor_contact, exchange_rate)

Revision ID: 0002_vendors_currencies
Revises: 5077837e7282
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import app.types  # noqa: F401

revision = "0002_vendors_currencies"
down_revision = "5077837e7282"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('vendor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('financial_sys_code', sa.String(length=50), nullable=False),
    sa.Column('additional_code', sa.String(length=50), nullable=False),
    sa.Column('national_tax_id', sa.String(length=50), nullable=False),
    sa.Column('liable_for_vat', sa.Boolean(), nullable=False),
    sa.Column('is_governmental', sa.Boolean(), nullable=False),
    sa.Column('vat_percent', app.types.Fixed(precision=7, scale=2), nullable=True),
    sa.Column('governmental_vendor_id', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('edi_enabled', sa.Boolean(), nullable=False),
    sa.Column('edi_vendor_id', sa.String(length=50), nullable=False),
    sa.Column('edi_id_qualifier', sa.String(length=10), nullable=False),
    sa.Column('edi_folder', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('active','inactive')", name=op.f('ck_vendor_status_known')),
    sa.CheckConstraint('governmental_vendor_id IS NULL OR governmental_vendor_id <> id', name=op.f('ck_vendor_not_self_linked')),
    sa.ForeignKeyConstraint(['governmental_vendor_id'], ['vendor.id'], name=op.f('fk_vendor_governmental_vendor_id_vendor')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor')),
    sa.UniqueConstraint('code', name=op.f('uq_vendor_code'))
    )
    op.create_table('exchange_rate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('rate', app.types.Fixed(precision=18, scale=8), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('rate > 0', name=op.f('ck_exchange_rate_rate_positive')),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_exchange_rate_actor_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_rate')),
    sa.UniqueConstraint('currency', 'day', name=op.f('uq_exchange_rate_currency_day'))
    )
    op.create_table('vendor_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('financial_sys_code', sa.String(length=50), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.CheckConstraint("status IN ('active','inactive')", name=op.f('ck_vendor_account_status_known')),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendor.id'], name=op.f('fk_vendor_account_vendor_id_vendor'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor_account')),
    sa.UniqueConstraint('vendor_id', 'code', name=op.f('uq_vendor_account_vendor_id_code'))
    )
    with op.batch_alter_table('vendor_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vendor_account_vendor_id'), ['vendor_id'], unique=False)
    op.create_table('vendor_address',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('line1', sa.String(length=200), nullable=False),
    sa.Column('line2', sa.String(length=200), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=100), nullable=False),
    sa.Column('postal_code', sa.String(length=20), nullable=False),
    sa.Column('country', sa.String(length=100), nullable=False),
    sa.Column('types', sa.String(length=100), nullable=False),
    sa.Column('preferred', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendor.id'], name=op.f('fk_vendor_address_vendor_id_vendor'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor_address'))
    )
    with op.batch_alter_table('vendor_address', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vendor_address_vendor_id'), ['vendor_id'], unique=False)
    op.create_table('vendor_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=50), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendor.id'], name=op.f('fk_vendor_contact_vendor_id_vendor'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor_contact'))
    )
    with op.batch_alter_table('vendor_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vendor_contact_vendor_id'), ['vendor_id'], unique=False)



def downgrade():
    for table in ("vendor_contact", "vendor_address", "vendor_account", "exchange_rate", "vendor"):
        op.drop_table(table)
