"""EDI invoices from vendors: the EDIFACT INVOIC format (pure), each vendor's pickup settings and
the inbox (models), receiving files into invoices (services) and their pages (views). The fetch
job's body is ``jobs/fetch_edi.py``."""
