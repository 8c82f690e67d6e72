"""Fixtures of the PO-line API tests: a buyer of library B and a third fund."""
from decimal import Decimal

import pytest

from app.auth.models import Role
from app.auth.services import create_user
from app.extensions import db
from app.funds import services as funds
from tests.helpers import PASSWORD


@pytest.fixture
def buyer_b(world):
    """A purchasing operator scoped to library B, known to ``api("buyer-b")``."""
    user = create_user(None, "buyer-b", PASSWORD, full_name="Buyer B", roles=[(Role.PURCHASING_OPERATOR, world.lib_b)])
    db.session.commit()
    world.users[user.username] = user.id
    return user


@pytest.fixture
def extra_fund(world):
    """A third fund library A's lines may use: EXTRA in the institution ledger, 1000.00 EUR."""
    admin = world.user("admin")
    fund = funds.create_fund(admin, world.gen, "EXTRA", funds.FundFields(name="Extra books", parent=world.books))
    funds.allocate(admin, fund, Decimal("1000.00"))
    db.session.commit()
    return fund


# The claims' mail fixtures and the outbox's letters, as their own folders' tests use them.
from tests.orders.communications.conftest import claims, mail_port, smtp, smtp_down  # noqa: E402
from tests.outgoing.conftest import letter_folder, letters  # noqa: E402
__all__ = ["buyer_b", "extra_fund", "claims", "mail_port", "smtp", "smtp_down", "letter_folder", "letters"]
