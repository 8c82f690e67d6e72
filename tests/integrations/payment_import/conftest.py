"""Fixtures: a second plain vendor, and a finance profile on the real test sshd whose payments folder is ``inbox``."""
from types import SimpleNamespace

import pytest

from app.extensions import db
from app.vendors import services as vendors_service
from testkit.erp import erp_profile, sftp_connection


@pytest.fixture
def other_vendor(vendors, world):
    """A second plain EUR vendor (PLAIN2): for numbers reused across vendors."""
    vendor = vendors_service.create_vendor(world.user("admin"), "PLAIN2", vendors_service.VendorFields(name="Other books", currency="EUR"))
    db.session.commit()
    return vendor


@pytest.fixture
def erp(app, world, sshd):
    admin = world.user("admin")
    conn, root = sftp_connection(admin, sshd)
    profile = erp_profile(admin, conn, folder_root=root, active=("import_payments",))
    db.session.commit()
    return SimpleNamespace(root=root, inbox=root / "payments" / "in", profile=profile)
