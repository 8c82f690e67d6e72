"""The ERP's fiscal period numbers (FISCAL_PERIOD_ID of allocation files): placeholder."""
from flask import Blueprint

bp = Blueprint("erp_periods", __name__, url_prefix="/admin/erp/fiscal-periods")
