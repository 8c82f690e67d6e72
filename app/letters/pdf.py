"""HTML to PDF with WeasyPrint (Debian's pango, harfbuzz and fonts: installed by scripts/test).

The PDF layout of a letter is a template an administrator may edit, so its HTML is untrusted: the
URL fetcher reads nothing but ``data:`` URLs (no files, no network), and WeasyPrint is imported
only when a PDF is made (it takes a few tenths of a second to load).

One font configuration serves every PDF of the process: a new one per PDF (WeasyPrint's default)
keeps about 0.2 MB of fontconfig memory for ever, so a thousand letters would grow the process by
200 MB. Sharing it means one PDF at a time (the lock): pango's font objects are not made to be
used from two threads at once, and a PDF takes a tenth of a second.
"""
from __future__ import annotations

import threading

_lock = threading.Lock()
_font_config = None


def _fetcher():
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=("data",), allow_redirects=False, timeout=1)


def render_pdf(html: str) -> bytes:
    """The PDF of ``html`` (a rendered ``pdf`` part, see render.render_letter)."""
    global _font_config
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    with _lock:
        if _font_config is None:
            _font_config = FontConfiguration()
        return weasyprint.HTML(string=html, base_url=None, url_fetcher=_fetcher()).write_pdf(font_config=_font_config)
