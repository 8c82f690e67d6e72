"""JSON API v1: token auth, the same roles, scopes and services as the pages."""
from .base import bp  # noqa: F401
# Each module adds its routes and its OpenAPI paths to the one blueprint.
from . import exports, funds, funds_edit, inventory, invoices, openapi, orders, org  # noqa: F401,E402
from . import reports, rollovers, vendors  # noqa: F401,E402
from . import integrations, integrations_runs, integrations_settings  # noqa: F401,E402
from . import communications, purchase_orders  # noqa: F401,E402
from . import inventory_binding, letters, notifications  # noqa: F401,E402
from . import edi, invoice_admin, invoice_files, invoice_lists, invoice_notes  # noqa: F401,E402
