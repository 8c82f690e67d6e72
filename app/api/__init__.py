"""JSON API v1: token auth, the same roles, scopes and services as the pages."""
from .views import bp  # noqa: F401
