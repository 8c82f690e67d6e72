"""letter language: an administrator's letter template is kept per language (the letters of a
vendor are in its language); the templates saved before were written in English

Revision ID: 0025_letter_language
Revises: 0024_languages
"""
from alembic import op
import sqlalchemy as sa

revision = "0025_letter_language"
down_revision = "0024_languages"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('letter_template', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=10), server_default='en', nullable=False))
        batch_op.drop_constraint('uq_letter_template_kind', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_letter_template_kind_language'), ['kind', 'language'])


def downgrade():
    # Only the English templates can stay: the table held one template per kind.
    op.execute("DELETE FROM letter_template WHERE language <> 'en'")
    with op.batch_alter_table('letter_template', schema=None) as batch_op:
        batch_op.drop_constraint('uq_letter_template_kind_language', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_letter_template_kind'), ['kind'])
        batch_op.drop_column('language')
