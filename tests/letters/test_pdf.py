"""WeasyPrint as the letters use it: one font configuration for the whole process."""
def test_every_pdf_shares_one_font_configuration():
    """A font configuration per PDF keeps fontconfig memory for ever (about 0.2 MB a letter: the
    letters benchmark grew to 413 MB over 1,000 PDFs); one serves them all."""
    from app.letters import pdf

    pdf.render_pdf("<p>one</p>")
    first = pdf._font_config
    pdf.render_pdf("<p>two</p>")
    assert first is not None and pdf._font_config is first
