"""Export Ready-to-be-Paid invoices to the ERP (the work is in app.integrations.invoice_export)."""
from app.integrations.runs import execute


def run(app, profile_code: str, **kw) -> int | None:
    from app.integrations.invoice_export import export_invoices
    return execute(app, "export_invoices", profile_code, export_invoices, **kw)
