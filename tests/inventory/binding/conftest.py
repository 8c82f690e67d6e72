"""Binding fixtures: bindable journal issues in library A and in library B."""
import pytest

from tests.inventory.binding.helpers import make_bindable


@pytest.fixture
def journal(world):
    """Three received issues of a holding in library A (barcodes A1-A3)."""
    return make_bindable(world)


@pytest.fixture
def journal_b(world):
    """Two received issues of a holding in library B (barcodes B1-B2)."""
    return make_bindable(world, prefix="B", count=2, library=world.lib_b)
