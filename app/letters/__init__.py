"""Letters to vendors: sandboxed Jinja templates (subject, HTML body, PDF layout) and their PDFs.

Pure: no Flask, no database. Callers turn their objects into the plain data of :mod:`.data`
(``OrderLetter``, ``PaymentNotice``), render with :func:`.render.render_letter` — the built-in
templates of ``defaults/`` or sources an administrator saved — and make the PDF with
:func:`.pdf.render_pdf`. :func:`.render.validate_template` checks a source before it is saved.

A letter is written in its vendor's language (``Vendor.language``, else the institution's
``DEFAULT_LANGUAGE``): the built-in templates of that language (``defaults/zh_Hans/`` for Chinese,
``defaults/`` for English), amounts and dates formatted for it (:func:`.data.order_context`).
"""
from ..text import T

KINDS = {
    "po": T("Purchase order"),
    "po_cancellation": T("Order cancellation"),
    "claim": T("Claim"),
    "payment_notice": T("Payment notice"),
}
# The languages a letter has built-in templates in (``defaults/<language>/``; English: ``defaults/``).
LETTER_LANGUAGES = ("en", "zh_Hans")
PARTS = ("subject", "body", "pdf")  # subject is plain text; body and pdf are HTML (autoescaped)
