import pytest

from tests.invoices.helpers import make_vendors


@pytest.fixture
def vendors(world):
    return make_vendors(world)
