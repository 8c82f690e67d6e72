"""HTML to PDF with WeasyPrint (Debian's pango, harfbuzz and fonts: installed by scripts/test).

The PDF layout of a letter is a template an administrator may edit, so its HTML is untrusted: the
URL fetcher reads nothing but ``data:`` URLs (no files, no network), and WeasyPrint is imported
only when a PDF is made (it takes a few tenths of a second to load).
"""
from __future__ import annotations


def _fetcher():
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=("data",), allow_redirects=False, timeout=1)


def render_pdf(html: str) -> bytes:
    """The PDF of ``html`` (a rendered ``pdf`` part, see render.render_letter)."""
    import weasyprint

    return weasyprint.HTML(string=html, base_url=None, url_fetcher=_fetcher()).write_pdf()
