"""Fetch a vendor's EDIFACT INVOIC files from its S/FTP folder (the work is in
app.invoices.edi_services): ``run(app, vendor_code, trigger=..., scheduled_for=..., actor_id=...)``."""


def run(app, vendor_code: str, **kw) -> int | None:
    from app.invoices.edi_services import run_edi_fetch
    kw.setdefault("trigger", "manual")
    return run_edi_fetch(app, vendor_code, **kw)
