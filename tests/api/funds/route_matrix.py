"""Role rows for the API of fiscal periods, ledgers and funds beyond the defaults (merged into
tests/route_matrix.py): a fiscal period is changed by the money managers of the whole institution,
closed and reopened by an institution-wide administrator."""
from tests.route_matrix_roles import ADMIN, MONEY

MATRIX: dict = {}
API_MATRIX = {
    "api.patch_fiscal_period": MONEY,
    "api.close_fiscal_period": ADMIN,
    "api.reopen_fiscal_period": ADMIN,
}
API_INSTITUTION_WIDE = {"api.patch_fiscal_period", "api.close_fiscal_period", "api.reopen_fiscal_period"}


def url_args(world) -> dict:
    return {"period_code": world.period.code}
