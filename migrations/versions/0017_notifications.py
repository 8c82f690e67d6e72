"""notifications: a user's notifications (the bell, e-mail at once or in a daily digest) and
preferences per kind, a profile's run-end e-mail recipients, each user's home page, the times of the
daily jobs (renewals, packaging, digest); the outbox carries notices to users too

Revision ID: 0017_notifications
Revises: 0016_vendor_output
"""
from alembic import op
import sqlalchemy as sa

revision = "0017_notifications"
down_revision = "0016_vendor_output"
branch_labels = None
depends_on = None

LETTERS = "'po','po_cancellation','claim','payment_notice'"


def upgrade():
    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('library_id', sa.Integer(), nullable=True),
    sa.Column('delivery', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.Column('mailed_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("delivery IN ('now','digest','off')", name=op.f('ck_notification_delivery_known')),
    sa.CheckConstraint("kind IN ('approval_waiting','invoice_returned','erp_rejected','job_ended','claim_due','renewal_due','edi_unmatched')", name=op.f('ck_notification_kind_known')),
    sa.ForeignKeyConstraint(['library_id'], ['library.id'], name=op.f('fk_notification_library_id_library'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_notification_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_digest', ['delivery', 'mailed_at'], unique=False)
        batch_op.create_index('ix_notification_user_unread', ['user_id', 'read_at', 'id'], unique=False)

    op.create_table('notification_preference',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.CheckConstraint("kind IN ('approval_waiting','invoice_returned','erp_rejected','job_ended','claim_due','renewal_due','edi_unmatched')", name=op.f('ck_notification_preference_kind_known')),
    sa.CheckConstraint("mode IN ('now','digest','off')", name=op.f('ck_notification_preference_mode_known')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_notification_preference_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_notification_preference'))
    )
    op.create_table('profile_recipient',
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['profile_id'], ['integration_profile.id'], name=op.f('fk_profile_recipient_profile_id_integration_profile'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_profile_recipient_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('profile_id', 'user_id', name=op.f('pk_profile_recipient'))
    )
    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.add_column(sa.Column('renewals_at', sa.String(length=5), nullable=False, server_default="06:00"))
        batch_op.add_column(sa.Column('packaging_at', sa.String(length=5), nullable=False, server_default=""))
        batch_op.add_column(sa.Column('digest_at', sa.String(length=5), nullable=False, server_default="07:00"))

    with op.batch_alter_table('integration_profile', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_when', sa.String(length=10), nullable=False, server_default="off"))

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('home', sa.String(length=10), nullable=False, server_default="work"))

    with op.batch_alter_table('vendor_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.alter_column('vendor_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_vendor_message_user_id'), ['user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_vendor_message_user_id_user'), 'user', ['user_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_constraint(batch_op.f('ck_vendor_message_kind_known'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_vendor_message_kind_known'), f"kind IN ({LETTERS},'notice')")
        batch_op.create_check_constraint(batch_op.f('ck_vendor_message_has_recipient'),
                                         "vendor_id IS NOT NULL OR user_id IS NOT NULL")



def downgrade():
    op.execute("DELETE FROM vendor_message WHERE vendor_id IS NULL")   # notices to users go with the feature
    with op.batch_alter_table('vendor_message', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_vendor_message_has_recipient'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_vendor_message_kind_known'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_vendor_message_kind_known'), f"kind IN ({LETTERS})")
        batch_op.drop_constraint(batch_op.f('fk_vendor_message_user_id_user'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_vendor_message_user_id'))
        batch_op.alter_column('vendor_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('user_id')

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('home')

    with op.batch_alter_table('integration_profile', schema=None) as batch_op:
        batch_op.drop_column('notify_when')

    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.drop_column('digest_at')
        batch_op.drop_column('packaging_at')
        batch_op.drop_column('renewals_at')

    op.drop_table('profile_recipient')
    op.drop_table('notification_preference')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_unread')
        batch_op.drop_index('ix_notification_digest')

    op.drop_table('notification')
