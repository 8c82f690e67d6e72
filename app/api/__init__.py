"""JSON API v1: token auth, the same roles, scopes and services as the pages."""
from .base import bp  # noqa: F401
# Each module adds its routes and its OpenAPI paths to the one blueprint.
from . import funds, inventory, invoices, openapi, orders, rollovers, vendors  # noqa: F401,E402
from . import edi, invoice_admin, invoice_exports, invoice_files, invoice_lists, invoice_notes  # noqa: F401,E402
