"""vendor output: letters and EDI orders to vendors (vendor_message, letter_template), each vendor's
order channel (an account may override it), contact roles, addresses and EDI id of the institution,
delivery address of a library, where a vendor's EDI orders go

Revision ID: 0016_vendor_output
Revises: 0015_period_closed
"""
from alembic import op
import sqlalchemy as sa

revision = '0016_vendor_output'
down_revision = '0015_period_closed'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('letter_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.Text(), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('pdf', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('po','po_cancellation','claim','payment_notice')", name=op.f('ck_letter_template_kind_known')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_letter_template_updated_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_template')),
    sa.UniqueConstraint('kind', name=op.f('uq_letter_template_kind'))
    )
    op.create_table('vendor_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('vendor_account_id', sa.Integer(), nullable=True),
    sa.Column('po_id', sa.Integer(), nullable=True),
    sa.Column('po_number', sa.String(length=20), nullable=False),
    sa.Column('owner_library_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('to_address', sa.String(length=300), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('pdf_file', sa.String(length=64), nullable=True),
    sa.Column('edi_file', sa.String(length=64), nullable=True),
    sa.Column('edi_name', sa.String(length=100), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('resend_of_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("channel IN ('email','edi','print','none')", name=op.f('ck_vendor_message_channel_known')),
    sa.CheckConstraint("kind IN ('po','po_cancellation','claim','payment_notice')", name=op.f('ck_vendor_message_kind_known')),
    sa.CheckConstraint("status IN ('queued','sending','sent','failed','interrupted','to_print','recorded')", name=op.f('ck_vendor_message_status_known')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_vendor_message_created_by_id_user')),
    sa.ForeignKeyConstraint(['owner_library_id'], ['library.id'], name=op.f('fk_vendor_message_owner_library_id_library')),
    sa.ForeignKeyConstraint(['po_id'], ['purchase_order.id'], name=op.f('fk_vendor_message_po_id_purchase_order'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resend_of_id'], ['vendor_message.id'], name=op.f('fk_vendor_message_resend_of_id_vendor_message'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['vendor_account_id'], ['vendor_account.id'], name=op.f('fk_vendor_message_vendor_account_id_vendor_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendor.id'], name=op.f('fk_vendor_message_vendor_id_vendor')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor_message'))
    )
    with op.batch_alter_table('vendor_message', schema=None) as batch_op:
        batch_op.create_index('ix_vendor_message_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_vendor_message_owner_library_id'), ['owner_library_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vendor_message_po_id'), ['po_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vendor_message_vendor_id'), ['vendor_id'], unique=False)

    op.create_table('vendor_message_line',
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('po_line_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['vendor_message.id'], name=op.f('fk_vendor_message_line_message_id_vendor_message'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['po_line_id'], ['po_line.id'], name=op.f('fk_vendor_message_line_po_line_id_po_line'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', 'po_line_id', name=op.f('pk_vendor_message_line'))
    )
    with op.batch_alter_table('vendor_message_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vendor_message_line_po_line_id'), ['po_line_id'], unique=False)

    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column('billing_address', sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column('email', sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column('edi_id', sa.String(length=35), nullable=False, server_default=""))
        batch_op.add_column(sa.Column('edi_id_qualifier', sa.String(length=4), nullable=False, server_default=""))

    with op.batch_alter_table('library', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.Text(), nullable=False, server_default=""))

    with op.batch_alter_table('vendor', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_channel', sa.String(length=10), nullable=False, server_default="none"))
        batch_op.create_check_constraint(batch_op.f('ck_vendor_order_channel_known'),
                                         "order_channel IN ('email','edi','print','none')")

    with op.batch_alter_table('vendor_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_channel', sa.String(length=10), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_vendor_account_order_channel_known'),
                                         "order_channel IS NULL OR order_channel IN ('email','edi','print','none')")

    with op.batch_alter_table('vendor_contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('roles', sa.String(length=100), nullable=False, server_default=""))

    with op.batch_alter_table('vendor_edi_setting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('orders_folder', sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column('syntax', sa.String(length=4), nullable=False, server_default="UNOC"))
        batch_op.create_check_constraint(batch_op.f('ck_vendor_edi_setting_syntax_known'), "syntax IN ('UNOC','UNOW')")



def downgrade():
    with op.batch_alter_table('vendor_edi_setting', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_vendor_edi_setting_syntax_known'), type_='check')
        batch_op.drop_column('syntax')
        batch_op.drop_column('orders_folder')

    with op.batch_alter_table('vendor_contact', schema=None) as batch_op:
        batch_op.drop_column('roles')

    with op.batch_alter_table('vendor_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_vendor_account_order_channel_known'), type_='check')
        batch_op.drop_column('order_channel')

    with op.batch_alter_table('vendor', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_vendor_order_channel_known'), type_='check')
        batch_op.drop_column('order_channel')

    with op.batch_alter_table('library', schema=None) as batch_op:
        batch_op.drop_column('address')

    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.drop_column('edi_id_qualifier')
        batch_op.drop_column('edi_id')
        batch_op.drop_column('email')
        batch_op.drop_column('billing_address')
        batch_op.drop_column('address')

    with op.batch_alter_table('vendor_message_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vendor_message_line_po_line_id'))

    op.drop_table('vendor_message_line')
    with op.batch_alter_table('vendor_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vendor_message_vendor_id'))
        batch_op.drop_index(batch_op.f('ix_vendor_message_po_id'))
        batch_op.drop_index(batch_op.f('ix_vendor_message_owner_library_id'))
        batch_op.drop_index('ix_vendor_message_due')

    op.drop_table('vendor_message')
    op.drop_table('letter_template')
