"""API v1: vendors and currency rates (filled in by the vendors slice)."""
from .views import bp  # noqa: F401  (routes are added to the one API blueprint)
