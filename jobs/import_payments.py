"""Import payment confirmations from the ERP (the work is in app.integrations.payment_import)."""
from app.integrations.runs import execute


def run(app, profile_code: str, **kw) -> int | None:
    from app.integrations.payment_import import import_payments
    return execute(app, "import_payments", profile_code, import_payments, **kw)
