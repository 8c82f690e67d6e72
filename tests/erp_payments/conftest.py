"""Fixtures: vendors, and a finance profile on the real test sshd whose payments folder is ``inbox``."""
from types import SimpleNamespace

import pytest

from app.extensions import db
from app.vendors import services as vs
from tests.erp_fixtures import erp_profile, sftp_connection
from tests.invoices.helpers import make_vendors


@pytest.fixture
def vendors(world):
    found = make_vendors(world)
    # A second plain EUR vendor (PLAIN2): for numbers reused across vendors.
    found.other = vs.create_vendor(world.user("admin"), "PLAIN2", vs.VendorFields(name="Other books", currency="EUR"))
    db.session.commit()
    return found


@pytest.fixture
def erp(app, world, sshd):
    admin = world.user("admin")
    conn, root = sftp_connection(admin, sshd)
    profile = erp_profile(admin, conn, folder_root=root, active=("import_payments",))
    db.session.commit()
    return SimpleNamespace(root=root, inbox=root / "payments" / "in", profile=profile)
