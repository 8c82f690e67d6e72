"""Fixtures for loading invoices from Excel files: a library-scoped invoice operator."""
from __future__ import annotations

import pytest

from app.auth.models import Role
from app.auth.services import create_user
from app.extensions import db
from tests.helpers import PASSWORD


@pytest.fixture
def invoicer_a(world):
    """An invoice operator of library A only."""
    user = create_user(None, "invoicer-a", PASSWORD, full_name="Invoicer A",
                       roles=[(Role.INVOICE_OPERATOR, world.lib_a)])
    db.session.commit()
    world.users[user.username] = user.id
    return user
