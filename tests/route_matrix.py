"""Who may reach which route: the single table the role matrix test checks every route against.

Adding a route without adding it here fails tests/test_security.py::test_SEC01_every_route_is_in_the_matrix.
"""
from tests.route_matrix_roles import ADMIN, ALL, MONEY, PUBLIC  # noqa: F401

MATRIX = {
    "main.index": ALL,
    "main.health": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": ALL,
    "funds.dashboard": ALL,
    "funds.search": ALL,
    "funds.show": ALL,
    "funds.cancel_form": ALL,
    "funds.allocate": MONEY,
    "funds.transfer": MONEY,
    "funds.fiscal_periods": ALL,
    "funds.edit_fiscal_period": MONEY,
    "funds.ledgers": ALL,
    "funds.edit_ledger": MONEY,
    "funds.edit_fund": MONEY,
    "admin.users": ADMIN,
    "admin.edit_user": ADMIN,
    "admin.add_role": ADMIN,
    "admin.remove_role": ADMIN,
    "admin.libraries": ADMIN,
    "admin.fund_types": ADMIN,
}
# API endpoints: reading for every role, writing for money managers.
API_READ, API_WRITE = ALL, MONEY

# Each later domain keeps its rows in tests/<domain>/route_matrix.py (a MATRIX dict like this one).
import importlib  # noqa: E402
import pathlib  # noqa: E402

for _path in sorted(pathlib.Path(__file__).parent.glob("*/route_matrix.py")):
    MATRIX.update(importlib.import_module(f"tests.{_path.parent.name}.route_matrix").MATRIX)
