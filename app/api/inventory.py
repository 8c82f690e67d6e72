"""API v1: bibliographic inventory (filled in by the inventory slice)."""
from .views import bp  # noqa: F401
