"""list columns: the columns each user shows on each list, in order ("Manage column display"); an
index of the fund transactions holding every column the reports read, in date order, and two
holding the encumbrances' columns per order (by source, or by reference for postings made by hand)

Revision ID: 0018_list_columns
Revises: 0017_notifications
"""
from alembic import op
import sqlalchemy as sa

revision = "0018_list_columns"
down_revision = "0017_notifications"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('list_columns',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('list_name', sa.String(length=40), nullable=False),
    sa.Column('keys', sa.String(length=1000), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_list_columns_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'list_name', name=op.f('pk_list_columns'))
    )
    op.create_index('ix_fund_transaction_report', 'fund_transaction',
                    ['transaction_date', 'kind', 'currency', 'fund_id', 'amount', 'source_type', 'source_id'])
    op.create_index('ix_fund_transaction_sourced', 'fund_transaction',
                    ['source_type', 'source_id', 'fund_id', 'kind', 'currency', 'amount', 'transaction_date'],
                    sqlite_where=sa.text('source_id IS NOT NULL'), postgresql_where=sa.text('source_id IS NOT NULL'))
    op.create_index('ix_fund_transaction_by_hand', 'fund_transaction',
                    ['reference', 'fund_id', 'kind', 'currency', 'amount', 'transaction_date'],
                    sqlite_where=sa.text('source_id IS NULL'), postgresql_where=sa.text('source_id IS NULL'))


def downgrade():
    op.drop_index('ix_fund_transaction_by_hand', table_name='fund_transaction')
    op.drop_index('ix_fund_transaction_sourced', table_name='fund_transaction')
    op.drop_index('ix_fund_transaction_report', table_name='fund_transaction')
    op.drop_table('list_columns')
