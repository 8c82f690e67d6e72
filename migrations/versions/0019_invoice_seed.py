"""invoice seed details: a PO line remembers that an invoice for it was sent to the ERP (it then
closes once received, as when paid); an invoice's separate VAT line may go to a chosen fund

Revision ID: 0019_invoice_seed
Revises: 0018_list_columns
"""
from alembic import op
import sqlalchemy as sa

revision = "0019_invoice_seed"
down_revision = "0018_list_columns"
branch_labels = None
depends_on = None

NOCASE = "uq_invoice_vendor_number_nocase"


def _restore_nocase_index():
    """SQLite's batch mode rebuilds the invoice table without its expression index (not reflected)."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP INDEX IF EXISTS {NOCASE}")
        op.create_index(NOCASE, "invoice", ["vendor_id", sa.text("lower(number)")], unique=True)


def upgrade():
    with op.batch_alter_table("po_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invoice_sent", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vat_fund_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_invoice_vat_fund_id_fund"), "fund", ["vat_fund_id"], ["id"])
    _restore_nocase_index()


def downgrade():
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_invoice_vat_fund_id_fund"), type_="foreignkey")
        batch_op.drop_column("vat_fund_id")
    _restore_nocase_index()
    with op.batch_alter_table("po_line", schema=None) as batch_op:
        batch_op.drop_column("invoice_sent")
