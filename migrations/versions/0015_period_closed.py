"""period closed: a fiscal period can be closed (status 'closed') and keeps a history of closing and reopening

Revision ID: 0015_period_closed
Revises: 0011_idempotency
"""
from alembic import op
import sqlalchemy as sa

revision = "0015_period_closed"
down_revision = "0014_rollover"
branch_labels = None
depends_on = None


def _status_check(statuses: str) -> None:
    """Replace the period's status check (SQLite rebuilds the table; env.py turns its foreign key
    checks off around migrations for that)."""
    with op.batch_alter_table("fiscal_period", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_fiscal_period_status_known"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_fiscal_period_status_known"), f"status IN ({statuses})")


def upgrade():
    _status_check("'active','inactive','closed'")
    op.create_table(
        "fiscal_period_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fiscal_period_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("field", sa.String(length=60), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=False),
        sa.Column("new_value", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["user.id"], name=op.f("fk_fiscal_period_event_actor_id_user")),
        sa.ForeignKeyConstraint(["fiscal_period_id"], ["fiscal_period.id"],
                                name=op.f("fk_fiscal_period_event_fiscal_period_id_fiscal_period"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fiscal_period_event")),
    )
    with op.batch_alter_table("fiscal_period_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fiscal_period_event_fiscal_period_id"), ["fiscal_period_id"],
                              unique=False)


def downgrade():
    op.drop_table("fiscal_period_event")
    op.execute("UPDATE fiscal_period SET status = 'inactive' WHERE status = 'closed'")
    _status_check("'active','inactive'")
