"""JSON API v1: token auth, the same roles, scopes and services as the pages."""
from .views import bp  # noqa: F401
from . import inventory, invoices, orders, vendors  # noqa: F401,E402  (their routes join the same blueprint)
