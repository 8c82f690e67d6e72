"""Fixtures of the order export tests: a finance profile on the test sshd."""
import pytest

from app.extensions import db
from testkit.erp import erp_profile, sftp_connection


@pytest.fixture
def erp(app, world, sshd):
    """(profile, local path of the connection's base folder) with both order sections active."""
    admin = world.user("admin")
    conn, root = sftp_connection(admin, sshd)
    profile = erp_profile(admin, conn, folder_root=root, active=("export_orders", "export_po_lines"))
    db.session.commit()
    return profile, root
