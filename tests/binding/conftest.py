import pytest

from tests.binding.helpers import make_bindable
from tests.inventory.helpers import make_buyer_a, make_inventory


@pytest.fixture
def stock(world):
    return make_inventory(world)


@pytest.fixture
def buyer_a(world):
    return make_buyer_a(world)


@pytest.fixture
def journal(world):
    """Three received issues of a holding in library A (barcodes A1-A3)."""
    return make_bindable(world)


@pytest.fixture
def journal_b(world):
    """Two received issues of a holding in library B (barcodes B1-B2)."""
    return make_bindable(world, prefix="B", count=2, library=world.lib_b)


# The real-browser fixtures, for test_binding_browser.py.
from tests.browser.conftest import (browser_app, browser_context_args, browser_type_launch_args,  # noqa: E402,F401
                                    live_server, log_in, page_problems)
