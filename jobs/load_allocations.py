"""Load fund allocations from the ERP's files (the work is in app.integrations.allocation_loader)."""
from app.integrations.runs import execute


def run(app, profile_code: str, **kw) -> int | None:
    from app.integrations.allocation_loader import load_allocations
    return execute(app, "load_allocations", profile_code, load_allocations, **kw)
