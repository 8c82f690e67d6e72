"""run owner: the process running a job run (host, pid, process mark) and the interrupted flag,
so a run whose process is gone is ended at once instead of blocking the next runs

Revision ID: 0012_run_owner
Revises: 0009_auth_sessions
"""
from alembic import op
import sqlalchemy as sa

revision = "0012_run_owner"
down_revision = "0009_auth_sessions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("job_run", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("owner_host", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("owner_pid", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("owner_mark", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("interrupted", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("job_run", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("interrupted")
        batch_op.drop_column("owner_mark")
        batch_op.drop_column("owner_pid")
        batch_op.drop_column("owner_host")
