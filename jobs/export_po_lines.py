"""Export closed and cancelled PO lines to the ERP (the work is in app.integrations.order_export)."""
from app.integrations.runs import execute


def run(app, profile_code: str, **kw) -> int | None:
    from app.integrations.order_export import export_po_lines
    return execute(app, "export_po_lines", profile_code, export_po_lines, **kw)
