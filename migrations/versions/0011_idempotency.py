"""idempotency: spent one-time form tokens and API Idempotency-Keys with the answer given

Revision ID: 0011_idempotency
Revises: 0013_loads
"""
from alembic import op
import sqlalchemy as sa

revision = "0011_idempotency"
down_revision = "0013_loads"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "idempotency_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("location", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('form','api')", name=op.f("ck_idempotency_key_kind_known")),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_idempotency_key_user_id_user"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_key")),
        sa.UniqueConstraint("kind", "user_id", "key", name=op.f("uq_idempotency_key_kind_user_id_key")),
    )


def downgrade():
    op.drop_table("idempotency_key")
