"""Who may reach which route: the single table the role matrix test checks every route against.

Adding a route without adding it here fails tests/test_security.py::test_SEC01_every_route_is_in_the_matrix.
"""
from tests.route_matrix_roles import ADMIN, ALL, MONEY, PUBLIC  # noqa: F401

MATRIX = {
    "main.index": ALL,
    "main.health": PUBLIC,
    "api_page.index": ALL,
    "auth.login": PUBLIC,
    "auth.logout": ALL,
    "auth.language": PUBLIC,
    "funds.dashboard": ALL,
    "funds.ledger_rows": ALL,
    "funds.export_dashboard": ALL,
    "funds.search": ALL,
    "funds.show": ALL,
    "funds.export_transactions": ALL,
    "funds.cancel_form": ALL,
    "funds.allocate": MONEY,
    "funds.transfer": MONEY,
    "funds.fiscal_periods": ALL,
    "funds.edit_fiscal_period": MONEY,
    "funds.close_fiscal_period": ADMIN,
    "funds.reopen_fiscal_period": ADMIN,
    "funds.ledgers": ALL,
    "funds.edit_ledger": MONEY,
    "funds.edit_fund": MONEY,
    "admin.index": ADMIN,
    "admin.users": ADMIN,
    "admin.edit_user": ADMIN,
    "admin.add_role": ADMIN,
    "admin.remove_role": ADMIN,
    "admin.libraries": ADMIN,
    "admin.fund_types": ADMIN,
}
# API endpoints: reading for every role, writing for money managers.
API_READ, API_WRITE = ALL, MONEY

# The scope dimension (H12-05): routes that change data every library shares (fiscal periods, users,
# libraries, fund types; a domain adds its own). Only a role held for the whole institution may use
# them: tests/test_security.py::test_H12_05_institution_wide_routes_refuse_library_scoped_holders gives
# each of them a pass with a library-scoped holder of every role they allow (403, nothing changed).
# Routes where a library-scoped holder may change only part of an object (a vendor's notes, a
# ledger of their own library) are checked field by field in tests/org/test_institution_data.py.
INSTITUTION_WIDE = {
    "funds.edit_fiscal_period",
    "funds.close_fiscal_period",
    "funds.reopen_fiscal_period",
    "admin.index", "admin.users", "admin.edit_user", "admin.add_role", "admin.remove_role", "admin.libraries",
    "admin.fund_types",
}
API_INSTITUTION_WIDE = {"api.create_fiscal_period"}

# Each later domain keeps its rows in tests/<domain>/[<part>/]route_matrix.py (a MATRIX dict like this one).
import importlib  # noqa: E402
import pathlib  # noqa: E402

# A domain module may also define API_MATRIX (API endpoint -> roles, where they differ from
# API_READ/API_WRITE), INSTITUTION_WIDE / API_INSTITUTION_WIDE (sets of endpoints) and
# url_args(world) -> URL values for its routes' parameters.
_TESTS = pathlib.Path(__file__).parent
DOMAINS = [importlib.import_module(".".join(("tests", *path.relative_to(_TESTS).with_suffix("").parts)))
           for path in sorted(_TESTS.glob("*/**/route_matrix.py"))]
API_MATRIX: dict = {}
for _domain in DOMAINS:
    MATRIX.update(_domain.MATRIX)
    API_MATRIX.update(getattr(_domain, "API_MATRIX", {}))
    INSTITUTION_WIDE |= getattr(_domain, "INSTITUTION_WIDE", set())
    API_INSTITUTION_WIDE |= getattr(_domain, "API_INSTITUTION_WIDE", set())


def domain_url_args(world) -> dict:
    args = {}
    for domain in DOMAINS:
        if hasattr(domain, "url_args"):
            args.update(domain.url_args(world))
    return args
