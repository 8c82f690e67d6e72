"""Fixtures of the invoice API tests: a tenge fund and scoped users."""
from decimal import Decimal

import pytest

from app.auth.models import Role
from app.auth.services import create_user
from app.extensions import db
from app.funds import services as funds
from tests.helpers import PASSWORD


@pytest.fixture
def kzt_fund(world):
    """KZT-BKS: an institution fund in tenge (ledger KZL, FY2026) with 100,000.00 KZT."""
    admin = world.user("admin")
    ledger = funds.create_ledger(admin, "KZL", "Tenge ledger", world.period, "KZT")
    fund = funds.create_fund(admin, ledger, "KZT-BKS", funds.FundFields(name="Tenge books"))
    funds.allocate(admin, fund, Decimal("100000.00"))
    db.session.commit()
    return fund


def _scoped(world, username, role, library):
    user = create_user(None, username, PASSWORD, full_name=username.title(), roles=[(role, library)])
    db.session.commit()
    world.users[username] = user.id
    return user


@pytest.fixture
def scoped_users(world):
    """invoicer-a / invoicer-b (invoice operators of one library) and admin-a (administrator of A only)."""
    return [_scoped(world, "invoicer-a", Role.INVOICE_OPERATOR, world.lib_a),
            _scoped(world, "invoicer-b", Role.INVOICE_OPERATOR, world.lib_b),
            _scoped(world, "admin-a", Role.ADMIN, world.lib_a)]
