"""The finance jobs, one module each holding the job's body and its ``run(app, code, **kw)``: the
one function the scheduler, the "Run now" and "Fetch now" buttons, ``flask jobs run`` and the tests
call. ``JOBS`` is handed to ``create_app`` (see ``wsgi.py``): ``app/`` never imports ``jobs/``."""
from . import export_invoices, export_orders, export_po_lines, fetch_edi, import_payments, load_allocations

JOBS = {
    "import_payments": import_payments.run,
    "export_invoices": export_invoices.run,
    "load_allocations": load_allocations.run,
    "export_orders": export_orders.run,
    "export_po_lines": export_po_lines.run,
    "fetch_edi": fetch_edi.run,
}
