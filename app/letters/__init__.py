"""Letters to vendors: sandboxed Jinja templates (subject, HTML body, PDF layout) and their PDFs.

Pure: no Flask, no database. Callers turn their objects into the plain data of :mod:`.data`
(``OrderLetter``, ``PaymentNotice``), render with :func:`.render.render_letter` — the built-in
templates of ``defaults/`` or sources an administrator saved — and make the PDF with
:func:`.pdf.render_pdf`. :func:`.render.validate_template` checks a source before it is saved.
"""
KINDS = {
    "po": "Purchase order",
    "po_cancellation": "Order cancellation",
    "claim": "Claim",
    "payment_notice": "Payment notice",
}
PARTS = ("subject", "body", "pdf")  # subject is plain text; body and pdf are HTML (autoescaped)
