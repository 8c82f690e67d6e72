"""invoice files: dated notes and attachments of an invoice; the S/FTP hosts a test instance may
connect to

Revision ID: 0021_invoice_files
Revises: 0020_order_seed
"""
from alembic import op
import sqlalchemy as sa

revision = "0021_invoice_files"
down_revision = "0020_order_seed"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('invoice_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('edited_at', sa.DateTime(), nullable=True),
    sa.Column('edited_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_invoice_note_invoice_id_invoice'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_invoice_note_author_id_user')),
    sa.ForeignKeyConstraint(['edited_by_id'], ['user.id'], name=op.f('fk_invoice_note_edited_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_note'))
    )
    op.create_index(op.f('ix_invoice_note_invoice_id'), 'invoice_note', ['invoice_id'], unique=False)

    op.create_table('invoice_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('stored_name', sa.String(length=32), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('size > 0', name=op.f('ck_invoice_attachment_size_positive')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_invoice_attachment_invoice_id_invoice'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_invoice_attachment_uploaded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_attachment')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_invoice_attachment_stored_name'))
    )
    op.create_index(op.f('ix_invoice_attachment_invoice_id'), 'invoice_attachment', ['invoice_id'], unique=False)

    op.create_table('erp_allowed_host',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('port', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('removed_at', sa.DateTime(), nullable=True),
    sa.Column('removed_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('port IS NULL OR port BETWEEN 1 AND 65535', name=op.f('ck_erp_allowed_host_port_in_range')),
    sa.ForeignKeyConstraint(['added_by_id'], ['user.id'], name=op.f('fk_erp_allowed_host_added_by_id_user')),
    sa.ForeignKeyConstraint(['removed_by_id'], ['user.id'], name=op.f('fk_erp_allowed_host_removed_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erp_allowed_host'))
    )


def downgrade():
    op.drop_table('erp_allowed_host')
    op.drop_index(op.f('ix_invoice_attachment_invoice_id'), table_name='invoice_attachment')
    op.drop_table('invoice_attachment')
    op.drop_index(op.f('ix_invoice_note_invoice_id'), table_name='invoice_note')
    op.drop_table('invoice_note')
