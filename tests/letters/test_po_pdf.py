"""The PO PDF (WeasyPrint, read back with pypdf): every line, the total and the PO number on every
page of a PO long enough for several pages; and a PDF layout cannot read files."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from pypdf import PdfReader

from app.letters.data import OrderLetter, OrderLine, Party, order_context
from app.letters.pdf import render_pdf
from app.letters.render import render_letter


def _pages(pdf: bytes) -> list[str]:
    assert pdf.startswith(b"%PDF-")
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def _po(n_lines: int) -> OrderLetter:
    lines = tuple(OrderLine(number=f"POL-{i:04d}", title=f"Title number {i:03d} of the long order",
                            author=f"Author {i}", isbn=f"978{i:010d}", quantity=i % 4 + 1,
                            list_price=Decimal("19.99") + i, discount=Decimal("5"),
                            net_price=((Decimal("19.99") + i) * (i % 4 + 1) * Decimal("0.95")).quantize(Decimal("0.01")),
                            reference=f"REF-{i}")
                  for i in range(1, n_lines + 1))
    return OrderLetter(po_number="PO-004242", letter_date=date(2026, 12, 5), currency="EUR",
                       institution=Party("Uni Library", ("Main St 1", "1000 City")),
                       vendor=Party("Books Ltd", ("Rue 2",)), delivery=Party("Loading dock", ("Back St 3",)),
                       billing=Party("Finance", ("Box 9",)), account_code="ACC-1", lines=lines)


def test_a_long_po_has_every_line_the_total_and_its_number_on_every_page():
    letter = _po(80)
    ctx = order_context(letter)
    pages = _pages(render_pdf(render_letter("po", ctx).pdf_html))
    assert len(pages) >= 2
    for i, text in enumerate(pages, 1):
        assert "PO-004242" in text and f"page {i} of {len(pages)}" in text
    everything = " ".join(pages)
    for line in letter.lines:
        assert line.title in everything and line.number in everything and line.isbn in everything
    assert ctx["totals"]["net"] == f"{sum(line.net_price for line in letter.lines):,.2f}"
    assert f"{ctx['totals']['net']} EUR" in pages[-1]
    for words in ("Loading dock", "Finance", "Books Ltd", "ACC-1", "Uni Library"):
        assert words in pages[0]


def test_the_other_letters_make_pdfs_too():
    ctx = order_context(_po(2))
    assert "Cancellation" in _pages(render_pdf(render_letter("po_cancellation", ctx).pdf_html))[0]
    assert "Claim" in _pages(render_pdf(render_letter("claim", ctx).pdf_html))[0]


def test_a_pdf_layout_cannot_read_files_or_the_network(tmp_path):
    secret = tmp_path / "secret.css"
    secret.write_text("body::after { content: 'TOP-SECRET' }")
    html = (f'<html><head><link rel="stylesheet" href="file://{secret}">'
            f'<style>@import url("file://{secret}"); @import url("http://127.0.0.1:9/x.css");</style></head>'
            f'<body><p>visible</p><img src="file:///etc/hostname"><iframe src="file://{secret}"></iframe>'
            f'<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
            f'<object data="file://{secret}"></object></body></html>')
    text = " ".join(_pages(render_pdf(html)))
    assert "visible" in text and "TOP-SECRET" not in text
