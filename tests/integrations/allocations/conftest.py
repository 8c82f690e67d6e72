"""Fixtures of the allocation loader tests: a loader (tests/integrations/allocations/helpers.py) on a finance
profile on a local folder or on the real sshd."""
from __future__ import annotations

import pytest

from tests.integrations.allocations.helpers import Loader, make_loader
from testkit.erp import local_connection, sftp_connection


@pytest.fixture
def local_loader(app, world, tmp_path):
    def make(file_type: str = "csv") -> Loader:
        conn, root = local_connection(world.user("admin"), tmp_path / "erp")
        return make_loader(app, world, conn, root, file_type)
    return make


@pytest.fixture
def sftp_loader(app, world, sshd):
    def make(file_type: str = "csv") -> Loader:
        conn, root = sftp_connection(world.user("admin"), sshd)
        return make_loader(app, world, conn, root, file_type)
    return make
