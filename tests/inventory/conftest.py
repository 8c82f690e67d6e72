import pytest

from tests.api.conftest import api  # noqa: F401  (API tests of this package use it)

from tests.inventory.helpers import make_buyer_a, make_inventory


@pytest.fixture
def stock(world):
    return make_inventory(world)


@pytest.fixture
def buyer_a(world):
    return make_buyer_a(world)
