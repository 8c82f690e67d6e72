"""The five finance-integration jobs, one module each, every one with ``run(app, profile_code, **kw)``:
the function the scheduler, the "Run now" button, ``flask jobs run`` and the tests all call."""
from importlib import import_module

MODULES = {
    "import_payments": "jobs.import_payments",
    "export_invoices": "jobs.export_invoices",
    "load_allocations": "jobs.load_allocations",
    "export_orders": "jobs.export_orders",
    "export_po_lines": "jobs.export_po_lines",
}


def runner(job: str):
    """The ``run`` function of ``job`` (a key of app.integrations.models.JOBS)."""
    return import_module(MODULES[job]).run
