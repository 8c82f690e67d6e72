"""Role rows for the API of fiscal periods, ledgers and funds beyond the defaults (merged into
tests/route_matrix.py): a fiscal period is changed by the money managers of the whole institution,
closed and reopened by an institution-wide administrator; rollovers are an institution-wide
administrator's."""
from tests.route_matrix_roles import ADMIN, MONEY

MATRIX: dict = {}
API_MATRIX = {
    "api.patch_fiscal_period": MONEY,
    "api.close_fiscal_period": ADMIN,
    "api.reopen_fiscal_period": ADMIN,
    # the fiscal period closure (rollovers): institution administrators, as on its pages
    "api.list_rollovers": ADMIN,
    "api.undo_rollover": ADMIN,
    "api.rollover_report_csv": ADMIN,
    "api.rollover_report_xlsx": ADMIN,
    "api.preview_rollover_rules": ADMIN,
    "api.get_rollover_run": ADMIN,
}
API_INSTITUTION_WIDE = {"api.patch_fiscal_period", "api.close_fiscal_period", "api.reopen_fiscal_period",
                        "api.undo_rollover", "api.preview_rollover_rules"}


def url_args(world) -> dict:
    return {"period_code": world.period.code}
