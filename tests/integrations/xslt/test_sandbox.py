"""The stylesheet sandbox: no file or network reads, no entities, bounded depth, time and output."""
import pytest

from app.integrations.formats.xslt import Transformer, XSLTError, check, transform

DOC = b"<payment_data><invoice_list><invoice><invoice_number>A-1</invoice_number></invoice></invoice_list></payment_data>"
HEAD = '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'


def sheet(body: str, output: str = '<xsl:output method="text"/>') -> str:
    return f"{HEAD}{output}{body}</xsl:stylesheet>"


def test_a_plain_stylesheet_works_and_names_its_extension():
    out = transform(sheet('<xsl:template match="/"><xsl:value-of select="//invoice_number"/></xsl:template>'), DOC)
    assert (out.content, out.extension) == (b"A-1", "txt")
    csv = sheet('<xsl:template match="/">x</xsl:template>', '<xsl:output method="text" media-type="text/csv"/>')
    assert check(csv) == "csv"
    assert check(sheet('<xsl:template match="/"><r/></xsl:template>', '<xsl:output method="xml"/>')) == "xml"


def test_document_cannot_read_a_local_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-LINE")
    for uri in ("file:///etc/passwd", secret.as_uri(), "http://127.0.0.1:9/x.xml"):
        style = sheet(f'<xsl:template match="/"><xsl:copy-of select="document(\'{uri}\')"/></xsl:template>')
        with pytest.raises(XSLTError) as exc:
            transform(style, DOC)
        assert "The stylesheet failed" in str(exc.value)
        assert "SECRET" not in str(exc.value) and "root:" not in str(exc.value)


def test_include_and_import_are_refused(tmp_path):
    other = tmp_path / "other.xsl"
    other.write_text(sheet(""))
    for tag in ("include", "import"):
        with pytest.raises(XSLTError, match=f"line 2: xsl:{tag} is not allowed"):
            check(f'{HEAD}\n<xsl:{tag} href="{other.as_uri()}"/></xsl:stylesheet>')


def test_exsl_document_cannot_write_a_file(tmp_path):
    target = tmp_path / "written.txt"
    style = ('<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" '
             'xmlns:exsl="http://exslt.org/common" extension-element-prefixes="exsl"><xsl:output method="text"/>'
             f'<xsl:template match="/"><exsl:document href="{target.as_uri()}" method="text">x</exsl:document>'
             '</xsl:template></xsl:stylesheet>')
    with pytest.raises(XSLTError):
        transform(style, DOC)
    assert not target.exists()


def test_an_external_entity_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-LINE")
    style = (f'<?xml version="1.0"?>\n<!DOCTYPE xsl:stylesheet [<!ENTITY x SYSTEM "{secret.as_uri()}">]>\n'
             + sheet('<xsl:template match="/">&x;</xsl:template>'))
    with pytest.raises(XSLTError, match="declares a DTD"):
        check(style)
    with pytest.raises(XSLTError, match="declares a DTD"):
        transform(style, DOC)


def test_an_endless_recursion_ends_with_a_clear_error():
    style = sheet('<xsl:template match="/"><xsl:call-template name="again"/></xsl:template>'
                  '<xsl:template name="again"><xsl:call-template name="again"/></xsl:template>')
    with pytest.raises(XSLTError, match="(?i)recursion"):
        transform(style, DOC)


def test_an_endless_loop_is_stopped_by_the_time_limit_and_the_next_file_runs():
    # Exponential work (2^60 calls) never gets deep: only the time limit stops it.
    style = sheet('<xsl:template match="/"><xsl:call-template name="t"><xsl:with-param name="n" select="60"/>'
                  '</xsl:call-template></xsl:template>'
                  '<xsl:template name="t"><xsl:param name="n"/><xsl:if test="$n &gt; 0">'
                  '<xsl:call-template name="t"><xsl:with-param name="n" select="$n - 1"/></xsl:call-template>'
                  '<xsl:call-template name="t"><xsl:with-param name="n" select="$n - 1"/></xsl:call-template>'
                  '</xsl:if></xsl:template>'
                  '<xsl:template match="invoice_number">ok</xsl:template>')
    with Transformer(style, timeout=1) as transformer:
        with pytest.raises(XSLTError, match="ran longer than 1 seconds"):
            transformer.apply(DOC)
        assert transformer._child is None   # killed


def test_an_oversized_output_is_refused():
    style = sheet('<xsl:template match="/"><xsl:call-template name="t"><xsl:with-param name="n" select="20"/>'
                  '</xsl:call-template></xsl:template>'
                  '<xsl:template name="t"><xsl:param name="n"/><xsl:choose><xsl:when test="$n = 0">0123456789'
                  '</xsl:when><xsl:otherwise>'
                  '<xsl:call-template name="t"><xsl:with-param name="n" select="$n - 1"/></xsl:call-template>'
                  '<xsl:call-template name="t"><xsl:with-param name="n" select="$n - 1"/></xsl:call-template>'
                  '</xsl:otherwise></xsl:choose></xsl:template>')
    with pytest.raises(XSLTError, match=r"output is 10,485,760 bytes; at most 1,000,000"):
        transform(style, DOC, max_output=1_000_000)
    assert len(transform(style, DOC).content) == 10 * 2 ** 20


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("<xsl:stylesheet", "not well-formed XML"),
    ("<a/>", "not an XSLT stylesheet"),
    ('<xsl:stylesheet version="2.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"/>', "Only XSLT 1.0"),
    (f'{HEAD}\n<xsl:template match="/">\n<xsl:value-of select="(("/></xsl:template></xsl:stylesheet>',
     "does not compile: .*line 3: compilation error"),
    (sheet("", '<xsl:output method="html"/>'), "not an ERP file"),
    ("x" * 600_000, "at most 524,288"),
])
def test_unusable_stylesheets_are_refused_with_the_reason(text, message):
    with pytest.raises(XSLTError, match=message):
        check(text)


def test_xsl_message_terminate_is_reported_with_its_text():
    style = sheet('<xsl:template match="/"><xsl:message terminate="yes">No vendor code on A-1</xsl:message>'
                  '</xsl:template>')
    with pytest.raises(XSLTError, match="No vendor code on A-1"):
        transform(style, DOC)
