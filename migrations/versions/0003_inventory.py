"""bibliographic inventory: records, holdings, items

Revision ID: 0003_inventory
Revises: 0002_vendors_currencies
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import app.types  # noqa: F401

revision = "0003_inventory"
down_revision = "0002_vendors_currencies"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bib_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('author', sa.String(length=300), nullable=False),
    sa.Column('isbn', sa.String(length=40), nullable=False),
    sa.Column('issn', sa.String(length=20), nullable=False),
    sa.Column('isbn_key', sa.String(length=40), nullable=False),
    sa.Column('issn_key', sa.String(length=20), nullable=False),
    sa.Column('publisher', sa.String(length=300), nullable=False),
    sa.Column('publication_date', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bib_record'))
    )
    with op.batch_alter_table('bib_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bib_record_isbn_key'), ['isbn_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_bib_record_issn_key'), ['issn_key'], unique=False)
    op.create_table('holding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bib_record_id', sa.Integer(), nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=False),
    sa.Column('location_code', sa.String(length=40), nullable=False),
    sa.Column('location_name', sa.String(length=200), nullable=False),
    sa.Column('call_number', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['bib_record_id'], ['bib_record.id'], name=op.f('fk_holding_bib_record_id_bib_record')),
    sa.ForeignKeyConstraint(['library_id'], ['library.id'], name=op.f('fk_holding_library_id_library')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holding'))
    )
    with op.batch_alter_table('holding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_holding_bib_record_id'), ['bib_record_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_holding_library_id'), ['library_id'], unique=False)
    op.create_table('item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holding_id', sa.Integer(), nullable=False),
    sa.Column('barcode', sa.String(length=60), nullable=True),
    sa.Column('enumeration', sa.String(length=100), nullable=False),
    sa.Column('chronology', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('received_date', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('not_in_place','in_place','in_work_order','withdrawn')", name=op.f('ck_item_status_known')),
    sa.ForeignKeyConstraint(['holding_id'], ['holding.id'], name=op.f('fk_item_holding_id_holding')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item')),
    sa.UniqueConstraint('barcode', name=op.f('uq_item_barcode'))
    )
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_holding_id'), ['holding_id'], unique=False)


def downgrade():
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_holding_id'))

    op.drop_table('item')
    with op.batch_alter_table('holding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_holding_library_id'))
        batch_op.drop_index(batch_op.f('ix_holding_bib_record_id'))

    op.drop_table('holding')
    with op.batch_alter_table('bib_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bib_record_issn_key'))
        batch_op.drop_index(batch_op.f('ix_bib_record_isbn_key'))

    op.drop_table('bib_record')
