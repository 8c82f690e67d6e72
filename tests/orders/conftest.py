import pytest

from tests.orders.helpers import make_vendors


@pytest.fixture
def orders(world):
    return make_vendors(world)
