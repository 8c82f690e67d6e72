"""Export sent POs to the ERP (the work is in app.integrations.order_export)."""
from app.integrations.runs import execute


def run(app, profile_code: str, **kw) -> int | None:
    from app.integrations.order_export import export_orders
    return execute(app, "export_orders", profile_code, export_orders, **kw)
