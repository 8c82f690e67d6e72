"""order seed: a PO line's acquisition method (existing lines are purchases), a continuous
order's publication pattern, and predicted items (their expected date)

Revision ID: 0020_order_seed
Revises: 0019_invoice_seed
"""
from alembic import op
import sqlalchemy as sa

revision = "0020_order_seed"
down_revision = "0019_invoice_seed"
branch_labels = None
depends_on = None

METHODS = "'purchase','gift','exchange','approval','depository','technical'"
FREQUENCIES = "'weekly','monthly','bimonthly','quarterly','semiannual','annual','irregular'"
CHRONOLOGIES = "'month','day','year','none'"


def upgrade():
    with op.batch_alter_table('po_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('acquisition_method', sa.String(length=12), nullable=False,
                                      server_default='purchase'))
        batch_op.create_check_constraint(batch_op.f('ck_po_line_acquisition_method_known'), f"acquisition_method IN ({METHODS})")

    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('predicted', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('expected_date', sa.Date(), nullable=True))

    op.create_table('publication_pattern',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('po_line_id', sa.Integer(), nullable=False),
    sa.Column('frequency', sa.String(length=12), nullable=False),
    sa.Column('first_date', sa.Date(), nullable=True),
    sa.Column('first_volume', sa.Integer(), nullable=True),
    sa.Column('first_issue', sa.Integer(), nullable=False),
    sa.Column('issues_per_volume', sa.Integer(), nullable=True),
    sa.Column('chronology', sa.String(length=8), nullable=False),
    sa.Column('predict_ahead', sa.Integer(), nullable=False),
    sa.Column('next_sequence', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint(f"frequency IN ({FREQUENCIES})", name=op.f('ck_publication_pattern_frequency_known')),
    sa.CheckConstraint(f"chronology IN ({CHRONOLOGIES})", name=op.f('ck_publication_pattern_chronology_known')),
    sa.CheckConstraint("first_issue >= 1 AND predict_ahead BETWEEN 1 AND 24 AND next_sequence >= 0",
                       name=op.f('ck_publication_pattern_counts_in_range')),
    sa.ForeignKeyConstraint(['po_line_id'], ['po_line.id'], name=op.f('fk_publication_pattern_po_line_id_po_line'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_publication_pattern_updated_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publication_pattern')),
    sa.UniqueConstraint('po_line_id', name=op.f('uq_publication_pattern_po_line_id'))
    )


def downgrade():
    op.drop_table('publication_pattern')
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.drop_column('expected_date')
        batch_op.drop_column('predicted')
    with op.batch_alter_table('po_line', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_po_line_acquisition_method_known'), type_='check')
        batch_op.drop_column('acquisition_method')
